#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The control socket with the real daemon: aegis status [--json], aegis events
# [--follow] [--json], aegis reload (good and bad policy), root-only access,
# exit 4 without a daemon. Ports 25090-25099.
. "$(dirname "$0")/lib.sh"

SOCK=/run/aegis/aegis.sock
P_OK=25090
P_BAD=25091
export AEGIS_CONTROL_SOCKET=$SOCK

start_journald
write_config <<EOF
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
default_actions = ["log"]
detent = 0

[[app]]
exe = "curl"
ports = [$P_OK]
EOF

# No daemon yet: exit 4 for every client verb.
for verb in status events reload; do
	rc=0
	"$AEGIS_BIN" $verb >/dev/null 2>"$T/err" || rc=$?
	[ $rc = 4 ] || fail "aegis $verb without a daemon: exit $rc, expected 4"
done
ok "status/events/reload exit 4 without a daemon"

start_aegis
wait_for 10 test -S $SOCK || fail "no control socket at $SOCK"
[ "$(stat -c %a $SOCK)" = 600 ] || fail "socket mode $(stat -c %a $SOCK), expected 600"
[ "$(stat -c %u $SOCK)" = 0 ] || fail "socket not owned by root"
ok "control socket $SOCK, mode 0600, root"

# --- status --------------------------------------------------------------------------------
"$AEGIS_BIN" status --json >"$T/status.json" || fail "aegis status --json failed"
jq -e --argjson pid "$AEGIS_PID" --arg cfg "$T/etc/aegis.toml" '
	(.version | type == "string" and length > 0) and
	.pid == $pid and
	(.uptime_sec | type == "number") and
	(.sources | type == "object" and length > 0) and
	([.sources[] | select(. == "tracepoint" or . == "tp_btf" or . == "fentry")] | length > 0) and
	(.missing_features | type == "array") and
	([.policy.files[] | select(.path == $cfg)] | length == 1) and
	(.policy.apps == 1) and
	(.enforcement.pinned | type == "boolean") and
	(.enforcement.rules | type == "number") and
	(.counters.events | type == "number") and
	(.counters.suppressed | type == "number") and
	(.counters.kernel_dropped | type == "number") and
	(.counters.notify_queue | type == "number") and
	(.counters.scripts_running | type == "number")' "$T/status.json" >/dev/null ||
	fail "status JSON does not follow control.h: $(cat "$T/status.json")"
ok "aegis status --json: version, pid, uptime, attach modes, policy, enforcement, counters"

"$AEGIS_BIN" status >"$T/status.txt" || fail "aegis status failed"
grep -q "^aegis $(jq -r .version "$T/status.json"), pid $AEGIS_PID, running" "$T/status.txt" ||
	fail "status header: $(head -1 "$T/status.txt")"
grep -q "$T/etc/aegis.toml" "$T/status.txt" || fail "status text lacks the policy file"
grep -q "^counters:" "$T/status.txt" || fail "status text lacks counters"
ok "aegis status (text): $(head -1 "$T/status.txt")"

# --- root only: file mode, then SO_PEERCRED with the file opened up ----------------------------
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$AEGIS_BIN" status >/dev/null 2>"$T/err" || rc=$?
[ $rc != 0 ] || fail "uid 65534 could read the status"
chmod 0666 $SOCK
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$AEGIS_BIN" status >/dev/null 2>"$T/err" || rc=$?
chmod 0600 $SOCK
[ $rc != 0 ] || fail "uid 65534 got the status through a 0666 socket"
grep -q "permission denied" "$T/err" || fail "no peer-credential refusal: $(cat "$T/err")"
ok "non-root refused by file mode and by SO_PEERCRED"

# --- events --------------------------------------------------------------------------------
http_server $P_OK
http_server $P_BAD
"$AEGIS_BIN" events --follow --json >"$T/follow.json" 2>"$T/follow.err" &
FOLLOW_PID=$!
bg_track $FOLLOW_PID
# Retry the connection until the follower has seen one (it may subscribe late).
# any_record FILTER [FILE]: some record of FILE (default follow.json) matches
# (jq -e alone succeeds on an empty file).
any_record() {
	jq -c "select($1)" "${2:-$T/follow.json}" 2>/dev/null | grep -q .
}
seen() {
	any_record ".dpt == $1 and (.exe | endswith(\"/curl\"))"
}
end=$((SECONDS + 15))
until seen $P_OK; do
	[ $SECONDS -lt $end ] || fail "aegis events --follow saw no curl record: $(head -c 500 "$T/follow.json")"
	curl -s -o /dev/null "http://127.0.0.1:$P_OK/" || true
	sleep 0.3
