/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input to bindgen for relay_rs' module-local bindings: the relay types
 * from the public header, the ioctl structures of the uapi header, debugfs,
 * vmalloc, irq_work and the glue shims. Types that kernel::bindings already
 * has are reused from there.
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
#include "../include/uapi/relay_rs.h"
#include "relay_rs_glue.h"

/*
 * The headers' constants that bindgen cannot evaluate as macros (a cast,
 * _IOR()/_IOW()), as constants that it can: relay_rs checks its own values
 * against these at build time (relay_rs.rs, fileops/ioctl.rs).
 */
static const size_t RELAY_RS_C_NO_RESERVATION = RELAY_RS_NO_RESERVATION;
static const unsigned int RELAY_RS_C_IOC_INFO = RELAY_RS_IOC_INFO;
static const unsigned int RELAY_RS_C_IOC_PADDING = RELAY_RS_IOC_PADDING;
static const unsigned int RELAY_RS_C_IOC_CONSUMED = RELAY_RS_IOC_CONSUMED;
static const unsigned int RELAY_RS_C_IOC_DELIVERY = RELAY_RS_IOC_DELIVERY;
static const unsigned int RELAY_RS_C_MAX_DELIVERY_MS = RELAY_RS_MAX_DELIVERY_MS;
