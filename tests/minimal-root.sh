#!/usr/bin/env bash
# minimal-root.sh: the README's commands on a minimal Debian 12, as a new
# machine and CI see it.  Bootstraps Debian 12 (debootstrap --variant=minbase
# bookworm) into build/minroot/, adds only make, git and ca-certificates,
# copies a clean clone of this repository's committed HEAD there with
# ../shared beside it, mounts /proc, /sys and /dev, and in a chroot runs:
#
#   server  `make`, then `make install`: only the build-and-run packages come
#           in (no test tools), every program the installed unit runs exists,
#           and the installed bot checks and answers from the installed folder
#   dev     `make run </dev/null` then `make test`: the whole suite
#
# Usage (as root; needs the Debian mirror, MIRROR=http://deb.debian.org/debian):
#   tests/minimal-root.sh [server] [dev]     (both by default; `make minimal-root`)
# Slow (a few minutes per scenario), so not part of `make test`.  The
# bootstrapped base is kept in build/minroot/base.tar for the next run
# (FRESH=1 makes it again); each scenario starts from a copy of it, and its
# root is removed afterwards unless KEEP=1.  Logs: build/minroot/NAME.log.
set -u
cd "$(dirname "$0")/.."
repo=$PWD
work=$repo/build/minroot
MIRROR=${MIRROR:-http://deb.debian.org/debian}
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(server dev)
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

if [ "$(id -u)" != 0 ]; then
	echo "minimal-root.sh: run as root (it uses debootstrap, mount and chroot)" >&2
	exit 2
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null ||
		{ echo "minimal-root.sh: cannot install debootstrap" >&2; exit 2; }
fi
mkdir -p "$work"

mounted=()
unmount_all() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -R "${mounted[$i]}" 2>/dev/null || umount -lR "${mounted[$i]}" 2>/dev/null
	done
	mounted=()
}
trap unmount_all EXIT

# A root is only ever removed with nothing mounted in it and without
# crossing into another file system.
remove_root() {
	if grep -q " $1/" /proc/self/mounts; then
		echo "minimal-root.sh: $1 still has mounts; not removing it" >&2
		return 1
	fi
	rm -rf --one-file-system "$1"
}

# --- the base: minbase + make, git, ca-certificates (cached as a tarball)
base=$work/base.tar
if [ -n "${FRESH:-}" ] || [ ! -s "$base" ]; then
	echo "== bootstrapping Debian 12 minbase from $MIRROR (log $work/base.log)"
	remove_root "$work/base" || exit 1
	if ! { debootstrap --variant=minbase bookworm "$work/base" "$MIRROR" &&
		cp /etc/resolv.conf "$work/base/etc/resolv.conf" &&
		chroot "$work/base" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q make git ca-certificates && apt-get clean'; } \
		>"$work/base.log" 2>&1; then
		tail -20 "$work/base.log"
		echo "minimal-root.sh: bootstrapping failed (see $work/base.log)" >&2
		exit 2
	fi
	tar -C "$work/base" -cf "$base.tmp" . && mv "$base.tmp" "$base"
	remove_root "$work/base"
fi

# prepare NAME: a fresh root from the base with the repository in /work
prepare() {
	local root=$work/$1
	remove_root "$root" || return 1
	mkdir -p "$root" && tar -C "$root" -xf "$base" || return 1
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	mkdir -p "$root/work"
	git clone -q "$repo" "$root/work/massagebot" || return 1
	if [ -d "$repo/../shared" ]; then cp -a "$repo/../shared" "$root/work/shared"; fi
	# the root a mount point of its own, as / is on a real machine (unshare -m
	# makes / private, which a plain directory cannot be)
	mount --bind "$root" "$root" && mounted+=("$root")
	mount -t proc proc "$root/proc" && mounted+=("$root/proc")
	mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys" && mounted+=("$root/sys")
	mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" && mounted+=("$root/dev")
}

# inside NAME SCRIPT: run SCRIPT with bash in the root, in the clone, with a
# bare environment like a new login's
inside() {
	chroot "$work/$1" /usr/bin/env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb /bin/bash -c "cd /work/massagebot && $2"
}

finish() {
	unmount_all
	if [ -z "${KEEP:-}" ]; then remove_root "$work/$1"; fi
}

npkgs() { inside "$1" "dpkg-query -W -f='\${Status}\n' | grep -c 'ok installed'"; }

server() {
	local log=$work/server.log before
	prepare server || { bad "server: cannot prepare the root"; return; }
	before=$(npkgs server)
	if inside server 'make && make install' >"$log" 2>&1; then ok "server: make && make install"; else
		bad "server: make && make install (log $log)"
		tail -20 "$log" | sed 's/^/  | /'
	fi
	echo "server: $before packages before, $(npkgs server) after make install"
	# the build-and-run packages only: no test tools on a production server
	local extra
	extra=$(inside server 'for p in valgrind clang clang-format libcmocka-dev python3-websockets systemd; do
		dpkg-query -W -f="\${Status}\n" $p 2>/dev/null | grep -q "ok installed" && echo $p; done' | tr '\n' ' ')
	[ -z "$extra" ] && ok "server: no test packages installed" || bad "server: test packages installed: $extra"
	# every program the installed unit runs exists and is executable
	local unit=/usr/local/lib/systemd/system/massagebot.service progs p
	progs=$(inside server "sed -nE 's/^Exec[A-Za-z]*=[-@:+!]*([^ ]+).*/\\1/p' $unit")
	[ -n "$progs" ] && ok "server: the installed unit runs $(echo $progs)" || bad "server: no Exec lines in $unit"
	for p in $progs; do
		inside server "test -x $p" && ok "server: $p exists" || bad "server: $p (used by the unit) is missing"
	done
	# installed, the commands find the installed answers by themselves
	inside server 'cd / && massagebot check | tee /dev/stderr | grep -q "^ok: .* in /srv/massagebot/knowledge"' \
		>>"$log" 2>&1 && ok "server: massagebot check finds the installed answers" ||
		bad "server: massagebot check (log $log)"
	inside server 'cd / && massagebot ask "is massage good for back pain" | grep -q .' >>"$log" 2>&1 &&
		ok "server: massagebot ask" || bad "server: massagebot ask (log $log)"
	inside server 'test -f /srv/massagebot/STAFF-GUIDE.md && test "$(stat -c %a /etc/massagebot/discord-token)" = 600' \
		>>"$log" 2>&1 && ok "server: staff guide and token file installed" || bad "server: staff guide, token file"
	finish server
}

dev() {
	local log=$work/dev.log
	prepare dev || { bad "dev: cannot prepare the root"; return; }
	if inside dev 'make run </dev/null' >"$log" 2>&1; then ok "dev: make run"; else
		bad "dev: make run (log $log)"
		tail -20 "$log" | sed 's/^/  | /'
	fi
	if inside dev 'make test' >>"$log" 2>&1; then ok "dev: make test"; else
		bad "dev: make test (log $log)"
		grep -E '^(FAIL|== )|: [0-9]+ passed, [0-9]+ failed' "$log" | grep -B1 -E 'FAIL|[1-9][0-9]* failed' |
			sed 's/^/  | /' | tail -30
	fi
	echo "dev: $(npkgs dev) packages after make test"
	finish dev
}

for s in "${scenarios[@]}"; do
	case $s in
	server | dev) echo "== $s" && "$s" ;;
	*) echo "minimal-root.sh: unknown scenario '$s' (server, dev)" >&2 && exit 2 ;;
	esac
done
echo "minimal-root: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
