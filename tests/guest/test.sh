# SPDX-License-Identifier: GPL-2.0
# make test, guest side. KUnit suites run (and print KTAP) on insmod.
. /tests/lib.sh

insmod /modules/relay_rs.ko || { echo "RELAY_RS_CHECK not ok insmod relay_rs"; exit 1; }
[ -f /modules/relay_rs_kunit_c.ko ] && insmod /modules/relay_rs_kunit_c.ko

S=$D/relay_rs_sample

# Round trip through the files with cat, all three write paths, 4 CPUs.
roundtrip() {
	insmod /modules/relay_rs_sample.ko nr_records=$2 record_size=$1 \
		subbuf_size=65536 n_subbufs=32 || return 1
	[ "$(ls $S | grep -c '^cpu[0-9]')" = "$(grep -c ^processor /proc/cpuinfo)" ] || return 1
	read_all $S cpu || return 1
	relay-check --no-loss --summary $S/summary /tmp/cpu[0-9]*
	rc=$?
	rmmod relay_rs_sample
	return $rc
}
check "cat round trip, 100-byte records" roundtrip 100 5000
check "cat round trip, 1000-byte records (padding)" roundtrip 1000 1500

# A full no-overwrite buffer refuses and counts: read + lost == written.
conservation() {
	insmod /modules/relay_rs_sample.ko nr_records=4000 record_size=200 \
		subbuf_size=4096 n_subbufs=4 || return 1
	read_all $S cpu || return 1
	grep -q '^lost_full 0$' $S/summary && { echo "expected losses"; return 1; }
	relay-check --summary $S/summary /tmp/cpu[0-9]*
	rc=$?
	# The channel's own stats file reports the same loss as relay_rs_stats().
	cat $S/cpu.stats
	[ "$(grep '^lost_full' $S/cpu.stats)" = "$(grep '^lost_full' $S/summary)" ] || rc=1
	[ "$(grep '^lost_big' $S/cpu.stats)" = "$(grep '^lost_big' $S/summary)" ] || rc=1
	rmmod relay_rs_sample
	return $rc
}
check "no-overwrite conservation (written = read + lost)" conservation

# read() never returns padding and reports 0 at the end; i_size counts data.
isize() {
	insmod /modules/relay_rs_sample.ko nr_records=500 record_size=1000 \
		subbuf_size=4096 n_subbufs=256 || return 1
	sz=$(stat -c %s $S/cpu0)
	n=$(cat $S/cpu0 | wc -c)
	rmmod relay_rs_sample
	echo "i_size $sz read $n"
	# 4 records per 4096-byte sub-buffer; flush completed the last one.
	[ "$sz" = 500000 ] && [ "$n" = 500000 ]
}
check "i_size counts produced bytes" isize

# close while a reader holds the file: data stays readable, file vanishes.
close_with_reader() {
	insmod /modules/relay_rs_sample.ko nr_records=100 record_size=64 || return 1
	exec 3<$S/cpu0
	rmmod relay_rs_sample || return 1
	[ ! -e $S/cpu0 ] || { echo "file still there after close"; return 1; }
	cat <&3 >/tmp/held0 || return 1
	exec 3<&-
	relay-check /tmp/held0 && [ "$(wc -c </tmp/held0)" = 6400 ]
}
check "close while a reader holds the file" close_with_reader

# The module cannot go away while a relay file is open.
busy_module() {
	insmod /modules/relay_rs_sample.ko nr_records=10 || return 1
	exec 3<$S/cpu0
	rmmod relay_rs_sample
	rmmod relay_rs 2>/dev/null && { echo "relay_rs unloaded with a file open"; return 1; }
	exec 3<&-
	return 0
}
check "module pinned while a file is open" busy_module

# The Rust sample: records written from IPI context through the safe wrapper.
rust_sample() {
	dmesg -c >/dev/null
	insmod /modules/rust_relay_rs_sample.ko || return 1
	dmesg | sed -n 's/.*rust_relay_rs_sample: //p' >/tmp/rust-summary
	cat /tmp/rust-summary
	for f in $D/rust_sample[0-9]*; do cat "$f" >"/tmp/r$(basename "$f")"; done
	relay-check --no-loss --summary /tmp/rust-summary /tmp/rrust_sample[0-9]*
	rc=$?
	rmmod rust_relay_rs_sample
	[ ! -e $D/rust_sample0 ] || { echo "files left after close"; return 1; }
	return $rc
}
check "Rust sample via the safe wrapper, IRQ-context writes" rust_sample

[ -f /modules/relay_rs_kunit_c.ko ] && rmmod relay_rs_kunit_c
check "rmmod relay_rs" rmmod relay_rs
