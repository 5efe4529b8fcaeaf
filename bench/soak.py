#!/usr/bin/python3
"""soak: `make soak`.  Thousands of questions through the in-repo fake Discord
(tests/fake_discord.py) while the fake injects faults, against the real
`massagebot run`:

  gateway  connections dropped without a close frame (TCP reset, FIN, a frame
           cut in half), close codes 4000/4001/4008 (resume) and 4009 (new
           session), op 7, heartbeat ACKs delayed (mostly a little, sometimes
           past the point where the bot must call the connection a zombie);
  REST     429s with retry_after (per route and global), emptied rate-limit
           buckets, 5xx (half of them after the fake already created the
           message, so the retry must not post twice), connections cut before
           the answer, slow answers; GET /gateway/bot fails once at start;
  files    the knowledge folder (a copy of knowledge/ given as KNOWLEDGE_DIR)
           edited every few seconds: a canary answer rewritten in place or by
           rename with a new revision marker, other files touched or rewritten,
           and twice a broken canary (a YAML error, then a missing field) that
           is fixed a few seconds later.

Checks, per run: every question answered exactly once (by nonce; a POST the
fake recorded before failing counts once), in question order per channel, with
the reply `massagebot ask` gives (the canary with a revision that never goes
back and is never a broken one, and the last revision once it is loaded);
the web chat beside Discord in the same process (BOT_PLATFORM=discord,web;
--no-web leaves it out): 20 chats asking throughout, each a few questions
then a new chat, every question answered once and in order, the first of
each chat as `ask` answers it;
nothing answered that should not be; every fault type injected and the bot
back after each (RESUME, or IDENTIFY after 4009); no false zombie; exit 0 on
SIGTERM with a final close 1000; the token never in the log; no sanitizer or
valgrind report.

Four runs: `opt` (build/massagebot over plain ws:// and http://, 10,000
questions), `opt-tls` (the same over TLS: wss://, https://, a throwaway CA
made with openssl that the bot trusts through SSL_CERT_FILE, faults and
all) and `asan-tls` (the ASan+UBSan build over TLS, 10,000 questions) side
by side, then `valgrind-tls` (the optimised build under valgrind, over TLS,
1,000 questions).  Memory is checked on the opt runs, the binary that
ships: VmRSS after warm-up (median of the samples while questions 15-25%
are answered) against the end (median over 8 s after the last reply, edits
still going), failing if it grew by more than 5 MB or 20%; both figures are
printed beside the 20 MB target.  asan and valgrind report theirs
unchecked: ASan's quarantine (set to 16 MB), allocation-stack depot and
allocator keep growing for a long time on their own, and valgrind's are
its own.

Waits are deadlines on conditions; the only sleeps pace the question feed and
space the faults.  Faults are spaced so the bot's reconnect backoff (0.5-1 s
doubling, reset after a session held a minute) stays short: a few reconnects,
then a session held > 60 s.  A new-session fault (4009) first makes sure the
bot has read every event of the session (op 1, then a heartbeat carrying the
last seq): Discord does not replay a dead session, so a question sent just
before it could never be answered, which would be the fake's fault, not the
bot's.

usage: soak.py [--san build/san/massagebot] [--opt build/massagebot]
               [--questions N] [--duration S] [--vg-questions N] [--vg-duration S]
               [--only opt|opt-tls|asan-tls|valgrind-tls] [--sequential] [--seed N]
Bot logs and VmRSS samples: build/soak/<run>.log, .rss.  Prints
`soak: N passed, M failed`.
"""

import argparse
import asyncio
import json
import socket
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.dont_write_bytecode = True  # no __pycache__ in tests/
import fake_discord as fd  # noqa: E402
import websockets  # noqa: E402

now = fd.now
BOT_ID = fd.BOT_ID
LISTED = ["2100000000000000001", "2100000000000000002", "2100000000000000003"]
MENTION = ["2100000000000000011", "2100000000000000012"]
DMS = ["2100000000000000021", "2100000000000000022", "2100000000000000023"]
UNLISTED = "2100000000000000031"
CHANNELS = LISTED + MENTION + DMS
CANARY = os.path.join("about", "thanks.md")
OTHERS = [os.path.join("massage", "swedish-massage.md"), os.path.join("self-care", "posture.md"),
          "synonyms.txt"]
MARK = "soakcanary"
BROKEN_CODE = "zzz"
RECONNECT_FAULTS = ["abort", "eof", "partial", "close4000", "close4001", "close4008",
                    "close4009", "zombie", "op7"]
MAX_CHAIN = 4        # reconnects in a row before holding a session past 60 s
HELD_S = 62          # the bot resets its backoff after a session held 60 s
WEB_CHATS = 20       # web visitors at once, beside Discord


def code(rev):
    a, r = divmod(rev, 26 * 26)
    b, c = divmod(r, 26)
    return "abcdefghijklmnopqrstuvwxyz"[a] + "abcdefghijklmnopqrstuvwxyz"[b] + \
        "abcdefghijklmnopqrstuvwxyz"[c]


def uncode(s):
    v = 0
    for ch in s:
        v = v * 26 + (ord(ch) - 97)
    return v


def norm(s):
    return re.sub(r"\s+", "", s or "")


