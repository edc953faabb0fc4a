#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# aegis benchmark driver: the cost of aegis per connection, against a run
# without it and against the tools an admin would otherwise use, measured in
# the SAME run with interleaved A/B pairs (baseline, tool, baseline, tool...)
# so the ratios hold on a noisy machine. Loopback only, bounded in time.
#
#   tests/bench/run.sh [--pairs N] [--seconds S] [--mode tcp|udp|exec]
#                      [--tools default,large,bpftrace,auditd] [--smoke]
#
# Prints a table: per tool the median rate, the ratio to the median baseline
# rate of its own pairs, connect latency p50/p99, events made vs recorded,
# kernel drops, daemon CPU per 1,000 events and peak RSS. Nothing here is a
# pass/fail timing test; --smoke (used by CI) runs one short pair per tool
# to keep the driver working and fails only if something does not run.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${AEGIS_BUILDDIR:-$SRC/build}
AEGIS=${AEGIS_BIN:-$BUILD/src/aegis}
LOADGEN=$BUILD/tests/bench/loadgen
MATCHBENCH=$BUILD/tests/bench/match-bench
PAIRS=6
SECONDS_PER_RUN=5
MODE=tcp
TOOLS=default,large,bpftrace,auditd
CLIENTS=2
PORT=26100
SMOKE=0

while [ $# -gt 0 ]; do
	case "$1" in
	--pairs) PAIRS=$2; shift 2 ;;
	--seconds) SECONDS_PER_RUN=$2; shift 2 ;;
	--mode) MODE=$2; shift 2 ;;
	--tools) TOOLS=$2; shift 2 ;;
	--clients) CLIENTS=$2; shift 2 ;;
	--smoke) SMOKE=1; PAIRS=1; SECONDS_PER_RUN=1; TOOLS=default,large; shift ;;
	-h|--help) sed -n '2,20p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (BPF)" >&2; exit 1; }
[ -x "$LOADGEN" ] || { echo "run.sh: $LOADGEN missing: build first (ninja -C $BUILD)" >&2; exit 1; }
[ -x "$AEGIS" ] || { echo "run.sh: $AEGIS missing" >&2; exit 1; }

W=$(mktemp -d /tmp/aegis-bench.XXXXXX)
chmod 0755 "$W"
TOOL_PID=
cleanup() {
	stop_tool >/dev/null 2>&1 || true
	command -v auditctl >/dev/null && auditctl -D >/dev/null 2>&1 || true
	[ -n "${UNMOUNT_DEBUGFS:-}" ] && umount /sys/kernel/debug 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

log() { echo "bench: $*" >&2; }

# --- configurations -------------------------------------------------------

make_configs() {
	install -d -m 0755 "$W/default" "$W/large" "$W/large/aegis.d" "$W/empty.d"
	# The shipped default, with its include dir pointed at an empty dir so
	# whatever /etc/aegis.d holds on this host does not change the result.
	sed -e "s|\"/etc/aegis.d\"|\"$W/empty.d\"|" "$SRC/conf/aegis.toml" >"$W/default/aegis.toml"
	# Large: 2,000 [[app]] entries and 50,000 CIDRs (25,000 whitelist ips,
	# 25,000 app remotes), block rules on the connect path (for other exes,
	# so the load generator's own connects are evaluated and allowed).
	/usr/bin/python3 - "$W/large" "$W/empty.d" <<'PY'
import sys
d, empty = sys.argv[1], sys.argv[2]
with open(d + "/aegis.toml", "w") as f:
    f.write('[global]\ninclude_dirs = ["%s/aegis.d"]\nscript_dirs = []\n' % d)
    f.write('detent = 86400\ndefault_actions = ["log"]\nunconfigured_actions = ["log"]\n\n')
    f.write('[whitelist]\nips = [\n')
    for i in range(25000):
        f.write('  "10.%d.%d.0/24",\n' % (i // 256, i % 256))
    f.write(']\n')
for k in range(4):
    with open("%s/aegis.d/%02d-apps.toml" % (d, k), "w") as f:
        for j in range(500):
            i = k * 500 + j
            f.write('[[app]]\nexe = "benchapp-%d"\n' % i)
            f.write('remotes = [%s]\n' % ", ".join(
                '"172.%d.%d.0/24:%d"' % (16 + (i * 13 + r) // 256 % 16, (i * 13 + r) % 256, 1000 + r)
                for r in range(12 if i < 1000 else 13)))
            f.write('actions = ["block", "log"]\n\n')
PY
	chmod -R go-w "$W"
}

# --- tools ------------------------------------------------------------------
# start_tool NAME: starts it and waits until it is attached. stop_tool: stops it
# and sets STAT_EVENTS STAT_DROPS STAT_CPU_MS STAT_RSS_KB for the last run.

proc_cpu_ms() { # utime+stime of a pid in ms
	awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000 / hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}

start_aegis() {
	local cfg=$1
	"$AEGIS" run -c "$cfg" --json >"$W/aegis.out" 2>"$W/aegis.err" &
	TOOL_PID=$!
	for _ in $(seq 600); do
		grep -q ready "$W/aegis.err" 2>/dev/null && break
		kill -0 $TOOL_PID 2>/dev/null || { log "aegis failed: $(tail -3 "$W/aegis.err")"; return 1; }
		sleep 0.05
	done
	grep -q ready "$W/aegis.err" || { log "aegis not ready"; return 1; }
	CPU0=$(proc_cpu_ms $TOOL_PID)
}

start_tool() {
	TOOL=$1
	STAT_EVENTS=- STAT_DROPS=- STAT_CPU_MS=- STAT_RSS_KB=-
	case $TOOL in
	default) start_aegis "$W/default/aegis.toml" ;;
	large) start_aegis "$W/large/aegis.toml" ;;
	bpftrace)
		# What the original bpftrace-based snitch does: tracepoints on
		# connect/accept, printing pid, comm and destination.
		cat >"$W/snitch.bt" <<'BT'
tracepoint:syscalls:sys_enter_connect
{
	$sa = (struct sockaddr_in *)args->uservaddr;
	if ($sa->sin_family == 2) {
		printf("connect pid=%d comm=%s dst=%s:%d\n", pid, comm,
		       ntop(2, $sa->sin_addr.s_addr), (($sa->sin_port & 0xff) << 8) | ($sa->sin_port >> 8));
	}
}
tracepoint:syscalls:sys_exit_accept4, tracepoint:syscalls:sys_exit_accept
{
	if (args->ret >= 0) { printf("accept pid=%d comm=%s fd=%d\n", pid, comm, args->ret); }
}
BT
		bpftrace "$W/snitch.bt" >"$W/bt.out" 2>"$W/bt.err" &
		TOOL_PID=$!
		for _ in $(seq 600); do
			grep -q "Attaching" "$W/bt.out" "$W/bt.err" 2>/dev/null && break
			sleep 0.05
		done
		sleep 0.5
		CPU0=$(proc_cpu_ms $TOOL_PID)
		;;
	auditd)
		auditd -n -s disable >"$W/auditd.out" 2>&1 &
		TOOL_PID=$!
		sleep 0.5
		auditctl -D >/dev/null 2>&1 || true
		auditctl -a always,exit -F arch=b64 -S connect -k aegisbench >/dev/null
		auditctl -e 1 >/dev/null
		CPU0=$(proc_cpu_ms $TOOL_PID)
		;;
	*) log "unknown tool $TOOL"; return 1 ;;
	esac
}

