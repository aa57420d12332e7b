/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input to bindgen for relay_rs' module-local bindings: the relay types
 * from the public header, debugfs, vmalloc, irq_work and the glue shims.
 * Types that kernel::bindings already has are reused from there.
 */
#include <linux/debugfs.h>
#include <linux/vmalloc.h>
#include <linux/irq_work.h>
#include <linux/poll.h>
#include <linux/cpu.h>
#include <linux/mm.h>
#include <linux/splice.h>
#include <linux/pipe_fs_i.h>
#include "../include/relay_rs.h"
#include "relay_rs_glue.h"
