/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for the static inlines and macros that the Rust part
 * of relay_rs needs. Glue only: no logic lives here.
 */
#ifndef _RELAY_RS_GLUE_H
#define _RELAY_RS_GLUE_H

#include <linux/types.h>
#include <linux/spinlock_types.h>
#include <linux/fs.h>

struct rchan;
struct rchan_buf;
struct irq_work;
struct file;
struct dentry;
struct inode;
struct page;
struct wait_queue_head;
struct poll_table_struct;

struct rchan_buf **relay_rs_glue_alloc_buf_ptrs(void);
struct rchan_buf **relay_rs_glue_per_cpu_buf(struct rchan_buf **pcpu, unsigned int cpu);
void relay_rs_glue_free_buf_ptrs(struct rchan_buf **pcpu);
unsigned int relay_rs_glue_nr_cpu_ids(void);
bool relay_rs_glue_cpu_online(unsigned int cpu);
bool relay_rs_glue_cpu_possible(unsigned int cpu);


void relay_rs_glue_init_waitqueue(struct wait_queue_head *wq);
void relay_rs_glue_wake_up_interruptible(struct wait_queue_head *wq);
void relay_rs_glue_poll_wait(struct file *file, struct wait_queue_head *wq,
			     struct poll_table_struct *pt);
void relay_rs_glue_init_irq_work(struct irq_work *work,
				 void (*func)(struct irq_work *));
struct timer_list;
void relay_rs_glue_timer_setup(struct timer_list *timer,
			       void (*func)(struct timer_list *));
unsigned long relay_rs_glue_jiffies(void);

struct dentry *relay_rs_glue_debugfs_create_file(const char *name, umode_t mode,
						 struct dentry *parent, void *data,
						 const struct file_operations *fops);

void *relay_rs_glue_vmap(struct page **pages, unsigned int count);

struct vm_area_struct;
struct vm_fault;
unsigned long relay_rs_glue_vma_flags(struct vm_area_struct *vma);
unsigned long relay_rs_glue_vma_len(struct vm_area_struct *vma);
void relay_rs_glue_vma_flags_mod(struct vm_area_struct *vma, unsigned long set,
				 unsigned long clear);
struct vm_area_struct *relay_rs_glue_vmf_vma(struct vm_fault *vmf);
unsigned long relay_rs_glue_vmf_pgoff(struct vm_fault *vmf);
void relay_rs_glue_vmf_set_page(struct vm_fault *vmf, struct page *page);
void relay_rs_glue_get_page(struct page *page);
void relay_rs_glue_put_page(struct page *page);

struct iov_iter;
size_t relay_rs_glue_iov_iter_count(const struct iov_iter *iter);
size_t relay_rs_glue_copy_to_iter(const void *addr, size_t bytes, struct iov_iter *iter);

bool relay_rs_glue_kunit_lockdep_irqs_on(void);
unsigned int relay_rs_glue_context_level(void);
unsigned int relay_rs_glue_this_cpu(void);

/* For the Rust API's clients. */
unsigned int relay_rs_this_cpu(void);
void relay_rs_raw_spin_lock_init(raw_spinlock_t *lock);
void relay_rs_raw_spin_lock(raw_spinlock_t *lock);
void relay_rs_raw_spin_unlock(raw_spinlock_t *lock);

#ifdef CONFIG_KUNIT
/* Testing only: the header's inline write paths, for the Rust KUnit suite. */
void relay_rs_glue_kunit_write(struct rchan *chan, const void *data, size_t length);
void relay_rs_glue_kunit___write(struct rchan *chan, const void *data, size_t length);
void *relay_rs_glue_kunit_reserve(struct rchan *chan, size_t length);
#endif

#if !defined(CONFIG_X86_64) || defined(CONFIG_XEN_PV)
/* For the Rust API's clients where it does not inline them. */
unsigned long relay_rs_local_irq_save(void);
void relay_rs_local_irq_restore(unsigned long flags);
bool relay_rs_irqs_disabled_flags(unsigned long flags);
struct rchan_buf *relay_rs_this_cpu_buf(struct rchan *chan);
#endif

#endif /* _RELAY_RS_GLUE_H */
