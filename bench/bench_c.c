// SPDX-License-Identifier: GPL-2.0
/* The kernel's relay, with its inline fast paths, as its C users get it. */
#include <linux/debugfs.h>
#include <linux/relay.h>
#include "bench.h"

/* Overwrite mode: nobody reads, every switch succeeds. */
static int overwrite(BENCH_SUBBUF_START_PARAMS)
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

static const struct rchan_callbacks c_cb = {
	.subbuf_start = overwrite,
	.create_buf_file = create,
	.remove_buf_file = remove,
};

#define BENCH(name)	bench_c_##name
#define BENCH_NAME	"bc"
#define BENCH_CB	c_cb
#define R_OPEN		relay_open
#define R_WRITE		relay_write
#define R___WRITE	__relay_write
#define R_RESERVE	relay_reserve
#define R_FLUSH		relay_flush
#define R_BUF_FULL	relay_buf_full
#define R_CLOSE		relay_close
#define BENCH_FILE_CBS	.create_buf_file = create, .remove_buf_file = remove,
#include "bench_loop.h"
