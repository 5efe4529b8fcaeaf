#!/bin/bash
# bench/same_answers.sh: does this build answer exactly like another commit?
# For speed work that must change no answer and no safety result: every
# message of tests/data/*.tsv (first column, comments and blank lines left
# out) goes through `massagebot ask --json --explain` of this build and of
# REV (default main), each with its own knowledge folder, and the two
# outputs must be byte-identical.  REV is built once into build/same-<sha>
# from `git archive`.  Exit 0 when identical, 1 with a diff excerpt when
# not, 2 when something could not run.
#   bench/same_answers.sh [REV]
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
REV=${1:-main}
sha=$(git rev-parse --short=12 "$REV^{commit}" 2>/dev/null) ||
	{ echo "same_answers: no commit $REV" >&2; exit 2; }
dir=build/same-$sha
make -j2 build/massagebot >/dev/null || { echo "same_answers: build failed" >&2; exit 2; }
if [ ! -x "$dir/build/massagebot" ]; then
	rm -rf "$dir" && mkdir -p "$dir"
	git archive "$sha" | tar -x -C "$dir"
	make -C "$dir" -j2 build/massagebot >"$dir.log" 2>&1 ||
		{ echo "same_answers: building $REV failed (see $dir.log)" >&2; exit 2; }
fi
msgs=build/same-messages.txt
cut -f1 tests/data/*.tsv | grep -v '^#' | grep -v '^$' >$msgs
ask() { # dir out
	(cd "$1" && env -u KNOWLEDGE_DIR ./build/massagebot ask --json --explain) \
		<$msgs >"$2" || { echo "same_answers: ask failed in $1" >&2; exit 2; }
}
ask "$dir" build/same-old.jsonl
ask . build/same-new.jsonl
n=$(wc -l <$msgs)
if cmp -s build/same-old.jsonl build/same-new.jsonl; then
	echo "same_answers: $n messages, output identical to $REV ($sha)"
	exit 0
fi
echo "same_answers: output differs from $REV ($sha) on $n messages:"
diff build/same-old.jsonl build/same-new.jsonl | head -20
exit 1
