#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# aegis hook: write one incident file per event,
#   ${AEGIS_INCIDENT_DIR:-/var/lib/aegis/incidents}/<UTC time>-<pid>.json
# holding {"incident": {host, written}, "event": <the record>}. Written to a
# temporary file first and renamed, so readers never see half a file.
# See scripts/README.md.
set -eu

die() {
	echo "incident-file: $*" >&2
	exit 1
}

command -v jq >/dev/null || die "jq is not installed"
[ -n "${AEGIS_EVENT_JSON:-}" ] || die "AEGIS_EVENT_JSON is not set (run by aegis)"

dir=${AEGIS_INCIDENT_DIR:-/var/lib/aegis/incidents}
umask 077
mkdir -p -- "$dir"

# The pid goes into a file name: accept digits only.
pid=$(printf '%s' "$AEGIS_EVENT_JSON" | jq -r '.pid // empty') || die "AEGIS_EVENT_JSON is not valid JSON"
case "$pid" in
'' | *[!0-9]*) pid=unknown ;;
esac
now=$(date -u +%Y%m%dT%H%M%S.%NZ)
host=$(hostname 2>/dev/null || echo unknown)

tmp=$(mktemp -- "$dir/.incident.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
printf '%s' "$AEGIS_EVENT_JSON" |
	jq --arg host "$host" --arg now "$now" '{incident: {host: $host, written: $now}, event: .}' >"$tmp"
mv -- "$tmp" "$dir/$now-$pid.json"
trap - EXIT
