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

int diff_c_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs, bool overwrite);
void diff_c_write(const void *data, size_t len);
void diff_c_flush(void);
void diff_c_reset(void);
void diff_c_close(void);

int diff_rs_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs, bool overwrite);
void diff_rs_write(const void *data, size_t len);
void diff_rs_flush(void);
void diff_rs_reset(void);
void diff_rs_close(void);

#endif /* _RELAY_RS_DIFF_H */
