#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fail mode. Default: kill -9 of the daemon ends enforcement (links die with
# its fds). enforce_persist = true: enforcement survives kill -9 (pinned in
# bpffs), a restarted daemon adopts the pinned links (one attachment, not
# two), and --detach-enforcement removes it cleanly. Attachments are counted
# by program id (block-lib.sh), pins live in this test's own
# $AEGIS_BPFFS_DIR.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/block-lib.sh"

blocked_exe blockme-py

config() {
	write_config <<EOF2
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
default_actions = ["log"]
enforce_persist = $1
EOF2
	write_dropin 50-block.toml <<'EOF2'
[[app]]
exe = "blockme-py@X@"
ports = ["24301"]
actions = ["block"]
EOF2
}

detach() {
	if [ -n "$ENF_DRIVER" ]; then
		"$ENF_DRIVER" --detach
	else
		"$AEGIS_BIN" run --detach-enforcement
	fi
}

kill9() {
	kill -9 "$AEGIS_PID"
	wait "$AEGIS_PID" 2>/dev/null || true
}

start_server tcp,4,127.0.0.1,24301 tcp,4,127.0.0.1,24302

# --- default: fail-open
config false
enf_start
expect EPERM blockme-py tcp 4 127.0.0.1 24302
ID=$(my_connect4_id)
[ -n "$ID" ] || fail "no attached program of the daemon found"
[ ! -e "$AEGIS_BPFFS_DIR" ] || fail "default mode pinned something in $AEGIS_BPFFS_DIR"
kill9
wait_for 5 output_is 0 n_attached "$ID" || fail "program $ID still attached after kill -9 (default mode)"
expect OK blockme-py tcp 4 127.0.0.1 24302
ok "default mode: kill -9 ends enforcement"

# --- persist: fail-closed
config true
enf_start
expect EPERM blockme-py tcp 4 127.0.0.1 24302
ID1=$(my_connect4_id)
[ -e "$AEGIS_BPFFS_DIR/link_connect4" ] || fail "persist mode: no pinned link"
kill9
sleep 0.2
[ "$(n_attached "$ID1")" = 1 ] || fail "persist mode: program $ID1 attached $(n_attached "$ID1") times after kill -9"
expect EPERM blockme-py tcp 4 127.0.0.1 24302
expect OK blockme-py tcp 4 127.0.0.1 24301
ok "persist mode: enforcement survives kill -9"

# restart: adopts (its program replaces the old one in the pinned link), no second attach
enf_start
ID2=$(my_connect4_id)
[ "$(n_attached "$ID2")" = 1 ] || fail "restarted daemon: its program is attached $(n_attached "$ID2") times"
[ "$(n_attached "$ID1")" = 0 ] || fail "restarted daemon: the old program $ID1 is still attached (two sets)"
[ "$(bpftool -j link show pinned "$AEGIS_BPFFS_DIR/link_connect4" | jq .prog_id)" = "$ID2" ] ||
	fail "the pinned link does not run the restarted daemon's program"
enf_log | grep -q "Enforcement adopted" || fail "restarted daemon did not report adopted links: $(enf_log | tail -5)"
if [ -n "$ENF_DRIVER" ]; then
	grep -q "adopted=1" "$T/aegis.out" || fail "status does not say adopted"
else
	[ "$(enf_status_field .adopted)" = true ] || fail "aegis status does not say adopted"
	[ "$(enf_status_field .pinned)" = true ] || fail "aegis status does not say pinned"
fi
expect EPERM blockme-py tcp 4 127.0.0.1 24302
expect OK blockme-py tcp 4 127.0.0.1 24301
ok "restarted daemon adopted the pinned links (one attachment)"

# the adopted maps are live: a reload through the adopted links takes effect
write_dropin 50-block.toml <<'EOF2'
[[app]]
exe = "blockme-py@X@"
ports = ["24302"]
actions = ["block"]
EOF2
enf_reload
wait_for 5 output_is OK try blockme-py tcp 4 127.0.0.1 24302 || fail "reload after adoption did not apply"
expect EPERM blockme-py tcp 4 127.0.0.1 24301
ok "reload after adoption applies"

# kill -9 again, then a start with enforce_persist = false replaces the
# pinned enforcement by a plain (fail-open) one: still one attachment
kill9
config false
enf_start
ID3=$(my_connect4_id)
[ "$(n_attached "$ID2")" = 0 ] || fail "persist -> default: the pinned program is still attached"
[ "$(n_attached "$ID3")" = 1 ] || fail "persist -> default: $(n_attached "$ID3") attachments"
[ ! -e "$AEGIS_BPFFS_DIR" ] || fail "persist -> default: pins left in $AEGIS_BPFFS_DIR"
expect EPERM blockme-py tcp 4 127.0.0.1 24302
stop_aegis || true
[ "$(n_attached "$ID3")" = 0 ] || fail "persist -> default: still attached after stop"
ok "a start without enforce_persist removes pinned enforcement"

# persist again; a clean stop keeps pinned enforcement; --detach-enforcement removes it
config true
enf_start
expect EPERM blockme-py tcp 4 127.0.0.1 24302
ID4=$(my_connect4_id)
stop_aegis || true
[ "$(n_attached "$ID4")" = 1 ] || fail "persist mode: stop detached the programs"
detach >"$T/detach.out" 2>&1 || fail "detach failed: $(cat "$T/detach.out")"
[ "$(n_attached "$ID4")" = 0 ] || fail "still attached after --detach-enforcement"
[ ! -e "$AEGIS_BPFFS_DIR" ] || fail "$AEGIS_BPFFS_DIR left behind"
expect OK blockme-py tcp 4 127.0.0.1 24302
ok "--detach-enforcement removes pinned enforcement"
