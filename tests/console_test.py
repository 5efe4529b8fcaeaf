#!/usr/bin/python3
"""console_test: what a person sees in `massagebot chat` and `ask` on a
terminal (a pseudo-terminal of a set width): replies wrapped at word
boundaries to the width, bold and emphasis as attributes (none with
NO_COLOR or TERM=dumb), lists kept; and piped: plain text, one line per
paragraph, no markup.  Deadlines, no sleeps."""
import fcntl, json, os, re, select, struct, subprocess, sys, termios, time

MB = os.path.abspath(os.environ.get("MB", "build/san/massagebot"))
SGR = re.compile(r"\x1b\[[0-9;]*m")
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)


def on_pty(argv, cols, env_extra, script=(), timeout=20):
    """Run argv with stdin and stdout on a pty of cols columns; script: pairs
    (n, text): once the prompt "you> " has been shown n times, type text.
    Returns what it printed, CRs removed."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    env = dict(os.environ, KNOWLEDGE_DIR="knowledge", LOG_LEVEL="warn", **env_extra)
    for k in ("DISCORD_TOKEN", "BOT_PLATFORM", "UNANSWERED_LOG", "COLUMNS", "NO_COLOR", "TERM"):
        if k not in env_extra:
            env.pop(k, None)
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=subprocess.DEVNULL, env=env,
                         close_fds=True)
    os.close(slave)
    out, todo = b"", list(script)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other side is closed: it exited
                break
            if not chunk:
                break
            out += chunk
        while todo and out.count(b"you> ") >= todo[0][0]:
            os.write(master, todo.pop(0)[1].encode())
        if p.poll() is not None and not r:
            break
    if p.poll() is None:
        p.kill()
    p.wait(timeout=10)
    os.close(master)
    return out.decode("utf-8", "replace").replace("\r", "")


def plain_reply(q):
    """The reply as piped output shows it: one line per paragraph."""
    r = subprocess.run([MB, "ask", q], capture_output=True, text=True,
                       env=dict(os.environ, KNOWLEDGE_DIR="knowledge", LOG_LEVEL="warn"))
    return r.stdout.strip("\n")


def words_whole(shown, plain):
    """The words of the reply, in order, none cut: the shown text with its
    line breaks and indents undone is the plain text."""
    flat = re.sub(r"\s+", " ", SGR.sub("", shown)).strip()
    return re.sub(r"\s+", " ", plain).strip() in flat


def chat(q, cols, **env):
    """The console's reply to q on a pty: from "bot> " to the next prompt."""
    out = on_pty([MB, "chat"], cols, env, script=((1, q + "\n"), (2, "quit\n")))
    start, end = out.find("bot> "), out.rfind("you> ")
    return out, out[start:end].rstrip("\n") if 0 <= start < end else ""


def main():
    q = "what is sciatica"  # paragraphs, bold and the emphasised disclaimer
    plain = plain_reply(q)
    check("**" not in plain and "_General" not in plain and "\x1b" not in plain,
          "piped output has no markup: %r" % plain[-120:])
    check("\n\n" in plain and all(len(p) > 100 for p in plain.split("\n\n")[:2]),
          "piped output: one line per paragraph")

    out, reply = chat(q, 50, TERM="xterm")
    lines = SGR.sub("", reply).split("\n")
    check(reply != "" and max(len(l) for l in lines) <= 50,
          "chat on 50 columns: every line fits (%d)" % max(len(l) for l in lines))
    check(len(lines) > 10, "chat on 50 columns: the reply is wrapped")
    check(words_whole(reply.replace("bot> ", "", 1), plain), "chat: no word cut, nothing lost")
    check("\x1b[1m" in reply and "\x1b[3m" in reply, "chat: bold and emphasis as attributes")
    check("**" not in reply and "_General" not in reply, "chat: no Markdown markers shown")

    for env in ({"TERM": "xterm", "NO_COLOR": "1"}, {"TERM": "dumb"}, {}):
        out, reply = chat(q, 50, **env)
        check(reply and "\x1b[" not in reply and max(len(l) for l in reply.split("\n")) <= 50,
              "chat with %s: wrapped, no attributes" % (env or "no TERM"))

    # no width known (a pty that says 0 columns): 80
    out, reply = chat(q, 0, TERM="xterm")
    widths = [len(l) for l in SGR.sub("", reply).split("\n")]
    check(reply and max(widths) <= 80 and max(widths) > 60, "unknown width: 80 (%d)" % max(widths))

    # lists keep their items, continued lines indented under the text
    out = on_pty([MB, "ask", "help"], 40, {"TERM": "xterm"})
    items = [l for l in SGR.sub("", out).split("\n") if l.startswith("- ")]
    check(len(items) >= 5, "ask help on a terminal keeps the list (%d items)" % len(items))
    check(re.search(r"\n- [^\n]+\n  \S", SGR.sub("", out)) is not None,
          "a wrapped list item is indented under its text")

    # piped chat: the same plain text as ask
    r = subprocess.run([MB, "chat"], input=q + "\n", capture_output=True, text=True,
                       env=dict(os.environ, KNOWLEDGE_DIR="knowledge", LOG_LEVEL="warn"))
    check(r.stdout.strip("\n") == plain, "piped chat prints what piped ask prints")

    print(f"console: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
