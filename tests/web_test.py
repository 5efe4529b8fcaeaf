#!/usr/bin/python3
"""web_test: the web chat platform of the real `massagebot run` (the sanitized
build), driven over HTTP and websockets from Python: the pages it serves and
their headers, the protocol (README "Web chat protocol") with replies exactly
as `massagebot ask --json` gives them, and every limit a hostile internet runs
into (origin, rate, connections, frame size, handshake and idle timeouts,
clients that do not read), the feedback and unanswered logs, config errors,
SIGTERM, and the web chat beside Discord (tests/fake_discord.py) in one
process with one reload seen by both.

Each scenario starts its own bot on a free port with its own variables.
Waits are deadlines on conditions; timing is never asserted beyond "within
the timeout plus slack".

usage: web_test.py --mb build/san/massagebot [scenario ...]
"""

import argparse
import asyncio
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import fake_discord as fd  # noqa: E402

KNOWLEDGE = os.path.join(ROOT, "knowledge")
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
SLACK = 3.0  # seconds past a timeout before calling it missed (sanitized build, busy box)


class Fail(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Fail(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def until(pred, timeout, what, step=0.05):
    """Waits for pred() to be truthy (it may be a coroutine function)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if asyncio.iscoroutine(v):
            v = await v
        if v:
            return v
        if time.monotonic() > deadline:
            raise Fail("waited %.0f s for %s" % (timeout, what))
        await asyncio.sleep(step)


class Bot:
    """`massagebot run` with the web platform on a free port of 127.0.0.1."""

    def __init__(self, mb, env=None, knowledge=KNOWLEDGE, platform="web"):
        self.mb = mb
        self.dir = tempfile.mkdtemp(prefix="mb-web-")
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "bot.log")
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "BOT_PLATFORM": platform,
            "KNOWLEDGE_DIR": knowledge,
            "LOG_LEVEL": "debug",
            "WEB_LISTEN": "127.0.0.1:%d" % self.port,
            "FEEDBACK_LOG": os.path.join(self.dir, "feedback.jsonl"),
            "UNANSWERED_LOG": os.path.join(self.dir, "unanswered.jsonl"),
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
            "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1"),
        }
        self.env.update(env or {})
        self.proc = None
        self.logf = None

    @property
    def origin(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def chat_url(self):
        return "ws://127.0.0.1:%d/chat" % self.port

    async def start(self, wait=True):
        self.logf = open(self.log_path, "wb")
        self.proc = await asyncio.create_subprocess_exec(
            self.mb, "run", cwd=self.dir, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self.logf)
        if wait:
            await until(lambda: "web: listening on" in self.log() or self.proc.returncode is not None,
                        20, "the bot to listen")
            expect(self.proc.returncode is None, "the bot exited at start:\n" + self.log()[-2000:])

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    async def stop(self, timeout=15):
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            raise Fail("the bot did not exit within %.0f s of SIGTERM" % timeout)

    def kill(self):
        if self.proc and self.proc.returncode is None:
            self.proc.kill()

    def cleanup(self):
        if self.logf:
            self.logf.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def connect(self, origin="self", headers=None, **kw):
        """A chat; returns the websocket after its hello."""
        ws = await websockets.connect(self.chat_url, origin=self.origin if origin == "self" else origin,
                                      extra_headers=headers or {}, max_size=None, ping_interval=None,
                                      close_timeout=2, **kw)
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        expect(hello["type"] == "hello" and hello["max_frame"] >= 512, "hello: %r" % hello)
        return ws

    async def http(self, path, method="GET", headers=None):
        """One HTTP/1.1 request; returns (status, {lower-case header: value}, body bytes)."""
        r, w = await asyncio.open_connection("127.0.0.1", self.port)
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n" % (method, path, self.port)
        for k, v in (headers or {}).items():
            head += "%s: %s\r\n" % (k, v)
        w.write(head.encode() + b"\r\n")
        data = await asyncio.wait_for(r.read(), 10)
        w.close()
        top, _, body = data.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        return status, hdrs, body


async def recv(ws, timeout=10):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def reply_to(ws, ask_id, timeout=10):
    """The frames up to the reply to ask_id (typing first); returns the reply."""
    while True:
        m = await recv(ws, timeout)
        if m.get("id") == ask_id and m["type"] in ("reply", "error"):
            return m


async def ask(ws, text, ask_id):
    await ws.send(json.dumps({"type": "ask", "id": ask_id, "text": text}))
    t = await recv(ws)
    expect(t == {"type": "typing", "id": ask_id}, "typing first, got %r" % t)
    r = await recv(ws)
    expect(r["type"] == "reply" and r["id"] == ask_id, "a reply to %s, got %r" % (ask_id, r))
    return r


async def closed(ws, timeout):
    """Waits for the bot to close ws; returns (code, reason)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed as e:
        return e.code, e.reason


async def refused_status(bot, **kw):
    try:
        ws = await bot.connect(**kw)
    except websockets.InvalidStatusCode as e:
        return e.status_code
    await ws.close()
    return None


def ask_json(mb, questions, knowledge=KNOWLEDGE):
    env = {"PATH": os.environ.get("PATH", ""), "KNOWLEDGE_DIR": knowledge, "LOG_LEVEL": "error"}
    out = subprocess.run([mb, "ask", "--json"], input="\n".join(questions) + "\n", capture_output=True,
                         text=True, env=env, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def front_matter(path):
    """The title and related ids of an answer file (the simple forms the shipped files use)."""
    title, related = None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("title:"):
                title = line[6:].strip().strip("'\"")
            elif line.startswith("related:"):
                related = [x.strip() for x in line[8:].strip().strip("[]").split(",") if x.strip()]
    return title, related


def did_you_mean(knowledge=KNOWLEDGE):
    """The first line of the bot's "did you mean" message (messages/did-you-mean.md)."""
    with open(os.path.join(knowledge, "messages", "did-you-mean.md"), encoding="utf-8") as f:
        return f.read().split("\n---\n", 1)[1].strip().splitlines()[0]


def check_choices(r, dym):
    """choices exactly when the text asks "did you mean": the numbered titles after it."""
    if dym not in r["text"]:
        expect("choices" not in r, "no choices without a did-you-mean: %r" % r.get("choices"))
        return
    after = r["text"].split(dym, 1)[1]
    titles = re.findall(r"^(\d+)\. (.+)$", after, re.M)
    expect([(str(c["n"]), c["title"]) for c in r.get("choices", [])] == titles,
           "choices %r are the numbered titles %r" % (r.get("choices"), titles))
    expect(r["intent"] is None, "a did-you-mean gives no answer")


def answer_files(knowledge=KNOWLEDGE):
    out = {}
    for d, _, files in os.walk(knowledge):
        for f in files:
            if f.endswith(".md"):
                p = os.path.join(d, f)
                with open(p, encoding="utf-8") as fh:
                    m = re.search(r"^id:\s*(\S+)", fh.read(), re.M)
                if m:
                    out[m.group(1)] = p
    return out


# ---- scenarios ---------------------------------------------------------------

async def sc_pages(args, bot):
    """/, /widget.js, /healthz and the rest: types, CSP, caching, the embedded files."""
    st, h, body = await bot.http("/")
    expect(st == 200 and h["content-type"] == "text/html; charset=utf-8", "/: %d %r" % (st, h))
    with open(os.path.join(ROOT, "bot", "web", "index.html"), "rb") as f:
        expect(body == f.read(), "/ is bot/web/index.html")
    expect(h.get("content-security-policy") == CSP, "CSP on /: %r" % h.get("content-security-policy"))
    expect(h.get("x-content-type-options") == "nosniff", "nosniff")
    expect(h.get("referrer-policy") == "no-referrer", "Referrer-Policy")
    etag = h.get("etag", "")
    expect(re.fullmatch(r'"[0-9a-f]{16}"', etag), "ETag: %r" % etag)
    st, h2, body = await bot.http("/", headers={"If-None-Match": etag})
    expect(st == 304 and body == b"", "If-None-Match gives 304 without a body: %d %r" % (st, body[:40]))
    st, h, body = await bot.http("/widget.js")
    with open(os.path.join(ROOT, "bot", "web", "widget.js"), "rb") as f:
        expect(st == 200 and body == f.read(), "/widget.js is bot/web/widget.js")
    expect(h["content-type"] == "text/javascript; charset=utf-8", "widget type: %r" % h["content-type"])
    expect("max-age" in h.get("cache-control", "") and h.get("etag"), "widget caching: %r" % h)
    st, h, body = await bot.http("/widget.js", method="HEAD")
    expect(st == 200 and body == b"" and int(h["content-length"]) > 10000, "HEAD: headers only")
    st, h, body = await bot.http("/healthz")
    health = json.loads(body)
    expect(st == 200 and h["content-type"] == "application/json", "healthz: %d %r" % (st, h))
    expect(set(health) == {"status", "version", "answers", "uptime_s", "chats"}, "healthz keys: %r" % health)
    expect(health["status"] == "ok" and health["answers"] > 20 and health["chats"] == 0, "healthz: %r" % health)
    ws = await bot.connect()
    _, _, body = await bot.http("/healthz")
    expect(json.loads(body)["chats"] == 1, "healthz counts open chats")
    await ws.close()
    for path, method, want in [("/nope", "GET", 404), ("/", "POST", 405), ("/chat", "GET", 426),
                               ("/../etc/passwd", "GET", 404)]:
        st, h, _ = await bot.http(path, method=method)
        expect(st == want, "%s %s: %d, want %d" % (method, path, st, want))
        expect(h.get("x-content-type-options") == "nosniff", "nosniff on %s" % path)


async def sc_replies_like_ask(args, bot):
    """Each reply is exactly `ask --json`'s, with level, suggestions and choices beside it
    (each question in a chat of its own: `ask` reads each line alone, and a chat
    reads a message after an answer as part of the conversation)."""
    questions = ["is deep tissue massage painful?", "what is swedish massage", "hello",
                 "how do I knot a tie", "can I have a massage while pregnant?",
                 "my back hurts and I suddenly can't control my bladder and my groin is numb",
                 "I want to end my life", "<script>alert(1)</script> massage?"]
    want = ask_json(args.mb, questions)
    files = answer_files()
    dym = did_you_mean()
    for i, (q, w) in enumerate(zip(questions, want)):
        ws = await bot.connect()
        r = await ask(ws, q, "q-%d" % i)
        await ws.close()
        expect(r["text"] == w["reply"], "%r: text differs from ask:\n%s\n---\n%s" % (q, r["text"], w["reply"]))
        expect(r["intent"] == w["intent"] and r["safety"] == w["safety"],
               "%r: intent/safety %r %r, ask says %r %r" % (q, r["intent"], r["safety"], w["intent"], w["safety"]))
        level = ("crisis" if "crisis" in w["safety"] else "emergency" if "emergency" in w["safety"]
                 else r["level"])
        expect(r["level"] == level, "%r: level %r, want %r" % (q, r["level"], level))
        check_choices(r, dym)
        if r["level"] in ("crisis", "emergency") or not r["intent"]:
            expect(r["suggestions"] == [], "%r: no suggestions here: %r" % (q, r["suggestions"]))
            continue
        _, related = front_matter(files[r["intent"]])
        got = [s["id"] for s in r["suggestions"]]
        expect(got == [x for x in related if x != r["intent"]][:4], "%r: suggestions %r, related %r" % (q, got, related))
        for s in r["suggestions"]:
            expect(s["title"] == front_matter(files[s["id"]])[0], "suggestion title %r" % s)
    # "did you mean": a question from the tables the bot is not sure of
    with open(os.path.join(ROOT, "tests", "data", "questions.tsv"), encoding="utf-8") as f:
        pool = [line.split("\t")[0] for line in f if "\t" in line][:400]
    unsure = [w for w in ask_json(args.mb, pool) if re.search(r"\n1\. .+\n2\. ", w["reply"])]
    expect(unsure, "some question in tests/data/questions.tsv gets a 'did you mean'")
    w = unsure[0]
    ws = await bot.connect()
    r = await ask(ws, w["question"], "dym")
    expect(r["text"] == w["reply"], "did-you-mean text as ask gives it")
    expect(r.get("choices"), "a did-you-mean has choices: %r" % r)
    check_choices(r, dym)
    await ws.close()


async def sc_order(args, bot):
    """Ten questions sent at once: ten replies, each once, in order."""
    ws = await bot.connect()
    qs = ["what is swedish massage", "hello", "is deep tissue massage painful?", "thanks",
          "how often should I get a massage", "what is trigger point therapy", "help",
          "how do I knot a tie", "can massage help sciatica", "what is swedish massage"]
    want = ask_json(args.mb, qs)
    for i, q in enumerate(qs):
        await ws.send(json.dumps({"type": "ask", "id": "o%d" % i, "text": q}))
    replies = []
    while len(replies) < len(qs):
        m = await recv(ws)
        if m["type"] == "reply":
            replies.append(m)
    expect([r["id"] for r in replies] == ["o%d" % i for i in range(len(qs))], "in order: %r" % [r["id"] for r in replies])
    expect([r["text"] for r in replies] == [w["reply"] for w in want], "each the ask reply")
    # a duplicate of an earlier reply would come before this ask's frames
    await ask(ws, "hello", "last")
    await ws.close()


async def sc_bad_frames(args, bot):
    """Bad JSON and bad fields get an error; unknown types are ignored; the chat goes on."""
    ws = await bot.connect()
    for frame, want_id, part in [("not json", None, "not a JSON object"),
                                 ('{"type":"ask","id":"b1"}', "b1", '"text"'),
                                 ('{"type":"ask","id":"<b>","text":"x"}', None, '"id"'),
                                 ('{"type":"feedback","id":"b2","helpful":"yes"}', "b2", '"helpful"'),
                                 ('{"type":"ask","id":"b3","text":"   "}', "b3", "empty")]:
        await ws.send(frame)
        m = await recv(ws)
        expect(m["type"] == "error" and m["error"] == "bad_request" and m["id"] == want_id and part in m["message"],
               "%s: %r" % (frame, m))
    await ws.send(b"\x00\x01binary")
    m = await recv(ws)
    expect(m["type"] == "error" and m["error"] == "bad_request" and m["id"] is None, "binary: %r" % m)
    await ws.send(json.dumps({"type": "surprise", "id": "u1", "text": "hello"}))
    r = await ask(ws, "hello", "after")  # the very next frame is this ask's typing: nothing for the unknown type
    expect(r["intent"] == "greeting", "the chat goes on: %r" % r)
    await ws.close()
    expect("AddressSanitizer" not in bot.log(), "no sanitizer report")


async def sc_frame_size(args, bot):
    """A message up to WEB_MAX_FRAME is answered; a bigger one closes the chat with 1009."""
    ws = await bot.connect()
    frame = json.dumps({"type": "ask", "id": "big", "text": ""})
    text = "is massage good for back pain " + "a" * (4096 - len(frame) - 30)
    frame = json.dumps({"type": "ask", "id": "big", "text": text})
    expect(len(frame) == 4096, "a frame of exactly 4096 bytes (%d)" % len(frame))
    await ws.send(frame)
    m = await reply_to(ws, "big")
    expect(m["type"] == "reply", "4096 bytes answered: %r" % m)
    await ws.send(json.dumps({"type": "ask", "id": "big2", "text": text + "b"}))
    code, reason = await closed(ws, 10)
    expect(code == 1009, "4097 bytes close the chat with 1009: %r %r" % (code, reason))


async def sc_rate_limit(args, bot):
    """WEB_MESSAGES_PER_10S=3: the 4th message is refused with rate_limited; a flood closes the chat."""
    ws = await bot.connect()
    for i in range(3):
        await ask(ws, "hello", "r%d" % i)
    await ws.send(json.dumps({"type": "ask", "id": "r3", "text": "hello"}))
    m = await recv(ws)
    expect(m["type"] == "error" and m["error"] == "rate_limited" and m["id"] == "r3", "4th: %r" % m)
    expect(500 <= m["retry_after_ms"] <= 10000, "retry_after_ms: %r" % m)
    other = await bot.connect()  # another chat (the address allows more) is not held up
    await ask(other, "hello", "o1")
    for i in range(10):
        await ws.send(json.dumps({"type": "ask", "id": "f%d" % i, "text": "hello"}))
    code, reason = await closed(ws, 10)
    expect(code == 1008, "a flood at 3 times the limit closes the chat: %r %r" % (code, reason))
    await other.close()


async def sc_address_rate(args, bot):
    """WEB_ADDRESS_MESSAGES_PER_10S=4: two chats from one address share it."""
    a, b = await bot.connect(), await bot.connect()
    for i in range(2):
        await ask(a, "hello", "a%d" % i)
        await ask(b, "hello", "b%d" % i)
    await b.send(json.dumps({"type": "ask", "id": "b2", "text": "hello"}))
    m = await recv(b)
    expect(m["type"] == "error" and m["error"] == "rate_limited", "the address's 5th: %r" % m)
    await a.close()
    await b.close()


async def sc_connection_caps(args, bot):
    """WEB_MAX_PER_ADDRESS=2 (HTTP 429 past it), WEB_MAX_CONNECTIONS=3 (told busy, closed 1013)."""
    a, b = await bot.connect(), await bot.connect()
    expect(await refused_status(bot) == 429, "a third chat from one address: 429")
    c = await bot.connect(local_addr=("127.0.0.2", 0))
    ws = await websockets.connect(bot.chat_url, origin=bot.origin, local_addr=("127.0.0.3", 0))
    m = await recv(ws)
    expect(m["type"] == "error" and m["error"] == "busy" and m["id"] is None, "over the total: busy: %r" % m)
    code, _ = await closed(ws, 10)
    expect(code == 1013, "then closed with 1013: %r" % code)
    await a.close()
    await until(lambda: "chat w" in bot.log() and bot.log().count(" closed") >= 2, 10, "a chat to close")
    d = await bot.connect(local_addr=("127.0.0.3", 0))  # room again
    for w in (b, c, d):
        await w.close()


async def sc_tcp_per_peer(args, bot):
    """Idle TCP connections from one address are capped (WEB_MAX_PER_ADDRESS + 8); handshakes time out."""
    conns = []
    for _ in range(10):  # WEB_MAX_PER_ADDRESS=2: 10 TCP connections allowed
        conns.append(await asyncio.open_connection("127.0.0.1", bot.port))
    r, w = await asyncio.open_connection("127.0.0.1", bot.port)
    t0 = time.monotonic()
    data = await asyncio.wait_for(r.read(), 5)
    expect(data == b"" and time.monotonic() - t0 < 2, "the 11th is closed at once: %r" % data)
    other = await bot.connect(local_addr=("127.0.0.2", 0))  # another address is not held up
    await ask(other, "hello", "h")
    # a request never finished: dropped after WEB_HANDSHAKE_TIMEOUT (2 s)
    r0, w0 = conns[0]
    w0.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    for rr, _ in conns:
        expect(await asyncio.wait_for(rr.read(), 2 + SLACK) == b"", "dropped without a response")
    took = time.monotonic() - t0
    expect(took < 2 + SLACK, "all dropped within the handshake timeout (%.1f s)" % took)
    st, _, _ = await bot.http("/healthz")
    expect(st == 200, "and then new connections work")
    await other.close()


async def sc_idle(args, bot):
    """WEB_IDLE_TIMEOUT=5: a silent chat is closed with 1001 'idle'; a talking one is not."""
    quiet, busy = await bot.connect(), await bot.connect()
    t0 = time.monotonic()
    keep = True

    async def talk():
        i = 0
        while keep:
            await ask(busy, "hello", "k%d" % i)
            i += 1
            await asyncio.sleep(1.5)
    talker = asyncio.create_task(talk())
    code, reason = await closed(quiet, 5 + SLACK + 2)
    took = time.monotonic() - t0
    expect(code == 1001 and reason == "idle", "closed as idle: %r %r" % (code, reason))
    expect(4.5 <= took <= 5 + SLACK + 1, "after about 5 s: %.1f s" % took)
    await asyncio.sleep(2)
    keep = False
    await talker
    expect(busy.open, "the chat that talks stays open past the idle time")
    await busy.close()


async def sc_origin(args, bot):
    """Only listed origins (here self and http://allowed.example) may open a chat."""
    expect(await refused_status(bot) is None, "its own pages")
    expect(await refused_status(bot, origin="http://allowed.example") is None, "a listed origin")
    for o in ["http://evil.example", "https://allowed.example", "http://allowed.example:8080", "null"]:
        expect(await refused_status(bot, origin=o) == 403, "origin %s refused with 403" % o)
    try:  # no Origin at all: not a browser page
        ws = await websockets.connect(bot.chat_url)
        await ws.close()
        raise Fail("a chat without Origin was let in")
    except websockets.InvalidStatusCode as e:
        expect(e.status_code == 403, "no Origin: 403")
    await until(lambda: "from origin 'http://evil.example' refused" in bot.log(), 5, "the refusal in the debug log")


async def sc_forwarded_for(args, bot):
    """X-Forwarded-For counts only from WEB_TRUSTED_PROXY (here 127.0.0.1), right-most first."""
    a = await bot.connect(headers={"X-Forwarded-For": "198.51.100.1"})
    b = await bot.connect(headers={"X-Forwarded-For": "198.51.100.2"})
    expect(await refused_status(bot, headers={"X-Forwarded-For": "198.51.100.1"}) == 429,
           "the same client address twice (WEB_MAX_PER_ADDRESS=1)")
    expect(await refused_status(bot, headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.2"}) == 429,
           "what the client wrote left of the proxy's entry does not count")
    # not from the trusted proxy: its X-Forwarded-For is ignored, its own address counts
    c = await bot.connect(headers={"X-Forwarded-For": "198.51.100.3"}, local_addr=("127.0.0.2", 0))
    expect(await refused_status(bot, headers={"X-Forwarded-For": "198.51.100.4"},
                                local_addr=("127.0.0.2", 0)) == 429,
           "an untrusted peer's X-Forwarded-For is not believed")
    for w in (a, b, c):
        await w.close()


async def sc_feedback_and_logs(args, bot):
    """A thumb goes to the feedback log (day, answer id, up/down, platform; nothing else), once;
    a web question the bot cannot answer goes to the unanswered log, scrubbed; report lists both."""
    ws = await bot.connect()
    r = await ask(ws, "is deep tissue massage painful?", "t1")
    expect(r["intent"], "an answer to rate")
    await ws.send(json.dumps({"type": "feedback", "id": "t1", "helpful": False}))
    expect(await recv(ws) == {"type": "feedback_ok", "id": "t1"}, "feedback_ok")
    await ws.send(json.dumps({"type": "feedback", "id": "t1", "helpful": True}))
    expect(await recv(ws) == {"type": "feedback_ok", "id": "t1"}, "a second thumb: ok, not logged again")
    await ws.send(json.dumps({"type": "feedback", "id": "nope", "helpful": True}))
    m = await recv(ws)
    expect(m["type"] == "error" and m["id"] == "nope", "a thumb on no answer: %r" % m)
    other = await bot.connect()
    await other.send(json.dumps({"type": "feedback", "id": "t1", "helpful": False}))
    m = await recv(other)
    expect(m["type"] == "error", "another chat cannot rate this chat's answer: %r" % m)
    await ask(ws, "how do I knot a tie? call me on 07700 900123", "u1")
    path = bot.env["FEEDBACK_LOG"]
    await until(lambda: os.path.exists(path) and open(path).read(), 5, "the feedback log")
    lines = [json.loads(x) for x in open(path)]
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    expect(lines == [{"time": today, "answer": r["intent"], "helpful": False, "platform": "web"}],
           "feedback log: %r" % lines)
    raw = open(path).read()
    expect("t1" not in raw and "127.0.0.1" not in raw and "deep tissue massage painful" not in raw,
           "no ids, addresses or text in the feedback log")
    upath = bot.env["UNANSWERED_LOG"]
    un = [json.loads(x) for x in open(upath)]
    expect([u["question"] for u in un] == ["how do I knot a tie? call me on [phone]"], "unanswered: %r" % un)
    expect(un[0]["time"] == today, "the day only")
    await ws.close()
    await other.close()
    out = subprocess.run([args.mb, "report", upath, "--feedback", path], capture_output=True, text=True,
                         env={"PATH": os.environ.get("PATH", "")})
    expect(out.returncode == 0, "report: %s" % out.stderr)
    expect(re.search(r"1 down\s+0 up\s+%s" % re.escape(r["intent"]), out.stdout)
           and "knot a tie" in out.stdout, "report shows thumbs down beside unanswered:\n" + out.stdout)


async def sc_sigterm(args, bot):
    """SIGTERM: open chats are closed with 1001, the bot exits 0."""
    ws = await bot.connect()
    await ask(ws, "hello", "s1")
    bot.proc.send_signal(signal.SIGTERM)
    code, reason = await closed(ws, 10)
    expect(code == 1001, "closed with 1001 on SIGTERM: %r %r" % (code, reason))
    rc = await bot.stop()
    expect(rc == 0, "exit status %r" % rc)


async def sc_slow_reader(args, bot):
    """A client that never reads is closed once its replies pile up; others are not held up."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", bot.port))
    slow = await websockets.connect(bot.chat_url, origin=bot.origin, sock=sock, max_queue=1,
                                    ping_interval=None, close_timeout=1, read_limit=2 ** 12)
    slow.transport.pause_reading()  # from here on it reads nothing
    fast = await bot.connect(local_addr=("127.0.0.2", 0))
    t0 = time.monotonic()
    for i in range(400):
        if slow.transport.is_closing():
            break
        try:
            await slow.send(json.dumps({"type": "ask", "id": "s%d" % i, "text": "is deep tissue massage painful?"}))
        except websockets.ConnectionClosed:
            break  # the bot closed it
        if i % 50 == 0:
            t1 = time.monotonic()
            await ask(fast, "hello", "f%d" % i)
            expect(time.monotonic() - t1 < 3, "the other chat is answered meanwhile")
    await until(lambda: "does not read its replies" in bot.log(), 20, "the slow chat to be closed")
    expect(time.monotonic() - t0 < 30, "in reasonable time")
    await ask(fast, "hello", "after")
    await fast.close()
    slow.transport.abort()


async def sc_config_errors(args, bot):
    """A bad WEB_* value stops run with 2 naming it; ask never minds them; a busy port is named."""
    base = dict(bot.env)
    for var, val in [("WEB_LISTEN", "nonsense"), ("WEB_MAX_FRAME", "1"), ("WEB_ALLOWED_ORIGINS", "evil.example"),
                     ("WEB_TRUSTED_PROXY", "proxy.local"), ("WEB_IDLE_TIMEOUT", "forever")]:
        env = dict(base, **{var: val})
        p = subprocess.run([args.mb, "run"], env=env, capture_output=True, text=True, cwd=bot.dir, timeout=30)
        expect(p.returncode == 2 and var in p.stderr, "%s=%s: exit %d, %s" % (var, val, p.returncode, p.stderr))
        p = subprocess.run([args.mb, "ask", "hello"], env=env, capture_output=True, text=True, cwd=bot.dir,
                           timeout=30)
        expect(p.returncode == 0, "ask with %s=%s: %d %s" % (var, val, p.returncode, p.stderr))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    env = dict(base, WEB_LISTEN="127.0.0.1:%d" % busy.getsockname()[1])
    p = subprocess.run([args.mb, "run"], env=env, capture_output=True, text=True, cwd=bot.dir, timeout=30)
    busy.close()
    expect(p.returncode == 2 and "WEB_LISTEN" in p.stderr, "a port in use: exit %d, %s" % (p.returncode, p.stderr))


async def sc_discord_and_web(args, bot):
    """Discord and the web chat in one process: one answer each, as `ask` gives it, and one
    knowledge reload that both see."""
    fake = bot.fake
    await fd.ready(fake)
    ws = await bot.connect()
    q = "what is swedish massage"
    want = ask_json(args.mb, [q], bot.env["KNOWLEDGE_DIR"])[0]["reply"]
    m = fd.message(q, channel=fd.CH_DM, guild=None)
    await fake.dispatch("MESSAGE_CREATE", m)
    r = await ask(ws, q, "w1")
    await fake.wait(lambda: fake.replies_to(m["id"]), 10, "the Discord reply")
    expect(fake.replies_to(m["id"])[0][2] == want, "Discord's reply is ask's")
    expect(r["text"] == want, "the web reply is ask's")
    # one reload: a new answer text, seen by both
    path = os.path.join(bot.env["KNOWLEDGE_DIR"], "swedish.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text.rstrip("\n") + " Reloaded marker 7341.\n")
    os.rename(path + ".tmp", path)
    await until(lambda: "knowledge rebuilt" in bot.log(), 15, "the reload")
    expect(bot.log().count("knowledge reloaded") == 1, "one reload")
    m = fd.message(q, channel=fd.CH_DM, guild=None)
    await fake.dispatch("MESSAGE_CREATE", m)
    r = await ask(ws, q, "w2")
    await fake.wait(lambda: fake.replies_to(m["id"]), 10, "the Discord reply after the reload")
    expect("Reloaded marker 7341" in fake.replies_to(m["id"])[0][2], "Discord sees the reload")
    expect("Reloaded marker 7341" in r["text"], "the web chat sees the same reload")
    await ws.close()


async def sc_conversation(args, bot):
    """A chat is a conversation: follow-ups read with its last answer, choices by title or number."""
    ws = await bot.connect()
    r = await ask(ws, "what is deep tissue massage?", "c1")
    expect(r["intent"] == "deep-tissue-massage", "first answer: %r" % r["intent"])
    r = await ask(ws, "and how often?", "c2")
    expect(r["intent"] == "session-frequency", "'and how often?' after deep tissue: %r" % r["intent"])
    # another chat has its own memory
    other = await bot.connect()
    r = await ask(other, "and how often?", "o1")
    expect(r["intent"] is None, "'and how often?' in a new chat stands alone: %r" % r["intent"])
    # the widget's choice buttons ask the title; a number works too
    r = await ask(other, "hours", "o2")
    expect([c["title"] for c in r.get("choices", [])] == ["Opening hours", "How long a session lasts"],
           "did you mean: %r" % r.get("choices"))
    r = await ask(other, r["choices"][1]["title"], "o3")
    expect(r["intent"] == "session-length", "the title of choice 2: %r" % r["intent"])
    third = await bot.connect()
    await ask(third, "hours", "t1")
    r = await ask(third, "1", "t2")
    expect(r["intent"] == "opening-hours", "'1' picks choice 1: %r" % r["intent"])
    for w in (ws, other, third):
        await w.close()


SCENARIOS = [
    ("pages", sc_pages, {}),
    ("conversation", sc_conversation, {}),
    ("replies_like_ask", sc_replies_like_ask, {}),
    ("order", sc_order, {"env": {"WEB_MESSAGES_PER_10S": "20"}}),
    ("bad_frames", sc_bad_frames, {}),
    ("frame_size", sc_frame_size, {}),
    ("rate_limit", sc_rate_limit, {"env": {"WEB_MESSAGES_PER_10S": "3"}}),
    ("address_rate", sc_address_rate, {"env": {"WEB_ADDRESS_MESSAGES_PER_10S": "4"}}),
    ("connection_caps", sc_connection_caps, {"env": {"WEB_MAX_PER_ADDRESS": "2", "WEB_MAX_CONNECTIONS": "3"}}),
    ("tcp_per_peer", sc_tcp_per_peer, {"env": {"WEB_MAX_PER_ADDRESS": "2", "WEB_HANDSHAKE_TIMEOUT": "2"}}),
    ("idle_timeout", sc_idle, {"env": {"WEB_IDLE_TIMEOUT": "5"}}),
    ("origin", sc_origin, {"env": {"WEB_ALLOWED_ORIGINS": "self, http://allowed.example"}}),
    ("forwarded_for", sc_forwarded_for, {"env": {"WEB_TRUSTED_PROXY": "127.0.0.1", "WEB_MAX_PER_ADDRESS": "1"}}),
    ("feedback_and_logs", sc_feedback_and_logs, {}),
    ("sigterm", sc_sigterm, {"stops": True}),
    ("slow_reader", sc_slow_reader, {"env": {"WEB_MESSAGES_PER_10S": "1000",
                                             "WEB_ADDRESS_MESSAGES_PER_10S": "1000"}}),
    ("config_errors", sc_config_errors, {"no_start": True}),
    ("discord_and_web", sc_discord_and_web, {"discord": True}),
]


def sanitizer_reports(log):
    return [line for line in log.splitlines()
            if "ERROR: AddressSanitizer" in line or "ERROR: LeakSanitizer" in line
            or "runtime error:" in line or "SUMMARY: UndefinedBehavior" in line]


async def run_one(args, name, fn, opts):
    t0 = time.monotonic()
    fake = None
    env = dict(opts.get("env", {}))
    knowledge = KNOWLEDGE
    tmpk = None
    if opts.get("discord"):
        fake = fd.Fake()
        await fake.start()
        tmpk = tempfile.mkdtemp(prefix="mb-web-kb-")
        knowledge = os.path.join(tmpk, "knowledge")
        shutil.copytree(os.path.join(HERE, "fixtures", "discord-knowledge"), knowledge)
        env.update({"DISCORD_TOKEN": fd.TOKEN, "DISCORD_API_BASE": fake.api})
    bot = Bot(args.mb, env, knowledge, "discord,web" if fake else "web")
    bot.fake = fake
    failures = []
    try:
        if not opts.get("no_start"):
            await bot.start()
        await asyncio.wait_for(fn(args, bot), 120)
        if not opts.get("no_start") and not opts.get("stops"):
            rc = await bot.stop()
            if rc != 0:
                failures.append("exit status %r after SIGTERM" % rc)
    except Fail as e:
        failures.append(str(e))
    except Exception:
        failures.append(traceback.format_exc())
    finally:
        bot.kill()
        if bot.proc and bot.proc.returncode is None:
            await bot.proc.wait()
        if fake:
            await fake.stop()
    log = bot.log() if bot.proc else ""
    failures += ["sanitizer: " + line for line in sanitizer_reports(log)]
    if fd.TOKEN in log:
        failures.append("the token appears in the log")
    took = time.monotonic() - t0
    if failures:
        print("FAIL %-20s (%.1f s)" % (name, took))
        for f in failures:
            print("    - " + f.rstrip().replace("\n", "\n      "))
        print("    log (last 30 lines):")
        for line in log.splitlines()[-30:]:
            print("      | " + line)
    else:
        print("ok   %-20s (%.1f s)" % (name, took))
    sys.stdout.flush()
    bot.cleanup()
    if tmpk:
        shutil.rmtree(tmpk, ignore_errors=True)
    return not failures


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", required=True)
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("WEB_TEST_JOBS", "3")))
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    args.mb = os.path.abspath(args.mb)
    unknown = set(args.names) - {s[0] for s in SCENARIOS}
    if unknown:
        print("unknown scenario(s): %s" % ", ".join(sorted(unknown)))
        return 2
    todo = [s for s in SCENARIOS if not args.names or s[0] in args.names]
    lanes = asyncio.Semaphore(max(1, args.jobs))
    failed = []

    async def one(name, fn, opts):
        async with lanes:
            if not await run_one(args, name, fn, opts):
                failed.append(name)
    t0 = time.monotonic()
    await asyncio.gather(*(one(*s) for s in todo))
    print("web: %d scenario(s), %d failed, %.1f s" % (len(todo), len(failed), time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
