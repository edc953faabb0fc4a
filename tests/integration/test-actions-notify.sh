#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# notify action: a real HTTP receiver on loopback gets one POST per violation,
# a valid Slack-compatible JSON payload ({"text": ..., "aegis": {record}}); a
# receiver that is down and one that answers after 10 s delay neither the
# records nor the other webhook; the journal gets the alert entry; a full
# queue drops, counts and logs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/actions-lib.sh"

FAST=23200
SLOW=23201
DOWN=23202
TARGET=23210

start_journald
receiver $FAST "$T/fast.jsonl"
receiver $SLOW "$T/slow.jsonl" --delay 10
tcp_sink $TARGET "$T/sink"

write_config <<TOML
[global]
include_dirs = ["@DROPINS@"]
detent = 0
unconfigured_actions = []

[notify]
webhooks = ["http://127.0.0.1:$SLOW/slow", "http://127.0.0.1:$DOWN/down", "http://127.0.0.1:$FAST/fast"]
timeout = 2000
retries = 1
backoff = 200
queue_max = 100

[[app]]
cmdline = "$MARKER"
ports = ["1"]
actions = ["notify"]
TOML
start_aegis

pids=()
t0=$(date +%s.%N)
for i in 1 2 3 4 5; do
	client $TARGET 0 "n$i"
	pids+=("$CLIENT_PID")
	wait "$CLIENT_PID"
	sleep 0.3
done
t_last=$(date +%s.%N)

# 1. records keep flowing: all 5 on stdout within 3 s of the last client
wait_records 5 ".dpt == $TARGET and .outcome == \"violation\"" 3 ||
	fail "records delayed: $(count_records ".dpt == $TARGET") of 5 after 3 s"
ok "records not delayed by a hanging and a dead webhook"

# 2. the fast receiver: one valid POST per violation, each within 3 s of its client
wait_for 10 bash -c "[ \$(wc -l <'$T/fast.jsonl') -ge 5 ]" ||
	fail "fast receiver got $(wc -l <"$T/fast.jsonl") POSTs, expected 5"
sleep 1
[ "$(wc -l <"$T/fast.jsonl")" = 5 ] || fail "fast receiver got $(wc -l <"$T/fast.jsonl") POSTs, expected exactly 5"
for p in "${pids[@]}"; do
	[ "$(jq -c --argjson p "$p" 'select(.body.aegis.pid == $p)' "$T/fast.jsonl" | wc -l)" = 1 ] ||
		fail "not exactly one POST for pid $p"
done
jq -e -s --argjson t0 "$t0" --argjson tl "$t_last" --arg m "$MARKER" 'all(.[];
	.valid and .path == "/fast" and .content_type == "application/json"
	and (.body.text | type == "string" and contains("violation"))
	and .body.aegis.dpt == 23210 and .body.aegis.outcome == "violation"
	and (.body.aegis.cmdline | contains($m))
	and .time < $tl + 3)' "$T/fast.jsonl" >/dev/null ||
	fail "bad POSTs: $(cat "$T/fast.jsonl")"
ok "fast receiver: one valid Slack-compatible POST per violation, on time"

# 3. the journal alert entries
wait_journal 5 10 MESSAGE_ID=$MID_NOTIFY AEGIS_DPT=$TARGET || fail "no notify alert entries"
jentries MESSAGE_ID=$MID_NOTIFY AEGIS_DPT=$TARGET | jq -e -s 'all(.[]; .PRIORITY == "2")' >/dev/null ||
	fail "notify alert priority is not crit"
ok "journal: notify alert entries (MESSAGE_ID $MID_NOTIFY, PRIORITY=2)"

# 4. the dead receiver: failures logged after the retry
wait_for 15 bash -c "{ cat '$T/aegis.err'; journalctl -o cat SYSLOG_IDENTIFIER=aegis; } 2>/dev/null |
	grep -q 'Webhook POST to http://127.0.0.1:$DOWN/down failed after 2 attempts'" ||
	fail "dead webhook failure not logged"
ok "dead webhook: failure logged after 1 retry"
stop_aegis || true

# 5. overflow: queue of 3, a receiver that takes 10 s, 10 violations at once
# a fresh slow receiver: the first one still answers phase 1's timed-out POSTs
SLOW2=23203
receiver $SLOW2 "$T/slow2.jsonl" --delay 10
sed -i -e 's|^webhooks = .*|webhooks = ["http://127.0.0.1:'$SLOW2'/slow"]|' \
	-e 's|^timeout = .*|timeout = 15000|' -e 's|^retries = .*|retries = 0|' \
	-e 's|^queue_max = .*|queue_max = 3|' "$T/etc/aegis.toml"
: >"$T/aegis.out"
start_aegis
client_many 23220 10
wait "$CLIENT_PID"
wait_records 10 ".dpt >= 23220 and .dpt < 23230 and .outcome == \"violation\"" 5 ||
	fail "records delayed by a full notify queue"
wait_for 10 bash -c "{ cat '$T/aegis.err'; journalctl -o cat SYSLOG_IDENTIFIER=aegis; } 2>/dev/null |
	grep -q 'Webhook queue full'" || fail "queue overflow not logged"
sleep 12
[ "$(wc -l <"$T/slow2.jsonl")" = 3 ] ||
	fail "slow receiver got $(wc -l <"$T/slow2.jsonl") POSTs, expected the 3 queued ones"
st=$("$AEGIS_BIN" status --json) || fail "aegis status failed"
[ "$(jq '.. | objects | select(has("notify_dropped")) | .notify_dropped' <<<"$st" | head -1)" = 7 ] ||
	fail "notify_dropped is not 7: $st"
ok "overflow: 3 queued and sent, 7 dropped (counted in status) and logged, records on time"
