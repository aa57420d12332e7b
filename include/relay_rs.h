/* SPDX-License-Identifier: GPL-2.0 */
/*
 * relay_rs: the Linux relay channel API, implemented in Rust as a loadable
 * module. Include this header instead of <linux/relay.h>.
 *
 * struct rchan, struct rchan_buf and struct rchan_callbacks have the layout
 * of Linux 6.12's <linux/relay.h>, so code that reads their fields keeps
 * working. The exported functions carry a relay_rs_ prefix so that they do
 * not clash with a kernel built with CONFIG_RELAY=y.
 */
#ifndef _RELAY_RS_H
#define _RELAY_RS_H

#if defined(_LINUX_RELAY_H) && !defined(RELAY_RS_LAYOUT_CHECK)
#error "relay_rs.h replaces <linux/relay.h>: include only one of them"
#endif

#include <linux/types.h>
#include <linux/wait.h>
#include <linux/list.h>
#include <linux/irq_work.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/irqflags.h>
#include <linux/string.h>
#include <linux/overflow.h>
#include <asm/barrier.h>

#define RELAYFS_CHANNEL_VERSION		7

/* Per-CPU (or global) channel buffer. Layout of Linux 6.12. */
struct rchan_buf {
	void *start;			/* start of channel buffer */
	void *data;			/* start of current sub-buffer */
	size_t offset;			/* current offset into sub-buffer */
	size_t subbufs_produced;	/* count of sub-buffers produced */
	size_t subbufs_consumed;	/* count of sub-buffers consumed */
	struct rchan *chan;		/* associated channel */
	wait_queue_head_t read_wait;	/* reader wait queue */
	struct irq_work wakeup_work;	/* reader wakeup */
	struct dentry *dentry;		/* channel file dentry */
	struct kref kref;		/* unused by relay_rs (Rust refcounts) */
	struct page **page_array;	/* array of current buffer pages */
	unsigned int page_count;	/* number of current buffer pages */
	unsigned int finalized;		/* buffer has been finalized */
	size_t *padding;		/* padding counts per sub-buffer */
	size_t prev_padding;		/* temporary variable */
	size_t bytes_consumed;		/* bytes consumed in cur read subbuf */
	size_t early_bytes;		/* bytes consumed before VFS inited */
	unsigned int cpu;		/* this buf's cpu */
	/* relay_rs' own fields, after 6.12's */
	/* readable extent while a reservation may be unfilled, or RELAY_RS_NO_RESERVATION */
	size_t committed;
	size_t records;			/* records written since the last reset */
} ____cacheline_aligned;

/*
 * rchan_buf.committed: no reservation pending, offset is the readable extent.
 * (relay_rs' Rust API marks a reservation it has not committed yet by adding
 * 0xc000000000000000, which makes it negative as a ssize_t; relay_rs makes
 * no switch while one is marked.)
 */
#define RELAY_RS_NO_RESERVATION	((size_t)-1)

/* Relay channel. Layout of Linux 6.12. */
struct rchan {
	u32 version;			/* the version of this struct */
	size_t subbuf_size;		/* sub-buffer size */
	size_t n_subbufs;		/* number of sub-buffers per buffer */
	size_t alloc_size;		/* total buffer size allocated */
	const struct rchan_callbacks *cb; /* client callbacks */
	struct kref kref;		/* unused by relay_rs (Rust refcounts) */
	void *private_data;		/* for user-defined data */
	size_t last_toobig;		/* tried to log event > subbuf size */
	struct rchan_buf * __percpu *buf; /* per-cpu channel buffers */
	int is_global;			/* One global buffer ? */
	struct list_head list;		/* unused by relay_rs */
	struct dentry *parent;		/* parent dentry passed to open */
	int has_base_filename;		/* has a filename associated? */
	char base_filename[NAME_MAX];	/* saved base filename */
};

/*
 * Client callbacks: the three of 6.12, in 6.12's order, then the seed's
 * buf_mapped/buf_unmapped (dropped by 6.12, kept by relay_rs). Every callback
 * may be NULL, in which case relay_rs uses its default: subbuf_start refuses
 * to switch when the buffer is full (no-overwrite mode), create_buf_file
 * makes a debugfs file with relay_rs_file_operations, remove_buf_file
 * removes it with debugfs_remove(), the mapping callbacks do nothing.
 * relay_rs never writes to this structure.
 */
