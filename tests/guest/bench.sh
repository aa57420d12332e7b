# SPDX-License-Identifier: GPL-2.0
# make bench, guest side: the write paths, then the readers; results as CSV
# between markers for bench/report.py.
D=/sys/kernel/debug
B=$D/relay_rs_bench
insmod /modules/relay_rs.ko || exit 1
insmod /modules/relay_rs_bench.ko || exit 1
echo run >$B/ctl || exit 1
echo RELAY_RS_BENCH_BEGIN
cat $B/results
echo RELAY_RS_BENCH_END

# Readers: impl,phase,mode,bufsize,bytes,secs,cpu,attempted,lost,record
# (secs: from the first data to the last; cpu: the reader process's CPU time)
# The reader (a thread per file) runs on CPU 0. "drain": four full buffers
# (4 MiB x 16 each), read out; "live": a writer on each of CPUs 1-3 for 3 s
# while the reader runs, so that the writers outrun a reader that copies
# and the reader sets the pace.
# Interleaved rounds: nine drains (they take a tenth of a second each, so
# they vary more), five live runs.
# C relay: read() only (its debugfs files have neither mmap nor splice);
# relay_rs: read, mmap and splice. ftrace's ring buffer (where the module
# has it: rd_consume): no file, read in the kernel by the module
# ("consume": ring_buffer_consume() per event, each copied into a buffer of
# bufsize), on CPU 0 as well.
reader() { # impl phase mode bufsize
	if [ "$1" = ft ]; then
		if [ "$2" = drain ]; then
			echo "fill ft" >$B/ctl || return 1
		else
			echo "live ft 3000" >$B/ctl || return 1
			echo go >$B/ctl
		fi
		echo "consume $4" >$B/ctl || return 1
		cat $B/rd_consume >/tmp/rd.out
	elif [ "$2" = drain ]; then
		echo "fill $1" >$B/ctl || return 1
		taskset 1 /bin/relay-read $B rd --mode "$3" --bufsize "$4" --idle-exit 500 --bench \
			>/tmp/rd.out 2>/dev/null
	else
		# The writers start once every reader thread is up (one per file,
		# and the main thread); the readers time from their first data.
		echo "live $1 3000" >$B/ctl || return 1
		taskset 1 /bin/relay-read $B rd --mode "$3" --bufsize "$4" --idle-exit 500 \
			--bench >/tmp/rd.out 2>/dev/null &
		pid=$!
		files=$(ls -d $B/rd[0-9]* | wc -l)
		while [ -d /proc/$pid ] && [ "$(ls /proc/$pid/task | wc -l)" -le "$files" ]; do
			usleep 1000
		done
		echo go >$B/ctl
		wait $pid
	fi
	out=$(grep '^BENCH ' /tmp/rd.out)
	echo close >$B/ctl
	# shellcheck disable=SC2086
	set -- "$1" "$2" "$3" "$4" $(echo "$out" | sed 's/BENCH //; s/[a-z]*=//g') \
		$(sed 's/[a-z]*=//g' $B/rd_stats)
	echo "RDBENCH $1,$2,$3,$4,$5,$6,$7,$8,$9,${10}"
}
echo RELAY_RS_READ_BEGIN
for phase in drain live; do
	reps="1 2 3 4 5"
	[ $phase = drain ] && reps="1 2 3 4 5 6 7 8 9"
	for rep in $reps; do
		for bs in 65536 1048576; do
			reader c $phase read $bs
			reader rs $phase read $bs
		done
		reader rs $phase mmap 1048576
		reader rs $phase splice 1048576
		[ -e $B/rd_consume ] && reader ft $phase consume 65536
	done
done
echo RELAY_RS_READ_END
rmmod relay_rs_bench
rmmod relay_rs
