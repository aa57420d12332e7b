/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the stress drivers (relay_rs_stress.c, relay_rs_nmi.c) share: the
 * per-CPU writer (a bound kthread, a pinned hrtimer and a pinned timer),
 * its start and stop, the "stop" control file and the create_buf_file of
 * their global channels. The including file defines stop_all().
 */
#ifndef _RELAY_RS_STRESS_H
#define _RELAY_RS_STRESS_H

#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/timer.h>
#include <linux/uaccess.h>

#include "../../include/relay_rs.h"

struct percpu_writer {
	struct task_struct *task;
	struct hrtimer hrt;
	struct timer_list timer;
	unsigned int cpu;
	bool armed;
};

/* Sets @pw up on @cpu and wakes its kthread @name, which arms the timers. */
static inline void stress_writer_start(struct percpu_writer *pw, unsigned int cpu,
				       enum hrtimer_restart (*hrt_fn)(struct hrtimer *),
				       void (*timer_fn)(struct timer_list *),
				       int (*writer_fn)(void *), const char *name)
{
	pw->cpu = cpu;
	/* hrtimer_setup() replaced hrtimer_init() after 6.12. */
#if RELAY_RS_RELAY_H_7_3
	hrtimer_setup(&pw->hrt, hrt_fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED);
#else
	hrtimer_init(&pw->hrt, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED);
	pw->hrt.function = hrt_fn;
#endif
	timer_setup(&pw->timer, timer_fn, TIMER_PINNED);
	pw->task = kthread_create_on_cpu(writer_fn, pw, cpu, name);
	if (IS_ERR(pw->task))
		return;
	pw->armed = true;
	wake_up_process(pw->task);
}

/* Stops @pw's kthread and timers, if it was started. */
static inline void stress_writer_stop(struct percpu_writer *pw)
{
	if (!pw->armed)
		return;
	kthread_stop(pw->task);
	hrtimer_cancel(&pw->hrt);
	timer_delete_sync(&pw->timer);
}

static void stop_all(void);

/* The control file: "stop" stops the writers and flushes (stop_all()). */
static ssize_t ctl_write(struct file *file, const char __user *ubuf, size_t count, loff_t *ppos)
{
	char cmd[16] = {};

	if (copy_from_user(cmd, ubuf, min(count, sizeof(cmd) - 1)))
		return -EFAULT;
	if (strncmp(cmd, "stop", 4))
		return -EINVAL;
	stop_all();
	return count;
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.write = ctl_write,
};

/* create_buf_file of a global channel: relay_rs' default file, one buffer. */
static struct dentry *create_global(const char *name, struct dentry *parent, umode_t mode,
				    struct rchan_buf *buf, int *is_global)
{
	*is_global = 1;
	return relay_rs_create_buf_file_default(name, parent, mode, buf, is_global);
}

static const struct rchan_callbacks global_cb = { .create_buf_file = create_global };

#endif /* _RELAY_RS_STRESS_H */
