// SPDX-License-Identifier: GPL-2.0
/*
 * relay_rs_diff: applies each command written to relay_rs_diff/ctl to the
 * kernel's relay and to relay_rs alike; user space (relay-check --diff)
 * reads relay_rs_diff/c0 and relay_rs_diff/rs0 the same way and compares.
 *
 *   open SUBBUF_SIZE N_SUBBUFS OVERWRITE   write LEN SEED   flush   reset   close
 *
 * After each command but close, the loss counts the kernel's relay keeps
 * in its structures (diff_counts) must be the same on both sides, or the
 * command fails with -EILSEQ.
 */
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "diff.h"

static struct dentry *dir;
static bool open_now;
static DEFINE_MUTEX(lock);

static void fill(u8 *p, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = seed >> 16;
	}
}

static int same_counts(const char *cmd)
{
	struct diff_counts c = diff_c_counts(), rs = diff_rs_counts();

	if (c.full_count == rs.full_count && c.big_count == rs.big_count &&
	    c.last_toobig == rs.last_toobig)
		return 0;
	pr_err("relay_rs_diff: after '%s': full_count %zu/%zu, big_count %zu/%zu, last_toobig %zu/%zu (relay/relay_rs)\n",
	       cmd, c.full_count, rs.full_count, c.big_count, rs.big_count,
	       c.last_toobig, rs.last_toobig);
	return -EILSEQ;
}

static int run(const char *cmd)
{
	unsigned long ss, n, len, seed;
	unsigned int ow;
	int ret = 0;
	u8 *data;

	if (sscanf(cmd, "open %lu %lu %u", &ss, &n, &ow) == 3) {
		if (open_now)
			return -EBUSY;
		ret = diff_c_open(dir, ss, n, ow);
		if (ret)
			return ret;
		ret = diff_rs_open(dir, ss, n, ow);
		if (ret) {
			diff_c_close();
			return ret;
		}
		open_now = true;
		return 0;
	}
	if (!open_now)
		return -ENOENT;
	if (sscanf(cmd, "write %lu %lu", &len, &seed) == 2) {
		if (len > 1 << 20)
			return -EINVAL;
		data = kmalloc(len ?: 1, GFP_KERNEL);
		if (!data)
			return -ENOMEM;
		fill(data, len, seed);
		diff_c_write(data, len);
		diff_rs_write(data, len);
		kfree(data);
	} else if (!strncmp(cmd, "flush", 5)) {
		diff_c_flush();
		diff_rs_flush();
	} else if (!strncmp(cmd, "reset", 5)) {
		diff_c_reset();
		diff_rs_reset();
	} else if (!strncmp(cmd, "close", 5)) {
		diff_c_close();
		diff_rs_close();
		open_now = false;
		return 0;
	} else {
		return -EINVAL;
	}
	return same_counts(cmd);
}

static ssize_t ctl_write(struct file *file, const char __user *ubuf, size_t count, loff_t *ppos)
{
	char cmd[64];
	int ret;

	if (count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';
	mutex_lock(&lock);
	ret = run(cmd);
	mutex_unlock(&lock);
	return ret ?: count;
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.write = ctl_write,
};

static int __init relay_rs_diff_init(void)
{
	dir = debugfs_create_dir("relay_rs_diff", NULL);
	debugfs_create_file("ctl", 0200, dir, NULL, &ctl_fops);
	return 0;
}

static void __exit relay_rs_diff_exit(void)
{
	if (open_now) {
		diff_c_close();
		diff_rs_close();
	}
	debugfs_remove(dir);
}

module_init(relay_rs_diff_init);
module_exit(relay_rs_diff_exit);
MODULE_DESCRIPTION("relay_rs differential test against the kernel's relay");
MODULE_LICENSE("GPL");
