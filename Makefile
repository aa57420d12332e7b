# SPDX-License-Identifier: GPL-2.0
#
# relay_rs. `make demo` and `make test` set up everything they need.
# Build against your own kernel: make KDIR=/path/to/configured/6.12/tree
#
# make test runs on the debug kernel (KASAN, lockdep, kmemleak, ...:
# kernel-config/debug.config); make demo on the plain one.

TOP := $(CURDIR)
, := ,
export PATH := /usr/lib/llvm-19/bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: all setup modules demo test host-test bench check rustdoc clean

all: modules

setup:
	@$(TOP)/scripts/setup.sh

# $(call kdir,VARIANT): the kernel build directory to use.
kdir = $(if $(KDIR),$(KDIR),$$($(TOP)/scripts/kernel.sh $(1)))
# $(call build,KDIR): the modules, against that kernel.
build = $(MAKE) -C $(1) M=$(TOP) LLVM=1 modules

modules: setup
	@kdir=$(call kdir,base) && $(call build,$$kdir)

# Host tests of the pure ring logic, then a bounded fuzzing run of it;
# output kept for the report.
FUZZ_SECONDS ?= 30
# The host test files run under Miri (the race tests are too slow there).
MIRI_TESTS ?= --test commit --test ring
# How long the guest stress run lasts.
export STRESS_SECONDS ?= 120
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
		cargo test --release --test loom >$(TOP)/build/loom.log 2>&1 || \
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
	@kdir=$(call kdir,base) && $(call build,$$kdir) && \
	KDIR=$$kdir QEMU_MEM=512M $(TOP)/tests/run-qemu.sh demo
	@python3 $(TOP)/tests/report.py demo $(TOP)/build/demo.log

test: setup host-test
	@kdir=$(call kdir,debug) && $(call build,$$kdir) && \
	$(TOP)/tests/compile-fail/run.sh $$kdir $(TOP)/build/compile-fail | tee -a $(TOP)/build/host-test.log && \
	KDIR=$$kdir QEMU_MEM=2G $(TOP)/tests/run-qemu.sh test
	@python3 $(TOP)/tests/report.py test $(TOP)/build/test.log $(TOP)/build/host-test.log

# Benchmark against the kernel's relay, on the plain kernel: one boot per
# QEMU mode, wall time (TCG) and instruction counts (-icount), each printing
# its tables; CSVs and plots go to bench/results/, the summary tables into
# docs/performance.md. BENCH_MODES selects.
BENCH_MODES ?= walltime icount
bench: setup
	@$(TOP)/scripts/setup.sh --bench
	@kdir=$(call kdir,base) && $(call build,$$kdir) && \
	for mode in $(BENCH_MODES); do \
		case $$mode in \
		walltime) extra= ;; \
		icount) extra="-icount shift=0,sleep=off" ;; \
		*) echo "bench: unknown mode $$mode" >&2; exit 2 ;; \
		esac; \
		KDIR=$$kdir QEMU_MEM=1G QEMU_EXTRA="$$extra" RUN_LOG=bench-$$mode \
			$(TOP)/tests/run-qemu.sh bench && \
		python3 $(TOP)/bench/report.py $(TOP)/build/bench-$$mode.log \
			$(TOP)/bench/results $$mode || exit 1; \
	done; \
	python3 $(TOP)/bench/report.py --tables $(TOP)/docs/performance.md $(TOP)/bench/results

# The Rust client API's documentation (include/relay_rs/, through its doc
# root doc.rs), built by Kbuild with the flags the tree gives a module's
# rustc, warnings as errors: build/rustdoc/relay_rs_client/index.html.
rustdoc_cmd = $(MAKE) -s -C $(1) M=$(TOP) LLVM=1 build/rustdoc/
rustdoc: setup
	@kdir=$(call kdir,base) && $(call rustdoc_cmd,$$kdir) && \
	echo "rustdoc: $(TOP)/build/rustdoc/relay_rs_client/index.html"

# The kernel's own relay clients (blktrace, ath9k/10k/11k, mt76, t7xx, iosm,
# i915), compiled unchanged from each version's source against relay_rs'
# header: scripts/upstream-clients.sh. Part of check.
CLIENTS_KERNELS ?= 7.3 6.12
.PHONY: upstream-clients
upstream-clients: setup
	@rc=0; for v in $(CLIENTS_KERNELS); do $(TOP)/scripts/upstream-clients.sh $$v || rc=1; done; exit $$rc
check: upstream-clients

# rustfmt, clippy, checkpatch, kernel-doc and the client API's rustdoc,
# all of which must stay clean. (The compile-fail prelude is left out of
# rustfmt: its mount of the API resolves only in run.sh's build copy.)
check: setup
	@kdir=$(call kdir,base) && \
	rustfmt --edition 2021 --check --config-path $(TOP)/.rustfmt.toml $(TOP)/relay_rs.rs \
		$(TOP)/samples/rust_relay_rs_sample.rs $(TOP)/bench/bench_rust.rs \
		$(TOP)/tests/doc-client/rust_api_client.rs $(TOP)/include/relay_rs/doc.rs \
		$(filter-out %/prelude.rs,$(wildcard $(TOP)/tests/compile-fail/*.rs)) && \
	(cd $(TOP)/host && cargo fmt --check) && (cd $(TOP)/tools/relay-check && cargo fmt --check) && \
	(cd $(TOP)/tools/relay-consumer && cargo fmt --check) && \
	(cd $(TOP)/tools/relay-read && cargo fmt --check) && \
	(cd $(TOP)/tools/relay-harness && cargo fmt --check) || \
		{ echo "check: rustfmt found unformatted code" >&2; exit 1; }; \
	touch $(TOP)/relay_rs.rs $(TOP)/samples/rust_relay_rs_sample.rs $(TOP)/bench/bench_rust.rs \
		$(TOP)/tests/doc-client/rust_api_client.rs && \
	$(MAKE) -s -C $$kdir M=$(TOP) LLVM=1 CLIPPY=1 modules 2>&1 | \
		grep -v 'nocf_check\|packed member' | grep -E -A8 '^(warning|error)' && exit 1; \
	for f in $(TOP)/include/*.h $(TOP)/include/uapi/*.h $(TOP)/bindings/*.[ch] $(TOP)/samples/*.[ch] \
		$(TOP)/tests/*.c $(TOP)/tests/*/*.[ch] $(TOP)/bench/*.[ch] $(TOP)/tools/*/*.c; do \
		case $$f in *.mod.c) continue;; esac; \
		$$kdir/source/scripts/checkpatch.pl --no-tree --quiet --terse -f $$f || exit 1; \
	done; \
	out=$$($$kdir/source/scripts/kernel-doc -none -Wall -Werror $(TOP)/include/relay_rs.h \
		$(TOP)/include/uapi/relay_rs.h 2>&1) && [ -z "$$out" ] || \
		{ printf '%s\n' "$$out" >&2; echo "check: kernel-doc found problems" >&2; exit 1; }; \
	$(call rustdoc_cmd,$$kdir) || { echo "check: rustdoc found problems" >&2; exit 1; }; \
	echo "check: rustfmt, clippy, checkpatch, kernel-doc and rustdoc clean"

clean:
	@kdir=$(call kdir,base) && $(MAKE) -C $$kdir M=$(TOP) LLVM=1 clean || true
	rm -rf $(TOP)/build $(TOP)/host/target $(TOP)/tools/*/target
