#!/usr/bin/env bash
# web_browser.sh: the widget in headless chromium against the real bot
# (sanitized `massagebot run` with BOT_PLATFORM=web, $MB): the ask reply
# exactly, a thumb into the feedback log, allowed and refused origins, HTML
# in questions and answers shown as text, screenshots in build/screenshots/.
# Extra arguments pick scenarios by name.
set -u
MB=${MB:-build/san/massagebot}
here=$(cd "$(dirname "$0")" && pwd)
for need in /usr/bin/chromium /usr/bin/python3; do
	[ -x "$need" ] || { echo "web_browser.sh: $need missing (make deps installs it)"; exit 1; }
done
exec /usr/bin/python3 "$here/web_browser_test.py" --mb "$MB" "$@"
