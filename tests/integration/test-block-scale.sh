#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 2,000 app rules and 50,000 CIDRs compile and load into the enforcement maps
# in under a second and do not change the verdicts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/block-lib.sh"

blocked_exe blockme-py

write_config <<'EOF2'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
default_actions = ["log"]
EOF2

# the app under test, plus 1,999 more with 25 remote CIDRs each (49,975), and
# 25 more CIDRs on blockme-py itself (fd00::/32-style entries match no
# loopback peer: ports alone decide for 127.0.0.1 and ::1)
$PY - "$T/etc/aegis.d/40-many.toml" "$X" <<'EOF2'
import sys
out = open(sys.argv[1], 'w')
X = sys.argv[2]
n = 0
for a in range(1999):
    cidrs = []
    for k in range(25):
        cidrs.append('"10.%d.%d.0/24:443"' % (n // 256 % 256, n % 256) if n < 65536 else '"11.0.0.0/8:1"')
        n += 1
    out.write('[[app]]\nexe = "many-app-%d"\nremotes = [%s]\nactions = ["block"]\n\n' % (a, ', '.join(cidrs)))
out.write('[[app]]\nexe = "blockme-py' + X + '"\nports = ["24501"]\nremotes = [%s]\nactions = ["block"]\n' %
          ', '.join('"[fd00:%x::/32]:443"' % i for i in range(25)))
EOF2
chmod 0644 "$T/etc/aegis.d/40-many.toml"

start_server tcp,4,127.0.0.1,24501 tcp,4,127.0.0.1,24502 udp,6,::1,24502
blocked_exe other-py

enf_start
# the log line of the first application: "Enforcement policy 1 applied in N ms: ..."
line=$(enf_log | grep -m1 "Enforcement policy 1 applied" || true)
[ -n "$line" ] || fail "no apply log line: $(enf_log | tail -5)"
echo "# $line"
ms=$(sed -E 's/.* applied in ([0-9]+) ms.*/\1/' <<<"$line")
cidrs=$(sed -E 's/.* ([0-9]+)\+([0-9]+) CIDR prefixes.*/\1+\2/' <<<"$line")
[ "$((cidrs))" -ge 50000 ] || fail "only $cidrs CIDR prefixes compiled"
[ "$ms" -lt 1000 ] || fail "2,000 apps / 50,000 CIDRs took $ms ms to apply"
ok "2,000 apps and $((cidrs)) CIDR prefixes applied in $ms ms"

expect EPERM blockme-py tcp 4 127.0.0.1 24502
expect EPERM blockme-py udpsendto 6 ::1 24502
expect OK blockme-py tcp 4 127.0.0.1 24501
expect OK other-py tcp 4 127.0.0.1 24502

# reload of the same size: also under a second, verdicts unchanged
enf_reload
sleep 0.5
line=$(enf_log | grep -m1 "Enforcement policy 2 applied" || true)
[ -n "$line" ] || fail "no apply log line for the reload"
ms=$(sed -E 's/.* applied in ([0-9]+) ms.*/\1/' <<<"$line")
[ "$ms" -lt 1000 ] || fail "reload took $ms ms to apply"
ok "reload applied in $ms ms"
expect EPERM blockme-py tcp 4 127.0.0.1 24502
expect OK blockme-py tcp 4 127.0.0.1 24501
