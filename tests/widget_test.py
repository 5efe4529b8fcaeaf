#!/usr/bin/python3
"""widget_test.py: the web chat widget (bot/web/) in a real headless chromium.

A fake bot (FakeBot below) serves bot/web/ on 127.0.0.1 the way massagebot
will, with the same Content-Security-Policy, and a /chat websocket whose frames
the scenarios read and answer themselves.  Each scenario opens a fresh tab
through tests/cdp.py and checks what a visitor and a screen reader get:
formatting, injection payloads shown as text, suggestions and choices, thumbs,
emergency replies, the typing dots, errors and the size limit, reconnecting
after the bot restarts, the keyboard, a strict CSP, and a phone screen in dark
mode.  Screenshots go to build/screenshots/ for a person to look at.

    /usr/bin/python3 tests/widget_test.py [scenario ...]
"""

import asyncio
import http
import json
import os
import re
import sys
import traceback

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cdp  # noqa: E402

WEB = os.path.join(HERE, "..", "bot", "web")
SHOTS = os.path.join(HERE, "..", "build", "screenshots")
MAX_WIDGET_BYTES = 20 * 1024
# What the bot sends with its pages (issue 16); the strict variant has no
# 'unsafe-inline' styles, as a clinic's own site might.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
STRICT_CSP = CSP.replace("style-src 'self' 'unsafe-inline'", "style-src 'self'")
# Bare pages: one under STRICT_CSP, one loading the widget from <head> without defer.
PAGES = {
    "/strict/": (STRICT_CSP, b'<!doctype html><html lang="en"><title>strict</title><link rel="icon" href="data:,">'
                             b'<p>A page with a strict CSP.</p><script src="../widget.js" defer></script></html>'),
    "/head/": (CSP, b'<!doctype html><html lang="de"><head><title>head</title><link rel="icon" href="data:,">'
                    b'<script src="../widget.js"></script></head><body><p>Script in the head.</p></body></html>'),
}
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

