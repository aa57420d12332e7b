// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite relay_rs_c: relay_rs seen from another C module, through
 * nothing but the public header, as any client would use it. It is written
 * against the kernel's <linux/relay.h> names (relay_open(), relay_write(),
 * ...), 7.3's or 6.12's: switching a client to relay_rs changes its include
 * line only.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/slab.h>
#include <linux/fs.h>
#include <linux/panic.h>

#include "../include/relay_rs.h"

static struct dentry *create_global(const char *filename, struct dentry *parent,
				    umode_t mode, struct rchan_buf *buf,
				    int *is_global)
{
	*is_global = 1;
	if (!filename)
		return NULL;
	return debugfs_create_file_unsafe(filename, mode, parent, buf,
					  &relay_file_operations);
}

static atomic_t removed = ATOMIC_INIT(0);

static int remove_file(struct dentry *dentry)
{
	atomic_inc(&removed);
	debugfs_remove(dentry);
	return 0;
}

static atomic_t dropped = ATOMIC_INIT(0);

/* blktrace style: count drops in subbuf_start, refuse when full. */
#if RELAY_RS_RELAY_H_7_3
static int count_drops(struct rchan_buf *buf, void *subbuf, void *prev_subbuf)
#else
static int count_drops(struct rchan_buf *buf, void *subbuf, void *prev_subbuf,
		       size_t prev_padding)
#endif
{
	if (!relay_buf_full(buf))
		return 1;
	atomic_inc(&dropped);
	return 0;
}

#if RELAY_RS_RELAY_H_7_3
/* 7.3's loss counters of every buffer, summed as a client would. */
static struct rchan_buf_stats sum_stats(struct rchan *chan)
{
	struct rchan_buf_stats sum = {};
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		struct rchan_buf *buf = *per_cpu_ptr(chan->buf, cpu);

		if (!buf)
			continue;
		sum.full_count += buf->stats.full_count;
		sum.big_count += buf->stats.big_count;
	}
	return sum;
}
#endif

static const struct rchan_callbacks global_cb = {
	.create_buf_file = create_global,
	.remove_buf_file = remove_file,
};

static const struct rchan_callbacks blk_cb = {
	.subbuf_start = count_drops,
};

static void open_validates_arguments(struct kunit *test)
{
	KUNIT_EXPECT_NULL(test, relay_open("x", NULL, 0, 4, NULL, NULL));
	KUNIT_EXPECT_NULL(test, relay_open("x", NULL, 4096, 0, NULL, NULL));
	KUNIT_EXPECT_NULL(test, relay_open("x", NULL, SIZE_MAX / 2, 4, NULL, NULL));
	KUNIT_EXPECT_NULL(test, relay_open("x", NULL, 1, SIZE_MAX / 8, NULL, NULL));
}

/* What a NULL-channel call could disturb: an open channel's buffer. */
struct snap {
	size_t offset, produced, consumed, records, lost;
};

static struct snap snap_of(struct rchan *chan)
{
	struct rchan_buf *buf = *per_cpu_ptr(chan->buf, 0);

	return (struct snap) {
		.offset = buf->offset,
		.produced = buf->subbufs_produced,
		.consumed = buf->subbufs_consumed,
		.records = buf->records,
		.lost = relay_rs_stats(chan, RELAY_RS_STATS_BUF_FULL |
				       RELAY_RS_STATS_WRT_BIG),
	};
}

/*
 * The channel is as @before, and no warning was issued by the call (unless
 * the kernel had warned already, which this cannot tell apart).
 */
static void expect_unchanged(struct kunit *test, struct rchan *chan,
			     const struct snap *before, bool warned,
			     const char *call)
{
	struct snap now = snap_of(chan);

	KUNIT_EXPECT_EQ_MSG(test, now.offset, before->offset, "after %s", call);
	KUNIT_EXPECT_EQ_MSG(test, now.produced, before->produced, "after %s", call);
	KUNIT_EXPECT_EQ_MSG(test, now.consumed, before->consumed, "after %s", call);
	KUNIT_EXPECT_EQ_MSG(test, now.records, before->records, "after %s", call);
	KUNIT_EXPECT_EQ_MSG(test, now.lost, before->lost, "after %s", call);
	if (!warned)
		KUNIT_EXPECT_FALSE_MSG(test, test_taint(TAINT_WARN), "after %s", call);
}

