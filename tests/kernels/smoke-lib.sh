# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared by the smoke scripts (smoke.sh, enforce-smoke.sh): a work dir $W,
# the daemon's pid in $A (killed on exit), net.ipv4.tcp_fastopen restored to
# $TFO_OLD on exit when set, fail and wait_until.
set -euo pipefail

# shellcheck disable=SC2034 # used by the scripts that source this
PY=/usr/bin/python3
W=$(mktemp -d /tmp/aegis-smoke.XXXXXX)
A=
TFO_OLD=
cleanup() {
	[ -n "$A" ] && kill "$A" 2>/dev/null || true
	[ -n "$TFO_OLD" ] && sysctl -qw net.ipv4.tcp_fastopen="$TFO_OLD" || true
	rm -rf "$W"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	echo "--- daemon stderr:" >&2
	grep -v 'libbpf:' "$W/err" | tail -20 >&2 || true
	exit 1
}
# wait_until SECS CMD...
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}