stop_tool() {
	[ -n "$TOOL_PID" ] || return 0
	local cpu1 rc=0
	cpu1=$(proc_cpu_ms $TOOL_PID)
	STAT_CPU_MS=$(awk -v a="$CPU0" -v b="$cpu1" 'BEGIN{printf "%.0f", b - a}')
	STAT_RSS_KB=$(awk '/VmHWM/{print $2}' /proc/$TOOL_PID/status 2>/dev/null || echo -)
	case $TOOL in
	default|large)
		kill -TERM $TOOL_PID
		wait $TOOL_PID || rc=$?
		# Counters printed on exit, e.g. "events=N drops=N dedup=N".
		STAT_EVENTS=$(grep -o 'events[=: ]*[0-9]*' "$W/aegis.err" | tail -1 | grep -o '[0-9]*$' || echo -)
		STAT_DROPS=$(grep -o 'drops[=: ]*[0-9]*' "$W/aegis.err" | tail -1 | grep -o '[0-9]*$' || echo -)
		STAT_DEDUP=$(grep -o 'dedup[=: ]*[0-9]*' "$W/aegis.err" | tail -1 | grep -o '[0-9]*$' || echo 0)
		STAT_RECORDS=$(wc -l <"$W/aegis.out")
		;;
	bpftrace)
		kill -INT $TOOL_PID
		wait $TOOL_PID || true
		STAT_RECORDS=$(grep -c '^connect' "$W/bt.out" || true)
		STAT_DROPS=$(grep -o 'Lost [0-9]* events' "$W/bt.out" "$W/bt.err" | awk '{s += $2} END {print s + 0}')
		STAT_EVENTS=$STAT_RECORDS
		STAT_DEDUP=0
		;;
	auditd)
		auditctl -D >/dev/null 2>&1 || true
		STAT_DROPS=$(auditctl -s 2>/dev/null | awk '/^lost/{print $2}')
		kill -TERM $TOOL_PID
		wait $TOOL_PID || true
		STAT_RECORDS=$(ausearch -k aegisbench --raw 2>/dev/null | grep -c 'type=SYSCALL' || true)
		STAT_EVENTS=$STAT_RECORDS
		STAT_DEDUP=0
		;;
	esac
	TOOL_PID=
	return $rc
}

