#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# libcurl is loaded on demand (src/curl-util.c): the binary does not link it;
# the daemon on the shipped config (no webhooks) never maps it; a reload that
# adds a webhook while libcurl is missing fails with a clear message and keeps
# the last good policy (check-config warns); once libcurl is there, the same
# reload loads it and a real loopback receiver gets the POST; a reload back to
# no webhooks keeps it loaded and working (never unloaded). The daemon exits
# cleanly (no sanitizer report in ASan builds).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/actions-lib.sh"

HOOK=27010
TARGET=27011
TARGET2=27012 # another destination: the shipped detent (1 day) would fold a repeat

mapped() { # mapped PATTERN: the daemon maps a file matching PATTERN
	grep -q "$1" "/proc/$AEGIS_PID/maps"
}
daemon_log() {
	{
		cat "$T/aegis.err"
		journalctl -o cat SYSLOG_IDENTIFIER=aegis
	} 2>/dev/null
}

# 0. the binary: libcurl is not a DT_NEEDED
if readelf -d "$AEGIS_BIN" | grep NEEDED | grep -q libcurl; then
	fail "$AEGIS_BIN links libcurl: $(readelf -d "$AEGIS_BIN" | grep NEEDED)"
fi
ok "aegis does not link libcurl"

start_journald
receiver $HOOK "$T/hook.jsonl"

# 1. the shipped configuration, include dir pointed at our (empty) one
sed -e 's|"/etc/aegis.d"|"@DROPINS@"|' -e 's|"/etc/aegis/scripts"|"@SCRIPTS@"|' \
	"$AEGIS_SRCDIR/conf/aegis.toml" | write_config
grep -q "include_dirs = \[\"$T/etc/aegis.d\"\]" "$T/etc/aegis.toml" ||
	fail "conf/aegis.toml: include_dirs not redirected"
start_aegis
! mapped libcurl || fail "libcurl mapped on the shipped config: $(grep libcurl "/proc/$AEGIS_PID/maps")"
! mapped libcrypto || fail "libcrypto mapped on the shipped config"
ok "shipped config: no libcurl, no libcrypto in /proc/$AEGIS_PID/maps"

# 2. libcurl missing (hidden in our mount namespace): the webhook reload fails
lib=$(ldconfig -p | awk '$1 == "libcurl.so.4" && /x86-64|x32|aarch64|64bit/ { print $NF; exit }')
[ -n "$lib" ] || lib=$(ldconfig -p | awk '$1 == "libcurl.so.4" { print $NF; exit }')
[ -n "$lib" ] || fail "libcurl.so.4 is not in the ld.so cache (the package depends on it)"
real=$(readlink -f "$lib")
mount --bind /dev/null "$real"
write_dropin 50-webhook.toml <<TOML
[notify]
webhooks = ["http://127.0.0.1:$HOOK/hook"]
timeout = 2000
retries = 0

[[app]]
cmdline = "$MARKER"
ports = ["1"]
actions = ["notify"]
TOML
rc=0
"$AEGIS_BIN" reload >"$T/reload.out" 2>&1 || rc=$?
[ $rc != 0 ] || fail "reload with a webhook and no libcurl succeeded: $(cat "$T/reload.out")"
grep -q "shared library" "$T/reload.out" || fail "reload failure does not say why: $(cat "$T/reload.out")"
wait_for 10 bash -c "{ cat '$T/aegis.err'; journalctl -o cat SYSLOG_IDENTIFIER=aegis; } 2>/dev/null |
	grep -q 'notify.webhooks is set, but libcurl cannot be used: .*libcurl.so.4'" ||
	fail "no clear libcurl error logged: $(daemon_log | tail -5)"
kill -0 "$AEGIS_PID" || fail "daemon died on the failed reload"
! mapped libcurl || fail "libcurl mapped after a failed load"
st=$("$AEGIS_BIN" status --json) || fail "aegis status failed"
[ "$(jq '.. | objects | select(has("reload_failures")) | .reload_failures' <<<"$st" | head -1)" = 1 ] ||
	fail "reload_failures is not 1: $st"
# the last good policy is kept: the new app does not exist, so no POST
client $TARGET 0 lazy-missing
wait "$CLIENT_PID"
wait_records 1 ".dpt == $TARGET and .outcome == \"unconfigured\"" 10 ||
	fail "no unconfigured record for the client: the old policy is not in force"
[ "$(count_records ".dpt == $TARGET and .outcome == \"violation\"")" = 0 ] ||
	fail "the refused drop-in's app is in force"
