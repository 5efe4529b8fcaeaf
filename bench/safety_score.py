#!/usr/bin/python3
"""Score the safety rules on a table of messages (the tests/data/safety.tsv
format: message TAB rules that must fire TAB rules that must not fire).

    bench/safety_score.py [--bin build/massagebot] [--show] FILE.tsv...

Runs every message through `massagebot ask --json` (the real pipeline) and
prints, per rule and in all, how many required rules fired (recall) and how
many must-not-fire checks fired anyway (false alarms).  A rule id the
knowledge does not have counts as never firing.  --show lists each miss and
false alarm.  Exit 0 always: this is a measurement, not a test."""
import json
import subprocess
import sys


def main():
    args = sys.argv[1:]
    binary, show = "build/massagebot", False
    files = []
    while args:
        a = args.pop(0)
        if a == "--bin":
            binary = args.pop(0)
        elif a == "--show":
            show = True
        else:
            files.append(a)
    rows = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for ln, line in enumerate(fh, 1):
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                cols = line.split("\t") + ["", ""]
                must = [x.strip() for x in cols[1].split(",") if x.strip()]
                mustnot = [x.strip() for x in cols[2].split(",") if x.strip()]
                rows.append((f, ln, cols[0], must, mustnot))
    inp = "".join(r[2] + "\n" for r in rows)
    out = subprocess.run([binary, "ask", "--json"], input=inp, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    per = {}
    fired_n = need_n = fa_n = checks_n = 0
    for (f, ln, msg, must, mustnot), js in zip(rows, out):
        fired = set(json.loads(js)["safety"])
        for r in must:
            p = per.setdefault(r, [0, 0, 0, 0])
            p[1] += 1
            need_n += 1
            if r in fired:
                p[0] += 1
                fired_n += 1
            elif show:
                print(f"MISSED {r}: {msg}  ({f}:{ln})")
        for r in mustnot:
            p = per.setdefault(r, [0, 0, 0, 0])
            p[3] += 1
            checks_n += 1
            if r in fired:
                p[2] += 1
                fa_n += 1
                if show:
                    print(f"FALSE ALARM {r}: {msg}  ({f}:{ln}; fired {sorted(fired)})")
    print(f"{'rule':20} {'fired/required':>15} {'false alarms/checks':>20}")
    for r in sorted(per):
        p = per[r]
        print(f"{r:20} {p[0]:>7}/{p[1]:<7} {p[2]:>10}/{p[3]:<9}")
    rec = fired_n / need_n if need_n else 1.0
    far = fa_n / checks_n if checks_n else 0.0
    print(f"{'all':20} {fired_n:>7}/{need_n:<7} {fa_n:>10}/{checks_n:<9} "
          f"recall {rec:.3f}, false alarms {far:.3f} ({len(rows)} messages)")


if __name__ == "__main__":
    main()
