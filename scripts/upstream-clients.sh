#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Proof with code nobody here wrote: the kernel's own relay clients of one
# version, compiled unchanged from its source with <linux/relay.h> resolved
# to relay_rs' header (include/relay_rs.h), by the kernel's own Kbuild,
# compile only. The tree is scripts/clients-kernel.sh's (tinyconfig plus
# kernel-config/clients.config, prepared, never built).
#
# Usage: scripts/upstream-clients.sh VERSION   (7.3 or 6.12)
# Prints one line per client, `test upstream_clients::VERSION::PATH ... ok`
# or `... FAILED` followed by the compiler's diagnostics, and exits non-zero
# if any failed. Full logs: build/upstream-clients-VERSION/.
# Environment: as scripts/clients-kernel.sh's (JOBS, default 2).
#
# How the header is swapped: a directory holding only linux/relay.h, which
# includes relay_rs.h, comes first in the include path (NOSTDINC_FLAGS,
# the one Kbuild variable placed before LINUXINCLUDE), so each client gets
# relay_rs.h exactly where it includes <linux/relay.h> and the kernel's own
# relay.h is never read. (Forcing it with KCFLAGS=-include instead would put
# relay_rs.h before a client's first line, ahead of blktrace.c's pr_fmt
# definition, say, and into every object of the prepare step.) Each object
# is then checked to have really used relay_rs: its dependency list (.cmd)
# names relay_rs.h and not the kernel's relay.h, nm shows no undefined
# symbol of the kernel's relay (relay_open, relay_switch_subbuf, ...), and,
# for the clients that call the relay API, undefined relay_rs_* symbols (an
# inline relay_write() path references relay_rs_make_room). A warning whose
# location is relay_rs' header fails the client too: i915 and others build
# with -Werror in some configurations.
set -uo pipefail

version=${1:?usage: upstream-clients.sh VERSION (7.3 or 6.12)}
top=$(cd "$(dirname "$0")/.." && pwd -P)
cache=${RELAY_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/relay_rs}
jobs=${JOBS:-2}
export PATH=/usr/lib/llvm-19/bin:$PATH

# The kernel's relay clients, found by grepping each tree for users of
# relay_open, relay_file_operations and relay_write. Left out, in both:
# - kernel/cpu.c includes <linux/relay.h> for relay_prepare_cpu(), the CPU
#   hotplug step of the kernel's own relay (kernel/relay.c); it is the core
#   relay_rs replaces, not a client (relay_rs has its own hotplug callback).
# - Files that get <linux/relay.h> only through a client's header and use
#   struct rchan as an opaque pointer (block/*.c through blktrace_api.h,
#   iosm_ipc_imem.c and iosm_ipc_debugfs.c through iosm_ipc_trace.h,
#   intel_guc_ct.c through intel_guc_log.h) and ath9k/init.c, which includes
#   it and uses nothing of it: the clients below include the same headers.
#   intel_guc_log_debugfs.c is kept as the one such file a brief named.
clients_common="
kernel/trace/blktrace.c
drivers/net/wwan/t7xx/t7xx_port_trace.c
drivers/net/wwan/iosm/iosm_ipc_trace.c
drivers/net/wireless/ath/ath9k/common-spectral.c
drivers/net/wireless/ath/ath10k/spectral.c
drivers/net/wireless/ath/ath11k/spectral.c
drivers/net/wireless/mediatek/mt76/mt7915/debugfs.c
drivers/net/wireless/mediatek/mt76/mt7996/debugfs.c
drivers/gpu/drm/i915/gt/uc/intel_guc_log.c
drivers/gpu/drm/i915/gt/uc/intel_guc_log_debugfs.c
"
# Clients that only use the types (no relay function): no relay_rs_ symbol.
header_only="drivers/gpu/drm/i915/gt/uc/intel_guc_log_debugfs.c"
case $version in
7.3) clients="$clients_common drivers/net/wireless/ath/ath11k/cfr.c" ;; # new in 7.x
6.12) clients=$clients_common ;;
*) echo "upstream-clients.sh: unsupported kernel version '$version' (7.3 or 6.12)" >&2; exit 2 ;;
esac

# The tree (its shim and objects) is shared by every checkout, and
# clients-kernel.sh replaces it when the fragment changes: one at a time.
mkdir -p "$cache"
exec 9>"$cache/.clients-lock"
flock 9
if ! build=$(RELAY_RS_CLIENTS_LOCKED=1 "$top/scripts/clients-kernel.sh" "$version"); then
	echo "test upstream_clients::$version::prepare ... FAILED"
	exit 1
fi
src=$(readlink -f "$build/source")
logs="$top/build/upstream-clients-$version"
rm -rf "$logs"
mkdir -p "$logs"

shim="$build/relay_rs-shim"
mkdir -p "$shim/linux"
cat >"$shim/linux/relay.h" <<EOF
/* SPDX-License-Identifier: GPL-2.0 */
/* scripts/upstream-clients.sh: <linux/relay.h> is relay_rs' header. */
#include "$top/include/relay_rs.h"
EOF

# The kernel's relay functions and objects, of 7.3 and 6.12.
upstream_syms='relay_(open|close|flush|reset|late_setup_files|stats|subbufs_consumed|buf_full|switch_subbuf|file_operations|prepare_cpu)'

failed=0
for path in $clients; do
	obj=${path%.c}.o
	name="upstream_clients::$version::$path"
	log="$logs/${path//\//_}.log"
	why=
	if [ ! -f "$src/$path" ]; then
		why="$path is not in this source"
	else
		rm -f "$build/$obj"
		if ! make -C "$src" O="$build" LLVM=1 -j"$jobs" \
			NOSTDINC_FLAGS="-nostdinc -I$shim" "$obj" >"$log" 2>&1 ||
			[ ! -f "$build/$obj" ]; then
			why="compile failed"
		fi
	fi
	if [ -z "$why" ]; then
		cmd="$build/$(dirname "$obj")/.$(basename "$obj").cmd"
		undef=$(llvm-nm -u "$build/$obj" | awk '{print $NF}')
		if ! grep -qF "$top/include/relay_rs.h" "$cmd"; then
			why="relay_rs.h is not among its dependencies"
		elif grep -qF "$src/include/linux/relay.h" "$cmd"; then
			why="the kernel's relay.h is among its dependencies"
		elif bad=$(grep -xE "$upstream_syms" <<<"$undef"); then
			why="references the kernel's relay: $(echo $bad)"
		elif [ "$path" != "$header_only" ] && ! grep -q '^relay_rs_' <<<"$undef"; then
			why="references no relay_rs_ symbol"
		elif grep -qE 'relay_rs\.h:[0-9]+:[0-9]+: (warning|error)' "$log"; then
			why="warnings in relay_rs.h"
		fi
	fi
	if [ -z "$why" ]; then
		echo "test $name ... ok"
	else
		failed=1
		echo "test $name ... FAILED"
		echo "  $why (log: $log)"
		if grep -qE ': (error|warning):' "$log"; then
			grep -E -A4 ': (error|warning):' "$log" | head -60 | sed 's/^/  /'
		elif [ -f "$log" ]; then
			tail -20 "$log" | sed 's/^/  /'
		fi
	fi
done
exit $failed
