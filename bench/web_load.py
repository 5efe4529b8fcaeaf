#!/usr/bin/python3
"""web_load: `make bench`'s web chat load.  The optimised `massagebot run`
(BOT_PLATFORM=web) on the shipped knowledge, and 1,000 concurrent websocket
clients (asyncio, python3-websockets) spread over 50 loopback addresses (20
each: WEB_MAX_PER_ADDRESS's default), each asking 10 questions one after the
other.  Two rounds:

  clean    the 1,000 clients alone;
  hostile  the same again while 50 half-open clients (connected, then never
           read nor answer a ping nor send), 20 slowloris connections (a
           request header byte every second) and 10 clients that ask but never
           read their replies hold on: they must be dropped by the timeouts
           (WEB_HANDSHAKE_TIMEOUT=3, WEB_IDLE_TIMEOUT=15, 128 KiB unread) without
           holding the others up.

Checks (exit 1 on a miss): every question answered exactly once and in order
per client, with the reply `massagebot ask --json` gives; VmRSS with 1,000
open chats under 40 MB; every hostile client dropped within its timeout plus
slack.  Reports: connect time, question-to-reply latency p50/p90/p99/max per
round (measured in this client, which shares the machine with the bot: the
client's own event loop is part of every figure), throughput, RSS idle /
1,000 open chats / peak, and when each kind of hostile client was dropped.

The 1,000 clients run in this one Python process, which needs more CPU than
the bot: their latencies are mostly this process's queueing.  One more
visitor in a process of its own, asking question after question during each
round, shows what a visitor sees of a bot under that load.

usage: web_load.py [build/massagebot] [--clients N] [--questions N]
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import websockets

from procmem import vm_kb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ADDRESSES = 50
IDLE_S = 15
HANDSHAKE_S = 3
RSS_LIMIT_KB = 40 * 1024
SLACK = 3.0


def cpu_s(pid):
    """User + system CPU seconds the process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("nan")


class Problems(list):
    def check(self, cond, what):
        if not cond:
            self.append(what)
            print("  MISS: " + what)
        return cond


async def healthz(port):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    data = await r.read()
    w.close()
    return json.loads(data.partition(b"\r\n\r\n")[2])


async def client(i, port, questions, want, out):
    """Connects, asks its questions one after the other; records latencies and replies."""
    addr = "127.0.0.%d" % (2 + i % ADDRESSES)
    ws = await websockets.connect("ws://127.0.0.1:%d/chat" % port, origin="http://127.0.0.1:%d" % port,
                                  local_addr=(addr, 0), ping_interval=None, max_size=None,
                                  compression=None, close_timeout=5, open_timeout=60)
    hello = json.loads(await ws.recv())
    assert hello["type"] == "hello"
    return ws


async def converse(i, ws, questions, want, lat, errors):
    got = []
    for k, q in enumerate(questions):
        ask_id = "c%d-%d" % (i, k)
        t0 = time.monotonic()
        await ws.send(json.dumps({"type": "ask", "id": ask_id, "text": q}))
        while True:
            m = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if m["type"] in ("reply", "error"):
                break
        lat.append((time.monotonic() - t0) * 1000)
        got.append(m)
        # the first question stands alone; later ones are read with the chat's
        # previous answer (follow-ups), so only their order is checked
        if m["type"] != "reply" or m["id"] != ask_id or (k == 0 and m["text"] != want[q]):
            errors.append("client %d question %d: %r" % (i, k, {x: m.get(x) for x in ("type", "id", "error")}))
    return got


