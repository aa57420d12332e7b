/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * relay_rs user-space interface: ioctls on a relay file for consumers that
 * mmap() the buffer instead of read()ing it.
 *
 * An mmap consumer maps the whole buffer (length RELAY_RS_IOC_INFO's
 * alloc_size, offset 0, PROT_READ), then repeatedly: polls for POLLIN, reads
 * the counters with RELAY_RS_IOC_INFO, takes the padding of the completed
 * sub-buffers [consumed, produced) with RELAY_RS_IOC_PADDING, copies
 * sub-buffer (s % n_subbufs) up to subbuf_size - padding, and hands the
 * sub-buffers back with RELAY_RS_IOC_CONSUMED.
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
#define RELAY_RS_IOC_CONSUMED	_IOW(RELAY_RS_IOC_MAGIC, 3, __u64)

#endif /* _UAPI_RELAY_RS_H */
