#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Connects that do not go through connect(2) are still reported, once:
# (a) io_uring IORING_OP_CONNECT (v4 and v6), (b) TCP Fast Open sendto(), and
# (c) a plain connect() gives exactly one record (no second one from the TCP
# state program), and (d) under the in-kernel dedup, repeated io_uring
# connects of one process fold into one record like connect(2) ones.
. "$(dirname "$0")/lib.sh"

PORT_URING4=29010
PORT_URING6=29011
PORT_TFO=29012
PORT_CURL=29013
CURL=$(readlink -f "$(command -v curl)")
[ -x "$CURL" ] || skip "curl not installed"
command -v cc >/dev/null || skip "no C compiler (cc) for the io_uring client"

cc -O1 -o "$T/uring-connect" "$(dirname "$0")/uring-connect.c" || fail "cannot build uring-connect"
URING=$(readlink -f "$T/uring-connect")

# TCP Fast Open: client and server (3); restored on exit
TFO_OLD=$(sysctl -n net.ipv4.tcp_fastopen)
at_exit 'sysctl -qw net.ipv4.tcp_fastopen="$TFO_OLD"'
sysctl -qw net.ipv4.tcp_fastopen=3

start_aegis --no-config
http_server $PORT_URING4 127.0.0.1
http_server $PORT_URING6 ::1
http_server $PORT_CURL 127.0.0.1

# (a) io_uring connect: no syscall result to report (result ""); the source
# port is not chosen yet when the TCP state changes (spt 0)
check_uring() {
	local addr=$1 port=$2 upid sel n
	"$URING" "$addr" "$port" >"$T/uring.out" 2>&1 &
	upid=$!
	wait $upid || fail "io_uring connect to $addr:$port failed: $(cat "$T/uring.out")"
	sel=".direction==\"out\" and .proto==\"tcp\" and .dpt==$port and .pid==$upid"
	wait_records 1 "$sel" 10 || fail "no outbound record for the io_uring connect to $addr:$port (pid $upid)"
	sleep 0.5
	n=$(count_records "$sel")
	[ "$n" = 1 ] || fail "$n records for one io_uring connect to $addr:$port, expected 1"
	records "$sel" | jq -e --arg exe "$URING" --arg addr "$addr" '
		.exe == $exe and .dst == $addr and .src == $addr and .comm == "uring-connect"
		and .result == ""' \
		>/dev/null || fail "wrong record for the io_uring connect: $(records "$sel")"
	# only the readiness checks of http_server (curl) connected there before
	n=$(count_records ".direction==\"out\" and .dpt==$port and .comm != \"curl\"")
	[ "$n" = 1 ] || fail "$n outbound records to port $port, expected 1: $(records ".dpt==$port")"
	ok "io_uring connect to $addr:$port: one record, exe $URING, pid $upid"
}
check_uring 127.0.0.1 $PORT_URING4
check_uring ::1 $PORT_URING6

# (b) TCP Fast Open: sendto(MSG_FASTOPEN) connects without connect()
$PY - $PORT_TFO >"$T/tfo.out" 2>&1 <<'EOF' &
import socket, sys, os
port = int(sys.argv[1])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 5)
srv.bind(("127.0.0.1", port))
srv.listen()
c = socket.socket()
c.sendto(b"x", socket.MSG_FASTOPEN, ("127.0.0.1", port))
a, _ = srv.accept()
assert a.recv(1) == b"x"
print(os.getpid())
EOF
TPID=$!
wait $TPID || fail "TFO client failed: $(cat "$T/tfo.out")"
sel=".direction==\"out\" and .proto==\"tcp\" and .dpt==$PORT_TFO and .pid==$TPID"
wait_records 1 "$sel" 10 || fail "no outbound record for the TCP Fast Open sendto (pid $TPID)"
sleep 0.5
n=$(count_records ".direction==\"out\" and .dpt==$PORT_TFO")
[ "$n" = 1 ] || fail "$n outbound records for one Fast Open sendto, expected 1"
records "$sel" | jq -e '.dst == "127.0.0.1" and .src == "127.0.0.1" and .spt > 0 and .result == "0"' >/dev/null ||
	fail "wrong record for the Fast Open sendto: $(records "$sel")"
ok "TCP Fast Open sendto: one record"

# (c) a plain connect(): still exactly one record
curl -s -o /dev/null "http://127.0.0.1:$PORT_CURL/" &
CPID=$!
wait $CPID || fail "curl failed"
sel=".direction==\"out\" and .dpt==$PORT_CURL and .pid==$CPID"
wait_records 1 "$sel" 10 || fail "no outbound record for curl"
sleep 0.5
n=$(count_records ".direction==\"out\" and .dpt==$PORT_CURL and .pid==$CPID")
[ "$n" = 1 ] || fail "$n outbound records for one curl connect, expected 1: $(records ".dpt==$PORT_CURL")"
records "$sel" | jq -e '.result == "0" or .result == "EINPROGRESS"' >/dev/null ||
	fail "the curl record lost its result: $(records "$sel")"
ok "plain connect(): one record with its result"

stop_aegis || fail "aegis exited with an error"

# (d) in-kernel dedup (1 s window): 4 io_uring connects in one process -> one
# record; plain connects (one curl process each) stay one record each
write_config <<'EOF'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
kernel_dedup = 1
default_actions = ["log"]
unconfigured_actions = ["log"]
EOF
start_aegis
"$URING" 127.0.0.1 $PORT_URING4 4 >"$T/uring.out" 2>&1 &
UPID=$!
wait $UPID || fail "io_uring connects failed: $(cat "$T/uring.out")"
sel=".direction==\"out\" and .dpt==$PORT_URING4 and .pid==$UPID"
wait_records 1 "$sel" 10 || fail "no record for 4 io_uring connects under dedup"
sleep 0.5
n=$(count_records "$sel")
[ "$n" = 1 ] || fail "$n records for 4 io_uring connects within the dedup window, expected 1"
ok "dedup: 4 io_uring connects of one process -> 1 record"
for _ in 1 2 3; do
	curl -s -o /dev/null "http://127.0.0.1:$PORT_CURL/" &
	CPID=$!
	wait $CPID || fail "curl failed"
	sel=".direction==\"out\" and .dpt==$PORT_CURL and .pid==$CPID"
	wait_records 1 "$sel" 10 || fail "no outbound record for curl under dedup"
	sleep 0.3
	n=$(count_records "$sel")
	[ "$n" = 1 ] || fail "$n records for one curl under dedup, expected 1"
done
ok "dedup: plain connects still one record each"
stop_aegis || fail "aegis exited with an error"
