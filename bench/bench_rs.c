// SPDX-License-Identifier: GPL-2.0
/* relay_rs, called from C through its public header. */
#include <linux/debugfs.h>
#include "../include/relay_rs.h"
#include "bench.h"

/* Overwrite mode: nobody reads, every switch succeeds. */
static int overwrite(BENCH_SUBBUF_START_PARAMS)
{
	return 1;
}

/* relay_rs' default files (debugfs, relay_rs_file_operations). */
static const struct rchan_callbacks rs_cb = {
	.subbuf_start = overwrite,
};

#define BENCH(name)	bench_rs_##name
#define BENCH_NAME	"brs"
#define BENCH_CB	rs_cb
#define R_OPEN		relay_rs_open
#define R_WRITE		relay_rs_write
#define R___WRITE	__relay_rs_write
#define R_RESERVE	relay_rs_reserve
#define R_FLUSH		relay_rs_flush
#define R_BUF_FULL	relay_rs_buf_full
#define R_CLOSE		relay_rs_close
#define BENCH_FILE_CBS
#include "bench_loop.h"