def probe(port, questions, stop, out):
    """In a process of its own (this one's event loop is busy with 1,000
    clients): one visitor asking one question after another while the load
    runs; its latency is what a visitor sees with a loaded bot."""
    async def run():
        ws = await websockets.connect("ws://127.0.0.1:%d/chat" % port, origin="http://127.0.0.1:%d" % port,
                                      local_addr=("127.0.0.250", 0), ping_interval=None, max_size=None)
        await ws.recv()
        lat = []
        k = 0
        while not stop.is_set():
            t0 = time.monotonic()
            await ws.send(json.dumps({"type": "ask", "id": "p%d" % k, "text": questions[k % len(questions)]}))
            while json.loads(await ws.recv())["type"] != "reply":
                pass
            lat.append((time.monotonic() - t0) * 1000)
            k += 1
            await asyncio.sleep(0.005)
        await ws.close()
        out.put(lat)
    asyncio.run(run())


async def half_open(port, n):
    """Connected chats that then go silent: no reads (so no pongs) and no messages."""
    conns = []
    for i in range(n):
        ws = await websockets.connect("ws://127.0.0.1:%d/chat" % port, origin="http://127.0.0.1:%d" % port,
                                      local_addr=("127.0.0.%d" % (100 + i % 10), 0), ping_interval=None)
        await ws.recv()
        ws.transport.pause_reading()
        conns.append(ws)
    return conns, time.monotonic()


async def watch_half_open(conns, t_silent):
    """When the bot drops each half-open chat: its close (1001 idle, then FIN)
    makes the socket readable, which select sees without reading."""
    socks = [ws.transport.get_extra_info("socket") for ws in conns]
    gone = {}
    deadline = t_silent + IDLE_S + SLACK + 2
    while len(gone) < len(socks) and time.monotonic() < deadline:
        ready, _, _ = select.select([x for x in socks if x.fileno() not in gone], [], [], 0)
        for x in ready:
            gone[x.fileno()] = time.monotonic() - t_silent
        await asyncio.sleep(0.1)
    return list(gone.values())


async def slowloris(port, n):
    """Connections that send a request one byte a second and never finish it."""
    t0 = time.monotonic()
    dropped = []

    async def one(i):
        r, w = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.%d" % (120 + i % 5), 0))
        req = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
        for b in req:
            try:
                w.write(bytes([b]))
                await w.drain()
            except ConnectionError:
                break
            try:
                if await asyncio.wait_for(r.read(1), 1.0) == b"":
                    break
            except asyncio.TimeoutError:
                continue
            except ConnectionError:
                break
        dropped.append(time.monotonic() - t0)
        w.close()
    await asyncio.gather(*(one(i) for i in range(n)))
    return dropped


async def slow_readers(port, n, log_path):
    """Clients that ask and ask but never read a reply."""
    conns = []
    for i in range(n):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.bind(("127.0.0.%d" % (130 + i), 0))
        sock.connect(("127.0.0.1", port))
        ws = await websockets.connect("ws://127.0.0.1:%d/chat" % port, origin="http://127.0.0.1:%d" % port,
                                      sock=sock, ping_interval=None, max_queue=1, read_limit=4096)
        ws.transport.pause_reading()
        conns.append(ws)
    t0 = time.monotonic()
    for k in range(3000):
        live = [ws for ws in conns if not ws.transport.is_closing()]
        if not live:
            break
        for ws in live:
            try:
                await asyncio.wait_for(ws.send(json.dumps({"type": "ask", "id": "s%d" % k,
                                                           "text": "is deep tissue massage painful?"})), 1)
            except (websockets.ConnectionClosed, asyncio.TimeoutError, ConnectionError):
                ws.transport.abort()
        await asyncio.sleep(0.01)
    with open(log_path, encoding="utf-8", errors="replace") as f:
        closed = f.read().count("does not read its replies")
    return closed, time.monotonic() - t0, conns


