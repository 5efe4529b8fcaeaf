#!/bin/bash
# bench/instructions.sh: instructions per question of the answering core,
# the figure that the machine's load does not move.  Runs
# `massagebot ask --json` under callgrind over the speed mix (the messages
# of tests/data/questions.tsv, holdout.tsv and safety.tsv, as bench/speed.sh
# uses them), counting only inside answer_question, and prints the count
# divided by the number of messages.  Each DIR (default: this checkout) is
# a source tree with build/massagebot, run with its own knowledge folder
# (for instance build/same-<commit> from bench/same_answers.sh, or
# build/base-<commit> from bench/speed.sh).  Seconds per tree.
#   bench/instructions.sh [DIR...]
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
command -v valgrind >/dev/null || { echo "instructions: no valgrind" >&2; exit 2; }
mix=$PWD/build/speed-mix.txt
mkdir -p build
cut -f1 tests/data/questions.tsv tests/data/holdout.tsv tests/data/safety.tsv |
	grep -v '^#' | grep -v '^$' >"$mix"
n=$(wc -l <"$mix")
[ $# -gt 0 ] || set -- .
for d in "$@"; do
	out=$(mktemp)
	(cd "$d" && env -u KNOWLEDGE_DIR valgrind --tool=callgrind --toggle-collect=answer_question \
		--callgrind-out-file=/dev/null ./build/massagebot ask --json <"$mix" \
		>/dev/null 2>"$out") || { echo "instructions: $d failed (see $out)" >&2; exit 2; }
	total=$(awk '/Collected :/ {print $NF}' "$out")
	rm -f "$out"
	printf '%-40s %9d instructions per question (%d messages)\n' "$d" $((total / n)) "$n"
done
