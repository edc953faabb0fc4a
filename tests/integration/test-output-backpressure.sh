#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A stdout reader that stops reading must not stall the daemon: records keep
# being taken from the ring buffer (no kernel drops), signals are still
# served, and SIGTERM still ends it promptly (what cannot be written is
# counted as output_dropped, not waited for forever).
. "$(dirname "$0")/lib.sh"

PORT=20380
write_config <<'TOML'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
kernel_dedup = 0
TOML
mkfifo "$T/out.fifo"
exec 3<>"$T/out.fifo" # a reader that never reads: the pipe fills up (64 KiB)
"$AEGIS_BIN" run -c "$T/etc/aegis.toml" --json >"$T/out.fifo" 2>"$T/aegis.err" &
AEGIS_PID=$!
bg_track $AEGIS_PID
wait_for 30 grep -q "aegis ready" "$T/aegis.err" || fail "not ready: $(tail -3 "$T/aegis.err")"

# ~2,000 connections -> ~4,000 records, far more than the pipe holds.
$PY - "$PORT" <<'PYEOF'
import socket, struct, sys
port = int(sys.argv[1])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(128)
rst = struct.pack("ii", 1, 0)
for i in range(2000):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, rst)
    c.connect(("127.0.0.1", port))
    a, _ = srv.accept()
    a.close()
    c.close()
PYEOF
ok "2000 connections made with stdout blocked"

# Still serving signals: a reload is logged while stdout is full.
kill -HUP $AEGIS_PID
wait_for 10 grep -q "Reloaded" "$T/aegis.err" || fail "SIGHUP not served while stdout is blocked"
ok "SIGHUP served while stdout is blocked"

start=$SECONDS
kill -TERM $AEGIS_PID
rc=0
timeout 20 tail --pid=$AEGIS_PID -f /dev/null || fail "daemon did not exit within 20 s of SIGTERM"
wait $AEGIS_PID || rc=$?
[ $rc = 0 ] || fail "exit status $rc"
ok "SIGTERM ended it in $((SECONDS - start)) s"
line=$(grep -o 'aegis counters:.*' "$T/aegis.err") || fail "no counters"
echo "$line"
grep -q ' drops=0 ' <<<"$line" || fail "kernel drops while stdout was blocked: $line"
dropped=$(grep -o 'output_dropped=[0-9]*' <<<"$line" | cut -d= -f2)
[ "$dropped" -ge 1 ] || fail "unwritable output not counted: $line"
ok "ring buffer kept draining (drops=0), unwritable output counted ($dropped)"
exec 3<&-
