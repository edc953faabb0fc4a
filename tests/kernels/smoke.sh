#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A smoke subset of the integration tests that runs anywhere: natively or
# inside a guest kernel booted by ../shared/kernels/run-in-kernel.sh (where
# everything is ~10x slower, so timeouts are generous and nothing is timed).
#
#   smoke.sh AEGIS_BIN [SOURCE=MODE...]
#
# Starts `aegis run --no-config --json`, makes one TCP connection (listen,
# connect, accept), sends UDP datagrams, and connects without connect(2):
# through io_uring (uring-connect, built next to the binary) and TCP Fast
# Open, all on loopback; checks the records (exe, argv, endpoints, dedup of
# the datagrams, one record per indirect connect), checks that the daemon
# logged each given SOURCE=MODE in its "attach modes:" line, stops it and
# checks drops=0. AEGIS_ATTACH_MODE in the environment is passed on.
# Exit 0 on success; prints "FAIL: ..." and exits 1 otherwise.
set -euo pipefail

BIN=$1
shift
PORT=${SMOKE_PORT:-20090}
. "$(dirname "$0")/smoke-lib.sh"
count() {
	jq -c "select($1)" "$W/out" 2>/dev/null | wc -l
}
has() {
	[ "$(count "$1")" -ge 1 ]
}

URING=$(dirname "$BIN")/../tests/uring-connect
[ -x "$URING" ] || fail "$URING not built"
URING=$(readlink -f "$URING")
# shellcheck disable=SC2034 # restored by smoke-lib.sh on exit
TFO_OLD=$(sysctl -n net.ipv4.tcp_fastopen)
sysctl -qw net.ipv4.tcp_fastopen=3 || fail "cannot enable TCP Fast Open"

"$BIN" run --no-config --json >"$W/out" 2>"$W/err" &
A=$!
wait_until 120 grep -q "aegis ready" "$W/err" || fail "daemon not ready"
modes=$(grep -o 'attach modes: .*' "$W/err")
echo "kernel $(uname -r): $modes"
for m in "$@"; do
	grep -qw -- "$m" <<<"$modes" || fail "expected attach mode $m, daemon chose: $modes"
done

# One process: listen, connect (v4 and v6), accept both, then 200 datagrams to one port.
$PY - "$PORT" "$URING" <<'PYEOF'
import socket, subprocess, sys
port, uring = int(sys.argv[1]), sys.argv[2]
srv = socket.socket(socket.AF_INET6)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("::", port))
srv.listen(8)
for addr in (("127.0.0.1", port), ("::1", port)):
    fam = socket.AF_INET if "." in addr[0] else socket.AF_INET6
    c = socket.socket(fam)
    c.connect(addr)
    a, _ = srv.accept()
    a.close()
    c.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(200):
    u.sendto(b"x", ("127.0.0.1", port + 1))
# connects without connect(2): io_uring (another process), TCP Fast Open
for p in (port + 2, port + 3):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 5)
    l.bind(("127.0.0.1", p))
    l.listen(8)
    if p == port + 2:
        subprocess.run([uring, "127.0.0.1", str(p)], check=True, stdout=subprocess.DEVNULL)
    else:
        c = socket.socket()
        c.sendto(b"x", socket.MSG_FASTOPEN, ("127.0.0.1", p))
    l.accept()[0].close()
PYEOF

exe=$(readlink -f $PY)
py=".exe == \"$exe\" and (.cmdline | startswith(\"$PY - $PORT \"))"
wait_until 60 has "$py and .direction == \"out\" and .proto == \"udp\"" ||
	fail "no UDP record"
has "$py and .direction == \"listen\" and .dpt == $PORT" || fail "no listen record"
has "$py and .direction == \"out\" and .proto == \"tcp\" and .dst == \"127.0.0.1\" and .dpt == $PORT and .src == \"127.0.0.1\" and .spt > 0" ||
	fail "no v4 connect record"
has "$py and .direction == \"out\" and .proto == \"tcp\" and .dst == \"::1\" and .dpt == $PORT" ||
	fail "no v6 connect record"
# the v4 client reached a dual-stack listener: reported as v4 on both sides
has "$py and .direction == \"in\" and .src == \"127.0.0.1\" and .dst == \"127.0.0.1\" and .dpt == $PORT" ||
	fail "no v4 accept record"
has "$py and .direction == \"in\" and .src == \"::1\" and .dpt == $PORT" || fail "no v6 accept record"
n=$(count "$py and .direction == \"out\" and .proto == \"udp\" and .dpt == $((PORT + 1))")
[ "$n" = 1 ] || fail "200 datagrams to one destination gave $n records"
n=$(count ".exe == \"$URING\" and .direction == \"out\" and .proto == \"tcp\" and .dpt == $((PORT + 2))")
[ "$n" = 1 ] || fail "io_uring connect: $n records, expected 1"
n=$(count "$py and .direction == \"out\" and .dpt == $((PORT + 3))")
[ "$n" = 1 ] || fail "TCP Fast Open sendto: $n records, expected 1"
# (its result and source: only where the send syscall is traced, test-spine-evasion)
has "$py and .direction == \"out\" and .dpt == $((PORT + 3)) and .dst == \"127.0.0.1\"" ||
	fail "TCP Fast Open record with the wrong destination"
echo "records ok: listen, connect v4/v6, accept v4/v6, 200 datagrams -> 1 record, io_uring and Fast Open connects -> 1 record each"

kill -TERM "$A"
rc=0
wait "$A" || rc=$?
A=
[ $rc = 0 ] || fail "daemon exited with $rc"
counters=$(grep -o 'aegis counters:.*' "$W/err") || fail "no counters line"
grep -q ' drops=0 ' <<<"$counters" || fail "drops: $counters"
echo "$counters"
echo "SMOKE OK"
