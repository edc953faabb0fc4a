#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The Ansible example (scripts/ansible) with the real ansible-playbook against
# localhost (connection: local) and a running daemon: a good drop-in is
# validated, deployed and made active by the handler (`aegis reload` over the
# control socket); a broken one is refused by `validate` (aegis check-config
# --drop-in), never reaches the drop-in directory, and the running policy is
# unchanged. The role works on the test's private config tree, not /etc.
# Ports 25100-25109.
. "$(dirname "$0")/lib.sh"

if ! command -v ansible-playbook >/dev/null; then
	echo "# ansible-playbook missing: apt-get install ansible-core" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ansible-core \
		>"$T/apt.log" 2>&1 || skip "ansible-playbook is not installed and could not be installed"
fi

PORT=25100
AEGIS_BIN=$(realpath "$AEGIS_BIN") # ansible runs modules from another directory
export AEGIS_CONTROL_SOCKET=/run/aegis/aegis.sock
export ANSIBLE_LOCAL_TEMP="$T/ansible/local" ANSIBLE_REMOTE_TEMP="$T/ansible/remote"
export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_HOST_KEY_CHECKING=0
export ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_LOAD_CALLBACK_PLUGINS=0
mkdir -p "$T/ansible" && chmod 0700 "$T/ansible"

start_journald
write_config <<'EOF'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
default_actions = ["log"]
unconfigured_actions = ["log"]
detent = 0
EOF

# A program called telegraf: a copy of curl, so exe = "telegraf" matches it.
mkdir -p "$T/bin"
cp "$(command -v curl)" "$T/bin/telegraf"
telegraf() {
	"$T/bin/telegraf" -s -o /dev/null "http://127.0.0.1:$PORT/" || true
}

cat >"$T/good.toml" <<EOF
# telegraf may only talk to its local listener
[[app]]
name = "telegraf"
exe = "telegraf"
ports = [$PORT]
EOF
cat >"$T/bad.toml" <<'EOF'
[[app]]
exe = "telegraf"
local = false
actions = ["log", "blok"]
EOF
chmod 0644 "$T/good.toml" "$T/bad.toml"

# run_play NAME SRC: the example playbook, deploying SRC as drop-in NAME.
run_play() {
	jq -n --arg bin "$AEGIS_BIN" --arg cfg "$T/etc/aegis.toml" --arg dir "$T/etc/aegis.d" \
		--arg name "$1" --arg src "$2" '{
		aegis_install: false, aegis_bin: $bin, aegis_config: $cfg, aegis_dropin_dir: $dir,
		aegis_reload_method: "control", aegis_dropins: [{name: $name, src: $src}]}' \
		>"$T/vars.json"
	ansible-playbook -i localhost, "$AEGIS_SRCDIR/scripts/ansible/playbook.yml" \
		-e "@$T/vars.json" >"$T/play-$1.log" 2>&1
}

# outcome_after N: the outcome of the first telegraf record after line N of the stream.
telegraf_outcome_after() {
	local n=$1 end=$((SECONDS + 15)) o
	while [ $SECONDS -lt $end ]; do
		telegraf
		o=$(tail -n +$((n + 1)) "$T/follow.json" |
			jq -r --argjson p $PORT 'select(.dpt == $p and (.exe | endswith("/telegraf"))) | .outcome' 2>/dev/null |
			head -1)
		[ -n "$o" ] && { echo "$o"; return 0; }
		sleep 0.3
	done
	return 1
}

start_aegis
http_server $PORT
wait_for 10 test -S /run/aegis/aegis.sock || fail "no control socket"
"$AEGIS_BIN" events --follow --json >"$T/follow.json" 2>"$T/follow.err" &
bg_track $!

o=$(telegraf_outcome_after 0) || fail "no telegraf record before deploying"
[ "$o" = unconfigured ] || fail "before the drop-in telegraf is '$o', expected unconfigured"
"$AEGIS_BIN" status --json >"$T/status0.json" || fail "status"
ok "before: telegraf is unconfigured"

# --- a good drop-in: validated, deployed, reloaded, active ---------------------------------
run_play 50-telegraf.toml "$T/good.toml" || fail "playbook failed: $(tail -20 "$T/play-50-telegraf.toml.log")"
grep -q "RUNNING HANDLER \[aegis : Reload aegis through its control socket\]" "$T/play-50-telegraf.toml.log" ||
	fail "the reload handler did not run: $(cat "$T/play-50-telegraf.toml.log")"
cmp -s "$T/good.toml" "$T/etc/aegis.d/50-telegraf.toml" || fail "drop-in not deployed"
[ "$(stat -c '%U %a' "$T/etc/aegis.d/50-telegraf.toml")" = "root 644" ] || fail "drop-in owner/mode"
"$AEGIS_BIN" status --json >"$T/status1.json" || fail "status"
jq -e --arg f "$T/etc/aegis.d/50-telegraf.toml" '[.policy.files[] | select(.path == $f)] | length == 1' \
	"$T/status1.json" >/dev/null || fail "aegis status does not list the drop-in: $(jq -c .policy "$T/status1.json")"
jq -e '.policy.apps == 1' "$T/status1.json" >/dev/null || fail "aegis status: apps $(jq .policy.apps "$T/status1.json")"
n=$(wc -l <"$T/follow.json")
o=$(telegraf_outcome_after "$n") || fail "no telegraf record after deploying"
[ "$o" = allowed ] || fail "after the drop-in telegraf is '$o', expected allowed"
ok "good drop-in deployed by ansible-playbook, reloaded, listed by aegis status, active (telegraf allowed)"

# A second run changes nothing and does not reload.
run_play 50-telegraf.toml "$T/good.toml" || fail "second run failed"
! grep -q "RUNNING HANDLER" "$T/play-50-telegraf.toml.log" || fail "an unchanged drop-in triggered a reload"
grep -q "changed=0" "$T/play-50-telegraf.toml.log" || fail "second run reported changes"
ok "second run: no change, no reload"

# --- a broken drop-in: refused by validate, policy unchanged ----------------------------------
rc=0
run_play 60-bad.toml "$T/bad.toml" || rc=$?
[ $rc != 0 ] || fail "the playbook accepted a broken drop-in"
grep -q "failed to validate" "$T/play-60-bad.toml.log" || fail "not refused by validate: $(tail -20 "$T/play-60-bad.toml.log")"
grep -q "unknown action 'blok'" "$T/play-60-bad.toml.log" || fail "check-config's diagnostic is not shown"
[ ! -e "$T/etc/aegis.d/60-bad.toml" ] || fail "the broken drop-in reached the drop-in directory"
! grep -q "RUNNING HANDLER" "$T/play-60-bad.toml.log" || fail "reload ran after a refused drop-in"
"$AEGIS_BIN" status --json >"$T/status2.json" || fail "status"
[ "$(jq -S .policy "$T/status1.json")" = "$(jq -S .policy "$T/status2.json")" ] ||
	fail "running policy changed: $(jq -c .policy "$T/status2.json")"
n=$(wc -l <"$T/follow.json")
o=$(telegraf_outcome_after "$n") || fail "no telegraf record after the refused deploy"
[ "$o" = allowed ] || fail "after the refused drop-in telegraf is '$o', expected allowed"
ok "broken drop-in refused by validate (unknown action 'blok'), not installed, running policy unchanged"
