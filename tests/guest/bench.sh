# SPDX-License-Identifier: GPL-2.0
# make bench, guest side: the write-path benchmark, results as CSV.
D=/sys/kernel/debug
insmod /modules/relay_rs.ko || exit 1
insmod /modules/relay_rs_bench.ko || exit 1
echo run >$D/relay_rs_bench/ctl || exit 1
echo RELAY_RS_BENCH_BEGIN
cat $D/relay_rs_bench/results
echo RELAY_RS_BENCH_END
rmmod relay_rs_bench
rmmod relay_rs
