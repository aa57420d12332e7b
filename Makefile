# SPDX-License-Identifier: GPL-2.0
#
# relay_rs. `make demo` and `make test` set up everything they need.
# KERNEL=7.3 (the default) or KERNEL=6.12 picks the cached kernel; make test
# without KERNEL runs both. Build against your own kernel instead:
# make KDIR=/path/to/configured/tree (7.3 or 6.12)
#
# make test runs on the debug kernel (KASAN, lockdep, kmemleak, ...:
# kernel-config/debug.config); make demo on the plain one.

TOP := $(CURDIR)
, := ,
export PATH := /usr/lib/llvm-19/bin:$(HOME)/.cargo/bin:$(PATH)

ALL_KERNELS := 7.3 6.12
# KDIR's version is the tree's own: its Makefile's VERSION and PATCHLEVEL (a
# build directory made with O= has them in source/Makefile), else what the
# tree's kernelversion target says.
ifneq ($(KDIR),)
KDIR_KERNEL := $(shell for f in '$(KDIR)/Makefile' '$(KDIR)/source/Makefile'; do \
	v=$$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p' "$$f" 2>/dev/null | paste -sd.); \
	[ -n "$$v" ] && { echo "$$v"; exit; }; done; \
	$(MAKE) -s --no-print-directory -C '$(KDIR)' kernelversion 2>/dev/null | cut -d. -f1,2)
ifeq ($(KDIR_KERNEL),)
$(error cannot tell the kernel version of KDIR=$(KDIR))
endif
ifneq ($(filter-out $(KDIR_KERNEL),$(KERNEL)),)
$(error KERNEL=$(KERNEL) but KDIR=$(KDIR) is Linux $(KDIR_KERNEL))
endif
ifeq ($(filter $(ALL_KERNELS),$(KDIR_KERNEL)),)
$(error KDIR=$(KDIR) is Linux $(KDIR_KERNEL): relay_rs supports 7.3 and 6.12)
endif
override KERNEL := $(KDIR_KERNEL)
endif
# The kernels make test (and check's upstream clients) run on: the one
# asked for, else all.
KERNELS := $(or $(KERNEL),$(ALL_KERNELS))
override KERNEL := $(or $(KERNEL),7.3)
ifneq ($(words $(KERNEL)) $(filter $(ALL_KERNELS),$(KERNEL)),1 $(KERNEL))
$(error relay_rs supports KERNEL=7.3 and KERNEL=6.12, not KERNEL=$(KERNEL))
endif

.PHONY: all setup modules demo test host-test bench check rustdoc clean

all: modules

setup:
	@$(TOP)/scripts/setup.sh

# $(call kdir,KERNEL,VARIANT): the kernel build directory to use.
kdir = $(if $(KDIR),$(KDIR),$$($(TOP)/scripts/kernel.sh $(1) $(2)))
# $(call src,KERNEL): the copy of the source tree that KERNEL's modules are
# built in. Kbuild writes an external module's objects beside its sources,
# so one tree holds one kernel's objects; a copy per kernel lets both stay
# built. rsync copies what git would track (not .gitignore's build outputs,
# not build/ or the cargo targets) and keeps the mtimes, so Kbuild rebuilds
# only what changed; the copy's own objects are excluded, so --delete
# leaves them alone. Compiler messages name the copy's files: edit the
# tree's, as the next build overwrites the copy.
src = $(TOP)/build/$(1)/src
sync = mkdir -p $(call src,$(1)) && \
	rsync -a --delete --filter=':- .gitignore' --exclude=/.git --exclude=/build/ \
		--exclude=/host/target/ --exclude='/tools/*/target/' $(TOP)/ $(call src,$(1))/
# $(call build,KDIR,KERNEL): the modules, against that kernel.
build = $(call sync,$(2)) && $(MAKE) -C $(1) M=$(call src,$(2)) LLVM=1 modules
# $(call qemu,KDIR,KERNEL,MODE): boot that kernel with its modules; the
# console log goes to build/KERNEL/MODE.log (RUN_LOG replaces MODE).
qemu = KDIR=$(1) MODDIR=$(call src,$(2)) OUTDIR=$(TOP)/build/$(2) $(TOP)/tests/run-qemu.sh $(3)

modules: setup
	@kdir=$(call kdir,$(KERNEL),base) && $(call build,$$kdir,$(KERNEL))

# Host tests of the pure ring logic, then a bounded fuzzing run of it;
# output kept for the report.
FUZZ_SECONDS ?= 30
# The host test files run under Miri (the race tests are too slow there).
MIRI_TESTS ?= --test commit --test ring
# How long the guest stress run lasts: 120 s in all, split between the
# kernels when make test runs both (which keeps a warm run of both near 12
# minutes on 2 cores).
export STRESS_SECONDS ?= $(if $(filter 1,$(words $(KERNELS))),120,60)
# A boot of the suite takes 6-8 minutes; more on a loaded machine.
export QEMU_TIMEOUT ?= 1500
host-test: setup
	@mkdir -p $(TOP)/build
	@cd $(TOP)/host && cargo test --release 2>&1 | tee $(TOP)/build/host-test.log | \
		grep -E '^test result|FAILED|panicked' || true
	@cd $(TOP)/host/fuzz && \
	if cargo +nightly fuzz run ring_ops -- -max_total_time=$(FUZZ_SECONDS) >$(TOP)/build/fuzz.log 2>&1; then \
		echo "test fuzz::ring_ops_$(FUZZ_SECONDS)s ... ok ($$(grep -o 'Done [0-9]* runs' $(TOP)/build/fuzz.log))"; \
	else \
		echo "test fuzz::ring_ops_$(FUZZ_SECONDS)s ... FAILED"; tail -20 $(TOP)/build/fuzz.log; \
	fi | tee -a $(TOP)/build/host-test.log
	@# The loom model of the protocol (host/tests/loom.rs), exhaustive up
	@# to its preemption bounds, and the host tests under Miri, bounded.
	@cd $(TOP)/host && \
	{ RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=$(TOP)/host/target/loom \
		cargo test --release --test loom --test loom_lockless >$(TOP)/build/loom.log 2>&1 || \
		{ echo "test loom::build_or_run ... FAILED"; tail -30 $(TOP)/build/loom.log; }; \
	  grep -E '^test .* \.\.\. (ok|FAILED)' $(TOP)/build/loom.log | sed 's/^test /test loom::/'; } | \
		tee -a $(TOP)/build/host-test.log
	@cd $(TOP)/host && \
	{ CARGO_TARGET_DIR=$(TOP)/host/target/miri cargo +nightly miri test $(MIRI_TESTS) \
		>$(TOP)/build/miri.log 2>&1 || \
		{ echo "test miri::build_or_run ... FAILED"; tail -30 $(TOP)/build/miri.log; }; \
	  grep -E '^test .* \.\.\. (ok|FAILED)' $(TOP)/build/miri.log | sed 's/^test /test miri::/'; } | \
		tee -a $(TOP)/build/host-test.log
	@# The consumer library's unit and doc tests.
	@cd $(TOP)/tools/relay-consumer && \
	{ cargo test --release >$(TOP)/build/relay-consumer-test.log 2>&1 || \
		{ echo "test relay_consumer::build_or_run ... FAILED"; tail -30 $(TOP)/build/relay-consumer-test.log; }; \
	  grep -E '^test .* \.\.\. (ok|FAILED)' $(TOP)/build/relay-consumer-test.log | \
		sed 's/^test /test relay_consumer::/'; } | tee -a $(TOP)/build/host-test.log

demo: setup
	@kdir=$(call kdir,$(KERNEL),base) && $(call build,$$kdir,$(KERNEL)) && \
	QEMU_MEM=512M $(call qemu,$$kdir,$(KERNEL),demo)
	@python3 $(TOP)/tests/report.py demo $(TOP)/build/$(KERNEL)/demo.log

# Each kernel in turn: its modules, the compile-fail cases against it
# (their lines go to the host log, tagged with the kernel) and one boot of
# the suite. A kernel that fails to build does not stop the next one: its
# log is removed first, so the report counts it as failed rather than
# reading an old run's.
test: setup host-test
	@for k in $(KERNELS); do \
		echo "test: Linux $$k"; \
		rm -f $(TOP)/build/$$k/test.log; \
		kdir=$(call kdir,$$k,debug) && $(call build,$$kdir,$$k) && \
		$(TOP)/tests/compile-fail/run.sh $$kdir $(TOP)/build/$$k/compile-fail $$k | \
			tee -a $(TOP)/build/host-test.log && \
		QEMU_MEM=2G $(call qemu,$$kdir,$$k,test); \
	done; true
	@python3 $(TOP)/tests/report.py test $(TOP)/build/host-test.log \
		$(foreach k,$(KERNELS),$(k)=$(TOP)/build/$(k)/test.log)

# Benchmark against the kernel's relay, on KERNEL's plain kernel: one boot
# per QEMU mode, wall time (TCG) and instruction counts (-icount), each
# printing its tables; CSVs and plots go to bench/results/KERNEL/, the
# summary tables into KERNEL's section of docs/performance.md. BENCH_MODES
# selects.
BENCH_MODES ?= walltime icount
bench: setup
	@$(TOP)/scripts/setup.sh --bench
	@kdir=$(call kdir,$(KERNEL),base) && $(call build,$$kdir,$(KERNEL)) && \
	for mode in $(BENCH_MODES); do \
		case $$mode in \
		walltime) extra= ;; \
		icount) extra="-icount shift=0,sleep=off" ;; \
		*) echo "bench: unknown mode $$mode" >&2; exit 2 ;; \
		esac; \
		QEMU_MEM=1G QEMU_EXTRA="$$extra" RUN_LOG=bench-$$mode \
			$(call qemu,$$kdir,$(KERNEL),bench) && \
		python3 $(TOP)/bench/report.py $(TOP)/build/$(KERNEL)/bench-$$mode.log \
			$(TOP)/bench/results/$(KERNEL) $$mode || exit 1; \
	done; \
	python3 $(TOP)/bench/report.py --tables $(TOP)/docs/performance.md \
		$(TOP)/bench/results/$(KERNEL) $(KERNEL)

