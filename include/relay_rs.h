/* SPDX-License-Identifier: GPL-2.0 */
/*
 * relay_rs: the Linux relay channel API, implemented in Rust as a loadable
 * module. Include this header instead of <linux/relay.h>.
 *
 * This header defines struct rchan_buf, struct rchan and struct
 * rchan_callbacks, the exported functions, the inline write paths
 * (relay_rs_write(), __relay_rs_write(), relay_rs_reserve()) and, unless
 * RELAY_RS_NO_COMPAT_NAMES is defined, the kernel's names for all of them.
 *
 * It follows the <linux/relay.h> of the kernel it is built against, Linux
 * 7.3 or 6.12 (RELAY_RS_RELAY_H_7_3 tells which): the structures have that
 * header's layout, so code that reads their fields keeps working, and the
 * callbacks its signatures. relay_rs' own extensions exist on both. The
 * exported functions carry a relay_rs_ prefix so that they do not clash
 * with a kernel built with CONFIG_RELAY=y.
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
#include <linux/version.h>
#include <asm/barrier.h>

/*
 * The one version switch of this header: 1 where it follows 7.3's relay.h
 * (rchan_buf.stats, three-argument subbuf_start, relay_stats()), 0 where
 * 6.12's (rchan_buf.prev_padding, rchan.last_toobig,
 * relay_late_setup_files()).
 */
#if KERNEL_VERSION(7, 3, 0) <= LINUX_VERSION_CODE
#define RELAY_RS_RELAY_H_7_3	1
#else
#define RELAY_RS_RELAY_H_7_3	0
#endif

#define RELAYFS_CHANNEL_VERSION		7

#if RELAY_RS_RELAY_H_7_3
#ifndef RELAY_RS_LAYOUT_CHECK
/* 7.3's relay_stats() flags; relay_rs_stats() takes them, and one more. */
enum {
	RELAY_STATS_BUF_FULL = (1 << 0),
	RELAY_STATS_WRT_BIG = (1 << 1),

	RELAY_STATS_LAST = RELAY_STATS_WRT_BIG,
};
#endif

/**
 * struct rchan_buf_stats - a buffer's loss counters, as 7.3 keeps them
 * @full_count: sub-buffer switch attempts that found the buffer full,
 *	whether subbuf_start() then accepted or refused them: each record
 *	refused for a full buffer, each flush of a full buffer, each switch an
 *	overwrite channel made onto unread data (on a lockless channel, each
 *	record refused for a full buffer)
 * @big_count: records bigger than what a sub-buffer had room for
 *
 * relay_rs keeps these as 7.3's relay does, for clients that read them;
 * relay_rs_stats() counts records lost instead (see there).
 */
struct rchan_buf_stats {
	unsigned int full_count;
	unsigned int big_count;
};
#endif

/**
 * struct rchan_buf - per-CPU (or global) channel buffer
 * @start: start of channel buffer (the vmap'd ring)
 * @data: start of current sub-buffer
 * @offset: current offset into sub-buffer; moved only after the bytes
 *	before it are written
 * @subbufs_produced: count of sub-buffers produced
 * @subbufs_consumed: count of sub-buffers consumed
 * @chan: associated channel
 * @read_wait: reader wait queue
 * @wakeup_work: reader wakeup, deferred out of the writer's context
 * @dentry: channel file dentry
 * @kref: unused by relay_rs (its Rust side counts the references)
 * @stats: 7.3 only: the loss counters 7.3's relay keeps
 * @page_array: array of current buffer pages
 * @page_count: number of current buffer pages
 * @finalized: buffer has been finalized (the channel is closed)
 * @padding: padding counts per sub-buffer
 * @prev_padding: 6.12 only: unused by relay_rs
 * @bytes_consumed: bytes consumed in cur read subbuf
 * @early_bytes: bytes consumed before VFS inited
 * @cpu: this buf's cpu
 * @committed: relay_rs' own: readable extent of the current sub-buffer
 *	while a reservation may be unfilled, or %RELAY_RS_NO_RESERVATION
 * @records: relay_rs' own: records written since the last reset
 *
 * Layout of the kernel's own (7.3 or 6.12), followed by relay_rs' two
 * fields, which the inline write paths update. Only relay_rs allocates
 * these; clients read them.
 */
