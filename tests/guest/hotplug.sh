# SPDX-License-Identifier: GPL-2.0
# CPU hotplug checks, sourced by test.sh (relay_rs is loaded).

cpu_set() {	# cpu_set N 0|1
	echo "$2" >/sys/devices/system/cpu/cpu$1/online
}

nfiles() {
	ls $S | grep -c '^cpu[0-9]'
}

# A channel opened with CPUs 2 and 3 offline gains their buffers and files.
hp_late_cpus() {
	cpu_set 2 0 && cpu_set 3 0 || return 1
	insmod /modules/relay_rs_sample.ko nr_records=100 record_size=64 || return 1
	rc=0
	[ "$(nfiles)" = 2 ] || { echo "files with 2 CPUs: $(ls $S)"; rc=1; }
	cpu_set 2 1 && cpu_set 3 1 || rc=1
	[ "$(nfiles)" = 4 ] || { echo "files after online: $(ls $S)"; rc=1; }
	echo "write 2 50" >$S/ctl && echo "write 3 70" >$S/ctl && echo flush >$S/ctl || rc=1
	read_all $S cpu || rc=1
	relay-check --no-loss --summary $S/summary /tmp/cpu[0-9]* || rc=1
	rmmod relay_rs_sample
	return $rc
}

# Records written on a CPU before it goes offline are read back after.
hp_offline_keeps_data() {
	insmod /modules/relay_rs_sample.ko nr_records=0 record_size=64 || return 1
	rc=0
	echo "write 3 200" >$S/ctl || rc=1
	cpu_set 3 0 || rc=1
	echo flush >$S/ctl
	[ -e $S/cpu3 ] || { echo "cpu3 file gone"; rc=1; }
	cat $S/cpu3 >/tmp/off3 || rc=1
	relay-check /tmp/off3 && [ "$(wc -c </tmp/off3)" = 12800 ] || rc=1
	# Back online, the same buffer is reused.
	cpu_set 3 1 || rc=1
	echo "write 3 10" >$S/ctl && echo flush >$S/ctl || rc=1
	[ "$(cat $S/cpu3 | wc -c)" = 640 ] || { echo "cpu3 after return"; rc=1; }
	rmmod relay_rs_sample
	return $rc
}

# A failed buffer allocation refuses the CPU cleanly; it comes up later.
hp_fault() {
	P=/sys/module/relay_rs/parameters/fault_fail_after
	[ -e $P ] || { echo "no fault injection parameter"; return 1; }
	cpu_set 2 0 || return 1
	insmod /modules/relay_rs_sample.ko nr_records=10 || return 1
	rc=0
	echo 0 >$P
	cpu_set 2 1 2>/dev/null && { echo "cpu 2 came up despite the failure"; rc=1; }
	echo -1 >$P
	[ "$(cat /sys/devices/system/cpu/cpu2/online)" = 0 ] || { echo "cpu 2 online"; rc=1; }
	[ ! -e $S/cpu2 ] || { echo "half-made file left"; rc=1; }
	cpu_set 2 1 || rc=1
	[ -e $S/cpu2 ] || { echo "no file after retry"; rc=1; }
	echo "write 2 5" >$S/ctl && echo flush >$S/ctl
	read_all $S cpu || rc=1
	relay-check --no-loss --summary $S/summary /tmp/cpu[0-9]* || rc=1
	rmmod relay_rs_sample
	return $rc
}

# 50 offline/online cycles of CPUs 1-3 while writers run on every online
# CPU, a reader drains, and channels are opened and closed alongside.
hp_stress() {
	insmod /modules/relay_rs_sample.ko live=1 nr_records=30000 record_size=128 \
		subbuf_size=16384 n_subbufs=8 || return 1
	rm -rf /tmp/hp; mkdir /tmp/hp
	relay-read $S cpu --mode read --out /tmp/hp --stats >/tmp/hp.out 2>&1 &
	reader=$!
	touch /tmp/churn
	(while [ -e /tmp/churn ]; do
		insmod /modules/rust_relay_rs_sample.ko && rmmod rust_relay_rs_sample
	done) >/dev/null 2>&1 &
	churn=$!
	rc=0
	i=0
	while [ $i -lt 50 ]; do
		for c in 1 2 3; do
			cpu_set $c 0 || { echo "offline $c failed (cycle $i)"; rc=1; }
			cpu_set $c 1 || { echo "online $c failed (cycle $i)"; rc=1; }
		done
		i=$((i + 1))
	done
	rm /tmp/churn
	wait $churn
	n=0
	until grep -q "^done 4$" $S/summary; do
		sleep 0.2
		n=$((n + 1))
		[ $n -lt 300 ] || { echo "writers did not finish"; rc=1; break; }
	done
	echo flush >$S/ctl
	cp $S/summary /tmp/hsum
	rmmod relay_rs_sample
	wait $reader || rc=1
	cat /tmp/hp.out
	relay-check --any-order --summary /tmp/hsum /tmp/hp/cpu[0-9]* || rc=1
	return $rc
}

# relay_rs unloaded and loaded again with CPUs offline.
hp_reload() {
	cpu_set 1 0 && cpu_set 3 0 || return 1
	rmmod relay_rs || return 1
	insmod /modules/relay_rs.ko || return 1
	insmod /modules/relay_rs_sample.ko nr_records=20 || return 1
	rc=0
	[ "$(nfiles)" = 2 ] || { echo "files: $(ls $S)"; rc=1; }
	cpu_set 1 1 && cpu_set 3 1 || rc=1
	[ "$(nfiles)" = 4 ] || { echo "files after online: $(ls $S)"; rc=1; }
	rmmod relay_rs_sample
	return $rc
}

check "hotplug: CPUs onlined after open get buffers and files" hp_late_cpus
check "hotplug: data written before offline is read back, buffer reused" hp_offline_keeps_data
check "hotplug: injected allocation failure refuses the CPU cleanly" hp_fault
check "hotplug: 50 cycles of CPUs 1-3 with live writers, reader and channel churn" hp_stress
check "hotplug: unload and reload relay_rs with CPUs offline" hp_reload

. /tests/stress.sh
. /tests/nmi.sh
