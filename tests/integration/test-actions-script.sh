#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# script action: hooks get the record in their environment and nothing else;
# a hostile cmdline ($(...), ;, backquotes, newlines) is passed through and
# never executed; a hook that sleeps forever is killed at the timeout; 500
# violations at once never run more hooks than script_max; scripts that are
# group-writable are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/actions-lib.sh"

TARGET=23300
PWNED=/tmp/pwned-$MARKER

start_journald
tcp_sink $TARGET "$T/sink"

write_config <<TOML
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
detent = 0
unconfigured_actions = []
script_timeout = 1500
script_max = 3

[[app]]
cmdline = "$MARKER"
ports = ["1"]
actions = ["script"]
TOML
mkdir -p "$T/env"
# a python hook: dumps its whole environment as JSON, adds nothing itself
install_script 10-env <<'PY'
#!/usr/bin/python3
import json, os, sys
with open("@T@/env/%s.json" % os.environ["AEGIS_PID"], "w") as f:
    json.dump({"env": dict(os.environ), "argv": sys.argv, "stdin": sys.stdin.read(),
               "cwd": os.getcwd()}, f)
print("hello from 10-env")
PY
# a hook that never ends (through sh, so its child sleep must die with it)
install_script 20-sleep <<'SH'
#!/bin/sh
echo "sleeping $AEGIS_PID"
sleep 100000.4242
SH
# not executable: ignored; group-writable: refused
printf '#!/bin/sh\ntouch @T@/ran-readme\n' | sed "s|@T@|$T|" >"$T/etc/scripts/README"
chmod 0644 "$T/etc/scripts/README"

start_aegis
# check-config refuses it at load time; one appearing later is refused at run time
printf '#!/bin/sh\ntouch %s/ran-writable\n' "$T" >"$T/etc/scripts/30-writable"
chmod 0775 "$T/etc/scripts/30-writable"

hostile=$'x $(touch '"$PWNED"') ; touch '"$PWNED"'2 `touch '"$PWNED"'3`\nsecond "line" \x27q\x27 \\'
client $TARGET 0.2 "$hostile"
pid=$CLIENT_PID
wait $pid
wait_for 10 test -s "$T/env/$pid.json" || fail "10-env did not run for $pid"
$PY - "$T/env/$pid.json" "$pid" "$PY" "$PYEXE" "$hostile" "$MARKER" <<'CHECK' || fail "hook environment wrong"
import json, sys
d = json.load(open(sys.argv[1]))
env, pid, py, pyexe, hostile, marker = d["env"], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
allowed = {"PATH", "LANG"}
extra = [k for k in env if k not in allowed and not k.startswith("AEGIS_")]
assert not extra, f"variables not from aegis: {extra}"
assert env["PATH"] == "/usr/sbin:/usr/bin:/sbin:/bin", env["PATH"]
assert env["LANG"] == "C.UTF-8"
for k in ("PID", "EXE", "CMDLINE", "DST", "DPT", "SRC", "SPT", "PROTO", "DIRECTION", "UID",
          "USER", "UNIT", "RULE", "ACTIONS", "OUTCOME", "SUPPRESSED", "EVENT_JSON"):
    assert "AEGIS_" + k in env, "missing AEGIS_" + k
assert env["AEGIS_PID"] == pid
assert env["AEGIS_EXE"] == pyexe, env["AEGIS_EXE"]
assert env["AEGIS_DST"] == "127.0.0.1" and env["AEGIS_DPT"] == "23300"
assert env["AEGIS_PROTO"] == "tcp" and env["AEGIS_DIRECTION"] == "out"
assert env["AEGIS_OUTCOME"] == "violation" and env["AEGIS_ACTIONS"] == "script"
assert env["AEGIS_UID"] == "0" and env["AEGIS_USER"] == "root"
assert env["AEGIS_CMDLINE"].startswith(py + " -c "), env["AEGIS_CMDLINE"]
assert env["AEGIS_CMDLINE"].endswith(" " + marker + " " + hostile), repr(env["AEGIS_CMDLINE"])
ev = json.loads(env["AEGIS_EVENT_JSON"])
assert ev["cmdline"] == env["AEGIS_CMDLINE"] and ev["pid"] == int(pid) and ev["dpt"] == 23300
assert d["argv"] == [sys.argv[1].rsplit("/env/", 1)[0] + "/etc/scripts/10-env"], d["argv"]
assert d["stdin"] == "", "stdin is not /dev/null"
assert d["cwd"] == "/"
CHECK
ok "hook environment: only AEGIS_* + PATH + LANG, raw values, argv = [path], stdin empty"

# the hook's stdout reached the journal under its name
wait_for 10 bash -c "journalctl -o cat SYSLOG_IDENTIFIER=aegis-script-10-env | grep -q ." ||
	fail "hook output not in the journal as aegis-script-10-env"
journal_json SYSLOG_IDENTIFIER=aegis-script-10-env | jq -r .MESSAGE | grep "hello from 10-env" >/dev/null ||
	fail "hook output text missing"
ok "hook stdout in the journal, tagged aegis-script-10-env"

