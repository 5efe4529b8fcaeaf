#!/usr/bin/python3
"""e2e: end-to-end latency, throughput and memory of `massagebot run` through
the in-repo fake Discord (tests/fake_discord.py), for `make bench`, twice:
over plain ws:// and http://, and over TLS (wss://, https://) the way Discord
is reached, with a throwaway CA the bot trusts through SSL_CERT_FILE.

The clock is the fake's: from just before it writes a MESSAGE_CREATE frame
on the gateway websocket to the moment the reply POST (its first part) has
been read by the fake REST server.  Loopback only, no faults, no rate-limit
headers (so no rate-limit waits), heartbeat at Discord's 41.25 s.  The fake
is Python (asyncio + websockets), so its own share is in every figure.

  one at a time  10,000 messages over 4 channels (2 listed, 1 mention, 1 DM),
                 each sent after the previous reply arrived (50 more first,
                 not counted, to warm up);
  sustained      5,000 messages over 20 listed channels, all sent as fast as
                 the fake can write them, until the last reply arrived.  The
                 bot's own cap of 50 REST requests a second (Discord's global
                 limit, DISCORD_REST_RATE) is raised for this run, so that the
                 figure is the bot's speed, not the cap's.

Memory (VmRSS, the target is under 20 MB) is read connected after one
answer, after the 10,000, and 2 s after the burst drained.  Over TLS, the
fake counts its TLS handshakes on the REST port: connections are kept, so
they stay at a handful (HTTP_PARALLEL) for the 15,000 replies.

Questions are tests/data/questions.tsv (in scope and out of scope), shuffled
with a fixed seed.  Prints tables; a benchmark: it fails only if the bot
does not answer.

usage: e2e.py [build/massagebot] [--seq N] [--burst N] [--channels N] [--only plain|tls]
"""

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.dont_write_bytecode = True  # no __pycache__ in tests/
import fake_discord as fd  # noqa: E402
from procmem import vm_kb  # noqa: E402

now = time.monotonic
CLK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / CLK


def rss_mb(pid):
    """VmRSS and VmHWM (peak) of a process, in MB."""
    v = vm_kb(pid)
    return v["VmRSS"] / 1024, v["VmHWM"] / 1024


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))]


class E2EFake(fd.Fake):
    def __init__(self, pki):
        super().__init__(hb_ms=41250, pki=pki)
        self.arrived = {}   # message id -> time its reply's first part was read
        self.waiters = {}
        self.reply_bytes = []
        self.rest_hook = self._arrival

    async def _arrival(self, req):
        if req.method == "POST" and isinstance(req.json, dict):
            mid, _, part = (req.json.get("nonce") or "").rpartition(".")
            self.reply_bytes.append(len((req.json.get("content") or "").encode()))
            if part == "0" and mid not in self.arrived:
                self.arrived[mid] = req.t
                w = self.waiters.pop(mid, None)
                if w and not w.done():
                    w.set_result(req.t)
        return None


def frame(fake, m):
    fake.seq += 1
    fake.events.append((fake.seq, "MESSAGE_CREATE", m, None))
    return json.dumps({"op": 0, "s": fake.seq, "t": "MESSAGE_CREATE", "d": m})


def message(text, ch, kind):
    if kind == "mention":
        return fd.message("<@%s> %s" % (fd.BOT_ID, text), channel=ch, mentions=[fd.BOT_ID])
    if kind == "dm":
        return fd.message(text, channel=ch, guild=None)
    return fd.message(text, channel=ch)