# The Rust client API's documentation (include/relay_rs/, through its doc
# root doc.rs), built by Kbuild in KERNEL's copy with the flags the tree
# gives a module's rustc, warnings as errors, then copied out of it:
# build/KERNEL/rustdoc/relay_rs_client/index.html.
rustdoc_cmd = $(call sync,$(2)) && $(MAKE) -s -C $(1) M=$(call src,$(2)) LLVM=1 build/rustdoc/ && \
	rm -rf $(TOP)/build/$(2)/rustdoc && cp -r $(call src,$(2))/build/rustdoc $(TOP)/build/$(2)/rustdoc
rustdoc: setup
	@kdir=$(call kdir,$(KERNEL),base) && $(call rustdoc_cmd,$$kdir,$(KERNEL)) && \
	echo "rustdoc: $(TOP)/build/$(KERNEL)/rustdoc/relay_rs_client/index.html"

# The kernel's own relay clients (blktrace, ath9k/10k/11k, mt76, t7xx, iosm,
# i915), compiled unchanged from each version's source against relay_rs'
# header: scripts/upstream-clients.sh. Part of check; on KERNEL if given,
# else on both.
CLIENTS_KERNELS ?= $(KERNELS)
.PHONY: upstream-clients
upstream-clients: setup
	@rc=0; for v in $(CLIENTS_KERNELS); do $(TOP)/scripts/upstream-clients.sh $$v || rc=1; done; exit $$rc