struct rchan_buf {
	void *start;
	void *data;
	size_t offset;
	size_t subbufs_produced;
	size_t subbufs_consumed;
	struct rchan *chan;
	wait_queue_head_t read_wait;
	struct irq_work wakeup_work;
	struct dentry *dentry;
	struct kref kref;
#if RELAY_RS_RELAY_H_7_3
	struct rchan_buf_stats stats;
#endif
	struct page **page_array;
	unsigned int page_count;
	unsigned int finalized;
	size_t *padding;
#if !RELAY_RS_RELAY_H_7_3
	size_t prev_padding;
#endif
	size_t bytes_consumed;
	size_t early_bytes;
	unsigned int cpu;
	size_t committed;
	size_t records;
} ____cacheline_aligned;

/*
 * rchan_buf.committed: no reservation pending, offset is the readable extent.
 * (relay_rs' Rust API marks a reservation it has not committed yet by adding
 * 0xc000000000000000, which makes it negative as a ssize_t; relay_rs makes
 * no switch while one is marked.)
 */
#define RELAY_RS_NO_RESERVATION	((size_t)-1)

/**
 * struct rchan - relay channel
 * @version: the version of this struct (%RELAYFS_CHANNEL_VERSION)
 * @subbuf_size: sub-buffer size
 * @n_subbufs: number of sub-buffers per buffer
 * @alloc_size: total buffer size allocated (the mmap() length)
 * @cb: client callbacks
 * @kref: unused by relay_rs (its Rust side counts the references)
 * @private_data: for user-defined data
 * @last_toobig: 6.12 only: the size of the last record too big for a
 *	sub-buffer
 * @buf: per-cpu channel buffers
 * @is_global: one global buffer?
 * @list: unused by relay_rs
 * @parent: parent dentry passed to open
 * @has_base_filename: has a filename associated?
 * @base_filename: saved base filename
 *
 * Layout of the kernel's own (7.3 or 6.12). Made by relay_rs_open();
 * clients read it only.
 */
struct rchan {
	u32 version;
	size_t subbuf_size;
	size_t n_subbufs;
	size_t alloc_size;
	const struct rchan_callbacks *cb;
	struct kref kref;
	void *private_data;
#if !RELAY_RS_RELAY_H_7_3
	size_t last_toobig;
#endif
	struct rchan_buf * __percpu *buf;
	int is_global;
	struct list_head list;
	struct dentry *parent;
	int has_base_filename;
	char base_filename[NAME_MAX];
};

/**
 * struct rchan_callbacks - client callbacks
 * @subbuf_start: a new sub-buffer @subbuf is about to start after
 *	@prev_subbuf (6.12 also passes @prev_padding, the padding that ended
 *	it; on 7.3 relay_rs_buf_prev_padding() tells); return 1 to switch, 0
 *	to refuse (the write is dropped and counted as
 *	%RELAY_RS_STATS_BUF_FULL, full or not). Always returning 1 makes an
 *	overwrite ("flight recorder") channel. Also called when a buffer is
 *	made and on relay_rs_reset(), with @prev_subbuf %NULL (the answer is
 *	then ignored: a refusing client is asked again at the first write).
 *	Called in the producer's context: interrupts or preemption off.
 * @create_buf_file: create the file @filename for @buf in @parent with
 *	@mode; may set *@is_global on the first call to make the channel
 *	global. Return the dentry, or NULL for none.
 * @remove_buf_file: remove a file made by @create_buf_file; 0 or a
 *	negative errno.
 * @buf_mapped: a buffer file @filp was mmap()ed (or its mapping copied).
 * @buf_unmapped: a mapping of buffer file @filp went away.
 *
 * The kernel's three callbacks, in its order and with its signatures, then
 * @buf_mapped and @buf_unmapped, the mapping callbacks of the original
 * 2.6-era relay API (dropped since, kept by relay_rs). Every callback may be NULL, in which
 * case relay_rs uses its default: @subbuf_start refuses to switch when the
 * buffer is full (no-overwrite mode), @create_buf_file makes a debugfs file
 * with relay_rs_file_operations, @remove_buf_file removes it with
 * debugfs_remove(), the mapping callbacks do nothing. The mapping callbacks
 * are not called once relay_rs_close() has returned. relay_rs never writes
 * to this structure.
 *
 * Context: @subbuf_start runs in the producer's context (any context the
 * write paths allow). @create_buf_file and @remove_buf_file run in process
 * context under relay_rs' channels lock (from relay_rs_open(), CPU hotplug
 * and relay_rs_late_setup_files() also under the CPU hotplug lock), so they
 * must not call what takes that lock: relay_rs_open(),
 * relay_rs_late_setup_files(), relay_rs_close(), and relay_rs_flush() or
 * relay_rs_reset() of a per-CPU channel. @buf_mapped and
 * @buf_unmapped run under the mapping's mmap lock and the channel's client
 * lock, which relay_rs_close() takes: they must not call relay_rs_close(),
 * nor relay_rs_subbufs_consumed(), whose readers' lock read() holds while
 * it faults on user memory (taking the mmap lock after it).
 */