ensure_tool() {
	case $1 in
	bpftrace)
		command -v bpftrace >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bpftrace >/dev/null
		# bpftrace 0.17 finds tracepoints under debugfs only.
		if [ ! -d /sys/kernel/debug/tracing/events ]; then
			mount -t debugfs debugfs /sys/kernel/debug && UNMOUNT_DEBUGFS=1
		fi
		;;
	auditd)
		if ! command -v auditd >/dev/null; then
			# Install without starting the service: we start and stop it ourselves.
			printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
			chmod +x /usr/sbin/policy-rc.d
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq auditd >/dev/null || true
			rm -f /usr/sbin/policy-rc.d
		fi
		pkill -x auditd 2>/dev/null || true
		;;
	esac
}

run_load() { # prints "rate p50 p99 ops"
	"$LOADGEN" "$MODE" -t "$SECONDS_PER_RUN" -c "$CLIENTS" -p "$PORT" |
		sed -n 's/.*ops=\([0-9]*\).*rate=\([0-9.]*\) p50_us=\([0-9.]*\) p99_us=\([0-9.]*\).*/\2 \3 \4 \1/p'
}

median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# --- main -------------------------------------------------------------------

make_configs
printf '%-10s %10s %10s %7s %8s %8s %12s %12s %7s %10s %8s\n' tool base/s tool/s ratio p50us p99us made recorded drops cpu/1kev rssKiB >"$W/table"
IFS=, read -ra tool_list <<<"$TOOLS"
rc=0
for tool in "${tool_list[@]}"; do
	ensure_tool "$tool"
	: >"$W/base.$tool"
	: >"$W/tool.$tool"
	made=0 recorded=0 drops=0 cpu=0 rss=0 events=0
	for p in $(seq "$PAIRS"); do
		read -r rate p50 p99 ops < <(run_load)
		echo "$rate" >>"$W/base.$tool"
		if ! start_tool "$tool"; then
			log "$tool did not start"
			rc=1
			break
		fi
		read -r rate p50 p99 ops < <(run_load)
		stop_tool || { log "$tool exited with an error"; rc=1; }
		echo "$rate $p50 $p99" >>"$W/tool.$tool"
		made=$((made + ops))
		if [ "$STAT_EVENTS" != - ] && [ -n "$STAT_EVENTS" ]; then
			recorded=$((recorded + STAT_EVENTS + ${STAT_DEDUP:-0}))
			events=$((events + STAT_EVENTS))
		fi
		[ -n "$STAT_DROPS" ] && [ "$STAT_DROPS" != - ] && drops=$((drops + STAT_DROPS))
		[ "$STAT_CPU_MS" != - ] && cpu=$((cpu + STAT_CPU_MS))
		[ "$STAT_RSS_KB" != - ] && [ "$STAT_RSS_KB" -gt "$rss" ] && rss=$STAT_RSS_KB
		log "$tool pair $p: base $(tail -1 "$W/base.$tool") tool $rate/s"
	done
	[ -s "$W/tool.$tool" ] || continue
	b=$(median <"$W/base.$tool")
	t=$(cut -d' ' -f1 "$W/tool.$tool" | median)
	p50=$(cut -d' ' -f2 "$W/tool.$tool" | median)
	p99=$(cut -d' ' -f3 "$W/tool.$tool" | median)
	ratio=$(awk -v a="$t" -v b="$b" 'BEGIN{printf "%.3f", (b > 0) ? (a / b) : 0}')
	cpu_per_k=$(awk -v c="$cpu" -v e="$events" 'BEGIN{if (e > 0) printf "%.2fms", c * 1000 / e; else print "-"}')
	printf '%-10s %10.0f %10.0f %7s %8s %8s %12s %12s %7s %10s %8s\n' "$tool" "$b" "$t" "$ratio" "$p50" "$p99" \
		"$made" "$recorded" "$drops" "$cpu_per_k" "$rss" >>"$W/table"
done

echo
echo "aegis benchmark: mode=$MODE clients=$CLIENTS pairs=$PAIRS seconds=$SECONDS_PER_RUN (ratio = median tool rate / median baseline rate of the same pairs)"
cat "$W/table"
echo "made = connections made by the load generator (x2 events in tcp mode: connect + accept); recorded = events the tool recorded (aegis: records + in-kernel dedup folds)."

# Policy load time and the pure matcher (no BPF): cost must not grow with apps.
if [[ ",$TOOLS," == *",large,"* ]]; then
	t0=$(date +%s%N)
	"$AEGIS" check-config -c "$W/large/aegis.toml" >/dev/null 2>&1 || { log "large policy failed check-config"; rc=1; }
	t1=$(date +%s%N)
	echo "large policy (2,000 apps, 50,000 CIDRs): check-config load+validate $(((t1 - t0) / 1000000)) ms"
fi
if [ -x "$MATCHBENCH" ]; then
	"$MATCHBENCH" $([ $SMOKE = 1 ] && echo --quick) || rc=1
fi
exit $rc