def vmrss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def ok(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print("ok   " + what)
        else:
            self.failed.append(what)
            print("FAIL " + what + (": " + detail if detail else ""))
        sys.stdout.flush()
        return cond


# ---- the knowledge copy --------------------------------------------------------

class Knowledge:
    """A copy of knowledge/ whose canary answer carries a revision marker."""

    def __init__(self, src, dst):
        self.dir = dst
        shutil.copytree(src, dst)
        self.path = os.path.join(dst, CANARY)
        with open(self.path, encoding="utf-8") as f:
            text = f.read()
        m = re.match(r"(---\n.*?\n---\n)(.*)", text, re.S)
        self.front, self.body = m.group(1), m.group(2).rstrip("\n")
        self.rev = 0
        self.write(self.text(code(0)), "inplace")
        self.questions = re.findall(r"^  - (.+)$", self.front.split("tags:")[0], re.M)

    def text(self, c, front=None):
        return (front or self.front) + self.body + "\n\n" + MARK + c + "\n"

    def write(self, text, mode, path=None):
        path = path or self.path
        if mode == "inplace":
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        else:  # a dot file (ignored by the watcher), then rename over
            tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.rename(tmp, path)

    def revise(self, mode):
        self.rev += 1
        self.write(self.text(code(self.rev)), mode)

    def break_yaml(self):
        self.write(self.text(BROKEN_CODE, self.front.replace("title: Thanks", "title: [Thanks")),
                   "inplace")

    def break_field(self):
        self.write(self.text(BROKEN_CODE, re.sub(r"(?m)^source:.*\n", "", self.front)), "rename")

    def touch(self, rel):
        open(os.path.join(self.dir, rel), "a").close()

    def rewrite(self, rel):
        p = os.path.join(self.dir, rel)
        with open(p, encoding="utf-8") as f:
            text = f.read()
        self.write(text, "rename", p)


def expected_replies(mb, kdir, questions):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KNOWLEDGE_DIR": kdir,
           "LOG_LEVEL": "error", "ASAN_OPTIONS": "detect_leaks=0"}
    out = subprocess.run([mb, "ask", "--json"], input="\n".join(questions) + "\n",
                         capture_output=True, text=True, env=env, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == len(questions), (len(lines), len(questions))
    return {q: json.loads(l) for q, l in zip(questions, lines)}


def question_pool():
    pool = []
    for name in ("questions.tsv", "holdout.tsv", "safety.tsv"):
        with open(os.path.join(ROOT, "tests", "data", name), encoding="utf-8") as f:
            for line in f:
                if not line.strip() or line.startswith("#"):
                    continue
                q = line.rstrip("\n").split("\t")[0].strip()
                if q and re.search(r"[A-Za-z0-9]", q) and "<@" not in q and MARK not in q.lower():
                    pool.append(q)
    return sorted(set(pool))


# ---- the fake, with faults -------------------------------------------------------

class Q:
    __slots__ = ("idx", "id", "ch", "text", "canary", "seq", "t", "parts", "first_t")

    def __init__(self, idx, mid, ch, text, canary):
        self.idx, self.id, self.ch, self.text, self.canary = idx, mid, ch, text, canary
        self.seq = None
        self.t = None
        self.parts = {}     # chunk -> content
        self.first_t = None


class SoakFake(fd.Fake):
    def __init__(self, hb_ms, rng, faults=True, pki=None):
        super().__init__(hb_ms=hb_ms, pki=pki)
        self.rng = rng
        self.faults = faults
        self.hold = asyncio.Event()
        self.hold.set()              # set: the feeder may send
        self.tasks = set()
        self.qs = {}                 # message id -> Q
        self.ignored = set()         # ids that must get no reply
        self.order = {}              # channel -> ids of the first parts, in creation order
        self.extra = []              # created messages that answer nothing we asked
        self.dup_parts = []          # (id, chunk) created twice
        self.complete = 0
        self.last_progress = now()
        self.rest = {"429": 0, "429_global": 0, "5xx": 0, "5xx_recorded": 0, "drop": 0,
                     "drop_recorded": 0, "bucket": 0, "slow": 0, "gateway_bot_503": 0}
        self.nonce_faults = {}
        self.acks_delayed = 0
        self.zombie_faults = 0
        self.posts_bad = []
        self.expect = None            # fn(Q) -> bool: is the reply complete and right
        self.rest_hook = self._rest_faults
        self.first_get = True

    def spawn(self, coro):
        t = asyncio.ensure_future(coro)
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)

    # gateway: live connections, replay on RESUME, delayed ACKs
    async def _on_frame(self, c, f):
        op = f.get("op")
        if op == 1:
            delay = getattr(c, "force_ack_delay", None)
            c.force_ack_delay = None
            if delay is None and self.faults and self.rng.random() < 0.3:
                delay = self.rng.uniform(0.03, 0.3) * self.hb_ms / 1000
            if delay:
                self.acks_delayed += 1

                async def later():
                    await asyncio.sleep(delay)
                    if c.open:
                        await c.send({"op": 11})
                self.spawn(later())
            else:
                await c.send({"op": 11})
        elif op == 2:
            await super()._on_frame(c, f)
            if c.open and c.identify and not self.identify_close:
                c.live, c.live_t = True, now()
                self.poke()
        elif op == 6:
            c.resume = f
            d = f.get("d") or {}
            if d.get("session_id") != self.session or d.get("token") != fd.TOKEN:
                await c.send({"op": 9, "d": False})
                return
            have = d.get("seq") or 0
            i = 0
            while i < len(self.events):  # the list may grow while we send
                seq, name, ev, raw = self.events[i]
                i += 1
                if seq > have:
                    await c.send({"op": 0, "s": seq, "t": name, "d": ev})
            c.live, c.live_t = True, now()
            await self.dispatch("RESUMED", {}, c)
            self.poke()
        else:
            await super()._on_frame(c, f)

    def live(self):
        c = self.conn
        return c if c and c.open and getattr(c, "live", False) else None

    async def send_event(self, name, d):
        self.seq += 1
        self.events.append((self.seq, name, d, None))
        c = self.live()
        if c:
            await c.send({"op": 0, "s": self.seq, "t": name, "d": d})
        return self.seq

    # REST: faults, and bookkeeping of what was created
    async def _rest_faults(self, req):
        if req.method == "GET":
            if self.faults and self.first_get:
                self.first_get = False
                self.rest["gateway_bot_503"] += 1
                return 503, {}, {"message": "503: Service Unavailable", "code": 0}
            return None
        m = re.fullmatch(r"/api/v10/channels/(\d+)/messages", req.path)
        body = req.json if isinstance(req.json, dict) else {}
        nonce = body.get("nonce")
        if not (m and isinstance(nonce, str) and body.get("enforce_nonce") is True):
            self.posts_bad.append((req.path, req.body[:200]))
            return None
        if not self.faults:
            return None
        ch = m.group(1)
        nf = self.nonce_faults.setdefault(nonce, [0, 0])  # [5xx and drops, 429s]
        r = self.rng.random()
        if r < 0.04 and nf[1] < 2:
            nf[1] += 1
            ra = round(self.rng.uniform(0.01, 0.25), 3)
            glob = self.rng.random() < 0.1
            self.rest["429_global" if glob else "429"] += 1
            hdrs = {"Retry-After": "1", "X-RateLimit-Scope": "shared" if glob else "user"}
            if glob:
                hdrs["X-RateLimit-Global"] = "true"
            return 429, hdrs, {"message": "You are being rate limited.", "retry_after": ra,
                               "global": glob}
        if r < 0.07 and nf[0] < 2:
            nf[0] += 1
            self.rest["5xx"] += 1
            if self.rng.random() < 0.5:
                self.rest["5xx_recorded"] += 1
                self.create(ch, body)
            st = self.rng.choice([500, 502, 503, 504])
            out = b"<html>bad gateway</html>" if st == 502 else {"message": "%d" % st, "code": 0}
            return st, {}, out
        if r < 0.08 and nf[0] < 2:
            nf[0] += 1
            self.rest["drop"] += 1
            if self.rng.random() < 0.5:
                self.rest["drop_recorded"] += 1
                self.create(ch, body)
            raise ConnectionResetError("soak: connection cut before the answer")
        if r < 0.11:
            self.rest["bucket"] += 1
            return 200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Limit": "5",
                         "X-RateLimit-Reset-After": "%.3f" % self.rng.uniform(0.05, 0.3),
                         "X-RateLimit-Bucket": "soak-" + ch}, self.create(ch, body)
        if r < 0.12:
            self.rest["slow"] += 1
            await asyncio.sleep(self.rng.uniform(0.1, 0.6))
        return None

    def create(self, channel, body):
        n = len(self.created_order)
        msg = super().create(channel, body)
        if len(self.created_order) == n:
            return msg  # the same nonce again: Discord returns the first message
        nonce = body.get("nonce") or ""
        mid, _, chunk = nonce.rpartition(".")
        q = self.qs.get(mid)
        if q is None or q.ch != channel or not chunk.isdigit():
            self.extra.append((channel, nonce, (body.get("content") or "")[:80]))
            return msg
        k = int(chunk)
        if k in q.parts:
            self.dup_parts.append((mid, k))
            return msg
        was = self.expect(q)
        q.parts[k] = body.get("content") or ""
        if k == 0:
            q.first_t = now()
            self.order.setdefault(channel, []).append(mid)
        if not was and self.expect(q):
            self.complete += 1
            self.last_progress = now()
        self.poke()
        return msg


