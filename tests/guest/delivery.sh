# SPDX-License-Identifier: GPL-2.0
# Delivery interval checks (relay_rs_set_delivery_interval(),
# RELAY_RS_IOC_DELIVERY), sourced by test.sh (relay_rs is loaded, $S set).

# stat_of NAME FILE: the value of a total of a stats file.
stat_of() {
	awk -v n="$1" '$1 == n { print $2 }' "$2"
}

# A timestamped record every 1.5 s on CPU 0, into a sub-buffer that never
# completes: relay-read --latency 300 (the ioctl, then poll only) gets each
# within the interval plus slack, and is never woken for nothing.
delivery_latency() {
	insmod /modules/relay_rs_sample.ko nr_records=0 record_size=64 timestamps=1 \
		write_path=1 || return 1
	rm -rf /tmp/lat; mkdir /tmp/lat
	relay-read $S cpu --latency 300 --out /tmp/lat >/tmp/lat.out 2>&1 &
	p=$!
	# The records once relay-read has set the interval (a slow guest takes
	# a while to start it).
	n=0
	until [ "$(stat_of delivery_interval_ms $S/cpu.stats)" = 300 ]; do
		sleep 0.1
		n=$((n + 1))
		[ $n -lt 100 ] || { echo "relay-read did not set the interval"; break; }
	done
	# Not a multiple of relay-read's 1 s poll timeout, whose last look
	# would otherwise find some records before the timer.
	echo "period 1500" >$S/ctl
	sleep 9
	echo "period 0" >$S/ctl
	cp $S/cpu.stats /tmp/lat.stats
	rmmod relay_rs_sample
	wait $p || return 1
	cat /tmp/lat.out /tmp/lat.stats
	relay-check /tmp/lat/cpu[0-9]* || return 1
	set -- $(awk '$1 == "latency" && $2 == "records" { print $3, $5, $11 }' /tmp/lat.out)
	[ "$1" -ge 5 ] || { echo "records: $1"; return 1; }
	# 300 ms, a 4 ms tick, and a slow TCG guest's scheduling on a loaded
	# host (without the interval: seconds, until the close).
	awk -v m="$2" 'BEGIN { exit !(m <= 800) }' || { echo "max delay $2 ms"; return 1; }
	[ "$3" = 0 ] || { echo "$3 wake-ups without data"; return 1; }
	[ "$(stat_of delivery_interval_ms /tmp/lat.stats)" = 300 ] || return 1
	[ "$(stat_of delivery_wakeups /tmp/lat.stats)" -ge $(($1 - 2)) ] || return 1
}
check "delivery interval: a record every 1.5 s reaches a poll reader within 300 ms + slack" delivery_latency

# Nothing written: the timer runs while readers wait but wakes nobody (the
# stats file counts its runs and wake-ups, relay-read its empty wake-ups),
# and stops once no reader waits.
delivery_idle() {
	insmod /modules/relay_rs_sample.ko nr_records=0 || return 1
	rc=0
	relay-read $S cpu --latency 100 >/tmp/idle.out 2>&1 &
	p=$!
	sleep 3
	cp $S/cpu.stats /tmp/idle1
	kill -INT $p
	wait $p || rc=1
	sleep 0.5
	cp $S/cpu.stats /tmp/idle2
	sleep 1
	cp $S/cpu.stats /tmp/idle3
	rmmod relay_rs_sample
	cat /tmp/idle.out /tmp/idle1 /tmp/idle3
	[ "$(stat_of delivery_runs /tmp/idle1)" -ge 10 ] || { echo "timer did not run"; rc=1; }
	[ "$(stat_of delivery_wakeups /tmp/idle3)" = 0 ] || { echo "readers woken while idle"; rc=1; }
	[ "$(awk '$1 == "latency" && $2 == "records" { print $11 }' /tmp/idle.out)" = 0 ] ||
		{ echo "relay-read woken without data"; rc=1; }
	[ "$(stat_of delivery_runs /tmp/idle2)" = "$(stat_of delivery_runs /tmp/idle3)" ] ||
		{ echo "timer still running without readers"; rc=1; }
	return $rc
}
check "delivery interval: no wake-up while nothing is unread, timer stops without readers" delivery_idle

# pollin_ms FILE: the ms after which relay-harness poll-wait saw POLLIN.
pollin_ms() {
	awk '/^pollin after/ { print $3 }' "$1"
}

# after_write FILE: the ms from the sample's last record to POLLIN as
# relay-harness poll-wait saw it (both CLOCK_MONOTONIC).
after_write() {
	w=$(awk '$1 == "last_write_ns" { print $2 }' $S/summary)
	awk -v w="$w" '/^pollin at/ { printf "%d\n", ($3 - w) / 1000000 }' "$1"
}

