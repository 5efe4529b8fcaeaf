#!/usr/bin/env bash
# install.sh: `make install` / `make uninstall` into a DESTDIR: the tree,
# modes, that a second install keeps what staff edited (answers, secrets)
# and restores deleted shipped files, and that uninstall leaves answers and
# secrets alone.  Never touches the real system (DESTDIR is always set).
set -u
cd "$(dirname "$0")/.."
. tests/lib.bash
D=$tmp/root
P=/usr/local
KB=$D/srv/massagebot/knowledge
ENVF=$D/etc/massagebot/massagebot.env

check() { # description command...
	local what=$1
	shift
	if "$@" >"$tmp/check.out" 2>&1; then ok; else
		bad "$what"
		sed 's/^/  | /' "$tmp/check.out" | tail -5
	fi
}
mk() { # description make-args...
	local what=$1
	shift
	if make --no-print-directory -s "$@" >"$tmp/make.out" 2>&1; then ok; else
		bad "$what"
		sed 's/^/  | /' "$tmp/make.out" | tail -15
	fi
}
mode() { stat -c %a "$1" 2>/dev/null; }

# --- first install
mk "make install" install DESTDIR="$D" PREFIX=$P
check "binary installed and executable" test -x "$D$P/bin/massagebot"
check "binary runs" "$D$P/bin/massagebot" --version
check "binary mode 755" test "$(mode "$D$P/bin/massagebot")" = 755
check "binary is stripped" sh -c "! readelf -S '$D$P/bin/massagebot' | grep -qE '\.symtab|\.debug_info'"
check "unit installed" test -f "$D$P/lib/systemd/system/massagebot.service"
check "unit mode 644" test "$(mode "$D$P/lib/systemd/system/massagebot.service")" = 644
check "unit ExecStart points at PREFIX" \
	grep -qx "ExecStart=$P/bin/massagebot run" "$D$P/lib/systemd/system/massagebot.service"
check "unit has Type=notify" grep -qx "Type=notify" "$D$P/lib/systemd/system/massagebot.service"
check "sysusers installed" test -f "$D$P/lib/sysusers.d/massagebot.conf"
check "sysusers: user massagebot" grep -qE '^u[[:space:]]+massagebot[[:space:]]' "$D$P/lib/sysusers.d/massagebot.conf"
check "sysusers: group massagebot-staff" \
	grep -qE '^g[[:space:]]+massagebot-staff[[:space:]]' "$D$P/lib/sysusers.d/massagebot.conf"
if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir -p "$tmp/sysroot/etc"
	check "sysusers file is valid" systemd-sysusers --root="$tmp/sysroot" "$PWD/deploy/massagebot-sysusers.conf"
	check "sysusers creates massagebot" grep -q '^massagebot:' "$tmp/sysroot/etc/passwd"
	check "sysusers creates massagebot-staff" grep -q '^massagebot-staff:' "$tmp/sysroot/etc/group"
fi

# every shipped knowledge file, byte for byte; setgid group-writable dirs
nshipped=0
missing=0
while IFS= read -r f; do
	nshipped=$((nshipped + 1))
	cmp -s "knowledge/$f" "$KB/$f" || { missing=$((missing + 1)); echo "  missing or different: $f"; }
done < <(cd knowledge && find . -mindepth 1 -name '.*' -prune -o -type f -print | sed 's|^\./||')
check "knowledge has files" test "$nshipped" -gt 0
check "all $nshipped knowledge files installed" test "$missing" -eq 0
check "knowledge dir mode 2775" test "$(mode "$KB")" = 2775
check "knowledge subdirs mode 2775" test -z "$(find "$KB" -mindepth 1 -type d ! -perm 2775)"
check "knowledge files mode 664" test -z "$(find "$KB" -type f ! -perm 664)"
check "installed knowledge passes check" "$D$P/bin/massagebot" check "$KB"

# the secrets file: 0600, from .env.example, no token, service paths
check "env file exists" test -f "$ENVF"
check "env file mode 600" test "$(mode "$ENVF")" = 600
check "env file has an empty DISCORD_TOKEN" grep -qx "DISCORD_TOKEN=" "$ENVF"
check "env file has no token value" test -z "$(grep -E '^[[:space:]]*(export[[:space:]]+)?DISCORD_TOKEN=.+' "$ENVF")"
check "env file KNOWLEDGE_DIR is the installed folder" grep -qx "KNOWLEDGE_DIR=/srv/massagebot/knowledge" "$ENVF"
check "env file BOT_PLATFORM=discord" grep -qx "BOT_PLATFORM=discord" "$ENVF"
check "env file keeps the other settings" grep -qx "$(grep "^MATCH_THRESHOLD=" .env.example)" "$ENVF"
# the installed settings must parse (read as the bot's .env); with no token,
# `run` refuses with exit 2 (config error: systemd will not restart it)
mkdir "$tmp/cwd"
cp "$ENVF" "$tmp/cwd/.env"
(cd "$tmp/cwd" && env -i PATH="$PATH" "$D$P/bin/massagebot" run </dev/null >"$tmp/run.out" 2>&1)
rc=$?
check "bot with the installed env file and no token exits 2 (got $rc)" test "$rc" -eq 2
check "... naming DISCORD_TOKEN" grep -q DISCORD_TOKEN "$tmp/run.out"

