// SPDX-License-Identifier: GPL-2.0
/*
 * relay_rs stress driver. Writers in every context a relay client uses:
 * bound kthreads (process context: relay_rs_write and relay_rs_reserve under
 * local_irq_save), pinned hrtimers (hard IRQ) and timers (softirq), with
 * record sizes that vary and sometimes do not fit a sub-buffer, into three
 * per-CPU channels (st_a, st_b, st_c: one per reader kind in the guest), a
 * global channel written from every CPU under a client lock and flushed from
 * another CPU (st_g), and a global channel reset from another CPU (st_r,
 * integrity only: a reset discards unread data by design). Another kthread
 * opens and closes channels all along.
 *
 * Records are relay_rs_sample_record.h's; the "cpu" field is a source id
 * (channel * 1000 + cpu * 4 + context), so that every source has one
 * sequence. relay_rs_stress/summary lists what each channel's sources wrote
 * and what the channel lost; writing "stop" to relay_rs_stress/ctl stops
 * the writers and flushes everything.
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

#include "../../include/relay_rs.h"
#include "../../samples/relay_rs_sample_record.h"
#include "stress.h"

#define NCHAN		5	/* st_a, st_b, st_c (per-CPU), st_g, st_r (global) */
#define CH_G		3
#define CH_R		4
#define SUBBUF		4096
#define NSUBBUF		8
#define MAXREC		(SUBBUF + 64)

static const char *const names[NCHAN] = { "st_a", "st_b", "st_c", "st_g", "st_r" };
static struct dentry *dir;
static struct rchan *chans[NCHAN];
static DEFINE_SPINLOCK(g_lock);
/* Reset may sleep (it waits for pending wake-ups): a mutex keeps st_r's writers out. */
static DEFINE_MUTEX(r_lock);
static bool stopped;
static unsigned long resets;

/* Per source: records attempted (written). Sources: chan * 1000 + cpu * 4 + ctx. */
static atomic64_t written[NCHAN][NR_CPUS][3];

static struct percpu_writer writers[NR_CPUS];
static struct task_struct *flusher, *resetter, *churner;

static u32 rec_len(u64 seq)
{
	/* Every 61st record cannot fit a sub-buffer: counted as lost_big. */
	if (seq % 61 == 60)
		return SUBBUF + 8;
	return RRS_HDR_LEN + (seq * 37) % 400;
}

static void one(int ch, unsigned int cpu, int ctx, bool reserve, u8 *scratch)
{
	atomic64_t *w = &written[ch][cpu][ctx];
	u64 seq = atomic64_read(w);
	u32 len = rec_len(seq);
	unsigned long flags;
	void *slot;

	rrs_fill((struct rrs_record *)scratch, len, ch * 1000 + cpu * 4 + ctx, seq);
	if (ch == CH_G) {
		spin_lock_irqsave(&g_lock, flags);
		relay_rs_write(chans[ch], scratch, len);
		atomic64_inc(w);
		spin_unlock_irqrestore(&g_lock, flags);
		return;
	}
	if (ch == CH_R) {
		mutex_lock(&r_lock);
		relay_rs_write(chans[ch], scratch, len);
		atomic64_inc(w);
		mutex_unlock(&r_lock);
		return;
	}
	if (reserve) {
		local_irq_save(flags);
		slot = relay_rs_reserve(chans[ch], len);
		if (slot)
			memcpy(slot, scratch, len);
		local_irq_restore(flags);
	} else {
		relay_rs_write(chans[ch], scratch, len);
	}
	atomic64_inc(w);
}

static DEFINE_PER_CPU(u8[MAXREC], irq_scratch);

static enum hrtimer_restart hrt_fn(struct hrtimer *t)
{
	struct percpu_writer *pw = container_of(t, struct percpu_writer, hrt);
	u8 *s = this_cpu_ptr(irq_scratch);
	int ch;

	if (READ_ONCE(stopped))
		return HRTIMER_NORESTART;
	for (ch = 0; ch < 3; ch++)
		one(ch, pw->cpu, 1, false, s);
	hrtimer_forward_now(t, ns_to_ktime(NSEC_PER_MSEC));
	return HRTIMER_RESTART;
}

static void timer_fn(struct timer_list *t)
{
	struct percpu_writer *pw = container_of(t, struct percpu_writer, timer);
	u8 *s = this_cpu_ptr(irq_scratch);
	unsigned long flags;
	int ch;

	if (READ_ONCE(stopped))
		return;
	/* The hrtimer shares the scratch area: keep it out while we use it. */
	local_irq_save(flags);
	for (ch = 0; ch < 3; ch++)
		one(ch, pw->cpu, 2, false, s);
	local_irq_restore(flags);
	mod_timer(&pw->timer, jiffies + 1);
}

