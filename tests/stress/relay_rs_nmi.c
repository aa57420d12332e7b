// SPDX-License-Identifier: GPL-2.0
/*
 * relay_rs NMI stress driver: lockless channels (RELAY_RS_LOCKLESS) written
 * on every CPU from every context at once, nesting: a bound kthread (task:
 * __relay_rs_write, relay_rs_reserve and relay_rs_lockless_reserve/commit
 * with only preemption off), a pinned timer (softirq), a pinned hrtimer
 * (hard IRQ) and NMIs, which each of the other writers sends its own CPU
 * through the local APIC (a self-IPI with the NMI vector) in the middle of
 * its writes, so that the NMI handler's records land inside theirs. Three per-CPU channels (nmi_a, nmi_b, nmi_c:
 * one per reader kind in the guest) and a global one, written from every
 * CPU without a lock (nmi_g).
 *
 * Records and the summary are those of relay_rs_stress.c: the "cpu" field
 * is a source id (channel * 1000 + cpu * 4 + context level), one sequence
 * per source. Writing "stop" to relay_rs_nmi/ctl stops the writers and
 * flushes; the summary also counts the NMIs handled.
 */
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/kthread.h>
#include <linux/hrtimer.h>
#include <linux/timer.h>
#include <linux/delay.h>
#include <linux/uaccess.h>
#include <linux/cpu.h>
#include <asm/apic.h>
#include <asm/nmi.h>

#include "../../include/relay_rs.h"
#include "../../samples/relay_rs_sample_record.h"
#include "stress.h"

#define NCHAN		4	/* nmi_a, nmi_b, nmi_c (per-CPU), nmi_g (global) */
#define CH_G		3
#define NCTX		4	/* task, softirq, hardirq, NMI */
#define CTX_NMI		3
#define SUBBUF		4096
#define NSUBBUF		8
#define MAXREC		(SUBBUF + 64)

static const char *const names[NCHAN] = { "nmi_a", "nmi_b", "nmi_c", "nmi_g" };
static struct dentry *dir;
static struct rchan *chans[NCHAN];
static bool stopped;
static bool nmi_registered;

/* Records attempted per channel and source: the conservation's left side. */
static atomic64_t written[NCHAN][NR_CPUS][NCTX];
static atomic64_t nmis;


static struct percpu_writer writers[NR_CPUS];
/*
 * Scratch per CPU and context level (the levels interrupt each other),
 * allocated at load: too big for a module's static per-CPU area.
 */
static u8 *scratch[NR_CPUS][NCTX];
/* NMIs this CPU sent itself and has not handled yet. */
static DEFINE_PER_CPU(atomic_t, nmi_expected);

static u32 rec_len(u64 seq)
{
	/* Every 61st record cannot fit a sub-buffer: counted as lost_big. */
	if (seq % 61 == 60)
		return SUBBUF + 8;
	return RRS_HDR_LEN + (seq * 37) % 400;
}

/* An NMI on this CPU, now: it lands in whatever this CPU does next. */
static void self_nmi(void)
{
	atomic_inc(this_cpu_ptr(&nmi_expected));
	__apic_send_IPI_self(NMI_VECTOR);
}

/*
 * How a record goes in: __relay_rs_write(); relay_rs_reserve(), committed
 * by the source's next record or the final flush; or
 * relay_rs_lockless_reserve(), committed by relay_rs_lockless_commit()
 * once filled.
 */
enum how { BY_WRITE, BY_RESERVE, BY_RESERVE_COMMIT };

/*
 * One record of source (@ch, @src, @ctx) from the current context, which
 * keeps its CPU (preemption off, or an interrupt), written as @how says.
 * @nmi: send this CPU an NMI between reserving and filling.
 */
static void one(int ch, unsigned int src, int ctx, enum how how, bool nmi)
{
	atomic64_t *w = &written[ch][src][ctx];
	u8 *s = scratch[smp_processor_id()][ctx];
	u64 seq = atomic64_read(w);
	u32 len = rec_len(seq);
	struct rchan_buf *buf;
	unsigned long handle;
	void *slot;

	rrs_fill((struct rrs_record *)s, len, ch * 1000 + src * 4 + ctx, seq);
	atomic64_inc(w);
	switch (how) {
	case BY_RESERVE:
		slot = relay_rs_reserve(chans[ch], len);
		if (nmi)
			self_nmi();
		if (slot)
			memcpy(slot, s, len);
		return;
	case BY_RESERVE_COMMIT:
		buf = this_cpu_read(*chans[ch]->buf);
		slot = relay_rs_lockless_reserve(buf, len, &handle);
		if (nmi)
			self_nmi();
		if (slot) {
			memcpy(slot, s, len);
			relay_rs_lockless_commit(buf, handle);
		}
		return;
	case BY_WRITE:
		break;
	}
	if (nmi)
		self_nmi();
	__relay_rs_write(chans[ch], s, len);
}

static int nmi_fn(unsigned int type, struct pt_regs *regs)
{
	unsigned int cpu = smp_processor_id();
	int ch;

	if (atomic_dec_if_positive(this_cpu_ptr(&nmi_expected)) < 0)
		return NMI_DONE;
	atomic64_inc(&nmis);
	if (READ_ONCE(stopped) || !cpu_online(cpu))
		return NMI_HANDLED;
	for (ch = 0; ch < NCHAN; ch++)
		one(ch, cpu, CTX_NMI,
		    atomic64_read(&nmis) % 2 ? BY_RESERVE_COMMIT : BY_WRITE, false);
	return NMI_HANDLED;
}

