#!/usr/bin/python3
"""report: `massagebot report` on the unanswered log at its largest: 20,000
distinct questions (about 3.7 MB, under the 5 MB rotation cap), made from
the evaluation questions with a few words changed, so groups form as they
would in a real log.  Prints the time and the peak memory of three runs."""
import json, os, random, resource, subprocess, sys, tempfile, time

mb = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/massagebot")
N = 20000
rng = random.Random(14)
base = [l.split("\t")[0] for f in ("tests/data/questions.tsv", "tests/data/holdout.tsv")
        for l in open(f, encoding="utf-8") if l.strip() and not l.startswith("#")]
extra = ("today really please my mum lower upper left right side after work gym desk long "
         "drive since weeks months years again still always sometimes").split()
seen, rows = set(), []
while len(rows) < N:
    words = rng.choice(base).split()
    for _ in range(rng.randint(1, 3)):
        words.insert(rng.randint(0, len(words)), rng.choice(extra))
    q = " ".join(words) + " " + str(rng.randint(1, 99))
    if q in seen:
        continue
    seen.add(q)
    rows.append(json.dumps({"time": "2026-01-01", "question": q, "reason": "fallback",
                            "candidates": [{"intent": "massage-for-back-pain", "score": 0.31}]}))
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "unanswered.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    size = os.path.getsize(path)
    times = []
    for _ in range(3):
        t = time.monotonic()
        r = subprocess.run([mb, "report", path, "--top", "3"], capture_output=True, text=True,
                           env=dict(os.environ, KNOWLEDGE_DIR="knowledge"))
        times.append(time.monotonic() - t)
        if r.returncode != 0:
            sys.exit("report failed: " + r.stderr)
    groups = r.stdout.splitlines()[0]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"report: {N} distinct questions, {size / 1e6:.1f} MB: {groups}")
    print(f"report: best {min(times):.2f} s, worst {max(times):.2f} s, peak RSS {peak:.0f} MB")
