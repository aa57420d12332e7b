/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One side of the differential test, written once with the kernel's relay
 * names (7.3's or 6.12's, which LINUX_VERSION_CODE tells apart):
 * diff_c.c includes it after <linux/relay.h>, diff_rs.c after relay_rs.h
 * (which maps those names onto relay_rs). Each defines DIFF(name) (its
 * function prefix) and the file callbacks DIFF_CREATE and DIFF_REMOVE.
 */
#include <linux/version.h>
#include "diff.h"

#define DIFF_RELAY_7_3 (KERNEL_VERSION(7, 3, 0) <= LINUX_VERSION_CODE)

static struct rchan *chan;
static bool overwrite_mode;

#if DIFF_RELAY_7_3
static int diff_subbuf_start(struct rchan_buf *buf, void *subbuf, void *prev)
#else
static int diff_subbuf_start(struct rchan_buf *buf, void *subbuf, void *prev, size_t pad)
#endif
{
	return overwrite_mode || !relay_buf_full(buf);
}

static const struct rchan_callbacks diff_cb = {
	.subbuf_start = diff_subbuf_start,
	.create_buf_file = DIFF_CREATE,
	.remove_buf_file = DIFF_REMOVE,
};

int DIFF(open)(struct dentry *dir, size_t subbuf_size, size_t n_subbufs, bool overwrite)
{
	overwrite_mode = overwrite;
	chan = relay_open("d", dir, subbuf_size, n_subbufs, &diff_cb, NULL);
	return chan ? 0 : -ENOMEM;
}

void DIFF(write)(const void *data, size_t len)
{
	relay_write(chan, data, len);
}

void DIFF(flush)(void)
{
	relay_flush(chan);
}

void DIFF(reset)(void)
{
	relay_reset(chan);
}

struct diff_counts DIFF(counts)(void)
{
	struct diff_counts c = {};
#if DIFF_RELAY_7_3
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		struct rchan_buf *buf = *per_cpu_ptr(chan->buf, cpu);

		if (buf) {
			c.full_count += buf->stats.full_count;
			c.big_count += buf->stats.big_count;
		}
	}
#else
	c.last_toobig = chan->last_toobig;
#endif
	return c;
}

void DIFF(close)(void)
{
	relay_close(chan);
	chan = NULL;
}
