# SPDX-License-Identifier: GPL-2.0
# make demo: the sample logs records on every CPU; cat reads them back.
. /tests/lib.sh
insmod /modules/relay_rs.ko || exit 1
insmod /modules/relay_rs_sample.ko nr_records=2000 record_size=100 subbuf_size=65536 n_subbufs=8 || exit 1
echo "files: $(ls $D/relay_rs_sample | tr '\n' ' ')"
for f in $D/relay_rs_sample/cpu[0-9]*; do
	cat "$f" >"/tmp/$(basename "$f")"
done
echo "channel stats ($D/relay_rs_sample/cpu.stats):"
cat $D/relay_rs_sample/cpu.stats
relay-check --no-loss --summary $D/relay_rs_sample/summary /tmp/cpu[0-9]* && echo "RELAY_RS_DEMO ok" || echo "RELAY_RS_DEMO FAILED"
rmmod relay_rs_sample
rmmod relay_rs
