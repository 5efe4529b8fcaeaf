"""cdp.py: a small Chrome DevTools Protocol client for the browser tests.

Starts Debian's headless chromium with a fresh profile, talks to it over the
DevTools websocket (python3-websockets, asyncio) and gives each tab a Page with
what the tests need: navigate, evaluate JavaScript, wait for a condition or an
event with a deadline, real mouse clicks and key presses, viewport and colour
scheme, screenshots, and the page's problems (uncaught exceptions, console
errors, Content-Security-Policy violations).  No npm, no browser download.

    async with cdp.Browser() as browser:
        page = await browser.new_page(1280, 800)
        await page.goto("http://127.0.0.1:8080/")
        await page.wait_for("document.title")
        await page.screenshot("build/screenshots/home.png")

Every wait has a deadline and raises cdp.Timeout naming what it waited for.
"""

import asyncio
import base64
import ctypes
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import websockets

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The flags that work headless as root in a container without a GPU; nothing
# is fetched from the network by the browser itself.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
    "--remote-debugging-port=0",
]

# Input.dispatchKeyEvent fields for the keys the tests press.
KEYS = {
    "Enter": {"code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"},
    "Escape": {"code": "Escape", "windowsVirtualKeyCode": 27},
    "Tab": {"code": "Tab", "windowsVirtualKeyCode": 9},
    " ": {"code": "Space", "windowsVirtualKeyCode": 32, "text": " "},
}
SHIFT = 8  # Input.dispatchKeyEvent modifiers bit
PR_SET_CHILD_SUBREAPER = 36  # prctl(2)


class Error(Exception):
    """A DevTools command failed, or JavaScript threw."""


class Timeout(Error):
    """A wait ran past its deadline."""


