#!/usr/bin/python3
"""flood: a hash flood through `massagebot ask`, for `make bench`.

60,800 made-up 8-letter words whose FNV-1a hashes share their low 20 bits
(so with the old unkeyed FNV-1a they all landed in one slot of every table
of up to a million slots), built by meeting in the middle as in
tests/test_hmap.c, asked 8 words to a question (7,600 questions); and the
same number of random 8-letter words as the control.  Prints the seconds
`ask --json` took on each and the ratio.  With a keyed hash the ratio stays
near 1; the unkeyed FNV-1a of e318a36 made it 8 here.  A figure, not a test:
tests/test_hmap.c asserts the probe lengths.

usage: flood.py [build/massagebot ...]   (each binary gets a row)
"""

import os
import random
import subprocess
import sys
import time

BITS = 20
MASK = (1 << BITS) - 1
PRIME = 1099511628211
BASIS = 1469598103934665603
M64 = (1 << 64) - 1
NWORDS = 60800
PER_QUESTION = 8
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def fnv1a(b, h=BASIS):
    for c in b:
        h = ((h ^ c) * PRIME) & M64
    return h


def flood_words():
    inv = pow(PRIME, -1, 1 << 64)
    quads = [a + b + c + d for a in LETTERS for b in LETTERS for c in LETTERS for d in LETTERS]
    prefix_of = {}
    for q in quads:
        prefix_of[fnv1a(q.encode()) & MASK] = q
    out = []
    for q in quads:
        r = 0
        for c in reversed(q.encode()):
            r = ((r * inv) & M64) ^ c
        p = prefix_of.get(r & MASK)
        if p:
            out.append(p + q)
            if len(out) == NWORDS:
                break
    assert len(out) == NWORDS and all(fnv1a(w.encode()) & MASK == 0 for w in out)
    return out


def questions(words):
    return "".join(" ".join(words[i:i + PER_QUESTION]) + "\n"
                   for i in range(0, len(words), PER_QUESTION))


def ask_seconds(mb, text):
    # the knowledge of the checkout the binary was built in (build/massagebot)
    kdir = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(mb))), "knowledge")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LOG_LEVEL": "error",
           "KNOWLEDGE_DIR": kdir}
    best = None
    for _ in range(2):
        t0 = time.monotonic()
        r = subprocess.run([mb, "ask", "--json"], input=text, capture_output=True, text=True,
                           env=env)
        took = time.monotonic() - t0
        if r.returncode != 0 or r.stdout.count("\n") != text.count("\n"):
            sys.exit("flood: %s ask failed (exit %d)" % (mb, r.returncode))
        best = took if best is None else min(best, took)
    return best


def main():
    mbs = sys.argv[1:] or ["build/massagebot"]
    flood = questions(flood_words())
    rng = random.Random(15)
    control = questions(["".join(rng.choice(LETTERS) for _ in range(8)) for _ in range(NWORDS)])
    print("%d words sharing the low %d bits of their FNV-1a hash, %d to a question; control: "
          "random words" % (NWORDS, BITS, PER_QUESTION))
    print("%-36s %10s %10s %7s" % ("binary", "flood s", "control s", "ratio"))
    for mb in mbs:
        f = ask_seconds(mb, flood)
        c = ask_seconds(mb, control)
        print("%-36s %10.2f %10.2f %7.2f" % (mb, f, c, f / c))


if __name__ == "__main__":
    main()