# the timeout: 20-sleep is killed, its sleep too
wait_journal 1 10 MESSAGE_ID=$MID_SCRIPT_EXIT AEGIS_PID=$pid AEGIS_SCRIPT=$T/etc/scripts/20-sleep ||
	fail "20-sleep not ended within 10 s (timeout 1.5 s)"
e=$(jentries MESSAGE_ID=$MID_SCRIPT_EXIT AEGIS_PID=$pid AEGIS_SCRIPT=$T/etc/scripts/20-sleep | head -1)
jq -e '.AEGIS_SCRIPT_TIMED_OUT == "1" and (.AEGIS_SCRIPT_STATUS | startswith("killed"))' <<<"$e" >/dev/null ||
	fail "20-sleep exit entry: $e"
sleep 0.5
pgrep -f "sleep 100000.4242" >/dev/null && fail "the hook's sleep survived the timeout"
ok "hanging hook killed at the timeout (with its children)"
jentries MESSAGE_ID=$MID_SCRIPT_EXIT AEGIS_PID=$pid AEGIS_SCRIPT=$T/etc/scripts/10-env |
	jq -e '.AEGIS_SCRIPT_STATUS == "exited 0"' >/dev/null || fail "10-env exit status not logged"
ok "exit status logged"

[ ! -e "$PWNED" ] && [ ! -e "${PWNED}2" ] && [ ! -e "${PWNED}3" ] || fail "the hostile cmdline was executed"
[ ! -e "$T/ran-readme" ] || fail "non-executable README ran"
[ ! -e "$T/ran-writable" ] || fail "group-writable hook ran"
{ cat "$T/aegis.err"; journalctl -o cat SYSLOG_IDENTIFIER=aegis 2>/dev/null; } |
	grep "Refusing hook script $T/etc/scripts/30-writable: writable by group or others" >/dev/null ||
	fail "refusal of the group-writable hook not logged"
ok "hostile cmdline never executed; unsafe hook refused and logged"
stop_aegis || true

# --- 500 violations at once, script_max = 3 ---------------------------------------
rm -f "$T/etc/scripts/"*
mkdir -p "$T/conc"
install_script 10-count <<'SH'
#!/bin/sh
# one marker file per running hook; each records how many it saw at once
d=@T@/conc
: >"$d/run.$$"
set -- "$d"/run.*
echo $# >>"$d/seen"
sleep 0.02
rm -f "$d/run.$$"
SH
sed -i 's|^script_timeout = .*|script_timeout = 10000|' "$T/etc/aegis.toml"
start_aegis
client_many 23400 500
wait "$CLIENT_PID"
wait_records 500 ".dpt >= 23400 and .dpt < 23900 and .outcome == \"violation\"" 30 ||
	fail "only $(count_records ".dpt >= 23400 and .dpt < 23900") of 500 violations reported"
wait_for 120 bash -c "[ \$(wc -l <'$T/conc/seen' 2>/dev/null || echo 0) -ge 500 ]" ||
	fail "only $(wc -l <"$T/conc/seen") of 500 hooks ran"
max=$(sort -n "$T/conc/seen" | tail -1)
[ "$max" -le 3 ] || fail "$max hooks ran at once, cap is 3"
[ "$max" -ge 2 ] || fail "hooks never ran concurrently (max $max): the cap is not exercised"
ok "500 violations: 500 hooks, at most $max at once (cap 3)"
stop_aegis || true

# --- the pending queue is bounded: 100 violations, 3 running, 10 waiting --------
rm -f "$T/etc/scripts/"*
install_script 10-slow <<'SH'
#!/bin/sh
sleep 1
echo "$AEGIS_DPT" >>@T@/slow-runs
SH
sed -i 's|^script_max = .*|script_max = 3\nscript_queue_max = 10|' "$T/etc/aegis.toml"
start_aegis
client_many 23900 100
wait "$CLIENT_PID"
wait_records 100 ".dpt >= 23900 and .dpt < 24000 and .outcome == \"violation\"" 15 ||
	fail "records delayed by a full hook queue"
st=$("$AEGIS_BIN" status --json) || fail "aegis status failed"
dropped=$(jq '.. | objects | select(has("scripts_dropped")) | .scripts_dropped' <<<"$st" | head -1)
[ "$dropped" = 87 ] || fail "scripts_dropped = $dropped, expected 87 (100 - 3 running - 10 queued)"
{ cat "$T/aegis.err"; journalctl -o cat SYSLOG_IDENTIFIER=aegis 2>/dev/null; } |
	grep "Hook script queue full" >/dev/null || fail "hook queue overflow not logged"
wait_for 20 bash -c "[ \$(wc -l <'$T/slow-runs' 2>/dev/null || echo 0) -ge 13 ]" || fail "queued hooks did not run"
sleep 1.5
[ "$(wc -l <"$T/slow-runs")" = 13 ] || fail "$(wc -l <"$T/slow-runs") hooks ran, expected 13"
ok "hook queue bounded: 3 running + 10 queued ran, 87 dropped (counted, logged)"
