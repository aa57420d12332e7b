// SPDX-License-Identifier: GPL-2.0
/*
 * relay_rs sample client: opens a per-CPU channel in debugfs
 * (relay_rs_sample/cpuN) and logs numbered, checksummed records from every
 * online CPU, cycling through the three write paths (relay_rs_write,
 * __relay_rs_write and relay_rs_reserve). relay_rs_sample/summary tells
 * user space how many records were written per CPU and how many the
 * channel dropped, so a reader can check that nothing was lost silently.
 *
 * By default the records are written at load time. With live=1, one kthread
 * per CPU writes them while user space reads ("done" in the summary counts
 * the finished ones). Writing "write CPU N" to relay_rs_sample/ctl logs N
 * more records on CPU, "flush" flushes the channel, "delivery MS" sets its
 * delivery interval (relay_rs_set_delivery_interval()), "period MS" has a
 * work on CPU 0 write one record every MS milliseconds (0 stops it). With
 * timestamps=1 the records carry the time they were written (RRT1, see
 * relay_rs_sample_record.h).
 */
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/cpu.h>
#include <linux/irqflags.h>
#include <linux/kthread.h>
#include <linux/delay.h>
#include <linux/uaccess.h>
#include <linux/timekeeping.h>

#include "../include/relay_rs.h"
#include "relay_rs_sample_record.h"

static unsigned int nr_records = 1000;
module_param(nr_records, uint, 0444);
MODULE_PARM_DESC(nr_records, "records written per CPU");

static unsigned int record_size = 64;
module_param(record_size, uint, 0444);
MODULE_PARM_DESC(record_size, "bytes per record (at least 24)");

static unsigned long subbuf_size = 16384;
module_param(subbuf_size, ulong, 0444);
MODULE_PARM_DESC(subbuf_size, "sub-buffer size in bytes");

static unsigned long n_subbufs = 8;
module_param(n_subbufs, ulong, 0444);
MODULE_PARM_DESC(n_subbufs, "number of sub-buffers per CPU");

static bool live;
module_param(live, bool, 0444);
MODULE_PARM_DESC(live, "write from per-CPU kthreads while user space reads");

static bool overwrite;
module_param(overwrite, bool, 0444);
MODULE_PARM_DESC(overwrite, "overwrite mode (flight recorder): a full buffer drops its oldest data");

static bool timestamps;
module_param(timestamps, bool, 0444);
MODULE_PARM_DESC(timestamps, "timestamped records (RRT1, at least 32 bytes): relay-read --latency reports their delay");

static unsigned int period_ms;

static unsigned int delivery_ms;
module_param(delivery_ms, uint, 0444);
MODULE_PARM_DESC(delivery_ms, "the channel's delivery interval at load (0: none)");

static unsigned int write_path;
module_param(write_path, uint, 0444);
MODULE_PARM_DESC(write_path, "0: cycle through relay_rs_write, __relay_rs_write and relay_rs_reserve (a reserved record becomes readable at the next reservation or switch); 1: relay_rs_write only");

static u64 last_write_ns;	/* ktime_get_ns() after the last record */

static struct dentry *dir;
static struct rchan *chan;
static u64 written[NR_CPUS];
static struct task_struct *writers[NR_CPUS];
static atomic_t done = ATOMIC_INIT(0);
static atomic_t mapped = ATOMIC_INIT(0);
static atomic_t unmapped = ATOMIC_INIT(0);

static void buf_mapped(struct rchan_buf *buf, struct file *filp)
{
	atomic_inc(&mapped);
}

static void buf_unmapped(struct rchan_buf *buf, struct file *filp)
{
	atomic_inc(&unmapped);
}

/* Overwrite mode: every switch succeeds, so the oldest data goes. */
#if RELAY_RS_RELAY_H_7_3
static int always_switch(struct rchan_buf *buf, void *subbuf, void *prev_subbuf)
#else
static int always_switch(struct rchan_buf *buf, void *subbuf, void *prev_subbuf,
			 size_t prev_padding)
#endif
{
	return 1;
}

/* Only the mapping callbacks: the NULL entries get relay_rs' defaults. */
static const struct rchan_callbacks sample_cb = {
	.buf_mapped = buf_mapped,
	.buf_unmapped = buf_unmapped,
};

static const struct rchan_callbacks overwrite_cb = {
	.subbuf_start = always_switch,
	.buf_mapped = buf_mapped,
	.buf_unmapped = buf_unmapped,
};
static DEFINE_MUTEX(ctl_lock);

struct job {
	unsigned int cpu;
	unsigned int count;
};

/* Writes job->count more records on job->cpu, where this runs. */
static long write_records(void *arg)
{
	struct job *job = arg;
	unsigned int cpu = job->cpu;
	struct rrs_record *rec;
	unsigned long flags;
	unsigned int i;
	void *slot;
	u64 seq;

	rec = kmalloc(record_size, GFP_KERNEL);
	if (!rec)
		return -ENOMEM;
	for (i = 0; i < job->count; i++) {
		seq = written[cpu];
		if (timestamps)
			rrs_fill_ts(rec, record_size, cpu, seq, ktime_get_ns());
		else
			rrs_fill(rec, record_size, cpu, seq);
		switch (write_path ? 0 : seq % 3) {
		case 0:
			relay_rs_write(chan, rec, record_size);
			break;
		case 1:
			preempt_disable();
			__relay_rs_write(chan, rec, record_size);
			preempt_enable();
			break;
		default:
			local_irq_save(flags);
			slot = relay_rs_reserve(chan, record_size);
			if (slot)
				memcpy(slot, rec, record_size);
			local_irq_restore(flags);
			break;
		}
		written[cpu]++;
		WRITE_ONCE(last_write_ns, ktime_get_ns());
		/* Live writers pause now and then so that readers keep up. */
		if (live && i % 32 == 31)
			usleep_range(20, 50);
	}
	kfree(rec);
	return 0;
}

