// SPDX-License-Identifier: GPL-2.0
/* The kernel's own relay (CONFIG_RELAY=y): the oracle, file "c0". */
#include <linux/debugfs.h>
#include <linux/relay.h>

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

#define DIFF(name)	diff_c_##name
#define DIFF_CREATE	c_create
#define DIFF_REMOVE	c_remove
#include "diff_ops.h"
