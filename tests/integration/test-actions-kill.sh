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
	ok "kill logged: MESSAGE_ID $MID_KILL, PRIORITY=1, full record ($(jq -r .AEGIS_KILL_RESULT <<<"$e"))"
else
	fail "no kill entry for pid $victim in the journal"
fi
wait_journal 1 5 MESSAGE_ID=$MID_VIOLATION AEGIS_PID=$victim || fail "violation not logged"
ok "violation logged too"

# The userspace path (pidfd for the exact pid + start time): listen/accept
# violations are not enforced in the kernel. A server of the app listening on
# a port it may not use is killed from userspace.
LISTEN=23502
$PY -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
time.sleep(5)' $LISTEN "$MARKER" &
server=$!
rc=0
wait $server || rc=$?
[ $rc = 137 ] || fail "listening server exited with $rc, not killed by SIGKILL"
wait_journal 1 5 MESSAGE_ID=$MID_KILL AEGIS_PID=$server || fail "no kill entry for the server"
e=$(jentries MESSAGE_ID=$MID_KILL AEGIS_PID=$server | head -1)
jq -e '.AEGIS_KILL_RESULT == "killed" and .PRIORITY == "1"' <<<"$e" >/dev/null ||
	fail "server kill entry: $(jq -c '{AEGIS_KILL_RESULT, AEGIS_DIRECTION, PRIORITY}' <<<"$e")"
ok "server listening on a forbidden port killed from userspace ($(jq -r .AEGIS_DIRECTION <<<"$e"))"

# Never aegis's own hook scripts, nor what they start: a hook runs a client
# of the same app to the forbidden port; the kill is refused and logged.
stop_aegis || true
sed -i 's|^actions = .*|actions = ["log", "kill", "script"]|' "$T/etc/aegis.toml"
sed -i 's|^include_dirs = .*|&\nscript_dirs = ["@SCRIPTS@"]|' "$T/etc/aegis.toml"
sed -i "s|@SCRIPTS@|$T/etc/scripts|" "$T/etc/aegis.toml"
mkdir -p "$T/etc/scripts"
chmod 0755 "$T/etc/scripts"
install_script 10-chain <<SH
#!/bin/sh
# once only: the hook's own client is a violation too
[ -e $T/chain-started ] && exit 0
: >$T/chain-started
$PY -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
time.sleep(1.5)
s.sendall(b"FROM-HOOK\n")' $FORBIDDEN "$MARKER" hook-client
echo \$? >$T/chain-rc
SH
: >"$T/sink-forbidden"
start_aegis
sender $FORBIDDEN
wait $CLIENT_PID || true
wait_for 15 test -s "$T/chain-rc" || fail "the hook's client did not finish"
[ "$(cat "$T/chain-rc")" = 0 ] || fail "the hook's client was killed (rc $(cat "$T/chain-rc"))"
grep -q FROM-HOOK "$T/sink-forbidden" || fail "the hook's client could not send"
wait_journal 1 5 MESSAGE_ID=6ede48e0445a4f58bd1b6eaf76cb5e85 || fail "no kill-refused entry"
jentries MESSAGE_ID=6ede48e0445a4f58bd1b6eaf76cb5e85 | jq -r .AEGIS_KILL_RESULT | grep "aegis hook script" >/dev/null ||
	fail "kill-refused entry does not say why: $(jentries MESSAGE_ID=6ede48e0445a4f58bd1b6eaf76cb5e85 | jq -c .AEGIS_KILL_RESULT)"
ok "a hook's own process is never killed (refused and logged)"
