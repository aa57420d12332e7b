// SPDX-License-Identifier: GPL-2.0
/*
 * relay_rs_bench: the kernel's relay against relay_rs, measured side by side
 * in one boot, driven through debugfs (relay_rs_bench/ctl):
 *
 * "run": the write paths. Every (CPUs, geometry, record size, path) case is
 * timed for ROUNDS rounds, the peers (peers[]) interleaved (A B C D, then
 * B C D A, ...): the C relay (inline, as its C users get it), relay_rs from
 * C (its header), relay_rs from Rust (its safe API), the kernel's ftrace
 * ring buffer (<linux/ring_buffer.h>, where the kernel has it) and a bare
 * memcpy into a vmap'd ring of the same geometry (the floor). Overwrite
 * mode, no reader; one CPU, then every online CPU at once (kthreads bound
 * to their CPUs, released together). relay_rs_bench/results holds one CSV
 * line per measurement:
 * impl,path,size,subbuf,n_subbufs,cpus,round,ns_per_record
 *
 * "fill c|rs|ft": opens the readers' channel "rd" (no-overwrite, 4 MiB x
 * 16; for ft a ring buffer of as many bytes per CPU), fills every CPU's
 * buffer and flushes; "live c|rs MS": the same channel with a writer on
 * every online CPU but the first (the readers'), which writes as fast as it
 * can for MS milliseconds from "go" on (the last one to stop flushes);
 * "consume BYTES": drains the ft buffer in the kernel on the first online
 * CPU (relay_rs_bench/rd_consume tells what it moved, as relay-read
 * --bench does); "close": flushes and closes it.
 * relay_rs_bench/rd_stats then tells records attempted and lost.
 */
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/ktime.h>
#include <linux/uaccess.h>
#include <linux/kthread.h>
#include <linux/vmalloc.h>
#include <linux/mm.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/delay.h>
#include <linux/random.h>
#include <linux/ring_buffer.h>
#include "bench.h"

#define ROUNDS		21
#define RD_SUBBUF	(4 * 1024 * 1024)
#define RD_N		16
#define RD_REC		512

static unsigned int records = 20000;
module_param(records, uint, 0444);
MODULE_PARM_DESC(records, "records per timed block, at least");

/*
 * The peers, in results order (the CSV's impl names). A peer times a write
 * path on its own channels of a round's geometry; run_case() interleaves
 * every peer that has the case's path. A peer is one more entry here and
 * in bench/report.py's IMPLS.
 */
enum impl { IMPL_C, IMPL_RS, IMPL_RUST, IMPL_RSL, IMPL_FTRACE, IMPL_MEMCPY, NR_IMPLS };

struct peer {
	const char *name;
	int (*open)(struct dentry *dir, size_t subbuf_size, size_t n_subbufs);
	void (*loop)(enum bench_path path, const void *rec, size_t len, unsigned int count);
	void (*close)(void);
	unsigned int paths;	/* BIT(enum bench_path) of the paths it has */
};

#define ALL_PATHS	(BIT(PATH_WRITE) | BIT(PATH_UNLOCKED) | BIT(PATH_RESERVE))
static const char *const path_names[NR_PATHS] = { "write", "__write", "reserve" };
static const size_t sizes[] = { 8, 64, 256, 1024, 4000 };
static const struct { size_t size, n; } geos[] = { { 4096, 8 }, { 262144, 8 } };

struct result {
	u8 impl, path, size, geo, cpus, round;
	u64 ns_per_k;	/* ns per 1000 records */
};

static struct dentry *dir;
static struct result *results;
static unsigned int nr_results;
static DEFINE_MUTEX(lock);
static u8 *rec;

/* The memcpy baseline: per CPU, a vmap'd ring and a write position. */
struct ring {
	struct page **pages;
	unsigned int nr_pages;
	u8 *mem;
	size_t subbuf, n, sub, off;
};
static struct ring rings[NR_CPUS];

static void ring_free(struct ring *r)
{
	unsigned int i;

	if (r->mem)
		vunmap(r->mem);
	for (i = 0; r->pages && i < r->nr_pages; i++)
		if (r->pages[i])
			__free_page(r->pages[i]);
	kfree(r->pages);
	memset(r, 0, sizeof(*r));
}