static int live_writer(void *arg)
{
	struct job job = { .cpu = (unsigned long)arg, .count = nr_records };

	write_records(&job);
	atomic_inc(&done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ / 10);
	return 0;
}

/* "period MS": one record on CPU 0 (a bound kworker there) every MS ms. */
static void periodic_write(struct work_struct *work);
static DECLARE_DELAYED_WORK(periodic_work, periodic_write);

static void periodic_write(struct work_struct *work)
{
	struct job job = { .cpu = 0, .count = 1 };

	mutex_lock(&ctl_lock);
	write_records(&job);
	mutex_unlock(&ctl_lock);
	if (READ_ONCE(period_ms))
		queue_delayed_work_on(0, system_wq, &periodic_work,
				      msecs_to_jiffies(READ_ONCE(period_ms)));
}

static ssize_t ctl_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	unsigned int ms;
	struct job job;
	char cmd[32];
	int ret;

	if (count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';
	if (!strncmp(cmd, "flush", 5)) {
		relay_rs_flush(chan);
		return count;
	}
	if (sscanf(cmd, "period %u", &ms) == 1) {
		cancel_delayed_work_sync(&periodic_work);
		WRITE_ONCE(period_ms, ms);
		if (ms)
			queue_delayed_work_on(0, system_wq, &periodic_work, msecs_to_jiffies(ms));
		return count;
	}
	if (sscanf(cmd, "delivery %u", &ms) == 1) {
		ret = relay_rs_set_delivery_interval(chan, ms);
		return ret ? ret : count;
	}
	if (sscanf(cmd, "write %u %u", &job.cpu, &job.count) != 2 ||
	    job.cpu >= nr_cpu_ids || !cpu_online(job.cpu))
		return -EINVAL;
	mutex_lock(&ctl_lock);
	work_on_cpu(job.cpu, write_records, &job);
	mutex_unlock(&ctl_lock);
	return count;
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.write = ctl_write,
};

static int summary_show(struct seq_file *m, void *v)
{
	unsigned int cpu;

	for_each_online_cpu(cpu)
		seq_printf(m, "cpu %u written %llu\n", cpu, written[cpu]);
	seq_printf(m, "lost_full %zu\n", relay_rs_stats(chan, RELAY_RS_STATS_BUF_FULL));
	seq_printf(m, "lost_big %zu\n", relay_rs_stats(chan, RELAY_RS_STATS_WRT_BIG));
	seq_printf(m, "overwritten %zu\n", relay_rs_stats(chan, RELAY_RS_STATS_OVERWRITTEN));
	seq_printf(m, "record_size %u\n", record_size);
	seq_printf(m, "last_write_ns %llu\n", READ_ONCE(last_write_ns));
	seq_printf(m, "done %d\n", atomic_read(&done));
	seq_printf(m, "mapped %d unmapped %d\n", atomic_read(&mapped), atomic_read(&unmapped));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(summary);

static int __init relay_rs_sample_init(void)
{
	unsigned int cpu;
	long ret;

	if (record_size < (timestamps ? RRS_TS_HDR_LEN : RRS_HDR_LEN)) {
		pr_warn("relay_rs_sample: record_size must be at least %d\n",
			timestamps ? RRS_TS_HDR_LEN : RRS_HDR_LEN);
		return -EINVAL;
	}
	dir = debugfs_create_dir("relay_rs_sample", NULL);
	/* Default per-CPU debugfs files, no-overwrite mode unless asked. */
	chan = relay_rs_open("cpu", dir, subbuf_size, n_subbufs,
			     overwrite ? &overwrite_cb : &sample_cb, NULL);
	if (!chan) {
		debugfs_remove(dir);
		return -ENOMEM;
	}
	if (delivery_ms && relay_rs_set_delivery_interval(chan, delivery_ms)) {
		relay_rs_close(chan);
		debugfs_remove(dir);
		return -EINVAL;
	}
	debugfs_create_file("summary", 0400, dir, NULL, &summary_fops);
	debugfs_create_file("ctl", 0200, dir, NULL, &ctl_fops);

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct job job = { .cpu = cpu, .count = nr_records };

		if (live) {
			writers[cpu] = kthread_create_on_cpu(live_writer,
							     (void *)(unsigned long)cpu,
							     cpu, "relay_rs_w/%u");
			if (IS_ERR(writers[cpu])) {
				writers[cpu] = NULL;
				pr_warn("relay_rs_sample: no writer on cpu %u\n", cpu);
				continue;
			}
			wake_up_process(writers[cpu]);
			continue;
		}
		ret = work_on_cpu(cpu, write_records, &job);
		if (ret)
			pr_warn("relay_rs_sample: cpu %u: %ld\n", cpu, ret);
	}
	cpus_read_unlock();
	if (!live)
		relay_rs_flush(chan);
	return 0;
}

static void __exit relay_rs_sample_exit(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		if (writers[cpu])
			kthread_stop(writers[cpu]);
	cancel_delayed_work_sync(&periodic_work);
	relay_rs_close(chan);
	debugfs_remove(dir);
}

module_init(relay_rs_sample_init);
module_exit(relay_rs_sample_exit);
MODULE_DESCRIPTION("relay_rs sample: checksummed records from every CPU");
MODULE_LICENSE("GPL");
