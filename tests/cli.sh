#!/usr/bin/env bash
# cli.sh: end-to-end checks of the massagebot command line (exit codes,
# ask's one-line-per-input JSON on hostile input, check, eval) against the
# binary in $MB (the sanitized build under `make test`).
set -u
MB=${MB:-build/san/massagebot}
absmb=$(realpath "$MB")
. "$(dirname "$0")/lib.bash"
export KNOWLEDGE_DIR=knowledge LOG_LEVEL=warn
unset BOT_PLATFORM DISCORD_TOKEN

expect_rc() { # want-rc description command...
	local want=$1 what=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else bad "$what: exit $rc, want $want"; sed 's/^/  | /' "$tmp/err" | head -5; fi
}

# --- usage and exit codes
expect_rc 0 "--help" "$MB" --help
expect_rc 0 "--version" "$MB" --version
grep -q "^massagebot [0-9]" "$tmp/out" && ok || bad "--version prints the version"
expect_rc 2 "no command" "$MB"
expect_rc 2 "unknown command" "$MB" frobnicate
expect_rc 0 "ask --help" "$MB" ask --help
expect_rc 2 "ask bad option" "$MB" ask --bogus
expect_rc 2 "eval missing file" "$MB" eval "$tmp/nope.tsv"
expect_rc 2 "check missing dir" "$MB" check "$tmp/nope"
KNOWLEDGE_DIR=$tmp/nope expect_rc 2 "chat without knowledge" "$MB" chat </dev/null
LOG_LEVEL=loud expect_rc 2 "bad LOG_LEVEL" "$MB" ask hi
grep -q "LOG_LEVEL" "$tmp/err" && ok || bad "config error names LOG_LEVEL"
MATCH_THRESHOLD=2 expect_rc 2 "bad MATCH_THRESHOLD" "$MB" ask hi
BOT_PLATFORM=discord expect_rc 2 "discord without token" "$MB" run </dev/null
grep -q "DISCORD_TOKEN" "$tmp/err" && ok || bad "names DISCORD_TOKEN"

# --- logs: journald priority prefixes under systemd, plain otherwise; no token
echo | JOURNAL_STREAM=8:12345 BOT_PLATFORM=console LOG_LEVEL=info "$MB" run >/dev/null 2>"$tmp/err"
head -1 "$tmp/err" | grep -q '^<6>massagebot .* starting on console' && ok || bad "journald <6> prefix"
echo | BOT_PLATFORM=console LOG_LEVEL=info "$MB" run >/dev/null 2>"$tmp/err"
head -1 "$tmp/err" | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z massagebot info: ' && ok || bad "plain log line"
secret=MTIzNDU2Nzg5MDEyMzQ1Njc4.SECRET.abcdefghijklmnopqrstuvwx
DISCORD_TOKEN="$secret" MATCH_MARGIN=7 "$MB" ask hi >"$tmp/out" 2>"$tmp/err"
grep -q "MATCH_MARGIN" "$tmp/err" && ok || bad "bad MATCH_MARGIN named"
! grep -q "SECRET" "$tmp/out" "$tmp/err" && ok || bad "token printed"
DISCORD_TOKEN="Bot $secret" "$MB" run </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q "DISCORD_TOKEN" "$tmp/err" && ! grep -q "SECRET" "$tmp/err" && ok ||
	bad "run: bad token named (exit 2, got $rc), not printed"
# a command validates only the variables it uses: a malformed platform
# variable never stops ask, check, eval or report
printf '{"time":"2026-01-01","question":"cupping?","reason":"fallback","candidates":[]}\n' >"$tmp/u.jsonl"
printf 'hi\tgreeting\n' >"$tmp/one.tsv"
for cmd in "ask hi" "check" "eval $tmp/one.tsv" "report $tmp/u.jsonl"; do
	# shellcheck disable=SC2086
	DISCORD_TOKEN="Bot $secret" BOT_PLATFORM=telegraph DISCORD_CHANNELS=general \
		DISCORD_API_BASE=ftp://x expect_rc 0 "$cmd with malformed platform variables" "$MB" $cmd
	! grep -qE "DISCORD|BOT_PLATFORM|SECRET" "$tmp/err" && ok || bad "$cmd mentions a platform variable"
done
BOT_PLATFORM=telegraph expect_rc 2 "run with a bad BOT_PLATFORM" "$MB" run </dev/null
grep -q "BOT_PLATFORM (from environment)" "$tmp/err" && ok || bad "run names BOT_PLATFORM"
# a .env that holds the token and that other users can read is named, once
# per start; chmod 600 quiets it
mkdir "$tmp/permdir"
printf 'DISCORD_TOKEN=%s\nBOT_PLATFORM=console\n' "$secret" >"$tmp/permdir/.env"
chmod 644 "$tmp/permdir/.env"
(cd "$tmp/permdir" && KNOWLEDGE_DIR=$OLDPWD/knowledge "$absmb" run </dev/null >/dev/null 2>"$tmp/err")
grep -q "\.env holds the bot token and other users can read it (mode 0644): chmod 600 .env" "$tmp/err" &&
	! grep -q SECRET "$tmp/err" && ok || bad "a world-readable .env with the token is warned about"
