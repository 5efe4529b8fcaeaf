#!/usr/bin/env bash
# widget.sh: the web chat widget (bot/web/) in headless chromium against a
# scripted fake bot (tests/widget_test.py, driving the browser through
# tests/cdp.py).  Screenshots land in build/screenshots/.  Does not need $MB
# yet; extra arguments pick scenarios by name.
set -u
here=$(cd "$(dirname "$0")" && pwd)
for need in /usr/bin/chromium /usr/bin/python3; do
	[ -x "$need" ] || { echo "widget.sh: $need missing (make deps installs it)"; exit 1; }
done
if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
	echo "widget.sh: /usr/bin/python3 lacks the websockets module (apt-get install python3-websockets)"
	exit 1
fi
exec /usr/bin/python3 "$here/widget_test.py" "$@"
