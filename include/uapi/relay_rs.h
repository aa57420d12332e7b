/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * relay_rs user-space interface: ioctls on a relay file for consumers that
 * mmap() the buffer instead of read()ing it.
 *
 * The buffer is a ring of n_subbufs sub-buffers of subbuf_size bytes.
 * Sub-buffers are counted from 0 since the kernel client opened the
 * channel (or last reset it, which it does only while nothing reads);
 * count s lives at byte (s % n_subbufs) * subbuf_size of the mapping, and
 * its data are its first subbuf_size - padding bytes. Records never cross
 * a sub-buffer. The position (consumed, bytes_consumed) belongs to the
 * buffer, not to the file descriptor: it is shared by every reader of it,
 * so use one consumer, read() or mmap, per buffer.
 *
 * An mmap consumer maps the whole buffer (length RELAY_RS_IOC_INFO's
 * alloc_size, the ring rounded up to whole pages, offset 0, PROT_READ,
 * MAP_SHARED), then repeatedly:
 *
 *  1. polls for POLLIN: a completed sub-buffer is unconsumed. POLLHUP
 *     (with POLLIN while data remains) once the channel is closed; nothing
 *     is produced after that. Closing does not complete the sub-buffer
 *     being written: its data reach an mmap consumer only if the client
 *     flushed it (relay_rs_flush()) before closing;
 *  2. reads the counters with RELAY_RS_IOC_INFO: the completed sub-buffers
 *     not yet handed back are [consumed, produced);
 *  3. takes their padding with RELAY_RS_IOC_PADDING: first = a sub-buffer
 *     count, count = how many (at most n_subbufs, else EINVAL); entry i of
 *     the array is the padding of sub-buffer first + i. In overwrite mode
 *     produced - consumed can exceed n_subbufs: only the newest n_subbufs
 *     can still be there, so ask for first = produced - n_subbufs and
 *     skip the older ones;
 *  4. copies each sub-buffer's data out of the mapping (if bytes_consumed
 *     is not 0, read() took that many bytes of sub-buffer `consumed`: skip
 *     them). Copy before using the data: in overwrite mode the producer may
 *     be writing the next lap over a sub-buffer while it is copied (the
 *     oldest one asked for, when produced - consumed is n_subbufs);
 *  5. hands them back with RELAY_RS_IOC_CONSUMED, whose argument points to
 *     a __u64 holding the number of sub-buffers: produced - consumed as
 *     read in step 2, including any skipped in step 3. The ioctl returns
 *     R >= 0: sub-buffers [consumed, consumed + R), counted from step 2's
 *     consumed (so the skipped ones come first), were overwritten by the
 *     producer before they were handed back (overwrite mode only; always
 *     0 when the producer refuses a full buffer). Drop your copies of
 *     those, which may mix two laps; keep the others, which are intact.
 *     The records of all R are counted in the channel's "overwritten"
 *     statistic, so records written = records kept + records counted
 *     lost, exactly. consumed then moves on by the count handed back, or
 *     to the oldest intact sub-buffer if the producer overwrote more.
 *
 * RELAY_RS_IOC_CONSUMED with a count larger than produced - consumed hands
 * back everything produced (counting what was overwritten), so a consumer
 * lapped by more than a ring catches up in one call. A count of 0 does
 * nothing and returns 0. The offset and finalized fields of
 * RELAY_RS_IOC_INFO are informational (the write offset in sub-buffer
 * `produced`; 1 once the channel is closed, as POLLHUP tells).
 *
 * RELAY_RS_IOC_DELIVERY, whose argument points to a __u64 holding a number
 * of milliseconds (at most 3600000, else EINVAL), sets the delivery
 * interval of the file's channel, for every buffer and reader of it (the
 * kernel client may set it too, with relay_rs_set_delivery_interval()); 0
 * turns it off, which is how channels start. With an interval, a reader
 * blocked in poll() on a buffer that has unread bytes wakes within it
 * (plus one timer tick) even if no sub-buffer completes, and read() or
 * splice() then returns those bytes; POLLIN then means "bytes unread",
 * those of the sub-buffer being written included, instead of "a completed
 * sub-buffer unconsumed". That suits read() and splice() consumers only:
 * an mmap consumer hands back whole sub-buffers, so its poll() would keep
 * reporting bytes it cannot consume. The channel's stats file shows the
 * interval (delivery_interval_ms), the runs of the timer behind it
 * (delivery_runs) and the readers it woke (delivery_wakeups: each time, a
 * buffer had unread bytes and a reader waiting; none while nothing is
 * unread). The interval goes with the channel: a new channel of the same
 * name starts without one.
 */
#ifndef _UAPI_RELAY_RS_H
#define _UAPI_RELAY_RS_H

#include <linux/ioctl.h>
#include <linux/types.h>

struct relay_rs_buf_info {
	__u64 subbuf_size;	/* bytes per sub-buffer */
	__u64 n_subbufs;	/* sub-buffers in the ring */
	__u64 alloc_size;	/* the mmap() length */
	__u64 produced;		/* sub-buffers completed so far */
	__u64 consumed;		/* sub-buffers consumed so far */
	__u64 bytes_consumed;	/* bytes read() from the consumed one */
	__u64 offset;		/* write offset in the current sub-buffer */
	__u64 finalized;	/* 1 once the channel is closed */
};

struct relay_rs_padding {
	__u64 first;		/* first sub-buffer (a count, as produced) */
	__u64 count;		/* how many, at most n_subbufs */
	__u64 padding;		/* user pointer to count __u64 */
};

#define RELAY_RS_IOC_MAGIC	0xb7
#define RELAY_RS_IOC_INFO	_IOR(RELAY_RS_IOC_MAGIC, 1, struct relay_rs_buf_info)
#define RELAY_RS_IOC_PADDING	_IOW(RELAY_RS_IOC_MAGIC, 2, struct relay_rs_padding)
/* Returns how many of the handed-back sub-buffers to drop (see above). */
#define RELAY_RS_IOC_CONSUMED	_IOW(RELAY_RS_IOC_MAGIC, 3, __u64)
/*
 * The channel's delivery interval in milliseconds, from a __u64 (see
 * below); 0 turns it off.
 */
#define RELAY_RS_IOC_DELIVERY	_IOW(RELAY_RS_IOC_MAGIC, 4, __u64)

#endif /* _UAPI_RELAY_RS_H */