struct rchan_callbacks {
#if RELAY_RS_RELAY_H_7_3
	int (*subbuf_start)(struct rchan_buf *buf, void *subbuf,
			    void *prev_subbuf);
#else
	int (*subbuf_start)(struct rchan_buf *buf, void *subbuf,
			    void *prev_subbuf, size_t prev_padding);
#endif
	struct dentry *(*create_buf_file)(const char *filename,
					  struct dentry *parent, umode_t mode,
					  struct rchan_buf *buf, int *is_global);
	int (*remove_buf_file)(struct dentry *dentry);
	void (*buf_mapped)(struct rchan_buf *buf, struct file *filp);
	void (*buf_unmapped)(struct rchan_buf *buf, struct file *filp);
};

/**
 * relay_rs_open - create a new relay channel
 * @base_filename: base name of files to create, %NULL for buffering only
 * @parent: dentry of parent directory, %NULL for root directory or buffer
 * @subbuf_size: size of sub-buffers
 * @n_subbufs: number of sub-buffers (at most 16384)
 * @cb: client callback functions, %NULL (or any entry %NULL) for defaults
 * @private_data: user-defined data
 *
 * Creates a channel buffer for each online CPU (and for each CPU that comes
 * online later), each with a file named @base_filename0...N-1 (mode
 * S_IRUSR) unless @base_filename is %NULL, plus @base_filename.stats.
 * @parent and @cb must stay valid until relay_rs_close().
 *
 * Context: process context; may sleep (takes the CPU hotplug and channels
 * locks).
 * Return: the channel, or %NULL (with one warning) for bad sizes or when
 * an allocation or a file creation failed.
 */
struct rchan *relay_rs_open(const char *base_filename, struct dentry *parent,
			    size_t subbuf_size, size_t n_subbufs,
			    const struct rchan_callbacks *cb,
			    void *private_data);

/* relay_rs_open_flags() options. */
#define RELAY_RS_LOCKLESS	0x1u	/* writers in any context, NMI included */

/**
 * relay_rs_open_flags - create a new relay channel with options
 * @base_filename: as for relay_rs_open()
 * @parent: as for relay_rs_open()
 * @subbuf_size: as for relay_rs_open()
 * @n_subbufs: as for relay_rs_open()
 * @cb: as for relay_rs_open()
 * @private_data: as for relay_rs_open()
 * @flags: 0 (relay_rs_open()), or %RELAY_RS_LOCKLESS
 *
 * A %RELAY_RS_LOCKLESS channel may be written from any context, NMI
 * included, with writers of one CPU interrupting each other (task,
 * softirq, hardirq, NMI), and a global one from all CPUs at once without a
 * lock of the client's. Every call of this header works on it unchanged;
 * each record costs an out-of-line call (a compare-and-exchange to
 * reserve, an atomic add to commit). A sub-buffer reaches readers when
 * every byte reserved in it is committed: a write commits its record, a
 * relay_rs_reserve() slot is committed by the next write or reservation of
 * the same context level on the same CPU, or by relay_rs_flush() or
 * relay_rs_close(). A lockless channel never overwrites: a record that
 * finds the buffer full is dropped and counted (%RELAY_RS_STATS_BUF_FULL),
 * and it takes no @cb->subbuf_start (refused: %NULL and a warning), nor
 * headers (relay_rs_subbuf_start_reserve() returns -EINVAL). A zero-length
 * record is not stored there: it reserves nothing and counts neither as a
 * record nor as lost.
 *
 * Context: process context; may sleep.
 * Return: the channel, or %NULL (with one warning) as for relay_rs_open(),
 * for unknown @flags, or for a lockless channel with a subbuf_start.
 */
