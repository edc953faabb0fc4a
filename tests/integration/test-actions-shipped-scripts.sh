#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The shipped hooks, run by the real daemon: scripts/slack-notify.sh posts a
# valid Slack payload (text + the record) to a loopback receiver, and
# scripts/incident-file.sh writes one incident file, both for a process whose
# cmdline is hostile ($(...), ;, backquotes, quotes, newline): the record
# arrives intact and nothing of it is executed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/actions-lib.sh"

TARGET=23700
SLACK=23701
PWNED=/tmp/pwned-$MARKER

command -v jq >/dev/null || skip "jq missing"
start_journald
receiver $SLACK "$T/slack.jsonl"

write_config <<TOML
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
detent = 0
unconfigured_actions = []

[[app]]
cmdline = "$MARKER"
ports = ["1"]
actions = ["script"]
TOML
# installed copies (root-owned 0755), configured through a wrapper since
# aegis passes hooks no environment of its own
mkdir -p "$T/lib"
install -m 0755 "$AEGIS_SRCDIR/scripts/slack-notify.sh" "$AEGIS_SRCDIR/scripts/incident-file.sh" "$T/lib/"
install_script 10-slack <<SH
#!/bin/sh
SLACK_WEBHOOK_URL=http://127.0.0.1:$SLACK/services/T0/B0/x exec $T/lib/slack-notify.sh
SH
install_script 20-incident <<SH
#!/bin/sh
AEGIS_INCIDENT_DIR=$T/incidents exec $T/lib/incident-file.sh
SH
start_aegis

hostile=$'$(touch '"$PWNED"'); touch '"$PWNED"'2 `touch '"$PWNED"'3` "dq" \x27sq\x27 <b>&amp;\nline2'
client $TARGET 0 "$hostile"
pid=$CLIENT_PID
wait $pid

wait_for 15 test -s "$T/slack.jsonl" || fail "slack-notify.sh posted nothing"
e=$(head -1 "$T/slack.jsonl")
jq -e --argjson pid "$pid" --arg m "$MARKER" --arg h "$hostile" '.valid and .path == "/services/T0/B0/x"
	and .content_type == "application/json"
	and (.body.text | type == "string" and contains("violation") and contains("\($pid)"))
	and .body.aegis.pid == $pid and .body.aegis.dpt == 23700
	and (.body.aegis.cmdline | endswith($m + " " + $h))' <<<"$e" >/dev/null ||
	fail "slack payload wrong: $e"
jq -e '.body.text | contains("<b>") | not' <<<"$e" >/dev/null || fail "slack text not escaped for mrkdwn"
ok "slack-notify.sh: valid Slack payload with the intact record"

# The webhook URL is a secret: the hook's own curl, which aegis sees
# connecting, must not carry it in its argv (ps, and the journal via aegis).
wait_records 1 ".comm == \"curl\" and .dpt == $SLACK" 10 || fail "no record of the hook's curl"
records ".comm == \"curl\" and .dpt == $SLACK" | jq -e -s 'all(.[]; .cmdline | contains("/services/") | not)' >/dev/null ||
	fail "webhook URL in curl's cmdline: $(records ".comm == \"curl\" and .dpt == $SLACK" | jq -r .cmdline | head -1)"
ok "slack-notify.sh: the webhook URL is not in curl's argv"

wait_for 15 bash -c "ls '$T'/incidents/*-$pid.json" || fail "incident-file.sh wrote nothing"
f=$(ls "$T"/incidents/*-"$pid".json)
jq -e --argjson pid "$pid" --arg m "$MARKER" --arg h "$hostile" '.event.pid == $pid
	and (.event.cmdline | endswith($m + " " + $h)) and (.incident.host | length > 0)' "$f" >/dev/null ||
	fail "incident file wrong: $(cat "$f")"
[ "$(stat -c %a "$f")" = 600 ] || fail "incident file mode $(stat -c %a "$f"), expected 600"
ok "incident-file.sh: $(basename "$f") holds the record"

sleep 0.5
[ ! -e "$PWNED" ] && [ ! -e "${PWNED}2" ] && [ ! -e "${PWNED}3" ] || fail "the hostile cmdline was executed"
jentries MESSAGE_ID=$MID_SCRIPT_EXIT AEGIS_PID=$pid | jq -e -s 'length == 2 and all(.[]; .AEGIS_SCRIPT_STATUS == "exited 0")' \
	>/dev/null || fail "hooks did not both exit 0: $(jentries MESSAGE_ID=$MID_SCRIPT_EXIT AEGIS_PID=$pid | jq -c '[.AEGIS_SCRIPT, .AEGIS_SCRIPT_STATUS]')"
ok "nothing from the cmdline executed; both hooks exited 0"
