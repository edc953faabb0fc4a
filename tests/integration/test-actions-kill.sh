#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# kill action: a process violating a kill rule dies and the server it reached
# gets no byte from it. The client connects, then waits 2 s before sending, so
# the userspace kill (pidfd for the exact pid + start time) has its window
# even without the in-kernel kill at connect time. The kill is logged with
# the full record. A process on an allowed port is left alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/actions-lib.sh"

ALLOWED=23500
FORBIDDEN=23501

start_journald
tcp_sink $ALLOWED "$T/sink-allowed"
tcp_sink $FORBIDDEN "$T/sink-forbidden"

write_config <<TOML
[global]
include_dirs = ["@DROPINS@"]
detent = 0
unconfigured_actions = []

[[app]]
cmdline = "$MARKER"
ports = ["$ALLOWED"]
actions = ["log", "kill"]
TOML
start_aegis

# connect, wait, then send: only a process still alive after 2 s sends a byte
sender() {
	$PY -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
time.sleep(2)
s.sendall(b"PAYLOAD-FROM-VICTIM\n")
time.sleep(0.5)' "$1" "$MARKER" &
	CLIENT_PID=$!
}

sender $ALLOWED
good=$CLIENT_PID
sender $FORBIDDEN
victim=$CLIENT_PID

rc=0
wait $victim || rc=$?
# 137 = SIGKILL; 1 = connect refused with EPERM by the in-kernel path before the kill landed
[ $rc = 137 ] || fail "victim exited with $rc, not killed by SIGKILL"
sleep 0.5
[ ! -s "$T/sink-forbidden" ] || fail "the server received bytes from the victim: $(cat "$T/sink-forbidden")"
ok "victim killed (SIGKILL), server got no byte"

rc=0
wait $good || rc=$?
[ $rc = 0 ] || fail "allowed process exited with $rc"
grep -q PAYLOAD-FROM-VICTIM "$T/sink-allowed" || fail "allowed process could not send"
ok "process on the allowed port untouched"

# logged with the full record (the userspace kill), or counted by the kernel
if wait_journal 1 5 MESSAGE_ID=$MID_KILL AEGIS_PID=$victim; then
	e=$(jentries MESSAGE_ID=$MID_KILL AEGIS_PID=$victim | head -1)
	jq -e --arg exe "$PYEXE" '.PRIORITY == "1" and .AEGIS_EXE == $exe and .AEGIS_DPT == "23501"
		and (.AEGIS_KILL_RESULT | startswith("killed")) and (.AEGIS_ACTIONS | contains("kill"))' \
		<<<"$e" >/dev/null || fail "kill entry incomplete: $e"
	ok "kill logged: MESSAGE_ID $MID_KILL, PRIORITY=1, full record"
else
	fail "no kill entry for pid $victim in the journal"
fi
wait_journal 1 5 MESSAGE_ID=$MID_VIOLATION AEGIS_PID=$victim || fail "violation not logged"
ok "violation logged too"
