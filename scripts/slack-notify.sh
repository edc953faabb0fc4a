#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# aegis hook: post the event to a Slack incoming webhook (or anything that
# takes Slack's {"text": ...} payload). See scripts/README.md.
#
# Input: AEGIS_EVENT_JSON (the record as JSON), set by aegis.
# Webhook URL: $SLACK_WEBHOOK_URL, else the first line of
# ${SLACK_WEBHOOK_URL_FILE:-/etc/aegis/slack-webhook.url} (aegis passes no
# environment of its own to hooks, so the file is how the daemon finds it).
#
# Safety: event text (cmdlines are attacker-controlled) never goes through
# shell evaluation or hand-built JSON: jq parses AEGIS_EVENT_JSON and builds
# the payload, which reaches curl on stdin. The webhook URL is a secret: it
# reaches curl through a config file on a descriptor, never its argv (argv is
# readable by every user in ps, and aegis itself records the cmdline of the
# curl it sees connecting, into the journal).
set -eu

die() {
	echo "slack-notify: $*" >&2
	exit 1
}

command -v jq >/dev/null || die "jq is not installed"
command -v curl >/dev/null || die "curl is not installed"
[ -n "${AEGIS_EVENT_JSON:-}" ] || die "AEGIS_EVENT_JSON is not set (run by aegis)"

url=${SLACK_WEBHOOK_URL:-}
if [ -z "$url" ]; then
	f=${SLACK_WEBHOOK_URL_FILE:-/etc/aegis/slack-webhook.url}
	[ -r "$f" ] || die "no SLACK_WEBHOOK_URL and no readable $f"
	IFS= read -r url <"$f" || true
	url=${url%"$(printf '\r')"} # a file saved with CRLF line ends
fi
case "$url" in
http://* | https://*) ;;
*) die "webhook URL must be http(s)://" ;;
esac
nl='
'
case "$url" in
*"$nl"* | *"$(printf '\r')"*) die "webhook URL must be one line" ;;
esac
# curl config syntax: url = "...", with \ and " escaped
url_conf=$(printf '%s' "$url" | sed 's/[\\"]/\\&/g')

host=$(hostname 2>/dev/null || echo unknown)

# Slack mrkdwn: &, < and > must be escaped; backquotes would end the code span.
payload=$(printf '%s' "$AEGIS_EVENT_JSON" | jq -c --arg host "$host" '
	def esc: tostring | gsub("&"; "&amp;") | gsub("<"; "&lt;") | gsub(">"; "&gt;");
	def code: esc | gsub("`"; "\u02cb") | gsub("\n"; "\\n") | .[0:400];
	{
		text: ("aegis on \($host | esc): *\(.outcome // "event" | esc)* "
			+ "\(.exe // "?" | esc)[\(.pid // "?")] \(.proto // "") \(.direction // "") "
			+ (if .direction == "in" then "from \(.src // "?" | esc):\(.spt // "?") to " else "" end)
			+ "\(.dst // "?" | esc):\(.dpt // "?") user=\(.user // "?" | esc)"
			+ " rule=\(.rule // "" | esc) actions=\(.actions // "" | esc)"
			+ (if (.reason // "") != "" then ": \(.reason | esc)" else "" end)
			+ "\ncmdline: `\(.cmdline // "" | code)`"),
		aegis: .
	}') || die "AEGIS_EVENT_JSON is not valid JSON"

printf '%s' "$payload" | curl -sS --fail --proto '=http,https' --max-time 10 \
	-H 'Content-Type: application/json' --data-binary @- -o /dev/null -K /dev/fd/3 3<<EOF
url = "$url_conf"
EOF