static int writer_fn(void *arg)
{
	struct percpu_writer *pw = arg;
	u8 *s = kmalloc(MAXREC, GFP_KERNEL);
	u64 n = 0;
	int ch;

	if (!s)
		return -ENOMEM;
	hrtimer_start(&pw->hrt, ns_to_ktime(NSEC_PER_MSEC), HRTIMER_MODE_REL_PINNED);
	mod_timer(&pw->timer, jiffies + 1);
	while (!kthread_should_stop()) {
		if (!READ_ONCE(stopped)) {
			for (ch = 0; ch < NCHAN; ch++)
				one(ch, pw->cpu, 0, n % 2, s);
			n++;
		}
		/* Bounded volume: the guest keeps what the readers get in RAM. */
		if (n % 2 == 0)
			usleep_range(200, 400);
	}
	kfree(s);
	return 0;
}

static int flusher_fn(void *arg)
{
	unsigned long flags;

	while (!kthread_should_stop()) {
		spin_lock_irqsave(&g_lock, flags);
		relay_rs_flush(chans[CH_G]);
		spin_unlock_irqrestore(&g_lock, flags);
		usleep_range(10000, 11000);
	}
	return 0;
}

static int resetter_fn(void *arg)
{
	while (!kthread_should_stop()) {
		msleep(50);
		mutex_lock(&r_lock);
		relay_rs_flush(chans[CH_R]);
		relay_rs_reset(chans[CH_R]);
		resets++;
		mutex_unlock(&r_lock);
	}
	return 0;
}

static int churner_fn(void *arg)
{
	u8 rec[64];
	struct rchan *c;
	int i;

	while (!kthread_should_stop()) {
		c = relay_rs_open("churn", dir, 1024, 4, NULL, NULL);
		if (c) {
			for (i = 0; i < 50; i++) {
				rrs_fill((struct rrs_record *)rec, sizeof(rec), 9999, i);
				relay_rs_write(c, rec, sizeof(rec));
			}
			relay_rs_flush(c);
			relay_rs_close(c);
		}
		usleep_range(5000, 6000);
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
	kthread_stop(flusher);
	kthread_stop(resetter);
	kthread_stop(churner);
	/* Every writer is gone: flushing per-CPU channels is safe now. */
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
			for (ctx = 0; ctx < 3; ctx++)
				if (atomic64_read(&written[ch][cpu][ctx]))
					seq_printf(m, "cpu %u written %lld\n", ch * 1000 + cpu * 4 + ctx,
						   atomic64_read(&written[ch][cpu][ctx]));
		seq_printf(m, "lost_full %zu\nlost_big %zu\n",
			   relay_rs_stats(chans[ch], RELAY_RS_STATS_BUF_FULL),
			   relay_rs_stats(chans[ch], RELAY_RS_STATS_WRT_BIG));
	}
	seq_printf(m, "stopped %d\nresets %lu\n", stopped, resets);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(summary);


static int __init relay_rs_stress_init(void)
{
	unsigned int cpu;
	int ch;

	dir = debugfs_create_dir("relay_rs_stress", NULL);
	for (ch = 0; ch < NCHAN; ch++) {
		chans[ch] = relay_rs_open(names[ch], dir, SUBBUF, NSUBBUF,
					  ch >= CH_G ? &global_cb : NULL, NULL);
		if (!chans[ch])
			goto fail;
	}
	debugfs_create_file("summary", 0400, dir, NULL, &summary_fops);
	debugfs_create_file("ctl", 0200, dir, NULL, &ctl_fops);
	flusher = kthread_run(flusher_fn, NULL, "relay_rs_flush");
	resetter = kthread_run(resetter_fn, NULL, "relay_rs_reset");
	churner = kthread_run(churner_fn, NULL, "relay_rs_churn");
	cpus_read_lock();
	for_each_online_cpu(cpu)
		stress_writer_start(&writers[cpu], cpu, hrt_fn, timer_fn, writer_fn,
				    "relay_rs_st/%u");
	cpus_read_unlock();
	return 0;
fail:
	while (ch--)
		relay_rs_close(chans[ch]);
	debugfs_remove(dir);
	return -ENOMEM;
}

static void __exit relay_rs_stress_exit(void)
{
	int ch;

	stop_all();
	for (ch = 0; ch < NCHAN; ch++)
		relay_rs_close(chans[ch]);
	debugfs_remove(dir);
}

module_init(relay_rs_stress_init);
module_exit(relay_rs_stress_exit);
MODULE_DESCRIPTION("relay_rs stress driver");
MODULE_LICENSE("GPL");
