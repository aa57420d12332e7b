// SPDX-License-Identifier: GPL-2.0
/* The kernel's own relay (CONFIG_RELAY=y): the oracle. */
#include <linux/debugfs.h>
#include <linux/relay.h>
#include "diff.h"

static struct rchan *chan;
static bool overwrite_mode;

static int c_subbuf_start(struct rchan_buf *buf, void *subbuf, void *prev, size_t pad)
{
	return overwrite_mode || !relay_buf_full(buf);
}

static struct dentry *c_create(const char *name, struct dentry *parent, umode_t mode,
			       struct rchan_buf *buf, int *is_global)
{
	*is_global = 1;
	return debugfs_create_file("c0", mode, parent, buf, &relay_file_operations);
}

static int c_remove(struct dentry *d)
{
	debugfs_remove(d);
	return 0;
}

static const struct rchan_callbacks c_cb = {
	.subbuf_start = c_subbuf_start,
	.create_buf_file = c_create,
	.remove_buf_file = c_remove,
};

int diff_c_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs, bool overwrite)
{
	overwrite_mode = overwrite;
	chan = relay_open("c", dir, subbuf_size, n_subbufs, &c_cb, NULL);
	return chan ? 0 : -ENOMEM;
}

void diff_c_write(const void *data, size_t len)
{
	relay_write(chan, data, len);
}

void diff_c_flush(void)
{
	relay_flush(chan);
}

void diff_c_reset(void)
{
	relay_reset(chan);
}

void diff_c_close(void)
{
	relay_close(chan);
	chan = NULL;
}
