#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# detent: 1,000 identical violations (same app, remote ip, remote port,
# direction) within the detent run log, notify and script once; the 999
# repeats are counted (status counters) and the count appears on the next
# emitted record once the detent expired.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/actions-lib.sh"

TARGET=23600
HOOK=23601

start_journald
tcp_sink $TARGET "$T/sink"
receiver $HOOK "$T/hook.jsonl"

write_config <<TOML
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
detent = 4
kernel_dedup = 0
unconfigured_actions = []

[notify]
webhooks = ["http://127.0.0.1:$HOOK/detent"]

[[app]]
cmdline = "$MARKER"
ports = ["1"]
actions = ["log", "notify", "script"]
TOML
install_script 10-count <<'SH'
#!/bin/sh
echo "$AEGIS_PID $AEGIS_SUPPRESSED" >>@T@/hook-runs
SH
start_aegis

# one process, 1,000 connections to the same destination
$PY -c '
import socket, sys
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.close()' $TARGET "$MARKER" &
pid=$!
wait $pid || fail "client failed"
t_end=$SECONDS

wait_journal 1 10 MESSAGE_ID=$MID_VIOLATION AEGIS_PID=$pid || fail "no violation logged"
wait_for 10 test -s "$T/hook.jsonl" || fail "no webhook POST"
wait_for 10 test -s "$T/hook-runs" || fail "no hook run"
sleep 1.5
n_log=$(jentries MESSAGE_ID=$MID_VIOLATION AEGIS_PID=$pid | wc -l)
n_post=$(wc -l <"$T/hook.jsonl")
n_hook=$(wc -l <"$T/hook-runs")
[ "$n_log" = 1 ] && [ "$n_post" = 1 ] && [ "$n_hook" = 1 ] ||
	fail "1,000 repeats gave $n_log log entries, $n_post POSTs, $n_hook hook runs (expected 1 each)"
ok "1,000 identical violations: one log entry, one POST, one hook run"

st=$("$AEGIS_BIN" status --json) || fail "aegis status failed"
sup=$(jq '.. | objects | select(has("suppressed")) | .suppressed' <<<"$st" | head -1)
[ "$sup" = 999 ] || fail "status counters.suppressed = $sup, expected 999"
ok "status: suppressed = 999"

# after the detent, the next one is emitted and carries the count
while [ $((SECONDS - t_end)) -lt 5 ]; do sleep 0.2; done
$PY -c '
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' $TARGET "$MARKER" &
pid2=$!
wait $pid2
wait_journal 1 10 MESSAGE_ID=$MID_VIOLATION AEGIS_PID=$pid2 || fail "no violation after the detent expired"
e=$(jentries MESSAGE_ID=$MID_VIOLATION AEGIS_PID=$pid2 | head -1)
[ "$(jq -r .AEGIS_SUPPRESSED <<<"$e")" = 999 ] ||
	fail "next record: AEGIS_SUPPRESSED=$(jq -r .AEGIS_SUPPRESSED <<<"$e"), expected 999"
wait_for 10 bash -c "[ \$(wc -l <'$T/hook.jsonl') = 2 ]" || fail "no second POST"
[ "$(tail -1 "$T/hook.jsonl" | jq .body.aegis.suppressed)" = 999 ] || fail "POST lacks suppressed = 999"
wait_for 10 grep -q "^$pid2 999\$" "$T/hook-runs" || fail "hook did not get AEGIS_SUPPRESSED=999"
ok "next emitted record carries suppressed = 999 (journal, webhook, hook env)"
