#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Type=notify contract, against a fake NOTIFY_SOCKET: READY=1 once
# attached, RELOADING=1 then READY=1 around a SIGHUP reload, and WATCHDOG=1
# at least every WATCHDOG_USEC/2 while running.
. "$(dirname "$0")/lib.sh"

write_config <<'TOML'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
TOML

# A datagram receiver that logs every notification, one per line.
$PY - "$T/notify.sock" "$T/notify.log" <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode().replace("\n", " ") + "\n")
PYEOF
bg_track $!
wait_for 10 test -S "$T/notify.sock" || fail "notify receiver did not start"

NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=300000 start_aegis
wait_for 10 grep -q "READY=1" "$T/notify.log" || fail "no READY=1"
ok "READY=1 after start-up"

sleep 1
n=$(grep -c "WATCHDOG=1" "$T/notify.log" || true)
[ "$n" -ge 4 ] || fail "only $n WATCHDOG=1 in about 1 s with WATCHDOG_USEC=300000"
ok "WATCHDOG=1 x$n in ~1 s (every <= 150 ms)"

kill -HUP "$AEGIS_PID"
wait_for 10 grep -q "RELOADING=1" "$T/notify.log" || fail "no RELOADING=1 on SIGHUP"
wait_for 10 output_ge 2 grep -c 'READY=1' "$T/notify.log" || fail "no READY=1 after the reload"
grep -n "RELOADING=1\|READY=1" "$T/notify.log" | tail -2 | head -1 | grep -q RELOADING ||
	fail "RELOADING=1 not followed by READY=1: $(grep -v WATCHDOG "$T/notify.log")"
ok "RELOADING=1 then READY=1 around SIGHUP"

stop_aegis || fail "exit status $?"
ok "clean exit"
