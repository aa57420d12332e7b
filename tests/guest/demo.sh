# SPDX-License-Identifier: GPL-2.0
# make demo. Part 1: the sample logs records on every CPU; cat reads them
# back. Part 2: live writers on every CPU, relay-read consumes with splice.
. /tests/lib.sh
insmod /modules/relay_rs.ko || exit 1
S=$D/relay_rs_sample

echo "=== 1. records from every CPU, read back with cat ==="
insmod /modules/relay_rs_sample.ko nr_records=2000 record_size=100 subbuf_size=65536 n_subbufs=8 || exit 1
echo "files: $(ls $S | tr '\n' ' ')"
for f in $S/cpu[0-9]*; do
	cat "$f" >"/tmp/$(basename "$f")"
done
echo "channel stats ($S/cpu.stats):"
cat $S/cpu.stats
relay-check --no-loss --summary $S/summary /tmp/cpu[0-9]* && echo "RELAY_RS_DEMO ok" || echo "RELAY_RS_DEMO FAILED"
rmmod relay_rs_sample

echo "=== 2. live writers on every CPU, relay-read --mode splice (zero copy) ==="
insmod /modules/relay_rs_sample.ko live=1 nr_records=20000 record_size=200 subbuf_size=65536 n_subbufs=16 || exit 1
mkdir -p /tmp/live
relay-read $S cpu --mode splice --out /tmp/live --stats >/tmp/live.out 2>&1 &
p=$!
ncpu=$(grep -c ^processor /proc/cpuinfo)
until grep -q "^done $ncpu$" $S/summary; do sleep 0.2; done
echo flush >$S/ctl
cp $S/summary /tmp/lsum
rmmod relay_rs_sample	# close: relay-read drains what is left, sees the hang-up, exits
wait $p
cat /tmp/live.out
relay-check --summary /tmp/lsum /tmp/live/cpu[0-9]* && echo "RELAY_RS_DEMO_LIVE ok" || echo "RELAY_RS_DEMO_LIVE FAILED"
rmmod relay_rs