struct rchan *relay_rs_open_flags(const char *base_filename,
				  struct dentry *parent, size_t subbuf_size,
				  size_t n_subbufs,
				  const struct rchan_callbacks *cb,
				  void *private_data, unsigned int flags);

/**
 * relay_rs_late_setup_files - create the files of a buffer-only channel
 * @chan: channel opened with a %NULL base_filename
 * @base_filename: base name of files to create
 * @parent: dentry of parent directory, %NULL for root directory
 *
 * For a channel opened before its filesystem was available. Each file is
 * sized with the bytes produced so far. On failure no file is left behind
 * and the channel stays buffer-only. 6.12 has this as
 * relay_late_setup_files(); 7.3 dropped it, relay_rs keeps it on both.
 *
 * Context: process context; may sleep (takes the CPU hotplug and channels
 * locks).
 * Return: 0, -EEXIST if the channel already has files, -EINVAL for bad
 * arguments or if a file could not be created.
 */
int relay_rs_late_setup_files(struct rchan *chan, const char *base_filename,
			      struct dentry *parent);

/**
 * relay_rs_close - close the channel
 * @chan: the channel, or %NULL (nothing is done)
 *
 * Closes all channel buffers and removes their files. A reader that holds
 * a file keeps reading the remaining data; the memory is freed with the
 * last reference. No callback is called after this returns. @chan must not
 * be used afterwards.
 *
 * Context: process context; may sleep (takes the channels lock).
 */
void relay_rs_close(struct rchan *chan);

/**
 * relay_rs_flush - close the current sub-buffers of the channel
 * @chan: the channel, or %NULL (nothing is done)
 *
 * Completes the current sub-buffer of every buffer so that readers see
 * its data. A per-CPU buffer is switched on its own CPU with interrupts
 * off (an IPI), so it cannot race that CPU's producers.
 *
 * On a lockless channel, also commits every pending relay_rs_reserve()
 * slot; a relay_rs_lockless_reserve() slot still live is not: it, and what
 * was reserved after it, become readable once it is committed.
 *
 * Context: process context; may sleep (takes the CPU hotplug and channels
 * locks). For a global channel no lock is taken: call it holding the lock
 * that serialises the channel's producers (a lockless channel needs none).
 */
void relay_rs_flush(struct rchan *chan);

/**
 * relay_rs_reset - reset the channel
 * @chan: the channel, or %NULL (nothing is done)
 *
 * Erases all data from all channel buffers and restarts them, loss
 * counters included. Nothing may write to or read from the channel
 * meanwhile.
 *
 * Context: process context; may sleep (waits for pending reader wake-ups).
 */
void relay_rs_reset(struct rchan *chan);

/**
 * relay_rs_subbufs_consumed - update the buffer's sub-buffers-consumed count
 * @chan: the channel, or %NULL (nothing is done)
 * @cpu: the cpu associated with the channel buffer to update
 * @consumed: number of sub-buffers to add to current buf's count
 *
 * Hands sub-buffers back from the current consumed count on. A count above
 * what is produced is clamped to it, so a consumer lapped by more than a
 * ring catches up in one call. Sub-buffers the producer overwrote before
 * they were handed back (overwrite mode) are counted in
 * %RELAY_RS_STATS_OVERWRITTEN; a client that copied them must drop those
 * copies (the ioctl RELAY_RS_IOC_CONSUMED reports them, this function does
 * not).
 *
 * Context: process context; takes the buffer's readers' lock.
 */
void relay_rs_subbufs_consumed(struct rchan *chan, unsigned int cpu,
			       size_t consumed);

/**
 * relay_rs_buf_full - boolean, is the channel buffer full?
 * @buf: channel buffer
 *
 * Context: any context.
 * Return: 1 if every sub-buffer is produced and unconsumed, 0 otherwise.
 */
int relay_rs_buf_full(struct rchan_buf *buf);

/**
 * relay_rs_switch_subbuf - switch to a new sub-buffer
 * @buf: channel buffer
 * @length: size of current event
 *
 * Completes the current sub-buffer (readers see it) and starts the next
 * one, if subbuf_start() accepts it.
 *
 * Context: the buffer's producer: on the buffer's CPU with preemption or
 * interrupts off, or holding the client's lock for a global buffer.
 * Return: either @length or 0 if the event was dropped.
 */
size_t relay_rs_switch_subbuf(struct rchan_buf *buf, size_t length);

