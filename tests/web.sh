#!/usr/bin/env bash
# web.sh: protocol tests of the web chat platform.  Runs the sanitized
# `massagebot run` ($MB) with BOT_PLATFORM=web (and discord,web against the
# in-repo fake Discord) and talks to it over HTTP and websockets from
# tests/web_test.py.  Loopback only.  Extra arguments pick scenarios by name.
set -u
MB=${MB:-build/san/massagebot}
here=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
	echo "web.sh: /usr/bin/python3 lacks the websockets module (apt-get install python3-websockets)"
	exit 1
fi
exec /usr/bin/python3 "$here/web_test.py" --mb "$MB" "$@"
