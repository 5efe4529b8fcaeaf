#!/usr/bin/python3
"""ops_test: the running bot (console platform) under operations: sd_notify
READY/STATUS through a fake NOTIFY_SOCKET, hot reload on file change and on
SIGHUP, a broken file keeps the old answers, the unanswered log (no ids,
mentions removed) and `massagebot report`.  Waits use deadlines, generous
(60 s) because the sanitized build rebuilding the knowledge on a loaded
machine once took longer than 15 s; they end as soon as the condition holds."""
import json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time

MB = os.path.abspath(os.environ.get("MB", "build/san/massagebot"))
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)


class Reader(threading.Thread):
    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.buf, self.lock = stream, "", threading.Lock()

    def run(self):
        for chunk in iter(lambda: self.stream.read1(4096), b""):
            with self.lock:
                self.buf += chunk.decode("utf-8", "replace")

    def wait_for(self, text, start=0, timeout=60.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                i = self.buf.find(text, start)
                if i >= 0:
                    return i
            time.sleep(0.02)
        return -1

    def size(self):
        with self.lock:
            return len(self.buf)

    def text(self, start, end):
        with self.lock:
            return self.buf[start:end]


def main():
    tmp = tempfile.mkdtemp(prefix="mb-ops-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"ops: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def run(tmp):
    kdir = os.path.join(tmp, "k")
    shutil.copytree("knowledge", kdir)
    sock_path = os.path.join(tmp, "notify")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(sock_path)
    ns.settimeout(0.2)
    notes, notes_lock, done = [], threading.Lock(), threading.Event()

    def drain():  # like systemd, always read: a full socket blocks the bot
        while not done.is_set():
            try:
                n = ns.recv(4096).decode()
            except socket.timeout:
                continue
            with notes_lock:
                notes.append(n)

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()

    def notify_wait(prefix, timeout=60.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with notes_lock:
                for n in notes:
                    if any(l.startswith(prefix) for l in n.split("\n")):
                        return n
            time.sleep(0.02)
        return None

    ulog = os.path.join(tmp, "unanswered.jsonl")
    # what an older bot left: one entry past its age (deleted at start), one
    # of today with the second and a phone number (kept: day only, scrubbed)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    with open(ulog, "w") as f:
        for t, q in (("2001-02-03T04:05:06Z", "ancient question"),
                     (today + "T10:11:12Z", "call me on 07700 900123")):
            f.write(json.dumps({"time": t, "question": q, "reason": "fallback",
                                "candidates": []}) + "\n")
    env = dict(os.environ, KNOWLEDGE_DIR=kdir, UNANSWERED_LOG=ulog, NOTIFY_SOCKET=sock_path,
               BOT_PLATFORM="console", LOG_LEVEL="info")
    env.pop("DISCORD_TOKEN", None)
    p = subprocess.Popen([MB, "run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=tmp, env=env)
    out, err = Reader(p.stdout), Reader(p.stderr)
    out.start()
    err.start()

    def ask(q):
        p.stdin.write((q + "\n").encode())
        p.stdin.flush()

    check(notify_wait("READY=1") is not None, "READY=1 sent to NOTIFY_SOCKET")
    ask("what is swedish massage")
    check(out.wait_for("Swedish") >= 0, "answers before any change")

    # 1. edit an answer: the watcher rebuilds and the next answer shows it
    path = os.path.join(kdir, "massage", "swedish-massage.md")
    text = open(path, encoding="utf-8").read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.rstrip("\n") + "\n\nMARKER-ONE.\n")
    mark = err.size()
    check(err.wait_for("knowledge rebuilt", mark) >= 0, "file change triggers a rebuild")
    o = out.size()
    ask("what is swedish massage")
    check(out.wait_for("MARKER-ONE", o) >= 0, "the next answer uses the edited file")
    check(notify_wait("STATUS=knowledge reloaded") is not None, "STATUS after reload")

    # 1b. every kind of knowledge file is watched, safety/concepts.txt too
    concepts = os.path.join(kdir, "safety", "concepts.txt")
    if os.path.exists(concepts):
        mark = err.size()
        with open(concepts, "a", encoding="utf-8") as f:
            f.write("\n# edited\n")
        check(err.wait_for("knowledge rebuilt", mark) >= 0, "an edit of concepts.txt rebuilds")

    # 1c. the rule words reload like any file: broken, they are reported with
    # file:line and the last good version (whose words give a red flag the
    # rules miss its line) keeps serving; removed, the line goes with them
    rw = os.path.join(kdir, "safety", "rule-words.txt")
    redflag = ("would a sports massage help my calf? it has been swollen and warm since my "
               "long flight")
    o = out.size()
    ask(redflag)
    check(out.wait_for("can be a sign of a blood clot", o) >= 0,
          "the rule words give the red flag its line")
    good = open(rw, encoding="utf-8").read()
    mark = err.size()
    with open(rw, "a", encoding="utf-8") as f:
        f.write("rule no-such-rule\n")
    check(err.wait_for("rule-words.txt:%d:1: unknown rule id 'no-such-rule'"
                       % (good.count("\n") + 1), mark) >= 0, "broken rule words logged with file:line")
    check(err.wait_for("still serving the previous", mark) >= 0, "keeps the last good rule words")
    o = out.size()
    ask(redflag)
    check(out.wait_for("can be a sign of a blood clot", o) >= 0,
          "the last good rule words keep serving")
    mark = err.size()
    os.unlink(rw)
    check(err.wait_for("knowledge rebuilt", mark) >= 0, "removing the rule words rebuilds")
    o = out.size()
    ask(redflag)
    ask("what is swedish massage")  # its answer ends the red flag's reply
    e = out.wait_for("MARKER-ONE", o)
    check(e >= 0 and "a blood clot" not in out.text(o, e),
          "without the rule words the red flag gets no line")
    mark = err.size()
    with open(rw, "w", encoding="utf-8") as f:
        f.write(good)
    check(err.wait_for("knowledge rebuilt", mark) >= 0, "restoring the rule words rebuilds")

    # 2. a broken file is reported with file:line and the old version keeps serving
    mark = err.size()
    with open(os.path.join(kdir, "massage", "broken.md"), "w") as f:
        f.write("---\nid: broken\ntitel: x\n---\n\n")
    check(err.wait_for("broken.md:3:1: unknown key 'titel'", mark) >= 0,
          "broken file logged with file:line")
    check(err.wait_for("still serving the previous", mark) >= 0, "keeps the last good version")
    o = out.size()
    ask("what is swedish massage")
    check(out.wait_for("MARKER-ONE", o) >= 0, "old answers keep working")
    os.unlink(os.path.join(kdir, "massage", "broken.md"))
    mark = err.size()
    check(err.wait_for("knowledge rebuilt", mark) >= 0, "fixing the file rebuilds")

    # 3. SIGHUP reloads what the watcher cannot see: a write through a hard
    # link outside the folder changes the file without an event in it, so
    # only the SIGHUP can bring the marker in
    link = os.path.join(tmp, "swedish-link.md")
    os.link(path, link)
    with open(link, "w", encoding="utf-8") as f:
        f.write(text.rstrip("\n") + "\n\nMARKER-HUP.\n")
    o = out.size()
    ask("what is swedish massage")
    check(out.wait_for("MARKER-ONE", o) >= 0 and "MARKER-HUP" not in out.buf[o:],
          "a change the watcher cannot see is not loaded by itself")
    mark = err.size()
    p.send_signal(signal.SIGHUP)
    check(err.wait_for("reload requested", mark) >= 0, "SIGHUP logged")
    check(err.wait_for("knowledge rebuilt", mark) >= 0, "SIGHUP rebuilds")
    o = out.size()
    ask("what is swedish massage")
    check(out.wait_for("MARKER-HUP", o) >= 0, "the answer after SIGHUP has the change")

    # 3b. the folder moved away and back (a deploy, a checkout of a parent,
    # a safe-save of a folder): the watcher finds it again, then sees edits
    mark = err.size()
    os.rename(kdir, kdir + ".away")
    check(err.wait_for("was moved away or deleted", mark) >= 0, "moving the folder away is logged")
    o = out.size()
    ask("what is swedish massage")
    check(out.wait_for("MARKER-HUP", o) >= 0, "answers go on while the folder is away")
    mark = err.size()
    os.rename(kdir + ".away", kdir)
    check(err.wait_for("is there again", mark) >= 0, "the folder is found again")
    check(err.wait_for("knowledge rebuilt", mark) >= 0, "found again: rebuilt")
    mark = err.size()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.rstrip("\n") + "\n\nMARKER-BACK.\n")
    check(err.wait_for("knowledge rebuilt", mark) >= 0, "an edit after the move is seen")
    o = out.size()
    ask("what is swedish massage")
    check(out.wait_for("MARKER-BACK", o) >= 0, "the answer after the move has the edit")

    # 4. unanswered log: fallback questions (mentions are a platform's syntax:
    # tests/fake_discord.py checks that Discord's never reach the log);
    # phone numbers, e-mail addresses and long numbers never reach it either
    ask("write me a poem about cars please, mail me at jo.smith@example.com")
    ask("what is the weather in Paris, my number is 0161 496 0000, ref 88812345")
    ask("what is swedish massage")
    end = time.monotonic() + 10
    rows = []
    while time.monotonic() < end and len(rows) < 3:
        try:
            rows = [json.loads(l) for l in open(ulog, encoding="utf-8")]
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.05)
    check(len(rows) == 3, f"one old entry kept and two new ones logged (got {len(rows)})")
    if len(rows) == 3:
        check(all(list(r) == ["time", "question", "reason", "candidates"] for r in rows),
              "log keys")
        check([r["question"] for r in rows] ==
              ["call me on [phone]", "write me a poem about cars please, mail me at [email]",
               "what is the weather in Paris, my number is [phone], ref [number]"],
              "questions scrubbed: %r" % [r["question"] for r in rows])
        check(rows[1]["reason"] == "fallback", "reason fallback")
        check(all(r["time"] == today for r in rows), "the day only, no time of day")
        check("ancient" not in open(ulog).read(), "the entry past its age is deleted")
        check(err.wait_for("1 entry older than 30 days deleted", 0, 1) >= 0,
              "the deletion is logged")

    # 5. clean stop on end of input
    p.stdin.close()
    try:
        rc = p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = -1
    check(rc == 0, f"exit 0 at end of input (got {rc})")
    check("AddressSanitizer" not in err.buf and "runtime error" not in err.buf,
          "no sanitizer reports")
    done.set()

    # 6. report groups similar questions and counts each phrasing; what
    # people typed is shown escaped, never as terminal control codes
    with open(ulog, "a") as f:
        for q in ["is cupping good for back pain", "does cupping help back pain",
                  "Is cupping good for back pain?", "cupping for back pain?",
                  "what about a foam roller", "foam roller for back",
                  "foam roller \x1b[2J\x1b]0;pwned\x07 for my back"]:
            f.write(json.dumps({"time": today, "question": q, "reason": "fallback",
                                "candidates": [{"intent": "complementary-treatments",
                                                "score": 0.3}]}) + "\n")
        f.write("not json\n")
    r = subprocess.run([MB, "report", ulog], capture_output=True, text=True, env=env, cwd=tmp)
    check(r.returncode == 0, "report exits 0")
    check("10 unanswered questions" in r.stdout, "report counts questions")
    check('  4 x  "is cupping good for back pain"  (2 times)\n'
          '        "does cupping help back pain"  (once)\n'
          '        "cupping for back pain?"  (once)\n' in r.stdout,
          "distinct phrasings with counts:\n" + r.stdout)
    check("closest answer: complementary-treatments" in r.stdout, "closest answer shown")
    check("1 line that are not log entries skipped" in r.stdout, "bad lines counted")
    check("\x1b" not in r.stdout and "\x07" not in r.stdout and
          '"foam roller \\x1b[2J\\x1b]0;pwned\\x07 for my back"' in r.stdout,
          "control characters shown escaped")

    # 7. `chat` never writes the log, whatever UNANSWERED_LOG says
    clog = os.path.join(tmp, "chat.jsonl")
    r = subprocess.run([MB, "chat"], input="write me a poem about cars\n", capture_output=True,
                       text=True, env=dict(env, UNANSWERED_LOG=clog), cwd=tmp, timeout=60)
    check(r.returncode == 0 and "Sorry" in r.stdout, "chat answers with the fallback")
    check(not os.path.exists(clog), "chat does not write the unanswered log")

main()
