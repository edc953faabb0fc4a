#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In-kernel blocking on this kernel (natively or in a guest booted by
# ../shared/kernels/run-in-kernel.sh): a block rule for python3 with one
# allowed remote port refuses the other port with EPERM and lets the allowed
# one through (ECONNREFUSED: nothing listens); a reload swapping the two
# ports swaps the verdicts (a change written in place into the inactive
# slot, then the flip); a second swap after the background mirror, too.
#
#   enforce-smoke.sh AEGIS_BIN
#
# Exit 0 on success ("ENFORCE OK"); prints "FAIL: ..." and exits 1 otherwise.
set -euo pipefail

BIN=$1
PORT=${SMOKE_PORT:-20190}
. "$(dirname "$0")/smoke-lib.sh"
# try PORT: EPERM (refused in the kernel) or ECONNREFUSED (allowed, nothing listens)
try() {
	$PY -c '
import errno, socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))' "$1"
}
config() { # config ALLOWED_PORT
	cat >"$W/aegis.toml" <<CONF
[global]
include_dirs = []
script_dirs = []
default_actions = ["log"]
unconfigured_actions = ["log"]

[[app]]
exe = "$(basename "$(readlink -f $PY)")"
remotes = ["127.0.0.1:$1"]
actions = ["block", "log"]
CONF
}
expect() { # expect ALLOWED BLOCKED
	local a b
	a=$(try "$1") b=$(try "$2")
	[ "$a" = ECONNREFUSED ] || fail "port $1 should be allowed: $a"
	[ "$b" = EPERM ] || fail "port $2 should be refused: $b"
}
reloads_above() {
	[ "$(grep -c 'Reloaded' "$W/err")" -gt "$1" ]
}
reload() {
	local n
	n=$(grep -c 'Reloaded' "$W/err" || true)
	kill -HUP "$A"
	wait_until 120 reloads_above "$n" || fail "no reload"
}

config $PORT
"$BIN" run -c "$W/aegis.toml" -q >/dev/null 2>"$W/err" &
A=$!
wait_until 120 grep -q "aegis ready" "$W/err" || fail "daemon not ready"
expect $PORT $((PORT + 1))
echo "kernel $(uname -r): the start's policy blocks"
config $((PORT + 1))
reload
expect $((PORT + 1)) $PORT
# the now inactive slot is brought to the active policy in the background
sleep 1
config $PORT
reload
expect $PORT $((PORT + 1))
grep -o 'Enforcement policy 3 applied.*map writes' "$W/err" || fail "no policy 3 line"
echo "reloads swap the verdicts"
kill -TERM "$A"
rc=0
wait "$A" || rc=$?
A=
[ $rc = 0 ] || fail "daemon exited with $rc"
echo "ENFORCE OK"