async def run(args, questions, pki):
    fake = E2EFake(pki)
    await fake.start()
    listed = ["2200000000000000%03d" % i for i in range(1, max(args.channels, 2) + 1)]
    seq_chans = [(listed[0], "listed"), (listed[1], "listed"),
                 ("2200000000000000900", "mention"), ("2200000000000000901", "dm")]
    bargs = argparse.Namespace(mb=args.mb, knowledge=args.knowledge)
    env = {"LOG_LEVEL": args.log_level, "ASAN_OPTIONS": "detect_leaks=0",
           "DISCORD_REST_RATE": "10000"}  # over TLS, fd.Bot adds SSL_CERT_FILE
    if "GLIBC_TUNABLES" in os.environ:
        env["GLIBC_TUNABLES"] = os.environ["GLIBC_TUNABLES"]
    bot = fd.Bot(bargs, fake, channels=",".join(listed), env=env)
    await bot.start()
    out = {}
    try:
        await fake.wait(lambda: fake.conn and fake.conn.identify, 30, "IDENTIFY")
        c = fake.conn
        qi = 0
        out["rss"] = []

        async def one(text, ch, kind):
            m = message(text, ch, kind)
            data = frame(fake, m)
            fut = asyncio.get_running_loop().create_future()
            fake.waiters[m["id"]] = fut
            t0 = now()
            await c.ws.send(data)
            t1 = await asyncio.wait_for(fut, 15)
            return t1 - t0

        # one at a time (the first answer is the moment the bot is surely
        # connected and idle: take its memory there)
        for i in range(args.warmup):
            if i == 1:
                out["rss"].append(("connected, 1 answer",) + rss_mb(bot.proc.pid))
            ch, kind = seq_chans[i % len(seq_chans)]
            await one(questions[qi % len(questions)], ch, kind)
            qi += 1
        lat = []
        cpu0, t0 = cpu_s(bot.proc.pid), now()
        for i in range(args.seq):
            ch, kind = seq_chans[i % len(seq_chans)]
            lat.append(await one(questions[qi % len(questions)], ch, kind))
            qi += 1
        wall, cpu = now() - t0, cpu_s(bot.proc.pid) - cpu0
        out["seq"] = dict(n=args.seq, ch=len(seq_chans), lat=lat, rate=args.seq / wall,
                          cpu=cpu / args.seq)
        out["rss"].append(("after %s one at a time" % "{:,}".format(args.warmup + args.seq),)
                          + rss_mb(bot.proc.pid))
        out["handshakes_seq"] = fake.tls_accepts

        # sustained: everything at once over many channels
        msgs = []
        for i in range(args.burst):
            m = message(questions[qi % len(questions)], listed[i % args.channels], "listed")
            qi += 1
            msgs.append((m["id"], frame(fake, m)))
        sent = {}
        cpu0, fcpu0 = cpu_s(bot.proc.pid), time.process_time()
        t_first = now()
        for mid, data in msgs:
            sent[mid] = now()
            await c.ws.send(data)
        t_sent = now()
        await fake.wait(lambda: all(mid in fake.arrived for mid, _ in msgs), 120,
                        "the replies to %d messages" % len(msgs))
        t_last = max(fake.arrived[mid] for mid, _ in msgs)
        cpu, fcpu = cpu_s(bot.proc.pid) - cpu0, time.process_time() - fcpu0
        out["burst"] = dict(n=args.burst, ch=args.channels,
                            lat=[fake.arrived[mid] - sent[mid] for mid, _ in msgs],
                            rate=args.burst / (t_last - t_first), cpu=cpu / args.burst,
                            send_rate=args.burst / max(t_sent - t_first, 1e-9),
                            fake_cpu=fcpu / args.burst, wall=t_last - t_first)
        out["rss"].append(("after %s more at once" % "{:,}".format(args.burst),)
                          + rss_mb(bot.proc.pid))
        # the last replies' POST answers may still be on their way back to
        # the bot, which trims its heap once the backlog is gone: look again
        # 2 s later
        await asyncio.sleep(2)
        out["rss"].append(("2 s later",) + rss_mb(bot.proc.pid))
        out["handshakes"] = fake.tls_accepts
        out["posts"] = len(fake.reply_bytes)
        out["reply_bytes"] = sum(fake.reply_bytes) / max(1, len(fake.reply_bytes))
        out["parts"] = len(fake.reply_bytes) / max(1, len(fake.arrived))
        rc = await bot.stop()
        if rc != 0:
            raise fd.Fail("the bot exited %s" % rc)
    finally:
        bot.kill()
        if bot.proc.returncode is None:
            await bot.proc.wait()
        await fake.stop()
        bot.cleanup()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mb", nargs="?", default="build/massagebot")
    ap.add_argument("--knowledge", default="knowledge")
    ap.add_argument("--questions", default="tests/data/questions.tsv")
    ap.add_argument("--seq", type=int, default=10000)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--burst", type=int, default=5000)
    ap.add_argument("--channels", type=int, default=20)
    ap.add_argument("--log-level", default="info")
    ap.add_argument("--only", choices=("plain", "tls"))
    args = ap.parse_args()
    os.chdir(ROOT)
    args.mb = os.path.abspath(args.mb)
    args.knowledge = os.path.abspath(args.knowledge)
    qs = [l.split("\t")[0] for l in open(args.questions, encoding="utf-8")
          if l.strip() and not l.startswith("#")]
    random.Random(1).shuffle(qs)
    chk = subprocess.run([args.mb, "check", args.knowledge], capture_output=True, text=True,
                         env={"PATH": os.environ.get("PATH", ""), "LOG_LEVEL": "error"})
    kb = (re.search(r"ok: (.*?)(?: in /\S*)?$", chk.stdout, re.M) or
          re.search(r"(.*)", chk.stdout)).group(1)
    load0 = os.getloadavg()[0]
    modes = [m for m in ("plain", "tls") if args.only in (None, m)]
    res = {}
    pki = fd.PKI() if "tls" in modes else None
    try:
        for m in modes:
            res[m] = asyncio.run(run(args, qs, pki if m == "tls" else None))
    except fd.Fail as e:
        print("e2e: FAILED: %s" % e)
        return 1
    finally:
        if pki:
            pki.cleanup()
    print("end-to-end through the fake Discord: %s, %s/ (%s), questions from %s (%d distinct)" % (
        os.path.relpath(args.mb, ROOT), os.path.relpath(args.knowledge, ROOT), kb,
        args.questions, len(qs)))
    print("machine: %d CPUs, load average %.2f before the runs, %.2f after (other jobs make the "
          "figures noisy)" % (os.cpu_count(), load0, os.getloadavg()[0]))
    r0 = next(iter(res.values()))
    print("questions %.0f bytes on average; replies %.0f bytes per posted part, %.2f parts per "
          "reply" % (sum(len(q.encode()) for q in qs) / len(qs), r0["reply_bytes"], r0["parts"]))
    print("MESSAGE_CREATE written by the fake -> first reply POST read by the fake "
          "(loopback, no faults, no rate limits)")
    print("%-6s %-14s %9s %9s %10s %8s %8s %8s %8s %9s %12s" % (
        "link", "run", "messages", "channels", "in flight", "p50 ms", "p90 ms", "p99 ms",
        "max ms", "msgs/s", "bot CPU/msg"))
    for m, r in res.items():
        for key, label, inflight in (("seq", "one at a time", "1"),
                                     ("burst", "sustained", "{:,}".format(args.burst))):
            x = r[key]
            lat = [v * 1000 for v in x["lat"]]
            print("%-6s %-14s %9s %9d %10s %8.2f %8.2f %8.2f %8.1f %9s %9.0f us" % (
                m, label, "{:,}".format(x["n"]), x["ch"], inflight, pct(lat, 0.5),
                pct(lat, 0.9), pct(lat, 0.99), max(lat), "{:,.0f}".format(x["rate"]),
                x["cpu"] * 1e6))
    for m, r in res.items():
        b = r["burst"]
        print("%s sustained: the fake wrote the %s frames at %s/s and used %.0f us of CPU per "
              "message (the bot %.0f us): %s" % (
                  m, "{:,}".format(b["n"]), "{:,.0f}".format(b["send_rate"]),
                  b["fake_cpu"] * 1e6, b["cpu"] * 1e6,
                  "the fake is the bottleneck" if b["fake_cpu"] > b["cpu"] else
                  "the bot is the bottleneck"))
    print("memory of the Discord bot, VmRSS MB (peak so far, VmHWM), target under 20 MB:")
    labels = [x[0] for x in r0["rss"]]
    print("%-28s" % "state" + "".join("%20s" % m for m in res))
    for i, label in enumerate(labels):
        print("%-28s" % label + "".join(
            "%20s" % ("%.1f (peak %.1f)" % res[m]["rss"][i][1:]) for m in res))
    worst = max(x[1] for r in res.values() for x in r["rss"])
    print("target: under 20 MB in every state: %.1f MB at most, %s" % (
        worst, "met" if worst < 20 else "NOT met"))
    if "tls" in res:
        t = res["tls"]
        print("TLS handshakes on the fake's REST port: %d for the first %s replies, %d for all "
              "%s posts (connections kept)" % (
                  t["handshakes_seq"], "{:,}".format(args.warmup + args.seq), t["handshakes"],
                  "{:,}".format(t["posts"])))
    for m, r in res.items():
        p50 = pct(r["seq"]["lat"], 0.5) * 1000
        print("target: p50 under 2 ms one at a time (%s): %.2f ms, %s" % (
            m, p50, "met" if p50 < 2 else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
