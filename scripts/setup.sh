#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything relay_rs needs to build and test, idempotently.
# Fast (a few checks, no network) when everything is already present.
set -euo pipefail

BINDGEN_VERSION=0.73.2
CARGO_FUZZ_VERSION=0.13.2
APT_PACKAGES="linux-source-6.12 clang-19 lld-19 llvm-19 libclang-19-dev flex bison bc
	libelf-dev libssl-dev cpio busybox-static qemu-system-x86 python3 libc6-dev rsync"

die() { echo "setup: $*" >&2; exit 1; }

# --bench: only what make bench adds (the plot).
if [ "${1:-}" = --bench ]; then
	dpkg-query -W -f='${Status}' python3-matplotlib 2>/dev/null | grep -q "install ok installed" &&
		exit 0
	echo "setup: installing python3-matplotlib (bench plots)"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-matplotlib >/dev/null ||
		die "apt-get install python3-matplotlib failed"
	exit 0
fi

missing=""
for p in $APT_PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing Debian packages:$missing"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq ||
		die "apt-get update failed; check the network and /etc/apt/sources.list"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null ||
		die "apt-get install failed for:$missing"
fi

# Linux 7.3's source, from Debian's trixie-backports, through a private apt
# configuration under the relay_rs cache: its own sources list, state and
# cache directories, so the machine's apt sources stay untouched. The mirror
# is the one the machine's own bookworm entries use; the archive keyring
# that ships with bookworm verifies trixie.
cache=${RELAY_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/relay_rs}
src73=$cache/linux-source-7.3
if [ ! -f "$src73/version" ]; then
	mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }') || true
	[ -n "$mirror" ] || mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ { print u; exit }') || true
	[ -n "$mirror" ] || die "no bookworm entry in the machine's apt sources to take a mirror from"
	apt=$cache/apt-trixie
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -f "$keyring" ] || die "$keyring missing (package debian-archive-keyring)"
	mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/pool"
	printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" trixie \
		"$keyring" "$mirror" trixie-backports >"$apt/sources.list"
	aptopts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State=$apt/state" -o "Dir::Cache=$apt/cache"
		-o Dir::State::status=/var/lib/dpkg/status -o APT::Sandbox::User="$(id -un)")
	echo "setup: fetching linux-source-7.3 from $mirror trixie-backports"
	apt-get -qq "${aptopts[@]}" update || die "apt-get update (trixie, private config) failed"
	(cd "$apt/pool" && rm -f linux-source-7.3_*.deb &&
		apt-get -qq "${aptopts[@]}" download linux-source-7.3) ||
		die "apt-get download linux-source-7.3 failed"
	deb=$(ls "$apt/pool"/linux-source-7.3_*.deb)
	rm -rf "$src73" && mkdir -p "$src73"
	dpkg-deb -x "$deb" "$src73" || die "dpkg-deb -x $deb failed"
	dpkg-deb -f "$deb" Version >"$src73/version"
fi

command -v rustup >/dev/null || die "rustup not found: install a Rust toolchain with rustup first"
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	echo "setup: adding rustup component rust-src"
	rustup component add rust-src || die "rustup component add rust-src failed"
fi

if ! command -v bindgen >/dev/null ||
	[ "$(bindgen --version 2>/dev/null | awk '{print $2}')" != "$BINDGEN_VERSION" ]; then
	echo "setup: installing bindgen-cli $BINDGEN_VERSION"
	cargo install --locked bindgen-cli --version "$BINDGEN_VERSION" ||
		die "cargo install bindgen-cli $BINDGEN_VERSION failed"
fi

# The fuzz target of the ring logic (host/fuzz) needs nightly and cargo-fuzz.
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
	echo "setup: installing the nightly toolchain (for cargo fuzz)"
	rustup toolchain install nightly --profile minimal || die "rustup toolchain install nightly failed"
fi
# Miri, for the host tests (make test runs them under it, bounded).
if ! rustup +nightly component list --installed 2>/dev/null | grep -q '^miri'; then
	echo "setup: adding the nightly components miri and rust-src"
	rustup +nightly component add miri rust-src || die "rustup component add miri failed"
fi
[ -d "${XDG_CACHE_HOME:-$HOME/.cache}/miri" ] ||
	cargo +nightly miri setup >/dev/null 2>&1 || die "cargo miri setup failed"
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
	echo "setup: installing cargo-fuzz $CARGO_FUZZ_VERSION"
	cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" ||
		die "cargo install cargo-fuzz $CARGO_FUZZ_VERSION failed"
fi
