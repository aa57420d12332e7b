// SPDX-License-Identifier: GPL-2.0
/* The kernel's relay, with its inline fast paths, as its C users get it. */
#include <linux/preempt.h>
#include <linux/irqflags.h>
#include <linux/string.h>
#include <linux/debugfs.h>
#include <linux/relay.h>
#include "bench.h"

static struct rchan *chan;

/* Overwrite mode: nobody reads, every switch succeeds. */
static int overwrite(struct rchan_buf *buf, void *subbuf, void *prev, size_t pad)
{
	return 1;
}

static struct dentry *create(const char *name, struct dentry *parent, umode_t mode,
			     struct rchan_buf *buf, int *is_global)
{
	return debugfs_create_file(name, mode, parent, buf, &relay_file_operations);
}

static int remove(struct dentry *d)
{
	debugfs_remove(d);
	return 0;
}

static const struct rchan_callbacks cb = {
	.subbuf_start = overwrite,
	.create_buf_file = create,
	.remove_buf_file = remove,
};

int bench_c_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs)
{
	chan = relay_open("bc", dir, subbuf_size, n_subbufs, &cb, NULL);
	return chan ? 0 : -ENOMEM;
}

void bench_c_loop(enum bench_path path, const void *rec, size_t len, unsigned int count)
{
	unsigned long flags;
	unsigned int i;
	void *slot;

	switch (path) {
	case PATH_WRITE:
		for (i = 0; i < count; i++)
			relay_write(chan, rec, len);
		break;
	case PATH_UNLOCKED:
		preempt_disable();
		for (i = 0; i < count; i++)
			__relay_write(chan, rec, len);
		preempt_enable();
		break;
	default:
		for (i = 0; i < count; i++) {
			local_irq_save(flags);
			slot = relay_reserve(chan, len);
			if (slot)
				memcpy(slot, rec, len);
			local_irq_restore(flags);
		}
		break;
	}
}

void bench_c_close(void)
{
	relay_close(chan);
}
