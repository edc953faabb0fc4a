# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Helpers for the enforcement tests (test-block-*.sh); source after lib.sh.
#
# Safety: the cgroup programs sit on the cgroup-v2 root and see every process
# of the host, so these tests only ever block copies of python3 under
# private names ($T/blockme-py, ...) and only ports 24000-24999, and they
# always remove pinned enforcement on exit.
#
# The daemon is `aegis run` (start_aegis). For developing enforce.c before it
# is wired into the daemon, AEGIS_ENFORCE_DRIVER=path/to/enforce-driver runs
# the harness built from tests/enforce-driver.c instead.

ENF_DRIVER=${AEGIS_ENFORCE_DRIVER:-}
BLOCK_PY=/usr/bin/python3.11
[ -x "$BLOCK_PY" ] || BLOCK_PY=$(readlink -f /usr/bin/python3)

# Pins of this test only (enforce.c honours $AEGIS_BPFFS_DIR under /sys/fs/bpf/):
# daemons of other test suites running meanwhile neither adopt nor remove them.
export AEGIS_BPFFS_DIR=/sys/fs/bpf/aegis-test-$$

_enf_cleanup() {
	# never leave pinned enforcement behind
	if [ -n "$ENF_DRIVER" ]; then
		"$ENF_DRIVER" --detach >/dev/null 2>&1 || true
	else
		timeout 10 "$AEGIS_BIN" run --detach-enforcement >/dev/null 2>&1 || true
	fi
	rm -rf "$AEGIS_BPFFS_DIR" 2>/dev/null || true
}
at_exit _enf_cleanup

command -v bpftool >/dev/null || skip "bpftool missing"
CGROOT=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
[ -n "$CGROOT" ] || skip "no cgroup2 mount"

# Names of the blocked copies carry a suffix unique to this run ($X), so
# that runs of these tests side by side (other checkouts, CI) never block
# each other's programs. Config text says NAME@X@ (write_config and
# write_dropin substitute it), shell code "$T/NAME$X"; try/expect append it.
X="-${T##*.}"
write_config() {
	mkdir -p "$T/etc/aegis.d" "$T/etc/scripts"
	chmod 0755 "$T/etc" "$T/etc/aegis.d" "$T/etc/scripts"
	sed -e "s|@DROPINS@|$T/etc/aegis.d|g" -e "s|@SCRIPTS@|$T/etc/scripts|g" \
		-e "s|@T@|$T|g" -e "s|@X@|$X|g" >"$T/etc/aegis.toml"
	chmod 0644 "$T/etc/aegis.toml"
}
write_dropin() {
	sed -e "s|@T@|$T|g" -e "s|@X@|$X|g" >"$T/etc/aegis.d/$1"
	chmod 0644 "$T/etc/aegis.d/$1"
}

# blocked_exe NAME: a private copy of python3 as $T/NAME$X (the only thing the tests block).
blocked_exe() {
	cp "$BLOCK_PY" "$T/$1$X"
	chmod 0755 "$T/$1$X"
}

# The client: client.py MODE FAMILY HOST PORT [WAITFILE]
#  MODE tcp | udpconnect | udpsendto; prints OK or the errno name, one line.
#  With WAITFILE, waits until it exists first (a process started before aegis).
cat >"$T/client.py" <<'EOF'
import errno, os, socket, sys, time
mode, fam, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if len(sys.argv) > 5:
    while not os.path.exists(sys.argv[5]):
        time.sleep(0.02)
af = socket.AF_INET6 if fam == '6' else socket.AF_INET
try:
    if mode == 'tcp':
        s = socket.socket(af, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect((host, port))
        s.sendall(b'x')
    elif mode == 'udpconnect':
        s = socket.socket(af, socket.SOCK_DGRAM)
        s.connect((host, port))
        s.send(b'x')
    else:
        s = socket.socket(af, socket.SOCK_DGRAM)
        s.sendto(b'x', (host, port))
    print('OK', flush=True)
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)), flush=True)
EOF

