// SPDX-License-Identifier: GPL-2.0
/* relay_rs, called from C through its public header. */
#include <linux/preempt.h>
#include <linux/irqflags.h>
#include <linux/string.h>
#include <linux/debugfs.h>
#include "../include/relay_rs.h"
#include "bench.h"

static struct rchan *chan;

/* Overwrite mode: nobody reads, every switch succeeds. */
static int overwrite(struct rchan_buf *buf, void *subbuf, void *prev, size_t pad)
{
	return 1;
}

/* relay_rs' default files (debugfs, relay_rs_file_operations). */
static const struct rchan_callbacks cb = {
	.subbuf_start = overwrite,
};

int bench_rs_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs)
{
	chan = relay_rs_open("brs", dir, subbuf_size, n_subbufs, &cb, NULL);
	return chan ? 0 : -ENOMEM;
}

void bench_rs_loop(enum bench_path path, const void *rec, size_t len, unsigned int count)
{
	unsigned long flags;
	unsigned int i;
	void *slot;

	switch (path) {
	case PATH_WRITE:
		for (i = 0; i < count; i++)
			relay_rs_write(chan, rec, len);
		break;
	case PATH_UNLOCKED:
		preempt_disable();
		for (i = 0; i < count; i++)
			__relay_rs_write(chan, rec, len);
		preempt_enable();
		break;
	default:
		for (i = 0; i < count; i++) {
			local_irq_save(flags);
			slot = relay_rs_reserve(chan, len);
			if (slot)
				memcpy(slot, rec, len);
			local_irq_restore(flags);
		}
		break;
	}
}

void bench_rs_close(void)
{
	relay_rs_close(chan);
}