class LogTail:
    def __init__(self, path):
        self.path, self.off, self.text = path, 0, ""

    def read(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except OSError:
            return self.text
        self.off += len(data)
        self.text += data.decode("utf-8", "replace")
        return self.text

    def count(self, pat):
        return len(re.findall(pat, self.read()))


class SoakBot(fd.Bot):
    def __init__(self, args, fake, cmd, env, log_level):
        super().__init__(args, fake, channels=",".join(LISTED), env=env)
        self.cmd = cmd
        self.env["LOG_LEVEL"] = log_level

    async def start(self):
        self.logf = open(self.log_path, "wb")
        self.proc = await asyncio.create_subprocess_exec(
            *self.cmd, "run", cwd=self.dir, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self.logf)
        self.started = now()


# ---- one run ---------------------------------------------------------------------

class Run:
    def __init__(self, name, cmd, args, n, duration, hb_ms, env, expected, canary_qs, pool,
                 seed, rss_check, slow=1.0, pki=None):
        self.name, self.cmd, self.args = name, cmd, args
        self.pki = pki  # over TLS with its certificates, else plain
        self.n, self.duration, self.hb_ms = n, duration, hb_ms
        self.env, self.expected, self.canary_qs, self.pool = env, expected, canary_qs, pool
        self.rng = random.Random(seed)
        self.rss_check = rss_check
        self.slow = slow  # deadline multiplier (valgrind)
        self.faults_done = []      # (kind, outcome)
        self.edits = {"canary": 0, "touch": 0, "rewrite": 0, "broken": 0}
        self.final_idx = None
        self.expected = expected
        self.final_rev = None
        self.break_errors = []
        self.rss = {}
        self.stop_feed = False
        self.done = False
        self.problems = []
        self.web = {"chats": 0, "asked": 0, "answered": 0, "wrong": [], "disorder": [], "lat": []}

    def say(self, msg):
        print("%s: %s" % (self.name, msg))
        sys.stdout.flush()

    # the plan: which question goes where.  The bot remembers conversations
    # (a follow-up is read with the answer before it), which `ask` cannot
    # know: so each question comes from a person of its own in the guild
    # channels (memory is per person there), and in a DM of its own (a DM
    # channel is one person)
    def plan(self):
        out = []
        for i in range(self.n):
            ch = self.rng.choice(CHANNELS)
            if ch in DMS:
                ch = "22%017d" % i
            canary = i == self.n - 1 or self.rng.random() < 0.04
            text = self.rng.choice(self.canary_qs if canary else self.pool)
            out.append((ch, text, canary))
        return out

    def message_for(self, ch, text, mid=None):
        author = "43%017d" % self.rng.randrange(10 ** 17)  # someone new
        if ch in MENTION:
            return fd.message("<@%s> %s" % (BOT_ID, text), channel=ch, mentions=[BOT_ID],
                              mid=mid, author=author)
        if ch.startswith("22"):
            return fd.message(text, channel=ch, guild=None, mid=mid, author=author)
        return fd.message(text, channel=ch, mid=mid, author=author)

    def ignored_message(self):
        k = self.rng.randrange(4)
        text = self.rng.choice(self.pool)
        if k == 0:
            return "MESSAGE_CREATE", fd.message(text, channel=self.rng.choice(LISTED),
                                                author=fd.OTHER_BOT, bot=True)
        if k == 1:
            return "MESSAGE_CREATE", fd.message(text, channel=UNLISTED)
        if k == 2:
            return "MESSAGE_UPDATE", fd.message(text, channel=self.rng.choice(LISTED))
        return "MESSAGE_CREATE", fd.message(text, channel=self.rng.choice(DMS), guild=None,
                                            author=BOT_ID)

    def check_reply(self, q):
        """Is q's reply complete and equal to what `ask` says (canary: any revision)?"""
        if 0 not in q.parts:
            return False
        got = norm("".join(q.parts[k] for k in sorted(q.parts)))
        if q.canary:
            return bool(self.canary_re[q.text].fullmatch(got))
        return got == self.want[q.text]

    async def feeder(self, fake, plan):
        t0 = t_begin = now()
        i = 0
        next_burst = t0 + self.rng.uniform(10, 25)
        while i < len(plan):
            await fake.hold.wait()
            due = int((now() - t0) / self.duration * len(plan)) + 1
            if now() >= next_burst:
                due = i + self.rng.randint(50, 150)
                next_burst = now() + self.rng.uniform(15, 30)
                t0 -= (due - i) * self.duration / len(plan)  # keep the overall pace
            while i < min(due, len(plan)):
                if not fake.hold.is_set():
                    break
                if i == len(plan) - 1 and self.final_idx is None:
                    break  # the last question, a canary, asks the final revision
                ch, text, canary = plan[i]
                m = self.message_for(ch, text)
                q = Q(i, m["id"], ch, text, canary)
                fake.qs[q.id] = q
                q.t = now()
                q.seq = await fake.send_event("MESSAGE_CREATE", m)
                i += 1
                self.sent = i
                if self.rng.random() < 0.02:
                    name, ign = self.ignored_message()
                    fake.ignored.add(ign["id"])
                    await fake.send_event(name, ign)
            await asyncio.sleep(0.02)
        self.say("all %d questions sent in %.1f s" % (len(plan), now() - t_begin))

    def web_reply_ok(self, text, q):
        if q in self.canary_re:
            return bool(self.canary_re[q].fullmatch(norm(text)))
        return norm(text) == self.want[q]

    async def web_chat(self, port, k):
        """One web visitor after another: a chat, a few questions, then a new
        chat, until the feed stops.  The first question of a chat stands alone
        (later ones may be read as follow-ups), so its reply must be ask's."""
        w = self.web
        rng = random.Random(self.rng.random())
        # what the widget can send: a frame within WEB_MAX_FRAME (4 KiB)
        web_pool = [q for q in self.pool + self.canary_qs
                    if len(json.dumps({"type": "ask", "id": "s00-00000", "text": q}).encode()) <= 4096]
        while not self.stop_feed:
            try:
                ws = await websockets.connect("ws://127.0.0.1:%d/chat" % port,
                                              origin="http://127.0.0.1:%d" % port,
                                              local_addr=("127.0.0.%d" % (2 + k), 0),
                                              ping_interval=None, max_size=None)
            except (OSError, websockets.WebSocketException) as e:
                self.problems.append("web: chat %d could not connect: %s" % (k, e))
                return
            w["chats"] += 1
            try:
                hello = json.loads(await ws.recv())
                if hello.get("type") != "hello":
                    w["disorder"].append(("hello", hello))
                for i in range(rng.randint(1, 6)):
                    if self.stop_feed:
                        break
                    q = rng.choice(web_pool)
                    ask_id = "s%d-%d" % (k, w["asked"])
                    w["asked"] += 1
                    t0 = now()
                    await ws.send(json.dumps({"type": "ask", "id": ask_id, "text": q}))
                    while True:
                        m = json.loads(await asyncio.wait_for(ws.recv(), 60 * self.slow))
                        if m.get("type") in ("reply", "error"):
                            break
                    w["lat"].append(now() - t0)
                    if m.get("type") != "reply" or m.get("id") != ask_id:
                        w["disorder"].append((ask_id, m.get("type"), m.get("id"), m.get("error")))
                        continue
                    w["answered"] += 1
                    if i == 0 and not self.web_reply_ok(m["text"], q):
                        w["wrong"].append((q, m["text"][:120]))
                    await asyncio.sleep(rng.uniform(0.2, 1.5))
            except (asyncio.TimeoutError, websockets.ConnectionClosed) as e:
                w["disorder"].append(("chat %d" % k, repr(e)))
            finally:
                await ws.close()

    async def wait_live(self, fake, old, timeout):
        return await fake.wait(lambda: fake.conn is not old and fake.live(), timeout,
                               "the bot back on a live session")

    async def gateway_faults(self, fake):
        deck = []
        chain = 1  # the first GET /gateway/bot failed
        while not self.stop_feed:
            c = fake.live()
            if c is None:
                await fake.wait_quiet(lambda: fake.live() or self.stop_feed, 1)
                continue
            if chain >= MAX_CHAIN:
                # hold this session past a minute: the bot's backoff starts over
                await fake.wait_quiet(lambda: self.stop_feed or fake.live() is not c or
                                      now() - c.live_t >= HELD_S, HELD_S + 5)
                if fake.live() is c and now() - c.live_t >= HELD_S:
                    chain = 0
                continue
            pause = self.rng.uniform(1.0, 4.0)
            await fake.wait_quiet(lambda: self.stop_feed or fake.live() is not c, pause)
            if self.stop_feed or fake.live() is not c:
                continue
            if not deck:
                # the first round starts with the kinds a short run must see;
                # later rounds hold a second zombie and a second reset
                first = ["abort", "close4009", "zombie"] if not self.faults_done else []
                deck = [k for k in RECONNECT_FAULTS if k not in first] + \
                    (["zombie", "abort"] if self.faults_done else [])
                self.rng.shuffle(deck)
                self.rng.shuffle(first)
                deck += first
            kind = deck.pop()
            new_session = kind == "close4009"
            if new_session:
                fake.hold.clear()
                target = fake.seq
                n = len(c.heartbeats())
                await c.send({"op": 1, "d": None})
                ok = await fake.wait_quiet(
                    lambda: any((h.get("d") or 0) >= target for _, h in c.heartbeats()[n:]),
                    15 * self.slow)
                if not ok or fake.live() is not c:
                    fake.hold.set()
                    self.problems.append("4009: the bot did not confirm seq %d in time" % target)
                    continue
            t0 = now()
            if kind == "abort":
                c.ws.transport.abort()
            elif kind == "eof":
                c.ws.transport.close()
            elif kind == "partial":
                payload = json.dumps({"op": 0, "s": fake.seq + 1, "t": "MESSAGE_CREATE",
                                      "d": {"content": "x" * 400}}).encode()
                c.ws.transport.write(b"\x81\x7e" + len(payload).to_bytes(2, "big") + payload[:150])
                c.ws.transport.abort()
            elif kind.startswith("close"):
                await c.close(int(kind[5:]), "soak")
            elif kind == "op7":
                await c.send({"op": 7, "d": None})
            elif kind == "zombie":
                fake.zombie_faults += 1
                c.force_ack_delay = self.rng.uniform(1.2, 2.0) * self.hb_ms / 1000
            try:
                c2 = await self.wait_live(fake, c, 120 * self.slow)
            except fd.Fail:
                self.faults_done.append((kind, "no new session within %.0f s" % (120 * self.slow)))
                fake.hold.set()
                return
            outcome = "identify" if c2.resume is None else "resume"
            self.faults_done.append((kind, outcome, round(now() - t0, 2)))
            fake.hold.set()
            chain += 1

    async def edits_loop(self, fake, kb, log):
        cycle = ["canary_inplace", "touch", "canary_rename", "rewrite"]
        k = 0
        breaks = [int(self.n * 0.35), int(self.n * 0.65)]
        final_at = int(self.n * 0.85)

        async def settle(what, since, good=True):
            pat = r"knowledge reloaded" if good else r"still serving the previous"
            try:
                await fake.wait(lambda: re.search(pat, log.read()[since:]), 20 * self.slow,
                                "the reload after %s" % what)
            except fd.Fail as e:
                self.problems.append(str(e))

        # runs until the very end, so the last memory samples see reloads as the
        # warm-up ones did
        while not self.done:
            await fake.wait_quiet(lambda: self.done, self.rng.uniform(2.0, 4.0))
            if self.done:
                break
            sent = getattr(self, "sent", 0)
            if breaks and sent >= breaks[0]:
                breaks.pop(0)
                t_break = len(log.read())
                (kb.break_yaml if self.edits["broken"] == 0 else kb.break_field)()
                self.edits["broken"] += 1
                await settle("a broken file", t_break, good=False)
                after = log.read()[t_break:]
                self.break_errors.append(re.findall(r"reload: \S*about/thanks\.md:\d+:\d+: [^\n]*",
                                                    after))
                await fake.wait_quiet(lambda: self.stop_feed, 3.0)  # questions flow meanwhile
                t = len(log.read())
                kb.revise("inplace")
                self.edits["canary"] += 1
                await settle("the fix", t)
                continue
            if self.final_idx is None and sent >= final_at:
                t = len(log.read())
                kb.revise("rename")
                self.edits["canary"] += 1
                await settle("the final revision", t)
                self.final_rev = kb.rev
                self.final_idx = getattr(self, "sent", 0)
                self.say("final canary revision %d in use from question %d" % (
                    kb.rev, self.final_idx))
                continue
            act = cycle[k % len(cycle)]
            if self.final_idx is not None:  # the last revision must stay
                act = "touch" if act.startswith("canary") else act
            k += 1
            t = len(log.read())
            if act.startswith("canary"):
                kb.revise("inplace" if act == "canary_inplace" else "rename")
                self.edits["canary"] += 1
            elif act == "touch":
                kb.touch(self.rng.choice(OTHERS))
                self.edits["touch"] += 1
            else:
                kb.rewrite(self.rng.choice(OTHERS))
                self.edits["rewrite"] += 1
            await settle(act, t)

    async def sampler(self, fake, bot):
        """VmRSS twice a second: (seconds, questions answered, kB)."""
        t0 = now()
        samples = self.rss["samples"] = []
        while not self.done:
            r = vmrss_kb(bot.proc.pid)
            if r:
                samples.append((now() - t0, fake.complete, r))
            await asyncio.sleep(0.5)

    async def progress(self, fake, log):
        t0 = now()
        while not self.done:
            await fake.wait_quiet(lambda: self.done, 15)
            if self.done:
                break
            self.say("%5.0f s: sent %d, answered %d, faults %d, reconnects %d, zombies %d, "
                     "reloads %d, 429s %d, 5xx %d" % (
                         now() - t0, getattr(self, "sent", 0), fake.complete,
                         len(self.faults_done), len(fake.conns) - 1,
                         log.count(r"the connection is a zombie"),
                         log.count(r"knowledge reloaded"),
                         fake.rest["429"] + fake.rest["429_global"], fake.rest["5xx"]))

    async def run(self, checks):
        name = self.name
        print("== soak %s" % name)
        workdir = tempfile.mkdtemp(prefix="mb-soak-")
        kb = Knowledge(os.path.join(ROOT, "knowledge"), os.path.join(workdir, "knowledge"))
        # what `ask` says on this copy (computed once on an identical copy); the
        # canary's replies with any revision marker
        self.want = self.expected
        self.canary_re = {q: re.compile(re.escape(self.want[q]).replace(
            MARK + code(0), MARK + "([a-z]{3})")) for q in self.canary_qs}
        plan = self.plan()

        fake = SoakFake(self.hb_ms, random.Random(self.rng.random()), faults=True, pki=self.pki)
        fake.expect = self.check_reply
        await fake.start()
        args = argparse.Namespace(mb=self.cmd[-1], knowledge=kb.dir)
        env = dict(self.env)
        web_port = None
        if self.args.web:
            sk = socket.socket()
            sk.bind(("127.0.0.1", 0))
            web_port = sk.getsockname()[1]
            sk.close()
            env.update({"BOT_PLATFORM": "discord,web", "WEB_LISTEN": "127.0.0.1:%d" % web_port,
                        "WEB_MESSAGES_PER_10S": "100", "WEB_IDLE_TIMEOUT": "600"})
        bot = SoakBot(args, fake, self.cmd, env, self.args.log_level)
        log = LogTail(bot.log_path)
        self.say("%d questions in %d guild channels (%d listed, %d mention; each from its own "
                 "person) and DMs (%d in %d of the time, one question each) in ~%d s, "
                 "heartbeat %d ms, %s" % (self.n, len(LISTED + MENTION), len(LISTED),
                                          len(MENTION), len(DMS), len(CHANNELS),
                                          self.duration, self.hb_ms, " ".join(self.cmd)))
        t_start = now()
        await bot.start()
        tasks = []
        web_tasks = []
        try:
            try:
                await fake.wait(lambda: fake.live(), 60 * self.slow, "READY")
            except fd.Fail as e:
                checks.ok(False, "%s: the bot connects" % name, str(e))
                raise
            self.say("connected after %.1f s" % (now() - t_start))
            tasks = [asyncio.ensure_future(x) for x in (
                self.gateway_faults(fake), self.edits_loop(fake, kb, log),
                self.sampler(fake, bot), self.progress(fake, log))]
            web_tasks = [asyncio.ensure_future(self.web_chat(web_port, k))
                         for k in range(WEB_CHATS if web_port else 0)]
            await self.feeder(fake, plan)
            # every question answered: a deadline that moves with progress
            fake.last_progress = now()
            stall = 90 * self.slow
            await fake.wait_quiet(lambda: fake.complete >= self.n or
                                  now() - fake.last_progress > stall, 1800)
            if fake.complete < self.n:
                self.say("no progress for %.0f s with %d questions unanswered; stopping" % (
                    stall, self.n - fake.complete))
            t_all = now()
            self.stop_feed = True
            answered = fake.complete
            for t in web_tasks:
                try:
                    await asyncio.wait_for(t, 90 * self.slow)
                except asyncio.TimeoutError:
                    t.cancel()
                    self.problems.append("web: a chat did not finish")
            # the end: every question answered, no more faults, edits still
            # going; samples over 8 s
            end = []
            for _ in range(17):
                r = vmrss_kb(bot.proc.pid)
                if r:
                    end.append(r)
                await asyncio.sleep(0.5)
            self.rss["end"] = end
            self.done = True
            for t in tasks:
                try:
                    await asyncio.wait_for(t, 30 * self.slow)
                except (asyncio.TimeoutError, fd.Fail):
                    t.cancel()
            t_stop = now()
            rc = await bot.stop(timeout=60 * self.slow)
            t_end = now()
            if fake.conns:
                await fake.wait_quiet(lambda: not fake.conns[-1].open, 5)
        except fd.Fail:
            self.done = True
            self.stop_feed = True
            for t in tasks + web_tasks:
                t.cancel()
            bot.kill()
            await bot.proc.wait()
            await fake.stop()
            self.save_log(bot)
            bot.cleanup()
            shutil.rmtree(workdir, ignore_errors=True)
            return
        await fake.stop()
        text = log.read()
        self.save_log(bot)
        self.report(checks, fake, text, rc, answered, t_start, t_all, t_stop, t_end)
        bot.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)

    def save_rss(self, samples, end):
        path = os.path.join(ROOT, "build", "soak", self.name + ".rss")
        with open(path, "w") as f:
            f.write("# seconds\tanswered\tVmRSS kB (then the quiet samples at the end)\n")
            for t, c, r in samples:
                f.write("%.1f\t%d\t%d\n" % (t, c, r))
            for r in end:
                f.write("end\t%d\t%d\n" % (self.n, r))

    def save_log(self, bot):
        os.makedirs(os.path.join(ROOT, "build", "soak"), exist_ok=True)
        dst = os.path.join(ROOT, "build", "soak", self.name + ".log")
        shutil.copyfile(bot.log_path, dst)
        self.say("bot log: %s" % os.path.relpath(dst, ROOT))

    def report(self, checks, fake, log, rc, answered, t_start, t_all, t_stop, t_end):
        name = self.name
        qs = sorted(fake.qs.values(), key=lambda q: q.idx)
        missing = [q for q in qs if 0 not in q.parts]
        wrong = [q for q in qs if 0 in q.parts and not self.check_reply(q)]
        checks.ok(answered == self.n and not missing,
                  "%s: every question answered (%d of %d)" % (name, answered, self.n),
                  "no reply to %d, e.g. %s" % (len(missing), [(q.id, q.text) for q in missing[:3]]))
        checks.ok(not fake.dup_parts and not fake.extra,
                  "%s: nothing answered twice (%d messages created for %d questions; %d POSTs "
                  "repeated after the fake had created the message, returned once)" % (
                      name, len(fake.created_order), self.n, len(fake.dup_after_success)),
                  "duplicates %s, unexpected %s" % (fake.dup_parts[:5], fake.extra[:5]))
        replied = {(n or "").rpartition(".")[0] for _, _, n, _ in fake.created_order}
        bad_ign = sorted(fake.ignored & replied)
        checks.ok(not bad_ign, "%s: no reply to the %d messages that must be ignored" % (
            name, len(fake.ignored)), str(bad_ign[:5]))
        checks.ok(not fake.posts_bad, "%s: every POST carries a nonce with enforce_nonce" % name,
                  str(fake.posts_bad[:3]))
        disorder = []
        for ch in LISTED + MENTION:  # a DM holds one question
            sent = [q.id for q in qs if q.ch == ch]
            got = fake.order.get(ch, [])
            if got != sent[:len(got)] or len(got) != len(sent):
                for j, (a, b) in enumerate(zip(got, sent)):
                    if a != b:
                        disorder.append((ch, j, a, b))
                        break
                else:
                    disorder.append((ch, "count", len(got), len(sent)))
        checks.ok(not disorder, "%s: replies in question order in each of the %d channels" % (
            name, len(LISTED + MENTION)), str(disorder[:4]))
        checks.ok(not wrong, "%s: every reply is the one `massagebot ask` gives" % name,
                  "%d differ, e.g. %r" % (len(wrong), [(q.text, q.parts.get(0, "")[:120])
                                                       for q in wrong[:2]]))
        # the canary: revisions in question order never go back, never a broken one
        revs = []
        for q in qs:
            if q.canary and 0 in q.parts:
                text = norm("".join(q.parts[k] for k in sorted(q.parts)))
                m = self.canary_re[q.text].fullmatch(text)
                if m:
                    revs.append((q.idx, m.group(1)))
        codes = [c for _, c in revs]
        checks.ok(BROKEN_CODE not in codes, "%s: a broken knowledge version was never served" %
                  name)
        nums = [uncode(c) for c in codes if c != BROKEN_CODE]
        checks.ok(all(a <= b for a, b in zip(nums, nums[1:])),
                  "%s: canary revisions never go back (%d canary replies, %d revisions seen)" % (
                      name, len(nums), len(set(nums))), str(nums))
        late = [uncode(c) for i, c in revs if self.final_idx is not None and i >= self.final_idx]
        checks.ok(self.final_idx is not None and late and all(r == self.final_rev for r in late),
                  "%s: the last edit is served once reloaded (revision %s, %d replies after it)" % (
                      name, self.final_rev, len(late)), "revisions after it: %s" % late[:10])
        checks.ok(len(self.break_errors) == 2 and all(self.break_errors),
                  "%s: each broken file is reported with file:line:col (%s)" % (
                      name, "; ".join(e[0].split(": ", 1)[1] if e else "-"
                                      for e in self.break_errors)),
                  str(self.break_errors))
        n_ok = len(re.findall(r"knowledge reloaded", log))
        n_bad = len(re.findall(r"still serving the previous", log))
        n_edits = self.edits["canary"] + self.edits["touch"] + self.edits["rewrite"]
        checks.ok(n_ok >= n_edits and n_bad >= self.edits["broken"],
                  "%s: %d knowledge edits, %d reloads, %d broken versions refused" % (
                      name, n_edits + self.edits["broken"], n_ok, n_bad))
        # gateway faults
        kinds = {f[0] for f in self.faults_done}
        lost = [f for f in self.faults_done if len(f) < 3]
        wrong_way = [f for f in self.faults_done if len(f) == 3 and
                     f[1] != ("identify" if f[0] == "close4009" else "resume")]
        checks.ok(not lost and not wrong_way,
                  "%s: back after each of %d gateway faults (RESUME, IDENTIFY after 4009)" % (
                      name, len(self.faults_done)), str(lost + wrong_way))
        needed = set(RECONNECT_FAULTS) if self.n >= 5000 else {"abort", "close4009", "zombie"}
        checks.ok(needed <= kinds, "%s: fault types injected: %s" % (
            name, ", ".join(sorted(kinds))), "missing %s" % sorted(needed - kinds))
        zombies = len(re.findall(r"the connection is a zombie", log))
        checks.ok(1 <= zombies <= fake.zombie_faults,
                  "%s: zombie detected %d times for %d ACKs held past an interval, none for "
                  "%d ACKs delayed a little" % (name, zombies, fake.zombie_faults,
                                                fake.acks_delayed - fake.zombie_faults))
        checks.ok(not self.problems, "%s: the fault and edit schedule ran as planned" % name,
                  "; ".join(self.problems[:5]))
        if self.args.web:
            w = self.web
            checks.ok(w["asked"] > 0 and w["answered"] == w["asked"] and not w["disorder"],
                      "%s: web chat beside Discord: %d questions in %d chats, each answered once "
                      "and in order" % (name, w["asked"], w["chats"]), str(w["disorder"][:3]))
            checks.ok(not w["wrong"], "%s: web: the first reply of each chat is ask's" % name,
                      "%d differ, e.g. %r" % (len(w["wrong"]), w["wrong"][:2]))
            lat = sorted(w["lat"])
            if lat:
                self.say("web: question -> reply p50 %.1f ms, p99 %.1f ms, max %.2f s" % (
                    lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000, lat[-1]))
        rest = fake.rest
        self.say("REST faults: %d 429 (%d global), %d 5xx (%d after creating), %d cut "
                 "connections (%d after creating), %d emptied buckets, %d slow, %d GET "
                 "/gateway/bot 503" % (rest["429"] + rest["429_global"], rest["429_global"],
                                       rest["5xx"], rest["5xx_recorded"], rest["drop"],
                                       rest["drop_recorded"], rest["bucket"], rest["slow"],
                                       rest["gateway_bot_503"]))
        self.say("gateway: %d connections, %d RESUMEs, %d IDENTIFYs; faults: %s" % (
            len(fake.conns), sum(1 for c in fake.conns if c.resume),
            sum(1 for c in fake.conns if c.identify),
            ", ".join("%s->%s %.1fs" % f if len(f) == 3 else "%s: %s" % f
                      for f in self.faults_done)))
        lat = sorted(q.first_t - q.t for q in qs if q.first_t)
        if lat:
            self.say("question -> first reply part: p50 %.0f ms, p99 %.0f ms, max %.1f s "
                     "(faults included)" % (lat[len(lat) // 2] * 1000,
                                            lat[int(len(lat) * 0.99)] * 1000, lat[-1]))
        self.say("%d questions answered in %.0f s; exited %.1f s after SIGTERM" % (
            answered, t_all - t_start, t_end - t_stop))
        # memory: the median of the samples while questions 15-25% were being
        # answered (warm: a reload or two, a reconnect storm, the caches filled)
        # against the median of the quiet samples at the end
        samples = self.rss.get("samples", [])
        self.save_rss(samples, self.rss.get("end", []))
        warm = sorted(r for _, c, r in samples if 0.15 * self.n <= c <= 0.25 * self.n)
        end = sorted(self.rss.get("end", []))
        if warm and end:
            w, e = warm[len(warm) // 2], end[len(end) // 2]
            growth = e - w
            line = "VmRSS after warm-up %.1f MB (median of %d samples, %.1f-%.1f), at the end " \
                   "%.1f MB (%+.1f MB, %+.1f%%); highest sample %.1f MB; the 20 MB target " \
                   "%s" % (
                       w / 1024, len(warm), warm[0] / 1024, warm[-1] / 1024, e / 1024,
                       growth / 1024, 100.0 * growth / w,
                       max(r for _, _, r in samples) / 1024,
                       "met at both" if max(w, e) < 20 * 1024 else "NOT met")
            deciles = []
            for k in range(1, 11):
                v = [r for _, c, r in samples if (k - 1) * self.n / 10 < c <= k * self.n / 10]
                deciles.append("%.1f" % (sorted(v)[len(v) // 2] / 1024) if v else "-")
            self.say("VmRSS MB, median per tenth of the questions answered: %s" %
                     " ".join(deciles))
            if self.rss_check:
                checks.ok(growth <= 5 * 1024 and growth <= 0.2 * w, "%s: %s" % (name, line))
            elif "valgrind" in self.cmd[0]:
                self.say(line + " (not checked: valgrind's own memory)")
            else:
                self.say(line + " (not checked: ASan's quarantine, allocation-stack depot and "
                         "allocator keep growing for a long time; the opt run is checked)")
        else:
            checks.ok(not self.rss_check, "%s: RSS sampled" % name, "no samples: %r" % self.rss)
        # exit and reports
        checks.ok(rc == 0, "%s: exit status 0 after SIGTERM (%s)" % (name, rc))
        last = fake.conns[-1] if fake.conns else None
        checks.ok(last is not None and last.close_code == 1000,
                  "%s: final close code 1000 (%s)" % (name, last and last.close_code))
        checks.ok(not fd.token_pieces(log), "%s: no piece of the token in the log" % name)
        san = fd.sanitizer_reports(log)
        if "valgrind" in self.cmd[0]:
            m = re.findall(r"ERROR SUMMARY: (\d+) errors", log)
            leaks = re.findall(r"(definitely|indirectly) lost: ([\d,]+) bytes", log)
            checks.ok(m and all(x == "0" for x in m) and
                      all(b == "0" for _, b in leaks),
                      "%s: valgrind: %s errors, definitely/indirectly lost %s" % (
                          name, ",".join(m) or "?", "/".join(b for _, b in leaks) or "0"))
        elif name.startswith("asan"):
            checks.ok(not san, "%s: no sanitizer report" % name, "; ".join(san[:5]))


async def amain(args):
    checks = Checks()
    kb_probe = tempfile.mkdtemp(prefix="mb-soak-probe-")
    try:
        kb = Knowledge(os.path.join(ROOT, "knowledge"), os.path.join(kb_probe, "k"))
        mb = args.opt if os.access(args.opt, os.X_OK) else args.san
        # what `ask` says on the copy as the bot first loads it; a question whose
        # reply carries the canary's marker changes with every canary revision
        qs = sorted(set(question_pool()) | set(kb.questions))
        want = {q: norm(a["reply"]) for q, a in expected_replies(mb, kb.dir, qs).items()}
    finally:
        shutil.rmtree(kb_probe, ignore_errors=True)
    canary_qs = [q for q in qs if MARK + code(0) in want[q]]
    pool = [q for q in qs if q not in canary_qs]
    if not canary_qs:
        raise SystemExit("soak: no canary question")
    print("soak: %d distinct questions (%d get the canary answer, asked 4%% of the time)" % (
        len(qs), len(canary_qs)))
    t0 = now()
    runs = []
    pki = fd.PKI()
    if args.only in (None, "opt"):
        # the memory check: the optimised build, the binary that ships (glibc malloc)
        runs.append(Run("opt", [os.path.abspath(args.opt)], args, args.questions,
                        args.duration, args.hb_ms, {}, want, canary_qs, pool, args.seed + 2,
                        rss_check=True))
    if args.only in (None, "opt-tls"):
        runs.append(Run("opt-tls", [os.path.abspath(args.opt)], args, args.questions,
                        args.duration, args.hb_ms, {}, want, canary_qs, pool, args.seed + 3,
                        rss_check=True, pki=pki))
    if args.only in (None, "asan-tls"):
        env = {"ASAN_OPTIONS": "detect_leaks=1:quarantine_size_mb=%d%s" % (
                   args.quarantine_mb, os.environ.get("SOAK_ASAN_EXTRA", "")),
               "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
        runs.append(Run("asan-tls", [os.path.abspath(args.san)], args, args.questions,
                        args.duration, args.hb_ms, env, want, canary_qs, pool, args.seed,
                        rss_check=False, pki=pki))
    if args.only in (None, "valgrind-tls"):
        vg = ["valgrind", "--error-exitcode=99", "--leak-check=full",
              "--errors-for-leak-kinds=definite,indirect", "--num-callers=30",
              os.path.abspath(args.opt)]
        runs.append(Run("valgrind-tls", vg, args, args.vg_questions, args.vg_duration,
                        max(args.hb_ms, 2000), {}, want, canary_qs, pool, args.seed + 1,
                        rss_check=False, slow=3.0, pki=pki))
    # opt, opt-tls and asan-tls side by side (each needs little CPU: ~40
    # questions/s), then valgrind
    first = [r for r in runs if not r.name.startswith("valgrind")]
    try:
        if args.sequential:
            for r in first:
                await r.run(checks)
        else:
            await asyncio.gather(*(r.run(checks) for r in first))
        for r in runs:
            if r.name.startswith("valgrind"):
                await r.run(checks)
    finally:
        pki.cleanup()
    print("soak: %d passed, %d failed (%.0f s)" % (checks.passed, len(checks.failed), now() - t0))
    for f in checks.failed:
        print("  failed: " + f)
    return 1 if checks.failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--san", default="build/san/massagebot")
    ap.add_argument("--opt", default="build/massagebot")
    ap.add_argument("--questions", type=int, default=10000)
    ap.add_argument("--duration", type=float, default=270, help="seconds to send them over")
    ap.add_argument("--vg-questions", type=int, default=1000)
    ap.add_argument("--vg-duration", type=float, default=100)
    ap.add_argument("--hb-ms", type=int, default=1500)
    ap.add_argument("--quarantine-mb", type=int, default=16,
                    help="ASan quarantine (default 256 MB would look like growth)")
    ap.add_argument("--log-level", default="info")
    ap.add_argument("--no-web", dest="web", action="store_false",
                    help="Discord alone, without the web chat beside it")
    ap.add_argument("--only", choices=["opt", "opt-tls", "asan-tls", "valgrind-tls"],
                    help="one run only")
    ap.add_argument("--sequential", action="store_true",
                    help="run opt and asan one after the other, not side by side")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SOAK_SEED", "7")))
    args = ap.parse_args()
    for p in (args.san, args.opt):
        if (args.only is None or (p == args.san) == (args.only == "asan-tls")) and \
                not os.access(p, os.X_OK):
            print("soak: %s is missing (make %s)" % (p, p))
            return 2
    if args.only in (None, "valgrind-tls") and shutil.which("valgrind") is None:
        print("soak: valgrind is missing (apt-get install valgrind)")
        return 2
    os.chdir(ROOT)
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())
