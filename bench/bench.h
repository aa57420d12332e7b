/* SPDX-License-Identifier: GPL-2.0 */
/*
 * relay_rs benchmark: the same write loops over the kernel's relay
 * (bench_c.c) and relay_rs (bench_rs.c); bench_main.c times them.
 */
#ifndef _RELAY_RS_BENCH_H
#define _RELAY_RS_BENCH_H

#include <linux/types.h>

struct dentry;

enum bench_path { PATH_WRITE, PATH_UNLOCKED, PATH_RESERVE, NR_PATHS };

int bench_c_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs);
void bench_c_loop(enum bench_path path, const void *rec, size_t len, unsigned int count);
void bench_c_close(void);

int bench_rs_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs);
void bench_rs_loop(enum bench_path path, const void *rec, size_t len, unsigned int count);
void bench_rs_close(void);

#endif /* _RELAY_RS_BENCH_H */