/**
 * relay_rs_make_room - make room for a record that does not fit
 * @buf: the current CPU's buffer (the global one for a global channel)
 * @length: size of the record
 *
 * The out-of-line part of relay_rs_write(), __relay_rs_write() and
 * relay_rs_reserve(), for a record that does not fit at @buf->offset:
 * completes the current sub-buffer and starts the next, as
 * relay_rs_switch_subbuf() does. The caller then writes the record at
 * @buf->offset and moves the offset, as the inline paths do.
 *
 * Context: the buffer's producer: on the buffer's CPU with preemption or
 * interrupts off, or holding the client's lock for a global buffer.
 * Return: 1 when the record now fits at @buf->offset, 0 when it was
 * dropped (counted: buffer full, or too big).
 */
int relay_rs_make_room(struct rchan_buf *buf, size_t length);

/**
 * relay_rs_write_slow - write a record the inline paths do not
 * @buf: the current CPU's buffer (the global one for a global channel)
 * @data: the record
 * @length: its size
 *
 * The out-of-line path of relay_rs_write() and __relay_rs_write() for
 * every record of a lockless channel; for another channel's buffer, a
 * record that does not fit at @buf->offset (relay_rs switches sub-buffers
 * first, as relay_rs_make_room() does). A record that cannot be written is
 * dropped and counted.
 *
 * Context: as the inline path that calls it.
 */
void relay_rs_write_slow(struct rchan_buf *buf, const void *data,
			 size_t length);

/**
 * relay_rs_reserve_slow - reserve a slot the inline path does not
 * @buf: the current CPU's buffer (the global one for a global channel)
 * @length: size of the slot
 *
 * The out-of-line path of relay_rs_reserve() for every record of a
 * lockless channel; for another channel's buffer, a record that does not
 * fit at @buf->offset.
 *
 * Context: as relay_rs_reserve().
 * Return: the slot, or %NULL if the record was dropped (counted).
 */
void *relay_rs_reserve_slow(struct rchan_buf *buf, size_t length);

/**
 * relay_rs_lockless_reserve - reserve a slot of a lockless channel to commit
 * @buf: a buffer of a lockless channel, usually this CPU's
 *	(this_cpu_read(*chan->buf), with preemption off)
 * @length: size of the slot
 * @slot: set to the slot's handle, for relay_rs_lockless_commit()
 *
 * relay_rs' own, on both kernels: a reservation its writer commits itself,
 * once it has filled the slot, instead of leaving that to its next
 * reservation as relay_rs_reserve() does. Readers see the slot, and its
 * sub-buffer is delivered, once every slot reserved before it in the buffer
 * is committed; until it is, later sub-buffers wait too (not their
 * writers), so commit soon. Any number may be live at once, in any context;
 * the Rust API's Channel::reserve() is made of these two calls.
 *
 * Context: any context, NMI included.
 * Return: the slot, or %NULL if the record was dropped (counted: buffer
 * full, or too big) or the channel is not lockless (with a warning).
 */
void *relay_rs_lockless_reserve(struct rchan_buf *buf, size_t length,
				unsigned long *slot);

/**
 * relay_rs_lockless_commit - commit a slot of relay_rs_lockless_reserve()
 * @buf: the buffer of the reservation
 * @slot: the handle relay_rs_lockless_reserve() stored
 *
 * Commits the slot, once; a slot reserved before the channel's last
 * relay_rs_reset() must not be committed. Any CPU may commit it.
 *
 * Context: any context, NMI included.
 */
void relay_rs_lockless_commit(struct rchan_buf *buf, unsigned long slot);

/**
 * relay_rs_make_room_checked - relay_rs_make_room() that may meet a reservation
 * @buf: the current CPU's buffer (the global one for a global channel)
 * @length: size of the record
 *
 * As relay_rs_make_room(), but refuses the switch (drops the record,
 * counted as full) while a reservation of relay_rs' Rust API is not
 * committed yet: for writes that may run inside the Rust API's producer of
 * the same CPU.
 *
 * Context: the buffer's producer: on the buffer's CPU with preemption or
 * interrupts off, or holding the client's lock for a global buffer.
 * Return: as relay_rs_make_room().
 */
int relay_rs_make_room_checked(struct rchan_buf *buf, size_t length);

