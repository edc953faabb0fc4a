#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# log action: a violation lands in journald with MESSAGE_ID, PRIORITY and
# every AEGIS_* field right (a cmdline with a newline, "$(...)" and quotes kept
# byte for byte); an allowed port gives nothing; an unconfigured program gets
# its own MESSAGE_ID and priority; the JSON log file gets the same record.
# Without journald, the record goes to stderr instead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/actions-lib.sh"

ALLOWED=23100
FORBIDDEN=23101

write_config <<TOML
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
detent = 0
unconfigured_actions = []
json_log = "@T@/events.json"

[[app]]
cmdline = "$MARKER"
ports = ["$ALLOWED"]
actions = ["log"]
TOML

tcp_sink $ALLOWED "$T/sink-allowed"
tcp_sink $FORBIDDEN "$T/sink-forbidden"

# --- 1. no journald: the record goes to stderr ---------------------------------
start_aegis
client $FORBIDDEN 0.2 "nojournal"
wait $CLIENT_PID
wait_for 10 grep -q "violation: .*\[$CLIENT_PID\].*127.0.0.1:$FORBIDDEN" "$T/aegis.err" ||
	fail "without journald, no violation line on stderr"
stop_aegis || true
ok "journald absent: violation reported on stderr"

# --- 2. journald ------------------------------------------------------------------
start_journald
start_aegis

hostile=$'line1\nline2 $(touch '"$T"'/pwned) `touch '"$T"'/pwned2`; "q" \x27s\x27'
client $ALLOWED 0.2 "allowed"
allowed_pid=$CLIENT_PID
client $FORBIDDEN 0.5 "$hostile"
pid=$CLIENT_PID
wait $allowed_pid $pid

wait_journal 1 15 MESSAGE_ID=$MID_VIOLATION AEGIS_PID=$pid ||
	fail "no violation entry for pid $pid in the journal"
e=$(jentries MESSAGE_ID=$MID_VIOLATION AEGIS_PID=$pid | head -1)

check() { # FIELD EXPECTED
	local got
	got=$(jq -r --arg k "$1" '.[$k] | if type == "array" then implode else . end' <<<"$e")
	[ "$got" = "$2" ] || fail "$1: got '$got', expected '$2'"
}
check PRIORITY 4
check SYSLOG_IDENTIFIER aegis
check AEGIS_KIND violation
check AEGIS_PID "$pid"
check AEGIS_UID 0
check AEGIS_USER root
check AEGIS_EXE "$PYEXE"
check AEGIS_COMM "$(basename "$PY")"
check AEGIS_PROTO tcp
check AEGIS_DIRECTION out
check AEGIS_SRC 127.0.0.1
check AEGIS_DST 127.0.0.1
check AEGIS_DPT $FORBIDDEN
check AEGIS_OUTCOME violation
check AEGIS_ACTIONS log
check AEGIS_SUPPRESSED 0
check AEGIS_CMDLINE_TRUNCATED false
jq -e '.AEGIS_SPT | tonumber > 0' <<<"$e" >/dev/null || fail "AEGIS_SPT missing"
jq -e --arg m "$MARKER" '.AEGIS_RULE | contains($m)' <<<"$e" >/dev/null || fail "AEGIS_RULE does not name the app"
jq -e '.AEGIS_REASON | length > 0' <<<"$e" >/dev/null || fail "AEGIS_REASON empty"
for f in AEGIS_TIME AEGIS_PPID AEGIS_UNIT AEGIS_CGROUP AEGIS_RESULT; do
	jq -e --arg k $f 'has($k)' <<<"$e" >/dev/null || fail "$f missing"
done
# the cmdline, byte for byte (journald keeps the newline)
got=$(jq -r '.AEGIS_CMDLINE | if type == "array" then implode else . end' <<<"$e")
case "$got" in
"$PY -c "*" $FORBIDDEN 0.5 $MARKER $hostile") ;;
*) fail "AEGIS_CMDLINE not kept as is: '$got'" ;;
esac
jq -e --arg p "$pid" '.MESSAGE | startswith("violation: ") and contains("[" + $p + "]") and contains("127.0.0.1:23101")' \
	<<<"$e" >/dev/null || fail "MESSAGE not readable: $(jq -r .MESSAGE <<<"$e")"
jq -e '.MESSAGE | test("[\n]") | not' <<<"$e" >/dev/null || fail "MESSAGE has a raw newline"
[ ! -e "$T/pwned" ] && [ ! -e "$T/pwned2" ] || fail "something executed the cmdline"
ok "violation entry: MESSAGE_ID, PRIORITY=4 and every AEGIS_* field right"

[ "$(jentries AEGIS_PID=$allowed_pid | wc -l)" = 0 ] || fail "the allowed connection was logged"
ok "allowed port: no entry"

# JSON log: the same record, one line
wait_for 5 grep -q "\"pid\":$pid," "$T/events.json" || fail "no JSON log line for $pid"
grep "\"pid\":$pid," "$T/events.json" | jq -e --arg c "$got" \
	'.cmdline == $c and .outcome == "violation" and .dpt == 23101' >/dev/null ||
	fail "JSON log line wrong: $(grep "\"pid\":$pid," "$T/events.json")"
ok "JSON log line matches"
stop_aegis || true

# --- 3. unconfigured program: notice, its own MESSAGE_ID --------------------------
write_config <<TOML
[global]
include_dirs = ["@DROPINS@"]
detent = 0
unconfigured_actions = ["log"]

[[app]]
cmdline = "$MARKER-other"
actions = ["log"]
TOML
start_aegis
# (up to 3 curls: under heavy load on a shared test machine a record was seen
# missing once; the daemon's own output is checked so a miss is visible)
for try in 1 2 3; do
	curl -s -o /dev/null "http://127.0.0.1:$FORBIDDEN/" --max-time 1 &
	cpid=$!
	wait $cpid || true
	wait_journal 1 10 MESSAGE_ID=$MID_UNCONFIGURED AEGIS_PID=$cpid && break
	echo "# try $try: no unconfigured entry for curl[$cpid]; records for it: $(count_records ".pid == $cpid")" >&2
	[ $try != 3 ] || fail "no unconfigured entry for curl"
done
e=$(jentries MESSAGE_ID=$MID_UNCONFIGURED AEGIS_PID=$cpid | head -1)
check PRIORITY 5
check AEGIS_OUTCOME unconfigured
check AEGIS_EXE /usr/bin/curl
check AEGIS_DPT $FORBIDDEN
ok "unconfigured program: MESSAGE_ID $MID_UNCONFIGURED, PRIORITY=5"

# a listen record has no peer: its MESSAGE must not invent one ("0.0.0.0:0 ->")
$PY -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 23102)); s.listen(1); time.sleep(0.3)' &
lpid=$!
wait $lpid
wait_journal 1 10 MESSAGE_ID=$MID_UNCONFIGURED AEGIS_PID=$lpid AEGIS_DIRECTION=listen ||
	fail "no unconfigured entry for the listener"
e=$(jentries MESSAGE_ID=$MID_UNCONFIGURED AEGIS_PID=$lpid AEGIS_DIRECTION=listen | head -1)
check AEGIS_SRC ""
check AEGIS_DPT 23102
jq -e '.MESSAGE | contains("tcp listen - -> 127.0.0.1:23102")' <<<"$e" >/dev/null ||
	fail "listen MESSAGE wrong: $(jq -r .MESSAGE <<<"$e")"
ok "listen record: MESSAGE names no peer"