class Browser:
    """One headless chromium process with its own temporary profile."""

    def __init__(self, binary=CHROMIUM, start_timeout=30.0):
        self.binary = binary
        self.start_timeout = start_timeout
        self.proc = None
        self.profile = None
        self.ws = None
        self.reader = None
        self.next_id = 0
        self.replies = {}  # command id -> future
        self.pages = {}  # session id -> Page

    async def __aenter__(self):
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def start(self):
        self.profile = tempfile.mkdtemp(prefix="cdp-profile-")
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        # Debian's chromium always starts crashpad handlers, detached from it
        # and outside its process group; as a child subreaper this process
        # inherits them, so close() can reap them rather than leave zombies.
        # Their crash database goes into the profile through XDG_CONFIG_HOME.
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        env = dict(os.environ, XDG_CONFIG_HOME=self.profile, XDG_CACHE_HOME=self.profile)
        self.proc = subprocess.Popen(
            [self.binary, *FLAGS, "--user-data-dir=" + self.profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, env=env, start_new_session=True)
        # chromium writes "port\n/devtools/browser/<id>" once it listens.
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + self.start_timeout
        lines = []
        while len(lines) < 2:
            if self.proc.poll() is not None:
                raise Error("chromium exited with %d:\n%s" % (self.proc.returncode, self.chromium_log()))
            if time.monotonic() > deadline:
                raise Timeout("chromium did not write DevToolsActivePort within %.0f s:\n%s"
                              % (self.start_timeout, self.chromium_log()))
            await asyncio.sleep(0.05)
            try:
                with open(port_file) as f:
                    lines = f.read().split()
            except FileNotFoundError:
                pass
        url = "ws://127.0.0.1:%s%s" % (lines[0], lines[1])
        self.ws = await websockets.connect(url, max_size=None, ping_interval=None)
        self.reader = asyncio.create_task(self._read())

    async def _reap_orphans(self, timeout=10.0):
        """Waits for the helpers chromium left to us (see start); kills any
        still there after timeout (they are ours: started by our browser)."""
        deadline = time.monotonic() + timeout
        while True:
            kids = [pid for pid in _children() if pid != self.proc.pid]
            for pid in kids:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
            kids = [pid for pid in _children() if pid != self.proc.pid]
            if not kids:
                return
            if time.monotonic() > deadline:
                for pid in kids:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                return
            await asyncio.sleep(0.05)

    def chromium_log(self, tail=2000):
        try:
            with open(os.path.join(self.profile, "chromium.log"), "rb") as f:
                return f.read()[-tail:].decode("utf-8", "replace")
        except OSError:
            return ""

    async def _read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if "id" in msg:
                    fut = self.replies.pop(msg["id"], None)
                    if fut and not fut.done():
                        fut.set_result(msg)
                elif msg.get("sessionId") in self.pages:
                    self.pages[msg["sessionId"]]._event(msg["method"], msg.get("params", {}))
        except websockets.ConnectionClosed:
            pass
        finally:
            for fut in self.replies.values():
                if not fut.done():
                    fut.set_exception(Error("DevTools connection closed"))

    async def send(self, method, params=None, session=None, timeout=30.0):
        """Runs one DevTools command; returns its result or raises Error."""
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        fut = asyncio.get_running_loop().create_future()
        self.replies[self.next_id] = fut
        await self.ws.send(json.dumps(msg))
        try:
            reply = await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise Timeout("%s: no answer within %.0f s" % (method, timeout)) from None
        if "error" in reply:
            raise Error("%s: %s" % (method, reply["error"].get("message")))
        return reply.get("result", {})

    async def new_page(self, width=1280, height=800, dark=False):
        """Opens a tab of that size (mobile emulation below 600 px wide)."""
        target = (await self.send("Target.createTarget", {"url": "about:blank"}))["targetId"]
        session = (await self.send("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
        page = Page(self, session, target)
        self.pages[session] = page
        for domain in ("Page", "Runtime", "Log"):
            await page.send(domain + ".enable")
        await page.viewport(width, height, dark)
        return page

    async def close(self):
        # Browser.close lets chromium end its helper processes itself (killed
        # from outside they would outlive it as zombies); the process group
        # we started is killed only if that does not work.
        if self.ws:
            try:
                await self.send("Browser.close", timeout=5)
            except Error:
                pass  # it may close the connection before it answers
            await self.ws.close()
            await self.reader
        elif self.proc and self.proc.poll() is None:  # it never got as far as DevTools
            os.killpg(self.proc.pid, signal.SIGTERM)
        if self.proc:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            await self._reap_orphans()
        if self.profile:
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)


def _children():
    """Process ids whose parent is this process, from /proc, with a chromium name."""
    me = str(os.getpid())
    out = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
        except (OSError, ValueError):
            continue
        # pid (comm) state ppid ...; comm may hold spaces, so split after the last ')'
        name = stat[stat.find("(") + 1:stat.rfind(")")]
        if stat[stat.rfind(")") + 2:].split()[1] == me and "chrom" in name:
            out.append(int(pid))
    return out


class Page:
    """One tab, reached through a flattened DevTools session."""

    def __init__(self, browser, session, target):
        self.browser = browser
        self.session = session
        self.target = target
        self.events = []  # (method, params), every event since the tab opened
        self.changed = asyncio.Event()

    def _event(self, method, params):
        self.events.append((method, params))
        self.changed.set()

    async def send(self, method, params=None, timeout=30.0):
        return await self.browser.send(method, params, self.session, timeout)

    async def eval(self, expression, timeout=30.0):
        """Evaluates JavaScript in the page (awaiting a promise); returns the value as JSON."""
        r = await self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                  "awaitPromise": True}, timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise Error("JavaScript error: %s\n  in: %s" % (
                d.get("exception", {}).get("description") or d.get("text"), expression[:300]))
        return r["result"].get("value")

    async def wait_for(self, expression, timeout=10.0, what=None):
        """Re-evaluates expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.eval(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise Timeout("waited %.0f s for %s" % (timeout, what or expression))
            await asyncio.sleep(0.05)

    async def wait_event(self, method, match=lambda params: True, since=0, timeout=10.0):
        """Waits for an event (from index since in self.events); returns its params."""
        deadline = time.monotonic() + timeout
        i = since
        while True:
            for m, params in self.events[i:]:
                if m == method and match(params):
                    return params
            i = len(self.events)
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("waited %.0f s for the event %s" % (timeout, method))
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def goto(self, url, timeout=20.0):
        """Navigates and waits for the load event."""
        since = len(self.events)
        r = await self.send("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise Error("navigating to %s: %s" % (url, r["errorText"]))
        await self.wait_event("Page.loadEventFired", since=since, timeout=timeout)

    async def add_init_script(self, source):
        """Runs source in every document this tab loads, before the page's own scripts."""
        await self.send("Page.addScriptToEvaluateOnNewDocument", {"source": source})

    async def viewport(self, width, height, dark=False):
        await self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        await self.send("Emulation.setEmulatedMedia", {"features": [
            {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})

    async def screenshot(self, path):
        data = (await self.send("Page.captureScreenshot", {"format": "png"}))["data"]
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    async def click(self, element):
        """A real left click in the middle of the element that the JavaScript expression gives."""
        xy = await self.eval("(() => { const e = %s; if (!e) return null; e.scrollIntoView({block: 'nearest'});"
                             " const r = e.getBoundingClientRect();"
                             " return [r.left + r.width / 2, r.top + r.height / 2]; })()" % element)
        if not xy:
            raise Error("nothing to click: " + element)
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", {"type": kind, "x": xy[0], "y": xy[1],
                                                         "button": "left", "clickCount": 1})

    async def press(self, key, shift=False):
        """Presses and releases one key from KEYS (Enter, Escape, Tab, space)."""
        fields = dict(KEYS[key], key=key, modifiers=SHIFT if shift else 0)
        await self.send("Input.dispatchKeyEvent", dict(fields, type="keyDown"))
        fields.pop("text", None)
        await self.send("Input.dispatchKeyEvent", dict(fields, type="keyUp"))

    async def type(self, text):
        """Types text into the focused element (as an IME would: one input event)."""
        await self.send("Input.insertText", {"text": text})

    def problems(self):
        """Uncaught exceptions, console errors and CSP reports seen so far, as text."""
        out = []
        for method, p in self.events:
            if method == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append("exception: " + (d.get("exception", {}).get("description") or d.get("text", "")))
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.%s: %s" % (p["type"], " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
            elif method == "Log.entryAdded" and (p["entry"]["level"] == "error"
                                                 or "Content Security Policy" in p["entry"]["text"]):
                out.append("log (%s): %s" % (p["entry"]["source"], p["entry"]["text"]))
        return out

    async def close(self):
        await self.browser.send("Target.closeTarget", {"targetId": self.target})
        self.browser.pages.pop(self.session, None)
