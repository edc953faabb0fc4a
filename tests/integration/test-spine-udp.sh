#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# UDP: one datagram to a local port -> one record; 1,000 datagrams from one
# socket to one destination -> still one record (in-kernel dedup); a new
# process sending to that destination is a new record again.
. "$(dirname "$0")/lib.sh"

PORT1=21020
PORT2=21021
PYEXE=$(readlink -f $PY)

start_aegis --no-config

# a receiver on both ports, so nothing answers with ICMP port unreachable
$PY -c '
import socket, time
socks = []
for p in (int(a) for a in __import__("sys").argv[1:]):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", p))
    socks.append(s)
time.sleep(600)' $PORT1 $PORT2 &
bg_track $!

SEND='import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(b"x", ("127.0.0.1", int(sys.argv[1])))'

# one datagram
$PY -c "$SEND" $PORT1 1 udp-one &
p1=$!
wait $p1 || fail "sender failed"
sel=".proto==\"udp\" and .direction==\"out\" and .dpt==$PORT1"
wait_records 1 "$sel" 10 || fail "no UDP record for one datagram to $PORT1"
records "$sel" | jq -e --arg exe "$PYEXE" --arg cmd "$PY -c $SEND $PORT1 1 udp-one" --argjson pid $p1 '
	.pid == $pid and .exe == $exe and .cmdline == $cmd and .dst == "127.0.0.1"
	and .result == "0" and .spt > 0
	# an unbound, unconnected socket has no source address until routing picks one
	and (.src == "127.0.0.1" or .src == "0.0.0.0")' >/dev/null ||
	fail "wrong UDP record: $(records "$sel")"
ok "one datagram: one UDP record attributed to pid $p1"

# 1,000 datagrams, one socket, one destination
$PY -c "$SEND" $PORT2 1000 udp-thousand &
p2=$!
wait $p2 || fail "sender failed"
sel=".proto==\"udp\" and .direction==\"out\" and .dpt==$PORT2"
wait_records 1 "$sel" 10 || fail "no UDP record for 1000 datagrams to $PORT2"
sleep 1 # let any stragglers arrive
n=$(count_records "$sel")
[ "$n" = 1 ] || fail "$n records for 1000 datagrams to one destination, expected 1"
records "$sel" | jq -e --argjson pid $p2 --arg exe "$PYEXE" '.pid == $pid and .exe == $exe' \
	>/dev/null || fail "wrong UDP record: $(records "$sel")"
ok "1000 datagrams to one destination: one record"

# another process to the same destination is news again
$PY -c "$SEND" $PORT2 1 udp-again &
p3=$!
wait $p3 || fail "sender failed"
wait_records 1 "$sel and .pid==$p3" 10 || fail "no record for a new process sending to $PORT2"
n=$(count_records "$sel")
[ "$n" = 2 ] || fail "$n records to $PORT2 after a second process, expected 2"
ok "a new process to the same destination: a new record"

stop_aegis || fail "aegis exited with an error"
