#!/usr/bin/python3
"""rss: peak and current memory of `massagebot run` (console platform), idle
after start and after 10,000 questions.  Prints a small table."""
import os, subprocess, sys, tempfile, threading, time

from procmem import vm_kb

mb = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/massagebot")
qfile = "tests/data/questions.tsv"
questions = [l.split("\t")[0] for l in open(qfile, encoding="utf-8")
             if l.strip() and not l.startswith("#")]


env = dict(os.environ, BOT_PLATFORM="console", LOG_LEVEL="warn",
           KNOWLEDGE_DIR=os.path.abspath("knowledge"))
env.pop("DISCORD_TOKEN", None)
env.pop("UNANSWERED_LOG", None)
with tempfile.TemporaryDirectory() as cwd:
    p = subprocess.Popen([mb, "run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, cwd=cwd, env=env)
    got = bytearray()
    def pump():
        for chunk in iter(lambda: p.stdout.read1(65536), b""):
            got.extend(chunk)
    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    # idle: ask one question and wait for its answer, so start-up is over
    p.stdin.write(b"hello\n")
    p.stdin.flush()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(got) == 0:
        time.sleep(0.01)
    idle = vm_kb(p.pid)
    n = 10000
    for i in range(n):
        p.stdin.write((questions[i % len(questions)] + "\n").encode())
    p.stdin.flush()
    time.sleep(0.5)
    deadline = time.monotonic() + 60
    last = -1
    while time.monotonic() < deadline and len(got) != last:
        last = len(got)
        time.sleep(0.3)
    after = vm_kb(p.pid)
    p.stdin.close()
    p.wait(timeout=30)
print(f"{'state':<28} {'RSS MB':>8} {'peak RSS MB':>12}")
print(f"{'idle after start':<28} {idle['VmRSS'] / 1024:8.1f} {idle['VmHWM'] / 1024:12.1f}")
print(f"{'after 10,000 questions':<28} {after['VmRSS'] / 1024:8.1f} {after['VmHWM'] / 1024:12.1f}")
