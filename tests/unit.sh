#!/usr/bin/env bash
# unit.sh: deploy/massagebot.service passes `systemd-analyze verify` without
# a single message and `systemd-analyze security --offline=true` rates it
# 2.0 or lower.  verify needs ExecStart to exist, so both run on a copy with
# ExecStart pointed at the built binary ($MB, else build/massagebot).
set -u
cd "$(dirname "$0")/.."
. tests/lib.bash
MAX_EXPOSURE=2.0

bin=${MB:-build/massagebot}
if [ ! -x "$bin" ]; then
	make --no-print-directory -s build/massagebot >"$tmp/make.out" 2>&1 || sed 's/^/  | /' "$tmp/make.out" | tail -15
	bin=build/massagebot
fi
[ -x "$bin" ] && ok || bad "no executable binary at $bin"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

if ! command -v systemd-analyze >/dev/null 2>&1; then
	bad "systemd-analyze not found (Debian package systemd, in the Makefile's DEB_PKGS)"
	summary unit
	exit 1
fi

unit=$tmp/massagebot.service
sed "s|^ExecStart=[^ ]*|ExecStart=$bin|" deploy/massagebot.service >"$unit"
grep -qx "ExecStart=$bin run" "$unit" && ok || bad "ExecStart rewrite (want '$bin run')"

# --- verify: exit 0 and no output at all (unknown keys only warn)
out=$(systemd-analyze verify --man=no "$unit" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && ok || bad "systemd-analyze verify exit $rc"
[ -z "$out" ] && ok || { bad "systemd-analyze verify printed something"; printf '%s\n' "$out" | sed 's/^/  | /'; }

# The check must notice a mistake: a bad key makes verify talk.
sed 's/^\(Type=notify\)$/\1\nBogusKey=1/' "$unit" >"$tmp/bad.service"
[ -n "$(systemd-analyze verify --man=no "$tmp/bad.service" 2>&1)" ] && ok ||
	bad "verify does not report an unknown key (the silence check would be blind)"

# --- security: parse "Overall exposure level for massagebot.service: 1.3 OK"
systemd-analyze security --offline=true --no-pager "$unit" >"$tmp/sec.out" 2>&1
rc=$?
level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' "$tmp/sec.out" | head -1)
if [ -z "$level" ]; then
	bad "no exposure level in systemd-analyze security output (exit $rc)"
	sed 's/^/  | /' "$tmp/sec.out" | tail -10
elif awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l + 0 <= m + 0) }'; then
	ok
	echo "exposure level: $level (max $MAX_EXPOSURE)"
else
	bad "exposure level $level > $MAX_EXPOSURE"
	grep '✗' "$tmp/sec.out" | sed 's/^/  | /'
fi

# --- every program the unit runs (ExecReload=/bin/kill, ...) comes from a
# Debian package that `make deps` and `make install` bring (BUILD_PKGS):
# a minimal Debian has no /bin/kill until procps is installed
build_pkgs=" $(make -s --no-print-directory print-deps | sed -n 's/^build: //p') "
[ "$build_pkgs" != "  " ] && ok || bad "make print-deps lists no build packages"
for prog in $(sed -nE 's/^Exec[A-Za-z]*=[-@:+!]*([^ ]+).*/\1/p' deploy/massagebot.service); do
	case $prog in */massagebot) continue ;; esac
	pkg=$(dpkg -S "$prog" 2>/dev/null | sed -n '1s/:.*//p')
	if [ -z "$pkg" ]; then
		bad "$prog (used by the unit) is not from an installed Debian package"
	elif [ "${build_pkgs#* "$pkg" }" = "$build_pkgs" ]; then
		bad "$prog (used by the unit) is in package $pkg, which BUILD_PKGS in the Makefile lacks"
	else ok; fi
	[ -x "$prog" ] && ok || bad "$prog (used by the unit) is not executable here"
done

# --- settings the operations rely on (guard against accidental removal)
for want in "Type=notify" "NotifyAccess=main" "RestartPreventExitStatus=2 3" "Restart=on-failure" \
	"ExecReload=/bin/kill -HUP \$MAINPID" "EnvironmentFile=-/etc/massagebot/massagebot.env" \
	"User=massagebot" "StateDirectory=massagebot" "WorkingDirectory=/var/lib/massagebot" \
	"ProtectSystem=strict" "NoNewPrivileges=yes" "CapabilityBoundingSet=" \
	"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "SystemCallFilter=@system-service"; do
	grep -qxF "$want" deploy/massagebot.service && ok || bad "unit lacks '$want'"
done
grep -qE '^WatchdogSec=[0-9]+' deploy/massagebot.service && ok || bad "unit lacks WatchdogSec="
# the web chat's sockets: WEB_MAX_CONNECTIONS' default (1000) plus page loads
# past systemd's default soft limit of 1024 (setrlimit is filtered)
nofile=$(sed -n 's/^LimitNOFILE=\([0-9]*\)$/\1/p' deploy/massagebot.service)
[ -n "$nofile" ] && [ "$nofile" -ge 2048 ] && ok || bad "unit lacks LimitNOFILE= of 2048 or more"
grep -qE '^StartLimitBurst=[0-9]+' deploy/massagebot.service && ok || bad "unit lacks StartLimitBurst="
grep -qE '^ReadOnlyPaths=-?/srv/massagebot/knowledge$' deploy/massagebot.service && ok ||
	bad "unit lacks ReadOnlyPaths=/srv/massagebot/knowledge"

summary unit