/**
 * relay_rs_subbuf_start_reserve - reserve bytes at the start of a sub-buffer
 * @buf: relay channel buffer
 * @length: number of bytes to reserve
 *
 * The first @length bytes of the new sub-buffer are left for the client (a
 * header), and writes start after them.
 *
 * Context: from the subbuf_start() callback of @buf only.
 * Return: 0, or -EINVAL (with a warning, and nothing reserved) for a length
 * that leaves no room for data.
 */
int relay_rs_subbuf_start_reserve(struct rchan_buf *buf, size_t length);

/**
 * relay_rs_buf_private_data - the private data of a buffer's channel
 * @buf: relay channel buffer
 *
 * For callbacks that only get the buffer; the same as
 * @buf->chan->private_data.
 *
 * Context: any context.
 * Return: the private_data given to relay_rs_open().
 */
void *relay_rs_buf_private_data(struct rchan_buf *buf);

/**
 * relay_rs_buf_cpu - the CPU of a buffer
 * @buf: relay channel buffer
 *
 * Context: any context.
 * Return: the CPU the buffer belongs to, 0 for a global buffer.
 */
unsigned int relay_rs_buf_cpu(struct rchan_buf *buf);

/**
 * relay_rs_buf_prev_padding - the padding that ended the previous sub-buffer
 * @buf: relay channel buffer
 *
 * What 6.12 passes subbuf_start() as prev_padding, for 7.3's callbacks,
 * which do not get it.
 *
 * Context: from the subbuf_start() callback of @buf only.
 * Return: the bytes of padding at the end of the sub-buffer before the one
 * starting, 0 for the first.
 */
size_t relay_rs_buf_prev_padding(struct rchan_buf *buf);

/**
 * relay_rs_create_buf_file_default - the default create_buf_file() callback
 * @filename: file name, or %NULL (no file)
 * @parent: debugfs directory, %NULL for the root
 * @mode: file mode
 * @buf: the buffer the file reads
 * @is_global: not changed
 *
 * Creates a debugfs file with relay_rs_file_operations (mmap and splice
 * included), as relay_rs does when a client gives no create_buf_file(),
 * so that a client's own callback (one that sets *@is_global, say) can
 * reuse it. A file made with debugfs_create_file() instead has neither
 * mmap nor splice (debugfs' proxy forwards neither).
 *
 * Context: from a create_buf_file() callback, which returns the file made;
 * may sleep.
 * Return: the dentry, %NULL for a %NULL @filename, or an ERR_PTR().
 */
struct dentry *relay_rs_create_buf_file_default(const char *filename,
						struct dentry *parent,
						umode_t mode,
						struct rchan_buf *buf,
						int *is_global);

/* Loss counters (relay_rs_stats() flags): 7.3's two, then relay_rs' own. */
#define RELAY_RS_STATS_BUF_FULL	(1 << 0)	/* records refused: buffer full */
#define RELAY_RS_STATS_WRT_BIG	(1 << 1)	/* records bigger than a sub-buffer */
#define RELAY_RS_STATS_OVERWRITTEN (1 << 2)	/* unread records overwritten */

/**
 * relay_rs_stats - records a channel lost
 * @chan: the channel, or %NULL (0)
 * @flags: %RELAY_RS_STATS_BUF_FULL, %RELAY_RS_STATS_WRT_BIG and/or
 *	%RELAY_RS_STATS_OVERWRITTEN
 *
 * Overwritten records are counted by consumers as they catch up; this adds
 * those not yet caught up. On 7.3 this is relay_stats() (which 7.3 itself
 * does not export to modules), with three differences: it counts records
 * lost, where 7.3's %RELAY_STATS_BUF_FULL counts sub-buffer switches that
 * met a full buffer (an overwrite or a flush among them; the buffers'
 * stats.full_count keep that count); it sums every buffer, where 7.3
 * forgets the buffers of CPUs gone offline; and flags combine, where 7.3
 * returns 0 for more than one.
 *
 * Context: any context; takes no lock.
 * Return: the number of records lost for the selected reasons, summed over
 * all buffers since open or the last relay_rs_reset().
 */
size_t relay_rs_stats(struct rchan *chan, int flags);

/* The longest delivery interval, in milliseconds: an hour. */
#define RELAY_RS_MAX_DELIVERY_MS	3600000