done
any_record ".dpt == $P_OK and (.exe | endswith(\"/curl\")) and .outcome == \"allowed\" and
	.direction == \"out\" and .proto == \"tcp\" and .dst == \"127.0.0.1\"" ||
	fail "curl record is not an allowed out/tcp record: $(grep "\"dpt\":$P_OK" "$T/follow.json" | head -2)"
curl -s -o /dev/null "http://127.0.0.1:$P_BAD/" || true
wait_for 10 any_record ".dpt == $P_BAD and .outcome == \"violation\"" ||
	fail "no violation record for port $P_BAD"
ok "aegis events --follow --json streams records as they happen (allowed $P_OK, violation $P_BAD)"

# Without --follow: the recent records, as text, then exit.
timeout 10 "$AEGIS_BIN" events -n 256 >"$T/recent.txt" 2>"$T/recent.err" || fail "aegis events (recent) failed"
[ ! -s "$T/recent.err" ] || fail "aegis events complained: $(cat "$T/recent.err")"
grep -q " out tcp 127.0.0.1:[0-9]* -> 127.0.0.1:$P_BAD .*exe=[^ ]*/curl .*outcome=violation" "$T/recent.txt" ||
	fail "text record missing: $(tail -3 "$T/recent.txt")"
timeout 10 "$AEGIS_BIN" events -n 1 --json >"$T/one.json" || fail "aegis events -n 1 failed"
[ "$(wc -l <"$T/one.json")" = 1 ] || fail "-n 1 printed $(wc -l <"$T/one.json") lines"
jq -e . "$T/one.json" >/dev/null || fail "-n 1 --json is not JSON"
ok "aegis events (no --follow) prints recent records as text and JSON, then exits"

# --- reload ------------------------------------------------------------------------------------
sed -i "s/^ports = \[$P_OK\]/ports = [$P_OK, $P_BAD]/" "$T/etc/aegis.toml"
"$AEGIS_BIN" reload >"$T/reload.out" 2>&1 || fail "aegis reload failed: $(cat "$T/reload.out")"
[ -s "$T/reload.out" ] || fail "aegis reload printed nothing"
n0=$(wc -l <"$T/follow.json")
end=$((SECONDS + 15))
until tail -n +$((n0 + 1)) "$T/follow.json" >"$T/after.json" &&
	any_record ".dpt == $P_BAD and .outcome == \"allowed\"" "$T/after.json"; do
	[ $SECONDS -lt $end ] || fail "after reload, port $P_BAD is still not allowed"
	curl -s -o /dev/null "http://127.0.0.1:$P_BAD/" || true
	sleep 0.3
done
ok "aegis reload applied the new policy ($(head -1 "$T/reload.out"))"

cp "$T/etc/aegis.toml" "$T/good.toml"
sed -i 's/^\[global\]$/[global]\nunconfigured_actions = ["blok"]/' "$T/etc/aegis.toml"
rc=0
"$AEGIS_BIN" reload >"$T/reload.out" 2>"$T/reload.err" || rc=$?
[ $rc = 1 ] || fail "reload of a broken policy: exit $rc, expected 1"
grep -qi "fail" "$T/reload.err" || fail "reload error does not say it failed: $(cat "$T/reload.err")"
kill -0 "$AEGIS_PID" || fail "daemon died on a bad reload"
"$AEGIS_BIN" status --json | jq -e '.policy.apps == 1' >/dev/null || fail "status after a failed reload"
ok "a broken policy is refused by reload (exit 1: $(head -1 "$T/reload.err")), the daemon keeps running"
cp "$T/good.toml" "$T/etc/aegis.toml"

# --- stop: the follower ends, the socket goes away ----------------------------------------
stop_aegis || fail "daemon exit status $?"
timeout 10 tail --pid=$FOLLOW_PID -f /dev/null || fail "events --follow did not end with the daemon"
[ ! -e $SOCK ] || fail "socket left behind"
rc=0
"$AEGIS_BIN" status >/dev/null 2>&1 || rc=$?
[ $rc = 4 ] || fail "status after stop: exit $rc"
ok "daemon stopped: follower ended, socket removed, status exits 4"
