#!/usr/bin/env bash
# discord.sh: protocol tests of the Discord adapter.  Runs the sanitized
# `massagebot run` ($MB) against the in-repo fake Discord (gateway + REST on
# 127.0.0.1, tests/fake_discord.py) through scripted scenarios.  No network,
# no real token.  Extra arguments pick scenarios by name.
set -u
MB=${MB:-build/san/massagebot}
here=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
	echo "discord.sh: /usr/bin/python3 lacks the websockets module (apt-get install python3-websockets)"
	exit 1
fi
exec /usr/bin/python3 "$here/fake_discord.py" --mb "$MB" \
	--knowledge "$here/fixtures/discord-knowledge" "$@"
