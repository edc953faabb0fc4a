#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The smoke subset (tests/kernels/smoke.sh) on this kernel and under other
# Debian kernels booted with ../shared/kernels/run-in-kernel.sh, asserting the
# attach mode the daemon chose on each:
#   host      connect=cgroup udp-send=cgroup when lockdown refuses fentry (this machine)
#   bookworm  (6.1)  and  trixie (6.12): fentry for sockets, tp_btf for exec/exit
# (connect-indirect=cgroup everywhere: the guests mount cgroup2 too)
# and, on every kernel, the forced tracepoint baseline (AEGIS_ATTACH_MODE=tracepoint),
# the choice without fentry (AEGIS_ATTACH_MODE=no-fentry), and the enforcement
# smoke (tests/kernels/enforce-smoke.sh); on bullseye (5.10) the last two.
# The guests share this machine's filesystem, so they run the binary built here.
# AEGIS_TEST_KERNELS="bookworm trixie" (default) selects the guests.
. "$(dirname "$0")/lib.sh"

SMOKE=$AEGIS_SRCDIR/tests/kernels/smoke.sh
ESMOKE=$AEGIS_SRCDIR/tests/kernels/enforce-smoke.sh
RUNK=${AEGIS_RUN_IN_KERNEL:-$AEGIS_SRCDIR/../shared/kernels/run-in-kernel.sh}
BASELINE="exec=tracepoint exit=tracepoint connect=tracepoint accept=tracepoint listen=tracepoint udp-send=tracepoint connect-indirect=tracepoint"
BEST="exec=tp_btf exit=tp_btf connect=fentry accept=fentry listen=fentry udp-send=fentry connect-indirect=cgroup"

# Host: what the kernel allows decides the expectation (lockdown refuses fentry).
# We run in a private mount namespace (lib.sh): mounting securityfs stays here.
[ -e /sys/kernel/security/lockdown ] ||
	mount -t securityfs securityfs /sys/kernel/security 2>/dev/null || true
lockdown=$(cat /sys/kernel/security/lockdown 2>/dev/null || echo "[none]")
host_expect="exec=tp_btf exit=tp_btf connect-indirect=cgroup"
case "$lockdown" in
*"[none]"*) ;;
*) host_expect="$host_expect connect=cgroup accept=tracepoint listen=tracepoint udp-send=cgroup" ;;
esac
# shellcheck disable=SC2086
SMOKE_PORT=20090 bash "$SMOKE" "$AEGIS_BIN" $host_expect || fail "smoke on the host ($(uname -r))"
ok "host $(uname -r) (lockdown $lockdown): $host_expect"
# shellcheck disable=SC2086
AEGIS_ATTACH_MODE=tracepoint SMOKE_PORT=20092 bash "$SMOKE" "$AEGIS_BIN" $BASELINE ||
	fail "forced tracepoint smoke on the host"
ok "host: forced tracepoint baseline"
SMOKE_PORT=20190 bash "$ESMOKE" "$AEGIS_BIN" || fail "enforcement smoke on the host"
ok "host: blocking, and reloads that swap the verdicts"

[ -x "$RUNK" ] || skip "$RUNK not found"
# in_guest KERNEL LOG CMD: runs CMD in the guest, output to LOG. A guest
# kernel that panics while code is being patched (the oops is in the
# emulator's cross-modifying code, e.g. a static key flipped while another
# vCPU runs through it; seen once in trixie under TCG) gets one more boot;
# the panic stays in the output. Any other failure counts at once.
in_guest() {
	local k=$1 log=$2 rc=0
	shift 2
	(cd "$AEGIS_SRCDIR" && "$RUNK" -c 2 -t 500 "$k" -- "$@") >"$log" 2>&1 || rc=$?
	if [ $rc = 125 ] && grep -q 'Kernel panic' "$log"; then
		cat "$log"
		echo "# $k: the guest kernel panicked (above): booting it once more"
		rc=0
		(cd "$AEGIS_SRCDIR" && "$RUNK" -c 2 -t 500 "$k" -- "$@") >"$log" 2>&1 || rc=$?
	fi
	return $rc
}

for k in ${AEGIS_TEST_KERNELS:-bookworm trixie}; do
	log="$T/kernel-$k.log"
	rc=0
	# The guest mounts the working directory at the same path; the binary and the
	# script are read through the shared root.
	# third run: what these kernels choose where lockdown refuses fentry (as here)
	in_guest "$k" "$log" bash -c \
		"bash '$SMOKE' '$AEGIS_BIN' $BEST && AEGIS_ATTACH_MODE=tracepoint bash '$SMOKE' '$AEGIS_BIN' $BASELINE && AEGIS_ATTACH_MODE=no-fentry bash '$SMOKE' '$AEGIS_BIN' connect=cgroup udp-send=cgroup connect-indirect=cgroup && bash '$ESMOKE' '$AEGIS_BIN'" ||
		rc=$?
	cat "$log"
	[ $rc = 0 ] || fail "smoke under $k exited $rc"
	[ "$(grep -c 'SMOKE OK' "$log")" = 3 ] || fail "smoke under $k did not finish all three runs"
	grep -q 'ENFORCE OK' "$log" || fail "enforcement smoke under $k did not finish"
	ok "$k: $(grep -o 'kernel [^:]*' "$log" | head -1): $BEST, the tracepoint baseline, connect=cgroup without fentry, blocking and reloads"
done
# The oldest supported kernel (5.10: no batch map ops for LPM tries, no
# bpf_task_pt_regs(): the connect observer cannot tell the syscall, so
# without fentry connect(2) stays on tracepoints): smoke without fentry,
# blocking and reloads.
for k in ${AEGIS_TEST_ENFORCE_KERNELS:-bullseye}; do
	log="$T/kernel-enforce-$k.log"
	rc=0
	in_guest "$k" "$log" bash -c \
		"AEGIS_ATTACH_MODE=no-fentry bash '$SMOKE' '$AEGIS_BIN' connect=tracepoint udp-send=tracepoint connect-indirect=cgroup && bash '$ESMOKE' '$AEGIS_BIN'" ||
		rc=$?
	cat "$log"
	[ $rc = 0 ] && grep -q 'SMOKE OK' "$log" && grep -q 'ENFORCE OK' "$log" ||
		fail "smoke or enforcement smoke under $k exited $rc"
	ok "$k: $(grep -o 'kernel [^:]*' "$log" | head -1): connect-indirect=cgroup without the syscall number, blocking and reloads"
done
