/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * relay_rs user-space interface: ioctls on a relay file for consumers that
 * mmap() the buffer instead of read()ing it.
 *
 * The buffer is a ring of n_subbufs sub-buffers of subbuf_size bytes.
 * Sub-buffers are counted from 0 since the channel was opened or reset;
 * count s lives at byte (s % n_subbufs) * subbuf_size of the mapping, and
 * its data are its first subbuf_size - padding bytes. Records never cross
 * a sub-buffer.
 *
 * An mmap consumer maps the whole buffer (length RELAY_RS_IOC_INFO's
 * alloc_size, offset 0, PROT_READ, MAP_SHARED), then repeatedly:
 *
 *  1. polls for POLLIN (a completed sub-buffer is unconsumed; POLLHUP once
 *     the channel is closed);
 *  2. reads the counters with RELAY_RS_IOC_INFO: the completed sub-buffers
 *     it has not handed back are [consumed, produced);
 *  3. takes their padding with RELAY_RS_IOC_PADDING (first = consumed,
 *     count = produced - consumed, at most n_subbufs: in overwrite mode,
 *     where produced - consumed can exceed n_subbufs, ask for the newest
 *     n_subbufs and skip the older ones, which are gone);
 *  4. copies each sub-buffer's data out of the mapping (if bytes_consumed
 *     is not 0, read() took that many bytes of sub-buffer `consumed`: skip
 *     them). Copy before using the data: in overwrite mode the producer may
 *     be writing the next lap over a sub-buffer while it is copied;
 *  5. hands them back with RELAY_RS_IOC_CONSUMED, passing the number of
 *     sub-buffers (produced - consumed as read in step 2). The ioctl
 *     returns R >= 0: the first R of them were overwritten by the producer
 *     before they were handed back (overwrite mode only; always 0 when the
 *     producer refuses a full buffer). Drop the copies of those R, which
 *     may mix two laps; keep the others, which are intact. The records of
 *     the R are counted in the channel's "overwritten" statistic, so
 *     records written = records kept + records counted lost, exactly.
 *
 * RELAY_RS_IOC_CONSUMED with a count larger than produced - consumed hands
 * back everything produced (counting what was overwritten), so a consumer
 * lapped by more than a ring catches up in one call; 6.12's
 * relay_subbufs_consumed() ignores counts above n_subbufs. A count of 0
 * does nothing and returns 0.
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

#endif /* _UAPI_RELAY_RS_H */