/**
 * relay_rs_set_delivery_interval - bound the delay before readers see data
 * @chan: the channel
 * @msecs: the interval in milliseconds, at most %RELAY_RS_MAX_DELIVERY_MS;
 *	0 turns it off (the default)
 *
 * With an interval, a reader blocked in poll() on a buffer that has unread
 * bytes wakes within @msecs plus one timer tick, even if no sub-buffer
 * completes, and read() then returns those bytes; poll() reports the
 * unread bytes of the sub-buffer being written as readable (POLLIN),
 * without one, only completed sub-buffers. The write paths do not change:
 * one timer per channel reads the buffers' counters, runs only while a
 * reader waits in poll(), and wakes only readers of buffers with unread
 * bytes; no sub-buffer is switched (no padding). mmap consumers, which
 * hand back whole sub-buffers only, should not use it: their poll() would
 * keep reporting bytes they cannot consume. A record reserved with
 * relay_rs_reserve() becomes readable at the next reservation or sub-buffer
 * switch (the C API has no commit, so relay_rs cannot tell when it is
 * filled): it waits for that, interval or not, and so do the records
 * written after it; relay_rs_write(), __relay_rs_write() and the Rust
 * API's reservations (committed when dropped) are delivered within the
 * interval. Can be changed at any time;
 * user space sets it with the ioctl %RELAY_RS_IOC_DELIVERY on a buffer
 * file. relay_rs' own, on both kernels.
 *
 * Context: any context but NMI; takes no sleeping lock.
 * Return: 0, or -EINVAL (with a warning) for a %NULL channel or an
 * interval above %RELAY_RS_MAX_DELIVERY_MS.
 */
int relay_rs_set_delivery_interval(struct rchan *chan, unsigned int msecs);

/* File operations of relay files, for clients' create_buf_file() callbacks. */
extern const struct file_operations relay_rs_file_operations;

/*
 * The write paths are inline, as in <linux/relay.h>: a record that
 * fits the current sub-buffer costs a copy and two stores. Anything else (a
 * sub-buffer switch, a refused or oversized record) is relay_rs' business,
 * in the out-of-line relay_rs_make_room(); a lockless channel's every
 * record (its @buf->offset never fits one) goes to relay_rs_write_slow()
 * or relay_rs_reserve_slow(). They follow the producer
 * protocol written down at the top of relay_rs' buffer/ring.rs store for
 * store; relay_rs' KUnit suite checks them against it.
 *
 * The offset moves only after the copy, so a reader of the current
 * sub-buffer never sees bytes that are not there yet.
 */

/**
 * relay_rs_fits - does a record fit the current sub-buffer?
 * @offset: the write offset in the current sub-buffer
 * @length: the record's length
 * @subbuf_size: the channel's sub-buffer size
 *
 * A record fits if @offset + @length <= @subbuf_size without overflow
 * (relay_rs' one rule, ring.rs' fits()). Lengths are object sizes, at most
 * SSIZE_MAX, as in relay.h (a larger one is undefined): on 64-bit the sum of
 * such a length and an offset (at most subbuf_size + 1 <= 2^32) cannot
 * overflow, so the plain sum is exact and costs nothing; 32-bit kernels
 * check the overflow.
 *
 * Context: any context.
 * Return: true if the record fits.
 */
static __always_inline bool relay_rs_fits(size_t offset, size_t length,
					  size_t subbuf_size)
{
	size_t end;

	if (IS_ENABLED(CONFIG_64BIT))
		return offset + length <= subbuf_size;
	return !check_add_overflow(offset, length, &end) && end <= subbuf_size;
}

/**
 * relay_rs_is_lockless - is a buffer's write offset a lockless channel's?
 * @chan: relay channel
 * @offset: the buffer's write offset, which did not fit a record
 *
 * A lockless channel's buffers keep @subbuf_size + 3 there for good, so
 * that no record fits; the default producer's offset is at most
 * @subbuf_size + 2. Tested only once a record did not fit: a sub-buffer
 * switch on other channels pays one comparison.
 *
 * Context: any context.
 * Return: true for a buffer of a lockless channel.
 */
static __always_inline bool relay_rs_is_lockless(struct rchan *chan,
						 size_t offset)
{
	/*
	 * A load of its own, in the branch that needs it: kept from the fit
	 * test, the size would take a register on the fast path (one
	 * instruction more per record).
	 */
	return offset == READ_ONCE(chan->subbuf_size) + 3;
}

