// SPDX-License-Identifier: GPL-2.0
/*
 * relay_rs C glue: symbol exports for the Rust implementation and
 * out-of-line copies of kernel static inlines. No logic lives here.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/cpumask.h>
#include <linux/smp.h>
#include <linux/irqflags.h>
#include <linux/wait.h>
#include <linux/poll.h>
#include <linux/irq_work.h>
#include <linux/timer.h>
#include <linux/jiffies.h>
#include <linux/vmalloc.h>
#include <linux/fs.h>
#include <linux/dcache.h>
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/debugfs.h>

#include "../include/relay_rs.h"
#include "relay_rs_glue.h"

/*
 * The API is defined in Rust (channel/api.rs, fileops/mod.rs); Rust cannot
 * emit ksymtab entries, so they are exported here, as rust/exports.c does.
 */
#define EXPORT_RUST_SYMBOL_GPL(sym) EXPORT_SYMBOL_GPL(sym)

EXPORT_RUST_SYMBOL_GPL(relay_rs_open);
EXPORT_RUST_SYMBOL_GPL(relay_rs_late_setup_files);
EXPORT_RUST_SYMBOL_GPL(relay_rs_close);
EXPORT_RUST_SYMBOL_GPL(relay_rs_flush);
EXPORT_RUST_SYMBOL_GPL(relay_rs_reset);
EXPORT_RUST_SYMBOL_GPL(relay_rs_subbufs_consumed);
EXPORT_RUST_SYMBOL_GPL(relay_rs_buf_full);
EXPORT_RUST_SYMBOL_GPL(relay_rs_switch_subbuf);
EXPORT_RUST_SYMBOL_GPL(relay_rs_open_flags);
EXPORT_RUST_SYMBOL_GPL(relay_rs_write_slow);
EXPORT_RUST_SYMBOL_GPL(relay_rs_reserve_slow);
EXPORT_RUST_SYMBOL_GPL(relay_rs_lockless_reserve);
EXPORT_RUST_SYMBOL_GPL(relay_rs_lockless_commit);
EXPORT_RUST_SYMBOL_GPL(relay_rs_make_room);
EXPORT_RUST_SYMBOL_GPL(relay_rs_make_room_checked);
EXPORT_RUST_SYMBOL_GPL(relay_rs_subbuf_start_reserve);
EXPORT_RUST_SYMBOL_GPL(relay_rs_buf_private_data);
EXPORT_RUST_SYMBOL_GPL(relay_rs_buf_cpu);
EXPORT_RUST_SYMBOL_GPL(relay_rs_buf_prev_padding);
EXPORT_RUST_SYMBOL_GPL(relay_rs_create_buf_file_default);
EXPORT_RUST_SYMBOL_GPL(relay_rs_stats);
EXPORT_RUST_SYMBOL_GPL(relay_rs_set_delivery_interval);
EXPORT_RUST_SYMBOL_GPL(relay_rs_file_operations);

/* The Rust API's global channels: which CPU holds their writers' lock. */
unsigned int relay_rs_this_cpu(void)
{
	return raw_smp_processor_id();
}
EXPORT_SYMBOL_GPL(relay_rs_this_cpu);

/*
 * The Rust API's lock for the writers of a global channel: a raw spinlock,
 * which any context may take (a write may come from an IPI), and which the
 * kernel crate does not wrap. One lockdep class for all.
 */
void relay_rs_raw_spin_lock_init(raw_spinlock_t *lock)
{
	raw_spin_lock_init(lock);
}
EXPORT_SYMBOL_GPL(relay_rs_raw_spin_lock_init);

void relay_rs_raw_spin_lock(raw_spinlock_t *lock)
{
	raw_spin_lock(lock);
}
EXPORT_SYMBOL_GPL(relay_rs_raw_spin_lock);

void relay_rs_raw_spin_unlock(raw_spinlock_t *lock)
{
	raw_spin_unlock(lock);
}
EXPORT_SYMBOL_GPL(relay_rs_raw_spin_unlock);

#if !defined(CONFIG_X86_64) || defined(CONFIG_XEN_PV)
/*
 * The Rust API (include/relay_rs/) inlines these on native x86-64; other
 * architectures' Rust clients call them here.
 */
unsigned long relay_rs_local_irq_save(void)
{
	unsigned long flags;

	local_irq_save(flags);
	return flags;
}
EXPORT_SYMBOL_GPL(relay_rs_local_irq_save);

void relay_rs_local_irq_restore(unsigned long flags)
{
	local_irq_restore(flags);
}
EXPORT_SYMBOL_GPL(relay_rs_local_irq_restore);

bool relay_rs_irqs_disabled_flags(unsigned long flags)
{
	return irqs_disabled_flags(flags);
}
EXPORT_SYMBOL_GPL(relay_rs_irqs_disabled_flags);

struct rchan_buf *relay_rs_this_cpu_buf(struct rchan *chan)
{
	return this_cpu_read(*chan->buf);
}
EXPORT_SYMBOL_GPL(relay_rs_this_cpu_buf);
#endif

