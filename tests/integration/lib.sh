# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Shared helpers for integration tests: real daemon, real BPF, real journald.
# Each test runs in a private mount namespace with its own /run (journald
# socket, control socket) so tests and concurrently running journald/aegis
# instances do not see each other. Source it first thing:
#
#   . "$(dirname "$0")/lib.sh"
#
# Environment (set by meson): AEGIS_BIN, AEGIS_SRCDIR, AEGIS_BUILDDIR.
# AEGIS_TEST_STRICT=1 (CI) turns every skip into a failure.

set -euo pipefail

: "${AEGIS_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${AEGIS_BUILDDIR:=$AEGIS_SRCDIR/build}"
: "${AEGIS_BIN:=$AEGIS_BUILDDIR/src/aegis}"
export AEGIS_BIN AEGIS_SRCDIR AEGIS_BUILDDIR
PY=/usr/bin/python3

# Re-exec in a private mount namespace (once).
if [ -z "${AEGIS_TEST_IN_NS:-}" ]; then
	if [ "$(id -u)" != 0 ]; then
		if [ "${AEGIS_TEST_STRICT:-0}" = 1 ]; then
			echo "FAIL: integration tests need root" >&2
			exit 1
		fi
		echo "SKIP: integration tests need root" >&2
		exit 77
	fi
	export AEGIS_TEST_IN_NS=1
	exec unshare -m --propagation private bash "$0" "$@"
fi

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/aegis-$TEST_NAME.XXXXXX")
chmod 0755 "$T"
mkdir -p /run/aegis /run/systemd/journal /run/log/journal
mount -t tmpfs -o mode=0755 tmpfs /run/aegis
mount -t tmpfs -o mode=0755 tmpfs /run/systemd/journal
mount -t tmpfs -o mode=0755 tmpfs /run/log/journal

_pids=()
# at_exit CMD: run CMD (eval'd) when the test exits, before the background
# processes are stopped, last registered first; the test's exit status stays.
_at_exit=()
at_exit() {
	_at_exit+=("$*")
}

