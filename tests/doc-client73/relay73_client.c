// SPDX-License-Identifier: GPL-2.0
/*
 * relay73_client: a C client of relay_rs' Linux 7.3 API, written from
 * relay_rs' documentation alone (README.md's Kernels section,
 * include/relay_rs.h, docs/api.md, docs/differences.md). It checks, on
 * every online CPU's buffer, what those documents promise about 7.3's
 * three-argument subbuf_start() callback, relay_stats() and the buffers'
 * stats.full_count/big_count, relay_rs_buf_prev_padding() and
 * relay_reset(), in no-overwrite and overwrite channels.
 *
 * Each check prints one line, "relay73_client: ok ..." or
 * "relay73_client: FAIL ...". What the documents do not say is printed as
 * "relay73_client: gap ..." with what was seen, and is not a failure. The
 * last line is "relay73_client: summary: N ok, N failed, N gaps".
 *
 * All writes run on the buffer's own CPU, in an IPI (relay_write() is
 * allowed "in any context but NMI, including hard interrupts"); the checks
 * read the buffers afterwards from process context, with nothing writing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/cpumask.h>
#include <relay_rs.h>

#if !RELAY_RS_RELAY_H_7_3
#error "relay73_client is written against relay_rs' Linux 7.3 API"
#endif

#define SB		1024	/* sub-buffer size */
#define NSB		4	/* sub-buffers per buffer */
#define REC		100	/* record size: 10 per sub-buffer, 24 bytes padding */
#define ALL_FLAGS	(RELAY_STATS_BUF_FULL | RELAY_STATS_WRT_BIG | \
			 RELAY_RS_STATS_OVERWRITTEN)

enum mode { NO_OVERWRITE, OVERWRITE };

/* What subbuf_start() saw, per CPU. */
struct cb_rec {
	unsigned int calls;
	unsigned int null_prev_calls;	/* prev_subbuf == NULL (start or reset) */
	void *subbuf;
	void *prev_subbuf;
	size_t prev_padding;
	size_t null_prev_padding;
	int returned;
};

struct client {
	enum mode mode;
	int refuse;		/* refuse the next switch, full or not */
	struct cb_rec *rec;	/* nr_cpu_ids entries */
};

static unsigned int n_ok, n_fail, n_gap;

