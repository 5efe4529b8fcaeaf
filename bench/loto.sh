#!/usr/bin/env bash
# bench/loto.sh: the conversation models, each dialogue table left out in turn.
#
#   bench/loto.sh [TABLE.tsv...]      (default: every dialogue table of tests/data)
#
# For each table: the classifier (bench/classify.c) and the context reader's weights
# (bench/context.c) are made again in a copy of the knowledge from every tests/data table but
# that one, and `massagebot eval` reads the table with them.  Prints each table's follow-up and
# stand-alone lines and a total.  `context --cv` alone is optimistic here: the classifier it reads
# learned every table's follow-up turns.  Needs build/classify, build/context and
# build/massagebot (make classifier builds the first two).  A measurement: exit 0 unless
# something could not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
for b in build/classify build/context build/massagebot; do
	[ -x "$b" ] || { echo "loto: $b is missing (make build/classify build/context build/massagebot)" >&2; exit 2; }
done
if [ $# -eq 0 ]; then
	set -- $(grep -l $'\t\(alone\|follow\)$' tests/data/*.tsv)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fr=0 fw=0 fn=0 ar=0 an=0 worse=0
for t in "$@"; do
	name=$(basename "$t")
	rm -rf "$tmp/k"
	cp -r knowledge "$tmp/k"
	others=()
	for o in tests/data/*.tsv; do
		[ "$(basename "$o")" = "$name" ] || others+=("$o")
	done
	./build/classify "$tmp/k" "$tmp/k/classifier.txt" "${others[@]}" >/dev/null
	./build/context "$tmp/k" "$tmp/k/classifier.txt" "${others[@]}" >/dev/null
	KNOWLEDGE_DIR=$tmp/k ./build/massagebot eval "$t" >"$tmp/out" || true
	f=$(grep '^follow-up turns right:' "$tmp/out" | sed 's/.*(\([0-9]*\)\/\([0-9]*\);.*/\1 \2/')
	w=$(grep '^follow-up turns with a wrong answer:' "$tmp/out" | sed 's/.*(\([0-9]*\)\/.*/\1/')
	a=$(grep '^alone turns right:' "$tmp/out" | sed 's/.*(\([0-9]*\)\/\([0-9]*\);.*/\1 \2/')
	x=$(grep -E '^alone turns answered worse with memory than without: [0-9]+$' "$tmp/out" | sed 's/.*: //')
	read -r f1 f2 <<<"$f"
	read -r a1 a2 <<<"$a"
	printf '%-28s follow-ups %4s/%-4s right, %3s wrong; alone %4s/%-4s; worse %s\n' \
		"$name" "$f1" "$f2" "$w" "$a1" "$a2" "$x"
	fr=$((fr + f1)) fn=$((fn + f2)) fw=$((fw + w)) ar=$((ar + a1)) an=$((an + a2)) worse=$((worse + x))
done
printf '%-28s follow-ups %4s/%-4s right, %3s wrong; alone %4s/%-4s; worse %s\n' \
	"all" "$fr" "$fn" "$fw" "$ar" "$an" "$worse"
