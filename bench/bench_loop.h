/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark's side of one relay implementation, written once: bench_c.c
 * and bench_rs.c include it after defining BENCH(name) (their function
 * prefix), the relay functions to call (R_OPEN, R_WRITE, R___WRITE,
 * R_RESERVE, R_CLOSE) and their callbacks BENCH_CB. The two relay headers
 * cannot be included in one file, hence two files around the same code.
 */
#include <linux/preempt.h>
#include <linux/irqflags.h>
#include <linux/string.h>
#include "bench.h"

static struct rchan *chan;

int BENCH(open)(struct dentry *dir, size_t subbuf_size, size_t n_subbufs)
{
	chan = R_OPEN(BENCH_NAME, dir, subbuf_size, n_subbufs, &BENCH_CB, NULL);
	return chan ? 0 : -ENOMEM;
}

void BENCH(loop)(enum bench_path path, const void *rec, size_t len, unsigned int count)
{
	unsigned long flags;
	unsigned int i;
	void *slot;

	switch (path) {
	case PATH_WRITE:
		for (i = 0; i < count; i++)
			R_WRITE(chan, rec, len);
		break;
	case PATH_UNLOCKED:
		preempt_disable();
		for (i = 0; i < count; i++)
			R___WRITE(chan, rec, len);
		preempt_enable();
		break;
	default:
		for (i = 0; i < count; i++) {
			local_irq_save(flags);
			slot = R_RESERVE(chan, len);
			if (slot)
				memcpy(slot, rec, len);
			local_irq_restore(flags);
		}
		break;
	}
}

void BENCH(close)(void)
{
	R_CLOSE(chan);
}