#define CHECK(cond, fmt, ...)						\
	do {								\
		if (cond) {						\
			n_ok++;						\
			pr_info("ok " fmt "\n", ##__VA_ARGS__);		\
		} else {						\
			n_fail++;					\
			pr_err("FAIL " fmt "\n", ##__VA_ARGS__);	\
		}							\
	} while (0)

#define GAP(fmt, ...)							\
	do {								\
		n_gap++;						\
		pr_info("gap " fmt "\n", ##__VA_ARGS__);		\
	} while (0)

/*
 * The 7.3 callback: no prev_padding argument; relay_rs_buf_prev_padding()
 * tells it. No-overwrite: refuse when the buffer is full (what the default
 * does); overwrite: always switch. Either refuses while ->refuse is set.
 */
static int r73_subbuf_start(struct rchan_buf *buf, void *subbuf,
			    void *prev_subbuf)
{
	struct client *c = relay_rs_buf_private_data(buf);
	struct cb_rec *r;
	int ret;

	if (!c)
		return !relay_buf_full(buf);
	r = &c->rec[relay_rs_buf_cpu(buf)];
	r->calls++;
	r->subbuf = subbuf;
	r->prev_subbuf = prev_subbuf;
	r->prev_padding = relay_rs_buf_prev_padding(buf);
	if (!prev_subbuf) {
		r->null_prev_calls++;
		r->null_prev_padding = r->prev_padding;
	}
	if (READ_ONCE(c->refuse))
		ret = 0;
	else if (c->mode == OVERWRITE)
		ret = 1;
	else
		ret = !relay_buf_full(buf);
	r->returned = ret;
	return ret;
}

static const struct rchan_callbacks r73_callbacks = {
	.subbuf_start = r73_subbuf_start,
};

/* Writes on one CPU, in an IPI there. */
struct write_job {
	struct rchan *chan;
	size_t len;
	unsigned int count;
};

static char payload[2 * SB];

static void write_ipi(void *arg)
{
	struct write_job *job = arg;
	unsigned int i;

	for (i = 0; i < job->count; i++)
		relay_write(job->chan, payload, job->len);
}

static void write_on(unsigned int cpu, struct rchan *chan, size_t len,
		     unsigned int count)
{
	struct write_job job = { .chan = chan, .len = len, .count = count };

	smp_call_function_single(cpu, write_ipi, &job, 1);
}

static struct rchan_buf *buf_of(struct rchan *chan, unsigned int cpu)
{
	return *per_cpu_ptr(chan->buf, cpu);
}

static void *subbuf_addr(struct rchan_buf *buf, size_t n)
{
	return buf->start + n * SB;
}

static struct client *client_new(enum mode mode)
{
	struct client *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return NULL;
	c->mode = mode;
	c->rec = kcalloc(nr_cpu_ids, sizeof(*c->rec), GFP_KERNEL);
	if (!c->rec) {
		kfree(c);
		return NULL;
	}
	return c;
}

static void client_free(struct client *c)
{
	if (c)
		kfree(c->rec);
	kfree(c);
}

/* (a) and (e): the callback, its return value, the padding it is told. */
static void check_callback(void)
{
	struct client *c = client_new(NO_OVERWRITE);
	struct rchan *chan;
	unsigned int cpu;

	if (!c) {
		CHECK(0, "a: allocation");
		return;
	}
	chan = relay_open("relay73_a", NULL, SB, NSB, &r73_callbacks, c);
	CHECK(chan, "a: relay_open(\"relay73_a\", NULL, %d, %d, cb, priv) opens a per-CPU channel",
	      SB, NSB);
	if (!chan)
		goto out;
	CHECK(!chan->is_global && chan->subbuf_size == SB && chan->n_subbufs == NSB &&
	      chan->private_data == c,
	      "a: struct rchan: is_global %d subbuf_size %zu n_subbufs %zu private_data as given",
	      chan->is_global, chan->subbuf_size, chan->n_subbufs);

	for_each_online_cpu(cpu) {
		struct rchan_buf *buf = buf_of(chan, cpu);
		struct cb_rec *r = &c->rec[cpu];
		unsigned int base;
		size_t rec0, bf0, all0;

		if (!buf) {
			CHECK(0, "a: cpu%u has a buffer", cpu);
			continue;
		}
		/* 7.3 calls subbuf_start() when a buffer is created. */
		GAP("a: cpu%u: subbuf_start() calls at creation: %u (prev_subbuf NULL in %u, prev_padding %zu); relay_rs.h does not say whether it is called for the first sub-buffer (7.3 calls it with prev_subbuf NULL); relay_rs_buf_prev_padding() says only \"0 for the first\"",
		    cpu, r->calls, r->null_prev_calls, r->null_prev_padding);
		if (r->null_prev_calls)
			CHECK(r->null_prev_padding == 0,
			      "e: cpu%u: prev_padding at the first sub-buffer is 0 (got %zu)",
			      cpu, r->null_prev_padding);
		base = r->calls;

		/* 10 records fill sub-buffer 0 up to 1000: no switch. */
		write_on(cpu, chan, REC, 10);
		CHECK(r->calls == base && buf->offset == 10 * REC && buf->records == 10,
		      "a: cpu%u: 10 records of %d in a %d-byte sub-buffer: no callback (calls +%u), offset %zu, records %zu",
		      cpu, REC, SB, r->calls - base, buf->offset, buf->records);

		/* The 11th does not fit: one switch, accepted. */
		write_on(cpu, chan, REC, 1);
		CHECK(r->calls == base + 1 && r->returned == 1 &&
		      r->subbuf == subbuf_addr(buf, 1) && r->prev_subbuf == subbuf_addr(buf, 0),
		      "a: cpu%u: a record that does not fit calls subbuf_start(buf, subbuf 1, prev_subbuf 0) once (calls +%u, subbuf +%td, prev +%td)",
		      cpu, r->calls - base,
		      r->subbuf ? (char *)r->subbuf - (char *)buf->start : -1,
		      r->prev_subbuf ? (char *)r->prev_subbuf - (char *)buf->start : -1);
		CHECK(buf->data == subbuf_addr(buf, 1) && buf->offset == REC &&
		      buf->records == 11 && buf->subbufs_produced == 1,
		      "a: cpu%u: return 1 honoured: record in sub-buffer 1 (data +%td, offset %zu, records %zu, produced %zu)",
		      cpu, (char *)buf->data - (char *)buf->start, buf->offset,
		      buf->records, buf->subbufs_produced);
		CHECK(r->prev_padding == SB - 10 * REC,
		      "e: cpu%u: relay_rs_buf_prev_padding() in the callback: %zu (expected %d)",
		      cpu, r->prev_padding, SB - 10 * REC);
		CHECK(buf->padding[0] == SB - 10 * REC,
		      "e: cpu%u: rchan_buf.padding[0] %zu agrees", cpu, buf->padding[0]);

		/* Sub-buffer 1 up to 1000, then a switch the callback refuses. */
		write_on(cpu, chan, REC, 9);
		rec0 = buf->records;
		bf0 = relay_stats(chan, RELAY_STATS_BUF_FULL);
		all0 = relay_stats(chan, ALL_FLAGS);
		WRITE_ONCE(c->refuse, 1);
		write_on(cpu, chan, REC, 1);
		WRITE_ONCE(c->refuse, 0);
		CHECK(r->calls == base + 2 && r->returned == 0 && buf->records == rec0,
		      "a: cpu%u: return 0 honoured on a buffer not full: record dropped (calls +%u, records %zu, data +%td)",
		      cpu, r->calls - base, buf->records,
		      (char *)buf->data - (char *)buf->start);
		CHECK(buf->stats.full_count == 0,
		      "b: cpu%u: a refusal of a buffer that is not full leaves stats.full_count 0 (got %u)",
		      cpu, buf->stats.full_count);
		GAP("a: cpu%u: the refused record is \"dropped and counted\" (relay_rs.h), but under which flag? relay_stats(BUF_FULL) +%zu, all flags +%zu (the buffer was not full)",
		    cpu, relay_stats(chan, RELAY_STATS_BUF_FULL) - bf0,
		    relay_stats(chan, ALL_FLAGS) - all0);

		/* The next record asks again; accepted, it starts sub-buffer 2. */
		write_on(cpu, chan, REC, 1);
		CHECK(r->calls == base + 3 && r->returned == 1 &&
		      r->subbuf == subbuf_addr(buf, 2) && buf->data == subbuf_addr(buf, 2) &&
		      buf->offset == REC && buf->records == rec0 + 1,
		      "a: cpu%u: after a refusal the next record asks again and, accepted, goes in sub-buffer 2 (calls +%u, data +%td, offset %zu)",
		      cpu, r->calls - base, (char *)buf->data - (char *)buf->start,
		      buf->offset);
		CHECK(r->prev_padding == SB - 10 * REC,
		      "e: cpu%u: prev_padding when the refused switch is retried: %zu (expected %d, sub-buffer 1's)",
		      cpu, r->prev_padding, SB - 10 * REC);

		/* Sub-buffer 2: 100 + 500, then 500 more does not fit: pad 424. */
		write_on(cpu, chan, 500, 1);
		write_on(cpu, chan, 500, 1);
		CHECK(r->calls == base + 4 && r->subbuf == subbuf_addr(buf, 3) &&
		      r->prev_subbuf == subbuf_addr(buf, 2) &&
		      r->prev_padding == SB - 600,
		      "e: cpu%u: switch to sub-buffer 3: prev_padding %zu (expected %d)",
		      cpu, r->prev_padding, SB - 600);
		CHECK(buf->padding[2] == SB - 600,
		      "e: cpu%u: rchan_buf.padding[2] %zu agrees", cpu, buf->padding[2]);
	}
	relay_close(chan);
out:
	client_free(c);
}

/* (b), (c), (d), (f): a no-overwrite channel filled, big records, reset. */
static void check_no_overwrite(void)
{
	struct client *c = client_new(NO_OVERWRITE);
	unsigned int cpu, ncpu = 0;
	size_t full_sum = 0, big_sum = 0, bf, wb, ow, bf_before, calls0, calls1;
	struct rchan *chan;
	bool all_zero;

	if (!c) {
		CHECK(0, "b: allocation");
		return;
	}
	chan = relay_open("relay73_b", NULL, SB, NSB, &r73_callbacks, c);
	CHECK(chan, "b: relay_open(\"relay73_b\") no-overwrite channel");
	if (!chan)
		goto out;

	for_each_online_cpu(cpu) {
		struct rchan_buf *buf = buf_of(chan, cpu);
		size_t wb0, bf0;

		if (!buf) {
			CHECK(0, "b: cpu%u has a buffer", cpu);
			continue;
		}
		ncpu++;

		/* (c) records bigger than a sub-buffer, in an empty buffer. */
		wb0 = relay_stats(chan, RELAY_STATS_WRT_BIG);
		bf0 = relay_stats(chan, RELAY_STATS_BUF_FULL);
		write_on(cpu, chan, SB + 1, 1);
		write_on(cpu, chan, 2 * SB, 1);
		CHECK(buf->stats.big_count == 2 && buf->stats.full_count == 0,
		      "c: cpu%u: records of %d and %d bytes: stats.big_count %u (expected 2), full_count %u (expected 0)",
		      cpu, SB + 1, 2 * SB, buf->stats.big_count, buf->stats.full_count);
		CHECK(relay_stats(chan, RELAY_STATS_WRT_BIG) - wb0 == 2 &&
		      relay_stats(chan, RELAY_STATS_BUF_FULL) == bf0,
		      "c: cpu%u: relay_stats(RELAY_STATS_WRT_BIG) +%zu (expected +2), BUF_FULL +%zu (expected +0)",
		      cpu, relay_stats(chan, RELAY_STATS_WRT_BIG) - wb0,
		      relay_stats(chan, RELAY_STATS_BUF_FULL) - bf0);
		CHECK(buf->records == 0,
		      "c: cpu%u: neither was written (records %zu)", cpu, buf->records);
		GAP("c: cpu%u: after the too-big records: subbufs_produced %zu, offset %zu (7.3 makes no switch for them; the docs do not say)",
		    cpu, buf->subbufs_produced, buf->offset);

		/* (b) 40 records fill the 4 sub-buffers; the 41st..45th are refused. */
		write_on(cpu, chan, REC, 4 * 10);
		CHECK(buf->subbufs_produced == 3 && !relay_buf_full(buf) &&
		      buf->stats.full_count == 0 && buf->records == 40,
		      "b: cpu%u: 40 records in 4 x 10: produced %zu, relay_buf_full %d, full_count %u, records %zu",
		      cpu, buf->subbufs_produced, relay_buf_full(buf),
		      buf->stats.full_count, buf->records);
		bf0 = relay_stats(chan, RELAY_STATS_BUF_FULL);
		write_on(cpu, chan, REC, 5);
		CHECK(relay_buf_full(buf) && buf->records == 40,
		      "b: cpu%u: 5 more records refused: relay_buf_full %d, records %zu",
		      cpu, relay_buf_full(buf), buf->records);
		/*
		 * full_count is kept "exactly as 7.3 does": each refused
		 * record asks for a switch, and each switch finds the buffer
		 * full.
		 */
		CHECK(buf->stats.full_count == 5,
		      "b: cpu%u: stats.full_count %u after 5 refused records (expected 5, as 7.3)",
		      cpu, buf->stats.full_count);
		CHECK(relay_stats(chan, RELAY_STATS_BUF_FULL) - bf0 == 5,
		      "b: cpu%u: relay_stats(RELAY_STATS_BUF_FULL) +%zu records lost (expected +5)",
		      cpu, relay_stats(chan, RELAY_STATS_BUF_FULL) - bf0);

		/* (c) a too-big record while the buffer is full. */
		wb0 = relay_stats(chan, RELAY_STATS_WRT_BIG);
		bf0 = relay_stats(chan, RELAY_STATS_BUF_FULL);
		write_on(cpu, chan, 2 * SB, 1);
		CHECK(buf->stats.big_count == 3 && buf->stats.full_count == 5,
		      "c: cpu%u: a too-big record on a full buffer: big_count %u (expected 3), full_count %u (expected 5, as 7.3, which tests the size first)",
		      cpu, buf->stats.big_count, buf->stats.full_count);
		CHECK(relay_stats(chan, RELAY_STATS_WRT_BIG) - wb0 == 1,
		      "c: cpu%u: relay_stats(RELAY_STATS_WRT_BIG) +%zu (expected +1)",
		      cpu, relay_stats(chan, RELAY_STATS_WRT_BIG) - wb0);
		GAP("c: cpu%u: a too-big record on a full buffer: relay_stats(BUF_FULL) +%zu; the docs do not say which reason wins when both apply",
		    cpu, relay_stats(chan, RELAY_STATS_BUF_FULL) - bf0);

		full_sum += buf->stats.full_count;
		big_sum += buf->stats.big_count;
	}

	bf = relay_stats(chan, RELAY_STATS_BUF_FULL);
	wb = relay_stats(chan, RELAY_STATS_WRT_BIG);
	ow = relay_stats(chan, RELAY_RS_STATS_OVERWRITTEN);
	CHECK(bf == 5 * ncpu,
	      "b: relay_stats(chan, RELAY_STATS_BUF_FULL) %zu: records lost, summed over %u buffers (expected %u)",
	      bf, ncpu, 5 * ncpu);
	CHECK(relay_rs_stats(chan, RELAY_RS_STATS_BUF_FULL) == bf,
	      "b: relay_rs_stats(chan, RELAY_RS_STATS_BUF_FULL) is the same function (%zu)",
	      relay_rs_stats(chan, RELAY_RS_STATS_BUF_FULL));
	CHECK(full_sum == 5 * ncpu,
	      "b: sum of stats.full_count %zu (expected %u)", full_sum, 5 * ncpu);
	CHECK(wb == 3 * ncpu && big_sum == 3 * ncpu,
	      "c: relay_stats(chan, RELAY_STATS_WRT_BIG) %zu, sum of stats.big_count %zu (expected %u)",
	      wb, big_sum, 3 * ncpu);
	CHECK(ow == 0, "d: no-overwrite channel: RELAY_RS_STATS_OVERWRITTEN %zu", ow);

	/* (d) flags combine: the sum, where 7.3 returns 0. */
	CHECK(relay_stats(chan, RELAY_STATS_BUF_FULL | RELAY_STATS_WRT_BIG) == bf + wb,
	      "d: relay_stats(chan, RELAY_STATS_BUF_FULL | RELAY_STATS_WRT_BIG) %zu (expected %zu + %zu)",
	      relay_stats(chan, RELAY_STATS_BUF_FULL | RELAY_STATS_WRT_BIG), bf, wb);
	CHECK(relay_stats(chan, ALL_FLAGS) == bf + wb + ow,
	      "d: relay_stats(chan, all three flags) %zu (expected %zu)",
	      relay_stats(chan, ALL_FLAGS), bf + wb + ow);
	CHECK(relay_stats(NULL, ALL_FLAGS) == 0, "d: relay_stats(NULL, flags) is 0");
	GAP("d: relay_stats(chan, 0) = %zu; the docs do not say what no flag (or an unknown one, 1 << 3: %zu) gives",
	    relay_stats(chan, 0), relay_stats(chan, 1 << 3));

	/* A flush of a full buffer counts in full_count, loses nothing. */
	bf_before = relay_stats(chan, RELAY_STATS_BUF_FULL);
	relay_flush(chan);
	full_sum = 0;
	for_each_online_cpu(cpu)
		if (buf_of(chan, cpu))
			full_sum += buf_of(chan, cpu)->stats.full_count;
	CHECK(full_sum == 6 * ncpu,
	      "b: relay_flush() of full buffers: sum of stats.full_count %zu (expected %u: a flush of a full buffer counts)",
	      full_sum, 6 * ncpu);
	CHECK(relay_stats(chan, RELAY_STATS_BUF_FULL) == bf_before,
	      "b: relay_flush() loses nothing: relay_stats(BUF_FULL) %zu (expected %zu)",
	      relay_stats(chan, RELAY_STATS_BUF_FULL), bf_before);

	/* (f) reset clears the counters, the buffers' stats included. */
	calls0 = 0;
	for_each_online_cpu(cpu)
		calls0 += c->rec[cpu].null_prev_calls;
	relay_reset(chan);
	CHECK(relay_stats(chan, RELAY_STATS_BUF_FULL) == 0 &&
	      relay_stats(chan, RELAY_STATS_WRT_BIG) == 0 &&
	      relay_stats(chan, ALL_FLAGS) == 0,
	      "f: after relay_reset(): relay_stats BUF_FULL %zu, WRT_BIG %zu, all %zu (expected 0)",
	      relay_stats(chan, RELAY_STATS_BUF_FULL),
	      relay_stats(chan, RELAY_STATS_WRT_BIG), relay_stats(chan, ALL_FLAGS));
	all_zero = true;
	for_each_online_cpu(cpu) {
		struct rchan_buf *buf = buf_of(chan, cpu);

		if (!buf)
			continue;
		if (buf->stats.full_count || buf->stats.big_count || buf->records ||
		    relay_buf_full(buf) || buf->subbufs_produced || buf->subbufs_consumed) {
			all_zero = false;
			pr_err("FAIL f: cpu%u after reset: full_count %u big_count %u records %zu full %d produced %zu consumed %zu\n",
			       cpu, buf->stats.full_count, buf->stats.big_count,
			       buf->records, relay_buf_full(buf),
			       buf->subbufs_produced, buf->subbufs_consumed);
		}
	}
	CHECK(all_zero,
	      "f: after relay_reset(): every buffer's stats.full_count, big_count and records 0, not full");
	calls1 = 0;
	for_each_online_cpu(cpu)
		calls1 += c->rec[cpu].null_prev_calls;
	GAP("f: relay_reset() called subbuf_start(prev_subbuf NULL) %zu times over %u buffers (7.3 calls it once per buffer; the docs do not say)",
	    calls1 - calls0, ncpu);

	/* The reset buffers take records again. */
	for_each_online_cpu(cpu) {
		struct rchan_buf *buf = buf_of(chan, cpu);

		if (!buf)
			continue;
		write_on(cpu, chan, REC, 1);
		CHECK(buf->records == 1 && buf->offset == REC &&
		      buf->stats.full_count == 0,
		      "f: cpu%u: a record after reset is written (records %zu, offset %zu, full_count %u)",
		      cpu, buf->records, buf->offset, buf->stats.full_count);
	}
	CHECK(relay_stats(chan, ALL_FLAGS) == 0,
	      "f: and nothing is lost (%zu)", relay_stats(chan, ALL_FLAGS));
	relay_close(chan);
out:
	client_free(c);
}

/* (g) overwrite: full_count counts accepted overwrites and flushes. */
static void check_overwrite(void)
{
	struct client *c = client_new(OVERWRITE);
	unsigned int cpu, ncpu = 0;
	size_t full_sum = 0;
	struct rchan *chan;

	if (!c) {
		CHECK(0, "g: allocation");
		return;
	}
	chan = relay_open("relay73_c", NULL, SB, NSB, &r73_callbacks, c);
	CHECK(chan, "g: relay_open(\"relay73_c\") overwrite channel");
	if (!chan)
		goto out;

	for_each_online_cpu(cpu) {
		struct rchan_buf *buf = buf_of(chan, cpu);

		if (!buf) {
			CHECK(0, "g: cpu%u has a buffer", cpu);
			continue;
		}
		ncpu++;
		/*
		 * 61 records: switches after 10, 20, ... 60; those after 40,
		 * 50 and 60 find the buffer full and overwrite sub-buffers
		 * 0, 1 and 2 (10 unread records each).
		 */
		write_on(cpu, chan, REC, 61);
		CHECK(buf->stats.full_count == 3,
		      "g: cpu%u: 61 records, 3 accepted overwrites: stats.full_count %u (expected 3)",
		      cpu, buf->stats.full_count);
		CHECK(buf->records == 61 && buf->data == subbuf_addr(buf, 2) &&
		      buf->offset == REC,
		      "g: cpu%u: return 1 on a full buffer honoured: overwriting (records %zu, data +%td, offset %zu)",
		      cpu, buf->records, (char *)buf->data - (char *)buf->start,
		      buf->offset);
		full_sum += buf->stats.full_count;
	}
	CHECK(full_sum == 3 * ncpu, "g: sum of stats.full_count %zu (expected %u)",
	      full_sum, 3 * ncpu);
	CHECK(relay_stats(chan, RELAY_STATS_BUF_FULL) == 0,
	      "g: relay_stats(RELAY_STATS_BUF_FULL) %zu: in overwrite mode nothing is lost that way",
	      relay_stats(chan, RELAY_STATS_BUF_FULL));
	CHECK(relay_stats(chan, RELAY_RS_STATS_OVERWRITTEN) == 30 * ncpu,
	      "g: RELAY_RS_STATS_OVERWRITTEN %zu (expected %u: 3 sub-buffers of 10 unread records per buffer)",
	      relay_stats(chan, RELAY_RS_STATS_OVERWRITTEN), 30 * ncpu);
	CHECK(relay_stats(chan, RELAY_STATS_BUF_FULL | RELAY_STATS_WRT_BIG) == 0,
	      "g: relay_stats(BUF_FULL | WRT_BIG) %zu (expected 0)",
	      relay_stats(chan, RELAY_STATS_BUF_FULL | RELAY_STATS_WRT_BIG));

	relay_flush(chan);
	full_sum = 0;
	for_each_online_cpu(cpu)
		if (buf_of(chan, cpu))
			full_sum += buf_of(chan, cpu)->stats.full_count;
	CHECK(full_sum == 4 * ncpu,
	      "g: relay_flush() of full overwrite buffers: sum of stats.full_count %zu (expected %u)",
	      full_sum, 4 * ncpu);
	CHECK(relay_stats(chan, RELAY_STATS_BUF_FULL) == 0,
	      "g: after the flush relay_stats(RELAY_STATS_BUF_FULL) still %zu",
	      relay_stats(chan, RELAY_STATS_BUF_FULL));
	CHECK(relay_stats(chan, RELAY_RS_STATS_OVERWRITTEN) == 40 * ncpu,
	      "g: after the flush (overwriting sub-buffer 3) RELAY_RS_STATS_OVERWRITTEN %zu (expected %u)",
	      relay_stats(chan, RELAY_RS_STATS_OVERWRITTEN), 40 * ncpu);

	relay_reset(chan);
	full_sum = 0;
	for_each_online_cpu(cpu)
		if (buf_of(chan, cpu))
			full_sum += buf_of(chan, cpu)->stats.full_count;
	CHECK(full_sum == 0 && relay_stats(chan, ALL_FLAGS) == 0,
	      "f: relay_reset() of the overwrite channel: full_count sum %zu, all flags %zu (expected 0)",
	      full_sum, relay_stats(chan, ALL_FLAGS));
	relay_close(chan);
out:
	client_free(c);
}

static int __init relay73_client_init(void)
{
	memset(payload, 'r', sizeof(payload));
	check_callback();
	check_no_overwrite();
	check_overwrite();
	pr_info("summary: %u ok, %u failed, %u gaps%s\n", n_ok, n_fail, n_gap,
		n_fail ? "" : ": all ok");
	return 0;
}

static void __exit relay73_client_exit(void)
{
}

module_init(relay73_client_init);
module_exit(relay73_client_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("relay_rs' Linux 7.3 C API, checked from its documentation alone");
