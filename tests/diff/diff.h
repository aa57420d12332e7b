/* SPDX-License-Identifier: GPL-2.0 */
/*
 * relay_rs differential test: the same operations on the kernel's relay
 * (diff_c.c, <linux/relay.h>) and on relay_rs (diff_rs.c, relay_rs.h). The
 * two headers cannot meet in one file, hence one file per side.
 */
#ifndef _RELAY_RS_DIFF_H
#define _RELAY_RS_DIFF_H

#include <linux/types.h>

struct dentry;

/*
 * What the kernel's relay keeps of its losses, where clients read it: on
 * 7.3 each buffer's stats (summed), on 6.12 the channel's last_toobig.
 */
struct diff_counts {
	size_t full_count, big_count, last_toobig;
};

int diff_c_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs, bool overwrite);
void diff_c_write(const void *data, size_t len);
void diff_c_flush(void);
void diff_c_reset(void);
void diff_c_close(void);
struct diff_counts diff_c_counts(void);

int diff_rs_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs, bool overwrite);
void diff_rs_write(const void *data, size_t len);
void diff_rs_flush(void);
void diff_rs_reset(void);
void diff_rs_close(void);
struct diff_counts diff_rs_counts(void);

#endif /* _RELAY_RS_DIFF_H */
