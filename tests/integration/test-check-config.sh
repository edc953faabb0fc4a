#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `aegis check-config` through the real binary: the shipped default config and
# example drop-ins pass; broken configs a new user would write are refused
# with file:line:col and a hint; unsafe ownership/permissions are refused with
# the fix; exit codes 0 / 2 / 3.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

A="$AEGIS_BIN"
ETC="$T/etc"
mkdir -p "$ETC/aegis.d" "$ETC/scripts"
chmod 0755 "$ETC" "$ETC/aegis.d" "$ETC/scripts"

# The shipped main file, pointed at our include and script dirs.
sed -e "s|^include_dirs = .*|include_dirs = [\"$ETC/aegis.d\"]|" \
	-e "s|^script_dirs = .*|script_dirs = [\"$ETC/scripts\"]|" \
	"$AEGIS_SRCDIR/conf/aegis.toml" >"$ETC/aegis.toml"
chmod 0644 "$ETC/aegis.toml"
grep -q "^include_dirs = \[\"$ETC/aegis.d\"\]" "$ETC/aegis.toml" || fail "sed of include_dirs"

# check EXPECTED_RC ARGS...: runs check-config, output in $OUT/$ERR.
check() {
	local want=$1 rc=0
	shift
	"$A" check-config "$@" >"$T/out" 2>"$T/err" || rc=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	if [ "$rc" != "$want" ]; then
		echo "--- stdout:" >&2
		cat "$T/out" >&2
		echo "--- stderr:" >&2
		cat "$T/err" >&2
		fail "check-config $* exited $rc, expected $want"
	fi
}

# expect_err TEXT: stderr contains TEXT (fixed string).
expect_err() {
	grep -qF -- "$1" "$T/err" || {
		cat "$T/err" >&2
		fail "stderr lacks: $1"
	}
}

# A drop-in given on the command line, as Ansible's validate does (temp name).
dropin_tmp() {
	local f
	f=$(mktemp "$T/tmpXXXXXX")
	cat >"$f"
	chmod 0644 "$f"
	echo "$f"
}

### the shipped default alone
check 0 -c "$ETC/aegis.toml"
[[ "$OUT" == "$ETC/aegis.toml: OK, 1 file, 0 apps,"* ]] || fail "summary: $OUT"
[ -z "$ERR" ] || fail "unexpected diagnostics: $ERR"
ok "shipped conf/aegis.toml is valid"