chmod 600 "$tmp/permdir/.env"
(cd "$tmp/permdir" && KNOWLEDGE_DIR=$OLDPWD/knowledge "$absmb" run </dev/null >/dev/null 2>"$tmp/err")
! grep -q "other users can read" "$tmp/err" && ok || bad "a 0600 .env is not warned about"
# unknown .env keys: "did you mean"; a broken platform line stops only run
mkdir "$tmp/envdir"
printf 'DISCORD_TOKN=x\nDISCORD_CHANNELS="12\n' >"$tmp/envdir/.env"
(cd "$tmp/envdir" && KNOWLEDGE_DIR=$OLDPWD/knowledge "$absmb" ask hi >"$tmp/out" 2>"$tmp/err")
rc=$?
[ $rc -eq 0 ] && ok || bad "ask with a broken platform line in .env: exit $rc"
grep -q "unknown variable DISCORD_TOKN (ignored; did you mean DISCORD_TOKEN?)" "$tmp/err" && ok ||
	bad ".env unknown key: did you mean"
(cd "$tmp/envdir" && "$absmb" run </dev/null >"$tmp/out" 2>"$tmp/err")
rc=$?
[ $rc -eq 2 ] && grep -q '.env:2: missing closing " quote' "$tmp/err" && ok || bad "run names the broken .env line (exit $rc)"

# --- check: the shipped knowledge is clean; a broken copy is reported
expect_rc 0 "check shipped knowledge" "$MB" check
grep -q "^ok: " "$tmp/out" && ok || bad "check prints a summary"
grep -qE "^ok: .*, [0-9]+ rule words for 11 rules \([0-9]+ unless words\), a classifier of [0-9]+ classes in " \
	"$tmp/out" && ok || bad "check says the rule words and the classifier loaded"
# the rule words: a red flag the hand-written rules miss gets its line (a
# motorbike crash said without their words for an accident); without the
# file, the same message gets none; the safety table gate stays green
redflag="since the crash on my motorbike yesterday my lower back is agony"
"$MB" ask --json "$redflag" >"$tmp/out"
grep -q '"safety":\[[^]]*"trauma"' "$tmp/out" && ok || bad "the rule words add the trauma line"
cp -r knowledge "$tmp/k0" && rm "$tmp/k0/safety/rule-words.txt"
KNOWLEDGE_DIR=$tmp/k0 "$MB" ask --json "$redflag" >"$tmp/out"
grep -q '"safety":\[\]' "$tmp/out" && ok || bad "without the rule words the rules miss it"
printf '%s\ttrauma\tcrisis\n' "$redflag" >"$tmp/s.tsv"
expect_rc 0 "eval: the red flag the rules miss fires" "$MB" eval "$tmp/s.tsv"
KNOWLEDGE_DIR=$tmp/k0 expect_rc 1 "eval: without the rule words it is missed" "$MB" eval "$tmp/s.tsv"
# the unless model: a general question about a red flag's name gets the
# see-a-doctor line in place of the emergency one, and --explain says so;
# without the unless section the emergency line comes back
general="What is cauda equina syndrome, in simple words?"
"$MB" ask --json "$general" >"$tmp/out"
grep -q '"safety":\["see-a-doctor"' "$tmp/out" && ! grep -q '"emergency"' "$tmp/out" && ok ||
	bad "the unless model doubts the emergency line of a general question"
"$MB" ask --explain "$general" >"$tmp/out"
grep -qE '^doubted: +emergency \([0-9.]+\) -> see-a-doctor$' "$tmp/out" && ok ||
	bad "--explain names the doubted line and what came instead"
cp -r knowledge "$tmp/k1" && sed -i '/^unless$/,$d' "$tmp/k1/safety/rule-words.txt"
KNOWLEDGE_DIR=$tmp/k1 "$MB" ask --json "$general" >"$tmp/out"
grep -q '"safety":\["emergency"' "$tmp/out" && ok || bad "without the unless section the emergency line stays"
# agree-at: where the matcher asks "did you mean" with posture first and the
# classifier's likeliest answer is posture (below take-at), posture is
# answered; without the line, the bot asks
agree="posture corrector brace, do they work?"
"$MB" ask --json "$agree" >"$tmp/out"
grep -q '"intent":"posture"' "$tmp/out" && ok || bad "agree-at: both readers' first choice is answered"
cp -r knowledge "$tmp/k2" && sed -i '/^agree-at /d' "$tmp/k2/classifier.txt"
KNOWLEDGE_DIR=$tmp/k2 "$MB" ask "$agree" >"$tmp/out"
grep -q "Did you mean" "$tmp/out" && grep -q "Posture and lifting" "$tmp/out" && ok ||
	bad "without agree-at the bot asks 'did you mean' with posture first"
# rule words for one rule only: the others are warned about
printf 'rule emergency\nbias -1\nat 1\n1.5 numb\n' >"$tmp/k0/safety/rule-words.txt"
expect_rc 0 "check rule words for one rule" "$MB" check "$tmp/k0"
grep -q "rule-words.txt:1:1: warning: no words for rule 'trauma'" "$tmp/out" && ok ||
	bad "check warns about a rule without words"