async def round_(name, port, nclients, questions_of, want, pid, problems, hostile=False, log_path=None):
    print("== %s round: %d clients x %d questions%s" % (
        name, nclients, len(questions_of(0)), ", with hostile clients" if hostile else ""))
    t0 = time.monotonic()
    if hostile:
        lo_task = asyncio.create_task(slowloris(port, 20))
        conns, t_silent = await half_open(port, 50)
        ho_watch = asyncio.create_task(watch_half_open(conns, t_silent))
    sem = asyncio.Semaphore(200)  # connects in flight at once

    async def connect(i):
        async with sem:
            return await client(i, port, None, None, None)
    socks = await asyncio.gather(*(connect(i) for i in range(nclients)))
    t_conn = time.monotonic() - t0
    h = await healthz(port)
    st = vm_kb(pid)
    print("  %d chats open after %.1f s (healthz says %d); VmRSS %.1f MB" % (
        len(socks), t_conn, h["chats"], st["VmRSS"] / 1024))
    problems.check(st["VmRSS"] < RSS_LIMIT_KB, "VmRSS with %d open chats %.1f MB < 40 MB" % (
        len(socks), st["VmRSS"] / 1024))
    sr_task = None
    if hostile:
        sr_task = asyncio.create_task(slow_readers(port, 10, log_path))
    lat, errors = [], []
    stop, results = multiprocessing.Event(), multiprocessing.Queue()
    prober = multiprocessing.Process(target=probe, args=(port, questions_of(0), stop, results))
    prober.start()
    t1, c1 = time.monotonic(), cpu_s(pid)
    got = await asyncio.gather(*(converse(i, ws, questions_of(i), want, lat, errors)
                                 for i, ws in enumerate(socks)))
    took, cpu = time.monotonic() - t1, cpu_s(pid) - c1
    stop.set()
    plat = await asyncio.get_running_loop().run_in_executor(None, results.get, True, 30)
    prober.join(10)
    n = sum(len(g) for g in got)
    st = vm_kb(pid)
    print("  %d questions answered in %.1f s (%.0f/s); latency ms p50 %.1f, p90 %.1f, p99 %.1f, max %.1f; "
          "the bot used %.2f s of CPU (%.0f us a question, %.0f%% of one core); VmRSS %.1f MB, peak %.1f MB" % (
              n, took, n / took, pct(lat, .5), pct(lat, .9), pct(lat, .99), max(lat), cpu, cpu / n * 1e6,
              cpu / took * 100, st["VmRSS"] / 1024, st["VmHWM"] / 1024))
    print("  meanwhile one more visitor, in a process of its own, asking one question after another: "
          "%d questions, latency ms p50 %.1f, p99 %.1f, max %.1f" % (len(plat), pct(plat, .5), pct(plat, .99),
                                                                    max(plat)))
    problems.check(not errors, "every question answered once, in order (the first as ask answers it): "
                   "%d wrong%s" % (
        len(errors), ": " + errors[0] if errors else ""))
    problems.check(n == nclients * len(questions_of(0)), "%d replies" % n)
    for ws in socks:
        await ws.close()
    result = {"p50": pct(lat, .5), "p99": pct(lat, .99), "rss_open_kb": None}
    if hostile:
        dropped = await lo_task
        problems.check(max(dropped) <= HANDSHAKE_S + SLACK + 1,
                       "slowloris connections dropped after %.1f-%.1f s (handshake timeout %d s)" % (
                           min(dropped), max(dropped), HANDSHAKE_S))
        print("  20 slowloris connections dropped after %.1f to %.1f s (WEB_HANDSHAKE_TIMEOUT=%d)" % (
            min(dropped), max(dropped), HANDSHAKE_S))
        closed, sr_took, sr_conns = await sr_task
        problems.check(closed >= 10, "the 10 clients that do not read are closed (%d)" % closed)
        print("  10 clients that never read: %d closed (128 KiB unread), within %.1f s" % (closed, sr_took))
        for ws in sr_conns:
            ws.transport.abort()
        gone = await ho_watch
        problems.check(len(gone) == 50 and max(gone) <= IDLE_S + SLACK,
                       "the 50 half-open chats dropped by WEB_IDLE_TIMEOUT=%d (%d of 50)" % (IDLE_S, len(gone)))
        if gone:
            print("  50 half-open chats: %d dropped %.1f to %.1f s after they went silent (WEB_IDLE_TIMEOUT=%d)" % (
                len(gone), min(gone), max(gone), IDLE_S))
        for ws in conns:
            ws.transport.abort()
    return result


