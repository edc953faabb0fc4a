#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# actions = ["block"]: the first forbidden connect fails with EPERM (TCP v4/v6,
# UDP connect, UDP sendto) and the server sees nothing; allowed ports of the
# same app and other programs are unaffected; a process started before aegis
# is blocked too; "kill" refuses and kills in the same hook.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/block-lib.sh"

blocked_exe blockme-py
blocked_exe killme-py
blocked_exe other-py

write_config <<'EOF2'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
default_actions = ["log"]
EOF2
write_dropin 50-block.toml <<'EOF2'
[[app]]
exe = "blockme-py@X@"
ports = ["24101"]
actions = ["block", "log"]

[[app]]
exe = "killme-py@X@"
ports = ["24101"]
actions = ["kill"]
EOF2

start_server tcp,4,127.0.0.1,24101 tcp,4,127.0.0.1,24102 tcp,6,::1,24102 \
	udp,4,127.0.0.1,24102 udp,6,::1,24102 udp,4,127.0.0.1,24101

# started before aegis: waits for $T/go, then connects to the forbidden port
"$T/blockme-py$X" "$T/client.py" tcp 4 127.0.0.1 24102 "$T/go" >"$T/early.out" 2>&1 &
EARLY=$!
bg_track $EARLY

enf_start

# forbidden: EPERM on the first try, nothing reaches the server
expect EPERM blockme-py tcp 4 127.0.0.1 24102
expect EPERM blockme-py tcp 6 ::1 24102
expect EPERM blockme-py udpconnect 4 127.0.0.1 24102
expect EPERM blockme-py udpconnect 6 ::1 24102
expect EPERM blockme-py udpsendto 4 127.0.0.1 24102
expect EPERM blockme-py udpsendto 6 ::1 24102

# v4-mapped IPv6 is IPv4 for the policy
expect EPERM blockme-py tcp 6 ::ffff:127.0.0.1 24102

# allowed port of the same app; other programs on the forbidden port
expect OK blockme-py tcp 4 127.0.0.1 24101
expect OK blockme-py udpsendto 4 127.0.0.1 24101
expect OK other-py tcp 4 127.0.0.1 24102
expect OK other-py udpsendto 6 ::1 24102

# the process that was running before aegis started
touch "$T/go"
wait $EARLY || true
[ "$(cat "$T/early.out")" = EPERM ] || fail "process started before aegis: $(cat "$T/early.out")"
ok "process started before aegis is blocked"

# kill: refused and SIGKILLed in the same hook
rc=0
"$T/killme-py$X" "$T/client.py" tcp 4 127.0.0.1 24102 >"$T/kill.out" 2>&1 || rc=$?
[ $rc = 137 ] || fail "killme-py exit status $rc (expected 137 = SIGKILL), output: $(cat "$T/kill.out")"
[ ! -s "$T/kill.out" ] || fail "killme-py returned from connect: $(cat "$T/kill.out")"
ok "kill rule: process SIGKILLed at connect"
expect OK killme-py tcp 4 127.0.0.1 24101

sleep 0.3
# server side: exactly the allowed connections arrived (other-py: 1 tcp v4, 1 udp v6)
[ "$(server_count tcp 4 24102)" = 1 ] || fail "tcp4 24102 saw $(server_count tcp 4 24102) connections, expected 1 (other-py)"
[ "$(server_count tcp 6 24102)" = 0 ] || fail "tcp6 24102 saw a connection"
[ "$(server_count udp 4 24102)" = 0 ] || fail "udp4 24102 saw a datagram"
[ "$(server_count udp 6 24102)" = 1 ] || fail "udp6 24102 saw $(server_count udp 6 24102) datagrams, expected 1 (other-py)"
[ "$(server_count tcp 4 24101)" = 2 ] || fail "tcp4 24101 saw $(server_count tcp 4 24101), expected 2"
[ "$(server_count udp 4 24101)" = 1 ] || fail "udp4 24101 saw $(server_count udp 4 24101), expected 1"
ok "server saw no SYN or datagram from blocked clients"

# the daemon records every block: result EPERM, action block (same path as
# every record: log/notify/script; detent never affects the block itself)
if [ -z "$ENF_DRIVER" ]; then
	sel=".dpt == 24102 and .result == \"EPERM\" and (.exe | endswith(\"/blockme-py$X\"))"
	wait_records 7 "$sel" 10 || fail "expected 7 records of blocked connects, got $(count_records "$sel")"
	wait_records 1 "$sel and ((.actions // \"\") | test(\"block\"))" 10 ||
		fail "the record of a blocked connect does not carry action block: $(records "$sel" | head -1)"
	ok "blocked connects are recorded with result EPERM and action block"
fi

# exactly one attachment of the daemon's program
[ "$(n_attached)" = 1 ] || fail "$(n_attached) enf_connect4 programs attached"
ID=$(my_connect4_id)

stop_aegis || true
[ "$(n_attached "$ID")" = 0 ] || fail "enforcement still attached after the daemon stopped"
expect OK blockme-py tcp 4 127.0.0.1 24102
ok "enforcement ends with the daemon"
