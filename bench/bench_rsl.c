// SPDX-License-Identifier: GPL-2.0
/*
 * relay_rs' lockless channels (RELAY_RS_LOCKLESS), called from C through
 * its public header: the same write paths as bench_rs.c. A lockless channel
 * never overwrites, and the benchmark has no reader, so the loop hands the
 * sub-buffers it filled back (relay_rs_subbufs_consumed(), what an mmap
 * consumer does) every few sub-buffers' worth of records: the writes are
 * timed with that hand-back in (bench/README.md), none is dropped.
 */
#include <linux/smp.h>
#include "../include/relay_rs.h"
#include "bench.h"

static struct rchan *chan;
static size_t ss, nsub;

int bench_rsl_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs)
{
	ss = subbuf_size;
	nsub = n_subbufs;
	/* Buffer-only: no reader, no file. */
	chan = relay_rs_open_flags(NULL, NULL, subbuf_size, n_subbufs, NULL, NULL,
				   RELAY_RS_LOCKLESS);
	return chan ? 0 : -ENOMEM;
}

#define BENCH(name)	bench_rsl_##name
#define R_WRITE		relay_rs_write
#define R___WRITE	__relay_rs_write
#define R_RESERVE	relay_rs_reserve
#include "bench_paths.h"

void bench_rsl_loop(enum bench_path path, const void *rec, size_t len, unsigned int count)
{
	/* Records that fill n - 2 sub-buffers: never a full buffer. */
	unsigned int cap = max_t(size_t, 1, (nsub > 2 ? nsub - 2 : 1) * (ss / len));
	unsigned int n;

	while (count) {
		n = min(count, cap);
		bench_rsl_paths(path, rec, len, n);
		count -= n;
		relay_rs_subbufs_consumed(chan, raw_smp_processor_id(), nsub);
	}
}

void bench_rsl_close(void)
{
	size_t lost = relay_rs_stats(chan, RELAY_RS_STATS_BUF_FULL);

	if (lost)
		pr_warn("relay_rs_bench: lockless peer dropped %zu records\n", lost);
	relay_rs_close(chan);
}