# a broken rule-words file: file:line, and the knowledge is not served
printf 'rule emergency\nbias -1\nat 1\nrule no-such-rule\nbias 1\nat x\n' \
	>"$tmp/k0/safety/rule-words.txt"
expect_rc 1 "check broken rule words" "$MB" check "$tmp/k0"
grep -q "^$tmp/k0/safety/rule-words.txt:4:1: unknown rule id 'no-such-rule'" "$tmp/out" &&
	grep -q "^$tmp/k0/safety/rule-words.txt:6:1: 'at' needs one number" "$tmp/out" && ok ||
	bad "check names the rule words' bad lines"
rm -r "$tmp/k0"
cp -r knowledge "$tmp/k"
printf -- '---\nid: broken\ntitel: x\nquestions: [a b, c d]\n---\n\n' >"$tmp/k/broken.md"
expect_rc 1 "check broken knowledge" "$MB" check "$tmp/k"
grep -q "^$tmp/k/broken.md:3:1: unknown key 'titel'" "$tmp/out" && ok || bad "unknown key with file:line"
grep -q "^$tmp/k/broken.md:2:1: missing required key 'title'" "$tmp/out" && ok || bad "missing key"
grep -q "^$tmp/k/broken.md:4:1: 'questions' needs at least 3" "$tmp/out" && ok || bad "too few questions"
grep -q "^$tmp/k/broken.md:6:1: the text after the front matter is empty" "$tmp/out" && ok || bad "empty body"
KNOWLEDGE_DIR=$tmp/k expect_rc 2 "run refuses broken knowledge" "$MB" chat </dev/null
# check FILE: that file's problems only (checked against its folder)
expect_rc 1 "check one broken file" "$MB" check "$tmp/k/broken.md"
grep -q "^$tmp/k/broken.md:3:1: unknown key 'titel'" "$tmp/out" && ok || bad "check FILE lists its problems"
! grep -v "^$tmp/k/broken.md:" "$tmp/out" | grep -q ':[0-9]*:[0-9]*: ' && ok || bad "check FILE lists only its own"
expect_rc 0 "check one good file of a broken folder" "$MB" check "$tmp/k/massage/swedish-massage.md"
grep -q "^ok: $tmp/k/massage/swedish-massage.md" "$tmp/out" && grep -q "problems* in other files of $tmp/k" "$tmp/out" &&
	ok || bad "check FILE: ok, and the folder's other problems counted"
cp knowledge/massage/swedish-massage.md "$tmp/alone.md"
expect_rc 0 "check a file outside any knowledge folder" "$MB" check "$tmp/alone.md"
grep -q "on its own" "$tmp/out" && ok || bad "check FILE on its own says so"
rm "$tmp/k/broken.md"
# a broken file does not cascade into the answers that name it
sed -i 's/^title: /titel: /' "$tmp/k/massage/swedish-massage.md"
expect_rc 1 "check a folder with one broken answer" "$MB" check "$tmp/k"
grep -q "swedish-massage.md:3:1: unknown key 'titel'" "$tmp/out" &&
	! grep -q "related id 'swedish-massage'" "$tmp/out" && ok || bad "a broken answer makes related: errors elsewhere"
cp knowledge/massage/swedish-massage.md "$tmp/k/massage/swedish-massage.md"
# a tab in the front matter, and symbolic links, are named
printf -- '---\nid: tabbed\n\ttitle: x\n---\nBody\n' >"$tmp/k/tabbed.md"
ln -s ../massage/swedish-massage.md "$tmp/k/about/linked.md"
ln -s .. "$tmp/k/about/loop"
expect_rc 1 "check tab and links" "$MB" check "$tmp/k"
grep -q "^$tmp/k/tabbed.md:3:1: tab: indent with spaces" "$tmp/out" && ok || bad "tab in YAML named"
grep -q "^$tmp/k/about/linked.md:1:1: is a symbolic link; links are not followed" "$tmp/out" && ok ||
	bad "symlinked answer reported"
grep -q "^$tmp/k/about/loop:1:1: is a symbolic link to a folder" "$tmp/out" && ok || bad "symlink loop reported"
rm "$tmp/k/tabbed.md" "$tmp/k/about/linked.md" "$tmp/k/about/loop"
expect_rc 0 "check after removing them" "$MB" check "$tmp/k"
# the bot's own lines are knowledge files too: staff change them, check checks them
printf -- '---\nid: fallback\n---\nNo idea, sorry: ask at reception.\n' >"$tmp/k/messages/fallback.md"
KNOWLEDGE_DIR=$tmp/k "$MB" ask "write me a poem about cars" >"$tmp/out" 2>/dev/null
grep -qx "No idea, sorry: ask at reception." "$tmp/out" && ok || bad "the fallback comes from messages/fallback.md"
mv "$tmp/k/messages/get-checked-first.md" "$tmp/gcf.md"
printf -- '---\nid: falback\n---\nx\n' >"$tmp/k/messages/other.md"
expect_rc 1 "check with a message missing and one misnamed" "$MB" check "$tmp/k"
grep -q "required message 'get-checked-first' is missing: add $tmp/k/messages/get-checked-first.md" "$tmp/out" &&
	ok || bad "a missing message is a problem"