static int ring_alloc(struct ring *r, size_t subbuf, size_t n)
{
	unsigned int i;

	r->nr_pages = DIV_ROUND_UP(subbuf * n, PAGE_SIZE);
	r->pages = kcalloc(r->nr_pages, sizeof(*r->pages), GFP_KERNEL);
	if (!r->pages)
		goto fail;
	for (i = 0; i < r->nr_pages; i++) {
		r->pages[i] = alloc_page(GFP_KERNEL);
		if (!r->pages[i])
			goto fail;
	}
	r->mem = vmap(r->pages, r->nr_pages, VM_MAP, PAGE_KERNEL);
	if (!r->mem)
		goto fail;
	r->subbuf = subbuf;
	r->n = n;
	return 0;
fail:
	ring_free(r);
	return -ENOMEM;
}

static void memcpy_loop(struct ring *r, const void *src, size_t len, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (unlikely(r->off + len > r->subbuf)) {
			r->sub = r->sub + 1 == r->n ? 0 : r->sub + 1;
			r->off = 0;
		}
		memcpy(r->mem + r->sub * r->subbuf + r->off, src, len);
		r->off += len;
	}
}

static void memcpy_peer_loop(enum bench_path path, const void *src, size_t len,
			     unsigned int count)
{
	memcpy_loop(&rings[raw_smp_processor_id()], src, len, count);
}

static void memcpy_close(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		ring_free(&rings[cpu]);
}

static int memcpy_open(struct dentry *d, size_t subbuf_size, size_t n_subbufs)
{
	unsigned int cpu;
	int ret = 0;

	for_each_online_cpu(cpu)
		if (!ret)
			ret = ring_alloc(&rings[cpu], subbuf_size, n_subbufs);
	if (ret)
		memcpy_close();
	return ret;
}

/*
 * The kernel's ftrace ring buffer (kernel/trace/ring_buffer.c), as its
 * in-kernel users call it: per CPU as many bytes as the relay channels'
 * sub-buffers hold (its own sub-buffers are pages), overwrite mode, no
 * reader. write: ring_buffer_write() (copies, commits). reserve:
 * ring_buffer_lock_reserve(), memcpy() into ring_buffer_event_data(),
 * ring_buffer_unlock_commit(); no interrupt masking, which the ring buffer
 * does not need (it nests). It has no preemption-held variant (__write).
 * Its loop is page-aligned, as the relay peers' objects are (Kbuild).
 */
#ifdef CONFIG_RING_BUFFER
static struct trace_buffer *ft_buf;

static int ftrace_open(struct dentry *d, size_t subbuf_size, size_t n_subbufs)
{
	ft_buf = ring_buffer_alloc(subbuf_size * n_subbufs, RB_FL_OVERWRITE);
	return ft_buf ? 0 : -ENOMEM;
}

static noinline __aligned(4096) void ftrace_loop(enum bench_path path, const void *rec,
						 size_t len, unsigned int count)
{
	struct ring_buffer_event *ev;
	unsigned int i;

	if (path == PATH_WRITE) {
		for (i = 0; i < count; i++)
			ring_buffer_write(ft_buf, len, (void *)rec);
		return;
	}
	for (i = 0; i < count; i++) {
		ev = ring_buffer_lock_reserve(ft_buf, len);
		if (ev) {
			memcpy(ring_buffer_event_data(ev), rec, len);
			ring_buffer_unlock_commit(ft_buf);
		}
	}
}

static void ftrace_close(void)
{
	if (ft_buf)
		ring_buffer_free(ft_buf);
	ft_buf = NULL;
}
#define FTRACE_PATHS	(BIT(PATH_WRITE) | BIT(PATH_RESERVE))
#else
/* A kernel without CONFIG_RING_BUFFER: the peer has no path, never runs. */
#define ftrace_open	NULL
#define ftrace_loop	NULL
#define ftrace_close	NULL
#define FTRACE_PATHS	0
#endif

