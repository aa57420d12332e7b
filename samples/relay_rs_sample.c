// SPDX-License-Identifier: GPL-2.0
/*
 * relay_rs sample client: opens a per-CPU channel in debugfs
 * (relay_rs_sample/cpuN) and logs numbered, checksummed records from every
 * online CPU, cycling through the three write paths (relay_rs_write,
 * __relay_rs_write and relay_rs_reserve). relay_rs_sample/summary tells
 * user space how many records were written per CPU and how many the
 * channel dropped, so a reader can check that nothing was lost silently.
 */
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/cpu.h>
#include <linux/irqflags.h>

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

static struct dentry *dir;
static struct rchan *chan;
static u64 written[NR_CPUS];

static long write_records(void *arg)
{
	unsigned int cpu = (unsigned long)arg;
	struct rrs_record *rec;
	unsigned long flags;
	void *slot;
	u64 seq;

	rec = kmalloc(record_size, GFP_KERNEL);
	if (!rec)
		return -ENOMEM;
	for (seq = 0; seq < nr_records; seq++) {
		rrs_fill(rec, record_size, cpu, seq);
		switch (seq % 3) {
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
	}
	kfree(rec);
	return 0;
}

static int summary_show(struct seq_file *m, void *v)
{
	unsigned int cpu;

	for_each_online_cpu(cpu)
		seq_printf(m, "cpu %u written %llu\n", cpu, written[cpu]);
	seq_printf(m, "lost_full %zu\n", relay_rs_stats(chan, RELAY_RS_STATS_BUF_FULL));
	seq_printf(m, "lost_big %zu\n", relay_rs_stats(chan, RELAY_RS_STATS_WRT_BIG));
	seq_printf(m, "record_size %u\n", record_size);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(summary);

static int __init relay_rs_sample_init(void)
{
	unsigned int cpu;
	long ret;

	if (record_size < RRS_HDR_LEN) {
		pr_warn("relay_rs_sample: record_size must be at least %d\n", RRS_HDR_LEN);
		return -EINVAL;
	}
	dir = debugfs_create_dir("relay_rs_sample", NULL);
	/* NULL callbacks: default per-CPU debugfs files, no-overwrite mode. */
	chan = relay_rs_open("cpu", dir, subbuf_size, n_subbufs, NULL, NULL);
	if (!chan) {
		debugfs_remove(dir);
		return -ENOMEM;
	}
	debugfs_create_file("summary", 0400, dir, NULL, &summary_fops);

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		ret = work_on_cpu(cpu, write_records, (void *)(unsigned long)cpu);
		if (ret)
			pr_warn("relay_rs_sample: cpu %u: %ld\n", cpu, ret);
	}
	cpus_read_unlock();
	relay_rs_flush(chan);
	return 0;
}

static void __exit relay_rs_sample_exit(void)
{
	relay_rs_close(chan);
	debugfs_remove(dir);
}

module_init(relay_rs_sample_init);
module_exit(relay_rs_sample_exit);
MODULE_DESCRIPTION("relay_rs sample: checksummed records from every CPU");
MODULE_LICENSE("GPL");
