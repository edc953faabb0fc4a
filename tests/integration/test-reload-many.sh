#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1,000 reloads through the control socket: valid policies (alternating, so
# every reload really swaps), and every tenth a broken one that must be
# refused with the old policy kept. The daemon must stay up, keep deciding
# with the right policy, not grow (RSS), and exit cleanly (under ASan the
# leak checker runs at exit and makes the exit status non-zero).
. "$(dirname "$0")/lib.sh"

PORT=20950
write_config <<'TOML'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = []
default_actions = ["log"]
unconfigured_actions = []
TOML
policy() { # policy PORTS-VALUE
	write_dropin app.toml <<TOML
[[app]]
exe = "curl"
ports = [$1]
remotes = ["10.0.0.0/8:5432", "[2001:db8::/32]:443"]
TOML
}
policy '"8086"'
start_aegis

rss() { awk '/^VmRSS/ {print $2}' "/proc/$AEGIS_PID/status"; }
reload() { "$AEGIS_BIN" reload >/dev/null 2>&1; }

refused=0
for i in $(seq 1000); do
	if [ $((i % 10)) = 0 ]; then
		printf '[[app]]\nexe = "curl"\nports = ["70000"]\n' >"$T/etc/aegis.d/app.toml"
		if reload; then fail "reload $i: a broken policy was accepted"; fi
		refused=$((refused + 1))
	elif [ $((i % 2)) = 0 ]; then
		policy '"8086"'
		reload || fail "reload $i failed: $(tail -3 "$T/aegis.err")"
	else
		policy "\"$PORT\""
		reload || fail "reload $i failed: $(tail -3 "$T/aegis.err")"
	fi
	[ "$i" = 100 ] && rss_100=$(rss)
done
kill -0 "$AEGIS_PID" || fail "daemon died"
rss_1000=$(rss)
ok "1000 reloads ($refused refused), RSS $rss_100 KiB after 100, $rss_1000 KiB after 1000"
if grep -q "AddressSanitizer" "$AEGIS_BIN"; then
	# ASan's quarantine keeps freed memory: RSS says nothing; LeakSanitizer
	# checks at exit below instead.
	ok "ASan build: leaks are checked by LeakSanitizer at exit"
else
	# leaks of a few hundred bytes per reload would show as ~100+ KiB here
	[ $((rss_1000 - rss_100)) -lt 2048 ] || fail "RSS grew by $((rss_1000 - rss_100)) KiB over 900 reloads"
fi

# The last reload (i = 999, odd) allowed $PORT; the broken i = 1000 one was refused,
# so curl to $PORT is allowed and to 8086 a violation.
curl -s -m 2 "http://127.0.0.1:$PORT/" >/dev/null || true
curl -s -m 2 "http://127.0.0.1:8086/" >/dev/null || true
wait_records 1 ".comm == \"curl\" and .dpt == $PORT and .outcome == \"allowed\"" ||
	fail "the policy of the last good reload is not in force"
wait_records 1 ".comm == \"curl\" and .dpt == 8086 and .outcome == \"violation\"" ||
	fail "port 8086 is not a violation under the last good policy"
ok "the last good policy decides after a refused reload"

stop_aegis || fail "daemon exit status $? (leak report?): $(grep -A5 -i 'sanitizer' "$T/aegis.err" | head -20)"
! grep -qi "LeakSanitizer\|AddressSanitizer" "$T/aegis.err" || fail "sanitizer report: $(grep -A10 -i sanitizer "$T/aegis.err" | head -20)"
ok "clean exit, no sanitizer report"
