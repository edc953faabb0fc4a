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
receiver $HOOK "$T/hook.jsonl"

write_config <<TOML
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
detent = 15
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

# one process, 1,000 connection attempts to the same destination (refused: fast)
connect_n() {
	$PY -c '
import socket, sys
for i in range(int(sys.argv[2])):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        pass
    s.close()' $TARGET "$1" "$MARKER" &
	CLIENT_PID=$!
}
t_start=$SECONDS
connect_n 1000
pid=$CLIENT_PID
wait $pid || fail "client failed"
[ $((SECONDS - t_start)) -lt 10 ] || fail "1,000 connects took over 10 s: the detent window (15 s) is not exercised"

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
while [ $((SECONDS - t_start)) -lt 17 ]; do sleep 0.2; done
connect_n 1
pid2=$CLIENT_PID
wait $pid2
wait_journal 1 10 MESSAGE_ID=$MID_VIOLATION AEGIS_PID=$pid2 || fail "no violation after the detent expired"
e=$(jentries MESSAGE_ID=$MID_VIOLATION AEGIS_PID=$pid2 | head -1)
[ "$(jq -r .AEGIS_SUPPRESSED <<<"$e")" = 999 ] ||
	fail "next record: AEGIS_SUPPRESSED=$(jq -r .AEGIS_SUPPRESSED <<<"$e"), expected 999"
wait_for 10 bash -c "[ \$(wc -l <'$T/hook.jsonl') = 2 ]" || fail "no second POST"
[ "$(tail -1 "$T/hook.jsonl" | jq .body.aegis.suppressed)" = 999 ] || fail "POST lacks suppressed = 999"
wait_for 10 grep -q "^$pid2 999\$" "$T/hook-runs" || fail "hook did not get AEGIS_SUPPRESSED=999"
ok "next emitted record carries suppressed = 999 (journal, webhook, hook env)"