grep -q "^$tmp/k/messages/other.md:2:1: unknown message id 'falback'.*did you mean 'fallback'" "$tmp/out" &&
	ok || bad "an unknown message id is a problem"
KNOWLEDGE_DIR=$tmp/k expect_rc 2 "chat refuses a folder without a message" "$MB" chat </dev/null
rm "$tmp/k/messages/other.md"
mv "$tmp/gcf.md" "$tmp/k/messages/get-checked-first.md"
# (the rule words go too: a section for a rule that is not there is an error)
rm "$tmp/k/broken.md" "$tmp/k/safety/"*.md "$tmp/k/safety/rule-words.txt" 2>/dev/null
expect_rc 1 "check without safety rules" "$MB" check "$tmp/k"
grep -q "required safety rule 'crisis' is missing" "$tmp/out" && ok || bad "missing rules reported"
KNOWLEDGE_DIR=$tmp/k expect_rc 2 "chat refuses without safety rules" "$MB" chat </dev/null
KNOWLEDGE_DIR=$tmp/k expect_rc 0 "ask warns without safety rules" "$MB" ask hi
grep -q "warning: required safety rules missing" "$tmp/err" && ok || bad "ask warns"

# --- ask: one JSON line per input line, whatever the input
{
	printf 'is massage good for back pain?\n'
	printf '\n'
	printf '   \t  \n'
	head -c 100000 /dev/zero | tr '\0' 'a'
	printf '\n'
	printf 'bad \xff\xfe utf8 \xe2\x82\n'
	printf 'nul\0inside\n'
	printf '💆‍♀️🙂 massage?\n'
	printf 'Массаж помогает от боли в спине?\n'
	printf '腰痛にマッサージは効きますか\n'
	printf 'no newline at end'
} >"$tmp/in"
"$MB" ask --json <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && ok || bad "ask --json on hostile input exits $rc"
[ "$(wc -l <"$tmp/out")" -eq 10 ] && ok || bad "ask --json: $(wc -l <"$tmp/out") lines for 10 inputs"
/usr/bin/python3 - "$tmp/out" <<'PY' && ok || bad "ask --json output is valid and ordered"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
keys = ["question", "intent", "score", "safety", "reply"]
assert all(list(r)[:5] == keys for r in rows), [list(r) for r in rows]
assert rows[0]["intent"] == "massage-for-back-pain", rows[0]
assert rows[1]["question"] == "" and rows[1]["intent"] is None
assert rows[3]["error"] == "truncated" and len(rows[3]["question"].encode()) == 4096
assert rows[4]["question"] == "bad \ufffd\ufffd utf8 \ufffd", rows[4]["question"]
assert rows[5]["question"] == "nul\ufffdinside"
assert rows[9]["question"] == "no newline at end"
assert all(0.0 <= r["score"] <= 1.0 and r["reply"] for r in rows)
PY
# answers are written in blocks for a pipe full of questions, but each one
# still arrives at once when the next question has not been typed yet
/usr/bin/python3 - "$MB" <<'PY' && ok || bad "ask answers each line before the next is sent"
import select, subprocess, sys
p = subprocess.Popen([sys.argv[1], "ask", "--json"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
for q in (b"hello\n", b"what is swedish massage\n"):
    p.stdin.write(q)
    p.stdin.flush()
    ready, _, _ = select.select([p.stdout], [], [], 10)
    assert ready, f"no answer to {q!r} within 10 s"
    assert p.stdout.readline().startswith(b'{"question":"' + q.strip())
p.stdin.close()
assert p.wait(timeout=10) == 0
PY
# a line with no end in sight is answered cut short, in bounded memory, and
# the next line still gets its own answer: `ask` and the console bot
for mode in ask run; do
/usr/bin/python3 - "$MB" "$mode" <<'PY' && ok || bad "$mode on a 64 MB line without a newline"
import json, resource, subprocess, sys, threading
mb, mode = sys.argv[1], sys.argv[2]
argv = [mb, "ask", "--json"] if mode == "ask" else [mb, "run"]
p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL)
def feed():  # 1 MB at a time: this process stays small
    chunk = b"massage " * (1 << 17)
    for _ in range(64):
        p.stdin.write(chunk)
    p.stdin.write(b"\nhello\n")
    p.stdin.close()
t = threading.Thread(target=feed)
t.start()
out = p.stdout.read().decode()
t.join()
assert p.wait(timeout=120) == 0
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
if mode == "ask":
    rows = [json.loads(l) for l in out.splitlines()]
    assert len(rows) == 2, len(rows)
    assert rows[0]["error"] == "truncated" and len(rows[0]["question"]) == 4096
    assert rows[1]["intent"] == "greeting", rows[1]
else:
    first = subprocess.run([mb, "ask", "massage " * 600], capture_output=True, text=True)
    hello = subprocess.run([mb, "ask", "hello"], capture_output=True, text=True)
    assert out == first.stdout + hello.stdout, out[:300]
# about 80 MB for the sanitized build (the knowledge alone: 76 with the
# round-6 safety concepts, whose many small patterns cost ASan's redzones),
# 18 for the optimised one; the whole line kept would add 64
assert peak_mb < 110, f"peak RSS {peak_mb:.0f} MB"
PY
done
"$MB" ask --json "hi" "what is swedish massage" >"$tmp/out" 2>/dev/null
[ "$(wc -l <"$tmp/out")" -eq 2 ] && ok || bad "ask with two arguments gives two lines"
"$MB" ask --json --explain "what is deep tisue massge" >"$tmp/out" 2>&1
grep -q '"candidates":\[{"intent":"deep-tissue-massage"' "$tmp/out" && ok || bad "explain lists candidates"
# --explain without --json is for a person: labelled lines, no JSON
"$MB" ask --explain "is deep tisue massge painful" >"$tmp/out" 2>&1
grep -q "^read as: *tisue->tissue" "$tmp/out" && grep -q "^answer: *deep-tissue-massage (score" "$tmp/out" &&
	grep -q "^candidates: deep-tissue-massage .*matched: deep, tisue, massge, painful" "$tmp/out" &&
	grep -q "^safety: .*disclaimer" "$tmp/out" && ! grep -q '[{}]' "$tmp/out" && ok ||
	{ bad "ask --explain is readable"; sed 's/^/  | /' "$tmp/out" | head -12; }

# --- eval: the matcher on questions people really write, each set with its
# floor for in-scope accuracy, its ceiling for wrong answers and its floor
# for out-of-scope rejection (the figures of the round that set them, a
# little below): questions.tsv, chat.tsv and (from round 2 of issue 13)
# match-r1.tsv were used to tune the matcher, and (from round 3)
# match-r2.tsv; holdout.tsv and chat-holdout.tsv never were; own-r2.tsv was
# written before round 2 changed anything and scored first (see README),
# then only checked; match-r3.tsv was held out in round 3, scored unseen and
# reported (tuning data for the next round); own-r4.tsv was written before
# round 4 changed anything and scored first (0.798 / 0.038 / 0.967), own-r4b
# before its vocabulary change (0.522 / 0.043 / 0/1); match-r4.tsv was held out
# in round 4 (its header has its unseen score) and is tuning data from round 5;
# own-r5, own-r5b and own-r5c were written before the round-5 changes they
# check (headers: first scores); match-r5.tsv was held out in round 5 (its
# header has its unseen score) and is tuning data from the next round;
# match-r6.tsv was held out in round 6 and while the classifier was built
# (gated a little below its unseen score, in eval's count with its
# two-question rows: 0.841 / 0.034 / 0.991; the floor rose to 0.88 / 0.03 when
# train-chat-1 joined the classifier's examples); match-r7.tsv was held out
# in round 8 (unseen: 0.900 / 0.9% / 0.985; its header says more), match-r8.tsv
# in round 9 (unseen: 0.886 / 2.1% / 0.962; gated a little below that),
# match-r9.tsv in round 10 (unseen: 0.870 / 1.0% / 0.934; the same),
# match-r10.tsv at its end (unseen: 0.868 / 1.5% / 0.965; the same).
for set in "questions:0.87:0.03:0.95" "holdout:0.90:0.03:0.95" "chat:0.86:0.06:0.95" \
	"chat-holdout:0.86:0.02:0.90" "match-r1:0.84:0.02:0.95" "own-r2:0.87:0.03:0.95" \
	"match-r2:0.78:0.04:0.95" "match-r3:0.78:0.03:0.95" "own-r4:0.77:0.045:0.90" \
	"own-r4b:0.74:0.05:0.0" "match-r4:0.77:0.042:0.95" \
	"own-r5:0.55:0.15:0.95" "own-r5b:0.80:0.02:0.0" "own-r5c:0.8:0.02:0.0" \
	"match-r5:0.78:0.045:0.88" "match-r6:0.88:0.03:0.97" \
	"match-r7:0.90:0.02:0.97" "match-r8:0.88:0.025:0.95" "match-r9:0.86:0.015:0.92" \
	"match-r10:0.86:0.02:0.95"; do
	IFS=: read -r name acc wrong oos <<<"$set"
	"$MB" eval "tests/data/$name.tsv" --min-accuracy "$acc" --max-wrong "$wrong" --min-oos "$oos" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	echo "$name.tsv: $(grep -E '^(in-scope (accuracy|wrong)|out-of-scope rejection)' "$tmp/out" |
		cut -d'(' -f1 | tr -s ' \n' ' ')"
	[ $rc -eq 0 ] && ok || bad "eval $name.tsv past $acc / $wrong / $oos (see: $MB eval tests/data/$name.tsv)"
