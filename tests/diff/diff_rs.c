// SPDX-License-Identifier: GPL-2.0
/* relay_rs, driven exactly like diff_c.c drives the kernel's relay. */
#include <linux/debugfs.h>
#include "../../include/relay_rs.h"
#include "diff.h"

static struct rchan *chan;
static bool overwrite_mode;

static int rs_subbuf_start(struct rchan_buf *buf, void *subbuf, void *prev, size_t pad)
{
	return overwrite_mode || !relay_buf_full(buf);
}

static struct dentry *rs_create(const char *name, struct dentry *parent, umode_t mode,
				struct rchan_buf *buf, int *is_global)
{
	*is_global = 1;
	return relay_rs_create_buf_file_default("rs0", parent, mode, buf, is_global);
}

static const struct rchan_callbacks rs_cb = {
	.subbuf_start = rs_subbuf_start,
	.create_buf_file = rs_create,
};

int diff_rs_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs, bool overwrite)
{
	overwrite_mode = overwrite;
	chan = relay_open("rs", dir, subbuf_size, n_subbufs, &rs_cb, NULL);
	return chan ? 0 : -ENOMEM;
}

void diff_rs_write(const void *data, size_t len)
{
	relay_write(chan, data, len);
}

void diff_rs_flush(void)
{
	relay_flush(chan);
}

void diff_rs_reset(void)
{
	relay_reset(chan);
}

void diff_rs_close(void)
{
	relay_close(chan);
	chan = NULL;
}
