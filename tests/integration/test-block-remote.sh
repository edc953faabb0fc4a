#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Remote peers: remotes (CIDR:port, v4 and v6), remote = false, whitelist
# ips and ports, decided in the kernel. Client and server run in a private
# network namespace with extra addresses on its lo, so 10.99.0.x / fd00:99::x are
# remote addresses for the policy (not addresses of this host) and no
# traffic leaves the machine.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/block-lib.sh"

command -v nsenter >/dev/null || skip "nsenter missing"
blocked_exe blockme-py
blocked_exe noremote-py
blocked_exe nolocal-py
blocked_exe hostme-py
# a hostname for the remotes of hostme-py, only in this test's mount namespace
cp /etc/hosts "$T/hosts"
echo "10.99.0.2 aegis-enf-peer.test" >>"$T/hosts"
mount --bind "$T/hosts" /etc/hosts

unshare -n sleep 600 &
NSPID=$!
bg_track $NSPID
# never configure anything before the new namespace exists (it would be the host's)
_in_new_netns() {
	[ "$(readlink "/proc/$NSPID/ns/net")" != "$(readlink /proc/self/ns/net)" ]
}
wait_for 10 _in_new_netns || fail "network namespace not created"
ns() { nsenter -t "$NSPID" -n "$@"; }
ns ip link set lo up
# on lo: the "dummy" module is not always there; what matters is that these
# are not addresses of the host's (the daemon's) network namespace
ns ip addr add 10.99.0.2/32 dev lo
ns ip addr add 10.99.0.3/32 dev lo
ns ip -6 addr add fd00:99::2/128 dev lo

write_config <<'EOF2'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
default_actions = ["log"]

[whitelist]
ips = ["10.99.0.3"]
ports = ["24608"]
EOF2
write_dropin 50-block.toml <<'EOF2'
[[app]]
exe = "blockme-py@X@"
remotes = ["10.99.0.2:24601", "[fd00:99::2]:24601", "10.99.0.0/24:24603-24605"]
actions = ["block"]

[[app]]
exe = "noremote-py@X@"
remote = false
actions = ["block"]

[[app]]
exe = "nolocal-py@X@"
local = false
actions = ["block"]

[[app]]
exe = "hostme-py@X@"
remotes = ["aegis-enf-peer.test:24601"]
actions = ["block"]
EOF2

rm -f "$T/server.ready"
# nsenter execs the server itself, so $! is the server (tracked for cleanup)
nsenter -t "$NSPID" -n "$BLOCK_PY" "$T/server.py" "$T" tcp,4,10.99.0.2,24601 tcp,4,10.99.0.2,24602 \
	tcp,4,10.99.0.2,24603 tcp,4,10.99.0.3,24606 tcp,4,10.99.0.2,24604 tcp,4,10.99.0.2,24608 \
	tcp,6,fd00:99::2,24601 tcp,6,fd00:99::2,24602 udp,4,10.99.0.2,24602 \
	udp,6,fd00:99::2,24602 tcp,4,127.0.0.1,24607 >"$T/server.log" 2>&1 &
bg_track $!
wait_for 10 test -e "$T/server.ready" || fail "server did not start: $(cat "$T/server.log")"

enf_start

nexpect() {
	local want=$1
	shift
	local got
	got=$(ns "$T/$1$X" "$T/client.py" "${@:2}" 2>&1 | tail -1)
	[ "$got" = "$want" ] || fail "$* -> $got, expected $want"
	ok "$* -> $got"
}

nexpect OK blockme-py tcp 4 10.99.0.2 24601
nexpect EPERM blockme-py tcp 4 10.99.0.2 24602
nexpect OK blockme-py tcp 4 10.99.0.2 24603
nexpect OK blockme-py tcp 6 fd00:99::2 24601
nexpect EPERM blockme-py tcp 6 fd00:99::2 24602
nexpect EPERM blockme-py udpsendto 4 10.99.0.2 24602
nexpect EPERM blockme-py udpconnect 6 fd00:99::2 24602
nexpect OK blockme-py tcp 4 10.99.0.2 24604
# whitelist: ip (24606 is in no remotes entry) and port
nexpect OK blockme-py tcp 4 10.99.0.3 24606
nexpect OK blockme-py tcp 4 10.99.0.2 24608
# a local peer: no remotes entry lies within loopback and no ports/locals are
# given, so local peers are not restricted (policy.h 5a)
nexpect OK blockme-py tcp 4 127.0.0.1 24607
# remote = false
nexpect EPERM noremote-py tcp 4 10.99.0.2 24601
nexpect OK noremote-py tcp 4 127.0.0.1 24607

# hostnames: the kernel gets the resolver's addresses (enforce_set_host_addrs)
if [ -z "$ENF_DRIVER" ]; then
	_hostme_ok() { [ "$(ns "$T/hostme-py$X" "$T/client.py" tcp 4 10.99.0.2 24601)" = OK ]; }
	wait_for 10 _hostme_ok || fail "hostme-py never allowed to aegis-enf-peer.test:24601"
	ok "remotes hostname: allowed once resolved"
	nexpect EPERM hostme-py tcp 4 10.99.0.2 24602
	nexpect EPERM hostme-py tcp 4 10.99.0.4 24601
fi

sleep 0.3
for c in tcp4.24602 tcp6.24602 udp4.24602 udp6.24602; do
	[ "$(cat "$T/count.$c")" = 0 ] || fail "server $c saw $(cat "$T/count.$c") from blocked clients"
done
ok "server saw nothing from the blocked clients"

# this host's own (non-loopback) addresses are local peers (enf_local4/6 from
# getifaddrs): remote = false passes, local = false is refused. Connects to
# our own address stay on this machine.
HOST4=$(ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)
HOST6=$(ip -6 -o addr show scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)
specs=()
[ -n "$HOST4" ] && specs+=("tcp,4,$HOST4,24609")
[ -n "$HOST6" ] && specs+=("tcp,6,$HOST6,24609")
if [ ${#specs[@]} = 0 ]; then
	echo "# this host has no global address: local classification of own addresses not exercised"
	exit 0
fi
start_server "${specs[@]}"
if [ -n "$HOST4" ]; then
	expect OK noremote-py tcp 4 "$HOST4" 24609
	expect EPERM nolocal-py tcp 4 "$HOST4" 24609
fi
if [ -n "$HOST6" ]; then
	expect OK noremote-py tcp 6 "$HOST6" 24609
	expect EPERM nolocal-py tcp 6 "$HOST6" 24609
fi
expect EPERM nolocal-py tcp 4 127.0.0.1 24609
