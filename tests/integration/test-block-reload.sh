#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Reload: removing the rule unblocks at once, a broken file keeps blocking,
# and a connect loop running across many reloads between two policies that
# both forbid the port (with rule ids shifted between them) never gets
# through: no connect sees half a policy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/block-lib.sh"

blocked_exe blockme-py

write_config <<'EOF2'
[global]
include_dirs = ["@DROPINS@"]
script_dirs = ["@SCRIPTS@"]
default_actions = ["log"]
EOF2

policy_a() {
	write_dropin 50-block.toml <<'EOF2'
[[app]]
exe = "blockme-py@X@"
ports = ["24401"]
actions = ["block"]
EOF2
}

# same verdicts, different shape: another (non-blocking) app first, so every
# rule id differs from policy A, and the allowance comes from locals
policy_b() {
	write_dropin 50-block.toml <<'EOF2'
[[app]]
exe = "some-other-program"
actions = ["log"]

[[app]]
exe = "blockme-py@X@"
locals = ["24401"]
remote = false
actions = ["block"]
EOF2
}

start_server tcp,4,127.0.0.1,24401 tcp,4,127.0.0.1,24402

# no rule blocks: nothing is attached (no cost per connect)...
write_dropin 50-block.toml <<'EOF2'
[[app]]
exe = "blockme-py@X@"
ports = ["24401"]
actions = ["log"]
EOF2
enf_start attach-later
[ "$(n_attached)" = 0 ] || fail "programs attached although no rule blocks"
expect OK blockme-py tcp 4 127.0.0.1 24402
# ...until a reload brings one
policy_a
enf_reload
[ "$(n_attached)" = 1 ] || fail "reload with a block rule attached $(n_attached) program sets"
expect EPERM blockme-py tcp 4 127.0.0.1 24402
expect OK blockme-py tcp 4 127.0.0.1 24401

# remove the block: takes effect as soon as the reload is done
write_dropin 50-block.toml <<'EOF2'
[[app]]
exe = "blockme-py@X@"
ports = ["24401"]
actions = ["log"]
EOF2
enf_reload
wait_for 5 output_is OK try blockme-py tcp 4 127.0.0.1 24402 || fail "reload did not unblock"
ok "reload removing the rule unblocks"

policy_a
enf_reload
wait_for 5 output_is EPERM try blockme-py tcp 4 127.0.0.1 24402 || fail "reload did not block again"
ok "reload adding the rule blocks"

# broken file: the reload fails, the old policy keeps blocking
write_dropin 60-broken.toml <<'EOF2'
[[app]
exe = "blockme-py@X@"
EOF2
enf_reload
sleep 0.3
expect EPERM blockme-py tcp 4 127.0.0.1 24402
expect OK blockme-py tcp 4 127.0.0.1 24401
rm -f "$T/etc/aegis.d/60-broken.toml"
ok "reload with a broken file keeps blocking"

# atomic flip: hammer connects while flipping between A and B
cat >"$T/loop.py" <<'EOF2'
import os, socket, sys, time
stop, out = sys.argv[1], sys.argv[2]
n = through = 0
while not os.path.exists(stop):
    s = socket.socket()
    try:
        s.connect(('127.0.0.1', 24402))
        through += 1
    except PermissionError:
        pass
    except OSError:
        through += 1
    s.close()
    n += 1
    time.sleep(0.0002)  # do not starve the shared cores
open(out, 'w').write('%d %d\n' % (n, through))
EOF2
"$T/blockme-py$X" "$T/loop.py" "$T/stop" "$T/loop.out" &
LOOP=$!
bg_track $LOOP
for i in $(seq 1 10); do
	policy_b
	enf_reload
	policy_a
	enf_reload
done
touch "$T/stop"
wait $LOOP || true
read -r n through <"$T/loop.out"
[ "$n" -gt 100 ] || fail "connect loop made only $n attempts"
[ "$through" = 0 ] || fail "$through of $n connects got through during 20 reloads"
ok "$n connects during 20 reloads, none got through"