done
# --- eval of dialogues: follow-up and alone turns, with the bot's memory and
# without; dialogues.tsv is the tuning set of the follow-up reading,
# dialogues-check.tsv was never tuned on; dialogues-r1 and -r2 were held out
# when first scored (their headers say how); dialogues-own4 and -own4c were
# written before round 4 changed the follow-up reading; dialogues-r3 was held
# out in round 4 (tuning data from round 5); dialogues-own5, -own5b and -own5c
# were written before round 5 changed the follow-up reading; dialogues-r4 was
# held out in round 5 (tuning data from the next round), dialogues-r5 in
# round 6 (unseen: 0.734 / 0.958), dialogues-r6 in round 8 (unseen: 0.807 /
# 0.963), dialogues-r7 in round 9 (unseen: 0.846 / 0.953), dialogues-r8 after it
# (unseen: 0.869 / 0.934), dialogues-r9 in round 10 (unseen: 0.889 / 0.960,
# one alone turn answered worse, as still after it joined the tuning data:
# "i take blood thinners, can i still get a massage" after two turns about
# painkillers gets the pain-relievers answer); the floors rose with the
# context reader (which learns from all of them and from the train-dialogues
# tables).  No alone turn may be answered worse with memory than without,
# but for the one of dialogues-r9 (a fourth field: how many may).
for set in "dialogues:0.82:0.92" "dialogues-check:0.70:0.90" "dialogues-r1:0.88:0.94" \
	"dialogues-r2:0.89:0.92" "dialogues-own4:0.80:0.92" "dialogues-own4c:0.6:0.9" \
	"dialogues-r3:0.81:0.85" "dialogues-r4:0.84:0.87" "dialogues-own5:0.8:0.95" \
	"dialogues-own5b:0.8:0.95" "dialogues-own5c:0.5:0.9" "dialogues-r5:0.76:0.93" \
	"dialogues-r6:0.78:0.95" "dialogues-r7:0.84:0.95" "dialogues-r8:0.86:0.93" \
	"dialogues-r9:0.88:0.95:1"; do
	IFS=: read -r name follow alone worse <<<"$set"
	worse=${worse:-0}
	"$MB" eval "tests/data/$name.tsv" --min-follow "$follow" --min-alone "$alone" --max-worse "$worse" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	echo "$name.tsv: $(grep -E '^(follow-up turns right|alone turns right|alone turns answered worse)' "$tmp/out" |
		sed 's/; each turn alone.*//' | tr -s ' \n' ' ')"
	[ $rc -eq 0 ] && ok || bad "eval $name.tsv past $follow / $alone / $worse worse (see: $MB eval tests/data/$name.tsv)"
