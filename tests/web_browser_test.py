#!/usr/bin/python3
"""web_browser_test: the widget in headless chromium against the real bot
(`massagebot run` with BOT_PLATFORM=web, the sanitized build), on a copy of
knowledge/ plus the answers in tests/fixtures/web-injection/ (HTML and script
in their text and titles).

  own_page        the bot's demo page (its CSP): a question gets exactly the
                  reply `massagebot ask --json` gives (the frame, recorded in
                  the page), rendered; a thumb down lands in the feedback log
  allowed_origin  another site listed in WEB_ALLOWED_ORIGINS loads the widget
                  from the bot and chats
  refused_origin  a site not listed loads the widget but gets no chat
  injection       payloads in a question and in an answer (text, title as a
                  suggestion chip) show as text, with and without a CSP
  screens         a real conversation photographed at 1280x800 and 375x740,
                  light and dark: build/screenshots/bot-*.png

usage: web_browser_test.py --mb build/san/massagebot [scenario ...]
"""

import argparse
import asyncio
import datetime
import http.server
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import cdp  # noqa: E402
import web_test  # noqa: E402
from widget_test import (LAST_BOT, BOT_TURNS, INIT, expect, expect_clean, js, open_chat,  # noqa: E402
                         q, type_question)

SHOTS = os.path.join(ROOT, "build", "screenshots")
# Runs before the page's scripts: every frame the bot sends, as text.
RECORD = INIT + """
window.__frames = [];
const RealWebSocket = window.WebSocket;
window.WebSocket = function (url, protocols) {
  const ws = new RealWebSocket(url, protocols);
  ws.addEventListener('message', (e) => window.__frames.push(String(e.data)));
  return ws;
};
window.WebSocket.prototype = RealWebSocket.prototype;"""


class Site:
    """Another web site (on localhost, so another origin than 127.0.0.1) whose
    page embeds the widget from the bot; no CSP of its own."""

    def __init__(self, bot_port):
        page = ('<!doctype html><html lang="en"><title>site</title><link rel="icon" href="data:,">'
                '<p>A clinic page on another host.</p>'
                '<script src="http://127.0.0.1:%d/widget.js" defer></script></html>' % bot_port).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *a):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://localhost:%d/" % self.port
        self.origin = "http://localhost:%d" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


async def open_recorded(ctx, url, width=1280, height=800):
    """A new tab on url that records the bot's frames, once the widget is there."""
    page = await ctx.browser.new_page(width, height)
    await page.add_init_script(RECORD)
    await page.goto(url)
    await page.wait_for("!!document.querySelector('massagebot-chat')", what="the widget's host element")
    return page


async def page_frames(page, ftype):
    return [f for f in map(json.loads, await page.eval("window.__frames")) if f.get("type") == ftype]


async def asked(page, text, timeout=15):
    """Types a question; returns the bot's reply frame (recorded in the page) once it is shown."""
    n = await page.eval(q(BOT_TURNS))
    await type_question(page, text)
    await page.wait_for(q("%s > %d" % (BOT_TURNS, n)), timeout=timeout, what="the reply to %r" % text)
    return (await page_frames(page, "reply"))[-1]


# ---- scenarios ---------------------------------------------------------------

async def s_own_page(ctx):
    page = await open_recorded(ctx, ctx.bot.origin + "/")
    await open_chat(page)
    question = "is deep tissue massage painful?"
    want = web_test.ask_json(ctx.args.mb, [question], ctx.knowledge)[0]
    r = await asked(page, question)
    expect(r["text"] == want["reply"], "the reply frame is ask's reply:\n%s\n---\n%s" % (r["text"], want["reply"]))
    expect(r["intent"] == want["intent"] and r["safety"] == want["safety"], "intent and safety as ask: %r" % r)
    shown = await page.eval(q("%s.querySelector('.msg').textContent" % LAST_BOT))
    first = want["reply"].split("\n")[0].replace("**", "")
    expect(first[:60] in shown, "the reply is shown: %r" % shown[:120])
    chips = await page.eval(q("[...%s.querySelectorAll('.related button')].map((b) => b.textContent)" % LAST_BOT))
    expect(chips == [s["title"] for s in r["suggestions"]] and chips, "suggestion chips: %r" % chips)
    await page.click(q("%s.querySelector('.thumbs .down')" % LAST_BOT))
    await page.wait_for(q("%s.querySelector('.thumbs').textContent.startsWith('Thanks')" % LAST_BOT),
                        what="thanks for the thumb")
    path = ctx.bot.env["FEEDBACK_LOG"]
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    lines = [json.loads(x) for x in open(path)]
    expect(lines == [{"time": today, "answer": want["intent"], "helpful": False, "platform": "web"}],
           "the thumb in the feedback log: %r" % lines)
    await expect_clean(page)


