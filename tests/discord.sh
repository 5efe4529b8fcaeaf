#!/usr/bin/env bash
# discord.sh: protocol tests of the Discord adapter.  Runs the sanitized
# `massagebot run` ($MB) against the in-repo fake Discord (gateway + REST on
# 127.0.0.1, tests/fake_discord.py) through scripted scenarios, every one
# twice: over plain ws:// and http://, and over TLS (wss://, https://) with a
# throwaway CA made at test time (the openssl command), plus the scenarios
# only TLS has.  The two modes run side by side, one process each (each
# fake's event loop keeps its own core), their reports printed one after
# the other.  No network, no real token.  Extra arguments pick scenarios by
# name (NAME in both modes, NAME/tls in one); DISCORD_TEST_MODES=plain or
# tls runs one mode.
set -u
MB=${MB:-build/san/massagebot}
here=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
	echo "discord.sh: /usr/bin/python3 lacks the websockets module (apt-get install python3-websockets)"
	exit 1
fi
if ! command -v openssl >/dev/null 2>&1; then
	echo "discord.sh: no openssl command for the test certificates (apt-get install openssl)"
	exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
modes=${DISCORD_TEST_MODES:-plain,tls}
pids=()
for m in ${modes//,/ }; do
	/usr/bin/python3 "$here/fake_discord.py" --mb "$MB" --modes "$m" \
		--knowledge "$here/fixtures/discord-knowledge" "$@" >"$out/$m" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
for m in ${modes//,/ }; do
	echo "-- $m"
	cat "$out/$m"
done
exit $rc
