#!/usr/bin/env bash
# clinic.sh: the clinic profile from the command line, against the binary in
# $MB: check lists empty values as warnings (and still passes) and an unknown
# placeholder as an error with file:line; answers quote the profile; `run`
# under systemd warns once about the example profile; the running bot picks
# up an edited clinic.yaml.
set -u
MB=${MB:-build/san/massagebot}
. "$(dirname "$0")/lib.bash"
export LOG_LEVEL=warn
unset BOT_PLATFORM DISCORD_TOKEN INVOCATION_ID NOTIFY_SOCKET
cp -r knowledge "$tmp/k"
export KNOWLEDGE_DIR=$tmp/k

# --- the shipped profile is the example: check says so and passes
"$MB" check >"$tmp/out" 2>&1 && ok || bad "check of the shipped knowledge fails"
grep -q "^$tmp/k/clinic.yaml:[0-9]*:1: warning: this is the example profile" "$tmp/out" && ok ||
	bad "check warns about the example profile"
grep -q "^ok: .*warning" "$tmp/out" && ok || bad "check's summary counts the warnings"

# --- empty values: warnings with their line, the answer gives the contact
sed -i 's/^parking: .*/parking: ""/; s/^example: true/example: false/' "$tmp/k/clinic.yaml"
line=$(grep -n '^parking:' "$tmp/k/clinic.yaml" | cut -d: -f1)
"$MB" check >"$tmp/out" 2>&1 && ok || bad "an empty value fails check"
grep -q "^$tmp/k/clinic.yaml:$line:1: warning: 'parking' is empty" "$tmp/out" && ok ||
	bad "check lists the empty value with its line"
! grep -q "example profile" "$tmp/out" && ok || bad "example warning with example: false"
printf -- '---\nid: zz-parking\ntitle: Parking\nquestions: [zz parking one, zz parking two, zz parking three]\ndisclaimer: false\nsource: clinic profile\nreviewed: 2026-01-01\n---\nPhone: {{clinic.phone}}.\n\nParking: {{clinic.parking}}\n' >"$tmp/k/zz.md"
"$MB" ask --json "zz parking one" >"$tmp/out" 2>/dev/null
/usr/bin/python3 - "$tmp/out" <<'PY' && ok || bad "an empty value gives the contact text, no disclaimer"
import json, sys
r = json.loads(open(sys.argv[1]).read())
assert r["intent"] == "zz-parking", r
assert r["reply"].startswith("Phone: 020 7946 0321.\n\nI don't have those details here. You can reach"), r["reply"]
assert "Parking" not in r["reply"] and r["safety"] == [], r
PY

# --- an unknown placeholder: an error with file:line:col
printf -- '---\nid: zz-bad\ntitle: Bad\nquestions: [zz bad one, zz bad two, zz bad three]\nsource: s\nreviewed: 2026-01-01\n---\nCall {{clinic.phon}}\n' >"$tmp/k/zz-bad.md"
"$MB" check >"$tmp/out" 2>&1
[ $? -eq 1 ] && ok || bad "an unknown placeholder does not fail check"
grep -q "^$tmp/k/zz-bad.md:8:6: unknown placeholder '{{clinic.phon}}' (did you mean '{{clinic.phone}}'?)" "$tmp/out" && ok ||
	bad "unknown placeholder with file:line:col"
rm "$tmp/k/zz-bad.md"

# --- run under systemd: one warning while the example is in place
run_log() { # env assignments...; the log of a console run that reads no input
	env "$@" BOT_PLATFORM=console LOG_LEVEL=info "$MB" run </dev/null >/dev/null 2>"$tmp/err"
}
sed -i 's/^example: false/example: true/' "$tmp/k/clinic.yaml"
run_log INVOCATION_ID=0123abcd
[ "$(grep -c 'is the example clinic profile' "$tmp/err")" -eq 1 ] && ok ||
	bad "run under systemd (INVOCATION_ID) warns once about the example profile"
run_log NOTIFY_SOCKET="$tmp/none"
grep -q 'is the example clinic profile' "$tmp/err" && ok || bad "NOTIFY_SOCKET counts as systemd"
run_log
! grep -q 'example clinic profile' "$tmp/err" && ok || bad "example warning outside systemd"
sed -i 's/^example: true/example: false/' "$tmp/k/clinic.yaml"
run_log INVOCATION_ID=0123abcd
! grep -q 'example clinic profile' "$tmp/err" && ok || bad "example warning with example: false"

# --- the running bot notices an edited clinic.yaml
/usr/bin/python3 - "$MB" "$tmp/k" <<'PY' && ok || bad "an edit of clinic.yaml reaches the running bot"
import os, select, subprocess, sys, time
mb, k = sys.argv[1], sys.argv[2]
env = dict(os.environ, BOT_PLATFORM="console", LOG_LEVEL="info", KNOWLEDGE_DIR=k)
p = subprocess.Popen([mb, "run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, env=env)
def wait_for(stream, needle, deadline):
    buf = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([stream], [], [], 0.2)
        if r:
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            if needle in buf:
                return True
    return False
try:
    # the watcher is in place once it says so (start-up is logged before)
    assert wait_for(p.stderr, b"knowledge watcher: watching", time.monotonic() + 20)
    path = os.path.join(k, "clinic.yaml")
    text = open(path).read().replace("020 7946 0321", "020 7946 0999")
    with open(path, "w") as f:
        f.write(text)
    assert wait_for(p.stderr, b"knowledge rebuilt", time.monotonic() + 20), "no rebuild"
    p.stdin.write(b"zz parking one\n")
    p.stdin.flush()
    assert wait_for(p.stdout, b"020 7946 0999", time.monotonic() + 20), "old phone served"
finally:
    p.stdin.close()
    p.wait(timeout=20)
PY

summary clinic