async def s_allowed_origin(ctx):
    page = await open_recorded(ctx, ctx.allowed.url)
    await open_chat(page)
    want = web_test.ask_json(ctx.args.mb, ["hello"], ctx.knowledge)[0]
    r = await asked(page, "hello")
    expect(r["text"] == want["reply"], "a chat from the listed site: %r" % r)
    await expect_clean(page)


async def s_refused_origin(ctx):
    page = await open_recorded(ctx, ctx.refused.url)
    expect(await page.eval(q("!!R.querySelector('.launch')")), "the widget itself loads from the bot")
    await page.click(q("R.querySelector('.launch')"))
    await page.wait_for(q("R.querySelector('.status').textContent === 'Reconnecting…'"), timeout=15,
                        what="the widget to be refused and say so")
    expect(await page.eval("window.__frames.length") == 0, "no frame from the bot")
    await web_test.until(lambda: "from origin '%s' refused" % ctx.refused.origin in ctx.bot.log(), 5,
                         "the refusal in the bot's log")
    # the refused websocket shows as a console error in chromium: expected here, not a problem


async def injection(ctx, page):
    await open_chat(page)
    question = "<img src=x onerror=\"window.__pwned = 'question'\"> <script>window.__pwned='q'</script>"
    await asked(page, question)
    r = await asked(page, "zebra injection payload test")
    expect(r["intent"] == "injection-test" and "<script>" in r["text"], "the injection answer: %r" % r)
    chips = await page.eval(q("[...%s.querySelectorAll('.related button')].map((b) => b.textContent)" % LAST_BOT))
    expect(chips == ["Other <img src=x onerror=window.__pwned=12>"], "the HTML title is a chip of text: %r" % chips)
    await page.click(q("%s.querySelector('.related button')" % LAST_BOT))  # asks the title: HTML in a question
    await page.wait_for(q("%s === 3" % BOT_TURNS), what="the reply to the chip")
    await page.eval("new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 50)))")
    got = await page.eval(js("""return {pwned: window.__pwned === undefined ? null : String(window.__pwned),
        bad: [...R.querySelectorAll('.log *')].filter((e) => !/^(DIV|P|SPAN|STRONG|EM|UL|OL|LI|BR|A|BUTTON|I|svg|path)$/.test(e.tagName)).map((e) => e.tagName),
        handlers: [...R.querySelectorAll('.log *')].filter((e) => [...e.attributes].some((x) => /^on/i.test(x.name))).length,
        hrefs: [...R.querySelectorAll('.log a')].map((a) => a.getAttribute('href')),
        imgs: document.querySelectorAll('img, script:not([src]), iframe').length,
        asked: [...R.querySelectorAll('.me .msg')].map((m) => m.textContent),
        text: [...R.querySelectorAll('.turn.bot:not(.typing)')][1].querySelector('.msg').textContent};"""))
    expect(got["pwned"] is None, "a payload ran: window.__pwned = %r" % got["pwned"])
    expect(not got["bad"] and not got["handlers"] and not got["imgs"], "elements from payloads: %r" % got)
    expect(all(not h.lower().startswith(("javascript", "data")) for h in got["hrefs"]), "links: %r" % got["hrefs"])
    expect(got["asked"][0] == question, "the question shown as typed: %r" % got["asked"][0])
    for p in ["<script>window.__pwned = 'kb-script'</script>", "onerror=\"window.__pwned = 'kb-img'\"",
              "[click me](javascript:", "<iframe src="]:
        expect(p in got["text"], "%r shown as text in %r" % (p, got["text"][:200]))


async def s_injection(ctx):
    page = await open_recorded(ctx, ctx.bot.origin + "/")
    await injection(ctx, page)
    await expect_clean(page)


