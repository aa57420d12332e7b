# SPDX-License-Identifier: GPL-2.0
# The NMI stress run (tests/stress/relay_rs_nmi.c), sourced by hotplug.sh:
# lockless channels written on every CPU by nested task, softirq, hardirq
# and NMI writers, a reader of each kind, CPU hotplug cycling, then
# conservation (written = read + lost) and checksums per channel.

nmi_stress() {
	secs=$1
	T=$D/relay_rs_nmi
	insmod /modules/relay_rs_nmi.ko || return 1
	rm -rf /tmp/nmi
	pids=""
	for spec in a:read b:mmap c:splice g:read; do
		ch=${spec%%:*}
		mkdir -p /tmp/nmi/$ch
		relay-read $T nmi_$ch --mode ${spec#*:} --out /tmp/nmi/$ch --stats >/tmp/nmi/$ch.out 2>&1 &
		pids="$pids $!"
		wait_open $! $T/nmi_$ch
	done
	rc=0
	end=$(($(date +%s) + secs))
	i=0
	while [ "$(date +%s)" -lt $end ]; do
		c=$((i % 3 + 1))
		cpu_set $c 0 || { echo "offline $c failed"; rc=1; }
		sleep 0.3
		cpu_set $c 1 || { echo "online $c failed"; rc=1; }
		i=$((i + 1))
		sleep 0.3
	done
	echo "$i hotplug cycles in ${secs}s"
	echo stop >$T/ctl
	cp $T/summary /tmp/nmi/summary
	rmmod relay_rs_nmi	# closes the channels: the readers drain and exit
	for p in $pids; do
		wait $p || rc=1
	done
	nmis=$(sed -n 's/^nmis //p' /tmp/nmi/summary)
	echo "NMIs handled: $nmis"
	[ "${nmis:-0}" -gt 100 ] || { echo "too few NMIs"; rc=1; }
	awk '/^channel /{f="/tmp/nmi/sum_" $2; next} {print > f}' /tmp/nmi/summary
	for ch in a b c g; do
		echo "== nmi_$ch ($(head -1 /tmp/nmi/$ch.out | sed 's/.*(mode \(.*\))/\1/'))"
		tail -4 /tmp/nmi/$ch.out | grep total
		# The NMI handler wrote to the channel (source ids end in level 3).
		n3=$(awk '/^cpu / && ($2 % 4) == 3 {s += $4} END {print s + 0}' /tmp/nmi/sum_nmi_$ch)
		[ "$n3" -gt 0 ] || { echo "no NMI records in nmi_$ch"; rc=1; }
		relay-check --any-order --summary /tmp/nmi/sum_nmi_$ch /tmp/nmi/$ch/nmi_${ch}[0-9]* >/tmp/nmi/check 2>&1 || { cat /tmp/nmi/check; rc=1; }
		tail -2 /tmp/nmi/check
		echo "relay_rs_nmi: nmi_$ch $(tail -1 /tmp/nmi/check)" >/dev/kmsg
	done
	echo "relay_rs_nmi: $nmis NMIs handled, $i hotplug cycles" >/dev/kmsg
	return $rc
}

NMI_SECONDS=$(sed -n 's/.*nmi=\([0-9]*\).*/\1/p' /proc/cmdline)
check "lockless channels: nested task/softirq/hardirq/NMI writers on every CPU, read/mmap/splice readers, hotplug, conservation and checksums (${NMI_SECONDS:-20}s)" nmi_stress ${NMI_SECONDS:-20}
