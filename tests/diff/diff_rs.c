// SPDX-License-Identifier: GPL-2.0
/* relay_rs, driven exactly like the kernel's relay: file "rs0". */
#include <linux/debugfs.h>
#include "../../include/relay_rs.h"

static struct dentry *rs_create(const char *name, struct dentry *parent, umode_t mode,
				struct rchan_buf *buf, int *is_global)
{
	*is_global = 1;
	return relay_rs_create_buf_file_default("rs0", parent, mode, buf, is_global);
}

/* NULL: relay_rs removes its default files itself. */
#define DIFF(name)	diff_rs_##name
#define DIFF_CREATE	rs_create
#define DIFF_REMOVE	NULL
#include "diff_ops.h"