# Runs in every page before its scripts: records CSP violations.
INIT = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI), true);"""

# The widget's shadow root is R inside these snippets.
def js(body):
    return "(() => { const R = document.querySelector('massagebot-chat').shadowRoot; %s })()" % body

def q(expr):
    return js("return (%s);" % expr)

LAST_BOT = "[...R.querySelectorAll('.turn.bot:not(.typing)')].pop()"
BOT_TURNS = "R.querySelectorAll('.turn.bot:not(.typing)').length"
DEEP_TISSUE = ("Deep tissue massage uses **slow, firm pressure** to reach the deeper layers of muscle.\n\n"
               "It can feel intense, but it shouldn't be unbearable:\n"
               "- tell your therapist if the pressure is too much\n"
               "- soreness for a day or two is common\n\n"
               "1. Book a short first session\n2. See how you feel\n\n"
               "Read [the NHS page](https://www.nhs.uk/conditions/back-pain/) or write to "
               "[the clinic](mailto:hello@example.org). More: https://example.org/massage.\n\n"
               "_General information, not medical advice._")
EMERGENCY = ("**Please get emergency help now: call 911 (US), 999 (UK) or 112 (EU), or go to the "
             "nearest emergency department (A&E).**\nBack pain with numbness in the groin, bladder or "
             "bowel problems, or weakness in both legs can be serious. A 2011 review agrees.")
CRISIS = ("**Please reach out for support right now: in the US, call or text 988 (Suicide & Crisis "
          "Lifeline); in the UK and Ireland, call Samaritans on 116 123 (free, 24/7).** If you are in "
          "immediate danger, call your local emergency number (911, 999 or 112).")
PAYLOADS = [
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned = 'img'\">",
    "<svg onload=\"window.__pwned = 'svg'\"></svg>",
    "[click me](javascript:window.__pwned='link')",
    "[again](JaVaScRiPt:window.__pwned='link2')",
    "[data](data:text/html,<script>window.__pwned='data'</script>)",
    "**<b onmouseover=\"window.__pwned='b'\">bold</b>**",
    "<a href=\"javascript:window.__pwned='a'\">a link</a>",
    "<iframe src=\"javascript:window.__pwned='iframe'\"></iframe>",
]


class FakeBot:
    """The bot's web side, scripted: files from bot/web/ with the CSP, /healthz,
    and /chat (at any prefix) as a websocket that says hello and queues every
    frame it gets for the scenario to read.  /nocsp/ serves the same files
    without the CSP (so a payload that slipped through would run); PAGES are
    bare pages for special cases."""

    def __init__(self):
        self.port = 0
        self.server = None
        self.frames = asyncio.Queue()
        self.conns = []

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.port

    async def start(self):
        self.server = await websockets.serve(self._chat, "127.0.0.1", self.port,
                                             process_request=self._http, max_size=4096)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self):
        """Stops like a bot that exits: the port closes, every connection drops at once."""
        self.server.server.close()  # the listening socket
        for conn in list(self.server.websockets):  # open ones and any still in their handshake
            conn.transport.abort()
        for _ in range(200):  # each handler ends once it sees its connection gone
            if not self.server.websockets:
                break
            await asyncio.sleep(0.01)
        self.server.close()
        await self.server.wait_closed()

    async def _http(self, path, headers):
        path = path.split("?")[0]
        if path.endswith("/chat"):
            return None  # go on with the websocket handshake
        if path == "/healthz":
            return http.HTTPStatus.OK, [("Content-Type", "text/plain")], b"ok\n"
        csp = CSP
        if path.startswith("/nocsp/"):
            path, csp = path[len("/nocsp"):], None
        if path in PAGES:
            return http.HTTPStatus.OK, [("Content-Type", TYPES[".html"]), ("Content-Security-Policy", PAGES[path][0])], \
                PAGES[path][1]
        name = {"/": "index.html", "/widget.js": "widget.js"}.get(path)
        if not name:
            return http.HTTPStatus.NOT_FOUND, [("Content-Type", "text/plain")], b"not found\n"
        with open(os.path.join(WEB, name), "rb") as f:
            body = f.read()
        hdrs = [("Content-Type", TYPES[os.path.splitext(name)[1]]), ("Cache-Control", "no-store")]
        if csp:
            hdrs.append(("Content-Security-Policy", csp))
        return http.HTTPStatus.OK, hdrs, body

    async def _chat(self, ws):
        self.conns.append(ws)
        await ws.send(json.dumps({"type": "hello", "version": "0.1.0"}))
        try:
            async for raw in ws:
                await self.frames.put(json.loads(raw))
        except websockets.ConnectionClosed:
            pass

    async def frame(self, timeout=10.0):
        """The next frame a widget sent."""
        try:
            return await asyncio.wait_for(self.frames.get(), timeout)
        except asyncio.TimeoutError:
            raise cdp.Timeout("no frame from the widget within %.0f s" % timeout) from None

    async def ask(self, text=None, timeout=10.0):
        """The next frame, which must be an ask (with that text, if given)."""
        f = await self.frame(timeout)
        expect(f.get("type") == "ask" and set(f) == {"type", "id", "text"}, "an ask frame, got %r" % f)
        expect(isinstance(f["id"], str) and 0 < len(f["id"]) <= 32, "ask id of 1-32 chars: %r" % f["id"])
        if text is not None:
            expect(f["text"] == text, "ask text %r, want %r" % (f["text"], text))
        return f

    async def send(self, **msg):
        """Sends one frame to the newest connection."""
        await self.conns[-1].send(json.dumps(msg))

    async def reply(self, ask, text, intent=None, safety=(), level=None, suggestions=(), choices=None):
        msg = {"type": "reply", "id": ask["id"], "text": text, "intent": intent, "safety": list(safety),
               "level": level, "suggestions": [{"id": re.sub(r"\W+", "-", s.lower()), "title": s}
                                               for s in suggestions]}
        if choices:
            msg["choices"] = [{"n": i + 1, "title": c} for i, c in enumerate(choices)]
        await self.send(**msg)

    async def wait_connections(self, n, timeout=15.0):
        for _ in range(int(timeout / 0.05)):
            if len(self.conns) >= n:
                return
            await asyncio.sleep(0.05)
        raise cdp.Timeout("the widget did not open websocket number %d within %.0f s" % (n, timeout))

    def drain(self):
        while not self.frames.empty():
            self.frames.get_nowait()


# Page-side helpers, also for tests against the real bot (import widget_test).

def expect(cond, what):
    if not cond:
        raise AssertionError(what)


async def open_page(browser, url, width=1280, height=800, dark=False):
    """A new tab on url, recording CSP violations, once the widget is on the page."""
    page = await browser.new_page(width, height, dark)
    await page.add_init_script(INIT)
    await page.goto(url)
    await page.wait_for("!!document.querySelector('massagebot-chat')", what="the widget's host element")
    return page


async def open_chat(page, bot=None):
    """Clicks the launcher; waits for the panel and for the websocket to be open
    (the status line is empty only then)."""
    n = len(bot.conns) if bot else 0
    await page.click(q("R.querySelector('.launch')"))
    await page.wait_for(q("!R.querySelector('.panel').hidden"), what="the panel to open")
    if bot:
        await bot.wait_connections(n + 1)
    await page.wait_for(q("R.querySelector('.status').textContent === ''"), what="the websocket to open")


async def type_question(page, text):
    """Types a question into the widget and presses Enter."""
    await page.eval(q("R.querySelector('textarea').focus()"))
    await page.type(text)
    await page.press("Enter")


async def ask(page, bot, text):
    """Types a question; returns the ask frame the fake bot got."""
    await type_question(page, text)
    return await bot.ask(text)


async def expect_clean(page):
    """No exception, console error or CSP violation in the tab."""
    problems = page.problems() + ["CSP: " + v for v in await page.eval("window.__csp || []")]
    expect(not problems, "problems in the page:\n  " + "\n  ".join(problems))


# ---- scenarios: each gets a fresh tab and returns nothing; a failed expect raises

async def s_loads(browser, bot):
    size = os.path.getsize(os.path.join(WEB, "widget.js"))
    expect(size < MAX_WIDGET_BYTES, "widget.js is %d bytes, limit %d" % (size, MAX_WIDGET_BYTES))
    page = await open_page(browser, bot.url)
    served = await page.eval("fetch('widget.js').then((r) => r.text()).then((t) => t.length)")
    expect(served and served <= size, "widget.js served: %r characters" % served)
    expect(await page.eval(q("R.querySelector('.panel').hidden")), "the panel starts closed")
    label = await page.eval(q("R.querySelector('.launch').getAttribute('aria-label')"))
    expect(label == "Open chat: Ask Harbourside", "launcher label from data-title: %r" % label)
    expect(await page.eval(q("R.querySelector('.launch').getAttribute('aria-expanded')")) == "false",
           "aria-expanded false")
    expect(not bot.conns, "no websocket before the visitor opens the chat")
    await open_chat(page, bot)
    expect(await page.eval(q("R.activeElement === R.querySelector('textarea')")), "focus in the question box")
    expect(await page.eval(q("R.querySelector('.launch').getAttribute('aria-expanded')")) == "true",
           "aria-expanded true")
    expect("Hello!" in await page.eval(q("R.querySelector('.note').textContent")), "greeting shown")
    await expect_clean(page)


async def s_reply_formatting(browser, bot):
    page = await open_page(browser, bot.url)
    await open_chat(page, bot)
    a = await ask(page, bot, "is deep tissue massage painful?")
    expect(await page.eval(q("R.querySelector('textarea').value")) == "", "input cleared after sending")
    await page.wait_for(q("!!R.querySelector('.typing')"), what="the typing dots while waiting")
    await bot.send(type="typing", id=a["id"])
    await bot.reply(a, DEEP_TISSUE, intent="deep-tissue-massage", safety=["disclaimer"],
                    suggestions=["Swedish massage", "How often to get a massage"])
    await page.wait_for(q("!!%s" % LAST_BOT), what="the reply")
    expect(await page.eval(q("!R.querySelector('.typing')")), "typing dots gone after the reply")
    got = await page.eval(js("""const m = %s.querySelector('.msg');
      return {strong: [...m.querySelectorAll('strong')].map((e) => e.textContent),
              em: [...m.querySelectorAll('em')].map((e) => e.textContent),
              ul: [...m.querySelectorAll('ul > li')].map((e) => e.textContent),
              ol: [...m.querySelectorAll('ol > li')].map((e) => e.textContent),
              p: m.querySelectorAll('p').length,
              links: [...m.querySelectorAll('a')].map((a) => [a.textContent, a.href, a.target, a.rel]),
              chips: [...R.querySelectorAll('.related button')].map((b) => b.textContent),
              thumbs: R.querySelectorAll('.thumbs button').length,
              live: R.querySelector('.sr').textContent};""" % LAST_BOT))
    expect(got["strong"] == ["slow, firm pressure"], "bold: %r" % got["strong"])
    expect(got["em"] == ["General information, not medical advice."], "emphasis: %r" % got["em"])
    expect(got["ul"] == ["tell your therapist if the pressure is too much", "soreness for a day or two is common"],
           "bullet list: %r" % got["ul"])
    expect(got["ol"] == ["Book a short first session", "See how you feel"], "numbered list: %r" % got["ol"])
    expect(got["p"] == 4, "paragraphs: %r" % got["p"])
    expect(got["links"] == [
        ["the NHS page", "https://www.nhs.uk/conditions/back-pain/", "_blank", "noopener noreferrer nofollow"],
        ["the clinic", "mailto:hello@example.org", "", ""],
        ["https://example.org/massage", "https://example.org/massage", "_blank", "noopener noreferrer nofollow"],
    ], "links: %r" % got["links"])
    expect(got["chips"] == ["Swedish massage", "How often to get a massage"], "suggestions: %r" % got["chips"])
    expect(got["thumbs"] == 2, "thumbs under an answer")
    expect("Reply: Deep tissue massage uses slow, firm pressure" in got["live"],
           "reply announced in the polite live region: %r" % got["live"][:80])
    await expect_clean(page)


async def s_suggestions_and_choices(browser, bot):
    page = await open_page(browser, bot.url)
    await open_chat(page, bot)
    a = await ask(page, bot, "swedish?")
    await bot.reply(a, "Swedish massage uses long, gentle strokes.", intent="swedish-massage",
                    suggestions=["Deep tissue massage"])
    await page.wait_for(q("!!R.querySelector('.related button')"), what="a suggestion chip")
    await page.click(q("R.querySelector('.related button')"))
    a = await bot.ask("Deep tissue massage")
    shown = await page.eval(q("[...R.querySelectorAll('.me .msg')].pop().textContent"))
    expect(shown == "Deep tissue massage", "the chip's question shown as the visitor's: %r" % shown)
    await bot.reply(a, "Did you mean one of these?\n1. Deep tissue massage\n2. Swedish massage",
                    choices=["Deep tissue massage", "Swedish massage"])
    await page.wait_for(q("R.querySelectorAll('.choices button').length === 2"), what="two choice buttons")
    labels = await page.eval(q("[...R.querySelectorAll('.choices button')].map((b) => b.textContent)"))
    expect(labels == ["1. Deep tissue massage", "2. Swedish massage"], "choice labels: %r" % labels)
    expect(await page.eval(q("!%s.querySelector('.thumbs')" % LAST_BOT)), "no thumbs on a did-you-mean")
    await page.click(q("R.querySelectorAll('.choices button')[1]"))
    a = await bot.ask("Swedish massage")
    await bot.reply(a, "Hello! Ask me about massage.", intent="greeting")
    await page.wait_for(q("%s.textContent.includes('Hello! Ask')" % LAST_BOT), what="the greeting reply")
    expect(await page.eval(q("!%s.querySelector('.thumbs')" % LAST_BOT)), "no thumbs on small talk")
    await expect_clean(page)


async def s_thumbs(browser, bot):
    page = await open_page(browser, bot.url)
    await open_chat(page, bot)
    first = await ask(page, bot, "how often should I get a massage?")
    await bot.reply(first, "Every week or two at first.", intent="session-frequency")
    second = await ask(page, bot, "what is trigger point therapy?")
    await bot.reply(second, "Pressure on tight spots.", intent="trigger-point-therapy")
    await page.wait_for(q("R.querySelectorAll('.thumbs').length === 2"), what="thumbs under both answers")
    up = "R.querySelectorAll('.thumbs')[0].querySelector('button')"
    down = "R.querySelectorAll('.thumbs')[0].querySelector('.down')"
    await page.click(q(up))
    f = await bot.frame()
    expect(f == {"type": "feedback", "id": first["id"], "helpful": True}, "feedback frame: %r" % f)
    expect(await page.eval(q("%s.getAttribute('aria-pressed')" % up)) == "true", "pressed thumb marked")
    await page.click(q(down))
    await page.click(q(up))
    await bot.send(type="feedback_ok", id=first["id"])
    await page.wait_for(q("R.querySelectorAll('.thumbs')[0].textContent === 'Thanks for your feedback.'"),
                        what="thanks after feedback_ok")
    await page.click(q("R.querySelectorAll('.thumbs')[1].querySelector('.down')"))
    f = await bot.frame()
    expect(f == {"type": "feedback", "id": second["id"], "helpful": False}, "second feedback: %r" % f)
    await ask(page, bot, "thanks")  # the next frame is this ask: the extra clicks sent nothing
    await expect_clean(page)


async def s_emergency(browser, bot):
    page = await open_page(browser, bot.url)
    await open_chat(page, bot)
    for text, level, safety, numbers in [
            (EMERGENCY, "emergency", ["emergency", "disclaimer"], ["tel:911", "tel:999", "tel:112"]),
            (CRISIS, "crisis", ["crisis"], ["tel:988", "tel:116123", "tel:911", "tel:999", "tel:112"])]:
        a = await ask(page, bot, "help " + level)
        polite = await page.eval(q("R.querySelector('.sr').textContent"))
        turns = await page.eval(q(BOT_TURNS))
        await bot.reply(a, text, safety=safety, level=level)
        await page.wait_for(q("%s > %d" % (BOT_TURNS, turns)), what="the %s reply" % level)
        expect(await page.eval(q("%s.classList.contains('alert')" % LAST_BOT)), "%s reply stands out" % level)
        got = await page.eval(js("""const t = %s, m = t.querySelector('.msg');
          return {role: m.getAttribute('role'), icon: !!m.querySelector('svg'),
                  tel: [...m.querySelectorAll('a')].map((a) => a.getAttribute('href')),
                  border: getComputedStyle(m).borderTopStyle};""" % LAST_BOT))
        expect(got["role"] == "alert", "%s reply has role=alert: %r" % (level, got["role"]))
        expect(got["icon"] and got["border"] == "solid", "%s reply has an icon and a border" % level)
        expect(got["tel"] == numbers, "%s phone links: %r, want %r" % (level, got["tel"], numbers))
        expect(await page.eval(q("R.querySelector('.sr').textContent")) == polite,
               "an alert is not also queued in the polite region")
    a = await ask(page, bot, "a question with a number")
    await bot.reply(a, "Most people book 3 sessions; 999 is not a phone number here.", intent="session-frequency")
    await page.wait_for(q("%s.textContent.includes('Most people')" % LAST_BOT), what="a plain reply")
    expect(await page.eval(q("!%s.querySelector('a') && !%s.querySelector('[role=alert]')" % (LAST_BOT, LAST_BOT))),
           "no alert and no tel: link in an ordinary reply")
    await expect_clean(page)


async def injection(browser, bot, path):
    page = await open_page(browser, bot.url + path)
    await open_chat(page, bot)
    question = "<img src=x onerror=\"window.__pwned = 'question'\"> and <script>window.__pwned='q2'</script>"
    a = await ask(page, bot, question)
    shown = await page.eval(q("[...R.querySelectorAll('.me .msg')].pop().textContent"))
    expect(shown == question, "question shown as typed: %r" % shown)
    text = "\n\n".join(PAYLOADS)
    await bot.reply(a, text, intent="deep-tissue-massage", suggestions=["<img src=x onerror=\"window.__pwned='chip'\">"],
                    choices=None)
    b = await ask(page, bot, "more")
    await bot.reply(b, "pick one", choices=["<img src=x onerror=\"window.__pwned='choice'\">"])
    await bot.send(type="error", id=None, error="bad_request", message="<img src=x onerror=\"window.__pwned='err'\">")
    await page.wait_for(q("R.querySelectorAll('.note').length === 2"), what="the error note")
    # give an onerror/onload the chance to run: wait until images that exist have settled
    await page.eval("new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 0)))")
    got = await page.eval(js("""return {pwned: window.__pwned === undefined ? null : String(window.__pwned),
        bad: [...R.querySelectorAll('.log *')].filter((e) => !/^(DIV|P|SPAN|STRONG|EM|UL|OL|LI|BR|A|BUTTON|I|svg|path)$/.test(e.tagName)).map((e) => e.tagName),
        svgs: [...R.querySelectorAll('.log svg')].filter((s) => !s.closest('button') && !s.closest('.alert')).length,
        hrefs: [...R.querySelectorAll('.log a')].map((a) => a.getAttribute('href')),
        handlers: [...R.querySelectorAll('.log *')].filter((e) => [...e.attributes].some((x) => /^on/i.test(x.name))).length,
        text: %s.querySelector('.msg').textContent, chip: R.querySelector('.related button').textContent,
        choice: R.querySelector('.choices button').textContent, note: [...R.querySelectorAll('.note')].pop().textContent,
        imgs: document.querySelectorAll('img').length + R.querySelectorAll('img').length};""" % (
        "R.querySelectorAll('.turn.bot')[0]")))
    expect(got["pwned"] is None, "a payload ran in %s: window.__pwned = %r" % (path or "/", got["pwned"]))
    expect(not got["bad"] and not got["svgs"] and not got["handlers"] and not got["imgs"],
           "elements from payloads: %r" % got)
    expect(got["hrefs"] == [], "no link from a payload: %r" % got["hrefs"])
    for p in ["<script>window.__pwned = 'script'</script>", "<img src=x onerror=", "[click me](javascript:",
              "[data](data:text/html,<script>", "<b onmouseover="]:
        expect(p in got["text"], "payload shown as text: %r not in %r" % (p, got["text"][:200]))
    expect(got["chip"].startswith("<img") and got["choice"].startswith("1. <img") and got["note"].startswith("<img"),
           "chip, choice and error text shown as text: %r" % got)
    await expect_clean(page)


async def s_injection(browser, bot):
    await injection(browser, bot, "")


async def s_injection_without_csp(browser, bot):
    await injection(browser, bot, "nocsp/")


async def s_errors_and_limits(browser, bot):
    page = await open_page(browser, bot.url)
    await open_chat(page, bot)
    a = await ask(page, bot, "first")
    await bot.send(type="error", id=a["id"], error="rate_limited", message="Slow down a little, please.",
                   retry_after_ms=300)
    again = await bot.ask("first")
    expect(again["id"] == a["id"], "a rate-limited question is sent again with its id")
    await page.wait_for(q("[...R.querySelectorAll('.note')].pop().textContent.includes('Slow down')"),
                        what="the rate-limit note")
    await bot.reply(again, "Answer to first.", intent="greeting")
    b = await ask(page, bot, "second")
    await bot.send(type="error", id=b["id"], error="too_long", message="That message is too long.")
    await page.wait_for(q("[...R.querySelectorAll('.note')].pop().textContent === 'That message is too long.'"),
                        what="the too_long note")
    for m in ["Busy.", "Busy.", "Still busy."]:  # frames arrive in order: the last one shows the first two were seen
        await bot.send(type="error", id=None, error="busy", message=m, retry_after_ms=100)
    await page.wait_for(q("[...R.querySelectorAll('.note')].pop().textContent === 'Still busy.'"), what="the notes")
    notes = await page.eval(q("[...R.querySelectorAll('.note')].slice(-3).map((n) => n.textContent)"))
    expect(notes[1:] == ["Busy.", "Still busy."] and notes[0] != "Busy.", "the same note twice is shown once: %r" % notes)
    await bot.send(type="surprise", id=b["id"], text="unknown types are ignored")
    await page.eval(q("R.querySelector('textarea').focus()"))
    for text, ok in [("a" * 5000, False), ("€" * 1400, False), ("€" * 1300, True)]:
        await page.eval(q("R.querySelector('textarea').select()"))
        await page.type(text)
        got = await page.eval(q("[R.querySelector('.hint').textContent, R.querySelector('.send').disabled,"
                                " R.querySelector('.hint').classList.contains('err')]"))
        if ok:
            expect(got[0].startswith("About ") and not got[1] and not got[2],
                   "%d x %r fits, with a countdown: %r" % (len(text), text[0], got))
        else:
            expect(got[0].startswith("Too long: please shorten") and got[1] and got[2],
                   "%d x %r is too long (UTF-8 bytes): %r" % (len(text), text[0], got))
            await page.press("Enter")
            expect(len(await page.eval(q("R.querySelector('textarea').value"))) == len(text),
                   "a refused question stays in the box")
    await page.press("Enter")
    f = await bot.ask("€" * 1300)  # the next frame: the refused ones were never sent
    expect(len(json.dumps(f, ensure_ascii=False).encode()) <= 4096, "the frame fits in 4 KiB")
    await expect_clean(page)


async def s_reconnect(browser, bot):
    page = await open_page(browser, bot.url)
    await open_chat(page, bot)
    lost = await ask(page, bot, "asked just before the restart")
    await bot.stop()
    await page.wait_for(q("R.querySelector('.status').textContent === 'Reconnecting…'"),
                        what="the reconnecting status")
    await page.wait_for(q("!R.querySelector('.typing')"), what="the typing dots to go while offline")
    states = await page.eval(q("[...R.querySelectorAll('.me .state')].map((s) => s.textContent)"))
    expect(states == ["Waiting for the connection…"], "the unanswered question waits: %r" % states)
    await page.eval(q("R.querySelector('textarea').focus()"))
    await page.type("typed while offline")
    await page.press("Enter")
    states = await page.eval(q("[...R.querySelectorAll('.me .state')].map((s) => s.textContent)"))
    expect(states == ["Waiting for the connection…"] * 2, "the offline question waits too: %r" % states)
    for i in range(4):  # 5 may wait; the sixth is refused and stays in the box
        await page.type("offline %d" % i)
        await page.press("Enter")
    got = await page.eval(q("[R.querySelectorAll('.me').length, R.querySelector('textarea').value,"
                            " R.querySelector('.hint').textContent]"))
    expect(got[0] == 5 and got[1] == "offline 3" and got[2].startswith("Offline: your question stays here"),
           "a sixth waiting question is refused, kept and explained: %r" % got)
    n = len(bot.conns)
    await bot.start()
    await bot.wait_connections(n + 1, timeout=20)
    again = await bot.ask("asked just before the restart", timeout=20)
    expect(again["id"] == lost["id"], "the lost question is sent again with the same id")
    later = [await bot.ask(t) for t in ["typed while offline", "offline 0", "offline 1", "offline 2"]]
    await page.wait_for(q("R.querySelector('.status').textContent === ''"), what="the status to clear")
    for i, a in enumerate([again] + later):
        await bot.reply(a, "Answer %d." % i, intent="greeting")
    await page.wait_for(q("%s === 5" % BOT_TURNS), what="all five answers")
    states = await page.eval(q("[...R.querySelectorAll('.me .state')].map((s) => s.textContent)"))
    expect(states == [""] * 5, "nothing left waiting: %r" % states)
    await page.press("Enter")
    await bot.ask("offline 3")  # the refused one, sent by hand once back
    await expect_clean(page)


async def s_give_up(browser, bot):
    page = await open_page(browser, bot.url)
    await open_chat(page, bot)
    first = await ask(page, bot, "unlucky question")
    for attempt in (2, 3):  # the bot dies before answering, every time
        n = len(bot.conns)
        await bot.stop()
        await bot.start()
        await bot.wait_connections(n + 1, timeout=20)
        again = await bot.ask("unlucky question", timeout=20)
        expect(again["id"] == first["id"], "send %d of the same ask keeps its id" % attempt)
    await bot.stop()
    await page.wait_for(q("R.querySelector('.me .state').textContent === 'Not sent. Please ask again.'"),
                        what="the question marked as not sent after 3 sends")
    await page.wait_for(q("!R.querySelector('.typing')"), what="no typing dots for a question given up")
    await bot.start()
    await bot.wait_connections(n + 2, timeout=40)  # the panel is open: it reconnects
    await ask(page, bot, "a new question")  # the next frame: the given-up one is not sent again
    await expect_clean(page)


async def s_keyboard(browser, bot):
    page = await open_page(browser, bot.url)
    await page.eval(q("R.querySelector('.launch').focus()"))
    await page.press("Enter")
    await page.wait_for(q("R.activeElement === R.querySelector('textarea')"), what="Enter on the launcher opens")
    await page.type("sent with Enter")
    await page.press("Enter", shift=True)  # Shift+Enter is a new line, not a send
    await page.type("second line")
    await page.press("Enter")
    a = await bot.ask("sent with Enter\nsecond line")
    await bot.reply(a, "Answer.", intent="massage-benefits")
    await page.wait_for(q("!!R.querySelector('.thumbs')"), what="the answer")
    await page.eval(q("R.querySelector('textarea').focus()"))
    await page.press("Tab")
    focus = await page.eval(q("[R.activeElement && R.activeElement.getAttribute('aria-label'),"
                              " getComputedStyle(R.activeElement).outlineStyle]"))
    expect(focus == ["Send", "solid"], "Tab goes to Send, with a visible focus ring: %r" % focus)
    labels = []
    await page.eval(q("R.querySelector('.x').focus()"))
    for _ in range(8):
        labels.append(await page.eval(q("R.activeElement && R.activeElement.getAttribute('aria-label')")))
        await page.press("Tab")
    expect(labels == ["Close chat", "Conversation", "Helpful", "Not helpful", "Your question", "Send", None, None],
           "Tab order (then out of the widget): %r" % labels)
    await page.eval(q("R.querySelector('.log').focus()"))
    await page.press("Escape")
    await page.wait_for(q("R.querySelector('.panel').hidden"), what="Escape closes the panel")
    got = await page.eval(q("[document.activeElement === document.querySelector('massagebot-chat'),"
                            " R.activeElement === R.querySelector('.launch'),"
                            " R.querySelector('.launch').getAttribute('aria-expanded')]"))
    expect(got == [True, True, "false"], "focus back on the launcher: %r" % got)
    await page.press(" ")
    await page.wait_for(q("!R.querySelector('.panel').hidden"), what="Space on the launcher opens again")
    await page.click(q("R.querySelector('.x')"))
    await page.wait_for(q("R.activeElement === R.querySelector('.launch')"), what="close button returns focus")
    await expect_clean(page)


async def s_script_in_head(browser, bot):
    page = await open_page(browser, bot.url + "head/")
    expect(await page.eval(q("R.querySelector('.root').lang")) == "de", "lang from the page")
    await open_chat(page, bot)
    await ask(page, bot, "from the head")
    await expect_clean(page)


async def s_strict_csp(browser, bot):
    page = await open_page(browser, bot.url + "strict/")
    await open_chat(page, bot)
    a = await ask(page, bot, "strict?")
    await bot.reply(a, "**Yes.**", intent="greeting")
    await page.wait_for(q("!!%s" % LAST_BOT), what="the reply")
    styled = await page.eval(q("getComputedStyle(R.querySelector('.launch')).position"))
    expect(styled == "fixed", "styles apply without 'unsafe-inline': %r" % styled)
    await expect_clean(page)


async def s_screens(browser, bot):
    """A short, realistic conversation, photographed on a desktop and a phone."""
    page = await open_page(browser, bot.url, width=1280, height=800)
    await page.screenshot(os.path.join(SHOTS, "desktop-closed-light.png"))
    await open_chat(page, bot)
    a = await ask(page, bot, "Is deep tissue massage painful?")
    await bot.reply(a, DEEP_TISSUE.replace("\n\n1. Book a short first session\n2. See how you feel", ""),
                    intent="deep-tissue-massage", safety=["disclaimer"],
                    suggestions=["Swedish massage", "How often to get a massage"])
    await page.wait_for(q("!!R.querySelector('.thumbs')"), what="the answer")
    for dark in (False, True):
        await page.viewport(1280, 800, dark)
        await page.screenshot(os.path.join(SHOTS, "desktop-%s.png" % ("dark" if dark else "light")))
    await page.click(q("R.querySelector('.thumbs button')"))
    await bot.send(type="feedback_ok", id=(await bot.frame())["id"])
    await page.wait_for(q("R.querySelector('.thumbs').textContent.startsWith('Thanks')"), what="thanks")
    a = await ask(page, bot, "the first massage?")
    await bot.reply(a, "Did you mean one of these?", choices=["Choosing a massage", "Finding a therapist"])
    await page.wait_for(q("!!R.querySelector('.choices')"), what="the choices")
    a = await ask(page, bot, "my legs are numb and I can't pee")
    await bot.reply(a, EMERGENCY.replace(" A 2011 review agrees.", ""), safety=["emergency", "disclaimer"],
                    level="emergency")
    await page.wait_for(q("!!R.querySelector('.alert')"), what="the emergency reply")
    bg = {}
    for dark in (False, True):
        await page.viewport(375, 740, dark)
        await page.wait_for(q("R.querySelector('.panel').getBoundingClientRect().width === 375"),
                            what="the panel to fill a 375 px screen")
        got = await page.eval(js("""const p = R.querySelector('.panel').getBoundingClientRect(), l = R.querySelector('.log');
          return {rect: [p.left, p.top, p.width, p.height], launcher: getComputedStyle(R.querySelector('.launch')).display,
                  overflow: l.scrollWidth - l.clientWidth, page: document.documentElement.scrollWidth,
                  bg: getComputedStyle(R.querySelector('.panel')).backgroundColor};"""))
        expect(got["rect"] == [0, 0, 375, 740], "full-screen panel on a phone: %r" % got["rect"])
        expect(got["launcher"] == "none", "launcher hidden under the full-screen panel")
        expect(got["overflow"] <= 0 and got["page"] <= 375, "nothing wider than the phone: %r" % got)
        bg[dark] = got["bg"]
        await page.screenshot(os.path.join(SHOTS, "phone-%s.png" % ("dark" if dark else "light")))
    expect(bg[False] == "rgb(255, 255, 255)" and bg[True] != bg[False], "dark mode changes colours: %r" % bg)
    await page.press("Escape")
    await page.viewport(375, 740, False)
    await page.screenshot(os.path.join(SHOTS, "phone-closed-light.png"))
    await expect_clean(page)


SCENARIOS = [(name[2:], fn) for name, fn in list(globals().items()) if name.startswith("s_")]


async def main(names):
    unknown = set(names) - {name for name, _ in SCENARIOS}
    if unknown:
        print("widget: no scenario named %s; there are: %s" % (", ".join(sorted(unknown)),
                                                                ", ".join(name for name, _ in SCENARIOS)))
        return 2
    bot = FakeBot()
    await bot.start()
    passed, failed = 0, 0
    try:
        async with cdp.Browser() as browser:
            for name, fn in SCENARIOS:
                if names and name not in names:
                    continue
                bot.drain()
                pages = set(browser.pages)
                try:
                    await asyncio.wait_for(fn(browser, bot), 90)
                    passed += 1
                except Exception as e:  # one scenario's failure does not stop the others
                    failed += 1
                    print("FAIL %s: %s" % (name, e))
                    if not isinstance(e, (AssertionError, cdp.Error)):
                        traceback.print_exc()
                for session in set(browser.pages) - pages:
                    await browser.pages[session].close()
                if not bot.server.is_serving():
                    await bot.start()
    except cdp.Error as e:  # chromium did not start
        print("FAIL widget: %s" % e)
        failed += 1
    await bot.stop()
    print("widget: %d scenarios passed, %d failed; screenshots in %s" % (passed, failed, os.path.normpath(SHOTS)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
