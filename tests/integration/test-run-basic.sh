#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The spine end to end: `aegis run --no-config --json` starts, a curl to a
# loopback HTTP server yields one outbound TCP record with curl's exe and exact
# argv (plus the server's listen and accept records), and SIGTERM ends the
# daemon cleanly with its counters on stderr and no drops.
. "$(dirname "$0")/lib.sh"

PORT=20080
URL="http://127.0.0.1:$PORT/index.html?spine=$RANDOM"

start_aegis --no-config
grep -q "attach modes: .*connect=" "$T/aegis.err" || fail "ready line does not name the attach modes"
ok "daemon ready: $(grep -o 'attach modes: .*' "$T/aegis.err")"

http_server $PORT
wait_records 1 ".direction == \"listen\" and .dpt == $PORT and .pid == $HTTP_PID" ||
	fail "no listen record for the server (pid $HTTP_PID)"
ok "listen record for the server"

# One curl process, two connections (http.server speaks HTTP/1.0 and closes),
# from 127.0.0.2 so the server's accept is not folded into the readiness probe's.
curl -sf --interface 127.0.0.2 -o /dev/null "$URL" -o /dev/null "$URL" || fail "curl failed"
# (lib.sh's readiness probe may be a curl too: ours is the one from 127.0.0.2)
out=".direction == \"out\" and .proto == \"tcp\" and .dpt == $PORT and .comm == \"curl\" and .src == \"127.0.0.2\""
wait_records 1 "$out" || fail "no outbound record for curl"
rec=$(records "$out")
echo "$rec"
[ "$(jq -r .exe <<<"$rec")" = "$(readlink -f "$(command -v curl)")" ] || fail "exe is not curl's: $rec"
[ "$(jq -r .cmdline <<<"$rec")" = "curl -sf --interface 127.0.0.2 -o /dev/null $URL -o /dev/null $URL" ] ||
	fail "cmdline is not curl's argv: $rec"
[ "$(jq -r .dst <<<"$rec")" = 127.0.0.1 ] || fail "dst: $rec"
[ "$(jq -r .src <<<"$rec")" = 127.0.0.2 ] || fail "src: $rec"
spt=$(jq -r .spt <<<"$rec")
[ "$spt" -gt 0 ] || fail "no source port: $rec"
jq -e '.result == "0" or .result == "EINPROGRESS"' <<<"$rec" >/dev/null || fail "result: $rec"
jq -e '.pid > 0 and .ppid > 0 and .uid == 0 and .user == "root"' <<<"$rec" >/dev/null ||
	fail "identity: $rec"
ok "outbound record: curl exe and argv"

# The server side of the same connection: src = curl's endpoint, dst = the server.
in=".direction == \"in\" and .dpt == $PORT and .src == \"127.0.0.2\""
wait_records 1 "$in" || fail "no accept record for the connection"
rec=$(records "$in")
echo "$rec"
[ "$(jq -r .spt <<<"$rec")" = "$spt" ] || fail "accept record is not curl's first connection: $rec"
[ "$(jq -r .pid <<<"$rec")" = "$HTTP_PID" ] || fail "accept not attributed to the server: $rec"
ok "accept record attributed to the server"

# The second connection repeats both keys: folded in the kernel, not reported.
sleep 0.3
[ "$(count_records "$out")" = 1 ] || fail "repeat connect not folded: $(records "$out")"
[ "$(count_records "$in")" = 1 ] || fail "repeat accept not folded: $(records "$in")"
ok "repeats folded by in-kernel dedup"

# Programs the daemon holds (prog_id in its fds' fdinfo), to check detach below.
ids=$(cat /proc/"$AEGIS_PID"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" { print $2 }' | sort -u)
[ -n "$ids" ] || fail "no BPF programs owned by the daemon"

stop_aegis || fail "aegis exited with status $?"
grep -q "aegis counters: events=[0-9]* drops=0 " "$T/aegis.err" ||
	fail "no counters line with drops=0: $(grep counters "$T/aegis.err")"
dedup=$(grep -o 'aegis counters:.* dedup=[0-9]*' "$T/aegis.err" | grep -o '[0-9]*$')
[ "$dedup" -ge 2 ] || fail "dedup counter $dedup < 2"
ok "clean exit: $(grep -o 'aegis counters:.*' "$T/aegis.err")"

# Nothing of ours stays loaded.
for id in $ids; do
	bpftool prog show id "$id" >/dev/null 2>&1 && fail "BPF program $id still loaded after exit"
done
ok "detached: $(wc -w <<<"$ids") programs gone"