struct rchan_callbacks {
	/* Return 1 to switch to @subbuf, 0 to refuse (the write is dropped). */
	int (*subbuf_start)(struct rchan_buf *buf, void *subbuf,
			    void *prev_subbuf, size_t prev_padding);
	/* Create the file for @buf; may set *is_global on the first call. */
	struct dentry *(*create_buf_file)(const char *filename,
					  struct dentry *parent, umode_t mode,
					  struct rchan_buf *buf, int *is_global);
	/* Remove a file made by create_buf_file; 0 or negative errno. */
	int (*remove_buf_file)(struct dentry *dentry);
	/* A buffer file was mmap()ed / its mapping went away. */
	void (*buf_mapped)(struct rchan_buf *buf, struct file *filp);
	void (*buf_unmapped)(struct rchan_buf *buf, struct file *filp);
};

struct rchan *relay_rs_open(const char *base_filename, struct dentry *parent,
			    size_t subbuf_size, size_t n_subbufs,
			    const struct rchan_callbacks *cb,
			    void *private_data);

int relay_rs_late_setup_files(struct rchan *chan, const char *base_filename,
			      struct dentry *parent);
void relay_rs_close(struct rchan *chan);
void relay_rs_flush(struct rchan *chan);
void relay_rs_reset(struct rchan *chan);
void relay_rs_subbufs_consumed(struct rchan *chan, unsigned int cpu,
			       size_t consumed);
int relay_rs_buf_full(struct rchan_buf *buf);
size_t relay_rs_switch_subbuf(struct rchan_buf *buf, size_t length);

int relay_rs_make_room(struct rchan_buf *buf, size_t length);
/* relay_rs_make_room() refusing while a Rust API reservation is uncommitted. */
int relay_rs_make_room_checked(struct rchan_buf *buf, size_t length);
int relay_rs_subbuf_start_reserve(struct rchan_buf *buf, size_t length);
void *relay_rs_buf_private_data(struct rchan_buf *buf);
unsigned int relay_rs_buf_cpu(struct rchan_buf *buf);
struct dentry *relay_rs_create_buf_file_default(const char *filename,
						struct dentry *parent,
						umode_t mode,
						struct rchan_buf *buf,
						int *is_global);

/* Loss counters (relay_rs_stats() flags), like relay_stats() after 6.12. */
#define RELAY_RS_STATS_BUF_FULL	(1 << 0)	/* records refused: buffer full */
#define RELAY_RS_STATS_WRT_BIG	(1 << 1)	/* records bigger than a sub-buffer */
#define RELAY_RS_STATS_OVERWRITTEN (1 << 2)	/* unread records overwritten */
size_t relay_rs_stats(struct rchan *chan, int flags);

extern const struct file_operations relay_rs_file_operations;

/*
 * The write paths are inline, as in 6.12's <linux/relay.h>: a record that
 * fits the current sub-buffer costs a copy and two stores. Anything else (a
 * sub-buffer switch, a refused or oversized record) is relay_rs' business,
 * in the out-of-line relay_rs_make_room(). They follow the producer
 * protocol written down at the top of relay_rs' buffer/ring.rs store for
 * store; relay_rs' KUnit suite checks them against it.
 *
 * relay_rs_room() finds where a record of @length bytes goes: at
 * buf->offset if it fits there, else wherever relay_rs_make_room() made
 * room (false: the record was dropped and counted). It fits if offset +
 * length <= subbuf_size without overflow (relay_rs' one rule, ring.rs'
 * fits()). Lengths are object sizes, at most SSIZE_MAX, as in 6.12 (a
 * larger one is undefined): on 64-bit the sum of such a length and an
 * offset (at most subbuf_size + 1 <= 2^32) cannot overflow, so the plain
 * sum is exact and costs nothing; 32-bit kernels check the overflow. The
 * offset moves only after the copy, so a reader of the current sub-buffer
 * never sees bytes that are not there yet.
 */
static __always_inline bool relay_rs_fits(size_t offset, size_t length,
					  size_t subbuf_size)
{
	size_t end;

	if (IS_ENABLED(CONFIG_64BIT))
		return offset + length <= subbuf_size;
	return !check_add_overflow(offset, length, &end) && end <= subbuf_size;
}

