/* SPDX-License-Identifier: GPL-2.0 */
/*
 * relay_rs benchmark: the same write loops over the kernel's relay
 * (bench_c.c), relay_rs from C (bench_rs.c) and relay_rs from Rust
 * (bench_rust.rs); bench_main.c times them and drives the readers' channels.
 */
#ifndef _RELAY_RS_BENCH_H
#define _RELAY_RS_BENCH_H

#include <linux/types.h>
#include <linux/percpu.h>
#include <linux/version.h>

/* The kernel's subbuf_start() parameters: 6.12's pass prev_padding too. */
#if KERNEL_VERSION(7, 3, 0) <= LINUX_VERSION_CODE
#define BENCH_SUBBUF_START_PARAMS struct rchan_buf *buf, void *subbuf, void *prev
#else
#define BENCH_SUBBUF_START_PARAMS struct rchan_buf *buf, void *subbuf, void *prev, size_t pad
#endif

struct dentry;

enum bench_path { PATH_WRITE, PATH_UNLOCKED, PATH_RESERVE, NR_PATHS };

int bench_c_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs);
void bench_c_loop(enum bench_path path, const void *rec, size_t len, unsigned int count);
void bench_c_close(void);

int bench_rs_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs);
void bench_rs_loop(enum bench_path path, const void *rec, size_t len, unsigned int count);
void bench_rs_close(void);

int bench_rsl_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs);
void bench_rsl_loop(enum bench_path path, const void *rec, size_t len, unsigned int count);
void bench_rsl_close(void);

int bench_rust_open(struct dentry *dir, size_t subbuf_size, size_t n_subbufs);
void bench_rust_loop(enum bench_path path, const void *rec, size_t len, unsigned int count);
void bench_rust_close(void);

/* Readers: a no-overwrite channel of fixed-size records (bench_loop.h). */
struct bench_rd_ops {
	int (*open)(struct dentry *dir, const char *name, size_t subbuf_size,
		    size_t n_subbufs);
	void (*write)(const void *rec, size_t len);
	void (*flush)(void);
	void (*close)(void);
	unsigned long (*lost)(void);
};
extern const struct bench_rd_ops bench_c_rd, bench_rs_rd;

/*
 * Counters the readers' writers bump with this_cpu_inc(): one shared
 * counter's line would bounce between their CPUs. Zeroed and summed only
 * while no writer runs.
 */
static inline void bench_pcpu_zero(unsigned long __percpu *c)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		*per_cpu_ptr(c, cpu) = 0;
}

static inline unsigned long bench_pcpu_sum(unsigned long __percpu *c)
{
	unsigned long sum = 0;
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(c, cpu);
	return sum;
}

#endif /* _RELAY_RS_BENCH_H */
