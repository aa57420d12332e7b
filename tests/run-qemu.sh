#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots a kernel in QEMU (TCG, 4 CPUs) with a busybox initramfs holding
# relay_rs, its client modules, the guest tools and the guest script for
# MODE, and saves the serial console to OUTDIR/MODE.log (or
# OUTDIR/$RUN_LOG.log).
#
# Usage: tests/run-qemu.sh demo|test|bench
# Environment: KDIR (default: the cached plain kernel of KERNEL, 7.3 unless
# set), MODDIR (the tree whose *.ko files are taken, as Kbuild left them:
# default the repository's top), OUTDIR (default build/), QEMU_TIMEOUT,
# QEMU_MEM, QEMU_EXTRA, RUN_LOG, STRESS_SECONDS.
set -euo pipefail

mode=$1
top=$(cd "$(dirname "$0")/.." && pwd)
kdir=${KDIR:-$("$top/scripts/kernel.sh" "${KERNEL:-7.3}" base)}
moddir=${MODDIR:-$top}
out=${OUTDIR:-$top/build}
mkdir -p "$out"
out=$(cd "$out" && pwd)
root="$out/initramfs-$mode"
timeout=${QEMU_TIMEOUT:-900}

export PATH=$HOME/.cargo/bin:$PATH
for t in relay-check relay-read relay-harness; do
	(cd "$top/tools/$t" && cargo build --release -q)
done
# The consumer library's client written from its documentation alone.
dcc="$top/tests/doc-client/consumer"
(cd "$dcc" && cargo build --release -q)

rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,modules,tests}
cp /bin/busybox "$root/bin/busybox"
for m in "$moddir"/*.ko "$moddir"/samples/*.ko "$moddir"/tests/*.ko "$moddir"/tests/*/*.ko \
	"$moddir"/bench/*.ko; do
	[ -f "$m" ] && cp "$m" "$root/modules/"
done
for t in relay-check relay-read relay-harness; do
	cp "$top/tools/$t/target/x86_64-unknown-linux-gnu/release/$t" "$root/bin/"
done
# Clients written from the documentation alone (tests/doc-client/).
for c in "$top"/tests/doc-client/*.c; do
	[ -f "$c" ] || continue
	# Kbuild's generated .mod.c of a module built in this directory.
	case $c in *.mod.c) continue ;; esac
	gcc -static -O2 -Wall -Wextra -Werror -o "$root/bin/$(basename "$c" .c)" "$c"
done
cp "$dcc/target/x86_64-unknown-linux-gnu/release/relay-consumer-client" "$root/bin/"
cp "$top"/tests/guest/*.sh "$root/tests/"
cat >"$root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
echo "RELAY_RS_GUEST_START $mode"
sh /tests/$mode.sh
echo "RELAY_RS_DONE"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 >"$out/initramfs-$mode.cpio.gz")

log="$out/${RUN_LOG:-$mode}.log"
echo "run-qemu: booting $mode (log: $log)" >&2
set +e
# shellcheck disable=SC2086
timeout "$timeout" qemu-system-x86_64 -accel tcg -smp 4 -m "${QEMU_MEM:-512M}" -nographic -no-reboot ${QEMU_EXTRA:-} \
	-kernel "$kdir/arch/x86/boot/bzImage" -initrd "$out/initramfs-$mode.cpio.gz" \
	-append "console=ttyS0 loglevel=7 panic=-1 $mode stress=${STRESS_SECONDS:-120} ${RELAY_RS_VERBOSE:+verbose}" </dev/null >"$log" 2>&1
rc=$?
set -e
[ $rc = 124 ] && echo "RELAY_RS_TIMEOUT after ${timeout}s" >>"$log"
exit 0