### every shipped example as --drop-in, then all installed together
n_apps=0
for f in "$AEGIS_SRCDIR"/aegis.d/*.toml; do
	check 0 -c "$ETC/aegis.toml" --drop-in "$f"
	[[ "$OUT" == *"OK, 2 files"* ]] || fail "$f: $OUT"
	n_apps=$((n_apps + $(grep -c '^\[\[app\]\]' "$f")))
done
install -m 0644 -o root -g root "$AEGIS_SRCDIR"/aegis.d/*.toml "$ETC/aegis.d/"
shipped=("$AEGIS_SRCDIR"/aegis.d/*.toml)
n_files=$((${#shipped[@]} + 1))
[ "$n_files" -ge 8 ] || fail "expected at least 7 shipped examples"
check 0 -c "$ETC/aegis.toml"
[[ "$OUT" == "$ETC/aegis.toml: OK, $n_files files, $n_apps apps,"* ]] || fail "summary: $OUT"
ok "shipped examples pass ($n_files files, $n_apps apps)"

### the examples on a stock Debian 12 server: programs that resolve names
### themselves query the (remote) nameservers of /etc/resolv.conf
for exe in /usr/lib/apt/methods/http /usr/sbin/chronyd /usr/bin/telegraf; do
	out=$("$AEGIS_BIN" explain -c "$ETC/aegis.toml" --exe $exe --proto udp --dst 203.0.113.53:53)
	grep -q '^outcome: *allowed' <<<"$out" || fail "$exe: DNS to a remote nameserver not allowed: $out"
	out=$("$AEGIS_BIN" explain -c "$ETC/aegis.toml" --exe $exe --dst 203.0.113.53:6666)
	grep -q '^outcome: *violation' <<<"$out" || fail "$exe: port 6666 not a violation: $out"
done
ok "shipped examples allow DNS to remote nameservers where the program resolves names"

### -q prints nothing on success; --dump output is itself a valid policy
check 0 -q -c "$ETC/aegis.toml"
[ -z "$OUT$ERR" ] || fail "-q printed: $OUT $ERR"
check 0 -c "$ETC/aegis.toml" --dump
echo "$OUT" >"$T/dump.toml"
chmod 0644 "$T/dump.toml"
grep -q '^exe = "telegraf"' "$T/dump.toml" || fail "dump lacks telegraf"
check 0 -c "$T/dump.toml" --dump
[ "$OUT" = "$(cat "$T/dump.toml")" ] || fail "dump of the dump differs"
ok "--dump round-trips"

### field-wise override: zz-telegraf.toml changes only actions
install -m 0644 /dev/stdin "$ETC/aegis.d/zz-telegraf.toml" <<'EOF'
[[app]]
exe = "telegraf"
actions = ["log", "notify", "kill"]
EOF
check 0 -c "$ETC/aegis.toml" --dump
echo "$OUT" | grep -A6 '^exe = "telegraf"' | grep -q '^actions = \["log", "notify", "kill"\]' ||
	fail "override not applied: $OUT"
echo "$OUT" | grep -A6 '^exe = "telegraf"' | grep -q '^remotes = \["10.0.0.0/8:8086"' ||
	fail "remotes not inherited: $OUT"
rm "$ETC/aegis.d/zz-telegraf.toml"
ok "zz- drop-in overrides field by field"

### fixtures: exact diagnostics for the configs in tests/fixtures/config
fixtures=("$AEGIS_SRCDIR"/tests/fixtures/config/*.toml)
[ "${#fixtures[@]}" -ge 9 ] || fail "fixtures missing"
for fx in "${fixtures[@]}"; do
	name=$(basename "$fx" .toml)
	install -m 0644 "$fx" "$T/$name.toml"
	if [ -f "${fx%.toml}.expected" ]; then
		check 3 -c "$ETC/aegis.toml" --drop-in "$T/$name.toml"
		sed -e "s|@FILE@|$T/$name.toml|g" -e "s|@MAIN@|$ETC/aegis.toml|g" \
			"${fx%.toml}.expected" >"$T/expected"
		diff -u "$T/expected" "$T/err" >&2 || fail "fixture $name: diagnostics differ"
	else
		check 0 -c "$ETC/aegis.toml" --drop-in "$T/$name.toml"
		[ -z "$ERR" ] || fail "fixture $name: unexpected diagnostics: $ERR"
	fi
done
ok "fixtures: exact diagnostics (${#fixtures[@]} files)"

### broken configs, as a new user writes them (Ansible style: temp-named --drop-in)
f=$(dropin_tmp <<'EOF'
[global]
detnet = 3600
EOF
)
check 3 -c "$ETC/aegis.toml" --drop-in "$f"
expect_err "$f:2:1: error: unknown key 'detnet' in [global]; did you mean 'detent'?"
expect_err "1 error, policy not valid"
ok "typo in a key: hint"

f=$(dropin_tmp <<'EOF'
[[app]]
exe = "curl"
remotes = ["10.0.0.0/33:443"]
EOF
)
check 3 -c "$ETC/aegis.toml" --drop-in "$f"
expect_err "$f:3:12: error: invalid address in remote '10.0.0.0/33': prefix length out of range (0-32 for IPv4)"

f=$(dropin_tmp <<'EOF'
[whitelist]
ips = ["192.168.0.0/16", "10.0.0.0/33", "10.1.2.3/8"]
EOF
)
check 3 -c "$ETC/aegis.toml" --drop-in "$f"
expect_err "$f:2:26: error: invalid address '10.0.0.0/33': prefix length out of range (0-32 for IPv4)"
expect_err "$f:2:41: error: invalid address '10.1.2.3/8': host bits set after the prefix length (did you mean '10.0.0.0/8'?)"
expect_err "2 errors, policy not valid"
ok "bad CIDRs"

f=$(dropin_tmp <<'EOF'
[[app]]
exe = "nginx"
ports = ["80", "70000"]
EOF
)
check 3 -c "$ETC/aegis.toml" --drop-in "$f"
expect_err "$f:3:16: error: invalid port '70000' in 'ports': port out of range (1-65535)"
ok "port 70000"

f=$(dropin_tmp <<'EOF'
[[app]]
exe = "nginx"
actions = ["kil"]
EOF
)
check 3 -c "$ETC/aegis.toml" --drop-in "$f"
expect_err "$f:3:12: error: unknown action 'kil'; did you mean 'kill'?"
ok "unknown action with hint"

f=$(dropin_tmp <<'EOF'
[whitelist]
ips = ["10.0.0.0/8"]

[whitelist]
ports = ["443"]
EOF
)
check 3 -c "$ETC/aegis.toml" --drop-in "$f"
grep -qE "^$f:4:[0-9]+: error: " "$T/err" || fail "duplicate table not reported at line 4: $ERR"
ok "duplicate table"

f=$(dropin_tmp <<'EOF'
[[app]]
cmdline = "^python3 (/opt/app"
EOF
)
check 3 -c "$ETC/aegis.toml" --drop-in "$f"
expect_err "$f:2:30: error: invalid regex in 'cmdline': missing closing parenthesis (at offset 18 of the pattern)"
ok "bad regex"

f=$(dropin_tmp <<'EOF'
[global]
unconfigured_actions = ["log", "block"]
EOF
)
check 3 -c "$ETC/aegis.toml" --drop-in "$f"
expect_err "block_unconfigured_programs = true"
printf '[global]\nunconfigured_actions = ["log", "block"]\nblock_unconfigured_programs = true\n' >"$f"
check 0 -c "$ETC/aegis.toml" --drop-in "$f"
ok "block for unconfigured programs needs the explicit confirmation"

# All errors of all files, not just the first.
install -m 0644 /dev/stdin "$ETC/aegis.d/broken.toml" <<'EOF'
[[app]]
ports = ["22"]
EOF
f=$(dropin_tmp <<'EOF'
[[app]]
exe = "a"
remote = false
remotes = ["1.2.3.4:80"]
[[app]]
exe = "b"
actions = ["allow", "kill"]
EOF
)
check 3 -c "$ETC/aegis.toml" --drop-in "$f"
expect_err "$ETC/aegis.d/broken.toml:1:1: error: [[app]] entry has no matcher"
expect_err "$f:4:11: error: 'remotes' has no effect with remote = false"
expect_err "$f:7:11: error: 'actions' contains 'allow' together with 'kill': contradictory"
expect_err "3 errors, policy not valid"
rm "$ETC/aegis.d/broken.toml"
ok "every error of every file is reported"

# --drop-in replaces the installed file of the same name
mkdir -p "$T/new"
install -m 0644 /dev/stdin "$T/new/nginx.toml" <<'EOF'
[[app]]
exe = "nginx"
ports = ["8443"]
EOF
check 0 -c "$ETC/aegis.toml" --drop-in "$T/new/nginx.toml" --dump
echo "$OUT" | grep -A4 '^exe = "nginx"' | grep -q '^ports = \["8443"\]' || fail "--drop-in did not replace: $OUT"
echo "$OUT" | grep -A4 '^exe = "nginx"' | grep -q '^locals' && fail "installed nginx.toml still read"
ok "--drop-in replaces the installed file of the same name"

# a drop-in symlinked to /dev/null masks that name (here: an admin disables nginx.toml)
mkdir -p "$T/etc2" && chmod 0755 "$T/etc2"
ln -s /dev/null "$T/etc2/nginx.toml"
sed -e "s|^include_dirs = .*|include_dirs = [\"$T/etc2\", \"$ETC/aegis.d\"]|" "$ETC/aegis.toml" >"$T/masked.toml"
chmod 0644 "$T/masked.toml"
check 0 -c "$T/masked.toml" --dump
echo "$OUT" | grep -q '^exe = "nginx"' && fail "masked nginx.toml still read"
echo "$OUT" | grep -q '^exe = "sshd"' || fail "other drop-ins lost"
ok "a drop-in linked to /dev/null masks the installed file of that name"

### ownership and permissions
chmod o+w "$ETC/aegis.d/nginx.toml"
check 3 -c "$ETC/aegis.toml"
expect_err "$ETC/aegis.d/nginx.toml: error: refusing file writable by others (mode 0646)"
expect_err "fix: chown root:root $ETC/aegis.d/nginx.toml && chmod go-w $ETC/aegis.d/nginx.toml"
chmod o-w "$ETC/aegis.d/nginx.toml"
ok "world-writable drop-in refused with the fix"

f=$(dropin_tmp <<'EOF'
[[app]]
exe = "x"
EOF
)
chown nobody "$f"
check 3 -c "$ETC/aegis.toml" --drop-in "$f"
expect_err "$f: error: refusing file owned by uid $(id -u nobody)"
expect_err "fix: chown root:root $f && chmod go-w $f"
ok "drop-in not owned by root refused"

chmod g+w "$ETC/aegis.d"
check 3 -c "$ETC/aegis.toml"
expect_err "$ETC/aegis.d: error: refusing directory writable by group (mode 0775)"
chmod g-w "$ETC/aegis.d"
chmod o+w "$ETC/scripts"
check 3 -c "$ETC/aegis.toml"
expect_err "$ETC/scripts: error: refusing directory writable by others"
chmod o-w "$ETC/scripts"
install -m 0755 /dev/stdin "$ETC/scripts/hook.sh" <<'EOF'
#!/bin/sh
exit 0
EOF
check 0 -c "$ETC/aegis.toml"
chmod g+w "$ETC/scripts/hook.sh"
check 3 -c "$ETC/aegis.toml"
expect_err "$ETC/scripts/hook.sh: error: refusing file writable by group (mode 0775)"
chmod g-w "$ETC/scripts/hook.sh"
chown nobody "$ETC/aegis.toml"
check 3 -c "$ETC/aegis.toml"
expect_err "$ETC/aegis.toml: error: refusing file owned by uid"
chown root "$ETC/aegis.toml"
check 0 -c "$ETC/aegis.toml"
ok "writable include/script dirs and non-root main file refused"

### a missing include dir is a warning; a missing main file an error
sed -i "s|^include_dirs = .*|include_dirs = [\"$ETC/aegis.d\", \"$T/nonexistent\"]|" "$ETC/aegis.toml"
check 0 -c "$ETC/aegis.toml"
expect_err "$T/nonexistent: warning: include directory does not exist, ignoring"
[[ "$OUT" == *", 1 warning" ]] || fail "summary lacks the warning: $OUT"
check 3 -c "$T/nope.toml"
expect_err "$T/nope.toml: error: cannot open: No such file or directory"
ok "missing include dir warns, missing main file fails"

### usage
check 2 --bogus
check 2 -c "$ETC/aegis.toml" extra-arg
check 0 --help
[[ "$OUT" == *"--drop-in"* ]] || fail "help lacks --drop-in"
ok "usage errors exit 2, --help exits 0"
