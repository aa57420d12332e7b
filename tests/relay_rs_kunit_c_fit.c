// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite relay_rs_c_fit: the overflow-checked "does the record fit"
 * rule of the header's inline write paths (relay_rs_fits()), through the
 * public header.
 */
#include <kunit/test.h>
#include <linux/irqflags.h>
#include <linux/limits.h>

#include "../include/relay_rs.h"

static struct dentry *no_file(const char *filename, struct dentry *parent,
			      umode_t mode, struct rchan_buf *buf,
			      int *is_global)
{
	*is_global = 1;
	return NULL;
}

/* Buffer-only global channel: every write lands in one buffer. */
static const struct rchan_callbacks global_cb = {
	.create_buf_file = no_file,
};

static void fit_check_does_not_wrap(struct kunit *test)
{
	struct rchan *chan;
	struct rchan_buf *buf;
	unsigned long flags;

	chan = relay_rs_open(NULL, NULL, 64, 4, &global_cb, NULL);
	KUNIT_ASSERT_NOT_NULL(test, chan);
	relay_rs_write(chan, "12345678", 8);
	local_irq_save(flags);
	buf = this_cpu_read(*chan->buf);
	/* The largest length the header allows: too big, not a wrapped fit. */
	KUNIT_EXPECT_NULL(test, relay_rs_reserve(chan, SSIZE_MAX));
	KUNIT_EXPECT_EQ(test, buf->offset, 8);
	KUNIT_EXPECT_EQ(test, buf->records, 1);
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, relay_rs_stats(chan, RELAY_RS_STATS_WRT_BIG), 1);
	KUNIT_EXPECT_EQ(test, relay_rs_stats(chan, RELAY_RS_STATS_BUF_FULL), 0);
	relay_rs_close(chan);
}

static struct kunit_case relay_rs_c_fit_cases[] = {
	KUNIT_CASE(fit_check_does_not_wrap),
	{}
};

static struct kunit_suite relay_rs_c_fit_suite = {
	.name = "relay_rs_c_fit",
	.test_cases = relay_rs_c_fit_cases,
};
kunit_test_suite(relay_rs_c_fit_suite);
