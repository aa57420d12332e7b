# SPDX-License-Identifier: GPL-2.0
#
# relay_rs. `make demo` and `make test` set up everything they need.
# Build against your own kernel: make KDIR=/path/to/configured/6.12/tree

TOP := $(CURDIR)
export PATH := /usr/lib/llvm-19/bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: all setup kernel modules demo test host-test clean

all: modules

setup:
	@$(TOP)/scripts/setup.sh

ifeq ($(KDIR),)
KDIR_CMD = $(TOP)/scripts/kernel.sh base
else
KDIR_CMD = echo $(KDIR)
endif

modules: setup
	@kdir=$$($(KDIR_CMD)) && \
	$(MAKE) -C $$kdir M=$(TOP) LLVM=1 modules

clean:
	@kdir=$$($(KDIR_CMD) 2>/dev/null) && [ -d "$$kdir" ] && \
	$(MAKE) -C $$kdir M=$(TOP) LLVM=1 clean || true
	rm -rf host/target tools/relay-check/target

# Host tests of the pure ring logic; output kept for the report.
host-test:
	@mkdir -p $(TOP)/build
	@cd $(TOP)/host && cargo test --release 2>&1 | tee $(TOP)/build/host-test.log | \
		grep -E '^test result|FAILED|panicked' || true

demo: modules
	@$(TOP)/tests/run-qemu.sh demo
	@python3 $(TOP)/tests/report.py demo $(TOP)/build/demo.log

test: modules host-test
	@$(TOP)/tests/run-qemu.sh test
	@python3 $(TOP)/tests/report.py test $(TOP)/build/test.log $(TOP)/build/host-test.log