done
cat >"$tmp/d.tsv" <<'DLG'
# a comment
# dialogue: one
what is deep tissue massage?	deep-tissue-massage	alone
and how often?	session-frequency	follow
what's the weather like?	-	alone

# dialogue: choice
hours	-	alone
2	session-length	follow
where are you?	location	alone
DLG
expect_rc 0 "eval a dialogue table" "$MB" eval "$tmp/d.tsv"
grep -q '^2 dialogues, 6 turns (2 follow-ups, 4 alone)' "$tmp/out" &&
	grep -q '^follow-up turns right: 1.000 (2/2; each turn alone: 0/2 = 0.000)' "$tmp/out" &&
	grep -q '^alone turns right: 1.000 (4/4; each turn alone: 4/4 = 1.000)' "$tmp/out" &&
	grep -q '^alone turns answered worse with memory than without: 0' "$tmp/out" &&
	grep -q '^read with the previous topic: 1 turns; as a choice: 1 turns; by the context reader: 0 turns' "$tmp/out" && ok ||
	{ bad "eval counts follow-up and alone turns with and without memory"; cat "$tmp/out"; }
# the context reader (followup.h): follow-ups that the rules read alone and
# get wrong, answered with the topic by the weights in classifier.txt; the
# same knowledge without those weights gets none of them
cat >"$tmp/dc.tsv" <<'DLG'
# dialogue: a therapist
how do i find a good massage therapist?	finding-a-therapist	alone
what letters should they have after their name?	finding-a-therapist	follow

# dialogue: sciatica
can massage help sciatica?	sciatica	alone
will it free the nerve?	sciatica	follow

# dialogue: hot stones
is hot stone massage good?	hot-stone-massage	alone
does it work better than a normal massage?	hot-stone-massage	follow
DLG
expect_rc 0 "the context reader answers follow-ups the rules miss" "$MB" eval "$tmp/dc.tsv" \
	--min-follow 1
grep -q 'by the context reader: 3 turns' "$tmp/out" && ok ||
	{ bad "eval counts the turns the context reader answered"; cat "$tmp/out"; }
cp -r knowledge "$tmp/nocontext"
sed -i '/^context/d' "$tmp/nocontext/classifier.txt"
KNOWLEDGE_DIR=$tmp/nocontext "$MB" eval "$tmp/dc.tsv" >"$tmp/out" 2>&1
grep -q '^follow-up turns right: 0.000 (0/3' "$tmp/out" && ok ||
	{ bad "without the context reader's weights the rules miss those follow-ups"; cat "$tmp/out"; }
# a message written as one of an answer's phrasings is that answer, whatever
# came before: the context reader leaves it (followup_reader_leaves)
printf '# dialogue: p\nwhat is a massage gun?\tmassage-gun\talone\nhelp\thelp\talone\nthanks\tthanks\talone\n' \
	>"$tmp/dp.tsv"