_cleanup() {
	local rc=$? i
	set +e
	for ((i = ${#_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_at_exit[i]}"
	done
	for p in "${_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${_pids[@]}"; do
		timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null || kill -9 "$p" 2>/dev/null || true
	done
	if [ $rc != 0 ] && [ -z "${AEGIS_TEST_KEEP:-}" ]; then
		echo "--- $TEST_NAME failed (rc=$rc); daemon stderr tail:" >&2
		tail -n 30 "$T"/aegis.err 2>/dev/null >&2 || true
	fi
	[ -n "${AEGIS_TEST_KEEP:-}" ] && echo "kept $T" >&2 || rm -rf "$T"
	exit $rc
}
trap _cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	if [ "${AEGIS_TEST_STRICT:-0}" = 1 ]; then
		fail "would skip: $*"
	fi
	echo "SKIP: $*" >&2
	exit 77
}

ok() {
	echo "ok - $*"
}

# Track a background pid for cleanup.
bg_track() {
	_pids+=("$1")
}

# wait_for TIMEOUT_S CMD...: retries CMD every 50 ms until it succeeds.
wait_for() {
	local t=$1
	shift
	local end=$((SECONDS + t))
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}

# For wait_for (which re-runs its command; a "$(...)" argument would be
# evaluated only once, before the first try):
# output_is EXPECTED CMD...: CMD prints exactly EXPECTED.
output_is() {
	local want=$1
	shift
	[ "$("$@" 2>/dev/null)" = "$want" ]
}

# output_ge N CMD...: CMD prints a number >= N.
output_ge() {
	local n=$1 v
	shift
	v=$("$@" 2>/dev/null || true)
	[ "${v:-0}" -ge "$n" ]
}

# Start a private journald (volatile storage under our /run).
start_journald() {
	/lib/systemd/systemd-journald >"$T/journald.log" 2>&1 &
	bg_track $!
	wait_for 10 test -S /run/systemd/journal/socket || fail "journald did not start"
}

# journal_json [journalctl match args...]: all matching entries, JSON lines.
journal_json() {
	journalctl --no-pager -o json "$@" 2>/dev/null || true
}

# A root-owned config tree under $T: $T/etc/aegis.toml and $T/etc/aegis.d/.
# write_config <<'EOF' ... EOF writes the main file from stdin; the include
# dir and script dir are substituted for @DROPINS@ and @SCRIPTS@.
write_config() {
	mkdir -p "$T/etc/aegis.d" "$T/etc/scripts"
	chmod 0755 "$T/etc" "$T/etc/aegis.d" "$T/etc/scripts"
	sed -e "s|@DROPINS@|$T/etc/aegis.d|g" -e "s|@SCRIPTS@|$T/etc/scripts|g" \
		-e "s|@T@|$T|g" >"$T/etc/aegis.toml"
	chmod 0644 "$T/etc/aegis.toml"
}

# write_dropin NAME <<'EOF' ... EOF
write_dropin() {
	sed -e "s|@T@|$T|g" >"$T/etc/aegis.d/$1"
	chmod 0644 "$T/etc/aegis.d/$1"
}

# start_aegis [extra run args...]: starts `aegis run -c $T/etc/aegis.toml --json`
# with stdout in $T/aegis.out and stderr in $T/aegis.err (both emptied first),
# and waits until THIS daemon reports "aegis ready: pid PID," (stderr or journal).
start_aegis() {
	local cfg=()
	[ -f "$T/etc/aegis.toml" ] && cfg=(-c "$T/etc/aegis.toml")
	# Truncate here, not in the background child: a restarted daemon's old
	# "ready" line must not be read before the new one opened its files.
	: >"$T/aegis.out"
	: >"$T/aegis.err"
	"$AEGIS_BIN" run "${cfg[@]}" --json "$@" >>"$T/aegis.out" 2>>"$T/aegis.err" &
	AEGIS_PID=$!
	bg_track $AEGIS_PID
	local end=$((SECONDS + 30)) ready="aegis ready: pid $AEGIS_PID,"
	while :; do
		kill -0 $AEGIS_PID 2>/dev/null || fail "aegis exited during start-up: $(tail -5 "$T/aegis.err")"
		if grep -qF "$ready" "$T/aegis.err" 2>/dev/null; then break; fi
		if [ -S /run/systemd/journal/socket ] &&
			journal_json SYSLOG_IDENTIFIER=aegis | grep -qF "\"MESSAGE\":\"$ready"; then break; fi
		[ $SECONDS -lt $end ] || fail "aegis not ready after 30 s"
		sleep 0.05
	done
}

# stop_aegis: SIGTERM and wait; returns the daemon's exit status.
stop_aegis() {
	kill -TERM "$AEGIS_PID" 2>/dev/null || true
	local rc=0
	wait "$AEGIS_PID" || rc=$?
	return $rc
}

# records JQ_FILTER: JSON records from aegis.out selected by a jq filter (one per line).
records() {
	jq -c "select($1)" "$T/aegis.out" 2>/dev/null || true
}

# count_records JQ_FILTER
count_records() {
	records "$1" | wc -l
}

# wait_records N JQ_FILTER [TIMEOUT_S]: waits until at least N records match.
wait_records() {
	local n=$1 f=$2 t=${3:-10}
	local end=$((SECONDS + t))
	while [ "$(count_records "$f")" -lt "$n" ]; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

# http_server PORT [ADDR]: python http.server serving $T/www; pid in HTTP_PID.
http_server() {
	local port=$1 addr=${2:-127.0.0.1}
	mkdir -p "$T/www"
	echo hello >"$T/www/index.html"
	(cd "$T/www" && exec $PY -m http.server --bind "$addr" "$port") >"$T/http-$port.log" 2>&1 &
	HTTP_PID=$!
	bg_track $HTTP_PID
	local host=$addr
	[[ $addr == *:* ]] && host="[$addr]"
	wait_for 10 curl -sf -g -o /dev/null "http://$host:$port/" || fail "http server on $port did not start"
}
