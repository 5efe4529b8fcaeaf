#!/usr/bin/env bash
# bench/compare.sh: massagebot against NLP.js (npm node-nlp, a peer FAQ engine), side by side.
#
# Both are trained on the same knowledge (each answer's title + questions:) and scored on
# tests/data/questions.tsv (plus tests/data/holdout.tsv, reported apart); NLP.js at its best
# threshold (swept 0.00..0.99 step 0.01), with and without its None feature (and with its spell check).
# Speed: one stream of >= 30,000 questions (the evaluation questions repeated); massagebot is timed
# as the whole `massagebot ask --json < stream` process (load included), NLP.js as process() calls
# in-process after training (training reported apart).  Prints a table and a last line
# `COMPARE_JSON {...}`.  A benchmark, not a test: exit 0 whether or not targets are met, non-zero
# only when something could not run.
#
# Environment: MASSAGEBOT (binary; default: build/massagebot, rebuilt with make if stale),
# KNOWLEDGE_DIR (default knowledge), COMPARE_QUESTIONS (default tests/data/questions.tsv),
# COMPARE_HOLDOUT (default tests/data/holdout.tsv if present; empty = none),
# COMPARE_STREAM_MIN (default 30000), COMPARE_RUNS (default 3); paths are relative to the repository root.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NLPDIR=$ROOT/bench/nlpjs
cd "$ROOT"

die() { echo "compare.sh: $*" >&2; exit 2; }

QUESTIONS=${COMPARE_QUESTIONS:-tests/data/questions.tsv}
if [ -z "${COMPARE_HOLDOUT+x}" ]; then
	HOLDOUT=tests/data/holdout.tsv
	[ -f "$HOLDOUT" ] || HOLDOUT=
else
	HOLDOUT=$COMPARE_HOLDOUT
fi
MIN_STREAM=${COMPARE_STREAM_MIN:-30000}
RUNS=${COMPARE_RUNS:-3}
# One knowledge folder for both engines (the environment overrides a .env for massagebot).
export KNOWLEDGE_DIR=${KNOWLEDGE_DIR:-knowledge}

command -v node >/dev/null || die "node is not installed"
command -v npm >/dev/null || die "npm is not installed"
[ -f "$QUESTIONS" ] || die "$QUESTIONS not found"
[ -z "$HOLDOUT" ] || [ -f "$HOLDOUT" ] || die "$HOLDOUT not found"
[ -d "$KNOWLEDGE_DIR" ] || die "knowledge folder $KNOWLEDGE_DIR not found"
[[ $MIN_STREAM =~ ^[0-9]+$ && $RUNS =~ ^[1-9][0-9]*$ ]] || die "bad COMPARE_STREAM_MIN or COMPARE_RUNS"

if [ -n "${MASSAGEBOT:-}" ]; then
	BIN=$MASSAGEBOT
else
	BIN=$ROOT/build/massagebot
	make -s -C "$ROOT" build/massagebot >&2 || die "make build/massagebot failed"
fi
[ -x "$BIN" ] || die "$BIN is not an executable"

# NLP.js at the version pinned in bench/nlpjs/package.json (installed on first use).
want=$(node -p "require('$NLPDIR/package.json').dependencies['node-nlp']")
have=$(node -p "try { require('$NLPDIR/node_modules/node-nlp/package.json').version } catch (e) { '' }")
if [ "$have" != "$want" ] || [ ! -d "$NLPDIR/node_modules/yaml" ]; then
	echo "compare.sh: installing node-nlp $want into bench/nlpjs/node_modules" >&2
	npm install --prefix "$NLPDIR" --no-package-lock --no-audit --no-fund --loglevel=error >&2 ||
		die "npm install failed"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mb-compare.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# Snapshots, so both engines see the same binary, knowledge and questions even if the tree
# changes during the run.
cp "$BIN" "$TMP/massagebot" && cp -R "$KNOWLEDGE_DIR" "$TMP/knowledge" &&
	cp "$QUESTIONS" "$TMP/questions.tsv" || die "cannot copy the inputs to $TMP"
[ -z "$HOLDOUT" ] || cp "$HOLDOUT" "$TMP/holdout.tsv" || die "cannot copy $HOLDOUT"
QLABEL=$QUESTIONS HLABEL=$HOLDOUT
BIN=$TMP/massagebot QUESTIONS=$TMP/questions.tsv
[ -z "$HOLDOUT" ] || HOLDOUT=$TMP/holdout.tsv
export KNOWLEDGE_DIR=$TMP/knowledge

# The questions of an evaluation file, one a line (same rules as `massagebot eval`).
questions_of() {
	awk -F'\t' '{ sub(/\r+$/, "") } $0 != "" && !/^#/ { print $1 }' "$1"
}
questions_of "$QUESTIONS" > "$TMP/questions.txt"
[ -s "$TMP/questions.txt" ] || die "$QUESTIONS has no questions"
cp "$TMP/questions.txt" "$TMP/unique.txt"
if [ -n "$HOLDOUT" ]; then
	questions_of "$HOLDOUT" > "$TMP/holdout.txt"
	cat "$TMP/holdout.txt" >> "$TMP/unique.txt"
fi
# The throughput stream: the questions repeated until there are at least MIN_STREAM lines.
n=$(wc -l < "$TMP/unique.txt")
reps=$(( (MIN_STREAM + n - 1) / n ))
[ "$reps" -ge 1 ] || reps=1
for ((i = 0; i < reps; i++)); do cat "$TMP/unique.txt"; done > "$TMP/stream.txt"

# massagebot: accuracy from the same `ask --json` the speed run uses, cross-checked with `eval`.
"$BIN" ask --json < "$TMP/questions.txt" > "$TMP/mb-questions.jsonl" || die "massagebot ask failed"
"$BIN" eval "$QUESTIONS" > "$TMP/mb-eval.txt" || die "massagebot eval failed"
holdout_args=()
if [ -n "$HOLDOUT" ]; then
	"$BIN" ask --json < "$TMP/holdout.txt" > "$TMP/mb-holdout.jsonl" || die "massagebot ask failed"
	holdout_args=(--holdout "$HOLDOUT" --holdout-label "$HLABEL" --mb-holdout "$TMP/mb-holdout.jsonl")
fi

# massagebot speed: the whole process, load included, RUNS times.
times=
for ((i = 0; i < RUNS; i++)); do
	t0=$(date +%s%N)
	"$BIN" ask --json < "$TMP/stream.txt" > /dev/null || die "massagebot ask failed on the stream"
	t1=$(date +%s%N)
	times+=${times:+,}$((t1 - t0))
done

# ... and its load alone (empty input), to show how the time splits.
loads=
for ((i = 0; i < RUNS; i++)); do
	t0=$(date +%s%N)
	"$BIN" ask --json < /dev/null > /dev/null || die "massagebot ask failed on empty input"
	t1=$(date +%s%N)
	loads+=${loads:+,}$((t1 - t0))
done

node "$NLPDIR/compare.mjs" \
	--knowledge "$KNOWLEDGE_DIR" --questions "$QUESTIONS" --questions-label "$QLABEL" "${holdout_args[@]}" \
	--stream "$TMP/stream.txt" --runs "$RUNS" \
	--mb-questions "$TMP/mb-questions.jsonl" --mb-eval "$TMP/mb-eval.txt" \
	--mb-times-ns "$times" --mb-load-ns "$loads" --mb-threshold "${MATCH_THRESHOLD:-default}" ||
	die "the NLP.js side failed"
