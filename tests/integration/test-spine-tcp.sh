#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# curl to a local HTTP server, over IPv4 and IPv6: exactly one outbound TCP
# record each, attributed to curl (pid, resolved exe path, exact argv).
. "$(dirname "$0")/lib.sh"

PORT4=21010
PORT6=21011
CURL=$(readlink -f "$(command -v curl)")
[ -x "$CURL" ] || skip "curl not installed"

start_aegis --no-config
http_server $PORT4 127.0.0.1
http_server $PORT6 ::1

# check_curl URL ADDR PORT: runs curl, then asserts on its one record
check_curl() {
	local url=$1 addr=$2 port=$3 cpid sel n
	curl -s -g -o /dev/null "$url" &
	cpid=$!
	wait $cpid || fail "curl $url failed"

	sel=".direction==\"out\" and .proto==\"tcp\" and .dpt==$port and .pid==$cpid"
	wait_records 1 "$sel" 10 || fail "no outbound record for curl pid $cpid to $addr:$port"
	sleep 0.5 # a duplicate would show up by now
	n=$(count_records "$sel")
	[ "$n" = 1 ] || fail "$n records for one curl to $addr:$port, expected exactly 1"

	records "$sel" | jq -e --arg exe "$CURL" --arg cmd "curl -s -g -o /dev/null $url" \
		--arg addr "$addr" '
		.exe == $exe and .cmdline == $cmd and .cmdline_truncated == false
		and .comm == "curl" and .dst == $addr and .src == $addr
		and (.spt | type) == "number" and .spt > 0
		and (.result == "0" or .result == "EINPROGRESS")
		and .uid == 0 and .user == "root" and (.ppid | type) == "number"
		and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{6}Z$"))' >/dev/null ||
		fail "wrong record for curl to $addr:$port: $(records "$sel")"

	# nothing else reports this connection (e.g. with the parent's identity)
	local spt
	spt=$(records "$sel" | jq -r .spt)
	n=$(count_records ".dpt==$port and .direction==\"out\" and .spt==$spt")
	[ "$n" = 1 ] || fail "$n outbound records for the connection from port $spt"
	ok "curl to $addr:$port: one record, exe $CURL, exact argv"
}

check_curl "http://127.0.0.1:$PORT4/v4-only-once" 127.0.0.1 $PORT4
check_curl "http://[::1]:$PORT6/v6-only-once" ::1 $PORT6

stop_aegis || fail "aegis exited with an error"