static const struct peer peers[NR_IMPLS] = {
	[IMPL_C] = { "c_relay", bench_c_open, bench_c_loop, bench_c_close, ALL_PATHS },
	[IMPL_RS] = { "relay_rs", bench_rs_open, bench_rs_loop, bench_rs_close, ALL_PATHS },
	[IMPL_RUST] = { "relay_rs_rust", bench_rust_open, bench_rust_loop, bench_rust_close,
			ALL_PATHS },
	[IMPL_RSL] = { "relay_rs_lockless", bench_rsl_open, bench_rsl_loop, bench_rsl_close,
		       ALL_PATHS },
	[IMPL_FTRACE] = { "ftrace", ftrace_open, ftrace_loop, ftrace_close, FTRACE_PATHS },
	/* The floor once per size, with the write path. */
	[IMPL_MEMCPY] = { "memcpy", memcpy_open, memcpy_peer_loop, memcpy_close,
			  BIT(PATH_WRITE) },
};

static void run_loop(enum impl impl, enum bench_path path, size_t len, unsigned int count)
{
	peers[impl].loop(path, rec, len, count);
}

/*
 * Records per timed block: at least `records`, and enough small ones for a
 * block of several milliseconds, of which a timer tick or a host hiccup is
 * a small part (20000 8-byte records took under a millisecond).
 */
static unsigned int block_records(size_t len)
{
	return max_t(unsigned int, records, (8U << 20) / (len + 32));
}

/* One timed block on this CPU: ns per 1000 records. */
static u64 timed(enum impl impl, enum bench_path path, size_t len)
{
	unsigned int n = block_records(len);
	u64 t0 = ktime_get_ns();

	run_loop(impl, path, len, n);
	return (ktime_get_ns() - t0) * 1000 / n;
}

/*
 * Workers: one kthread per online CPU, running the current job together.
 * Each notes when it started and ended its block: the job's time is from
 * the first start to the last end (what the system took to log every
 * CPU's block), which under -icount is every vCPU's instructions, however
 * QEMU interleaved them.
 */

static struct {
	enum impl impl;
	enum bench_path path;
	size_t len;
	unsigned long gen;
	atomic_t ready, done;
	u64 start[NR_CPUS], end[NR_CPUS];
} job;
static DECLARE_WAIT_QUEUE_HEAD(job_wq);
static DECLARE_WAIT_QUEUE_HEAD(done_wq);
static struct task_struct *workers[NR_CPUS];
static unsigned int nr_workers;

static int worker_fn(void *arg)
{
	unsigned int cpu = (unsigned long)arg;
	unsigned long seen = 0;

	while (!kthread_should_stop()) {
		wait_event_interruptible(job_wq, READ_ONCE(job.gen) != seen ||
					 kthread_should_stop());
		if (kthread_should_stop())
			break;
		seen = READ_ONCE(job.gen);
		/* The job's fields were written before the generation moved. */
		smp_rmb();
		/* Released together: wait until every worker is here. */
		atomic_inc(&job.ready);
		while (atomic_read(&job.ready) < nr_workers)
			cpu_relax();
		job.start[cpu] = ktime_get_ns();
		run_loop(job.impl, job.path, job.len, block_records(job.len));
		job.end[cpu] = ktime_get_ns();
		atomic_inc(&job.done);
		wake_up(&done_wq);
	}
	return 0;
}

/* Stops the threads of threads_start(). */
static void threads_stop(struct task_struct **t)
{
	unsigned int cpu;

	for (cpu = 0; cpu < nr_cpu_ids; cpu++) {
		if (t[cpu])
			kthread_stop(t[cpu]);
		t[cpu] = NULL;
	}
}

/*
 * A kthread per online CPU in @cpus, bound to it, running fn(cpu): all or
 * none.
 */
static int threads_start(struct task_struct **t, int (*fn)(void *), const char *name,
			 const struct cpumask *cpus)
{
	unsigned int cpu;
	int ret;

	for_each_cpu_and(cpu, cpus, cpu_online_mask) {
		t[cpu] = kthread_create_on_cpu(fn, (void *)(unsigned long)cpu, cpu, name);
		if (IS_ERR(t[cpu])) {
			ret = PTR_ERR(t[cpu]);
			t[cpu] = NULL;
			threads_stop(t);
			return ret;
		}
	}
	for_each_cpu_and(cpu, cpus, cpu_online_mask)
		wake_up_process(t[cpu]);
	return 0;
}