static enum hrtimer_restart hrt_fn(struct hrtimer *t)
{
	struct percpu_writer *pw = container_of(t, struct percpu_writer, hrt);
	int ch;

	if (READ_ONCE(stopped))
		return HRTIMER_NORESTART;
	for (ch = 0; ch < NCHAN; ch++)
		one(ch, pw->cpu, 2, ch == 3 ? BY_RESERVE_COMMIT : BY_WRITE, ch == 1);
	hrtimer_forward_now(t, ns_to_ktime(NSEC_PER_MSEC));
	return HRTIMER_RESTART;
}

static void timer_fn(struct timer_list *t)
{
	struct percpu_writer *pw = container_of(t, struct percpu_writer, timer);
	int ch;

	if (READ_ONCE(stopped))
		return;
	for (ch = 0; ch < NCHAN; ch++)
		one(ch, pw->cpu, 1, ch == 2 ? BY_RESERVE : BY_WRITE, ch == 0);
	mod_timer(&pw->timer, jiffies + 1);
}

static int writer_fn(void *arg)
{
	struct percpu_writer *pw = arg;
	u64 n = 0;
	int ch;

	hrtimer_start(&pw->hrt, ns_to_ktime(NSEC_PER_MSEC), HRTIMER_MODE_REL_PINNED);
	mod_timer(&pw->timer, jiffies + 1);
	while (!kthread_should_stop()) {
		if (!READ_ONCE(stopped)) {
			for (ch = 0; ch < NCHAN; ch++) {
				/* Keep the CPU from the reservation to its fill. */
				preempt_disable();
				one(ch, pw->cpu, 0, n % 4 == 1 ? BY_RESERVE :
					n % 4 == 3 ? BY_RESERVE_COMMIT : BY_WRITE,
				    n % 3 == 0);
				preempt_enable();
			}
			n++;
		}
		/* Bounded volume: the guest keeps what the readers get in RAM. */
		usleep_range(1000, 2000);
	}
	return 0;
}

static void stop_all(void)
{
	unsigned int cpu;
	int ch;

	if (stopped)
		return;
	WRITE_ONCE(stopped, true);
	for_each_possible_cpu(cpu)
		stress_writer_stop(&writers[cpu]);
	if (nmi_registered)
		unregister_nmi_handler(NMI_LOCAL, "relay_rs_nmi");
	nmi_registered = false;
	/* Every writer is gone: the flush commits what they reserved last. */
	for (ch = 0; ch < NCHAN; ch++)
		relay_rs_flush(chans[ch]);
}

static int summary_show(struct seq_file *m, void *v)
{
	unsigned int cpu, ctx;
	int ch;

	for (ch = 0; ch < NCHAN; ch++) {
		seq_printf(m, "channel %s\n", names[ch]);
		for_each_possible_cpu(cpu)
			for (ctx = 0; ctx < NCTX; ctx++)
				if (atomic64_read(&written[ch][cpu][ctx]))
					seq_printf(m, "cpu %u written %lld\n", ch * 1000 + cpu * 4 + ctx,
						   atomic64_read(&written[ch][cpu][ctx]));
		seq_printf(m, "lost_full %zu\nlost_big %zu\n",
			   relay_rs_stats(chans[ch], RELAY_RS_STATS_BUF_FULL),
			   relay_rs_stats(chans[ch], RELAY_RS_STATS_WRT_BIG));
	}
	seq_printf(m, "stopped %d\nnmis %lld\n", stopped, atomic64_read(&nmis));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(summary);


static void free_scratch(void)
{
	unsigned int cpu, ctx;

	for_each_possible_cpu(cpu)
		for (ctx = 0; ctx < NCTX; ctx++)
			kfree(scratch[cpu][ctx]);
}

static int __init relay_rs_nmi_init(void)
{
	unsigned int cpu;
	int ch, ret;

	for_each_possible_cpu(cpu)
		for (ch = 0; ch < NCTX; ch++) {
			scratch[cpu][ch] = kmalloc(MAXREC, GFP_KERNEL);
			if (!scratch[cpu][ch])
				goto nomem;
		}
	dir = debugfs_create_dir("relay_rs_nmi", NULL);
	for (ch = 0; ch < NCHAN; ch++) {
		chans[ch] = relay_rs_open_flags(names[ch], dir, SUBBUF, NSUBBUF,
						ch == CH_G ? &global_cb : NULL, NULL,
						RELAY_RS_LOCKLESS);
		if (!chans[ch])
			goto fail;
	}
	ret = register_nmi_handler(NMI_LOCAL, nmi_fn, 0, "relay_rs_nmi");
	if (ret)
		goto fail;
	nmi_registered = true;
	debugfs_create_file("summary", 0400, dir, NULL, &summary_fops);
	debugfs_create_file("ctl", 0200, dir, NULL, &ctl_fops);
	cpus_read_lock();
	for_each_online_cpu(cpu)
		stress_writer_start(&writers[cpu], cpu, hrt_fn, timer_fn, writer_fn,
				    "relay_rs_nmi/%u");
	cpus_read_unlock();
	return 0;
fail:
	while (ch--)
		relay_rs_close(chans[ch]);
	debugfs_remove(dir);
nomem:
	free_scratch();
	return -ENOMEM;
}

static void __exit relay_rs_nmi_exit(void)
{
	int ch;

	stop_all();
	for (ch = 0; ch < NCHAN; ch++)
		relay_rs_close(chans[ch]);
	debugfs_remove(dir);
	free_scratch();
}

module_init(relay_rs_nmi_init);
module_exit(relay_rs_nmi_exit);
MODULE_DESCRIPTION("relay_rs NMI stress driver: lockless channels");
MODULE_LICENSE("GPL");