/* Makes @call and expects that it left @chan as it was and did not warn. */
#define EXPECT_NO_EFFECT(test, chan, call)				\
	do {								\
		struct snap __before = snap_of(chan);			\
		bool __warned = test_taint(TAINT_WARN);			\
									\
		call;							\
		expect_unchanged(test, chan, &__before, __warned, #call); \
	} while (0)

/*
 * A NULL channel is ignored, as in 6.12: no crash, no warning, an error or
 * 0 where there is a result, and an open channel (the last one opened, with
 * data, a produced and a lost record) left as it was by each call.
 */
static void null_channel_is_ignored(struct kunit *test)
{
	struct rchan *chan;
	struct snap start;
	char rec[65];

	if (test_taint(TAINT_WARN))
		kunit_info(test, "kernel already warned: no-warning checks skipped");
	chan = relay_open(NULL, NULL, 64, 4, &global_cb, NULL);
	KUNIT_ASSERT_NOT_NULL(test, chan);
	memset(rec, 0x5a, sizeof(rec));
	relay_write(chan, rec, 16);
	relay_flush(chan);
	relay_write(chan, rec, 16);
	relay_write(chan, rec, sizeof(rec));	/* too big: counted */
	start = snap_of(chan);
	KUNIT_ASSERT_EQ(test, start.offset, 16);
	KUNIT_ASSERT_EQ(test, start.produced, 1);
	KUNIT_ASSERT_EQ(test, start.consumed, 0);
	KUNIT_ASSERT_EQ(test, start.records, 2);
	KUNIT_ASSERT_EQ(test, start.lost, 1);

	EXPECT_NO_EFFECT(test, chan, relay_close(NULL));
	EXPECT_NO_EFFECT(test, chan, relay_flush(NULL));
	EXPECT_NO_EFFECT(test, chan, relay_subbufs_consumed(NULL, 0, 1));
	EXPECT_NO_EFFECT(test, chan,
			 KUNIT_EXPECT_EQ(test, relay_rs_stats(NULL, RELAY_RS_STATS_BUF_FULL |
							      RELAY_RS_STATS_WRT_BIG |
							      RELAY_RS_STATS_OVERWRITTEN), 0));
	EXPECT_NO_EFFECT(test, chan,
			 KUNIT_EXPECT_EQ(test, relay_rs_late_setup_files(NULL, "x", NULL), -EINVAL));
	/* Last: a reset of the open channel would hide what the others did. */
	EXPECT_NO_EFFECT(test, chan, relay_reset(NULL));
	relay_close(chan);
}

/* i915/mt76 style: global, no-overwrite, reserve+fill under a spinlock. */
static void global_reserve_under_spinlock(struct kunit *test)
{
	struct dentry *dir = debugfs_create_dir("relay_rs_kunit_c", NULL);
	static DEFINE_SPINLOCK(lock);
	struct rchan_buf *buf;
	struct rchan *chan;
	unsigned long flags;
	unsigned int cpu;
	int i, got = 0;
	void *slot;

	chan = relay_open("glog", dir, 256, 4, &global_cb, test);
	KUNIT_ASSERT_NOT_NULL(test, chan);
	KUNIT_EXPECT_EQ(test, chan->is_global, 1);
	KUNIT_EXPECT_PTR_EQ(test, chan->private_data, (void *)test);
	/* ath9k reads the per-CPU pointers directly: all are the global buffer. */
	buf = *per_cpu_ptr(chan->buf, 0);
	for_each_online_cpu(cpu)
		KUNIT_EXPECT_PTR_EQ(test, *per_cpu_ptr(chan->buf, cpu), buf);
	KUNIT_EXPECT_NOT_NULL(test, buf->dentry);

	for (i = 0; i < 20; i++) {
		spin_lock_irqsave(&lock, flags);
		slot = relay_reserve(chan, 100);
		if (slot) {
			memset(slot, i, 100);
			got++;
		}
		relay_flush(chan);
		spin_unlock_irqrestore(&lock, flags);
	}
	/* One 100-byte record per flushed sub-buffer: 4 fit, the rest refused. */
	KUNIT_EXPECT_EQ(test, got, 4);
	KUNIT_EXPECT_EQ(test, relay_rs_stats(chan, RELAY_RS_STATS_BUF_FULL), 16);
	KUNIT_EXPECT_NULL(test, relay_reserve(chan, 0));
	KUNIT_EXPECT_EQ(test, relay_buf_full(buf), 1);
	KUNIT_EXPECT_EQ(test, (int)d_inode(buf->dentry)->i_size, 400);

	relay_subbufs_consumed(chan, 0, 4);
	KUNIT_EXPECT_EQ(test, relay_buf_full(buf), 0);
	KUNIT_EXPECT_NOT_NULL(test, relay_reserve(chan, 0));
	/* A direct switch: the length fits the fresh sub-buffer. */
	spin_lock_irqsave(&lock, flags);
	KUNIT_EXPECT_EQ(test, relay_switch_subbuf(buf, 10), 10);
	KUNIT_EXPECT_EQ(test, relay_switch_subbuf(buf, 257), 0);
	spin_unlock_irqrestore(&lock, flags);

	atomic_set(&removed, 0);
	relay_close(chan);
	/* One global buffer, one file, removed by the client's callback. */
	KUNIT_EXPECT_EQ(test, atomic_read(&removed), 1);
	debugfs_remove(dir);
}

/* blktrace style: per-CPU buffers, drops counted in subbuf_start. */
static void percpu_drop_counting(struct kunit *test)
{
	char rec[64];
	struct rchan *chan;
	int i;

	atomic_set(&dropped, 0);
	chan = relay_open(NULL, NULL, 128, 2, &blk_cb, NULL);
	KUNIT_ASSERT_NOT_NULL(test, chan);
	KUNIT_EXPECT_EQ(test, chan->is_global, 0);
	memset(rec, 0xab, sizeof(rec));
	preempt_disable();
	for (i = 0; i < 10; i++)
		__relay_write(chan, rec, sizeof(rec));
	preempt_enable();
	/* 2 sub-buffers of 2 records: 4 written, 6 refused. */
	KUNIT_EXPECT_EQ(test, atomic_read(&dropped), 6);
	KUNIT_EXPECT_EQ(test, relay_rs_stats(chan, RELAY_RS_STATS_BUF_FULL), 6);
	relay_write(chan, rec, 129);
	KUNIT_EXPECT_EQ(test, relay_rs_stats(chan, RELAY_RS_STATS_WRT_BIG), 1);
#if RELAY_RS_RELAY_H_7_3
	/* What 7.3's relay keeps in the buffers, and its relay_stats(). */
	KUNIT_EXPECT_EQ(test, sum_stats(chan).full_count, 6);
	KUNIT_EXPECT_EQ(test, sum_stats(chan).big_count, 1);
	KUNIT_EXPECT_EQ(test, relay_stats(chan, RELAY_STATS_BUF_FULL), 6);
	KUNIT_EXPECT_EQ(test, relay_stats(chan, RELAY_STATS_WRT_BIG), 1);
#else
	KUNIT_EXPECT_EQ(test, chan->last_toobig, 129);
#endif
	relay_reset(chan);
	KUNIT_EXPECT_EQ(test, relay_rs_stats(chan, RELAY_RS_STATS_BUF_FULL |
					  RELAY_RS_STATS_WRT_BIG), 0);
#if RELAY_RS_RELAY_H_7_3
	KUNIT_EXPECT_EQ(test, sum_stats(chan).full_count, 0);
	KUNIT_EXPECT_EQ(test, sum_stats(chan).big_count, 0);
#endif
	relay_close(chan);
}

#if RELAY_RS_RELAY_H_7_3
static int overwrite(struct rchan_buf *buf, void *subbuf, void *prev_subbuf)
{
	return 1;
}

static const struct rchan_callbacks overwrite_cb = {
	.subbuf_start = overwrite,
};

/*
 * 7.3's stats.full_count counts switches that found the buffer full, an
 * accepted overwrite or a flush among them; relay_rs_stats() counts
 * records lost, and overwritten ones apart.
 */
static void stats_full_count_as_7_3(struct kunit *test)
{
	char rec[64];
	struct rchan *chan;
	int i;

	chan = relay_open(NULL, NULL, 128, 2, &overwrite_cb, NULL);
	KUNIT_ASSERT_NOT_NULL(test, chan);
	memset(rec, 0xcd, sizeof(rec));
	preempt_disable();
	/* Switches at records 3, 5, 7 and 9: the last three onto a full ring. */
	for (i = 0; i < 10; i++)
		__relay_write(chan, rec, sizeof(rec));
	preempt_enable();
	KUNIT_EXPECT_EQ(test, sum_stats(chan).full_count, 3);
	KUNIT_EXPECT_EQ(test, relay_rs_stats(chan, RELAY_RS_STATS_BUF_FULL), 0);
	KUNIT_EXPECT_GT(test, relay_rs_stats(chan, RELAY_RS_STATS_OVERWRITTEN), 0);
	/* A flush of the full buffer is one more; the empty ones are not full. */
	relay_flush(chan);
	KUNIT_EXPECT_EQ(test, sum_stats(chan).full_count, 4);
	KUNIT_EXPECT_EQ(test, sum_stats(chan).big_count, 0);
	relay_close(chan);
}
#endif

static struct kunit_case relay_rs_c_cases[] = {
	KUNIT_CASE(open_validates_arguments),
	KUNIT_CASE(null_channel_is_ignored),
	KUNIT_CASE(global_reserve_under_spinlock),
	KUNIT_CASE(percpu_drop_counting),
#if RELAY_RS_RELAY_H_7_3
	KUNIT_CASE(stats_full_count_as_7_3),
#endif
	{}
};

static struct kunit_suite relay_rs_c_suite = {
	.name = "relay_rs_c",
	.test_cases = relay_rs_c_cases,
};
kunit_test_suite(relay_rs_c_suite);

MODULE_DESCRIPTION("KUnit tests of relay_rs through its public C API");
MODULE_LICENSE("GPL");
