#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `aegis explain` against a real config (main file + drop-ins): allowed,
# violation, unconfigured, whitelisted (ips/ports/programs), ignored,
# most-specific-wins, later-file-wins, v6 and v4-mapped, incoming, listen,
# hostname remotes resolved by the daemon's resolver, and exit codes.
. "$(dirname "$0")/lib.sh"

write_config <<'EOF'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
detent = 120
default_actions = ["log", "notify"]
unconfigured_actions = ["log"]

[whitelist]
ips = ["192.168.0.0/16", "fd00::/8"]
ports = ["53"]
programs = ["systemd-resolved", "/usr/lib/apt/methods/http"]

[[app]]
exe = "telegraf"
ports = ["8086"]

[[app]]
exe = "python3"
ports = ["443"]

[[app]]
path = "/usr/bin/python3"
ports = ["8443"]

[[app]]
exe = "nc"
user = "root"
ports = ["1111"]

[[app]]
exe = "chatty"
ignore = true

[[app]]
exe = "loopy"
remotes = ["127.0.0.1:8080"]

[[app]]
exe = "loopyname"
remotes = ["localhost:8080"]

[[app]]
exe = "pgc"
remotes = ["10.0.0.0/8:5432"]

[[app]]
exe = "db-client"
remotes = ["10.1.0.0/16:5432", "[2001:db8::/32]:5432", "localhost:5432"]
locals = ["6379"]
actions = ["log", "kill"]
EOF

write_dropin 10-worker.toml <<'EOF'
[[app]]
cmdline = "worker\\.py"
local = false
EOF

write_dropin 20-override.toml <<'EOF'
# Same identity as the main file's telegraf: overrides ports, keeps the rest.
[[app]]
exe = "telegraf"
ports = ["9273"]

# Same specificity as exe=nc user=root (main file): the later entry wins ties.
[[app]]
exe = "nc"
unit = "nc.service"
ports = ["2222"]
EOF

CFG="$T/etc/aegis.toml"
OUT="$T/explain.out"

# explain ARGS...: runs explain, keeps its output in $OUT, fails on a non-zero exit.
explain() {
	"$AEGIS_BIN" explain -c "$CFG" "$@" >"$OUT" 2>"$T/explain.err" ||
		fail "explain $* exited $?: $(cat "$T/explain.err")"
}

# field NAME: the value printed after "NAME:" in $OUT.
field() {
	sed -n "s/^$1: *//p" "$OUT" | head -1
}

# expect NAME VALUE: exact match of a field.
expect() {
	local got
	got=$(field "$1")
	[ "$got" = "$2" ] || fail "$1: expected '$2', got '$got'; output:
$(cat "$OUT")"
}

# expect_has NAME SUBSTRING
expect_has() {
	local got
	got=$(field "$1")
	case "$got" in
	*"$2"*) ;;
	*) fail "$1: expected to contain '$2', got '$got'; output:
$(cat "$OUT")" ;;
	esac
}

# --- allowed and violation (later file overrides field by field) ---
explain --exe /usr/bin/telegraf --dst 203.0.113.7:9273
expect outcome allowed
expect actions none
expect_has app "exe=telegraf ($T/etc/aegis.d/20-override.toml:"
ok "allowed: telegraf to 9273 (port from the overriding drop-in)"

explain --exe /usr/bin/telegraf --dst 203.0.113.7:8086
expect outcome violation
expect reason "remote port 8086 not in ports [9273]"
expect actions "log,notify"
expect_has detent "within 120 s"
ok "later file overrides: 8086 is no longer allowed"

# --- unconfigured ---
explain --exe /usr/bin/wget --dst 203.0.113.7:80
expect outcome unconfigured
expect rule unconfigured
expect actions log
expect_has app "none matches"
ok "unconfigured -> unconfigured_actions"

