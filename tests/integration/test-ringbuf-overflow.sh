#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Lost events are counted, never silent: with the smallest ring buffer
# (ringbuf_size = 4096) an exec record with a full 4 KiB argv (~5 KiB) never
# fits, so each such exec is a failed reservation. The daemon keeps running and reporting connections,
# and on exit its counters show the drops and it warns about them.
. "$(dirname "$0")/lib.sh"

PORT=20280
write_config <<'TOML'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
ringbuf_size = 4096
TOML
start_aegis

big=$(head -c 5000 /dev/zero | tr '\0' x)
for _ in $(seq 20); do /bin/true "$big"; done
http_server $PORT
curl -sf -o /dev/null "http://127.0.0.1:$PORT/" || fail "curl failed"
wait_records 1 ".direction == \"out\" and .dpt == $PORT and .comm == \"curl\"" ||
	fail "connections not reported with a small ring buffer"
ok "connection records still flow"

stop_aegis || fail "aegis exited with status $?"
line=$(grep -o 'aegis counters:.*' "$T/aegis.err") || fail "no counters line"
echo "$line"
drops=$(grep -o ' drops=[0-9]*' <<<"$line" | cut -d= -f2)
[ "$drops" -ge 20 ] || fail "expected >= 20 drops (one per big exec), got $drops"
grep -q "records were lost: the ring buffer was full" "$T/aegis.err" || fail "no warning about lost records"
ok "drops counted ($drops) and reported"
