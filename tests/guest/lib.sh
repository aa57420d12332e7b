# SPDX-License-Identifier: GPL-2.0
# Helpers for guest scripts: each check prints one RELAY_RS_CHECK line.

D=/sys/kernel/debug

# check NAME CMD...: runs CMD, reports ok/not ok with its output on failure.
check() {
	name=$1
	shift
	if "$@" >/tmp/check.out 2>&1; then
		echo "RELAY_RS_CHECK ok $name"
		grep -qw verbose /proc/cmdline && sed 's/^/    /' /tmp/check.out
	else
		echo "RELAY_RS_CHECK not ok $name"
		sed 's/^/    /' /tmp/check.out
	fi
}

# read_all DIR BASE: cats every per-CPU file DIR/BASE<n> to /tmp/BASE<n>.
read_all() {
	for f in "$1/$2"[0-9]*; do
		cat "$f" >"/tmp/$(basename "$f")" || return 1
	done
}

# drained STATS: waits (up to a minute) until the channel's stats file shows
# every buffer consumed up to what was produced.
drained() {
	n=0
	while awk 'NR > 1 && $1 ~ /^[0-9]+$/ && $2 != $3 { busy = 1 } END { exit !busy }' "$1"; do
		sleep 0.2
		n=$((n + 1))
		[ $n -lt 300 ] || { echo "consumers did not drain"; cat "$1"; return 1; }
	done
}

# writers_done SUMMARY: waits (up to a minute) until the sample's live
# writers on every CPU have finished.
writers_done() {
	ncpu=$(grep -c ^processor /proc/cpuinfo)
	n=0
	until grep -q "^done $ncpu$" "$1"; do
		sleep 0.2
		n=$((n + 1))
		[ $n -lt 300 ] || { echo "writers did not finish"; break; }
	done
}

# wait_open PID DIR: waits (at most 30 s) until process PID holds a file
# of DIR open, so that a channel closed after it is still read to the end.
wait_open() {
	i=0
	while [ $i -lt 300 ]; do
		ls -l /proc/$1/fd 2>/dev/null | grep -q "$2" && return 0
		kill -0 $1 2>/dev/null || return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "wait_open: $1 opened nothing in $2"
	return 1
}
