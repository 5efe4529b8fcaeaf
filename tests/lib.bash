# lib.bash: the harness the shell tests share, sourced by them (named .bash
# so that `make test`, which runs tests/*.sh, does not run it): a scratch
# folder in $tmp removed on exit, pass/fail counters with ok and bad, and
# summary NAME, which prints the counts and fails if any check failed.
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
summary() {
	echo "$1: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
