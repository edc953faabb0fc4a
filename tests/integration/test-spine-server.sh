#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The server side: a listen record when a server starts (right port, right
# process) and an accept record attributed to the server process, with the
# local port as dst/dpt and the client as src/spt; over IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"

PYEXE=$(readlink -f $PY)

start_aegis --no-config

SERVER='import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
c, a = s.accept()
c.sendall(b"x")
c.close()'

CLIENT='import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
print(c.getsockname()[1], flush=True)
c.recv(1)'

# check_server ADDR PORT
check_server() {
	local addr=$1 port=$2 spid cpt sel n
	$PY -c "$SERVER" "$addr" "$port" server-$port &
	spid=$!
	bg_track $spid

	sel=".direction==\"listen\" and .proto==\"tcp\" and .dpt==$port"
	wait_records 1 "$sel" 10 || fail "no listen record for port $port"
	records "$sel" | jq -e --argjson pid $spid --arg exe "$PYEXE" --arg addr "$addr" \
		--arg cmd "$PY -c $SERVER $addr $port server-$port" '
		.pid == $pid and .exe == $exe and .cmdline == $cmd and .dst == $addr
		and .src == "" and .spt == null' >/dev/null ||
		fail "wrong listen record: $(records "$sel")"
	n=$(count_records "$sel")
	[ "$n" = 1 ] || fail "$n listen records for one listen() on $port"
	ok "listen on $addr:$port: one record, pid $spid, exe $PYEXE"

	cpt=$($PY -c "$CLIENT" "$addr" "$port") || fail "client could not connect to $addr:$port"
	wait $spid || fail "server failed"

	sel=".direction==\"in\" and .proto==\"tcp\" and .dpt==$port"
	wait_records 1 "$sel" 10 || fail "no accept record for port $port"
	sleep 0.3
	n=$(count_records "$sel")
	[ "$n" = 1 ] || fail "$n accept records for one connection to $port"
	records "$sel" | jq -e --argjson pid $spid --arg exe "$PYEXE" --arg addr "$addr" \
		--argjson cpt "$cpt" --arg cmd "$PY -c $SERVER $addr $port server-$port" '
		.pid == $pid and .exe == $exe and .cmdline == $cmd and .comm == "python3"
		and .dst == $addr and .src == $addr and .spt == $cpt' >/dev/null ||
		fail "wrong accept record (client port $cpt): $(records "$sel")"
	ok "accept on $addr:$port: attributed to the server pid $spid, client port $cpt"

	# and the client's side of the same connection is an outbound record of its own
	n=$(count_records ".direction==\"out\" and .dpt==$port and .spt==$cpt")
	[ "$n" = 1 ] || fail "$n outbound records for the client of $port"
}

check_server 127.0.0.1 21030
check_server ::1 21031

stop_aegis || fail "aegis exited with an error"
