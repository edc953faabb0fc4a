#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The identities the kernel matches: path = (inode/device of the file, not
# its name), user = (uid), unit = (the unit's cgroup, also for processes in
# sub-cgroups of it), and exe + user combined.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/block-lib.sh"

blocked_exe pathme-py
mkdir -p "$T/sub"
cp "$BLOCK_PY" "$T/sub/pathme-py$X"
blocked_exe userme-py
blocked_exe unitme-py
id nobody >/dev/null 2>&1 || skip "no user nobody"
command -v setpriv >/dev/null || skip "setpriv missing"
chmod 0755 "$T" "$T/sub"
chmod 0644 "$T/client.py"

UNIT=aegis-enf-test-$$.service
CG="$CGROOT/$UNIT"
mkdir "$CG" || skip "cannot create a cgroup under $CGROOT"
mkdir "$CG/sub"
_unit_cleanup() {
	rmdir "$CG/sub" "$CG" 2>/dev/null || true
}
at_exit _unit_cleanup

write_config <<'EOF2'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
default_actions = ["log"]
EOF2
write_dropin 50-id.toml <<EOF2
[[app]]
path = "$T/pathme-py$X"
ports = ["24901"]
actions = ["block"]

[[app]]
exe = "userme-py@X@"
user = "nobody"
ports = ["24901"]
actions = ["block"]

[[app]]
unit = "$UNIT"
ports = ["24901"]
actions = ["block"]
EOF2

start_server tcp,4,127.0.0.1,24901 tcp,4,127.0.0.1,24902
enf_start
if [ -z "$ENF_DRIVER" ]; then
	[ "$(enf_status_field .kernel_rules)" = 3 ] ||
		fail "expected 3 in-kernel rules, status: $(enf_status_field '')"
fi

# path: the file, not the name
expect EPERM pathme-py tcp 4 127.0.0.1 24902
got=$("$T/sub/pathme-py$X" "$T/client.py" tcp 4 127.0.0.1 24902)
[ "$got" = OK ] || fail "a different file with the same name was blocked: $got"
ok "path rule: same name elsewhere -> OK"

# user: nobody is blocked, root is not
got=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/userme-py$X" "$T/client.py" tcp 4 127.0.0.1 24902)
[ "$got" = EPERM ] || fail "userme-py as nobody -> $got, expected EPERM"
ok "user rule: userme-py as nobody -> EPERM"
expect OK userme-py tcp 4 127.0.0.1 24902

# unit: any exe in the unit's cgroup, and in its sub-cgroups
in_cgroup() {
	local cg=$1
	shift
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}
got=$(in_cgroup "$CG" "$T/unitme-py$X" "$T/client.py" tcp 4 127.0.0.1 24902)
[ "$got" = EPERM ] || fail "process in $UNIT -> $got, expected EPERM"
ok "unit rule: process in the unit's cgroup -> EPERM"
got=$(in_cgroup "$CG/sub" "$T/unitme-py$X" "$T/client.py" udpsendto 4 127.0.0.1 24902)
[ "$got" = EPERM ] || fail "process in $UNIT/sub -> $got, expected EPERM"
ok "unit rule: process in a sub-cgroup of the unit -> EPERM"
got=$(in_cgroup "$CG" "$T/unitme-py$X" "$T/client.py" tcp 4 127.0.0.1 24901)
[ "$got" = OK ] || fail "process in $UNIT to its allowed port -> $got"
expect OK unitme-py tcp 4 127.0.0.1 24902

sleep 0.2
[ "$(server_count tcp 4 24902)" = 3 ] || fail "server saw $(server_count tcp 4 24902) connections on 24902, expected 3"
ok "server saw only the allowed connections"
