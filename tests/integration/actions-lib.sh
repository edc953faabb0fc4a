# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Helpers for the test-actions-*.sh tests (source after lib.sh).

# MESSAGE_IDs from src/actions.h
MID_VIOLATION=4698d7b0e71c47bfb8655b1a6bb8bf91
MID_UNCONFIGURED=bd6e912aebf9461892369f4de519e170
MID_KILL=f1a65a382d3943d4b2b457672d6059be
MID_NOTIFY=17366eb437b040e8a929df7bb42c35dc
MID_SCRIPT_EXIT=9755730d908a44f58ccfda092d115a76

# A word in the argv of every test client: the policy matches it by cmdline,
# so other programs on the machine (other tests, other daemons) never match.
MARKER="aegis-actions-test-$$-$RANDOM"
PYEXE=$(readlink -f "$PY")

# client PORT WAIT_S [ARGS...]: python connects to 127.0.0.1:PORT (refused is
# fine), waits, exits; runs in the background, pid in CLIENT_PID.
client() {
	local port=$1 wait=$2
	shift 2
	$PY -c '
import socket, sys, time
s = socket.socket()
s.settimeout(3)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    pass
time.sleep(float(sys.argv[2]))' "$port" "$wait" "$MARKER" "$@" &
	CLIENT_PID=$!
}

# client_many FIRST_PORT N: one python process connecting once to each of N
# ports (all refused): N distinct violations at once. pid in CLIENT_PID.
client_many() {
	$PY -c '
import socket, sys
first, n = int(sys.argv[1]), int(sys.argv[2])
for p in range(first, first + n):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", p))
    except OSError:
        pass
    s.close()' "$1" "$2" "$MARKER" &
	CLIENT_PID=$!
}

# tcp_sink PORT FILE: accepts connections, appends every byte received to FILE.
tcp_sink() {
	: >"$2"
	$PY -c '
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1])))
srv.listen(64)
def serve(c):
    while True:
        b = c.recv(4096)
        if not b:
            break
        with open(sys.argv[2], "ab") as f:
            f.write(b)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()' "$1" "$2" &
	bg_track $!
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" || fail "tcp sink on $1 did not start"
}

# receiver PORT OUT [ARGS...]: tests/integration/webhook-receiver.py in the background.
receiver() {
	local port=$1 out=$2
	shift 2
	: >"$out"
	$PY "$AEGIS_SRCDIR/tests/integration/webhook-receiver.py" --port "$port" --out "$out" "$@" &
	bg_track $!
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || fail "receiver on $port did not start"
}

# jentries MATCHES...: journal entries (JSON lines) of aegis matching all MATCHES.
jentries() {
	journal_json SYSLOG_IDENTIFIER=aegis "$@"
}

# wait_journal N TIMEOUT MATCHES...: until at least N entries match.
wait_journal() {
	local n=$1 t=$2
	shift 2
	local end=$((SECONDS + t))
	while [ "$(jentries "$@" | wc -l)" -lt "$n" ]; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

# install_script NAME <<'EOF' ... EOF: a root-owned 0755 hook in $T/etc/scripts.
install_script() {
	sed -e "s|@T@|$T|g" >"$T/etc/scripts/$1"
	chmod 0755 "$T/etc/scripts/$1"
}