async def amain(args):
    mb = os.path.abspath(args.mb)
    with open(os.path.join(ROOT, "tests", "data", "questions.tsv"), encoding="utf-8") as f:
        pool = sorted({line.split("\t")[0] for line in f if "\t" in line and not line.startswith("#")})[:300]
    env = {"PATH": os.environ.get("PATH", ""), "KNOWLEDGE_DIR": os.path.join(ROOT, "knowledge"), "LOG_LEVEL": "error"}
    out = subprocess.run([mb, "ask", "--json"], input="\n".join(pool) + "\n", capture_output=True, text=True,
                         env=env, check=True).stdout
    want = {json.loads(line)["question"]: json.loads(line)["reply"] for line in out.splitlines()}
    pool = [q for q in pool if q in want]  # as ask echoes it
    rnd = random.Random(7)
    plan = [[rnd.choice(pool) for _ in range(args.questions)] for _ in range(args.clients)]

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    tmp = tempfile.mkdtemp(prefix="mb-webload-")
    log_path = os.path.join(tmp, "bot.log")
    benv = dict(env, BOT_PLATFORM="web", LOG_LEVEL="info", WEB_LISTEN="127.0.0.1:%d" % port,
                WEB_MAX_CONNECTIONS=str(args.clients + 200), WEB_ADDRESS_MESSAGES_PER_10S="10000",
                WEB_MESSAGES_PER_10S="1000",  # high, so that the clients that never read fill up
                WEB_IDLE_TIMEOUT=str(IDLE_S), WEB_HANDSHAKE_TIMEOUT=str(HANDSHAKE_S))
    logf = open(log_path, "wb")
    proc = subprocess.Popen([mb, "run"], env=benv, cwd=tmp, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=logf)
    problems = Problems()
    try:
        for _ in range(200):
            if "listening on" in open(log_path, errors="replace").read() or proc.poll() is not None:
                break
            time.sleep(0.05)
        if proc.poll() is not None:
            raise SystemExit("web_load: the bot did not start:\n" + open(log_path, errors="replace").read())
        idle = vm_kb(proc.pid)
        print("bot: VmRSS %.1f MB idle (web, %d answers)" % (idle["VmRSS"] / 1024, (await healthz(port))["answers"]))
        # one chat alone: the bot's latency without 1,000 clients in this process's loop
        ws = await client(0, port, None, None, None)
        lat, errors = [], []
        await converse(0, ws, [rnd.choice(pool) for _ in range(200)], want, lat, errors)
        await ws.close()
        print("== one chat alone, 200 questions one after the other: latency ms p50 %.2f, p99 %.2f, max %.2f" % (
            pct(lat, .5), pct(lat, .99), max(lat)))
        await round_("clean", port, args.clients, lambda i: plan[i], want, proc.pid, problems)
        await round_("hostile", port, args.clients, lambda i: plan[i], want, proc.pid, problems, True, log_path)
        st = vm_kb(proc.pid)
        print("bot: VmRSS %.1f MB at the end, peak %.1f MB" % (st["VmRSS"] / 1024, st["VmHWM"] / 1024))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        logf.close()
        problems.check(rc == 0, "exit 0 on SIGTERM (%r)" % rc)
        errs = [line for line in open(log_path, errors="replace") if " error: " in line]
        problems.check(not errs, "no error in the bot's log: %s" % "".join(errs[:3]))
        shutil.rmtree(tmp, ignore_errors=True)
    print("web_load: %s" % ("all checks passed" if not problems else "%d check(s) missed" % len(problems)))
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mb", nargs="?", default="build/massagebot")
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--questions", type=int, default=10)
    sys.exit(asyncio.run(amain(ap.parse_args())))


if __name__ == "__main__":
    main()
