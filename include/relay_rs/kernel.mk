# SPDX-License-Identifier: GPL-2.0
#
# The kernel-version switch of relay_rs and of its Rust clients, from the
# kernel's own VERSION and PATCHLEVEL: Rust code sees
# cfg(relay_rs_kernel = "7.3") or cfg(relay_rs_kernel = "6.12"). (C code
# needs nothing: include/relay_rs.h reads LINUX_VERSION_CODE.) A Kbuild
# file of a Rust client module that mounts include/relay_rs/ includes this:
#
#	include $(RELAY_RS_DIR)/include/relay_rs/kernel.mk

relay_rs_kernel := $(VERSION).$(PATCHLEVEL)
ifeq ($(filter 6.12 7.3,$(relay_rs_kernel)),)
$(error relay_rs supports Linux 7.3 and 6.12, not $(relay_rs_kernel))
endif
rustflags-y += --cfg='relay_rs_kernel="$(relay_rs_kernel)"'