expect_rc 0 "a phrasing after an answer is that answer" "$MB" eval "$tmp/dp.tsv" --min-alone 1
printf '# dialogue: f\nwhat is deep tissue massage?\tdeep-tissue-massage\talone\nand how often?\tprices\tfollow\n' \
	>"$tmp/d2.tsv"
expect_rc 0 "eval dialogues without limits" "$MB" eval "$tmp/d2.tsv"
expect_rc 1 "eval dialogues below --min-follow" "$MB" eval "$tmp/d2.tsv" --min-follow 0.5
grep -q "d2.tsv:3  \[follow, read topic\] prices -> session-frequency" "$tmp/out" && ok ||
	bad "eval lists the turn not right with its line and how it was read"
# an alone turn that memory makes worse is listed, and fails (--max-worse 0
# by default): the rules alone, without the context reader (which gets it right)
printf '# dialogue: w\nis swedish massage gentle?\tswedish-massage\talone\n' >"$tmp/d3.tsv"
printf 'is that the same as deep tissue?\tdeep-tissue-massage\talone\n' >>"$tmp/d3.tsv"
KNOWLEDGE_DIR=$tmp/nocontext expect_rc 1 "eval dialogues with an alone turn answered worse" \
	"$MB" eval "$tmp/d3.tsv"
grep -A1 '^alone turns answered worse with memory than without:$' "$tmp/out" |
	grep -q 'd3.tsv:3  \[alone, read topic\] deep-tissue-massage -> choosing-a-massage' &&
	grep -q '^alone turns answered worse with memory than without: 1' "$tmp/out" && ok ||
	{ bad "eval counts and lists alone turns answered worse"; cat "$tmp/out"; }
KNOWLEDGE_DIR=$tmp/nocontext expect_rc 0 "eval dialogues with --max-worse 1" \
	"$MB" eval "$tmp/d3.tsv" --max-worse 1
for bad_table in 'what is it?\tprices\talone' '# dialogue: x\nwhat is it?\tprices' \
	'# dialogue: x\nwhat is it?\tprices\tsometimes' '# dialogue: x\nwhat is it?\tno-such-id\talone' \
	'# dialogue: x\n\n# dialogue: y\nhi\tgreeting\talone' '# dialogue:\nhi\tgreeting\talone'; do
	printf "$bad_table\n" >"$tmp/bad.tsv"
	expect_rc 2 "eval a malformed dialogue table" "$MB" eval "$tmp/bad.tsv"
	grep -q "bad.tsv:[0-9]*: " "$tmp/err" && ok || { bad "the error names file:line"; cat "$tmp/err"; }
done
expect_rc 2 "eval --max-worse needs a count" "$MB" eval "$tmp/d.tsv" --max-worse x
# the console is one conversation: a follow-up and a choice, piped
printf 'what is deep tissue massage?\nand how often?\nhours\n2\n' | "$MB" chat >"$tmp/out" 2>/dev/null
"$MB" ask "how often should i get a massage for back pain" "how long does a session last" >"$tmp/want" 2>/dev/null
grep -qF "$(sed -n 1p "$tmp/want")" "$tmp/out" && grep -qF "$(grep -m1 'Our sessions last' "$tmp/want")" "$tmp/out" &&
	grep -q "Did you mean" "$tmp/out" && ok || { bad "chat reads follow-ups and choices"; cat "$tmp/out"; }
# report: the answers with the most thumbs down, each beside the unanswered
# questions that came closest to it
cat >"$tmp/un.jsonl" <<'LOG'
{"time":"2026-12-01","question":"how deep does deep tissue go","reason":"low-margin","candidates":[{"intent":"deep-tissue-massage","score":0.5}]}
{"time":"2026-12-01","question":"can deep tissue bruise me","reason":"low-margin","candidates":[{"intent":"deep-tissue-massage","score":0.52}]}
{"time":"2026-12-01","question":"do you sell oils","reason":"fallback","candidates":[{"intent":"prices","score":0.12}]}
LOG
cat >"$tmp/fb.jsonl" <<'LOG'
{"time":"2026-12-01","answer":"deep-tissue-massage","helpful":false,"platform":"discord"}
{"time":"2026-12-01","answer":"deep-tissue-massage","helpful":false,"platform":"web"}
{"time":"2026-12-01","answer":"swedish-massage","helpful":false,"platform":"web"}
{"time":"2026-12-01","answer":"swedish-massage","helpful":true,"platform":"web"}
LOG
expect_rc 0 "report with thumbs" "$MB" report "$tmp/un.jsonl" --feedback "$tmp/fb.jsonl"
grep -qE '^ +2 down +0 up  deep-tissue-massage +2 unanswered came closest: "how deep does deep tissue go", "can deep tissue bruise me"$' "$tmp/out" &&
	grep -qE '^ +1 down +1 up  swedish-massage$' "$tmp/out" && ok ||
	{ bad "report: thumbs down beside the unanswered questions near them"; cat "$tmp/out"; }
