/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The three timed write paths, written once for every relay peer:
 * bench_loop.h (the C relay, relay_rs) and bench_rsl.c (relay_rs' lockless
 * channels) include it after defining BENCH(name), R_WRITE, R___WRITE and
 * R_RESERVE; it writes @count records of @len bytes to the file's `chan`.
 */
#include <linux/preempt.h>
#include <linux/irqflags.h>
#include <linux/string.h>
#include "bench.h"

static __always_inline void BENCH(paths)(enum bench_path path, const void *rec,
					 size_t len, unsigned int count)
{
	unsigned long flags;
	unsigned int i;
	void *slot;

	switch (path) {
	case PATH_WRITE:
		for (i = 0; i < count; i++)
			R_WRITE(chan, rec, len);
		break;
	case PATH_UNLOCKED:
		preempt_disable();
		for (i = 0; i < count; i++)
			R___WRITE(chan, rec, len);
		preempt_enable();
		break;
	default:
		for (i = 0; i < count; i++) {
			local_irq_save(flags);
			slot = R_RESERVE(chan, len);
			if (slot)
				memcpy(slot, rec, len);
			local_irq_restore(flags);
		}
		break;
	}
}
