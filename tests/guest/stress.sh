# SPDX-License-Identifier: GPL-2.0
# The stress run (tests/stress/relay_rs_stress.c), sourced by test.sh:
# writers in every context, a reader of each kind, CPU hotplug cycling and
# rmmod attempts, then conservation and checksums per channel.

stress() {
	secs=$1
	T=$D/relay_rs_stress
	insmod /modules/relay_rs_stress.ko || return 1
	rm -rf /tmp/st
	pids=""
	for spec in a:read b:mmap c:splice g:read r:read; do
		ch=${spec%%:*}
		mkdir -p /tmp/st/$ch
		relay-read $T st_$ch --mode ${spec#*:} --out /tmp/st/$ch --stats >/tmp/st/$ch.out 2>&1 &
		pids="$pids $!"
	done
	rc=0
	end=$(($(date +%s) + secs))
	i=0
	while [ "$(date +%s)" -lt $end ]; do
		c=$((i % 3 + 1))
		cpu_set $c 0 || { echo "offline $c failed"; rc=1; }
		cpu_set $c 1 || { echo "online $c failed"; rc=1; }
		rmmod relay_rs 2>/dev/null && { echo "relay_rs unloaded while in use"; rc=1; }
		i=$((i + 1))
		sleep 0.2
	done
	echo "$i hotplug cycles in ${secs}s"
	echo stop >$T/ctl
	cp $T/summary /tmp/st/summary
	rmmod relay_rs_stress	# closes the channels: the readers drain and exit
	for p in $pids; do
		wait $p || rc=1
	done
	# One summary per channel.
	awk '/^channel /{f="/tmp/st/sum_" $2; next} {print > f}' /tmp/st/summary
	for ch in a b c g; do
		echo "== st_$ch ($(head -1 /tmp/st/$ch.out | sed 's/.*(mode \(.*\))/\1/'))"
		tail -4 /tmp/st/$ch.out | grep total
		relay-check --any-order --summary /tmp/st/sum_st_$ch /tmp/st/$ch/st_${ch}[0-9]* >/tmp/st/check 2>&1 || { cat /tmp/st/check; rc=1; }
		tail -2 /tmp/st/check
	done
	# Reset discards unread records by design: integrity only.
	# A reset discards unread data by design, also the rest of a record a
	# reader is in the middle of: at most one torn record per reset.
	resets=$(sed -n 's/^resets //p' /tmp/st/summary)
	echo "== st_r (reset from another CPU every 50 ms: $resets resets)"
	relay-check --any-order --max-torn "$resets" /tmp/st/r/st_r0 >/tmp/st/check 2>&1 || { cat /tmp/st/check; rc=1; }
	tail -2 /tmp/st/check
	return $rc
}

STRESS_SECONDS=$(sed -n 's/.*stress=\([0-9]*\).*/\1/p' /proc/cmdline)
check "stress ${STRESS_SECONDS:-120}s: all contexts, read/mmap/splice readers, flush, reset, churn, hotplug" stress ${STRESS_SECONDS:-120}
