/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark's side of one relay implementation, written once: bench_c.c
 * and bench_rs.c include it after defining BENCH(name) (their function
 * prefix), the relay functions to call (R_OPEN, R_WRITE, R___WRITE,
 * R_RESERVE, R_FLUSH, R_BUF_FULL, R_CLOSE), their callbacks BENCH_CB and
 * the file callbacks BENCH_FILE_CBS. The two relay headers cannot be
 * included in one file, hence two files around the same code.
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

#include "bench_paths.h"

void BENCH(loop)(enum bench_path path, const void *rec, size_t len, unsigned int count)
{
	BENCH(paths)(path, rec, len, count);
}

void BENCH(close)(void)
{
	R_CLOSE(chan);
}

/* Readers' channel: no-overwrite, every refused record counted as lost. */
static struct rchan *rd_chan;
static DEFINE_PER_CPU(unsigned long, rd_lost);	/* bench_pcpu_sum() */
static bool rd_flushing;

static int rd_subbuf_start(BENCH_SUBBUF_START_PARAMS)
{
	if (R_BUF_FULL(buf)) {
		/* A refused flush loses nothing: it has no record. */
		if (!READ_ONCE(rd_flushing))
			this_cpu_inc(rd_lost);
		return 0;
	}
	return 1;
}

static const struct rchan_callbacks rd_cb = {
	.subbuf_start = rd_subbuf_start,
	BENCH_FILE_CBS
};

static int rd_open(struct dentry *dir, const char *name, size_t subbuf_size, size_t n_subbufs)
{
	bench_pcpu_zero(&rd_lost);
	rd_chan = R_OPEN(name, dir, subbuf_size, n_subbufs, &rd_cb, NULL);
	return rd_chan ? 0 : -ENOMEM;
}

static void rd_write(const void *rec, size_t len)
{
	R_WRITE(rd_chan, rec, len);
}

/* Called once no writer runs. */
static void rd_flush(void)
{
	WRITE_ONCE(rd_flushing, true);
	R_FLUSH(rd_chan);
	WRITE_ONCE(rd_flushing, false);
}

static void rd_close(void)
{
	R_CLOSE(rd_chan);
	rd_chan = NULL;
}

static unsigned long rd_lost_count(void)
{
	return bench_pcpu_sum(&rd_lost);
}

const struct bench_rd_ops BENCH(rd) = {
	.open = rd_open,
	.write = rd_write,
	.flush = rd_flush,
	.close = rd_close,
	.lost = rd_lost_count,
};
