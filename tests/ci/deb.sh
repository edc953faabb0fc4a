#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Builds the Debian package from a clean copy of the working tree (tracked and
# untracked-but-not-ignored files, so uncommitted work is included), runs
# lintian (errors fail), installs the .deb with apt-get, checks the installed
# files (aegis --version, check-config, man pages, unit, completions,
# conffiles), then purges it and checks nothing is left. Needs root; installs
# packages system-wide, so it refuses to run when aegis is already installed.
# The purge always runs (trap).
#
#   tests/ci/deb.sh [OUTDIR]     (OUTDIR keeps the .deb and lintian output)
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-}
W=$(mktemp -d /tmp/aegis-deb.XXXXXX)
installed=0

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() {
	echo "ok - $*"
}

cleanup() {
	local rc=$?
	if [ $installed = 1 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y aegis >"$W/purge-trap.log" 2>&1 ||
			echo "WARNING: purge in trap failed, see $W/purge-trap.log" >&2
	fi
	if [ -n "$OUT" ]; then
		mkdir -p "$OUT"
		cp "$W"/*.deb "$W"/lintian.txt "$OUT"/ 2>/dev/null || true
	fi
	[ $rc = 0 ] && rm -rf "$W" || echo "kept $W" >&2
	exit $rc
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "needs root (installs the package)"
if dpkg-query -W -f='${Status}' aegis 2>/dev/null | grep -q "installed"; then
	fail "aegis is already installed on this machine; not touching it"
fi
[ ! -e /etc/aegis.toml ] || fail "/etc/aegis.toml exists and belongs to no package; not touching it"

# 1. clean copy of the tree
mkdir "$W/aegis"
git -C "$SRC" ls-files -z --cached --others --exclude-standard |
	tar -C "$SRC" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$W/aegis" -xf -
rm -rf "$W/aegis"/build* "$W/aegis"/obj-*
ok "copied $(find "$W/aegis" -type f | wc -l) files to $W/aegis"

# 2. build
(cd "$W/aegis" && dpkg-buildpackage -us -uc -b) >"$W/build.log" 2>&1 ||
	{ tail -n 40 "$W/build.log" >&2; fail "dpkg-buildpackage failed"; }
deb=$(ls "$W"/aegis_*.deb)
ok "built $(basename "$deb")"

# 3. lintian: no errors
lintian --fail-on error --info "$W"/aegis_*.changes >"$W/lintian.txt" 2>&1 ||
	{ cat "$W/lintian.txt" >&2; fail "lintian reports errors"; }
echo "# lintian:"
sed 's/^/#   /' "$W/lintian.txt"
ok "lintian: no errors"

# 4. install with apt, from the file
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb" >"$W/install.log" 2>&1 ||
	{ tail -n 20 "$W/install.log" >&2; fail "apt-get install failed"; }
ok "installed with apt-get install ./$(basename "$deb")"

# 5. the installed files work
[ "$(command -v aegis)" = /usr/sbin/aegis ] || fail "aegis is not /usr/sbin/aegis"
ver=$(/usr/sbin/aegis --version)
[ "$ver" = "aegis $(dpkg-query -W -f='${Version}' aegis)" ] || fail "version mismatch: $ver"
ok "aegis --version: $ver"
/usr/sbin/aegis check-config || fail "aegis check-config rejects the shipped configuration"
ok "aegis check-config accepts the shipped configuration"
rc=0
AEGIS_CONTROL_SOCKET="$W/none.sock" /usr/sbin/aegis status >/dev/null 2>&1 || rc=$?
[ $rc = 4 ] || fail "aegis status without a daemon exits $rc, expected 4"
ok "aegis status without a daemon exits 4"
man -w aegis.toml | grep -q '/usr/share/man/man5/aegis.toml.5' || fail "man -w aegis.toml"
man -w aegis | grep -q '/usr/share/man/man8/aegis.8' || fail "man -w aegis"
man aegis.toml 2>/dev/null | grep -q "DROP-INS, ORDER AND OVERRIDE" || fail "man aegis.toml does not render"
ok "man pages installed: $(man -w aegis.toml) $(man -w aegis)"
for f in /lib/systemd/system/aegis.service \
	/usr/share/bash-completion/completions/aegis \
	/usr/share/zsh/vendor-completions/_aegis \
	/usr/share/fish/vendor_completions.d/aegis.fish \
	/usr/share/doc/aegis/examples/aegis.toml; do
	[ -f "$f" ] || fail "missing $f"
done
[ -d /etc/aegis/scripts ] && [ -z "$(ls -A /etc/aegis/scripts)" ] || fail "/etc/aegis/scripts is not an empty directory"
conffiles=$(dpkg-query -W -f='${Conffiles}' aegis)
echo "$conffiles" | grep -q ' /etc/aegis.toml ' || fail "/etc/aegis.toml is not a conffile"
for f in /etc/aegis.d/*.toml; do
	echo "$conffiles" | grep -q " $f " || fail "$f is not a conffile"
done
systemd-analyze verify /lib/systemd/system/aegis.service 2>"$W/verify.txt" ||
	{ cat "$W/verify.txt" >&2; fail "systemd-analyze verify"; }
ok "unit, completions, examples, empty script dir, conffiles, systemd-analyze verify"
echo "# $(systemd-analyze security --offline=yes /lib/systemd/system/aegis.service 2>/dev/null | tail -n 1)"
bash -c '. /usr/share/bash-completion/bash_completion
	_completion_loader aegis
	COMP_WORDS=(aegis st); COMP_CWORD=1; COMP_LINE="aegis st"; COMP_POINT=8
	_aegis
	[ "${COMPREPLY[*]}" = status ]' || fail "bash completion of 'aegis st'"
ok "bash completes 'aegis st' to 'aegis status'"
if command -v fish >/dev/null; then
	[ "$(fish -c 'complete -C "aegis st"' | cut -f1)" = status ] || fail "fish completion of 'aegis st'"
	ok "fish completes 'aegis st' to 'aegis status' (installed vendor completion)"
else
	echo "# fish not installed: fish completion not checked"
fi
if command -v zsh >/dev/null; then
	out=$(timeout 20 zsh -f -c '
		zmodload zsh/zpty
		zpty z zsh -f -i
		zpty -w z "PS1=\"> \"; autoload -Uz compinit; compinit -u; function aegis { :; }"
		sleep 1; zpty -r -t z junk
		zpty -w -n z $'"'"'aegis st\t'"'"'
		sleep 1.5; out=""
		while zpty -r -t z chunk; do out+=$chunk; done
		print -r -- "$out"; zpty -d z' 2>&1 | tr -d '\r')
	grep -q "aegis status" <<<"$out" || fail "zsh completion of 'aegis st'"
	ok "zsh completes 'aegis st' to 'aegis status' (installed vendor completion)"
else
	echo "# zsh not installed: zsh completion not checked"
fi

# 6. purge leaves nothing
DEBIAN_FRONTEND=noninteractive apt-get purge -y aegis >"$W/purge.log" 2>&1 ||
	{ tail -n 20 "$W/purge.log" >&2; fail "apt-get purge failed"; }
installed=0
! dpkg-query -W -f='${Status}' aegis 2>/dev/null | grep -q "installed" || fail "still installed"
for f in /usr/sbin/aegis /etc/aegis.toml /etc/aegis.d /etc/aegis /lib/systemd/system/aegis.service \
	/usr/share/man/man8/aegis.8.gz /usr/share/doc/aegis; do
	[ ! -e "$f" ] || fail "$f left after purge"
done
ok "purged: binary, configuration, unit, man pages, docs gone"

# 7. the Ansible example installs the same .deb and deploys a validated drop-in
command -v ansible-playbook >/dev/null || fail "ansible-playbook is not installed (apt-get install ansible-core)"
mkdir -m 0700 "$W/ansible-tmp"
play() {
	ANSIBLE_REMOTE_TEMP="$W/ansible-tmp" ANSIBLE_LOCAL_TEMP="$W/ansible-tmp" ANSIBLE_NOCOLOR=1 \
		AEGIS_CONTROL_SOCKET="$W/none.sock" \
		ansible-playbook -i localhost, "$SRC/scripts/ansible/playbook.yml" "$@"
}
installed=1
play -e aegis_deb="$deb" >"$W/play.log" 2>&1 || { tail -n 30 "$W/play.log" >&2; fail "playbook (install + drop-in) failed"; }
dpkg-query -W -f='${Status}' aegis | grep -q "install ok installed" || fail "the role did not install the package"
grep -q '^exe = "telegraf"' /etc/aegis.d/50-telegraf.toml || fail "the role did not deploy 50-telegraf.toml"
/usr/sbin/aegis check-config -q || fail "the deployed drop-in does not validate"
grep -q "RUNNING HANDLER \[aegis : Reload aegis through its control socket\]" "$W/play.log" ||
	fail "no reload handler after a changed drop-in"
ok "ansible-playbook scripts/ansible/playbook.yml -e aegis_deb=...: package installed, 50-telegraf.toml deployed, reload handler ran"
play -e aegis_deb="$deb" -e '{"aegis_dropins": [], "aegis_dropins_absent": ["50-telegraf.toml"]}' \
	>"$W/play2.log" 2>&1 || { tail -n 30 "$W/play2.log" >&2; fail "playbook (remove drop-in) failed"; }
[ ! -e /etc/aegis.d/50-telegraf.toml ] || fail "aegis_dropins_absent did not remove the drop-in"
DEBIAN_FRONTEND=noninteractive apt-get purge -y aegis >"$W/purge2.log" 2>&1 || fail "second purge failed"
installed=0
[ ! -e /etc/aegis.d ] && [ ! -e /usr/sbin/aegis ] || fail "files left after the second purge"
ok "the role removes drop-ins (aegis_dropins_absent); purged again, nothing left"
