#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make sure a configured and fully built kernel of one supported version
# exists in the cache and print its build directory (for KDIR=). The cache
# key covers the version, the config fragments, the kernel source package
# version and the toolchain, so a kernel is rebuilt only when one of those
# changes.
#
# Usage: scripts/kernel.sh [version [variant]]
#   version: 7.3 (the default) or 6.12; variant: base (the default) or debug.
# The source comes from Debian's linux-source-VERSION package, which
# scripts/setup.sh fetches (6.12 installed from the machine's bookworm
# sources, 7.3 downloaded from trixie-backports into the cache).
# Environment: RELAY_RS_CACHE (default: ~/.cache/relay_rs), JOBS.
set -euo pipefail

version=${1:-7.3}
variant=${2:-base}
# Bump when the build steps below change (the key then changes too).
RECIPE=1
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${RELAY_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/relay_rs}
jobs=${JOBS:-$(nproc)}
export PATH=/usr/lib/llvm-19/bin:$PATH

# base: base.config and bench.config (the benchmark's peers, for make
# bench and make demo); debug: base.config and debug.config (make test),
# so that a benchmark peer's config does not rebuild the test kernels.
frags="$top/kernel-config/base.config"
if [ "$variant" = base ]; then
	frags="$frags $top/kernel-config/bench.config"
else
	frags="$frags $top/kernel-config/$variant.config"
fi
for f in $frags; do [ -f "$f" ] || { echo "kernel.sh: no fragment $f" >&2; exit 1; }; done

case $version in
6.12)
	tarball=/usr/src/linux-source-6.12.tar.xz
	srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) || srcver=
	;;
7.3)
	# Unpacked from the .deb by scripts/setup.sh, with its version beside it.
	tarball=$cache/linux-source-7.3/usr/src/linux-source-7.3.tar.xz
	srcver=$(cat "$cache/linux-source-7.3/version" 2>/dev/null) || srcver=
	;;
*) echo "kernel.sh: unsupported kernel version '$version' (7.3 or 6.12)" >&2; exit 2 ;;
esac
[ -f "$tarball" ] && [ -n "$srcver" ] ||
	{ echo "kernel.sh: $tarball missing: run scripts/setup.sh" >&2; exit 1; }

key=$( {
	cat $frags
	echo "$version $srcver"
	rustc --version
	bindgen --version
	clang --version | head -1
	echo "recipe $RECIPE"
} | sha256sum | cut -c1-12)

src="$cache/src-$srcver"
build="$cache/kernel-$version-$variant-$key"
# A kernel already built needs no lock: waiting for it would hold up a
# build against it behind another checkout's build of some other kernel.
if [ -f "$build/.relay_rs_built" ] && [ -f "$src/.unpacked" ]; then
	echo "$build"
	exit 0
fi
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

if [ ! -f "$src/.unpacked" ]; then
	echo "kernel.sh: unpacking $tarball into $src" >&2
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" -xf "$tarball" --strip-components=1
	mv "$src.tmp" "$src"
	touch "$src/.unpacked"
fi

if [ ! -f "$build/.relay_rs_built" ]; then
	echo "kernel.sh: building $version kernel '$variant' in $build (cold: 10-15 minutes)" >&2
	mkdir -p "$build"
	mk() { make -C "$src" O="$build" LLVM=1 "$@"; }
	mk -s tinyconfig >&2
	KCONFIG_CONFIG="$build/.config" "$src/scripts/kconfig/merge_config.sh" -m -O "$build" \
		"$build/.config" $frags >&2
	mk -s olddefconfig >&2
	# Every line of the fragments must have survived olddefconfig.
	bad=0
	for f in $frags; do
		while read -r line; do
			case "$line" in ''|'#'*) continue ;; esac
			grep -qx "$line" "$build/.config" || { echo "kernel.sh: $line not set" >&2; bad=1; }
		done <"$f"
	done
	[ $bad = 0 ] || { echo "kernel.sh: config fragment not satisfied" >&2; exit 1; }
	mk -s rustavailable >&2
	if ! mk -j"$jobs" >"$build/build.log" 2>&1; then
		tail -40 "$build/build.log" >&2
		echo "kernel.sh: kernel build failed, log in $build/build.log" >&2
		exit 1
	fi
	[ -f "$build/Module.symvers" ] || { echo "kernel.sh: no Module.symvers" >&2; exit 1; }
	touch "$build/.relay_rs_built"
	# Older builds of this variant (other fragments or toolchain) are dead weight.
	for old in "$cache/kernel-$version-$variant-"*; do
		[ "$old" = "$build" ] || rm -rf "$old"
	done
fi
echo "$build"