static void workers_stop(void)
{
	threads_stop(workers);
	nr_workers = 0;
}

static int workers_start(void)
{
	/* Workers read it only once a job is posted, after this. */
	int ret = threads_start(workers, worker_fn, "relay_rs_bench/%u", cpu_online_mask);

	nr_workers = ret ? 0 : num_online_cpus();
	return ret;
}

/* One block on every worker at once: ns per 1000 records per CPU. */
static u64 timed_all(enum impl impl, enum bench_path path, size_t len)
{
	u64 first = U64_MAX, last = 0;
	unsigned int cpu;

	job.impl = impl;
	job.path = path;
	job.len = len;
	atomic_set(&job.ready, 0);
	atomic_set(&job.done, 0);
	/* The job before the generation that releases the workers. */
	smp_wmb();
	WRITE_ONCE(job.gen, job.gen + 1);
	wake_up_all(&job_wq);
	wait_event(done_wq, atomic_read(&job.done) == nr_workers);
	for_each_online_cpu(cpu) {
		first = min(first, job.start[cpu]);
		last = max(last, job.end[cpu]);
	}
	return (last - first) * 1000 / block_records(len);
}

static void close_all(void)
{
	unsigned int i;

	for (i = 0; i < NR_IMPLS; i++)
		if (peers[i].paths)
			peers[i].close();
}

static int open_all(unsigned int g)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < NR_IMPLS && !ret; i++)
		if (peers[i].paths)
			ret = peers[i].open(dir, geos[g].size, geos[g].n);
	if (ret)
		close_all();
	return ret;
}

/*
 * Allocations made before a round's channels, of random sizes and counts.
 * QEMU's soft TLB is direct mapped: two pages a loop touches that share an
 * entry evict each other on every record, which in wall time penalises one
 * implementation in some cases and the other in others, the same in every
 * round (bench/README.md measures it). Fresh channels every round, shifted
 * by these, make that
 * luck vary from round to round instead of biasing a case's median.
 */
static const size_t spacer_sizes[] = { 128, 256, 512, 1024, 2048, 4096 };
static struct {
	void *vmem;
	void *obj[ARRAY_SIZE(spacer_sizes)][8];
	void __percpu *pcpu;
} spacers;

static void spacers_free(void)
{
	unsigned int i, j;

	vfree(spacers.vmem);
	free_percpu(spacers.pcpu);
	for (i = 0; i < ARRAY_SIZE(spacer_sizes); i++)
		for (j = 0; j < ARRAY_SIZE(spacers.obj[i]); j++)
			kfree(spacers.obj[i][j]);
	memset(&spacers, 0, sizeof(spacers));
}

/* Failing to allocate a spacer only makes a round less random. */
static void spacers_alloc(void)
{
	unsigned int i, j, n;

	spacers.vmem = vmalloc((get_random_u32_below(64) + 1) * PAGE_SIZE);
	spacers.pcpu = __alloc_percpu(8 * (get_random_u32_below(64) + 1), 8);
	for (i = 0; i < ARRAY_SIZE(spacer_sizes); i++) {
		n = get_random_u32_below(ARRAY_SIZE(spacers.obj[i]) + 1);
		for (j = 0; j < n; j++)
			spacers.obj[i][j] = kmalloc(spacer_sizes[i], GFP_KERNEL);
	}
}

/*
 * One case, every implementation interleaved, ROUNDS rounds after a
 * warm-up, each on channels of its own.
 */
static int run_case(bool all, unsigned int g, unsigned int s, enum bench_path p)
{
	unsigned int r, k, n = 0;
	u8 impls[NR_IMPLS];
	enum impl i;
	int ret;
	u64 ns;

	for (i = 0; i < NR_IMPLS; i++)
		if (peers[i].paths & BIT(p))
			impls[n++] = i;
	for (r = 0; r <= ROUNDS; r++) {
		spacers_alloc();
		ret = open_all(g);
		if (ret) {
			spacers_free();
			return ret;
		}
		/* Each implementation first, second... in turn: no place bias. */
		for (k = 0; k < n; k++) {
			i = impls[(k + r) % n];
			ns = all ? timed_all(i, p, sizes[s]) : timed(i, p, sizes[s]);
			if (r)
				results[nr_results++] = (struct result){
					i, p, s, g, all ? nr_workers : 1, r - 1, ns };
		}
		close_all();
		spacers_free();
		cond_resched();
	}
	return 0;
}

