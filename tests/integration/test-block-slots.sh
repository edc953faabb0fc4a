#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Incremental reloads write the same maps as a fresh start: a policy of 400
# apps goes through reloads that insert an app in front (every app index and,
# without stable set ids, every set id shifts), change one app's port, remove
# an app and change the whitelist; verdicts
# hold at each step, each change writes only a few map entries, the inactive
# slot is brought to the active policy in the background, and in the end
# both slots hold what a fresh daemon on the final config holds (compared by
# content: tests/integration/enf-dump.py).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/block-lib.sh"

DUMP="$(dirname "$0")/enf-dump.py"
blocked_exe blockme-py

write_config <<'EOF2'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
default_actions = ["log"]

[whitelist]
ips = ["10.250.0.0/24", "10.250.1.0/24", "10.250.2.0/24"]
EOF2

many() { # many FIRST-PORT: 400 apps with 6 remotes each
	$PY - "$1" <<'EOF2'
import sys
p = int(sys.argv[1])
for a in range(400):
    r = ['"10.%d.%d.0/24:%d"' % (a // 200, (a * 6 + k) % 256, p + k % 3) for k in range(6)]
    print('[[app]]\nexe = "many-app-%d"\nremotes = [%s]\nports = ["%d"]\nactions = ["block"]\n'
          % (a, ", ".join(r), 9000 + a % 7))
EOF2
}
many 1000 | write_dropin 40-many.toml
write_dropin 50-blockme.toml <<'EOF2'
[[app]]
exe = "blockme-py@X@"
remotes = ["127.0.0.1:24601"]
actions = ["block"]
EOF2

start_server tcp,4,127.0.0.1,24601 tcp,4,127.0.0.1,24602
enf_start
expect OK blockme-py tcp 4 127.0.0.1 24601
expect EPERM blockme-py tcp 4 127.0.0.1 24602

# map writes of the last "Enforcement policy N applied" line
writes() {
	enf_log | grep -o 'Enforcement policy [0-9]* applied.* map writes' | tail -1 |
		sed -E 's/.*, ([0-9]+) map writes/\1/'
}
dump() {
	$PY "$DUMP" "$AEGIS_PID"
}
# both slots hold the same entries (the background mirror finished)
slots_equal() {
	dump | jq -e '.slots[0] | del(.hdr)' >"$T/s0" &&
		dump | jq -e '.slots[1] | del(.hdr)' >"$T/s1" && cmp -s "$T/s0" "$T/s1"
}
step() { # step WHAT MAX-WRITES
	enf_reload
	local w
	w=$(writes)
	[ -n "$w" ] && [ "$w" -le "$2" ] || fail "$1: $w map writes (at most $2 expected)"
	[ "$(enf_status_field .last_map_writes)" = "$w" ] ||
		fail "$1: aegis status says $(enf_status_field .last_map_writes) map writes, the log $w"
	wait_for 20 slots_equal || fail "$1: the inactive slot did not catch up"
	ok "$1: $w map writes, both slots equal"
}

wait_for 20 slots_equal || fail "the start's policy did not reach the second slot"
start_writes=$(writes)
ok "start: $start_writes map writes, both slots equal"

# an app in front: every app index shifts
write_dropin 00-first.toml <<'EOF2'
[[app]]
exe = "first-app@X@"
remotes = ["10.99.0.0/16:8443"]
actions = ["block"]
EOF2
# (rule ids are app indexes: each app's rule and id entry move, nothing else)
step "an app inserted in front" $((2 * 402 + 20))
expect OK blockme-py tcp 4 127.0.0.1 24601
expect EPERM blockme-py tcp 4 127.0.0.1 24602

# one app's remotes port changed
sed -i '0,/:1001"/s//:1501"/' "$T/etc/aegis.d/40-many.toml"
step "one app's port changed" 40

# the blocked app's allowance moves: the verdicts swap
sed -i 's/:24601"/:24602"/' "$T/etc/aegis.d/50-blockme.toml"
step "the blocked app's remote changed" 40
expect EPERM blockme-py tcp 4 127.0.0.1 24601
expect OK blockme-py tcp 4 127.0.0.1 24602

# an app removed, the whitelist changed
rm "$T/etc/aegis.d/00-first.toml"
step "an app removed" $((2 * 402 + 20))
sed -i 's|"10.250.1.0/24"|"10.250.1.0/25"|' "$T/etc/aegis.toml"
step "a whitelist entry changed" 40
expect EPERM blockme-py tcp 4 127.0.0.1 24601
expect OK blockme-py tcp 4 127.0.0.1 24602

# what a fresh daemon on the final config holds
dump | jq -S '.slots[.gen]' >"$T/reloaded.json"
stop_aegis
enf_start
dump | jq -S '.slots[.gen]' >"$T/fresh.json"
if ! cmp -s "$T/reloaded.json" "$T/fresh.json"; then
	diff <(jq . "$T/reloaded.json") <(jq . "$T/fresh.json") | head -20
	fail "after the reloads the active slot differs from a fresh start's"
fi
ok "after the reloads the active slot holds what a fresh start's does ($(jq '.n_cidr_entries' "$T/fresh.json") CIDR entries, $(jq '.rules | length' "$T/fresh.json") rules)"
expect EPERM blockme-py tcp 4 127.0.0.1 24601
expect OK blockme-py tcp 4 127.0.0.1 24602