# The server: counts TCP connections and UDP datagrams per "proto:family:port"
# into $T/count.<proto><family>.<port> (rewritten on every event).
cat >"$T/server.py" <<'EOF'
import os, select, socket, sys
out, specs = sys.argv[1], sys.argv[2:]
socks = {}
for spec in specs:
    proto, fam, host, port = spec.split(',')
    af = socket.AF_INET6 if fam == '6' else socket.AF_INET
    s = socket.socket(af, socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    if proto == 'tcp':
        s.listen(128)
    name = '%s/count.%s%s.%s' % (out, proto, fam, port)
    open(name, 'w').write('0\n')
    socks[s] = [proto, name, 0]
open(out + '/server.ready', 'w').close()
while True:
    r, _, _ = select.select(list(socks), [], [])
    for s in r:
        proto, name, n = socks[s]
        if proto == 'tcp':
            c, _ = s.accept()
            c.close()
        else:
            s.recvfrom(65536)
        socks[s][2] = n + 1
        open(name + '.tmp', 'w').write('%d\n' % (n + 1))
        os.rename(name + '.tmp', name)
EOF

# start_server SPEC... (SPEC = proto,family,host,port); waits until bound.
start_server() {
	rm -f "$T/server.ready"
	"$BLOCK_PY" "$T/server.py" "$T" "$@" >"$T/server.log" 2>&1 &
	bg_track $!
	wait_for 10 test -e "$T/server.ready" || fail "server did not start: $(cat "$T/server.log")"
}

# server_count proto family port
server_count() {
	cat "$T/count.$1$2.$3"
}

# try EXE MODE FAMILY HOST PORT: one attempt of $T/EXE$X; prints OK / EPERM / ...
try() {
	local exe=$1
	shift
	"$T/$exe$X" "$T/client.py" "$@" 2>&1 | tail -1
}

# expect RESULT EXE MODE FAMILY HOST PORT
expect() {
	local want=$1
	shift
	local got
	got=$(try "$@")
	[ "$got" = "$want" ] || fail "$* -> $got, expected $want"
	ok "$* -> $got"
}

# Attachments are counted by program id, so that daemons of other test
# suites running at the same time (with block rules of their own) do not
# count: my_ids lists the BPF programs the daemon holds (its fds), n_attached
# counts how often those (or the given ids) are attached to the root's
# connect4 hook.
_attached_connect4_ids() {
	bpftool -j cgroup show "$CGROOT" 2>/dev/null | jq -r '.[] | select(.name == "enf_connect4") | .id'
}
my_ids() {
	grep -h '^prog_id:' /proc/"$AEGIS_PID"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u
}
# my_connect4_id: the id of the daemon's attached connect4 program (empty if none).
my_connect4_id() {
	local a i
	for a in $(_attached_connect4_ids); do
		for i in $(my_ids); do
			[ "$a" = "$i" ] && echo "$a" && return 0
		done
	done
	return 0
}
# n_attached [ID...]: attachments of these program ids (default: the running daemon's).
n_attached() {
	local ids a i n=0
	if [ $# -gt 0 ]; then ids="$*"; else ids=$(my_ids); fi
	for a in $(_attached_connect4_ids); do
		for i in $ids; do
			[ "$a" = "$i" ] && n=$((n + 1))
		done
	done
	echo $n
}

# enf_start [attach-later]: the daemon (or the driver), enforcement attached
# (with attach-later: not checked, the policy blocks nothing yet).
enf_start() {
	local check=1
	[ "${1:-}" = attach-later ] && check=0
	# a restart must not see the previous run's "ready"
	: >"$T/aegis.out"
	: >"$T/aegis.err"
	if [ -n "$ENF_DRIVER" ]; then
		"$ENF_DRIVER" "$T/etc/aegis.toml" >"$T/aegis.out" 2>"$T/aegis.err" &
		AEGIS_PID=$!
		bg_track $AEGIS_PID
		wait_for 30 grep -q '^ready' "$T/aegis.out" ||
			fail "driver not ready: $(tail -5 "$T/aegis.err")"
	else
		start_aegis
	fi
	[ $check = 0 ] || [ "$(n_attached)" -ge 1 ] || fail "no enforcement program attached to $CGROOT"
}

# Reloads handled so far: the driver says "reloaded"/"reload failed"; the
# daemon logs "Enforcement policy N applied" (enforce.c) or "Reload of ... failed".
_n_reloads() {
	if [ -n "$ENF_DRIVER" ]; then
		grep -c -E '^(reloaded|reload failed|apply failed)' "$T/aegis.out" || true
	else
		enf_log | grep -c -E 'Enforcement policy [0-9]+ applied|Reload of .* failed' || true
	fi
}
_reloaded_since() {
	[ "$(_n_reloads)" -gt "$1" ]
}

# enf_reload: SIGHUP, then wait until the daemon handled it.
enf_reload() {
	local before
	before=$(_n_reloads)
	kill -HUP "$AEGIS_PID"
	wait_for 10 _reloaded_since "$before" || fail "reload not handled: $(enf_log | tail -3)"
}

# enf_status_field JQ: a field of the daemon's enforcement status (aegis status --json).
enf_status_field() {
	"$AEGIS_BIN" status --json 2>/dev/null | jq -r ".enforcement$1"
}

# enf_log: what the daemon said (stderr + journal messages).
enf_log() {
	cat "$T/aegis.err" "$T/aegis.out" 2>/dev/null
	journal_json SYSLOG_IDENTIFIER=aegis | jq -r .MESSAGE 2>/dev/null || true
}
