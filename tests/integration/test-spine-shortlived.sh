#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 200 short-lived processes, each `sh -c 'exec python3 -c "...connect..." N'`:
# they exec (twice), connect once and exit at once. Every one must be reported
# with the python executable and its own exact cmdline, not sh's or empty.
. "$(dirname "$0")/lib.sh"

PORT=21040
N=200
PYEXE=$(readlink -f $PY)

start_aegis --no-config

# a listener with a backlog large enough that no connect has to wait for accept()
$PY -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1024)
while True:
    c, a = s.accept()
    c.close()' $PORT &
bg_track $!
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" || fail "listener did not start"

CODE="import socket; socket.create_connection((\"127.0.0.1\", $PORT)).close()"
: >"$T/expected"
for ((i = 0; i < N; i++)); do
	printf '%s\t%s\n' "$PYEXE" "$PY -c $CODE shortlived-$i" >>"$T/expected"
done
sort -o "$T/expected" "$T/expected"

# in waves of 25 concurrent processes (wait for those only: the listener and aegis run on)
wave=()
for ((i = 0; i < N; i++)); do
	sh -c "exec $PY -c '$CODE' shortlived-$i" &
	wave+=($!)
	if [ ${#wave[@]} = 25 ] || [ $i = $((N - 1)) ]; then
		for p in "${wave[@]}"; do
			wait "$p" || fail "client $p failed"
		done
		wave=()
	fi
done

sel=".direction==\"out\" and .proto==\"tcp\" and .dpt==$PORT and (.cmdline | contains(\"shortlived-\"))"
wait_records $N "$sel" 30 || fail "only $(count_records "$sel") of $N records"
sleep 0.5
records "$sel" | jq -r '[.exe, .cmdline] | @tsv' | sort >"$T/got"
if ! diff -u "$T/expected" "$T/got" >"$T/diff"; then
	head -20 "$T/diff" >&2
	fail "records differ from the $N expected (exe, cmdline) pairs"
fi
# nothing reported for these connections with another identity (sh, empty exe)
# (wait_for's bash probes above connect too)
BASH_EXE=$(readlink -f /bin/bash)
n=$(count_records ".direction==\"out\" and .dpt==$PORT and .exe != \"$PYEXE\" and .exe != \"$BASH_EXE\"")
[ "$n" = 0 ] || fail "$n records to $PORT with an exe other than $PYEXE: $(records ".dpt==$PORT and .exe != \"$PYEXE\"" | head -3)"
n=$(count_records ".direction==\"out\" and .dpt==$PORT and .exe == \"$PYEXE\"")
[ "$n" = $N ] || fail "$n python records to $PORT, expected $N"
ok "$N short-lived processes: $N records, each with exe $PYEXE and its own cmdline"

stop_aegis || fail "aegis exited with an error"
grep -iE "drop|lost" "$T/aegis.err" | grep -vE "\b0 (drops|dropped|lost)\b|drops[=:] ?0\b" >&2 || true