async def s_injection_without_csp(ctx):
    page = await open_recorded(ctx, ctx.allowed.url)  # the other site sends no CSP
    await injection(ctx, page)
    await expect_clean(page)


async def s_screens(ctx):
    page = await open_recorded(ctx, ctx.bot.origin + "/", 1280, 800)
    await page.screenshot(os.path.join(SHOTS, "bot-desktop-closed.png"))
    await open_chat(page)
    await asked(page, "Is deep tissue massage painful?")
    await page.screenshot(os.path.join(SHOTS, "bot-desktop-light.png"))
    await page.viewport(1280, 800, True)
    await page.screenshot(os.path.join(SHOTS, "bot-desktop-dark.png"))
    await page.click(q("%s.querySelector('.thumbs button')" % LAST_BOT))
    r = await asked(page, "How does massage actually help back pain?")
    r = await asked(page, "my back hurts, my groin is numb and I can't control my bladder")
    expect(r["level"] == "emergency", "an emergency reply: %r" % r)
    expect(await page.eval(q("%s.classList.contains('alert')" % LAST_BOT)), "it stands out")
    for dark in (False, True):
        await page.viewport(375, 740, dark)
        await page.wait_for(q("R.querySelector('.panel').getBoundingClientRect().width === 375"),
                            what="the panel to fill the phone")
        wide = await page.eval("document.documentElement.scrollWidth")
        expect(wide <= 375, "nothing wider than the phone: %r" % wide)
        await page.screenshot(os.path.join(SHOTS, "bot-phone-%s.png" % ("dark" if dark else "light")))
    await expect_clean(page)


SCENARIOS = [(n[2:], f) for n, f in list(globals().items()) if n.startswith("s_")]


class Ctx:
    pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", required=True)
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    args.mb = os.path.abspath(args.mb)
    unknown = set(args.names) - {n for n, _ in SCENARIOS}
    if unknown:
        print("web_browser: no scenario named %s" % ", ".join(sorted(unknown)))
        return 2
    ctx = Ctx()
    ctx.args = args
    tmp = tempfile.mkdtemp(prefix="mb-webb-")
    ctx.knowledge = os.path.join(tmp, "knowledge")
    shutil.copytree(os.path.join(ROOT, "knowledge"), ctx.knowledge)
    fixtures = os.path.join(HERE, "fixtures", "web-injection")
    for f in os.listdir(fixtures):
        shutil.copy(os.path.join(fixtures, f), ctx.knowledge)
    port = web_test.free_port()
    ctx.allowed, ctx.refused = Site(port), Site(port)
    passed = failed = 0
    bot = None
    try:
        for name, fn in SCENARIOS:
            if args.names and name not in args.names:
                continue
            # a fresh bot each (its own feedback log), on the same port the sites point at
            bot = web_test.Bot(args.mb, {"WEB_ALLOWED_ORIGINS": "self, " + ctx.allowed.origin,
                                         "WEB_MESSAGES_PER_10S": "30"}, ctx.knowledge)
            bot.port = port
            bot.env["WEB_LISTEN"] = "127.0.0.1:%d" % port
            ctx.bot = bot
            t0 = time.monotonic()
            try:
                await bot.start()
                async with cdp.Browser() as browser:
                    ctx.browser = browser
                    await asyncio.wait_for(fn(ctx), 90)
                rc = await bot.stop()
                expect(rc == 0, "exit status %r after SIGTERM" % rc)
                reports = web_test.sanitizer_reports(bot.log())
                expect(not reports, "sanitizer: %r" % reports)
                passed += 1
                print("ok   %-22s (%.1f s)" % (name, time.monotonic() - t0))
            except Exception as e:
                failed += 1
                print("FAIL %-22s %s" % (name, e))
                if not isinstance(e, (AssertionError, cdp.Error, web_test.Fail)):
                    traceback.print_exc()
                for line in bot.log().splitlines()[-25:]:
                    print("      | " + line)
            finally:
                bot.kill()
                if bot.proc and bot.proc.returncode is None:
                    await bot.proc.wait()
                bot.cleanup()
            sys.stdout.flush()
    finally:
        ctx.allowed.stop()
        ctx.refused.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("web_browser: %d passed, %d failed; screenshots in %s" % (passed, failed, os.path.normpath(SHOTS)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
