#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A cmdline pattern that backtracks exponentially, against a command line
# crafted to make it do so: PCRE2's match limit stops the match, the app
# does not match (the connection is unconfigured), and the daemon says so:
# a warning in its log and counters.cmdline_regex_failed in `aegis status`.
# An ordinary command line still matches the app. Port 25180.
. "$(dirname "$0")/lib.sh"

PORT=25180
write_config <<EOF
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
default_actions = ["log"]
unconfigured_actions = ["log"]
detent = 0

[[app]]
name = "backtracker"
cmdline = "^(a|aa)+b"
ports = [$PORT]
EOF
start_aegis

# connect_as ARGV0: a python client whose command line starts with ARGV0 and ends
# with " b" (PCRE2 skips the match when a required 'b' is nowhere); pid in CLIENT
connect_as() {
	bash -c "exec -a $1 $PY -c 'import socket; socket.socket().connect_ex((\"127.0.0.1\", $PORT))' b" &
	CLIENT=$!
	wait $CLIENT || fail "client $1 failed"
}
rule_of() { # rule_of PID: the rule of its outgoing record
	wait_records 1 ".pid == $1 and .direction == \"out\"" || fail "no record of pid $1"
	records ".pid == $1 and .direction == \"out\"" | head -1 | jq -r .rule
}
failures() {
	"$AEGIS_BIN" status --json | jq .counters.cmdline_regex_failed
}

# "aab -c ..." matches ^(a|aa)+b
connect_as aab
[ "$(rule_of $CLIENT)" = backtracker ] || fail "an ordinary command line did not match the app"
n=$(failures)
[ "$n" = 0 ] || fail "cmdline_regex_failed = $n before any crafted command line"
ok "an ordinary command line matches; no failure counted"

# 60 a's then " -c ...": no 'b' after the run of a's, and every split is tried
connect_as "$(printf 'a%.0s' $(seq 60))"
rule=$(rule_of $CLIENT)
[ "$rule" = unconfigured ] || fail "crafted command line: rule $rule, expected unconfigured"
n=$(failures)
[ "$n" -ge 1 ] 2>/dev/null || fail "cmdline_regex_failed = $n after a crafted command line"
grep -q 'App backtracker: cmdline pattern failed on a .*match limit exceeded.*counted as no match' "$T/aegis.err" ||
	fail "no warning in the daemon's log: $(tail -3 "$T/aegis.err")"
kill -0 "$AEGIS_PID" || fail "the daemon died"
ok "crafted command line: no match (unconfigured), logged, counted ($n) in aegis status"