# rows expecting two answers, wrong answers and out-of-scope answers counted apart
printf 'where are you and is there parking?\tlocation+parking-and-access\n' >"$tmp/two.tsv"
printf 'is there parking?\tlocation\n' >>"$tmp/two.tsv"
printf 'where are you?\tlocation+parking-and-access\n' >>"$tmp/two.tsv"
printf 'what are your opening hours\t-\n' >>"$tmp/two.tsv"
expect_rc 1 "eval with a wrong answer past --max-wrong" "$MB" eval "$tmp/two.tsv" --max-wrong 0.1
grep -q '^in-scope accuracy: 0.333 (1/3)' "$tmp/out" && grep -q '^in-scope wrong answer: 0.333 (1/3)' "$tmp/out" &&
	grep -q '^in-scope partly answered: 0.333 (1/3)' "$tmp/out" &&
	grep -q '^two-question rows: 1/2 with both answers in order' "$tmp/out" &&
	grep -q '^out-of-scope answered: 1.000 (1/1)' "$tmp/out" &&
	grep -q "two.tsv:2  location -> parking-and-access (1.00, wrong)" "$tmp/out" && ok ||
	{ bad "eval counts right, wrong, partly answered and two-question rows"; cat "$tmp/out"; }
printf 'hello\tgreeting+thanks+help\n' >"$tmp/bad.tsv"
expect_rc 2 "eval: three expected answers" "$MB" eval "$tmp/bad.tsv"
"$MB" ask --json "where are you and is there parking?" "where are you?" >"$tmp/out"
head -1 "$tmp/out" | grep -q '"intent":"location","intents":\["location","parking-and-access"\],"score":' &&
	! sed -n 2p "$tmp/out" | grep -q intents && ok || bad "ask --json lists intents when it gives two answers"
printf 'no tab here\n' >"$tmp/bad.tsv"
expect_rc 2 "eval malformed tsv" "$MB" eval "$tmp/bad.tsv"
printf 'hello\tno-such-id\n' >"$tmp/bad.tsv"
expect_rc 2 "eval unknown id" "$MB" eval "$tmp/bad.tsv"
expect_rc 2 "eval bad minimum" "$MB" eval tests/data/questions.tsv --min-accuracy 2
# eval re-tests the safety table (message, rules that must fire, rules that must not)
expect_rc 0 "eval the shipped safety table" "$MB" eval tests/data/safety.tsv
grep -qE '^emergency +1\.00 ' "$tmp/out" && grep -q '^recall: 1.000' "$tmp/out" &&
	grep -q '^false alarms: 0.000' "$tmp/out" && ok || bad "eval safety.tsv: per-rule recall and totals"
printf '# a miss and a false alarm\nmy groin is numb and my back hurts\tpregnancy\tcrisis\n' >"$tmp/s.tsv"
printf 'i am pregnant, is massage ok\tpregnancy\temergency\n' >>"$tmp/s.tsv"
printf 'chest pain when I lie down\ttrauma\temergency\n' >>"$tmp/s.tsv"
expect_rc 1 "eval a safety table with misses and false alarms" "$MB" eval "$tmp/s.tsv"
grep -q "^  $tmp/s.tsv:2  pregnancy  my groin is numb" "$tmp/out" && ok || bad "eval lists the miss"
grep -q "^  $tmp/s.tsv:4  emergency  chest pain when I lie down" "$tmp/out" && ok || bad "eval lists the false alarm"
grep -qE '^pregnancy +0\.50 +1/2 ' "$tmp/out" && ok || bad "eval: per-rule recall of pregnancy"
expect_rc 0 "eval with limits it meets" "$MB" eval "$tmp/s.tsv" --min-recall 0.3 --max-false-alarms 0.5
expect_rc 1 "eval with a limit it misses" "$MB" eval "$tmp/s.tsv" --min-recall 0.9
printf 'hello\tno-such-rule\t\n' >"$tmp/s.tsv"
expect_rc 2 "eval safety table with an unknown rule" "$MB" eval "$tmp/s.tsv"
grep -q "s.tsv:1: unknown rule id 'no-such-rule'" "$tmp/err" && ok || bad "unknown rule id named"
# "a|b" in the must-fire column: either rule counts, tallied on its own line
printf 'my groin is numb and my back hurts\tpregnancy|emergency\t\n' >"$tmp/s.tsv"
printf 'hello there\tpregnancy|emergency\t\n' >>"$tmp/s.tsv"
expect_rc 1 "eval a safety table with alternatives" "$MB" eval "$tmp/s.tsv"
grep -qE '^pregnancy\|emergency +0\.50 +1/2' "$tmp/out" && grep -q '^recall: 0.500 (1/2)' "$tmp/out" &&
	grep -q "^  $tmp/s.tsv:2  pregnancy|emergency  hello there" "$tmp/out" && ok ||
	bad "eval: alternatives fire when either rule does, the miss listed"
printf 'hello\tpregnancy|no-such-rule\t\n' >"$tmp/s.tsv"
expect_rc 2 "eval alternatives with an unknown rule" "$MB" eval "$tmp/s.tsv"
grep -q "s.tsv:1: unknown rule id 'no-such-rule'" "$tmp/err" && ok || bad "unknown alternative named"

summary cli
