#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A process whose argv holds ", \, a newline, $(...), backquotes, control
# bytes, invalid UTF-8 and 64 KiB of arguments connects: its JSON line must be
# valid JSON and valid UTF-8, with exe right and the cmdline truncated as
# documented (record.h/json.h): the first AEGIS_ARGV_MAX (4096) bytes of argv
# joined by spaces, cmdline_truncated true, invalid bytes as the text \xNN.
. "$(dirname "$0")/lib.sh"

PORT=21050
PYEXE=$(readlink -f $PY)

start_aegis --no-config

CODE="import socket; socket.create_connection((\"127.0.0.1\", $PORT)).close()"
$PY -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
while True:
    s.accept()[0].close()' $PORT &
bg_track $!
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" || fail "listener did not start"

big=$(head -c 1024 /dev/zero | tr '\0' A)
hostile=(
	'say "hi"'
	'back\slash\'
	$'new\nline'
	"\$(touch $T/pwned)"
	"\`touch $T/pwned2\`"
	$'ctl\x01\x02\x1b[31m\x7f\t'
	$'bad\xff\xfe\xc0\xaf\xed\xa0\x80\xe2\x82utf8'
	$'ok-\xc3\xa9\xe2\x82\xac'
)
for ((i = 0; i < 64; i++)); do hostile+=("$big"); done

# the argv as the kernel sees it, for the checker
{
	printf '%s\0' "$PY" -c "$CODE" "${hostile[@]}"
} >"$T/argv"

$PY -c "$CODE" "${hostile[@]}" &
cpid=$!
wait $cpid || fail "hostile client failed"

sel=".direction==\"out\" and .dpt==$PORT and .pid==$cpid"
wait_records 1 "$sel" 10 || fail "no record for the hostile process (or its line is not valid JSON)"
[ ! -e "$T/pwned" ] && [ ! -e "$T/pwned2" ] || fail "something ran the \$(...) or backquotes"

# every line of the output, strictly: UTF-8, JSON; and the hostile record's values
$PY - "$T/aegis.out" "$T/argv" "$cpid" "$PYEXE" <<'EOF' || fail "hostile record check failed"
import json, re, sys

out, argv_path, pid, exe = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
raw = open(out, "rb").read()
text = raw.decode("utf-8", "strict")  # raises on invalid UTF-8
recs = []
for n, line in enumerate(text.split("\n")):
    if not line:
        continue
    if any(ord(ch) < 0x20 for ch in line):
        sys.exit(f"line {n + 1}: raw control character")
    recs.append(json.loads(line))  # raises on invalid JSON
mine = [r for r in recs if r.get("pid") == pid and r.get("direction") == "out"]
if len(mine) != 1:
    sys.exit(f"{len(mine)} records for pid {pid}")
r = mine[0]
if r["exe"] != exe:
    sys.exit(f"exe {r['exe']!r} != {exe!r}")
if r["cmdline_truncated"] is not True:
    sys.exit("cmdline_truncated is not true for 64 KiB of arguments")

# undo the documented escaping: "\xNN" (NN >= 80) is the byte NN
s, got, i = r["cmdline"], bytearray(), 0
while i < len(s):
    m = re.match(r"\\x([89a-f][0-9a-f])", s[i:i + 4])
    if m:
        got.append(int(m.group(1), 16))
        i += 4
    else:
        got += s[i].encode("utf-8")
        i += 1
argv = open(argv_path, "rb").read()
full = argv.rstrip(b"\0").replace(b"\0", b" ")
if not full.startswith(bytes(got)):
    sys.exit(f"cmdline is not a prefix of the real argv: {bytes(got)[:200]!r}")
if not 3000 <= len(got) <= 4096:
    sys.exit(f"cmdline holds {len(got)} bytes, expected the first ~4096")
# all the hostile parts come before the cut and must be there byte for byte
head = b" ".join(argv.split(b"\0")[:11])
if not bytes(got).startswith(head):
    sys.exit("the hostile arguments are not intact")
print(f"# cmdline: {len(got)} bytes of {len(full)}, truncated as documented")
EOF
ok "hostile argv: every line valid JSON and UTF-8, cmdline exact up to the documented cut"

# jq (what SIEM users run) parses the record too
records "$sel" | jq -e '.cmdline | contains("$(touch") and contains("`touch") and contains("\n")' \
	>/dev/null || fail "jq does not see the hostile cmdline"
ok "jq parses the hostile record"

stop_aegis || fail "aegis exited with an error"

# the same process against the text output: one line, escaped, marked truncated
"$AEGIS_BIN" run --no-config >"$T/text.out" 2>"$T/text.err" &
AEGIS_PID=$!
bg_track $AEGIS_PID
wait_for 30 grep -q "aegis ready: pid" "$T/text.err" || fail "text-mode aegis not ready: $(tail -3 "$T/text.err")"
$PY -c "$CODE" "${hostile[@]}" &
cpid=$!
wait $cpid || fail "hostile client failed"
wait_for 10 grep -q " pid=$cpid " "$T/text.out" || fail "no text line for pid $cpid"
stop_aegis || fail "text-mode aegis exited with an error"
$PY - "$T/text.out" "$cpid" <<'EOF' || fail "hostile text line check failed"
import sys
raw = open(sys.argv[1], "rb").read()
lines = [l for l in raw.split(b"\n") if b" pid=%s " % sys.argv[2].encode() in l]
if len(lines) != 1:
    sys.exit(f"{len(lines)} lines for the hostile pid")
l = lines[0]
l.decode("utf-8", "strict")
if any(b < 0x20 or b == 0x7f for b in l):
    sys.exit("raw control byte in the text line")
for want in (rb'say \"hi\"', rb"back\\slash\\", rb"new\nline", rb"$(touch", rb"`touch",
             rb"ctl\x01\x02\x1b[31m\x7f\t", rb"bad\xff\xfe\xc0\xaf\xed\xa0\x80\xe2\x82utf8",
             "ok-\u00e9\u20ac".encode(), b'AAAA"[truncated]'):
    if want not in l:
        sys.exit(f"{want!r} not in the text line: {l[:300]!r}")
EOF
ok "hostile argv in the text output: one line, every byte escaped, [truncated]"
