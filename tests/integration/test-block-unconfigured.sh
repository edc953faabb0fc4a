#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# unconfigured_actions = ["block"] (with block_unconfigured_programs = true):
# every program without an [[app]] is refused unless whitelisted; configured
# apps and whitelisted programs pass; aegis and its children (hook scripts)
# are never blocked.
# Safety: whitelist.ports covers every port except 24000-24999, so the only
# connects this can refuse on the host are to this test suite's ports.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/block-lib.sh"

blocked_exe unconf-py
blocked_exe known-py
blocked_exe wl-py
blocked_exe trigger-py

write_config <<'EOF2'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
default_actions = ["log"]
unconfigured_actions = ["log", "block"]
block_unconfigured_programs = true

[whitelist]
ports = ["1-23999", "25000-65535"]
programs = ["wl-py@X@"]
EOF2
write_dropin 50-known.toml <<'EOF2'
[[app]]
exe = "known-py@X@"
actions = ["log"]

# its violations run the hook script below (a child of the daemon)
[[app]]
exe = "trigger-py@X@"
ports = ["1"]
actions = ["script"]

# a cmdline app that never matches: unconf-py stays unconfigured (its
# verdict says "no cmdline app", then the kernel finds no other app)
[[app]]
exe = "unconf-py@X@"
cmdline = "never-matches-anything-xyz"
ports = ["1"]
actions = ["block"]
EOF2

start_server tcp,4,127.0.0.1,24801 udp,6,::1,24801
export AEGIS_DRIVER_SPAWN="\"$T/unconf-py$X\" \"$T/client.py\" tcp 4 127.0.0.1 24801 >\"$T/child.out\" 2>&1"
enf_start

expect EPERM unconf-py tcp 4 127.0.0.1 24801
expect EPERM unconf-py udpsendto 6 ::1 24801
expect OK known-py tcp 4 127.0.0.1 24801
expect OK wl-py tcp 4 127.0.0.1 24801

if [ -n "$ENF_DRIVER" ]; then
	kill -USR2 "$AEGIS_PID"
else
	# a hook script runs the unconfigured program: exempt as a child of aegis
	cat >"$T/etc/scripts/50-connect" <<EOF2
#!/bin/sh
exec "$T/unconf-py$X" "$T/client.py" tcp 4 127.0.0.1 24801 >"$T/child.out" 2>&1
EOF2
	chmod 0755 "$T/etc/scripts/50-connect"
	try trigger-py tcp 4 127.0.0.1 24801 >/dev/null
fi
wait_for 10 test -s "$T/child.out" || fail "the child of aegis did not report"
[ "$(cat "$T/child.out")" = OK ] || fail "child of aegis was blocked: $(cat "$T/child.out")"
ok "a child of aegis (hook script) inherits the exemption"
sleep 0.2
# known-py, wl-py, the child of aegis, and (daemon) trigger-py: its violation only runs the script
[ "$(server_count tcp 4 24801)" = $([ -n "$ENF_DRIVER" ] && echo 3 || echo 4) ] ||
	fail "server saw $(server_count tcp 4 24801) connections"
[ "$(server_count udp 6 24801)" = 0 ] || fail "server saw a datagram from the unconfigured program"
ok "server saw only the allowed connections"