# the token file for LoadCredential=: 0600 and empty; the staff guide beside the answers
TOK=$D/etc/massagebot/discord-token
check "token file exists" test -f "$TOK"
check "token file mode 600" test "$(mode "$TOK")" = 600
check "token file is empty" test ! -s "$TOK"
check "unit loads the token file as a credential" \
	grep -qx "LoadCredential=discord-token:/etc/massagebot/discord-token" "$D$P/lib/systemd/system/massagebot.service"
GUIDE=$D/srv/massagebot/STAFF-GUIDE.md
check "staff guide installed next to the answers" test -f "$GUIDE"
check "staff guide mode 644" test "$(mode "$GUIDE")" = 644
for topic in "## Change an answer" "## Add an answer" "massagebot check" "massagebot report" \
	"## What the bot will never say"; do
	check "staff guide covers '$topic'" grep -qF "$topic" "$GUIDE"
done
# installed, the commands find the installed answers by default: the binary
# knows the folder (KB_DIR) it was built for
check "the binary knows the installed answers folder" grep -qa "/srv/massagebot/knowledge" "$D$P/bin/massagebot"

# --- staff edit an answer and the secrets, delete a shipped file; reinstall
edited=$(cd "$KB" && find . -type f -name '*.md' | sort | head -1)
deleted=$(cd "$KB" && find . -type f -name '*.md' | sort | tail -1)
printf '\n# edited by staff\n' >>"$KB/$edited"
cp "$KB/$edited" "$tmp/edited.copy"
chmod 0640 "$KB/$edited"
echo "staff note" >"$KB/about/staff-added.md"
sed -i 's/^DISCORD_TOKEN=$/DISCORD_TOKEN=secret-test-value/' "$ENVF"
cp "$ENVF" "$tmp/env.copy"
echo "token-test-value" >"$TOK"
rm "$KB/$deleted"
mk "second make install" install DESTDIR="$D" PREFIX=$P
check "edited knowledge file kept" cmp -s "$tmp/edited.copy" "$KB/$edited"
check "edited knowledge file mode kept" test "$(mode "$KB/$edited")" = 640
check "staff-added file kept" test -f "$KB/about/staff-added.md"
check "deleted shipped file restored" cmp -s "knowledge/$deleted" "$KB/$deleted"
check "env file kept" cmp -s "$tmp/env.copy" "$ENVF"
check "env file still 600" test "$(mode "$ENVF")" = 600
check "token file kept" grep -qx "token-test-value" "$TOK"
check "install does not print the token" test -z "$(grep -e secret-test-value -e token-test-value "$tmp/make.out")"
check "no temporary files left" test -z "$(find "$D" -name '*.tmp')"

# --- PREFIX is honoured
mk "make install PREFIX=/opt/mb" install DESTDIR="$tmp/root2" PREFIX=/opt/mb
check "PREFIX binary" test -x "$tmp/root2/opt/mb/bin/massagebot"
check "PREFIX unit ExecStart" \
	grep -qx "ExecStart=/opt/mb/bin/massagebot run" "$tmp/root2/opt/mb/lib/systemd/system/massagebot.service"
check "PREFIX sysusers" test -f "$tmp/root2/opt/mb/lib/sysusers.d/massagebot.conf"

# --- uninstall
mk "make uninstall" uninstall DESTDIR="$D" PREFIX=$P
check "uninstall removes the binary" test ! -e "$D$P/bin/massagebot"
check "uninstall removes the unit" test ! -e "$D$P/lib/systemd/system/massagebot.service"
check "uninstall removes sysusers" test ! -e "$D$P/lib/sysusers.d/massagebot.conf"
check "uninstall keeps knowledge" cmp -s "$tmp/edited.copy" "$KB/$edited"
check "uninstall keeps all knowledge" test "$(find "$KB" -type f | wc -l)" -eq $((nshipped + 1))
check "uninstall keeps the env file" cmp -s "$tmp/env.copy" "$ENVF"
check "uninstall keeps the token file" grep -qx "token-test-value" "$TOK"
mk "second make uninstall is harmless" uninstall DESTDIR="$D" PREFIX=$P

summary install
