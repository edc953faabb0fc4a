#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In-kernel dedup window (global.kernel_dedup): repeats of one (process,
# destination) within the window are folded, the first connection after the
# window is reported again carrying the folded count in "suppressed", and the
# exit counters account for every fold. Outbound and accept side.
. "$(dirname "$0")/lib.sh"

PORT=26400

write_config <<'EOF'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
kernel_dedup = 1
default_actions = ["log"]
unconfigured_actions = ["log"]
EOF
start_aegis

$PY -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()' $PORT &
srv=$!
bg_track $srv
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" || fail "server did not start"

# 5 connections at once (well within the 1 s window), then one after it
$PY -c '
import socket, sys, time
port = int(sys.argv[1])
def once():
    socket.create_connection(("127.0.0.1", port)).close()
for i in range(5):
    once()
time.sleep(2.2)
once()' $PORT &
cl=$!
wait $cl || fail "client failed"

out=".direction==\"out\" and .proto==\"tcp\" and .dpt==$PORT and .pid==$cl"
in=".direction==\"in\" and .proto==\"tcp\" and .dpt==$PORT and .pid==$srv and .spt != null"
wait_records 2 "$out" 10 || fail "expected 2 outbound records, got: $(records "$out")"
records "$out" | jq -s -e 'length == 2 and .[0].suppressed == 0 and .[1].suppressed == 4' \
	>/dev/null || fail "outbound: expected suppressed 0 then 4: $(records "$out")"
ok "outbound: 6 connects, window 1 s -> 2 records, the second with suppressed = 4"

# the accept side: the server's key is (peer address, local port), so the wait_for probe's
# connection shares it with the client's six; records + folds cover at least those six
wait_records 2 "$in" 10 || fail "expected accept records, got: $(records "$in")"
n=$(records "$in" | jq -s 'map(.suppressed) | add + length')
[ "$n" -ge 6 ] || fail "accept side accounts for $n connections, expected >= 6: $(records "$in")"
ok "accept side: records + suppressed account for every connection ($n)"

stop_aegis || fail "aegis exited with an error"
dedup=$(grep -o 'aegis counters:.* dedup=[0-9]*' "$T/aegis.err" | grep -o '[0-9]*$')
[ "${dedup:-0}" -ge 8 ] || fail "dedup counter $dedup, expected >= 8"
ok "exit counters: dedup = $dedup"