# --- whitelist: ips (v4, v6, v4-mapped), ports, programs (basename and path) ---
explain --exe /usr/bin/telegraf --dst 192.168.1.5:6666
expect outcome whitelisted
expect rule whitelist:ips
explain --exe /usr/bin/telegraf --dst '[fd12::1]:6666'
expect outcome whitelisted
explain --exe /usr/bin/telegraf --dst '[::ffff:192.168.1.5]:6666'
expect outcome whitelisted
# shown as the IPv4 peer it is, as the daemon reports it
grep -q '^connection: *out tcp 192.168.1.5 port 6666' "$OUT" || fail "v4-mapped peer not shown as IPv4: $(cat "$OUT")"
explain --exe /usr/bin/telegraf --dst 203.0.113.7:53 --proto udp
expect outcome whitelisted
expect rule whitelist:ports
explain --exe /lib/systemd/systemd-resolved --dst 203.0.113.7:853
expect outcome whitelisted
expect rule whitelist:programs
explain --exe /usr/lib/apt/methods/http --dst 203.0.113.7:80
expect outcome whitelisted
explain --exe /tmp/http --dst 203.0.113.7:80
expect outcome unconfigured
ok "whitelist ips/ports/programs"

# --- ignored ---
explain --exe /opt/chatty --dst 203.0.113.7:1
expect outcome ignored
expect actions none
ok "ignore = true"

# --- most specific wins: cmdline > path > exe ---
explain --exe /usr/bin/python3 --cmdline "python3 /srv/worker.py" --dst 127.0.0.1:443
expect app "cmdline=/worker\\.py/ ($T/etc/aegis.d/10-worker.toml:1)"
expect outcome violation
expect reason "local connections forbidden (local = false)"
grep -q "beats: *path=/usr/bin/python3" "$OUT" || fail "path entry not listed as beaten: $(cat "$OUT")"
grep -q "beats: *exe=python3" "$OUT" || fail "exe entry not listed as beaten"
explain --exe /usr/bin/python3 --cmdline "python3 other.py" --dst 203.0.113.7:8443
expect_has app "path=/usr/bin/python3"
expect outcome allowed
explain --exe /usr/local/bin/python3 --dst 203.0.113.7:8443
expect_has app "exe=python3"
expect outcome violation
expect reason "remote port 8443 not in ports [443]"
ok "most specific wins (cmdline > path > exe)"

# --- ties: later entry wins (exe+user in main vs exe+unit in a drop-in) ---
explain --exe /usr/bin/nc --user root --unit nc.service --dst 203.0.113.7:2222
expect rule "exe=nc unit=nc.service"
expect outcome allowed
grep -q "beats (tie): *exe=nc user=root" "$OUT" || fail "tie not shown: $(cat "$OUT")"
explain --exe /usr/bin/nc --user root --dst 203.0.113.7:2222
expect rule "exe=nc user=root"
expect outcome violation
explain --exe /usr/bin/nc --user nobody --dst 203.0.113.7:1111
expect outcome unconfigured
ok "equal specificity: the later entry wins; qualifiers must match"

# --- remotes: CIDR:port v4/v6, hostname resolved off the loop, locals ---
explain --exe /usr/bin/db-client --dst 10.1.200.3:5432
expect outcome allowed
expect reason "peer in remotes"
explain --exe /usr/bin/db-client --dst '[2001:db8:7::1]:5432'
expect outcome allowed
explain --exe /usr/bin/db-client --dst 10.2.0.1:5432
expect outcome violation
expect_has reason "remote 10.2.0.1 port 5432 not in remotes [10.1.0.0/16:5432, [2001:db8::/32]:5432, localhost:5432]"
expect actions "log,kill"
expect_has detent "kill"
grep -q "^host: *localhost -> .*127.0.0.1" "$OUT" || fail "localhost not resolved: $(cat "$OUT")"
explain --exe /usr/bin/db-client --dst 127.0.0.1:6379
expect outcome allowed
expect reason "port in locals"
explain --exe /usr/bin/db-client --dst 127.0.0.1:6380
expect outcome violation
expect reason "local 127.0.0.1 port 6380 not in locals [6379] or remotes [10.1.0.0/16:5432, [2001:db8::/32]:5432, localhost:5432]"
# locals restrict local peers; address/hostname remotes match local peers too
explain --exe /usr/bin/db-client --dst 127.0.0.1:5432
expect outcome allowed
expect reason "peer in remotes"
ok "remotes (v4, v6, hostnames) and locals"

