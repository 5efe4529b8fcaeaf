#!/bin/bash
# bench/speed.sh: this build against a baseline commit, side by side in one
# run (the machine's load changes by the minute: only figures taken together
# compare).  Both answer the same 50,000 chat questions (tests/data/*.tsv,
# repeated), each with the knowledge of its own commit:
#   in-process   build/bench (answer_question in a loop, one core)
#   whole        `massagebot ask --json` reading them on stdin, writing JSON
# Five rounds; the best of each is printed.  The baseline is built once
# into build/base-<commit> from `git archive` (BASE=commit to change it;
# default e318a36, main before issue 12).  Figures, not pass/fail; then
# instructions per question of both (bench/instructions.sh).
set -u
BASE=${BASE:-e318a36}
dir=build/base-$BASE
if [ ! -x "$dir/build/massagebot" ] || [ ! -x "$dir/build/bench" ]; then
	if ! git cat-file -e "$BASE^{commit}" 2>/dev/null; then
		echo "speed: no commit $BASE in this clone; skipped"
		exit 0
	fi
	rm -rf "$dir" && mkdir -p "$dir"
	git archive "$BASE" | tar -x -C "$dir"
	make -C "$dir" -j2 build/massagebot build/bench >"$dir.log" 2>&1 ||
		{ echo "speed: building $BASE failed (see $dir.log)"; exit 0; }
fi
q=build/speed-questions.txt
cut -f1 tests/data/questions.tsv tests/data/holdout.tsv tests/data/safety.tsv |
	grep -v '^#' | grep -v '^$' >build/speed-mix.txt
n=50000
awk -v n=$n '{l[NR]=$0} END {for (i = 0; i < n; i++) print l[i % NR + 1]}' \
	build/speed-mix.txt >$q

inproc() { # dir -> questions/s
	(cd "$1" && BENCH_ONLY=shipped ./build/bench knowledge "$OLDPWD/build/speed-mix.txt" |
		awk '$1 == "shipped" {print $4}')
}
whole() { # dir -> questions/s
	local s e
	s=$(date +%s.%N)
	(cd "$1" && ./build/massagebot ask --json <"$OLDPWD/$q" >/dev/null)
	e=$(date +%s.%N)
	awk -v n=$n -v s="$s" -v e="$e" 'BEGIN {printf "%d\n", n / (e - s)}'
}
best() { sort -n | tail -1; }
bi= bw= ni= nw=
for r in 1 2 3 4 5; do
	bi="$bi $(inproc "$dir")"
	ni="$ni $(inproc .)"
	bw="$bw $(whole "$dir")"
	nw="$nw $(whole .)"
done
bi=$(echo $bi | tr ' ' '\n' | best); ni=$(echo $ni | tr ' ' '\n' | best)
bw=$(echo $bw | tr ' ' '\n' | best); nw=$(echo $nw | tr ' ' '\n' | best)
printf '%-22s %14s %16s %14s\n' "questions/s" "in-process" "ask --json" "whole/in-proc"
printf '%-22s %14s %16s %13s%%\n' "baseline $BASE" "$bi" "$bw" "$((bw * 100 / bi))"
printf '%-22s %14s %16s %13s%%\n' "this build" "$ni" "$nw" "$((nw * 100 / ni))"
printf '%-22s %13sx %15sx\n' "this / baseline" \
	"$(awk -v a=$ni -v b=$bi 'BEGIN {printf "%.2f", a / b}')" \
	"$(awk -v a=$nw -v b=$bw 'BEGIN {printf "%.2f", a / b}')"
# The same comparison in instructions (callgrind, answer_question only):
# steady where the figures above swing with the machine's load.
if command -v valgrind >/dev/null; then
	bench/instructions.sh "$dir" .
fi
