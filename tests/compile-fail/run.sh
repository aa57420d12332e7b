#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds each case of tests/compile-fail/ as a Rust client module of the
# safe API (include/relay_rs/) against KDIR and checks that rustc refuses
# it with the error code its first line names (`// expect: E0499`), or
# accepts it (`// expect: ok`). Prints one `test [KERNEL] compile_fail::NAME
# ... ok` (or FAILED) line per case, as cargo test does with the kernel
# between brackets, for tests/report.py.
#
# Usage: tests/compile-fail/run.sh KDIR OUTDIR [KERNEL]
#   KERNEL: the name the lines give KDIR (default: its version, as 7.3).
set -uo pipefail

kdir=$1
out=$2
kernel=${3:-$(make -s --no-print-directory -C "$kdir" kernelversion | cut -d. -f1,2)}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
rm -rf "$out"
mkdir -p "$out/include"
out=$(cd "$out" && pwd)
cp -r "$top/include/relay_rs" "$out/include/"
export PATH=/usr/lib/llvm-19/bin:$HOME/.cargo/bin:$PATH
for f in "$here"/*.rs; do
	name=$(basename "$f" .rs)
	[ "$name" = prelude ] && continue
	want=$(sed -n '1s|^// expect: ||p' "$f")
	dir="$out/$name"
	mkdir -p "$dir"
	cat "$here/prelude.rs" "$f" >"$dir/case.rs"
	printf "include %s\nobj-m := case.o\n" "$out/include/relay_rs/kernel.mk" >"$dir/Kbuild"
	# Only the object: modpost would want relay_rs' symbols.
	make -s -C "$kdir" M="$dir" LLVM=1 case.o >"$dir/log" 2>&1
	rc=$?
	if [ "$want" = ok ]; then
		[ $rc = 0 ] && res=ok || res=FAILED
	else
		[ $rc != 0 ] && grep -q "error\[$want\]" "$dir/log" && res=ok || res=FAILED
	fi
	echo "test [$kernel] compile_fail::$name ... $res (expected: $want)"
	[ "$res" = ok ] || sed -n '1,40p' "$dir/log"
done