# --- remotes only within loopback: local peers restricted, remote peers not ---
explain --exe /usr/bin/loopy --dst 127.0.0.1:8080
expect outcome allowed
explain --exe /usr/bin/loopy --dst 127.0.0.1:9090
expect outcome violation
expect reason "local 127.0.0.1 port 9090 not in remotes [127.0.0.1:8080]"
explain --exe /usr/bin/loopy --dst 203.0.113.7:9090
expect outcome allowed
expect reason "no allow list restricts remote peers"
# a loopback name restricts local peers like the address (the new user's
# remotes = ["localhost:8080"]: nc to 127.0.0.1:9090 is a violation)
explain --exe /usr/bin/loopyname --dst 127.0.0.1:8080
expect outcome allowed
explain --exe /usr/bin/loopyname --dst 127.0.0.1:9090
expect outcome violation
expect reason "local 127.0.0.1 port 9090 not in remotes [localhost:8080]"
explain --exe /usr/bin/loopyname --dst 203.0.113.7:9090
expect outcome allowed
# CIDR remotes outside loopback: remote peers restricted, local peers not
explain --exe /usr/bin/pgc --dst 127.0.0.1:5353
expect outcome allowed
expect reason "no allow list restricts local peers"
explain --exe /usr/bin/pgc --dst 8.8.8.8:5353
expect outcome violation
explain --exe /usr/bin/pgc --dst 10.1.2.3:5432
expect outcome allowed
ok "remotes restrict the classes of peers they name"

# --- exe aliases: /usr/bin/nc -> /etc/alternatives/nc -> /bin/nc.openbsd ---
[ -e /bin/nc.openbsd ] && [ "$(basename "$(readlink -f /usr/bin/nc)")" = nc.openbsd ] ||
	fail "this test needs netcat-openbsd (/usr/bin/nc -> nc.openbsd)"
explain --exe /bin/nc.openbsd --user root --dst 203.0.113.7:1111
expect rule "exe=nc user=root"
expect outcome allowed
grep -q '^exe aliases: exe = "nc" also matches nc.openbsd' "$OUT" ||
	fail "alias not shown: $(cat "$OUT")"
explain --exe /bin/nc.openbsd --user root --dst 203.0.113.7:1112
expect outcome violation
# argv[0] is not an identity
explain --exe /usr/bin/ncat --cmdline "nc 203.0.113.7 1111" --user root --dst 203.0.113.7:1111
expect outcome unconfigured
ok "exe = \"nc\" matches nc.openbsd (its alias), never argv[0]"

# --- incoming and listen ---
explain --exe /usr/bin/telegraf --direction in --dst 203.0.113.9:9273
expect outcome allowed
explain --exe /usr/bin/telegraf --direction in --dst 203.0.113.9:22
expect outcome violation
expect reason "incoming port 22 from remote 203.0.113.9 not in ports [9273]"
explain --exe /usr/bin/telegraf --direction listen --dst 0.0.0.0:9273
expect outcome allowed
explain --exe /usr/bin/telegraf --direction listen --dst 0.0.0.0:9274
expect outcome violation
expect reason "listen port 9274 not in ports [9273]"
ok "incoming and listen"

# --- detent off ---
sed -i 's/^detent = 120/detent = 0/' "$CFG"
explain --exe /usr/bin/telegraf --dst 203.0.113.7:1
expect_has detent "off"
ok "detent = 0 shown as off"

# --- exit codes ---
rc=0
"$AEGIS_BIN" explain -c "$CFG" --exe /usr/bin/x >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "missing --dst: exit $rc, expected 2"
rc=0
"$AEGIS_BIN" explain -c "$CFG" --exe /usr/bin/x --dst nonsense >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "bad --dst: exit $rc, expected 2"
# an unbracketed IPv6 address is ambiguous (2001:db8::1:80): refused, as in the config
rc=0
"$AEGIS_BIN" explain -c "$CFG" --exe /usr/bin/x --dst '2001:db8::1:80' >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "unbracketed IPv6 --dst: exit $rc, expected 2"
echo '[[app]]' >"$T/etc/aegis.d/99-bad.toml"
rc=0
"$AEGIS_BIN" explain -c "$CFG" --exe /usr/bin/x --dst 1.2.3.4:5 >/dev/null 2>&1 || rc=$?
[ $rc = 3 ] || fail "invalid config: exit $rc, expected 3"
"$AEGIS_BIN" explain --help | grep -q -- "--direction" || fail "--help"
ok "exit codes and --help"
