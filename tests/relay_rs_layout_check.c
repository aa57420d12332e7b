// SPDX-License-Identifier: GPL-2.0
/*
 * Build-time proof that include/relay_rs.h lays out struct rchan,
 * struct rchan_buf and struct rchan_callbacks exactly as the kernel's own
 * <linux/relay.h>: this file does not compile if any field moves.
 */
#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/relay.h>

#define RELAY_RS_LAYOUT_CHECK
#define RELAY_RS_NO_COMPAT_NAMES
#define rchan rrs_rchan
#define rchan_buf rrs_rchan_buf
#define rchan_callbacks rrs_rchan_callbacks
#define rchan_buf_stats rrs_rchan_buf_stats
#undef RELAYFS_CHANNEL_VERSION
#include "../include/relay_rs.h"
#undef rchan
#undef rchan_buf
#undef rchan_callbacks
#undef rchan_buf_stats

#define SAME(type, field) \
	static_assert(offsetof(struct type, field) == offsetof(struct rrs_##type, field) && \
		      sizeof_field(struct type, field) == sizeof_field(struct rrs_##type, field))
#define SAME_SHAPE(type) \
	static_assert(sizeof(struct type) == sizeof(struct rrs_##type) && \
		      __alignof__(struct type) == __alignof__(struct rrs_##type))

/* relay_rs appends two fields; relay_rs alone allocates buffers. */
static_assert(__alignof__(struct rchan_buf) == __alignof__(struct rrs_rchan_buf) &&
	      offsetof(struct rrs_rchan_buf, committed) >= offsetofend(struct rchan_buf, cpu));
SAME(rchan_buf, start);
SAME(rchan_buf, data);
SAME(rchan_buf, offset);
SAME(rchan_buf, subbufs_produced);
SAME(rchan_buf, subbufs_consumed);
SAME(rchan_buf, chan);
SAME(rchan_buf, read_wait);
SAME(rchan_buf, wakeup_work);
SAME(rchan_buf, dentry);
SAME(rchan_buf, kref);
#if RELAY_RS_RELAY_H_7_3
SAME(rchan_buf, stats);
SAME(rchan_buf_stats, full_count);
SAME(rchan_buf_stats, big_count);
SAME_SHAPE(rchan_buf_stats);
#endif
SAME(rchan_buf, page_array);
SAME(rchan_buf, page_count);
SAME(rchan_buf, finalized);
SAME(rchan_buf, padding);
#if !RELAY_RS_RELAY_H_7_3
SAME(rchan_buf, prev_padding);
#endif
SAME(rchan_buf, bytes_consumed);
SAME(rchan_buf, early_bytes);
SAME(rchan_buf, cpu);

SAME_SHAPE(rchan);
SAME(rchan, version);
SAME(rchan, subbuf_size);
SAME(rchan, n_subbufs);
SAME(rchan, alloc_size);
SAME(rchan, cb);
SAME(rchan, kref);
SAME(rchan, private_data);
#if !RELAY_RS_RELAY_H_7_3
SAME(rchan, last_toobig);
#endif
SAME(rchan, buf);
SAME(rchan, is_global);
SAME(rchan, list);
SAME(rchan, parent);
SAME(rchan, has_base_filename);
SAME(rchan, base_filename);

/*
 * The kernel's callbacks are a prefix of ours; the two mapping callbacks of
 * the original 2.6-era relay API follow.
 */
SAME(rchan_callbacks, subbuf_start);
SAME(rchan_callbacks, create_buf_file);
SAME(rchan_callbacks, remove_buf_file);
static_assert(offsetof(struct rrs_rchan_callbacks, buf_mapped) == sizeof(struct rchan_callbacks));
#if RELAY_RS_RELAY_H_7_3
/* 7.3's relay_stats() flags are relay_rs_stats()'s. */
static_assert(RELAY_RS_STATS_BUF_FULL == RELAY_STATS_BUF_FULL);
static_assert(RELAY_RS_STATS_WRT_BIG == RELAY_STATS_WRT_BIG);
#endif