static int run(void)
{
	unsigned int g, s, p, c, max;
	int ret;

	max = ARRAY_SIZE(geos) * ARRAY_SIZE(sizes) * NR_PATHS * ROUNDS * NR_IMPLS * 2;
	kfree(results);
	results = kcalloc(max, sizeof(*results), GFP_KERNEL);
	if (!results)
		return -ENOMEM;
	nr_results = 0;
	ret = workers_start();
	if (ret)
		return ret;
	for (c = 0; c < 2; c++) {
		bool all = c == 1;

		for (g = 0; g < ARRAY_SIZE(geos); g++)
			for (s = 0; s < ARRAY_SIZE(sizes); s++)
				for (p = 0; p < NR_PATHS; p++) {
					ret = run_case(all, g, s, p);
					if (ret)
						goto out;
				}
	}
out:
	workers_stop();
	return ret;
}

static int results_show(struct seq_file *m, void *v)
{
	unsigned int i;

	mutex_lock(&lock);
	for (i = 0; i < nr_results; i++) {
		struct result *r = &results[i];

		seq_printf(m, "%s,%s,%zu,%zu,%zu,%u,%u,%llu.%03llu\n", peers[r->impl].name,
			   path_names[r->path], sizes[r->size], geos[r->geo].size, geos[r->geo].n,
			   r->cpus, r->round, r->ns_per_k / 1000, r->ns_per_k % 1000);
	}
	mutex_unlock(&lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(results);

/* ---- readers' channel ---- */

static const struct bench_rd_ops *rd;
static DEFINE_PER_CPU(unsigned long, rd_attempted);	/* bench_pcpu_sum() */
static atomic_t rd_running;
static struct task_struct *rd_writers[NR_CPUS];
static struct cpumask rd_writer_cpus;
static unsigned long rd_until;
static unsigned int rd_ms;
/* "go": the live writers start (rd_until is set before it). */
static bool rd_go;
static DECLARE_WAIT_QUEUE_HEAD(rd_go_wait);

/*
 * A record: its number, then a fixed pattern (rd_record()). Only the number
 * changes, so a writer costs what logging costs, not a fill per record.
 */
static u8 *rd_record(void)
{
	u8 *r = kmalloc(RD_REC, GFP_KERNEL);

	if (r)
		memset(r, 0xa5, RD_REC);
	return r;
}

static void rd_write_record(u8 *r, u64 seq)
{
	memcpy(r, &seq, sizeof(seq));
	rd->write(r, RD_REC);
	this_cpu_inc(rd_attempted);
}

static long rd_fill_cpu(void *arg)
{
	u8 *r = rd_record();
	unsigned int i, n = RD_SUBBUF / RD_REC * RD_N;

	if (!r)
		return -ENOMEM;
	/* Exactly enough to fill the buffer: no record is refused. */
	for (i = 0; i < n; i++)
		rd_write_record(r, i);
	kfree(r);
	return 0;
}

static int rd_writer_fn(void *arg)
{
	u8 *r = rd_record();
	u64 seq = 0;

	/* Acquire: pairs with "go"'s release, which set rd_until first. */
	wait_event_interruptible(rd_go_wait, smp_load_acquire(&rd_go) || kthread_should_stop());
	while (r && !kthread_should_stop() && time_before(jiffies, rd_until)) {
		unsigned int i;

		for (i = 0; i < 64; i++)
			rd_write_record(r, seq++);
		cond_resched();
	}
	kfree(r);
	/* The last writer completes the sub-buffers, for whole-sub-buffer readers. */
	if (atomic_dec_and_test(&rd_running))
		rd->flush();
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ / 50);
	return 0;
}

static void rd_writers_stop(void)
{
	threads_stop(rd_writers);
}

/*
 * The ftrace ring buffer as the readers' channel: no-overwrite (a refused
 * record is counted as lost), RD_SUBBUF * RD_N bytes per CPU. Its events
 * have headers, so it holds fewer 512-byte records than relay's channel:
 * "fill ft" loses the rest, counted. Its reader is in the kernel:
 * "consume BYTES" (ft_consume()).
 */
#ifdef CONFIG_RING_BUFFER
static struct trace_buffer *ft_rd_buf;
static DEFINE_PER_CPU(unsigned long, ft_rd_lost);	/* bench_pcpu_sum() */

static int ft_rd_open(struct dentry *d, const char *name, size_t subbuf_size, size_t n_subbufs)
{
	bench_pcpu_zero(&ft_rd_lost);
	ft_rd_buf = ring_buffer_alloc(subbuf_size * n_subbufs, 0);
	return ft_rd_buf ? 0 : -ENOMEM;
}

static void ft_rd_write(const void *r, size_t len)
{
	if (ring_buffer_write(ft_rd_buf, len, (void *)r))
		this_cpu_inc(ft_rd_lost);
}

/* Committed events are readable at once: nothing to flush. */
static void ft_rd_flush(void)
{
}

static void ft_rd_close(void)
{
	ring_buffer_free(ft_rd_buf);
	ft_rd_buf = NULL;
}

static unsigned long ft_rd_lost_count(void)
{
	return bench_pcpu_sum(&ft_rd_lost);
}

static const struct bench_rd_ops bench_ft_rd = {
	.open = ft_rd_open,
	.write = ft_rd_write,
	.flush = ft_rd_flush,
	.close = ft_rd_close,
	.lost = ft_rd_lost_count,
};

/* What the last "consume" moved: relay-read --bench's BENCH line. */
static struct {
	u64 bytes, first, last;
} ft_consumed;

/*
 * The ftrace reader, on the first online CPU (where relay-read runs):
 * ring_buffer_consume() every CPU's buffer in turn, each event's data
 * copied into a buffer of BYTES (what read() would copy out; a full buffer
 * starts over), until every buffer is empty and no live writer runs.
 */
static long ft_consume(void *arg)
{
	size_t size = (unsigned long)arg, off = 0, len;
	struct ring_buffer_event *ev;
	unsigned long lost_events;
	bool idle, last = false;
	unsigned int cpu;
	u8 *bounce;
	u64 ts;

	bounce = kvmalloc(size, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	memset(&ft_consumed, 0, sizeof(ft_consumed));
	for (;;) {
		/* One more pass once the writers are done: what they left. */
		last = !atomic_read(&rd_running);
		idle = true;
		for_each_online_cpu(cpu) {
			while ((ev = ring_buffer_consume(ft_rd_buf, cpu, &ts, &lost_events))) {
				len = ring_buffer_event_length(ev);
				if (off + len > size)
					off = 0;
				memcpy(bounce + off, ring_buffer_event_data(ev), len);
				off += len;
				if (!ft_consumed.bytes)
					ft_consumed.first = ktime_get_ns();
				ft_consumed.bytes += len;
				idle = false;
			}
		}
		if (!idle)
			ft_consumed.last = ktime_get_ns();
		else if (last)
			break;
		cond_resched();
	}
	kvfree(bounce);
	return 0;
}

static int rd_consume_show(struct seq_file *m, void *v)
{
	u64 ns = ft_consumed.last - ft_consumed.first;

	/* In the kernel, the reader's CPU time is its time. */
	seq_printf(m, "BENCH bytes=%llu secs=%llu.%09llu cpu=%llu.%09llu\n", ft_consumed.bytes,
		   ns / NSEC_PER_SEC, ns % NSEC_PER_SEC, ns / NSEC_PER_SEC, ns % NSEC_PER_SEC);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(rd_consume);
#endif

static int rd_cmd(const char *cmd)
{
	unsigned int cpu, ms;
	char impl[4];
	int ret;

	if (!strncmp(cmd, "go", 2)) {
		if (!rd || !rd_ms)
			return -EINVAL;
		rd_until = jiffies + msecs_to_jiffies(rd_ms);
		/* Writers that see the go see when to stop. */
		smp_store_release(&rd_go, true);
		wake_up_all(&rd_go_wait);
		return 0;
	}
#ifdef CONFIG_RING_BUFFER
	if (sscanf(cmd, "consume %u", &ms) == 1) {
		if (rd != &bench_ft_rd || !ms)
			return -EINVAL;
		/* The bounce buffer's size, in bytes. */
		return work_on_cpu(cpumask_first(cpu_online_mask), ft_consume,
				   (void *)(unsigned long)ms);
	}
#endif
	if (!strncmp(cmd, "close", 5)) {
		if (!rd)
			return -EINVAL;
		rd_writers_stop();
		rd->close();
		return 0;
	}
	if (sscanf(cmd, "fill %3s", impl) == 1)
		ms = 0;
	else if (sscanf(cmd, "live %3s %u", impl, &ms) != 2 || !ms)
		return -EINVAL;
	if (rd)
		rd_writers_stop();
	rd = !strcmp(impl, "c") ? &bench_c_rd : !strcmp(impl, "rs") ? &bench_rs_rd : NULL;
#ifdef CONFIG_RING_BUFFER
	if (!strcmp(impl, "ft"))
		rd = &bench_ft_rd;
#endif
	if (!rd)
		return -EINVAL;
	bench_pcpu_zero(&rd_attempted);
	rd_ms = ms;
	ret = rd->open(dir, "rd", RD_SUBBUF, RD_N);
	if (ret)
		return ret;
	if (!ms) {
		for_each_online_cpu(cpu)
			work_on_cpu(cpu, rd_fill_cpu, NULL);
		rd->flush();
		return 0;
	}
	/*
	 * The first online CPU is the readers' (bench.sh pins them there):
	 * the writers on the others produce faster than a copying reader on
	 * one CPU consumes, so what a reader moves measures the reader.
	 */
	cpumask_copy(&rd_writer_cpus, cpu_online_mask);
	if (cpumask_weight(&rd_writer_cpus) > 1)
		cpumask_clear_cpu(cpumask_first(&rd_writer_cpus), &rd_writer_cpus);
	rd_go = false;
	atomic_set(&rd_running, cpumask_weight(&rd_writer_cpus));
	return threads_start(rd_writers, rd_writer_fn, "relay_rs_rd/%u", &rd_writer_cpus);
}

static int rd_stats_show(struct seq_file *m, void *v)
{
	seq_printf(m, "attempted=%lu lost=%lu record=%u\n", bench_pcpu_sum(&rd_attempted),
		   rd ? rd->lost() : 0, RD_REC);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(rd_stats);

static ssize_t ctl_write(struct file *file, const char __user *ubuf, size_t count, loff_t *ppos)
{
	char cmd[32] = {};
	int ret;

	if (copy_from_user(cmd, ubuf, min(count, sizeof(cmd) - 1)))
		return -EFAULT;
	mutex_lock(&lock);
	if (!strncmp(cmd, "run", 3)) {
		rec = kmalloc(4096, GFP_KERNEL);
		ret = -ENOMEM;
		if (rec) {
			memset(rec, 0x5a, 4096);
			ret = run();
		}
		kfree(rec);
		rec = NULL;
	} else {
		ret = rd_cmd(cmd);
	}
	mutex_unlock(&lock);
	return ret ?: count;
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.write = ctl_write,
};

static int __init relay_rs_bench_init(void)
{
	dir = debugfs_create_dir("relay_rs_bench", NULL);
	debugfs_create_file("ctl", 0200, dir, NULL, &ctl_fops);
	debugfs_create_file("results", 0400, dir, NULL, &results_fops);
	debugfs_create_file("rd_stats", 0400, dir, NULL, &rd_stats_fops);
#ifdef CONFIG_RING_BUFFER
	debugfs_create_file("rd_consume", 0400, dir, NULL, &rd_consume_fops);
#endif
	return 0;
}

static void __exit relay_rs_bench_exit(void)
{
	rd_writers_stop();
	debugfs_remove(dir);
	kfree(results);
}

module_init(relay_rs_bench_init);
module_exit(relay_rs_bench_exit);
MODULE_DESCRIPTION("relay_rs benchmark against the kernel's relay");
MODULE_LICENSE("GPL");