# wait_write MS FILE CPU: poll-waits on FILE (up to MS), writes one record
# on CPU 0.3 s after the poll began; the poll-wait output goes to /tmp/ww.
wait_write() {
	: >/tmp/ww
	relay-harness poll-wait "$2" "$1" >>/tmp/ww &
	pw=$!
	n=0
	until grep -q '^polling' /tmp/ww; do
		sleep 0.05
		n=$((n + 1))
		[ $n -lt 200 ] || break
	done
	sleep 0.3
	echo "write $3 1" >$S/ctl
	wait $pw
	wrc=$?
	cat /tmp/ww
	return $wrc
}

# Changed and turned off at run time through the C API (the sample's ctl):
# 2000 ms, then 200 ms, then off (no wake-up until a flush). relay_rs_write
# only: a C reservation becomes readable at the next one or a switch.
delivery_runtime() {
	insmod /modules/relay_rs_sample.ko nr_records=0 record_size=100 write_path=1 || return 1
	rc=0
	echo "delivery 2000" >$S/ctl || rc=1
	# The run that setting it armed finds no reader and stops: the next
	# one is 2000 ms after the poll.
	sleep 2.5
	# Poll timeouts far above the intervals: a guest slowed down by a
	# loaded host may write late (the waits below end at the wake-up).
	wait_write 20000 $S/cpu0 0 || rc=1
	t1=$(pollin_ms /tmp/ww)
	w1=$(after_write /tmp/ww)
	read_all $S cpu
	echo "delivery 200" >$S/ctl || rc=1
	wait_write 20000 $S/cpu0 0 || rc=1
	w2=$(after_write /tmp/ww)
	read_all $S cpu
	echo "delivery 0" >$S/ctl || rc=1
	echo "write 0 1" >$S/ctl
	relay-harness poll-wait $S/cpu0 1500 && { echo "woken with the interval off"; rc=1; }
	relay-harness poll-wait $S/cpu0 6000 >/tmp/ww &
	pw=$!
	sleep 1
	echo flush >$S/ctl
	wait $pw || { echo "no wake-up on flush"; rc=1; }
	echo "delivery 3600001" >$S/ctl 2>/dev/null && { echo "3600001 ms accepted"; rc=1; }
	relay-read $S cpu --latency 3600001 --idle-exit 100 && { echo "ioctl took 3600001 ms"; rc=1; }
	relay-read $S cpu --latency 100 --idle-exit 100 >/dev/null || { echo "ioctl refused"; rc=1; }
	grep -x 'delivery_interval_ms 100' $S/cpu.stats || rc=1
	rmmod relay_rs_sample
	echo "2000 ms: pollin $t1 ms after the poll, $w1 ms after the write; 200 ms: $w2 ms after"
	# The timer's first run is 2000 ms after the poll, the record comes
	# before; with 200 ms, the wake-up follows the record within 200 ms
	# (and the slack of a slow guest).
	[ -n "$t1" ] && [ "$t1" -ge 1700 ] && [ "$w1" -le 2500 ] || rc=1
	[ -n "$w2" ] && [ "$w2" -le 700 ] || rc=1
	return $rc
}
check "delivery interval: changed and turned off at run time" delivery_runtime

# The timer covers the buffer of a CPU onlined after open, counts an
# offline CPU's unread bytes, and keeps working while CPUs go offline.
hp_delivery() {
	echo 0 >/sys/devices/system/cpu/cpu3/online || return 1
	insmod /modules/relay_rs_sample.ko nr_records=0 record_size=64 delivery_ms=200 \
		write_path=1 || return 1
	rc=0
	echo 1 >/sys/devices/system/cpu/cpu3/online || rc=1
	wait_write 20000 $S/cpu3 3 || rc=1
	t1=$(after_write /tmp/ww)
	cat $S/cpu3 >/dev/null
	echo "write 3 1" >$S/ctl
	for c in 1 2 3; do echo 0 >/sys/devices/system/cpu/cpu$c/online || rc=1; done
	relay-harness poll-wait $S/cpu3 1000 || { echo "offline CPU's bytes not readable"; rc=1; }
	[ "$(cat $S/cpu3 | wc -c)" = 64 ] || rc=1
	wait_write 20000 $S/cpu0 0 || rc=1
	t2=$(after_write /tmp/ww)
	for c in 1 2 3; do echo 1 >/sys/devices/system/cpu/cpu$c/online || rc=1; done
	rmmod relay_rs_sample
	echo "CPU onlined after open: pollin $t1 ms after the write; CPUs 1-3 offline: $t2 ms"
	[ -n "$t1" ] && [ "$t1" -le 700 ] && [ -n "$t2" ] && [ "$t2" -le 700 ] || rc=1
	return $rc
}
check "delivery interval: covers a CPU onlined after open, works with CPUs 1-3 offline" hp_delivery
