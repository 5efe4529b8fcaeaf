#!/usr/bin/python3
"""fake_discord: an in-repo fake of Discord's gateway (websocket) and REST API
on 127.0.0.1, plus the protocol scenarios that drive the real `massagebot run`
against it.

Run by tests/discord.sh as /usr/bin/python3 (Debian's python3-websockets).
Each scenario starts a fresh fake on ephemeral ports and a fresh bot process
(the sanitized build), scripts the server side, records everything the bot
sent, and asserts on it.  Waits are deadlines on conditions, never fixed
sleeps.  No network beyond loopback, no real token.

Each scenario runs over plain ws:// and http://, and over TLS (wss://,
https://, a throwaway CA made with the openssl command, see PKI), unless
its options name one mode; some only make sense over TLS (certificates the
bot must refuse, handshakes that break off, the system's trust store).

usage: fake_discord.py --mb build/san/massagebot --knowledge DIR [--jobs N]
                       [--modes plain,tls] [scenario ...]
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "MTEyMzQ1Njc4OTAxMjM0NTY3OA.Gx1yZ_.fake-token-for-tests-only-0123456789"
BOT_ID = "5000000000000000001"
USER = "4000000000000000001"
OTHER_BOT = "4000000000000000002"
GUILD = "3000000000000000001"
CH_LISTED = "2000000000000000001"  # in DISCORD_CHANNELS
CH_GUILD = "2000000000000000002"   # a guild channel: mentions only
CH_DM = "2000000000000000003"
CH_OTHER = "2000000000000000004"
HTTP_PARALLEL = 4  # bot/http.h: REST transfers at once
HB_MS = 1000  # short enough for quick heartbeat tests, long enough for a loaded CI box
SLACK = 1.0  # seconds of scheduling slack allowed (sanitized build, busy CI; 0.6 was seen to fall short at load 6)


class Fail(Exception):
    pass


class PKI:
    """Throwaway certificates made with the openssl command at test time, in a
    temporary folder: a test CA, a server certificate for 127.0.0.1 it signed,
    and the bad ones the failure scenarios serve (another CA's, one for another
    host name, an expired one).  Nothing touches the machine's trust store: the
    bot is pointed at `bundle` (the system CAs plus the test CA)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mb-pki-")
        self.serial = 1000
        self.ca = self._ca("ca", "massagebot test CA")
        self.rogue = self._ca("rogue", "someone else's CA")
        self.good = self._leaf("good", self.ca, "IP:127.0.0.1,DNS:localhost")
        self.untrusted = self._leaf("untrusted", self.rogue, "IP:127.0.0.1")
        self.other_host = self._leaf("other-host", self.ca, "DNS:discord.example")
        self.expired = self._leaf("expired", self.ca, "IP:127.0.0.1", days=-1)
        self.bundle = os.path.join(self.dir, "bundle.pem")
        with open(self.bundle, "wb") as out:
            if os.path.exists(SYSTEM_BUNDLE):
                with open(SYSTEM_BUNDLE, "rb") as f:
                    out.write(f.read())
            with open(self.ca[0], "rb") as f:
                out.write(f.read())

    def _run(self, *argv):
        r = subprocess.run(["openssl", *argv], cwd=self.dir, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("openssl %s: %s" % (argv[0], r.stderr.strip()))

    def _ca(self, name, cn):
        self._run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
                  "-subj", "/CN=" + cn, "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return os.path.join(self.dir, name + ".pem"), os.path.join(self.dir, name + ".key")

    def _leaf(self, name, ca, san, days=2):
        with open(os.path.join(self.dir, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n" % san)
        self._run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
        self._run("x509", "-req", "-in", name + ".csr", "-CA", ca[0], "-CAkey", ca[1],
                  "-set_serial", str(self._next_serial()), "-days", str(days),
                  "-out", name + ".pem", "-extfile", name + ".ext")
        return os.path.join(self.dir, name + ".pem"), os.path.join(self.dir, name + ".key")

    def _next_serial(self):
        self.serial += 1
        return self.serial

    def server_ctx(self, leaf=None, pick=None):
        """A server context serving leaf (default: the good certificate); pick()
        may name another leaf for each new handshake (None: keep this one)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*(leaf or self.good))
        # no session tickets: a session resumed from a refused certificate's
        # handshake would keep that certificate (libcurl checks the host name
        # after the handshake, so such a session can exist)
        ctx.options |= ssl.OP_NO_TICKET
        ctx.num_tickets = 0
        if pick:
            alt = {}

            def sni(sslobj, name, base):
                other = pick()
                if other:
                    if other not in alt:
                        alt[other] = self.server_ctx(other)
                    sslobj.context = alt[other]
            ctx.sni_callback = sni
        return ctx

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # Debian's (ca-certificates)


def now():
    return time.monotonic()


class Req:
    """One HTTP request the bot made, and what the fake answered."""

    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body
        self.t = now()
        self.t_done = None
        self.status = None
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None


class Conn:
    """One websocket connection from the bot."""

    def __init__(self, fake, ws):
        self.fake, self.ws, self.path = fake, ws, ws.path
        self.t = now()
        self.frames = []      # (time, decoded JSON or raw text) received from the bot
        self.identify = None
        self.identify_t = None
        self.resume = None
        self.hello_t = None
        self.ack = True
        self.last_seq_sent = None
        self.closed_t = None
        self.close_code = None
        self.open = True

    def heartbeats(self):
        return [(t, f) for t, f in self.frames if isinstance(f, dict) and f.get("op") == 1]

    async def send(self, obj):
        if isinstance(obj, dict) and obj.get("s") is not None:
            self.last_seq_sent = obj["s"]
        data = obj if isinstance(obj, (str, bytes)) else json.dumps(obj)
        try:
            await self.ws.send(data)
        except websockets.ConnectionClosed:
            pass

    async def close(self, code, reason=""):
        try:
            await self.ws.close(code, reason)
        except websockets.ConnectionClosed:
            pass


class Fake:
    def __init__(self, hb_ms=HB_MS, pki=None):
        self.hb_ms = hb_ms
        self.pki = pki            # serve TLS (wss://, https://) with pki.good when set
        self.tls_accepts = 0      # REST connections whose TLS handshake completed
        self.tls_hellos = {"rest": 0, "gateway": 0}  # TLS handshakes begun, per port
        self.bad_cert = {"rest": [], "gateway": []}   # leaves to serve to the next handshakes
        self.bad_data = 0         # connections over a refused certificate that carried data
        self.conns = []
        self.reqs = []
        self.session = None
        self.events = []          # (seq, name, d, raw) of the current session
        self.seq = 0
        self.next_id = 9000000000000000000
        self.created = {}         # nonce -> message created
        self.created_order = []   # (channel, message_reference id, nonce, content)
        self.bodies = {}          # message id -> the POST body that created it
        self.dup_after_success = []
        self.rest_hook = None     # async fn(req) -> None or (status, headers, body)
        self.gateway_urls = None  # list of urls to hand out on GET /gateway/bot
        self.identify_close = None
        self.on_identify = None
        self.resume_extra = []    # events to replay again on RESUME (re-delivery)
        self.ack_default = True
        self.interactions = {}    # interaction id -> token handed out
        self.acked = {}           # interaction id -> (time, callback body)
        self.changed = asyncio.Event()

    @property
    def ws_scheme(self):
        return "wss" if self.pki else "ws"

    def _pick(self, side):
        def pick():
            self.tls_hellos[side] += 1
            self.poke()
            return self.bad_cert[side].pop(0) if self.bad_cert[side] else None
        return pick

    @staticmethod
    def _refused(sslobj, ctx):
        """Was this handshake made with a certificate the bot should refuse
        (sslobj.context is then not the port's own)?  libcurl checks the host
        name once the handshake is over, so it can get this far; it must then
        hang up without a word."""
        return sslobj is not None and sslobj.context is not ctx

    async def start(self):
        self.gw_ctx = self.pki.server_ctx(pick=self._pick("gateway")) if self.pki else None
        self.rest_ctx = self.pki.server_ctx(pick=self._pick("rest")) if self.pki else None
        self.ws_server = await websockets.serve(
            self._ws_handler, "127.0.0.1", 0, max_size=None, ping_interval=None,
            compression=None, close_timeout=2, ssl=self.gw_ctx)
        self.ws_port = self.ws_server.sockets[0].getsockname()[1]
        self.http_server = await asyncio.start_server(self._http_conn, "127.0.0.1", 0,
                                                      ssl=self.rest_ctx)
        self.http_port = self.http_server.sockets[0].getsockname()[1]
        self.ws_url = "%s://127.0.0.1:%d" % (self.ws_scheme, self.ws_port)
        self.resume_url = "%s://127.0.0.1:%d/resume" % (self.ws_scheme, self.ws_port)
        self.api = "%s://127.0.0.1:%d/api/v10" % ("https" if self.pki else "http", self.http_port)

    async def stop(self):
        self.ws_server.close()
        self.http_server.close()
        for c in self.conns:
            if c.open:
                c.ws.transport.abort()
        try:
            await asyncio.wait_for(self.ws_server.wait_closed(), 3)
        except asyncio.TimeoutError:
            pass

    def poke(self):
        self.changed.set()

    async def wait_quiet(self, pred, timeout):
        try:
            return await self.wait(pred, timeout, "")
        except Fail:
            return None

    async def wait(self, pred, timeout, what):
        deadline = now() + timeout
        while True:
            v = pred()
            if v:
                return v
            left = deadline - now()
            if left <= 0:
                raise Fail("timed out after %.1f s waiting for %s" % (timeout, what))
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(left, 0.05))
            except asyncio.TimeoutError:
                pass

    # ---- gateway ----------------------------------------------------------

    @property
    def conn(self):
        return self.conns[-1] if self.conns else None

    async def _ws_handler(self, ws):
        if self._refused(ws.transport.get_extra_info("ssl_object"), self.gw_ctx):
            self.bad_data += 1  # the upgrade request came over it
            self.poke()
            await ws.close(1008, "refused certificate")
            return
        c = Conn(self, ws)
        c.ack = self.ack_default
        self.conns.append(c)
        self.poke()
        c.hello_t = now()
        await c.send({"op": 10, "d": {"heartbeat_interval": self.hb_ms}, "s": None, "t": None})
        try:
            async for raw in ws:
                try:
                    f = json.loads(raw)
                except (ValueError, TypeError):
                    f = raw
                c.frames.append((now(), f))
                self.poke()
                if isinstance(f, dict):
                    await self._on_frame(c, f)
        except websockets.ConnectionClosed:
            pass
        c.open = False
        c.closed_t = now()
        c.close_code = ws.close_code
        self.poke()

    async def _on_frame(self, c, f):
        op = f.get("op")
        if op == 1 and c.ack:
            await c.send({"op": 11})
        elif op == 2:
            c.identify = f
            c.identify_t = now()
            if self.identify_close:
                await c.close(*self.identify_close)
                return
            self.session = "sess-%d" % len(self.conns)
            self.events = []
            self.seq = 0
            await self.dispatch("READY", {
                "v": 10, "session_id": self.session, "resume_gateway_url": self.resume_url,
                "user": {"id": BOT_ID, "username": "massagebot", "bot": True},
                "guilds": [{"id": GUILD, "unavailable": True}]}, c)
            if self.on_identify:
                await self.on_identify(c)
        elif op == 6:
            c.resume = f
            d = f.get("d") or {}
            if d.get("session_id") != self.session or d.get("token") != TOKEN:
                await c.send({"op": 9, "d": False})
                return
            for seq, name, ev, raw in self.events:
                if seq > (d.get("seq") or 0):
                    await c.send(raw if raw is not None else {"op": 0, "s": seq, "t": name, "d": ev})
            for name, ev in self.resume_extra:
                self.seq += 1
                self.events.append((self.seq, name, ev, None))
                await c.send({"op": 0, "s": self.seq, "t": name, "d": ev})
            self.resume_extra = []
            await self.dispatch("RESUMED", {}, c)

    async def raw(self, text, seq):
        """Send a raw frame that carries sequence number seq (replayed raw on RESUME)."""
        self.seq = max(self.seq, seq)
        self.events.append((seq, None, None, text))
        if self.conn and self.conn.open:
            await self.conn.send(text)

    async def dispatch(self, name, d, c=None):
        """Send an event in the session (recorded for resume replays)."""
        self.seq += 1
        self.events.append((self.seq, name, d, None))
        c = c or self.conn
        if c and c.open:
            await c.send({"op": 0, "s": self.seq, "t": name, "d": d})
        return self.seq

    # ---- REST -------------------------------------------------------------

    async def _http_conn(self, reader, writer):
        if writer.get_extra_info("ssl_object") is not None:
            self.tls_accepts += 1  # the server side calls us once its handshake is done
        if self._refused(writer.get_extra_info("ssl_object"), self.rest_ctx):
            try:
                if await reader.read(65536):
                    self.bad_data += 1  # a request (with the token) over it
            except (ConnectionError, ssl.SSLError):
                pass
            self.poke()
            writer.close()
            return
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers = {}
                while True:
                    h = (await reader.readline()).decode("latin-1")
                    if h in ("\r\n", "\n", ""):
                        break
                    k, v = h.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                n = int(headers.get("content-length", "0"))
                body = await reader.readexactly(n) if n else b""
                req = Req(method, path, headers, body.decode("utf-8", "replace"))
                self.reqs.append(req)
                self.poke()
                status, hdrs, out = await self._route(req)
                data = out if isinstance(out, bytes) else json.dumps(out).encode()
                head = "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (
                    status, len(data))
                for k, v in (hdrs or {}).items():
                    head += "%s: %s\r\n" % (k, v)
                writer.write(head.encode() + b"\r\n" + data)
                await writer.drain()
                req.status = status
                req.t_done = now()
                self.poke()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def _route(self, req):
        if self.rest_hook:
            r = await self.rest_hook(req)
            if r is not None:
                return r
        if req.method == "GET" and req.path == "/api/v10/gateway/bot":
            url = self.ws_url
            if self.gateway_urls:
                url = self.gateway_urls.pop(0)
            return 200, {}, {"url": url, "shards": 1, "session_start_limit": {
                "total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1}}
        m = re.fullmatch(r"/api/v10/channels/(\d+)/messages", req.path)
        if req.method == "POST" and m and isinstance(req.json, dict):
            return 200, {}, self.create(m.group(1), req.json)
        m = re.fullmatch(r"/api/v10/interactions/(\d+)/([A-Za-z0-9._-]+)/callback", req.path)
        if req.method == "POST" and m and isinstance(req.json, dict):
            iid, token = m.group(1), m.group(2)
            if self.interactions.get(iid) != token:
                return 401, {}, {"message": "Invalid interaction token", "code": 50027}
            if iid in self.acked:
                return 400, {}, {"message": "Interaction has already been acknowledged.",
                                 "code": 40060}
            self.acked[iid] = (now(), req.json)
            return 204, {}, b""
        return 404, {}, {"message": "404: Not Found", "code": 0}

    def create(self, channel, body):
        nonce = body.get("nonce")
        if body.get("enforce_nonce") and nonce in self.created:
            self.dup_after_success.append(nonce)
            return self.created[nonce]
        self.next_id += 1
        msg = {"id": str(self.next_id), "channel_id": channel, "content": body.get("content"),
               "author": {"id": BOT_ID, "bot": True}, "nonce": nonce}
        self.created[nonce] = msg
        ref = (body.get("message_reference") or {}).get("message_id")
        self.created_order.append((channel, ref, nonce, body.get("content")))
        self.bodies[msg["id"]] = body
        return msg

    def posts(self):
        return [r for r in self.reqs if r.method == "POST"]

    def replies_to(self, mid):
        """Contents created in reply to message mid (all chunks, in order)."""
        out = []
        for ch, ref, nonce, content in self.created_order:
            if nonce and nonce.rsplit(".", 1)[0] == mid:
                out.append((nonce, ref, content))
        return out


class Front:
    """A TCP front for one of the fake's TLS ports, to break TLS handshakes on
    purpose: each new connection takes the next fault from `faults` ("stall":
    read the ClientHello, answer with the start of a handshake record, then say
    nothing more; "cut": the same, then hang up), and with none left is relayed
    to the port behind, byte for byte (the TLS is end to end)."""

    HALF_RECORD = b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03"  # a ServerHello's start

    def __init__(self, fake, port):
        self.fake, self.port_behind = fake, port
        self.faults = []
        self.done = []      # (fault, time) per connection
        self.tasks = set()

    async def start(self):
        self.server = await asyncio.start_server(self._conn, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _conn(self, reader, writer):
        fault = self.faults.pop(0) if self.faults else "relay"
        self.done.append((fault, now()))
        self.fake.poke()
        try:
            if fault == "relay":
                r2, w2 = await asyncio.open_connection("127.0.0.1", self.port_behind)
                await asyncio.gather(self._pipe(reader, w2), self._pipe(r2, writer))
                return
            await reader.read(4096)  # the ClientHello
            writer.write(self.HALF_RECORD)
            await writer.drain()
            if fault == "stall":
                while await reader.read(4096):
                    pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _pipe(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    def close(self):
        self.server.close()


# ---- the bot under test -------------------------------------------------------

def private_mount_ns():
    """The unshare(1) arguments that give a private mount namespace here: as
    root `-m`; else a user namespace too (`-r -m`); None if neither works."""
    for argv in (["unshare", "-m"], ["unshare", "-r", "-m"]):
        try:
            if subprocess.run(argv + ["true"], capture_output=True).returncode == 0:
                return argv
        except OSError:
            pass
    return None


class Bot:
    """The bot under test.  Over TLS it trusts the test CA through
    SSL_CERT_FILE (the system's CAs plus the test CA), or, with system_trust,
    through the system bundle itself: it then runs in a private mount
    namespace where that bundle is bind-mounted over SYSTEM_BUNDLE, so the
    machine's own trust store is never touched."""

    def __init__(self, args, fake, channels="", env=None, system_trust=False):
        self.args, self.fake = args, fake
        self.system_trust = system_trust
        self.dir = tempfile.mkdtemp(prefix="mb-discord-")
        self.log_path = os.path.join(self.dir, "bot.log")
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "BOT_PLATFORM": "discord",
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_BASE": fake.api,
            "DISCORD_CHANNELS": channels,
            "KNOWLEDGE_DIR": args.knowledge,
            "LOG_LEVEL": "debug",
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
            "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1"),
            "TSAN_OPTIONS": os.environ.get("TSAN_OPTIONS", ""),
        }
        if fake.pki and not system_trust:
            self.env["SSL_CERT_FILE"] = fake.pki.bundle
        self.env.update(env or {})
        self.proc = None
        self.rc = None

    def argv(self, *cmd):
        """cmd (the bot and its arguments), in the private namespace if needed."""
        if not self.system_trust:
            return list(cmd)
        ns = private_mount_ns()
        if ns is None:
            raise Fail("cannot make a private mount namespace (unshare -m, unshare -r -m) "
                       "to stand the test CA in for the system's")
        return ns + ["sh", "-c", 'mount --bind "$0" "$1" && shift && exec "$@"', self.fake.pki.bundle,
                     SYSTEM_BUNDLE, *cmd]

    async def start(self):
        self.logf = open(self.log_path, "wb")
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv(self.args.mb, "run"), cwd=self.dir, env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.logf)
        self.started = now()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    async def wait_exit(self, timeout):
        try:
            self.rc = await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            raise Fail("the bot did not exit within %.0f s" % timeout)
        return self.rc

    async def stop(self, timeout=10):
        """SIGTERM, then expect exit 0."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self.wait_exit(timeout)

    def kill(self):
        if self.proc and self.proc.returncode is None:
            self.proc.kill()

    def cleanup(self):
        self.logf.close()
        shutil.rmtree(self.dir)


ASK_CACHE = {}  # knowledge folder -> question -> reply


def ask_many_sync(args, questions):
    """The replies `massagebot ask` gives for these questions (one pipeline)."""
    cache = ASK_CACHE.setdefault(args.knowledge, {})
    todo = [q for q in questions if q not in cache]
    if todo:
        env = {"PATH": os.environ.get("PATH", ""), "KNOWLEDGE_DIR": args.knowledge,
               "LOG_LEVEL": "error"}
        out = subprocess.run([args.mb, "ask", "--json"], input="\n".join(todo) + "\n",
                             capture_output=True, text=True, env=env, check=True).stdout
        lines = out.splitlines()
        assert len(lines) == len(todo), (len(lines), len(todo))
        for q, line in zip(todo, lines):
            cache[q] = json.loads(line)["reply"]
    return [cache[q] for q in questions]


async def ask_many(args, questions):
    # in a thread: the fake must keep serving (heartbeat ACKs) meanwhile
    return await asyncio.to_thread(ask_many_sync, args, questions)


async def ask(args, q):
    return (await ask_many(args, [q]))[0]


# ---- helpers -----------------------------------------------------------------

_mid = [1000000000000000000]


def new_id():
    _mid[0] += 1
    return str(_mid[0])


def message(content, channel=CH_GUILD, guild=GUILD, author=USER, bot=False, webhook=None,
            mtype=0, mentions=(), mid=None):
    d = {"id": mid or new_id(), "channel_id": channel, "type": mtype, "content": content,
         "author": {"id": author, "username": "someone"}, "mentions": [{"id": m} for m in mentions],
         "tts": False, "timestamp": "2026-01-01T00:00:00+00:00"}
    if guild:
        d["guild_id"] = guild
    if bot:
        d["author"]["bot"] = True
    if webhook:
        d["webhook_id"] = webhook
    return d


class T:
    """Assertions that collect failures instead of stopping at the first."""

    def __init__(self):
        self.failures = []

    def ok(self, cond, what):
        if not cond:
            self.failures.append(what)
        return cond

    def eq(self, got, want, what):
        return self.ok(got == want, "%s: got %r, want %r" % (what, got, want))


async def ready(fake, timeout=15):
    """Wait until the bot identified and got READY on some connection."""
    await fake.wait(lambda: fake.conn and fake.conn.identify, timeout, "IDENTIFY")
    return fake.conn


async def resumed(fake, after, timeout=15):
    return await fake.wait(
        lambda: len(fake.conns) > after and fake.conns[-1].resume and fake.conns[-1], timeout,
        "a RESUME on a new connection")


# ---- scenarios ---------------------------------------------------------------

async def sc_identify(args, fake, bot, t):
    """GET /gateway/bot headers, websocket path, IDENTIFY payload."""
    c = await ready(fake)
    get = [r for r in fake.reqs if r.method == "GET"]
    t.eq(len(get), 1, "GET /gateway/bot count")
    g = get[0]
    t.eq(g.path, "/api/v10/gateway/bot", "gateway path")
    t.eq(g.headers.get("authorization"), "Bot " + TOKEN, "GET Authorization header")
    t.ok(re.fullmatch(r"DiscordBot \(https?://[^ ,]+, \d+\.\d+\.\d+\)", g.headers.get("user-agent", "")),
         "User-Agent is 'DiscordBot (url, version)': %r" % g.headers.get("user-agent"))
    t.eq(c.path, "/?v=10&encoding=json", "websocket path and query")
    d = c.identify.get("d", {})
    t.eq(c.identify.get("op"), 2, "IDENTIFY op")
    t.eq(d.get("token"), TOKEN, "IDENTIFY token")
    # the contract's 37377 plus GUILD_MESSAGE_REACTIONS and DIRECT_MESSAGE_REACTIONS
    t.eq(d.get("intents"), 37377 | (1 << 10) | (1 << 13), "IDENTIFY intents")
    p = d.get("properties", {})
    t.ok(all(isinstance(p.get(k), str) and p.get(k) for k in ("os", "browser", "device")),
         "IDENTIFY properties os/browser/device: %r" % p)
    await fake.wait(lambda: "connected" in bot.log(), 5, "a 'connected' status line")


async def sc_heartbeat(args, fake, bot, t):
    """First heartbeat jittered within one interval, then every interval, carrying the last seq."""
    c = await ready(fake)
    await fake.wait(lambda: len(c.heartbeats()) >= 3, 4 * HB_MS / 1000 + 2 * SLACK, "3 heartbeats")
    hbs = c.heartbeats()
    first = hbs[0][0] - c.hello_t
    t.ok(0 <= first <= HB_MS / 1000 + SLACK, "first heartbeat %.3f s after HELLO" % first)
    for (a, _), (b, _) in zip(hbs, hbs[1:]):
        gap = b - a
        t.ok(HB_MS / 1000 - 0.2 <= gap <= HB_MS / 1000 + SLACK, "heartbeat gap %.3f s" % gap)
    # dispatches move the sequence number the heartbeats carry
    await fake.dispatch("GUILD_CREATE", {"id": GUILD, "name": "clinic"})
    s = await fake.dispatch("TYPING_START", {"channel_id": CH_GUILD})
    n = len(c.heartbeats())
    await fake.wait(lambda: len(c.heartbeats()) >= n + 2, 3 * HB_MS / 1000 + 2 * SLACK,
                    "heartbeats after the dispatches")
    t.eq(c.heartbeats()[-1][1].get("d"), s, "heartbeat carries the last seq")


async def sc_heartbeat_request(args, fake, bot, t):
    """A server op 1 is answered at once, whatever the interval."""
    c = await ready(fake)
    s = await fake.dispatch("GUILD_CREATE", {"id": GUILD})
    n = len(c.heartbeats())
    t0 = now()
    await c.send({"op": 1, "d": None})
    await fake.wait(lambda: len(c.heartbeats()) > n, 2, "a heartbeat after op 1")
    t.ok(now() - t0 < 1.5, "heartbeat answered op 1 within 1.5 s")
    t.eq(c.heartbeats()[-1][1].get("d"), s, "op 1 heartbeat carries the last seq")


async def sc_answer_policy(args, fake, bot, t):
    """Mentions, DMs, DISCORD_CHANNELS answered; bots, webhooks, self, type 7, updates, others not."""
    c = await ready(fake)
    answered = [
        message("<@%s> what is swedish massage" % BOT_ID, mentions=[BOT_ID]),
        message("<@!%s> does deep tissue massage hurt" % BOT_ID, mentions=[BOT_ID]),
        message("hello", channel=CH_DM, guild=None),
        message("is swedish massage gentle", channel=CH_LISTED),
        message("<@%s>" % BOT_ID, mentions=[BOT_ID]),
        message("what is deep tissue massage", channel=CH_OTHER, mentions=[BOT_ID], mtype=19),
    ]
    questions = ["what is swedish massage", "does deep tissue massage hurt", "hello",
                 "is swedish massage gentle", "help", "what is deep tissue massage"]
    ignored = [
        message("what is swedish massage", channel=CH_LISTED, author=OTHER_BOT, bot=True),
        message("what is swedish massage", channel=CH_LISTED, webhook="6000000000000000001"),
        message("what is swedish massage", channel=CH_LISTED, author=BOT_ID),
        message("what is swedish massage", channel=CH_LISTED, mtype=7),
        message("what is swedish massage", channel=CH_LISTED, mtype=6),
        message("what is swedish massage", channel=CH_GUILD),
        message("<@&%s> what is swedish massage" % BOT_ID, channel=CH_GUILD),
        message("<@4000000000000000009> what is swedish massage", channel=CH_GUILD,
                mentions=["4000000000000000009"]),
        message("hello", channel=CH_DM, guild=None, author=OTHER_BOT, bot=True),
    ]
    for m in ignored[:5]:
        await fake.dispatch("MESSAGE_CREATE", m)
    upd = message("what is swedish massage", channel=CH_LISTED)
    await fake.dispatch("MESSAGE_UPDATE", upd)
    for m in ignored[5:]:
        await fake.dispatch("MESSAGE_CREATE", m)
    for m in answered:
        await fake.dispatch("MESSAGE_CREATE", m)
    # sentinels after everything, one per channel used
    sentinels = [message("hello", channel=ch, mentions=[BOT_ID]) for ch in (CH_LISTED, CH_GUILD)]
    sentinels.append(message("hello", channel=CH_DM, guild=None))
    for m in sentinels:
        await fake.dispatch("MESSAGE_CREATE", m)
    await fake.wait(lambda: all(fake.replies_to(m["id"]) for m in answered + sentinels), 10,
                    "replies to the answerable messages")
    want = await ask_many(args, questions)
    for m, q, w in zip(answered, questions, want):
        r = fake.replies_to(m["id"])
        t.eq(len(r), 1, "one reply to %r" % m["content"])
        t.eq(r[0][2], w, "reply to %r equals `ask %s`" % (m["content"], q))
        t.eq(r[0][1], m["id"], "message_reference of the reply to %r" % m["content"])
    for m in ignored + [upd]:
        t.eq(fake.replies_to(m["id"]), [], "no reply to ignored %r (%s)" % (m["content"], m))
    t.eq(len(fake.created_order), len(answered) + len(sentinels), "replies in total")
    t.eq(len(fake.conns), 1, "connections")


async def sc_reply_format(args, fake, bot, t):
    """POST headers and body: nonce, enforce_nonce, allowed_mentions, message_reference."""
    await ready(fake)
    m = message("<@%s> what is swedish massage @everyone <@555555555555555555>" % BOT_ID,
                mentions=[BOT_ID, "555555555555555555"])
    await fake.dispatch("MESSAGE_CREATE", m)
    await fake.wait(lambda: fake.replies_to(m["id"]), 10, "the reply")
    posts = fake.posts()
    t.eq(len(posts), 1, "POST count")
    p = posts[0]
    t.eq(p.path, "/api/v10/channels/%s/messages" % CH_GUILD, "POST path")
    t.eq(p.headers.get("authorization"), "Bot " + TOKEN, "Authorization")
    t.ok(p.headers.get("user-agent", "").startswith("DiscordBot ("), "User-Agent")
    t.ok(p.headers.get("content-type", "").startswith("application/json"), "Content-Type")
    b = p.json or {}
    t.eq(b.get("content"), await ask(args, "what is swedish massage @everyone <@555555555555555555>"),
         "content is the `ask` reply to the question without the bot mention")
    t.eq(b.get("allowed_mentions"), {"parse": []}, "allowed_mentions")
    t.eq(b.get("message_reference"), {"message_id": m["id"], "fail_if_not_exists": False},
         "message_reference")
    t.ok(isinstance(b.get("nonce"), str) and 0 < len(b["nonce"]) <= 25,
         "nonce is a string of at most 25 characters: %r" % b.get("nonce"))
    t.ok(m["id"] in b.get("nonce", ""), "nonce derived from the message id")
    t.eq(b.get("enforce_nonce"), True, "enforce_nonce")


async def sc_split(args, fake, bot, t):
    """A reply over 2000 characters goes out as several messages, in order."""
    await ready(fake)
    q = "tell me about the long session, I am pregnant and take warfarin"
    want = await ask(args, q)
    t.ok(len(want) > 2000, "fixture reply is over 2000 characters (%d)" % len(want))
    m = message(q, channel=CH_DM, guild=None)
    await fake.dispatch("MESSAGE_CREATE", m)
    n = -(-len(want) // 2000)
    await fake.wait(lambda: len(fake.replies_to(m["id"])) >= n, 10, "%d reply parts" % n)
    parts = fake.replies_to(m["id"])
    t.ok(len(parts) >= 2, "split into %d messages" % len(parts))
    for i, (nonce, ref, content) in enumerate(parts):
        t.ok(len(content) <= 2000, "part %d has %d characters" % (i, len(content)))
        t.eq(ref, m["id"] if i == 0 else None, "message_reference only on the first part")
        t.eq(nonce, "%s.%d" % (m["id"], i), "nonce of part %d" % i)
    t.eq("".join(c for _, _, c in parts).replace("\n", "").replace(" ", ""),
         want.replace("\n", "").replace(" ", ""), "the parts together are the whole reply")
    t.ok(parts[0][2].endswith(".") or parts[0][2].endswith("_"),
         "first part ends at a sentence or paragraph end: %r" % parts[0][2][-30:])
    posts = fake.posts()
    t.ok(all(a.t_done <= b.t for a, b in zip(posts, posts[1:])),
         "each part is posted after the previous one was answered")


async def sc_rate_limit(args, fake, bot, t):
    """429 -> wait retry_after, retry the same request; Remaining 0 -> wait Reset-After."""
    await ready(fake)
    state = {"n": 0}

    async def hook(req):
        if req.method != "POST":
            return None
        state["n"] += 1
        if state["n"] == 1:
            return 429, {"Retry-After": "1", "X-RateLimit-Scope": "user"}, {
                "message": "You are being rate limited.", "retry_after": 0.4, "global": False}
        if state["n"] == 2:
            return 200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "0.600",
                         "X-RateLimit-Bucket": "b1", "X-RateLimit-Limit": "5"}, \
                fake.create(CH_LISTED, req.json)
        return None
    fake.rest_hook = hook
    m1 = message("what is swedish massage", channel=CH_LISTED)
    m2 = message("what is deep tissue massage", channel=CH_LISTED)
    await fake.dispatch("MESSAGE_CREATE", m1)
    await fake.dispatch("MESSAGE_CREATE", m2)
    await fake.wait(lambda: fake.replies_to(m2["id"]), 10, "both replies")
    p = fake.posts()
    t.eq(len(p), 3, "POSTs (429, retry, second reply)")
    t.eq(p[0].body, p[1].body, "the retry is the same request (same nonce)")
    t.ok(p[1].t - p[0].t_done >= 0.39, "retry waited retry_after (%.3f s)" % (p[1].t - p[0].t_done))
    t.ok(p[1].t - p[0].t_done < 0.95, "retry_after from the body wins over Retry-After header")
    t.ok(p[2].t - p[1].t_done >= 0.59, "Remaining 0 honoured for Reset-After (%.3f s)" %
         (p[2].t - p[1].t_done))
    t.eq([r[1] for r in fake.created_order], [m1["id"], m2["id"]], "replies in order, once each")
    t.ok("rate limited" in bot.log(), "the 429 is logged")


async def sc_server_errors(args, fake, bot, t):
    """5xx retried with backoff (same nonce); 403 logged once, not retried."""
    await ready(fake)
    state = {"n": 0}

    async def hook(req):
        if req.method != "POST":
            return None
        if "/channels/%s/" % CH_OTHER in req.path:
            return 403, {}, {"message": "Missing Permissions", "code": 50013}
        state["n"] += 1
        if state["n"] == 1:
            return 500, {}, {"message": "500: Internal Server Error", "code": 0}
        if state["n"] == 2:
            return 502, {}, b"<html>bad gateway</html>"
        return None
    fake.rest_hook = hook
    m = message("what is swedish massage", channel=CH_LISTED)
    forbidden = message("<@%s> hello" % BOT_ID, channel=CH_OTHER, mentions=[BOT_ID])
    await fake.dispatch("MESSAGE_CREATE", forbidden)
    await fake.dispatch("MESSAGE_CREATE", m)
    await fake.wait(lambda: fake.replies_to(m["id"]), 15, "the reply after two server errors")
    ps = [r for r in fake.posts() if CH_LISTED in r.path]
    t.eq([r.status for r in ps], [500, 502, 200], "statuses of the attempts")
    t.ok(len({r.body for r in ps}) == 1, "every attempt is the same request (same nonce)")
    t.ok(all(b.t - a.t_done >= 0.2 for a, b in zip(ps, ps[1:])), "backoff between attempts")
    await fake.wait(lambda: re.search(r"message %s .*refused: HTTP 403" % forbidden["id"], bot.log()),
                    5, "the 403 logged with the message id")
    t.eq(len([r for r in fake.posts() if CH_OTHER in r.path]), 1, "403 not retried")


async def sc_malformed(args, fake, bot, t):
    """Malformed frames are logged and dropped; the session goes on."""
    c = await ready(fake)
    s = fake.seq
    bad = [
        "this is not json",
        '{"op": "zero"}',
        "[1, 2, 3]",
        '{"op": 0, "t": "MESSAGE_CREATE", "d": {}}',
        json.dumps({"op": 0, "s": s + 1, "t": "MESSAGE_CREATE", "d": {"id": "1", "content": 5}}),
        json.dumps({"op": 0, "s": s + 2, "t": "MESSAGE_CREATE", "d": message("x", mid="not-a-number")}),
        json.dumps({"op": 10, "d": {"heartbeat_interval": "soon"}}),
        "[" * 100000 + "]" * 100000,
        b"\x00\x01binary",
        '{"op": 0, "s": %d, "t": "X", "d": "%s"}' % (s + 3, "a" * (5 << 20)),
    ]
    for i, f in enumerate(bad):
        await fake.raw(f, s + 3 if i == len(bad) - 1 else s + 2 if i >= 5 else s + 1 if i >= 4 else 0)
    m = message("<@%s> what is swedish massage" % BOT_ID, mentions=[BOT_ID])
    await fake.dispatch("MESSAGE_CREATE", m)
    await fake.wait(lambda: fake.replies_to(m["id"]), 15, "a reply after the malformed frames")
    log = bot.log()
    t.ok(log.count("dropped a malformed frame") >= 7, "malformed frames logged (%d)" %
         log.count("dropped a malformed frame"))
    t.ok("binary frame" in log, "binary frame logged")
    t.ok("too large" in log, "oversized frame logged")
    t.eq(len(fake.conns), 1, "still the first connection")
    t.ok(c.open, "connection still open")


async def sc_resume_4000(args, fake, bot, t):
    """Close 4000 -> RESUME on resume_gateway_url with the last seq; replay answered once."""
    c = await ready(fake)
    m1 = message("<@%s> what is swedish massage" % BOT_ID, mentions=[BOT_ID])
    await fake.dispatch("MESSAGE_CREATE", m1)
    await fake.wait(lambda: fake.replies_to(m1["id"]), 10, "the first reply")
    last = await fake.dispatch("GUILD_UPDATE", {"id": GUILD})
    await fake.wait(lambda: c.heartbeats() and c.heartbeats()[-1][1].get("d") == last, 3,
                    "a heartbeat with the last seq")
    await c.close(4000, "unknown error")
    # missed while disconnected; and a re-delivery of m1 on resume
    m2 = message("<@%s> what is deep tissue massage" % BOT_ID, mentions=[BOT_ID])
    await fake.dispatch("MESSAGE_CREATE", m2)
    fake.resume_extra = [("MESSAGE_CREATE", m1)]
    c2 = await resumed(fake, 1)
    t.eq(c2.path, "/resume?v=10&encoding=json", "RESUME on resume_gateway_url")
    d = c2.resume.get("d", {})
    t.eq(d.get("token"), TOKEN, "RESUME token")
    t.eq(d.get("session_id"), fake.session, "RESUME session_id")
    t.eq(d.get("seq"), last, "RESUME seq is the last one received")
    t.eq(c2.identify, None, "no IDENTIFY on resume")
    await fake.wait(lambda: fake.replies_to(m2["id"]), 10, "the reply to the missed message")
    await fake.wait(lambda: "RESUMED" in bot.log(), 5, "RESUMED logged")
    t.eq(len(fake.replies_to(m1["id"])), 1, "the re-delivered message is not answered twice")
    t.eq(len(fake.created_order), 2, "two replies in total")
    t.ok(c2.resume and c2.frames[0][1].get("op") == 6, "RESUME is the first thing sent")


async def sc_network_drop(args, fake, bot, t):
    """A connection lost without a close frame, and an unknown code, resume."""
    c = await ready(fake)
    await fake.dispatch("GUILD_UPDATE", {"id": GUILD})
    c.ws.transport.abort()
    c2 = await resumed(fake, 1)
    t.eq(c2.resume["d"].get("seq"), c.last_seq_sent, "resume seq after a network drop")
    await fake.wait(lambda: c2.frames and fake.events[-1][1] == "RESUMED", 5, "RESUMED sent")
    await c2.close(4999, "mystery")
    c3 = await resumed(fake, 2)
    t.ok(c3.resume is not None, "unknown close code resumes")


async def sc_reconnect_delay(args, fake, bot, t):
    """The reconnect log says the delay the bot really waits (it once said 2 s and
    retried after 1 s); three closes in a row, the backoff growing."""
    c = await ready(fake)
    for i in range(3):
        mark = len(bot.log())
        t0 = now()
        await c.close(4000, "unknown error")
        c = await resumed(fake, i + 1)
        waited = c.t - t0
        said = re.findall(r"reconnecting in ([0-9.]+) s", bot.log()[mark:])
        t.ok(said, "reconnect %d logged with its delay" % (i + 1))
        if said:
            t.ok(float(said[-1]) - 0.15 <= waited <= float(said[-1]) + 0.6,
                 "reconnect %d: said %s s, waited %.2f s" % (i + 1, said[-1], waited))


async def sc_reconnect_op7(args, fake, bot, t):
    """op 7 -> the bot closes (not 1000/1001) and resumes."""
    c = await ready(fake)
    await fake.dispatch("GUILD_UPDATE", {"id": GUILD})
    await c.send({"op": 7, "d": None})
    c2 = await resumed(fake, 1)
    await fake.wait(lambda: not c.open, 5, "the old connection closed")
    t.ok(c.close_code not in (1000, 1001), "closed with %r, not 1000/1001" % c.close_code)
    t.eq(c2.resume["d"].get("seq"), c.last_seq_sent, "RESUME seq is the last one received")


async def sc_invalid_session(args, fake, bot, t):
    """op 9 false -> wait 1-5 s, fresh IDENTIFY on the main url; op 9 true -> RESUME."""
    c = await ready(fake)
    await fake.dispatch("GUILD_UPDATE", {"id": GUILD})
    t0 = now()
    await c.send({"op": 9, "d": False})
    c2 = await fake.wait(lambda: len(fake.conns) > 1 and fake.conns[1].identify and fake.conns[1],
                         10, "a fresh IDENTIFY")
    waited = c2.identify_t
    t.ok(1.0 <= waited - t0 <= 5.0 + 2 * SLACK, "IDENTIFY %.2f s after op 9 false" % (waited - t0))
    t.eq(c2.path, "/?v=10&encoding=json", "fresh session on the main gateway url")
    t.eq(c2.resume, None, "no RESUME after op 9 false")
    await c2.send({"op": 9, "d": True})
    c3 = await resumed(fake, 2)
    t.eq(c3.resume["d"].get("session_id"), fake.session, "op 9 true resumes the session")


async def sc_zombie(args, fake, bot, t):
    """No heartbeat ACK -> zombie: close (not 1000) and RESUME."""
    c = await ready(fake)
    await fake.wait(lambda: len(c.heartbeats()) >= 1, 3, "a first heartbeat")
    c.ack = False
    t0 = now()
    c2 = await resumed(fake, 1, timeout=3 * HB_MS / 1000 + 3)
    t.ok(now() - t0 <= 2 * HB_MS / 1000 + 1.0 + 2 * SLACK, "zombie noticed within two intervals")
    await fake.wait(lambda: not c.open, 5, "the zombie connection closed")
    t.ok(c.close_code not in (1000, 1001), "zombie closed with %r, not 1000/1001" % c.close_code)
    t.ok("zombie" in bot.log(), "zombie logged")
    t.ok(c2.resume is not None, "resumed")


async def sc_fatal_4004(args, fake, bot, t):
    """Close 4004 -> one clear line, exit 3, no reconnect."""
    fake.identify_close = (4004, "Authentication failed.")
    rc = await bot.wait_exit(10)
    t.eq(rc, 3, "exit status")
    t.eq(len(fake.conns), 1, "no reconnect")
    log = bot.log()
    t.ok("rejected the bot token" in log and "DISCORD_TOKEN" in log, "log says the token was rejected")


async def sc_fatal_4014(args, fake, bot, t):
    """Close 4014 -> exit 3 with a hint about the Message Content intent."""
    fake.identify_close = (4014, "Disallowed intent(s).")
    rc = await bot.wait_exit(10)
    t.eq(rc, 3, "exit status")
    t.eq(len(fake.conns), 1, "no reconnect")
    t.ok("Message Content intent" in bot.log(), "log names the Message Content intent")


async def sc_gateway_401(args, fake, bot, t):
    """401 on GET /gateway/bot -> exit 3 with the same message as 4004."""
    rc = await bot.wait_exit(10)
    t.eq(rc, 3, "exit status")
    t.eq(len(fake.conns), 0, "no websocket")
    t.eq(len(fake.reqs), 1, "one request, no retry loop")
    t.ok("rejected the bot token" in bot.log(), "log says the token was rejected")


async def sc_new_session_codes(args, fake, bot, t):
    """Close 4009 (and 4007) -> a new session: IDENTIFY, not RESUME."""
    c = await ready(fake)
    await c.close(4009, "Session timed out.")
    c2 = await fake.wait(lambda: len(fake.conns) > 1 and fake.conns[1].identify and fake.conns[1],
                         15, "IDENTIFY after 4009")
    t.eq(c2.resume, None, "no RESUME after 4009")
    await c2.close(4007, "Invalid seq.")
    c3 = await fake.wait(lambda: len(fake.conns) > 2 and fake.conns[2].identify and fake.conns[2],
                         15, "IDENTIFY after 4007")
    t.eq(c3.resume, None, "no RESUME after 4007")
    gap = c3.identify_t - c2.identify_t
    t.ok(gap >= 4.9, "IDENTIFYs at least 5 s apart (%.2f s)" % gap)


async def sc_unreachable_gateway(args, fake, bot, t):
    """A gateway url that refuses connections: retry with backoff, then ask for the url again."""
    # a port that was free a moment ago and is closed now
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    fake.gateway_urls = ["%s://127.0.0.1:%d" % (fake.ws_scheme, dead)]
    await ready(fake, timeout=15)
    gets = [r for r in fake.reqs if r.method == "GET"]
    t.eq(len(gets), 2, "GET /gateway/bot asked again after the url kept failing")
    t.ok("reconnecting in" in bot.log(), "reconnect logged")


async def sc_dns_failure(args, fake, bot, t):
    """A gateway host that does not resolve: logged, retried, then the url is asked again."""
    # an empty label: glibc refuses it without any DNS query (no network needed)
    fake.gateway_urls = ["%s://dns..invalid:%d" % (fake.ws_scheme, fake.ws_port)]
    await ready(fake, timeout=15)
    t.ok("cannot resolve dns..invalid" in bot.log(), "the resolver error is logged")
    t.eq(len([r for r in fake.reqs if r.method == "GET"]), 2, "GET /gateway/bot asked again")


async def sc_handshake_timeout(args, fake, bot, t):
    """TCP accepted but no websocket handshake: lws times out (CLOSED_CLIENT_HTTP only), we retry."""
    seen = []

    async def silent(reader, writer):
        seen.append(now())
        fake.poke()
        if len(seen) > 1:
            writer.close()
            return
        try:
            while await reader.read(4096):
                pass
        except ConnectionError:
            pass
        writer.close()
    srv = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    fake.gateway_urls = ["%s://127.0.0.1:%d" % (fake.ws_scheme, port)]
    try:
        await fake.wait(lambda: len(seen) >= 2, 25, "a second attempt after the handshake timeout")
        t.ok(seen[1] - seen[0] >= 5, "the first attempt waited for the handshake timeout")
        await ready(fake, timeout=15)
        # over TLS the silence comes before the TLS handshake is done
        want = "TLS handshake with 127.0.0.1:%d did not finish (timed out)" % port if fake.pki \
            else "handshake failed or timed out"
        t.ok(want in bot.log(), "the handshake timeout is logged: %r" % want)
    finally:
        srv.close()


async def sc_send_limit(args, fake, bot, t):
    """A server spamming op 1 cannot push the bot over 120 events per minute."""
    c = await ready(fake)
    await fake.wait(lambda: len(c.heartbeats()) >= 1, 3, "a first heartbeat")
    answered = 0
    for _ in range(130):
        n = len(c.frames)
        await c.send({"op": 1, "d": None})
        if not await fake.wait_quiet(lambda: len(c.frames) > n, 0.3):
            break
        answered += 1
    t.ok(answered >= 90, "op 1 answered at once while the budget lasts (%d)" % answered)
    # our own heartbeats still get out of the reserved part of the budget
    await fake.wait(lambda: len(c.frames) >= 113, 5, "regular heartbeats after the spam")
    t.ok(len(c.frames) <= 115, "at most 115 events sent in the minute (%d)" % len(c.frames))
    t.ok(c.open, "connection still open")
    t.ok("zombie" not in bot.log(), "no false zombie")


async def sc_unanswered_log(args, fake, bot, t):
    """Unanswered questions are logged without any mention (user, role, channel ids)."""
    await ready(fake)
    m = message("<@%s> write me a poem <@555555555555555555> about <#777777777777777777> "
                "and <@&888888888888888888> cars" % BOT_ID, mentions=[BOT_ID, "555555555555555555"])
    ok = message("<@%s> what is swedish massage" % BOT_ID, mentions=[BOT_ID])
    await fake.dispatch("MESSAGE_CREATE", m)
    await fake.dispatch("MESSAGE_CREATE", ok)
    await fake.wait(lambda: fake.replies_to(ok["id"]), 10, "the replies")
    t.eq(fake.replies_to(m["id"])[0][2],
         await ask(args, "write me a poem <@555555555555555555> about <#777777777777777777> "
                   "and <@&888888888888888888> cars"),
         "the reply keeps the other mentions as text (same as `ask`)")
    path = os.path.join(bot.dir, "unanswered.jsonl")
    rows = [json.loads(l) for l in open(path, encoding="utf-8")] if os.path.exists(path) else []
    t.eq([r["question"] for r in rows], ["write me a poem about and cars"],
         "the logged question has no mention")
    raw = open(path).read() if rows else ""
    t.ok(not re.search(r"<[@#]|5555|7777|8888|%s" % BOT_ID, raw), "no ids in the log: %r" % raw)


async def sc_reload_storm(args, fake, bot, t):
    """Questions answered while the knowledge is rebuilt and swapped again and again
    (edits and SIGHUPs): each answered once, in order, none from a half-swapped version."""
    await ready(fake)
    kdir = bot.env["KNOWLEDGE_DIR"]
    path = os.path.join(kdir, "synonyms.txt")  # new, comments only: the answers stay

    def reloads():
        return len(re.findall(r"knowledge reloaded", bot.log()))
    sent = []
    for i in range(60):
        m = message("what is swedish massage" if i % 2 else "what is deep tissue massage",
                    channel=CH_DM, guild=None)
        sent.append(m["id"])
        await fake.dispatch("MESSAGE_CREATE", m)
        if i % 10 == 0:
            with open(path, "w", encoding="utf-8") as f:
                f.write("# edit %d\n" % i)
        if i % 20 == 5:
            bot.proc.send_signal(signal.SIGHUP)
        await asyncio.sleep(0.07)
    await fake.wait(lambda: len(fake.created_order) >= len(sent), 20, "every reply")
    await fake.wait(lambda: reloads() >= 3, 10, "three reloads")
    t.eq([ref for _, ref, _, _ in fake.created_order], sent, "every question answered once, in order")
    want = await ask_many(args, ["what is deep tissue massage", "what is swedish massage"])
    t.ok(all(c == want[i % 2] for i, (_, _, _, c) in enumerate(fake.created_order)),
         "every reply is the `ask` reply")


async def sc_sighup_reload(args, fake, bot, t):
    """SIGHUP reloads the knowledge from the loop; the session goes on."""
    c = await ready(fake)
    def reloads():
        return len(re.findall(r"knowledge (re)?loaded", bot.log()))
    n = reloads()
    bot.proc.send_signal(signal.SIGHUP)
    await fake.wait(lambda: reloads() > n, 5, "a reload")
    m = message("what is swedish massage", channel=CH_DM, guild=None)
    await fake.dispatch("MESSAGE_CREATE", m)
    await fake.wait(lambda: fake.replies_to(m["id"]), 10, "a reply after the reload")
    t.eq(len(fake.conns), 1, "same connection")
    t.ok(c.open, "connection still open")


async def sc_slow_rest(args, fake, bot, t):
    """A slow POST blocks neither the heartbeat nor replies in other channels."""
    c = await ready(fake)
    hang = {"until": None}

    async def slow(req):
        if req.method == "POST" and CH_LISTED in req.path and hang["until"] is None:
            hang["until"] = now() + 3.0
            await asyncio.sleep(3.0)
        return None
    fake.rest_hook = slow
    a = message("what is swedish massage", channel=CH_LISTED)
    b = message("what is deep tissue massage", channel=CH_DM, guild=None)
    await fake.dispatch("MESSAGE_CREATE", a)
    await fake.wait(lambda: hang["until"], 5, "the slow POST to start")
    n = len(c.heartbeats())
    await fake.dispatch("MESSAGE_CREATE", b)
    await fake.wait(lambda: fake.replies_to(b["id"]), 2, "a reply in another channel meanwhile")
    t.ok(now() < hang["until"], "the other channel's reply did not wait for the slow one")
    await fake.wait(lambda: len(c.heartbeats()) >= n + 2, 2.5 * HB_MS / 1000 + SLACK,
                    "heartbeats while the POST hangs")
    t.ok(now() < hang["until"] + 0.5, "heartbeats kept their interval during the slow POST")
    await fake.wait(lambda: fake.replies_to(a["id"]), 5, "the slow reply")
    t.ok("zombie" not in bot.log(), "no zombie")


async def sc_sigterm(args, fake, bot, t):
    """SIGTERM: queued replies still go out, websocket closed with 1000, exit 0."""
    c = await ready(fake)

    async def slow(req):
        if req.method == "POST":
            await asyncio.sleep(1.0)
        return None
    fake.rest_hook = slow
    m = message("what is swedish massage", channel=CH_DM, guild=None)
    await fake.dispatch("MESSAGE_CREATE", m)
    await fake.wait(lambda: fake.posts(), 5, "the POST to start")
    bot.proc.send_signal(signal.SIGTERM)
    rc = await bot.wait_exit(10)
    t.eq(rc, 0, "exit status")
    t.eq(len(fake.replies_to(m["id"])), 1, "the queued reply was sent before exiting")
    await fake.wait(lambda: not c.open, 3, "the connection closed")
    t.eq(c.close_code, 1000, "websocket closed with 1000")


async def sc_sigterm_stuck(args, fake, bot, t):
    """SIGTERM with a reply that cannot go out: given 5 s, then logged with its id; exit 0."""
    await ready(fake)

    async def stuck(req):
        if req.method == "POST":
            await asyncio.sleep(30)
        return None
    fake.rest_hook = stuck
    m = message("what is swedish massage", channel=CH_DM, guild=None)
    await fake.dispatch("MESSAGE_CREATE", m)
    await fake.wait(lambda: fake.posts(), 5, "the POST to start")
    t0 = now()
    bot.proc.send_signal(signal.SIGTERM)
    rc = await bot.wait_exit(12)
    took = now() - t0
    t.eq(rc, 0, "exit status")
    t.ok(4.5 <= took <= 9, "gave the reply about 5 s (%.2f s)" % took)
    t.ok(re.search(r"warn.*reply to message %s .*not sent" % m["id"], bot.log()),
         "the unsent reply is logged at warn with its message id")


async def sc_burst(args, fake, bot, t):
    """200 questions at once over 3 channels: 200 replies, in order per channel, no duplicates."""
    await ready(fake)
    state = {"n": 0}

    async def flaky(req):
        if req.method != "POST":
            return None
        state["n"] += 1
        if state["n"] % 37 == 0:
            return 429, {}, {"message": "slow down", "retry_after": 0.05, "global": False}
        if state["n"] % 53 == 0:
            return 503, {}, {"message": "unavailable"}
        return None
    fake.rest_hook = flaky
    topics = ["what is swedish massage", "what is deep tissue massage", "hello",
              "is swedish massage gentle", "does deep tissue massage hurt", "help"]
    sent = {CH_LISTED: [], CH_GUILD: [], CH_DM: []}
    chans = list(sent)
    for i in range(200):
        ch = chans[i % 3]
        q = topics[i % len(topics)]
        if ch == CH_GUILD:
            m = message("<@%s> %s" % (BOT_ID, q), channel=ch, mentions=[BOT_ID])
        elif ch == CH_DM:
            m = message(q, channel=ch, guild=None)
        else:
            m = message(q, channel=ch)
        sent[ch].append(m["id"])
        await fake.dispatch("MESSAGE_CREATE", m)
    await fake.wait(lambda: len(fake.created_order) >= 200, 60, "200 replies")
    t.eq(len(fake.created_order), 200, "replies created")
    for ch in chans:
        got = [ref for c, ref, _, _ in fake.created_order if c == ch]
        t.eq(got, sent[ch], "replies in question order in channel %s" % ch)
    t.eq(fake.dup_after_success, [], "no request repeated after it succeeded")
    t.eq(len({n for _, _, n, _ in fake.created_order}), 200, "distinct nonces")
    t.eq(len(fake.conns), 1, "one connection throughout")
    # Discord's global limit: 50 requests in any second, as they arrive
    times = sorted(r.t for r in fake.reqs)
    most = max(sum(1 for u in times[i:] if u < tm + 1.0) for i, tm in enumerate(times))
    t.ok(most <= 50, "at most 50 REST requests in any second (%d)" % most)
    if fake.pki:
        t.ok(fake.tls_accepts <= HTTP_PARALLEL,
             "TLS handshakes on the REST port for %d requests: %d (connections kept; at most "
             "one per parallel transfer, %d)" % (len(fake.reqs), fake.tls_accepts, HTTP_PARALLEL))


async def sc_invalid_session_backoff(args, fake, bot, t):
    """After four reconnects in a row (the backoff is now 8 s or more), op 9
    with d: false still waits Discord's 1-5 s before the fresh IDENTIFY."""
    c = await ready(fake)
    for i in range(4):
        await c.close(4000, "unknown error")
        c = await resumed(fake, i + 1, timeout=20)
    t0 = now()
    await c.send({"op": 9, "d": False})
    c2 = await fake.wait(lambda: fake.conn is not c and fake.conn.identify and fake.conn, 20,
                         "a fresh IDENTIFY")
    waited = c2.identify_t - t0
    t.ok(1.0 <= waited <= 5.0 + 2 * SLACK, "IDENTIFY %.2f s after op 9 false" % waited)
    t.eq(c2.resume, None, "a new session, not a RESUME")


async def sc_token_echo(args, fake, bot, t):
    """Error texts that echo the token, as a proxy's error page may: a REST
    error body (403 and 400 lines quote an excerpt of it) and a gateway close
    reason.  Each is masked before it is cut to its excerpt, so not even part
    of the token reaches the log (run_one checks every scenario's log for
    any 12 characters of it)."""
    c = await ready(fake)

    async def echo(req):
        if req.method != "POST":
            return None
        if CH_OTHER in req.path:  # the token straddles the end of the 200-byte excerpt
            page = "<html><body>" + "x" * 148 + " Authorization: " + \
                req.headers.get("authorization", "") + " " + "y" * 300
            return 403, {}, page.encode()
        return 400, {}, {"message": "y" * 160 + " token " + TOKEN, "code": 50035}
    fake.rest_hook = echo
    a = message("<@%s> hello" % BOT_ID, channel=CH_OTHER, mentions=[BOT_ID])
    b = message("what is swedish massage", channel=CH_DM, guild=None)
    await fake.dispatch("MESSAGE_CREATE", a)
    await fake.dispatch("MESSAGE_CREATE", b)
    await fake.wait(lambda: re.search(r"message %s .*refused: HTTP 403" % a["id"], bot.log()) and
                    re.search(r"message %s .*failed: HTTP 400" % b["id"], bot.log()), 10,
                    "both refusals logged")
    await c.close(4000, "x" * 50 + TOKEN)  # 120 bytes: a close reason holds 123
    await resumed(fake, 1)
    log = bot.log()
    lines = [l for l in warn_lines(log) if a["id"] in l or b["id"] in l or "4000" in l]
    t.eq(len(lines), 3, "the three lines: %r" % lines)
    t.ok(all("********" in l for l in lines), "each shows the token masked: %r" % lines)


# ---- TLS ---------------------------------------------------------------------

def warn_lines(log):
    return [l for l in log.splitlines() if re.search(r" massagebot (warn|error): ", l)]


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


async def tls_refused(fake, bot, t, leaf, kind):
    """Two REST handshakes, then two gateway handshakes, meet a certificate the
    bot must refuse: each refusal is one warn line naming the cause, the next
    try waits the backoff, nothing is sent over them (no token); with the good
    certificate back, the session starts."""
    fake.bad_cert["rest"] = [leaf, leaf]
    fake.bad_cert["gateway"] = [leaf, leaf]
    hellos = {"rest": [], "gateway": []}

    def note():
        for side, times in hellos.items():
            while len(times) < fake.tls_hellos[side]:
                times.append(now())
        return fake.conn and fake.conn.identify
    await fake.wait(note, 40, "IDENTIFY after the refused certificates")
    log = bot.log()
    rest = [l for l in warn_lines(log) if "GET /gateway/bot failed" in l]
    gw = [l for l in warn_lines(log) if "gateway: connection failed" in l]
    t.eq(len(rest), 2, "one warn line per refused REST certificate: %r" % rest)
    t.eq(len(gw), 2, "one warn line per refused gateway certificate: %r" % gw)
    for l in rest:
        t.ok(re.search(r"TLS certificate of 127\.0\.0\.1:\d+ refused: %s \(" % kind, l),
             "the REST line names %r: %r" % (kind, l))
    for l in gw:
        t.ok("TLS certificate of 127.0.0.1:%d refused: %s (" % (fake.ws_port, kind) in l,
             "the gateway line names %r: %r" % (kind, l))
    others = [l for l in warn_lines(log) if l not in rest + gw and "unreachable" not in l]
    t.eq(others, [], "no other warn lines (lws's own, OpenSSL's codes)")
    t.ok(not any("SSL err" in l or "error:0" in l or "lws:" in l for l in warn_lines(log)),
         "no raw lws or OpenSSL error strings")
    t.eq(fake.bad_data, 0, "nothing sent over a refused certificate (no token)")
    t.eq(len([r for r in fake.reqs if r.method == "GET"]), 2,
         "GET /gateway/bot reached the fake once per good handshake")
    t.eq(len(fake.conns), 1, "one websocket, after the good handshake")
    t.ok(hellos["rest"][:3] and all(g >= 0.45 for g in gaps(hellos["rest"][:3])),
         "REST retries waited the backoff: %s" % gaps(hellos["rest"]))
    g = gaps(hellos["gateway"][:3])
    t.ok(len(g) == 2 and g[0] >= 0.45 and g[1] >= 0.9,
         "gateway retries waited the growing backoff: %s" % g)


async def sc_tls_untrusted(args, fake, bot, t):
    """A certificate from a CA the bot does not trust, on REST and the gateway."""
    await tls_refused(fake, bot, t, fake.pki.untrusted, "untrusted issuer")


async def sc_tls_other_host(args, fake, bot, t):
    """A certificate from the trusted CA for another host name."""
    await tls_refused(fake, bot, t, fake.pki.other_host, "host name mismatch")


async def sc_tls_expired(args, fake, bot, t):
    """An expired certificate from the trusted CA."""
    await tls_refused(fake, bot, t, fake.pki.expired, "expired")


async def sc_tls_gateway_broken(args, fake, bot, t):
    """Gateway TLS handshakes that stop halfway: one goes silent (lws gives up
    after its handshake timeout), one hangs up; each is one warn line saying
    so, the next try waits the backoff, nothing reaches the gateway before a
    good handshake (no IDENTIFY, so no token)."""
    fake.gateway_front.faults = ["stall", "cut"]
    c = await ready(fake, timeout=40)
    log = bot.log()
    gw = [l for l in warn_lines(log) if "gateway: connection failed" in l]
    port = fake.gateway_front.port
    t.eq(len(gw), 2, "one warn line per broken handshake: %r" % gw)
    t.ok(gw and "TLS handshake with 127.0.0.1:%d did not finish (timed out)" % port in gw[0],
         "the silent server is named: %r" % gw[:1])
    t.ok(len(gw) > 1 and "TLS handshake with 127.0.0.1:%d" % port in gw[1] and
         ("broke off" in gw[1] or "failed:" in gw[1]), "the hang-up is named: %r" % gw[1:])
    t.ok(not any("SSL err" in l or "SYSCALL" in l for l in warn_lines(log)),
         "no raw lws error strings")
    times = [tm for _, tm in fake.gateway_front.done]
    t.ok(len(times) >= 3 and times[2] - times[1] >= 0.45, "the retry waited the backoff")
    t.eq(len(fake.conns), 1, "only the good handshake reached the gateway")
    t.ok(c.identify is not None, "IDENTIFY on the good connection")


async def sc_tls_rest_broken(args, fake, bot, t):
    """REST TLS handshakes that stop halfway (hang-up, then silence): one warn
    line each, backoff, no request before a good handshake."""
    fake.rest_front.faults = ["cut", "stall"]
    await ready(fake, timeout=40)
    rest = [l for l in warn_lines(bot.log()) if "GET /gateway/bot failed" in l]
    t.eq(len(rest), 2, "one warn line per broken handshake: %r" % rest)
    port = fake.rest_front.port
    t.ok(rest and "TLS handshake with 127.0.0.1:%d broke off" % port in rest[0],
         "the hang-up is named: %r" % rest[:1])
    t.ok(len(rest) > 1 and "TLS handshake with 127.0.0.1:%d did not finish (timed out)" % port
         in rest[1], "the silence is named: %r" % rest[1:])
    times = [tm for _, tm in fake.rest_front.done]
    t.ok(len(times) >= 2 and times[1] - times[0] >= 0.45, "the retry waited the backoff")
    t.eq(len([r for r in fake.reqs if r.method == "GET"]), 1, "one GET reached the fake")


async def sc_tls_system_trust(args, fake, bot, t):
    """Unset SSL_CERT_FILE: the system bundle is trusted, for REST and the
    gateway alike (here the test CA stands in it, in the bot's own mount
    namespace)."""
    await ready(fake)
    m = message("what is swedish massage", channel=CH_DM, guild=None)
    await fake.dispatch("MESSAGE_CREATE", m)
    await fake.wait(lambda: fake.replies_to(m["id"]), 10, "the reply")
    log = bot.log()
    t.ok(re.search(r"trusting the \d+ certificate authorities in /\S+\s*$", log, re.M) and
         "(SSL_CERT_FILE)" not in log, "the system's bundle is the one trusted")
    t.ok(fake.tls_accepts >= 1, "REST over TLS")


async def sc_tls_trust_missing(args, fake, bot, t):
    """SSL_CERT_FILE naming no file: exit 2 before any connection, naming it."""
    rc = await bot.wait_exit(10)
    t.eq(rc, 2, "exit status")
    log = bot.log()
    t.ok("SSL_CERT_FILE" in log and "/nonexistent/ca.pem" in log and "No such file" in log,
         "the line names the variable, the file and the reason")
    t.eq(fake.tls_hellos, {"rest": 0, "gateway": 0}, "no connection")


async def sc_tls_trust_empty(args, fake, bot, t):
    """SSL_CERT_FILE with no certificate in it: exit 1 before any connection."""
    rc = await bot.wait_exit(10)
    t.eq(rc, 1, "exit status")
    t.ok(re.search(r"error: .*no certificate found", bot.log()), "the line says no certificate")
    t.eq(fake.tls_hellos, {"rest": 0, "gateway": 0}, "no connection")


async def sc_tls_reuse(args, fake, bot, t):
    """Replies one after another keep the REST connection: one TLS handshake."""
    await ready(fake)
    for i in range(20):
        m = message("what is swedish massage", channel=CH_DM, guild=None)
        await fake.dispatch("MESSAGE_CREATE", m)
        await fake.wait(lambda: fake.replies_to(m["id"]), 10, "reply %d" % (i + 1))
    t.eq(fake.tls_accepts, 1, "TLS handshakes on the REST port for GET /gateway/bot and 20 "
         "replies")


async def sc_conversation(args, fake, bot, t):
    """Follow-ups and choices are read per person and place: a DM; each person in a channel."""
    await ready(fake)
    other = "4000000000000000003"

    async def say(content, **kw):
        m = message(content, **kw)
        await fake.dispatch("MESSAGE_CREATE", m)
        await fake.wait(lambda: fake.replies_to(m["id"]), 10, "the reply to %r" % content)
        return fake.replies_to(m["id"])[0][2]

    deep, often, followup, offer, length = await ask_many(args, [
        "what is deep tissue massage", "how often should i get a massage for back pain",
        "and how often?", "hours", "how long does a session last"])
    t.eq(await say("what is deep tissue massage", channel=CH_DM, guild=None), deep, "DM: first")
    t.eq(await say("and how often?", channel=CH_DM, guild=None), often,
         "DM: 'and how often?' read with the topic")
    # in a channel, each person has their own conversation
    t.eq(await say("what is deep tissue massage", channel=CH_LISTED), deep, "channel: first")
    t.eq(await say("and how often?", channel=CH_LISTED, author=other), followup,
         "channel: another person's 'and how often?' stands alone")
    t.eq(await say("and how often?", channel=CH_LISTED), often,
         "channel: the same person's 'and how often?' is a follow-up")
    # "did you mean": a number picks the choice
    t.eq(await say("hours", channel=CH_DM, guild=None), offer, "DM: did you mean")
    t.eq(await say("2", channel=CH_DM, guild=None), length, "DM: '2' picks the second choice")
    t.ok("what is deep tissue" not in bot.log(), "no message text in the log")


def created_for(fake, mid):
    """The messages (id, body) created in reply to question or press mid, in order."""
    out = []
    for ch, ref, nonce, content in fake.created_order:
        if nonce and nonce.rsplit(".", 1)[0] == mid:
            msg = fake.created[nonce]
            out.append((msg["id"], fake.bodies[msg["id"]]))
    return out


def press(fake, message_id, custom_id, channel=CH_DM, guild=None, user=USER):
    """An INTERACTION_CREATE for a button on message_id."""
    iid = new_id()
    token = "aW50ZXJhY3Rpb246%s.tok-en_%s" % (iid, iid[-4:])
    fake.interactions[iid] = token
    d = {"id": iid, "application_id": BOT_ID, "type": 3, "token": token, "version": 1,
         "channel_id": channel, "message": {"id": message_id, "channel_id": channel},
         "data": {"custom_id": custom_id, "component_type": 2}}
    if guild:
        d["guild_id"] = guild
        d["member"] = {"user": {"id": user, "username": "someone"}}
    else:
        d["user"] = {"id": user, "username": "someone"}
    return d


async def sc_choice_buttons(args, fake, bot, t):
    """'did you mean' choices are buttons; a press is acknowledged at once and answered."""
    await ready(fake)
    offer, length, hours = await ask_many(args, [
        "hours", "how long does a session last", "what are your opening hours"])
    m = message("hours", channel=CH_DM, guild=None)
    await fake.dispatch("MESSAGE_CREATE", m)
    await fake.wait(lambda: fake.replies_to(m["id"]), 10, "the did-you-mean reply")
    (mid, body), = created_for(fake, m["id"])
    t.eq(body.get("content"), offer, "the text lists the choices (typed form)")
    rows = body.get("components") or []
    t.eq(len(rows), 1, "one action row")
    buttons = rows[0].get("components", []) if rows else []
    t.eq([b.get("label") for b in buttons], ["1. Opening hours", "2. How long a session lasts"],
         "button labels")
    t.ok(all(b.get("type") == 2 and b.get("style") in (1, 2) and 0 < len(b.get("custom_id", "")) <= 100
             for b in buttons), "buttons: type 2, a style, a custom_id of 1-100 characters")
    # pressing the second: acknowledged within 3 s, buttons taken off, then the answer
    d = press(fake, mid, buttons[1]["custom_id"])
    t0 = now()
    await fake.dispatch("INTERACTION_CREATE", d)
    await fake.wait(lambda: d["id"] in fake.acked, 3, "the interaction callback")
    at, ack = fake.acked[d["id"]]
    t.ok(at - t0 < 3.0, "acknowledged within 3 s (%.2f s)" % (at - t0))
    t.eq(ack, {"type": 7, "data": {"components": []}}, "callback: update the message, no buttons")
    await fake.wait(lambda: created_for(fake, d["id"]), 10, "the answer to the press")
    (aid, abody), = created_for(fake, d["id"])
    t.eq(abody.get("content"), length, "the press answers the second choice")
    t.eq(abody.get("message_reference", {}).get("message_id"), mid,
         "the answer quotes the message with the buttons")
    t.ok("components" not in abody, "an answer has no buttons")
    # the same press replayed (a resumed session) is answered once
    await fake.dispatch("INTERACTION_CREATE", d)
    # the typed form still works (in another DM: a new conversation)
    m2 = message("hours", channel=CH_OTHER, guild=None)
    await fake.dispatch("MESSAGE_CREATE", m2)
    await fake.wait(lambda: created_for(fake, m2["id"]), 10, "a second did-you-mean")
    t.eq(len(created_for(fake, d["id"])), 1, "a replayed press is answered once")
    m3 = message("the first one", channel=CH_OTHER, guild=None)
    await fake.dispatch("MESSAGE_CREATE", m3)
    await fake.wait(lambda: fake.replies_to(m3["id"]), 10, "the typed choice")
    t.eq(fake.replies_to(m3["id"])[0][2], hours, "'the first one' picks the first choice")
    # a press in a guild channel, by someone else than the asker, is theirs
    m4 = message("hours", channel=CH_LISTED)
    await fake.dispatch("MESSAGE_CREATE", m4)
    await fake.wait(lambda: created_for(fake, m4["id"]), 10, "a did-you-mean in the channel")
    (mid4, body4), = created_for(fake, m4["id"])
    b4 = body4["components"][0]["components"][0]["custom_id"]
    d4 = press(fake, mid4, b4, channel=CH_LISTED, guild=GUILD, user="4000000000000000007")
    await fake.dispatch("INTERACTION_CREATE", d4)
    await fake.wait(lambda: created_for(fake, d4["id"]) and d4["id"] in fake.acked, 10,
                    "the answer to a press in a channel")
    t.eq(created_for(fake, d4["id"])[0][1].get("content"), hours, "the press in the channel")
    t.ok(TOKEN not in bot.log() and d["token"] not in bot.log(),
         "no token or interaction token in the log")


async def sc_buttons_refused(args, fake, bot, t):
    """A reply whose buttons Discord refuses (400) is sent again as text alone."""
    await ready(fake)

    async def hook(req):
        if req.method == "POST" and isinstance(req.json, dict) and "components" in req.json:
            return 400, {}, {"message": "Invalid Form Body", "code": 50035}
        return None
    fake.rest_hook = hook
    offer = await ask(args, "hours")
    m = message("hours", channel=CH_DM, guild=None)
    await fake.dispatch("MESSAGE_CREATE", m)
    await fake.wait(lambda: fake.replies_to(m["id"]), 10, "the reply without buttons")
    t.eq([c for _, _, c in fake.replies_to(m["id"])], [offer], "the text, once")
    t.eq(len([r for r in fake.posts() if "/channels/" in r.path]), 2, "one refused POST, one sent")
    t.ok("refused its buttons" in bot.log(), "the refusal is logged")


async def sc_thumbs(args, fake, bot, t):
    """Thumbs on the bot's answers go to the feedback log: once per person, answers only."""
    await ready(fake)
    log = os.path.join(bot.dir, "feedback.jsonl")

    async def asked(content, **kw):
        m = message(content, **kw)
        await fake.dispatch("MESSAGE_CREATE", m)
        await fake.wait(lambda: created_for(fake, m["id"]), 10, "the reply to %r" % content)
        return created_for(fake, m["id"])[0][0]

    def react(mid, emoji, user=USER, channel=CH_DM, guild=None, emoji_id=None, bot_user=False):
        d = {"user_id": user, "channel_id": channel, "message_id": mid,
             "emoji": {"id": emoji_id, "name": emoji}, "type": 0}
        if guild:
            d["guild_id"] = guild
            d["member"] = {"user": {"id": user, "bot": bot_user}}
        return fake.dispatch("MESSAGE_REACTION_ADD", d)

    def entries():
        try:
            with open(log) as f:
                return [json.loads(l) for l in f if l.strip()]
        except FileNotFoundError:
            return []

    deep = await asked("what is deep tissue massage", channel=CH_DM, guild=None)
    swed = await asked("what is swedish massage", channel=CH_LISTED)
    hello = await asked("hello", channel=CH_DM, guild=None)
    offer = await asked("hours", channel=CH_DM, guild=None)
    await react(deep, "\U0001F44E")                       # counted: down
    await react(deep, "\U0001F44E")                       # the same again: not counted
    await react(deep, "\U0001F44D\U0001F3FD")             # up, with a skin tone: counted
    await react(swed, "\U0001F44D", channel=CH_LISTED, guild=GUILD)   # counted: up
    await react(swed, "\U0001F44E", user="4000000000000000008", channel=CH_LISTED, guild=GUILD,
                bot_user=True)                            # a bot: not counted
    await react(swed, "\U0001F44E", user=BOT_ID, channel=CH_LISTED, guild=GUILD)  # itself
    await react(hello, "\U0001F44E")                      # small talk: not counted
    await react(offer, "\U0001F44E")                      # a did-you-mean: not counted
    await react(deep, "\u2764\ufe0f")                      # another emoji
    await react(deep, "thumbsdown", emoji_id="7000000000000000001")  # a custom emoji
    await react("9999999999999999999", "\U0001F44E")       # not a message of ours
    # a sentinel: a last counted thumb, then everything before it has been read
    await react(deep, "\U0001F44E", user="4000000000000000009")
    await fake.wait(lambda: len(entries()) >= 4, 10, "four feedback lines")
    got = [(e.get("answer"), e.get("helpful"), e.get("platform")) for e in entries()]
    t.eq(got, [("deep-tissue-massage", False, "discord"), ("deep-tissue-massage", True, "discord"),
               ("swedish-massage", True, "discord"), ("deep-tissue-massage", False, "discord")],
         "feedback lines")
    text = open(log).read()
    t.ok(USER not in text and CH_DM not in text and deep not in text,
         "no user, channel or message id in the feedback log")


SCENARIOS = [
    ("identify", sc_identify, {}),
    ("heartbeat", sc_heartbeat, {}),
    ("heartbeat_request", sc_heartbeat_request, {"hb_ms": 10000}),
    ("answer_policy", sc_answer_policy, {"channels": CH_LISTED + ",2000000000000000099"}),
    ("reply_format", sc_reply_format, {}),
    ("split_2000", sc_split, {}),
    ("rate_limit_429", sc_rate_limit, {"channels": CH_LISTED}),
    ("server_errors", sc_server_errors, {"channels": CH_LISTED}),
    ("malformed_frames", sc_malformed, {"hb_ms": 5000}),
    ("close_4000_resume", sc_resume_4000, {}),
    ("network_drop_resume", sc_network_drop, {}),
    ("reconnect_delay", sc_reconnect_delay, {}),
    ("op7_reconnect", sc_reconnect_op7, {}),
    ("op9_invalid_session", sc_invalid_session, {}),
    ("op9_after_reconnects", sc_invalid_session_backoff, {"slow": True}),
    ("zombie", sc_zombie, {}),
    ("close_4004_fatal", sc_fatal_4004, {"exits": 3}),
    ("close_4014_fatal", sc_fatal_4014, {"exits": 3}),
    ("gateway_bot_401", sc_gateway_401, {"exits": 3, "gateway_status": 401}),
    ("close_4009_4007_new_session", sc_new_session_codes, {"slow": True}),
    ("unreachable_gateway", sc_unreachable_gateway, {}),
    ("dns_failure", sc_dns_failure, {}),
    ("handshake_timeout", sc_handshake_timeout, {"slow": True}),
    ("send_limit_op1_spam", sc_send_limit, {}),
    ("unanswered_log", sc_unanswered_log, {"env": {"UNANSWERED_LOG": "unanswered.jsonl"}}),
    ("sighup_reload", sc_sighup_reload, {}),
    ("reload_storm", sc_reload_storm, {"copy_knowledge": True}),
    ("slow_rest", sc_slow_rest, {"channels": CH_LISTED}),
    ("sigterm_drains", sc_sigterm, {"exits": 0}),
    ("sigterm_stuck_reply", sc_sigterm_stuck, {"exits": 0}),
    ("burst_200", sc_burst, {"channels": CH_LISTED}),
    ("conversation", sc_conversation, {"channels": CH_LISTED, "knowledge": "knowledge"}),
    ("choice_buttons", sc_choice_buttons, {"channels": CH_LISTED, "knowledge": "knowledge"}),
    ("buttons_refused", sc_buttons_refused, {"knowledge": "knowledge"}),
    ("thumbs", sc_thumbs, {"channels": CH_LISTED, "knowledge": "knowledge",
                           "env": {"FEEDBACK_LOG": "feedback.jsonl"}}),
    ("token_echo_masked", sc_token_echo, {}),
    ("tls_untrusted", sc_tls_untrusted, {"modes": ("tls",), "slow": True}),
    ("tls_other_host", sc_tls_other_host, {"modes": ("tls",), "slow": True}),
    ("tls_expired", sc_tls_expired, {"modes": ("tls",), "slow": True}),
    ("tls_gateway_broken", sc_tls_gateway_broken, {"modes": ("tls",), "slow": True, "gateway_front": True}),
    ("tls_rest_broken", sc_tls_rest_broken, {"modes": ("tls",), "slow": True, "rest_front": True}),
    ("tls_system_trust", sc_tls_system_trust, {"modes": ("tls",), "system_trust": True}),
    ("tls_trust_missing", sc_tls_trust_missing,
     {"modes": ("tls",), "exits": 2, "env": {"SSL_CERT_FILE": "/nonexistent/ca.pem"}}),
    ("tls_trust_empty", sc_tls_trust_empty,
     {"modes": ("tls",), "exits": 1, "env": {"SSL_CERT_FILE": "/dev/null"}}),
    ("tls_reuse", sc_tls_reuse, {"modes": ("tls",)}),
]


def sanitizer_reports(log):
    return [l for l in log.splitlines()
            if "ERROR: AddressSanitizer" in l or "ERROR: LeakSanitizer" in l
            or "runtime error:" in l or "SUMMARY: UndefinedBehavior" in l
            or "WARNING: ThreadSanitizer" in l or "SUMMARY: ThreadSanitizer" in l]


def token_pieces(log):
    """Pieces of the token (12 characters or more) that made it into the log."""
    return sorted({TOKEN[i:i + 12] for i in range(len(TOKEN) - 11) if TOKEN[i:i + 12] in log})


async def run_one(args, name, fn, opts, pki):
    fake = Fake(hb_ms=opts.get("hb_ms", HB_MS), pki=pki)
    await fake.start()
    fronts = []
    if "gateway_status" in opts:
        st = opts["gateway_status"]

        async def refuse(req):
            return st, {}, {"message": "401: Unauthorized", "code": 0}
        fake.rest_hook = refuse
    env = dict(opts.get("env") or {})
    if opts.get("rest_front"):  # REST reached through a Front (fake.rest_front)
        fake.rest_front = await Front(fake, fake.http_port).start()
        fronts.append(fake.rest_front)
        env["DISCORD_API_BASE"] = "https://127.0.0.1:%d/api/v10" % fake.rest_front.port
    if opts.get("gateway_front"):  # the gateway url handed out is a Front's
        fake.gateway_front = await Front(fake, fake.ws_port).start()
        fronts.append(fake.gateway_front)
        fake.ws_url = "wss://127.0.0.1:%d" % fake.gateway_front.port
    bot = Bot(args, fake, channels=opts.get("channels", ""), env=env,
              system_trust=opts.get("system_trust", False))
    if opts.get("knowledge"):  # the shipped knowledge (next to tests/)
        bot.env["KNOWLEDGE_DIR"] = os.path.join(os.path.dirname(HERE), opts["knowledge"])
        args = argparse.Namespace(**vars(args))
        args.knowledge = bot.env["KNOWLEDGE_DIR"]
    if opts.get("copy_knowledge"):  # a scenario that edits the knowledge gets its own copy
        shutil.copytree(args.knowledge, os.path.join(bot.dir, "knowledge"))
        bot.env["KNOWLEDGE_DIR"] = os.path.join(bot.dir, "knowledge")
    try:
        await bot.start()
    except Fail as e:
        print("FAIL %-30s %s" % (name, e))
        await fake.stop()
        bot.cleanup()
        return False
    t = T()
    t0 = now()
    try:
        await fn(args, fake, bot, t)
        if "exits" not in opts:
            rc = await bot.stop()
            t.eq(rc, 0, "exit status after SIGTERM")
            if fake.conns:
                await fake.wait(lambda: not fake.conns[-1].open, 3, "the final close")
                t.eq(fake.conns[-1].close_code, 1000, "final close code")
    except Fail as e:
        t.failures.append(str(e))
    except Exception:
        t.failures.append(traceback.format_exc())
    finally:
        bot.kill()
        if bot.proc.returncode is None:
            await bot.proc.wait()
        for f in fronts:
            f.close()
        await fake.stop()
    log = bot.log()
    if token_pieces(log):
        t.failures.append("pieces of the token appear in the log: %s" % token_pieces(log))
    for l in sanitizer_reports(log):
        t.failures.append("sanitizer: " + l)
    took = now() - t0
    if t.failures:
        print("FAIL %-30s (%.1f s)" % (name, took))
        for f in t.failures:
            print("    - " + f.rstrip().replace("\n", "\n      "))
        print("    log (last 40 lines):")
        for l in log.splitlines()[-40:]:
            print("      | " + l)
    else:
        print("ok   %-30s (%.1f s)" % (name, took))
    sys.stdout.flush()
    bot.cleanup()
    return not t.failures


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", required=True)
    ap.add_argument("--knowledge", required=True)
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("DISCORD_TEST_JOBS", "6")))
    ap.add_argument("--modes", default=os.environ.get("DISCORD_TEST_MODES", "plain,tls"),
                    help="plain (ws://, http://), tls (wss://, https://) or both")
    ap.add_argument("names", nargs="*", help="scenarios (NAME in both modes, NAME/tls in one)")
    args = ap.parse_args()
    args.mb = os.path.abspath(args.mb)
    args.knowledge = os.path.abspath(args.knowledge)
    modes = [m for m in args.modes.split(",") if m]
    todo = []  # (name as shown, fn, opts, tls)
    for name, fn, opts in SCENARIOS:
        for m in modes:
            if m not in opts.get("modes", ("plain", "tls")):
                continue
            shown = name + ("/tls" if m == "tls" else "")
            if not args.names or name in args.names or shown in args.names:
                todo.append((shown, fn, opts, m == "tls"))
    known = {s[0] for s in SCENARIOS} | {s[0] + "/tls" for s in SCENARIOS}
    unknown = set(args.names) - known
    if not todo and not unknown:
        return 0  # nothing asked of this mode
    todo.sort(key=lambda x: not x[2].get("slow"))  # the long ones first: a shorter tail
    if unknown or set(modes) - {"plain", "tls"}:
        print("unknown scenario(s) or mode(s): %s" % ", ".join(sorted(unknown) or modes))
        return 2
    # the server side of a handshake the bot refuses is not news
    asyncio.get_running_loop().set_exception_handler(
        lambda loop, ctx: None if isinstance(ctx.get("exception"), (ssl.SSLError, OSError))
        else loop.default_exception_handler(ctx))
    pki = PKI() if any(tls for *_, tls in todo) else None
    t0 = now()
    failed = []
    # scenarios are independent (own fake, own ports, own bot): run a few at once
    lanes = asyncio.Semaphore(max(1, args.jobs))

    async def one(name, fn, opts, tls):
        async with lanes:
            if not await run_one(args, name, fn, opts, pki if tls else None):
                failed.append(name)
    try:
        await asyncio.gather(*(one(*s) for s in todo))
    finally:
        if pki:
            pki.cleanup()
    print("%d scenario(s), %d failed, %.1f s" % (len(todo), len(failed), now() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
