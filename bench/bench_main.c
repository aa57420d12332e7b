// SPDX-License-Identifier: GPL-2.0
/*
 * relay_rs_bench: write-path cost of the kernel's relay and of relay_rs,
 * measured side by side in one boot. Writing "run" to relay_rs_bench/ctl
 * runs every (path, record size, geometry) case for ROUNDS rounds, the two
 * implementations interleaved A B A B; relay_rs_bench/results then holds
 * one CSV line per measurement: impl,path,size,subbuf,n_subbufs,round,ns_per_record
 * (one CPU, overwrite mode, no reader, preemption and interrupts as each
 * path needs them).
 */
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/ktime.h>
#include <linux/uaccess.h>
#include "bench.h"

#define ROUNDS	11

static unsigned int records = 20000;
module_param(records, uint, 0444);
MODULE_PARM_DESC(records, "records per timed block");

static const char *const path_names[NR_PATHS] = { "write", "__write", "reserve" };
static const size_t sizes[] = { 8, 64, 256, 1024, 4000 };
static const struct { size_t size, n; } geos[] = { { 4096, 8 }, { 262144, 8 } };

struct result {
	u8 impl, path, size, geo, round;
	u64 ns_per_k;	/* ns per 1000 records */
};

static struct dentry *dir;
static struct result *results;
static unsigned int nr_results;
static DEFINE_MUTEX(lock);

static u64 timed(bool rs, enum bench_path path, const void *rec, size_t len)
{
	u64 t0 = ktime_get_ns();

	if (rs)
		bench_rs_loop(path, rec, len, records);
	else
		bench_c_loop(path, rec, len, records);
	return (ktime_get_ns() - t0) * 1000 / records;
}

static int run(void)
{
	unsigned int g, s, p, r, max;
	u8 *rec;

	max = ARRAY_SIZE(geos) * ARRAY_SIZE(sizes) * NR_PATHS * ROUNDS * 2;
	kfree(results);
	results = kcalloc(max, sizeof(*results), GFP_KERNEL);
	rec = kmalloc(4096, GFP_KERNEL);
	if (!results || !rec) {
		kfree(rec);
		return -ENOMEM;
	}
	memset(rec, 0x5a, 4096);
	nr_results = 0;
	for (g = 0; g < ARRAY_SIZE(geos); g++) {
		if (bench_c_open(dir, geos[g].size, geos[g].n))
			goto fail;
		if (bench_rs_open(dir, geos[g].size, geos[g].n)) {
			bench_c_close();
			goto fail;
		}
		for (s = 0; s < ARRAY_SIZE(sizes); s++)
			for (p = 0; p < NR_PATHS; p++) {
				/* Warm both up, then A B A B ... */
				timed(false, p, rec, sizes[s]);
				timed(true, p, rec, sizes[s]);
				for (r = 0; r < ROUNDS; r++) {
					results[nr_results++] = (struct result){ 0, p, s, g, r,
						timed(false, p, rec, sizes[s]) };
					results[nr_results++] = (struct result){ 1, p, s, g, r,
						timed(true, p, rec, sizes[s]) };
					cond_resched();
				}
			}
		bench_c_close();
		bench_rs_close();
	}
	kfree(rec);
	return 0;
fail:
	kfree(rec);
	return -ENOMEM;
}

static int results_show(struct seq_file *m, void *v)
{
	unsigned int i;

	mutex_lock(&lock);
	for (i = 0; i < nr_results; i++) {
		struct result *r = &results[i];

		seq_printf(m, "%s,%s,%zu,%zu,%zu,%u,%llu.%03llu\n", r->impl ? "relay_rs" : "c_relay",
			   path_names[r->path], sizes[r->size], geos[r->geo].size, geos[r->geo].n,
			   r->round, r->ns_per_k / 1000, r->ns_per_k % 1000);
	}
	mutex_unlock(&lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(results);

static ssize_t ctl_write(struct file *file, const char __user *ubuf, size_t count, loff_t *ppos)
{
	char cmd[8] = {};
	int ret;

	if (copy_from_user(cmd, ubuf, min(count, sizeof(cmd) - 1)))
		return -EFAULT;
	if (strncmp(cmd, "run", 3))
		return -EINVAL;
	mutex_lock(&lock);
	ret = run();
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
	return 0;
}

static void __exit relay_rs_bench_exit(void)
{
	debugfs_remove(dir);
	kfree(results);
}

module_init(relay_rs_bench_init);
module_exit(relay_rs_bench_exit);
MODULE_DESCRIPTION("relay_rs benchmark against the kernel's relay");
MODULE_LICENSE("GPL");