check: upstream-clients

# rustfmt, clippy, checkpatch, kernel-doc and the client API's rustdoc,
# all of which must stay clean; clippy and rustdoc against KERNEL. (The
# compile-fail prelude is left out of rustfmt: its mount of the API
# resolves only in run.sh's build copy. checkpatch's LINUX_VERSION_CODE
# rule is off: code built out of tree for two kernels tells them apart by
# it, in relay_rs.h and in the C sides of the benchmark and the
# differential test, which include the kernel's <linux/relay.h> instead.)
check: setup
	@kdir=$(call kdir,$(KERNEL),base) && \
	rustfmt --edition 2021 --check --config-path $(TOP)/.rustfmt.toml $(TOP)/relay_rs.rs \
		$(TOP)/samples/rust_relay_rs_sample.rs $(TOP)/bench/bench_rust.rs \
		$(TOP)/tests/doc-client/rust_api_client.rs $(TOP)/tests/doc-client/rust_lockless_client.rs \
		$(TOP)/include/relay_rs/doc.rs \
		$(filter-out %/prelude.rs,$(wildcard $(TOP)/tests/compile-fail/*.rs)) && \
	(cd $(TOP)/host && cargo fmt --check) && (cd $(TOP)/tools/relay-check && cargo fmt --check) && \
	(cd $(TOP)/tools/relay-consumer && cargo fmt --check) && \
	(cd $(TOP)/tools/relay-read && cargo fmt --check) && \
	(cd $(TOP)/tools/relay-harness && cargo fmt --check) || \
		{ echo "check: rustfmt found unformatted code" >&2; exit 1; }; \
	$(call sync,$(KERNEL)) && \
	(cd $(call src,$(KERNEL)) && touch relay_rs.rs samples/rust_relay_rs_sample.rs \
		bench/bench_rust.rs tests/doc-client/rust_api_client.rs \
		tests/doc-client/rust_lockless_client.rs) && \
	$(MAKE) -s -C $$kdir M=$(call src,$(KERNEL)) LLVM=1 CLIPPY=1 modules 2>&1 | \
		grep -v 'nocf_check\|packed member' | grep -E -A8 '^(warning|error)' && exit 1; \
	for f in $(TOP)/include/*.h $(TOP)/include/uapi/*.h $(TOP)/bindings/*.[ch] $(TOP)/samples/*.[ch] \
		$(TOP)/tests/*.c $(TOP)/tests/*/*.[ch] $(TOP)/bench/*.[ch] $(TOP)/tools/*/*.c; do \
		case $$f in *.mod.c) continue;; esac; \
		$$kdir/source/scripts/checkpatch.pl --no-tree --quiet --terse \
			--ignore LINUX_VERSION_CODE -f $$f || exit 1; \
	done; \
	out=$$($$kdir/source/scripts/kernel-doc -none -Wall -Werror $(TOP)/include/relay_rs.h \
		$(TOP)/include/uapi/relay_rs.h 2>&1) && [ -z "$$out" ] || \
		{ printf '%s\n' "$$out" >&2; echo "check: kernel-doc found problems" >&2; exit 1; }; \
	$(call rustdoc_cmd,$$kdir,$(KERNEL)) || { echo "check: rustdoc found problems" >&2; exit 1; }; \
	echo "check: rustfmt, clippy, checkpatch, kernel-doc and rustdoc clean"

# The Kbuild clean of the tree itself is for objects of builds made in it
# directly (make -C KDIR M=$PWD); the targets above build in build/KERNEL/src.
clean:
	@kdir=$(call kdir,$(KERNEL),base) && $(MAKE) -C $$kdir M=$(TOP) LLVM=1 clean || true
	rm -rf $(TOP)/build $(TOP)/host/target $(TOP)/tools/*/target
