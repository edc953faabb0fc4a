#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SIGHUP reloads the policy off to the side: a valid config is swapped in
# (RELOADING/READY), a broken one is refused with every diagnostic logged
# (file:line) while the daemon keeps running on the old policy and keeps
# reporting connections.
. "$(dirname "$0")/lib.sh"

PORT=20180

write_config <<'TOML'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
unconfigured_actions = ["log"]
TOML
start_aegis
grep -q "policy $T/etc/aegis.toml" "$T/aegis.err" || fail "ready line does not name the config"
ok "started with $T/etc/aegis.toml"

http_server $PORT
probe() { # one curl, one out record from a new process
	curl -sf -o /dev/null "http://127.0.0.1:$PORT/" || fail "curl failed"
}
n_out() { count_records ".direction == \"out\" and .dpt == $PORT and .comm == \"curl\""; }

probe
wait_records 1 ".direction == \"out\" and .dpt == $PORT and .comm == \"curl\"" ||
	fail "no record before reload"

# 1. A valid change (a drop-in appears).
write_dropin curl.toml <<'TOML'
[[app]]
exe = "curl"
ports = ["20180"]
actions = ["log"]
TOML
kill -HUP "$AEGIS_PID"
wait_for 10 grep -q "Reloaded $T/etc/aegis.toml" "$T/aegis.err" || fail "valid reload not logged"
kill -0 "$AEGIS_PID" || fail "daemon died on a valid reload"
ok "valid config reloaded"

# 2. Broken: a TOML syntax error in the main file and a bad key in the drop-in.
cp "$T/etc/aegis.toml" "$T/good.toml"
printf '[global\nbroken = \n' >>"$T/etc/aegis.toml"
write_dropin zz-bad.toml <<'TOML'
[[app]]
ports = ["not-a-port"]
TOML
kill -HUP "$AEGIS_PID"
wait_for 10 grep -q "Reload of $T/etc/aegis.toml failed, keeping the current policy" "$T/aegis.err" ||
	fail "failed reload not logged"
sleep 0.2
kill -0 "$AEGIS_PID" || fail "daemon died on a broken reload"
grep -q "$T/etc/aegis.toml:[0-9]*:[0-9]*: error" "$T/aegis.err" ||
	fail "no file:line diagnostic for the main file: $(tail -5 "$T/aegis.err")"
grep -E "error" "$T/aegis.err" | sed 's/^/  /'
ok "broken config refused, errors logged, daemon alive"

# Still reporting on the old policy.
before=$(n_out)
probe
wait_records $((before + 1)) ".direction == \"out\" and .dpt == $PORT and .comm == \"curl\"" ||
	fail "no record after the failed reload"
ok "still reporting after the failed reload"

# 3. Fixed again: reload succeeds.
cp "$T/good.toml" "$T/etc/aegis.toml"
rm -f "$T/etc/aegis.d/zz-bad.toml"
kill -HUP "$AEGIS_PID"
wait_for 10 output_ge 2 grep -c "Reloaded $T/etc/aegis.toml" "$T/aegis.err" ||
	fail "second valid reload not logged"
ok "fixed config reloaded"

stop_aegis || fail "aegis exited with status $?"
grep -q "aegis counters: .* drops=0 " "$T/aegis.err" || fail "counters/drops: $(grep counters "$T/aegis.err")"
ok "clean exit"