static __always_inline bool relay_rs_room(struct rchan *chan,
					  struct rchan_buf *buf, size_t length,
					  size_t *offset)
{
	*offset = buf->offset;
	if (likely(relay_rs_fits(*offset, length, chan->subbuf_size)))
		return true;
	if (!relay_rs_make_room(buf, length))
		return false;
	*offset = buf->offset;
	return true;
}

/* One more record in @buf (relay_rs counts overwritten ones from these). */
static __always_inline void relay_rs_count_record(struct rchan_buf *buf)
{
	/* Release: who sees the count sees the sub-buffer's start count. */
	smp_store_release(&buf->records, buf->records + 1);
}

static __always_inline void relay_rs_write_buf(struct rchan *chan,
					       struct rchan_buf *buf,
					       const void *data, size_t length)
{
	size_t offset;

	if (!relay_rs_room(chan, buf, length, &offset))
		return;
	memcpy(buf->data + offset, data, length);
	/* The bytes first, then the offset that makes them readable. */
	smp_store_release(&buf->offset, offset + length);
	relay_rs_count_record(buf);
}

/**
 * relay_rs_write - write data into the channel
 * @chan: relay channel
 * @data: data to be written
 * @length: number of bytes to write
 *
 * Writes to the current CPU's buffer with local interrupts disabled, so it
 * may be called from any context, including hard interrupts. A record that
 * does not fit is dropped and counted (relay_rs_stats()).
 */
static inline void relay_rs_write(struct rchan *chan, const void *data,
				  size_t length)
{
	unsigned long flags;

	local_irq_save(flags);
	relay_rs_write_buf(chan, this_cpu_read(*chan->buf), data, length);
	local_irq_restore(flags);
}

/**
 * __relay_rs_write - write data into the channel, without IRQ protection
 * @chan: relay channel
 * @data: data to be written
 * @length: number of bytes to write
 *
 * Disables preemption only: the caller must not write to the same channel
 * from interrupt context.
 */
static inline void __relay_rs_write(struct rchan *chan, const void *data,
				    size_t length)
{
	preempt_disable();
	relay_rs_write_buf(chan, this_cpu_read(*chan->buf), data, length);
	preempt_enable();
}

/**
 * relay_rs_reserve - reserve slot in channel buffer
 * @chan: relay channel
 * @length: number of bytes to reserve
 *
 * Returns pointer to reserved slot, %NULL if full or too big (counted).
 * As in 6.12, the caller keeps the CPU (disables preemption or interrupts,
 * or holds its lock for a global channel) until it has filled the slot.
 * Readers see the slot from the next reservation or sub-buffer switch on,
 * never before it is filled.
 */
static inline void *relay_rs_reserve(struct rchan *chan, size_t length)
{
	struct rchan_buf *buf;
	size_t offset;
	void *slot;

	preempt_disable();
	buf = this_cpu_read(*chan->buf);
	slot = NULL;
	if (!relay_rs_room(chan, buf, length, &offset))
		goto out;
	/* Everything before the slot is filled: readable. */
	smp_store_release(&buf->committed, offset);
	/* Readers that see the new offset see that extent too. */
	smp_store_release(&buf->offset, offset + length);
	relay_rs_count_record(buf);
	slot = buf->data + offset;
	/* A slot in the vmap'd ring: lets callers' NULL checks fold. */
	if (!slot)
		unreachable();
out:
	preempt_enable();
	return slot;
}

/*
 * Source compatibility: a client written for 6.12's <linux/relay.h> builds
 * unchanged against this header. Define RELAY_RS_NO_COMPAT_NAMES to get
 * only the relay_rs_ names.
 */
#ifndef RELAY_RS_NO_COMPAT_NAMES
#define relay_open		relay_rs_open
#define relay_late_setup_files	relay_rs_late_setup_files
#define relay_close		relay_rs_close
#define relay_flush		relay_rs_flush
#define relay_reset		relay_rs_reset
#define relay_subbufs_consumed	relay_rs_subbufs_consumed
#define relay_buf_full		relay_rs_buf_full
#define relay_switch_subbuf	relay_rs_switch_subbuf
#define relay_write		relay_rs_write
#define __relay_write		__relay_rs_write
#define relay_reserve		relay_rs_reserve
#define subbuf_start_reserve	relay_rs_subbuf_start_reserve
#define relay_file_operations	relay_rs_file_operations
#endif

#endif /* _RELAY_RS_H */
