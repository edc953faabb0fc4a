#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 5, "How it is checked", literally, as a new user would try it: a
# drop-in for the REAL nc (Debian's netcat-openbsd: /usr/bin/nc ->
# /etc/alternatives/nc -> /bin/nc.openbsd, so the kernel sees "nc.openbsd"
# and exe = "nc" must match it through its alias), remotes =
# ["127.0.0.1:8080"] (a loopback entry: it restricts local peers), actions =
# ["block", "log"]. nc to 8080 works; nc to 9090 fails with "Operation not
# permitted" on the first attempt (nc -v: netcat-openbsd names the error only
# when verbose), the server on 9090 sees nothing, and the journal says why.
#
# Unlike the other test-block-* tests this blocks a real program of the host
# (nc) while it runs: tests run serially in CI, and the daemon (and with it
# the enforcement) is stopped by lib.sh's cleanup.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/block-lib.sh"

NC=/usr/bin/nc
[ -x /bin/nc.openbsd ] && [ "$(basename "$(readlink -f "$NC")")" = nc.openbsd ] ||
	fail "needs netcat-openbsd (/usr/bin/nc -> nc.openbsd): apt-get install netcat-openbsd"
command -v journalctl >/dev/null || fail "needs journalctl"

write_config <<'EOF2'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
unconfigured_actions = ["log"]
EOF2
# the drop-in of the issue, verbatim
write_dropin 50-nc.toml <<'EOF2'
[[app]]
exe = "nc"
remotes = ["127.0.0.1:8080"]
actions = ["block", "log"]
EOF2

"$AEGIS_BIN" check-config -c "$T/etc/aegis.toml" >"$T/check.out" 2>&1 ||
	fail "check-config refused the issue's drop-in: $(cat "$T/check.out")"

# the servers: count what arrives on each port
start_server tcp,4,127.0.0.1,8080 tcp,4,127.0.0.1,9090
start_journald
enf_start

# 8080: allowed
"$NC" -z -w1 127.0.0.1 8080 2>"$T/nc8080.err" || fail "nc to 8080 failed: $(cat "$T/nc8080.err")"
wait_for 5 output_ge 1 server_count tcp 4 8080 || fail "the 8080 server saw no connection"
ok "nc -z 127.0.0.1 8080 works"

# 9090: refused on the first attempt, in the kernel, before anything is sent.
# (netcat-openbsd prints why a connect failed only with -v; without it, it
# exits 1 silently, whatever the errno.)
rc=0
"$NC" -v -w1 127.0.0.1 9090 </dev/null >"$T/nc9090.out" 2>"$T/nc9090.err" || rc=$?
[ $rc != 0 ] || fail "nc to 9090 succeeded"
grep -q "Operation not permitted" "$T/nc9090.err" ||
	fail "nc to 9090: no 'Operation not permitted' (rc=$rc): $(cat "$T/nc9090.err")"
ok "nc 127.0.0.1 9090 fails: $(head -1 "$T/nc9090.err")"
sleep 0.3
[ "$(server_count tcp 4 9090)" = 0 ] || fail "the 9090 server saw $(server_count tcp 4 9090) connection(s)"
ok "the 9090 server received nothing"

# the journal says why: block + log, port 9090, the app, the exe, a reason
_blocked_entry() {
	journal_json SYSLOG_IDENTIFIER=aegis AEGIS_DPT=9090 |
		jq -c 'select((.AEGIS_ACTIONS // "") | contains("block"))' | head -1 | grep -q .
}
wait_for 15 _blocked_entry || fail "no journal record with AEGIS_ACTIONS block for port 9090: $(journal_json SYSLOG_IDENTIFIER=aegis | jq -c '{MESSAGE, AEGIS_DPT, AEGIS_ACTIONS}' | tail -5)"
e=$(journal_json SYSLOG_IDENTIFIER=aegis AEGIS_DPT=9090 |
	jq -c 'select((.AEGIS_ACTIONS // "") | contains("block"))' | head -1)
jq -e '.AEGIS_ACTIONS | contains("log")' <<<"$e" >/dev/null || fail "AEGIS_ACTIONS without log: $e"
jq -e '.AEGIS_DST == "127.0.0.1" and .AEGIS_DPT == "9090"' <<<"$e" >/dev/null || fail "wrong peer: $e"
jq -e '.AEGIS_EXE | endswith("/nc.openbsd")' <<<"$e" >/dev/null || fail "AEGIS_EXE is not nc.openbsd: $e"
jq -e '.AEGIS_RULE | contains("nc")' <<<"$e" >/dev/null || fail "AEGIS_RULE does not name the app: $e"
jq -e '.AEGIS_REASON | contains("9090") and contains("127.0.0.1:8080")' <<<"$e" >/dev/null ||
	fail "AEGIS_REASON does not say why: $e"
ok "journal: $(jq -r '.MESSAGE' <<<"$e")"

# nothing was recorded for nc's allowed 8080 connection (the server, an
# unconfigured program, may log its side: direction "in")
_nc_8080() {
	journal_json SYSLOG_IDENTIFIER=aegis AEGIS_DPT=8080 |
		jq -c 'select((.AEGIS_EXE // "") | endswith("/nc.openbsd"))'
}
[ -z "$(_nc_8080)" ] || fail "nc's allowed 8080 connection was recorded: $(_nc_8080 | head -1)"
ok "the allowed connection left no record"

# still allowed afterwards, still refused afterwards (no one-shot reaction)
"$NC" -z -w1 127.0.0.1 8080 2>/dev/null || fail "nc to 8080 failed the second time"
"$NC" -v -w1 127.0.0.1 9090 </dev/null 2>"$T/nc9090b.err" && fail "nc to 9090 succeeded the second time"
grep -q "Operation not permitted" "$T/nc9090b.err" || fail "second 9090 attempt: $(cat "$T/nc9090b.err")"
[ "$(server_count tcp 4 9090)" = 0 ] || fail "the 9090 server saw a connection"
ok "second attempts: 8080 works, 9090 refused"