/**
 * relay_rs_room - find where a record goes
 * @chan: relay channel
 * @buf: the current CPU's buffer of @chan
 * @data: a write's record, written out of line for a lockless channel
 * @length: the record's length
 * @offset: set to where the record goes in the current sub-buffer
 * @slot: for a reservation (@data %NULL) of a lockless channel, set to the
 *	slot relay_rs_reserve_slow() returned
 *
 * At @buf->offset if the record fits there, else wherever
 * relay_rs_make_room() made room; a lockless channel's record is written
 * by relay_rs_write_slow(), or reserved by relay_rs_reserve_slow() (false).
 *
 * Context: as relay_rs_write_buf().
 * Return: true with *@offset set, false if the record was written or
 * reserved out of line, or dropped (and counted).
 */
static __always_inline bool relay_rs_room(struct rchan *chan,
					  struct rchan_buf *buf,
					  const void *data, size_t length,
					  size_t *offset, void **slot)
{
	*offset = buf->offset;
	if (likely(relay_rs_fits(*offset, length, chan->subbuf_size)))
		return true;
	if (unlikely(relay_rs_is_lockless(chan, *offset))) {
		if (data)
			relay_rs_write_slow(buf, data, length);
		else
			*slot = relay_rs_reserve_slow(buf, length);
		return false;
	}
	if (!relay_rs_make_room(buf, length))
		return false;
	*offset = buf->offset;
	return true;
}

/**
 * relay_rs_count_record - count one more record in a buffer
 * @buf: the buffer written to
 *
 * relay_rs counts overwritten records from these counts.
 *
 * Context: the buffer's producer: on the buffer's CPU with preemption or
 * interrupts off, or holding the client's lock for a global buffer.
 */
static __always_inline void relay_rs_count_record(struct rchan_buf *buf)
{
	/* Release: who sees the count sees the sub-buffer's start count. */
	smp_store_release(&buf->records, buf->records + 1);
}

/**
 * relay_rs_write_buf - write a record into a buffer
 * @chan: relay channel
 * @buf: the current CPU's buffer of @chan
 * @data: data to be written
 * @length: number of bytes to write
 *
 * The body of relay_rs_write() and __relay_rs_write(). A record that does
 * not fit is dropped and counted.
 *
 * Context: the buffer's producer: on the buffer's CPU with preemption or
 * interrupts off, or holding the client's lock for a global buffer.
 */
static __always_inline void relay_rs_write_buf(struct rchan *chan,
					       struct rchan_buf *buf,
					       const void *data, size_t length)
{
	size_t offset;
	void *slot;

	if (!relay_rs_room(chan, buf, data, length, &offset, &slot))
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
 * Writes to the current CPU's buffer with local interrupts disabled. A
 * record that does not fit is dropped and counted (relay_rs_stats()). For
 * a global channel the caller serialises the writers of all CPUs (its own
 * lock, as in relay.h).
 *
 * Context: any context but NMI, including hard interrupts; any context on
 * a lockless channel (relay_rs_open_flags()).
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
 * Disables preemption only. A record that does not fit is dropped and
 * counted (relay_rs_stats()).
 *
 * Context: any context in which no writer of the same channel can
 * interrupt it: the caller must not write to the same channel from
 * interrupt context.
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
 * Readers see the slot from the next reservation or sub-buffer switch on,
 * never before it is filled.
 *
 * Context: as in relay.h, the caller keeps the CPU (disables preemption or
 * interrupts, or holds its lock for a global channel) until it has filled
 * the slot.
 * Return: pointer to reserved slot, %NULL if full or too big (counted).
 */
static inline void *relay_rs_reserve(struct rchan *chan, size_t length)
{
	struct rchan_buf *buf;
	size_t offset;
	void *slot;

	preempt_disable();
	buf = this_cpu_read(*chan->buf);
	slot = NULL;
	if (!relay_rs_room(chan, buf, NULL, length, &offset, &slot))
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
 * Source compatibility: a client written for the kernel's <linux/relay.h>
 * (7.3's or 6.12's) builds unchanged against this header. Define
 * RELAY_RS_NO_COMPAT_NAMES to get only the relay_rs_ names.
 */
#ifndef RELAY_RS_NO_COMPAT_NAMES
#define relay_open		relay_rs_open
#if RELAY_RS_RELAY_H_7_3
#define relay_stats		relay_rs_stats
#else
#define relay_late_setup_files	relay_rs_late_setup_files
#endif
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
