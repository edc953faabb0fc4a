#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Cmdline rules: a per-process verdict written by userspace at exec.
#  - exe + cmdline rule: the kernel holds a fresh exec of that exe
#    "pending" until the verdict lands, so even a connect right after exec
#    is refused: 0 of N get through.
#  - cmdline-only rule (no exe/path): no pending state; the window between
#    exec and the verdict is measured (printed, not asserted: it depends on
#    the machine's load) - the rule must still hold once the verdict landed.
# The forbidden clients are nc copies: they connect ~1 ms after exec.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/block-lib.sh"

NC=$(command -v nc.openbsd || true)
[ -n "$NC" ] || skip "nc.openbsd missing"
cp "$NC" "$T/blockme-nc$X"
cp "$NC" "$T/window-nc$X"
N=${AEGIS_WINDOW_RUNS:-100}

write_config <<'EOF2'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
default_actions = ["log"]
EOF2
write_dropin 50-block.toml <<'EOF2'
[[app]]
exe = "blockme-nc@X@"
cmdline = " 24702$"
ports = ["24701"]
actions = ["block"]

[[app]]
cmdline = " 24703( |$)"
ports = ["24701"]
actions = ["block"]
EOF2

start_server tcp,4,127.0.0.1,24701 tcp,4,127.0.0.1,24702 tcp,4,127.0.0.1,24703
# started before aegis: classified by the /proc scan at start
blocked_exe early-py
"$T/early-py$X" "$T/client.py" tcp 4 127.0.0.1 24703 "$T/go-early" >"$T/early.out" 2>&1 &
EARLY=$!
bg_track $EARLY
enf_start
touch "$T/go-early"
wait $EARLY || true
[ "$(cat "$T/early.out")" = EPERM ] || fail "cmdline rule, process started before aegis: $(cat "$T/early.out")"
ok "cmdline rule: a process started before aegis is blocked"

# 1. exe + cmdline with the pending mark: nothing gets through, ever
before=$(server_count tcp 4 24702)
eperm=0
for _ in $(seq "$N"); do
	if ! "$T/blockme-nc$X" -v -z -w 2 127.0.0.1 24702 2>"$T/nc.err"; then
		grep -q "Operation not permitted" "$T/nc.err" && eperm=$((eperm + 1))
	fi
done
sleep 0.3
through=$(($(server_count tcp 4 24702) - before))
echo "# exe+cmdline rule: $through of $N immediate connects got through, $eperm EPERM"
[ "$through" = 0 ] || fail "exe+cmdline rule: $through of $N connects got through"
[ "$eperm" = "$N" ] || fail "exe+cmdline rule: only $eperm of $N saw EPERM"
ok "exe+cmdline rule: 0 of $N got through (pending until the verdict)"

# the same exe with another cmdline is not blocked once its verdict landed
# (right after exec it may be held pending: retry until the verdict is in)
wait_for 5 "$T/blockme-nc$X" -z -w 2 127.0.0.1 24701 || fail "blockme-nc to 24701 never allowed"
ok "blockme-nc with another cmdline is allowed after its verdict"
held=0
for _ in $(seq "$N"); do
	"$T/blockme-nc$X" -z -w 2 127.0.0.1 24701 2>/dev/null || held=$((held + 1))
done
echo "# same exe, allowed cmdline: $held of $N immediate connects refused while pending"

# 2. cmdline-only rule: the window, measured
before=$(server_count tcp 4 24703)
for _ in $(seq "$N"); do
	"$T/window-nc$X" -z -w 2 127.0.0.1 24703 2>/dev/null || true
done
sleep 0.3
through=$(($(server_count tcp 4 24703) - before))
echo "# cmdline-only rule (no exe/path, no pending state): $through of $N immediate connects got through before the verdict"
# once the verdict landed, the rule holds (any exe: a python copy here)
blocked_exe other-py
"$T/other-py$X" "$T/client.py" tcp 4 127.0.0.1 24703 "$T/go" >"$T/late.out" 2>&1 &
LATE=$!
bg_track $LATE
sleep 0.5
touch "$T/go"
wait $LATE || true
[ "$(cat "$T/late.out")" = EPERM ] || fail "cmdline-only rule after the verdict: $(cat "$T/late.out")"
ok "cmdline-only rule holds once the verdict landed"
expect OK other-py tcp 4 127.0.0.1 24701

# the exec -> verdict latency of the exec feed, as measured by enforce
if [ -n "$ENF_DRIVER" ]; then
	kill -USR1 "$AEGIS_PID"
	sleep 0.3
	echo "# $(grep '^status' "$T/aegis.out" | tail -1 | grep -o 'execs=.*')"
else
	echo "# exec feed: $("$AEGIS_BIN" status --json 2>/dev/null | jq -c '.enforcement | {exec_events, verdict_latency_avg_us, verdict_latency_max_us}' 2>/dev/null)"
fi