#ifdef CONFIG_KUNIT
/* Testing only: fail the buffer allocation after this many (-1: never). */
extern int relay_rs_fault_fail_after;
module_param_named(fault_fail_after, relay_rs_fault_fail_after, int, 0600);
MODULE_PARM_DESC(fault_fail_after, "testing: fail a buffer allocation after this many (-1: never)");

/* Testing only: does lockdep (or, without it, the CPU) see interrupts on? */
unsigned int relay_rs_glue_this_cpu(void)
{
	return raw_smp_processor_id();
}

unsigned int relay_rs_glue_context_level(void)
{
	return interrupt_context_level();
}

bool relay_rs_glue_kunit_lockdep_irqs_on(void)
{
#ifdef CONFIG_TRACE_IRQFLAGS
	return this_cpu_read(hardirqs_enabled);
#else
	return !irqs_disabled();
#endif
}
#endif

struct rchan_buf **relay_rs_glue_alloc_buf_ptrs(void)
{
	return (struct rchan_buf **)alloc_percpu(struct rchan_buf *);
}

void relay_rs_glue_free_buf_ptrs(struct rchan_buf **pcpu)
{
	free_percpu((void __percpu *)pcpu);
}

struct rchan_buf **relay_rs_glue_per_cpu_buf(struct rchan_buf **pcpu, unsigned int cpu)
{
	return per_cpu_ptr((struct rchan_buf * __percpu *)pcpu, cpu);
}

unsigned int relay_rs_glue_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

bool relay_rs_glue_cpu_online(unsigned int cpu)
{
	return cpu_online(cpu);
}

bool relay_rs_glue_cpu_possible(unsigned int cpu)
{
	return cpu_possible(cpu);
}

void relay_rs_glue_init_waitqueue(struct wait_queue_head *wq)
{
	init_waitqueue_head(wq);
}

void relay_rs_glue_wake_up_interruptible(struct wait_queue_head *wq)
{
	wake_up_interruptible(wq);
}

void relay_rs_glue_poll_wait(struct file *file, struct wait_queue_head *wq,
			     struct poll_table_struct *pt)
{
	poll_wait(file, wq, pt);
}

void relay_rs_glue_init_irq_work(struct irq_work *work,
				 void (*func)(struct irq_work *))
{
	init_irq_work(work, func);
}

/* A macro (with a lockdep class per call site: one for relay_rs' timers). */
void relay_rs_glue_timer_setup(struct timer_list *timer,
			       void (*func)(struct timer_list *))
{
	timer_setup(timer, func, 0);
}

/* A volatile variable, which bindgen gives as a plain static. */
unsigned long relay_rs_glue_jiffies(void)
{
	return READ_ONCE(jiffies);
}

/* A function on 6.12, a _Generic() macro on 7.3. */
struct dentry *relay_rs_glue_debugfs_create_file(const char *name, umode_t mode,
						 struct dentry *parent, void *data,
						 const struct file_operations *fops)
{
	return debugfs_create_file(name, mode, parent, data, fops);
}

void *relay_rs_glue_vmap(struct page **pages, unsigned int count)
{
	return vmap(pages, count, VM_MAP, PAGE_KERNEL);
}

unsigned long relay_rs_glue_vma_flags(struct vm_area_struct *vma)
{
	return vma->vm_flags;
}

unsigned long relay_rs_glue_vma_len(struct vm_area_struct *vma)
{
	return vma->vm_end - vma->vm_start;
}

void relay_rs_glue_vma_flags_mod(struct vm_area_struct *vma, unsigned long set,
				 unsigned long clear)
{
	vm_flags_mod(vma, set, clear);
}

struct vm_area_struct *relay_rs_glue_vmf_vma(struct vm_fault *vmf)
{
	return vmf->vma;
}

unsigned long relay_rs_glue_vmf_pgoff(struct vm_fault *vmf)
{
	return vmf->pgoff;
}

void relay_rs_glue_vmf_set_page(struct vm_fault *vmf, struct page *page)
{
	get_page(page);
	vmf->page = page;
}

void relay_rs_glue_get_page(struct page *page)
{
	get_page(page);
}

void relay_rs_glue_put_page(struct page *page)
{
	put_page(page);
}

size_t relay_rs_glue_iov_iter_count(const struct iov_iter *iter)
{
	return iov_iter_count(iter);
}

size_t relay_rs_glue_copy_to_iter(const void *addr, size_t bytes, struct iov_iter *iter)
{
	return copy_to_iter(addr, bytes, iter);
}

#ifdef CONFIG_KUNIT
/*
 * Testing only: out-of-line copies of include/relay_rs.h's inline write
 * paths, so that the Rust KUnit suite (tests/kunit_rs.rs) drives exactly
 * what C clients compile, next to relay_rs' own paths.
 */
void relay_rs_glue_kunit_write(struct rchan *chan, const void *data, size_t length)
{
	relay_rs_write(chan, data, length);
}

void relay_rs_glue_kunit___write(struct rchan *chan, const void *data, size_t length)
{
	__relay_rs_write(chan, data, length);
}

void *relay_rs_glue_kunit_reserve(struct rchan *chan, size_t length)
{
	return relay_rs_reserve(chan, length);
}
#endif
