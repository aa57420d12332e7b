#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make sure a configured and prepared (`make prepare`, headers generated,
# nothing else built) kernel tree of one supported version, with the
# kernel's own relay clients enabled (kernel-config/clients.config on top of
# tinyconfig, no CONFIG_RUST), exists in the cache and print its build
# directory. scripts/upstream-clients.sh compiles the clients in it. The
# cache key covers the fragment, the version, the kernel source package
# version and path and the compiler, as scripts/kernel.sh's does.
#
# Usage: scripts/clients-kernel.sh [version]   (7.3, the default, or 6.12)
# The source: the tree scripts/kernel.sh unpacked ($cache/src-SRCVER) if
# there is one, else this script's own unpacked copy of the same tarball
# ($cache/clients-src-SRCVER); RELAY_RS_CLIENTS_SRC names an unpacked source
# of that version to use instead.
# Environment: RELAY_RS_CACHE (default: ~/.cache/relay_rs), JOBS (default 2),
# RELAY_RS_CLIENTS_SRC.
set -euo pipefail

version=${1:-7.3}
# Bump when the steps below change (the key then changes too).
RECIPE=1
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${RELAY_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/relay_rs}
jobs=${JOBS:-2}
export PATH=/usr/lib/llvm-19/bin:$PATH

frag="$top/kernel-config/clients.config"
[ -f "$frag" ] || { echo "clients-kernel.sh: no fragment $frag" >&2; exit 1; }

case $version in
6.12)
	tarball=/usr/src/linux-source-6.12.tar.xz
	srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) || srcver=
	;;
7.3)
	tarball=$cache/linux-source-7.3/usr/src/linux-source-7.3.tar.xz
	srcver=$(cat "$cache/linux-source-7.3/version" 2>/dev/null) || srcver=
	;;
*) echo "clients-kernel.sh: unsupported kernel version '$version' (7.3 or 6.12)" >&2; exit 2 ;;
esac
[ -f "$tarball" ] && [ -n "$srcver" ] ||
	{ echo "clients-kernel.sh: $tarball missing: run scripts/setup.sh" >&2; exit 1; }

mkdir -p "$cache"
# Not kernel.sh's .lock, which a kernel build holds for many minutes.
# upstream-clients.sh takes it before calling this and keeps it while it
# compiles in the tree (RELAY_RS_CLIENTS_LOCKED).
if [ -z "${RELAY_RS_CLIENTS_LOCKED:-}" ]; then
	exec 9>"$cache/.clients-lock"
	flock 9
fi

if [ -n "${RELAY_RS_CLIENTS_SRC:-}" ]; then
	src=$(cd "$RELAY_RS_CLIENTS_SRC" && pwd)
	[ -f "$src/Makefile" ] || { echo "clients-kernel.sh: $src is no kernel source" >&2; exit 1; }
elif [ -f "$cache/src-$srcver/.unpacked" ]; then
	src="$cache/src-$srcver"
	# Our own copy, if one was unpacked before kernel.sh's, is dead weight.
	rm -rf "$cache/clients-src-$srcver" "$cache/clients-src-$srcver.tmp"
else
	# kernel.sh's tree is made under its own lock: unpack a copy of ours.
	src="$cache/clients-src-$srcver"
	if [ ! -f "$src/.unpacked" ]; then
		echo "clients-kernel.sh: unpacking $tarball into $src" >&2
		rm -rf "$src" "$src.tmp"
		mkdir -p "$src.tmp"
		tar -C "$src.tmp" -xf "$tarball" --strip-components=1
		mv "$src.tmp" "$src"
		touch "$src/.unpacked"
	fi
fi

key=$( {
	cat "$frag"
	echo "$version $srcver $src"
	clang --version | head -1
	echo "recipe $RECIPE"
} | sha256sum | cut -c1-12)
build="$cache/clients-$version-$key"

if [ ! -f "$build/.relay_rs_prepared" ]; then
	echo "clients-kernel.sh: preparing the $version clients tree in $build (a few minutes)" >&2
	rm -rf "$build"
	mkdir -p "$build"
	mk() { make -C "$src" O="$build" LLVM=1 "$@"; }
	mk -s tinyconfig >&2
	KCONFIG_CONFIG="$build/.config" "$src/scripts/kconfig/merge_config.sh" -m -O "$build" \
		"$build/.config" "$frag" >&2
	mk -s olddefconfig >&2
	# Every line of the fragment must have survived olddefconfig, but for
	# symbols this version's Kconfig does not have.
	known=$(find "$src" -name 'Kconfig*' -print0 |
		xargs -0 grep -hoE '^[[:space:]]*(menu)?config[[:space:]]+[A-Za-z0-9_]+' |
		awk '{print "CONFIG_" $2}' | sort -u)
	bad=0
	while read -r line; do
		case "$line" in ''|'#'*) continue ;; esac
		sym=${line%%=*}
		if ! grep -qx "$sym" <<<"$known"; then
			echo "clients-kernel.sh: $sym: not in $version, skipped" >&2
			continue
		fi
		grep -qx "$line" "$build/.config" || { echo "clients-kernel.sh: $line not set" >&2; bad=1; }
	done <"$frag"
	grep -q '^CONFIG_RUST=y' "$build/.config" &&
		{ echo "clients-kernel.sh: CONFIG_RUST got enabled" >&2; bad=1; }
	[ $bad = 0 ] || { echo "clients-kernel.sh: config fragment not satisfied" >&2; exit 1; }
	if ! mk -j"$jobs" prepare >"$build/prepare.log" 2>&1; then
		tail -40 "$build/prepare.log" >&2
		echo "clients-kernel.sh: make prepare failed, log in $build/prepare.log" >&2
		exit 1
	fi
	touch "$build/.relay_rs_prepared"
	# Older trees of this version (other fragment, source or compiler).
	for old in "$cache/clients-$version-"*; do
		[ "$old" = "$build" ] || rm -rf "$old"
	done
fi
echo "$build"