ok "no libcurl: reload refused ($(head -1 "$T/reload.out")), logged, old policy kept"

rc=0
"$AEGIS_BIN" check-config -c "$T/etc/aegis.toml" >"$T/check.out" 2>"$T/check.err" || rc=$?
[ $rc = 0 ] || fail "check-config exit $rc: $(cat "$T/check.err")"
grep -q "warning: notify.webhooks is set, but libcurl cannot be used (.*libcurl.so.4" "$T/check.err" ||
	fail "check-config does not warn about libcurl: $(cat "$T/check.err")"
ok "check-config: valid, with a warning that libcurl cannot be loaded"

# 3. libcurl back: the same reload loads it and the webhook is delivered
umount "$real"
"$AEGIS_BIN" check-config -c "$T/etc/aegis.toml" >"$T/check.out" 2>"$T/check.err" ||
	fail "check-config failed: $(cat "$T/check.err")"
! grep -q libcurl "$T/check.err" || fail "check-config warns with libcurl present: $(cat "$T/check.err")"
"$AEGIS_BIN" reload >"$T/reload.out" 2>&1 || fail "reload failed: $(cat "$T/reload.out")"
mapped libcurl || fail "libcurl not mapped after a reload to a webhook config"
client $TARGET 0 lazy-loaded
CLIENT1=$CLIENT_PID
wait "$CLIENT_PID"
wait_for 10 bash -c "[ -s '$T/hook.jsonl' ]" || fail "no webhook POST after libcurl was loaded"
jq -e -s --argjson p "$CLIENT1" 'length == 1 and (.[0] | .valid and .path == "/hook"
	and .body.aegis.pid == $p and .body.aegis.outcome == "violation")' "$T/hook.jsonl" >/dev/null ||
	fail "bad POSTs: $(cat "$T/hook.jsonl")"
ok "reload to a webhook config: libcurl mapped, POST delivered to the loopback receiver"

# 4. back to no webhooks: libcurl stays (never unloaded), the daemon keeps working
rm "$T/etc/aegis.d/50-webhook.toml"
"$AEGIS_BIN" reload >"$T/reload.out" 2>&1 || fail "reload failed: $(cat "$T/reload.out")"
mapped libcurl || fail "libcurl unloaded"
# and to webhooks again: the loaded library is reused
sed -e "s|@T@|$T|g" >"$T/etc/aegis.d/50-webhook.toml" <<TOML
[notify]
webhooks = ["http://127.0.0.1:$HOOK/again"]
retries = 0

[[app]]
cmdline = "$MARKER"
ports = ["1"]
actions = ["notify"]
TOML
"$AEGIS_BIN" reload >"$T/reload.out" 2>&1 || fail "reload failed: $(cat "$T/reload.out")"
client $TARGET2 0 lazy-again
wait "$CLIENT_PID"
wait_for 10 bash -c "[ \$(wc -l <'$T/hook.jsonl') -ge 2 ]" || fail "no POST after the second webhook reload"
jq -e -s '.[1].path == "/again" and .[1].body.aegis.dpt == '$TARGET2 "$T/hook.jsonl" >/dev/null || fail "bad second POST: $(cat "$T/hook.jsonl")"
ok "webhooks removed and added again: libcurl stays loaded, POST delivered"

# 5. clean exit (sanitizers report at exit)
stop_aegis || fail "daemon exit status $?: $(tail -20 "$T/aegis.err")"
! grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T/aegis.err" ||
	fail "sanitizer report: $(grep -A20 -E "Sanitizer|runtime error" "$T/aegis.err" | head -40)"
ok "daemon exits 0, no sanitizer report"

# 6. start-up with a webhook and no libcurl: refused, clearly
mount --bind /dev/null "$real"
rc=0
timeout 60 "$AEGIS_BIN" run -c "$T/etc/aegis.toml" >"$T/run.out" 2>"$T/run.err" || rc=$?
umount "$real"
[ $rc != 0 ] && [ $rc != 124 ] || fail "aegis run with a webhook and no libcurl: exit $rc"
grep -q "notify.webhooks is set, but libcurl cannot be used: .*libcurl.so.4" "$T/run.err" ||
	journal_json SYSLOG_IDENTIFIER=aegis | grep -q "libcurl cannot be used" ||
	fail "start-up failure does not name libcurl: $(tail -5 "$T/run.err")"
ok "start-up with a webhook and no libcurl: exit $rc, libcurl named"
