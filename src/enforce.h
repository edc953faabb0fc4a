/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * In-kernel enforcement (block, kill): loads bpf/enforce.bpf.c, attaches its
 * cgroup/connect4, connect6, sendmsg4, sendmsg6 programs to the cgroup-v2
 * root (found in /proc/self/mountinfo) with bpf_link (multi-attach: other
 * users of these hooks keep working), and compiles the policy into its maps
 * (src/policy-compile.h). Semantics of the decision: bpf/enforce-api.h.
 * Nothing is attached while no rule blocks or kills (no cost per connect);
 * the first policy that blocks attaches, and the links stay until
 * enforce_free(). Only outbound connect()/sendmsg() can be refused this way;
 * inbound (accept) violations are left to the userspace actions.
 *
 * Reload (enforce_apply): the policy maps hold two slots (the slot is part
 * of every key, bpf/enforce-api.h); the new policy is written into the
 * inactive slot, then one 4-byte write of the generation index flips every
 * connect to it at once. Cheap reloads:
 *  - the compiled plan equals the installed one (same map contents and
 *    header: SIGHUP, a config manager re-run): nothing is written or flipped
 *    (cmdline verdicts are re-classified in place);
 *  - set ids are stable (pcompile_renumber() against the plan in force, and
 *    equal port sets shared), so an edit to one app changes that app's
 *    entries only, and the inactive slot gets just the difference to what
 *    it holds (batched deletes/updates);
 *  - after a flip, the now inactive slot is brought to the active plan in
 *    the background (JOB_STEP_ENTRIES per event loop turn), so it differs
 *    from the next policy by that policy's changes only. A reload during
 *    that finishes it first.
 * Before a slot that was active is rewritten, one RCU grace period passes
 * (an update of the enf_fence map-in-map): no program that read it before
 * the flip still runs. A failure makes the slot's content unknown: its keys
 * are read back and deleted before the next write (as after adopting
 * pinned maps). No map-in-map installs: those wait for a grace period each.
 * Measured (2,000 apps, 25,000 whitelist /24s + 25,000 app remotes; the
 * enforcement part of "Reloaded"): start 70-105 ms (29,000 map writes),
 * unchanged 9-22 ms (pcompile), one app's remotes port changed or a new port
 * 12-27 ms (13-28 map writes), a whitelist entry changed 12-36 ms.
 * Each applied set gets a unique hdr.seq (continued from the pinned sets
 * when adopting): the kernel's per-process cache (enf_pcache in
 * bpf/enforce.bpf.c) is only valid for the seq it was filled under.
 *
 * Fail mode. Default (fail-open): nothing is pinned, the links live in this
 * process's fds, so enforcement ends when the daemon exits, also on a crash
 * or kill -9. global.enforce_persist = true (fail-closed): links and maps are
 * pinned under AEGIS_BPFFS_DIR (bpffs is mounted on /sys/fs/bpf when needed;
 * $AEGIS_BPFFS_DIR=/sys/fs/bpf/NAME overrides it, for tests);
 * they survive the daemon, and the next enforce_new() adopts them: it reuses
 * the pinned maps, swaps its freshly loaded programs into the pinned links
 * (BPF_LINK_UPDATE: still one attachment per hook) and re-populates the
 * maps. enforce_detach_pinned() removes pinned enforcement (`aegis run
 * --detach-enforcement`).
 *
 * Exemptions: PID 1 and every tgid in the exempt map (aegis itself, added by
 * enforce_new(); its children, e.g. hook scripts, inherit it at fork in the
 * kernel) are never blocked or killed.
 *
 * Kill: decided in the same cgroup hook; bpf_send_signal(SIGKILL) there, and
 * the connect is refused, so nothing leaves. (Kernels that refuse the helper
 * in cgroup programs get the programs without it: still refused in the
 * kernel, killed by the userspace kill action; status.kill_in_kernel says which.)
 *
 * Cmdline rules. An app with a cmdline matcher is selected through a
 * per-process verdict (tgid -> rule, or "no cmdline app matches") that
 * enforce writes itself: the sched_process_exec program sends the execs that
 * need one (see below) on enforce's own ring buffer with an immediate
 * wakeup; enforce reads /proc/PID/{exe,cmdline,status}, runs the policy
 * matcher (policy_match_app(), the daemon's code) and writes the verdict.
 * enforce_new() and enforce_apply() scan /proc once for processes that
 * already run; fork inherits the verdict in the kernel; exec drops it.
 * To close the window between exec and the verdict, an exec of an exe that
 * a blocking cmdline app names (exe = or path =) is marked "pending": its
 * connects are refused until the verdict lands or
 * ENFORCE_PENDING_TIMEOUT_MS passes (then the exe/path/user/unit rules
 * decide: fail-open, e.g. when the daemon is gone in persist mode). A
 * blocking cmdline app with no exe/path makes every exec go through the
 * feed (a /proc read per exec) without a pending mark: for those the window
 * remains. In status: n_cmdline_rules, and "cmdline verdict" in rules[].
 *
 * WIRING INTO THE DAEMON (manager.c):
 *   startup, after setup_bpf():  if (m->config) { enforce_new(m->config,
 *       &m->enforce); enforce_attach_event_loop(m->enforce, m->loop); }
 *       (fatal on error: the policy asked for blocks);
 *   manager_apply_config(): if (m->enforce) r = enforce_apply(m->enforce, c);
 *       on r < 0 keep the old config (reload failure: enforce still holds
 *       the old policy). Call it after every other step that can fail, or
 *       enforce_apply() the old config again when a later step fails: enforce
 *       keeps c (for enforce_set_host_addrs() recompiles), so c must stay
 *       valid until the next enforce_apply()/enforce_free();
 *   status: manager_status_parts.enforce = m->enforce; blocks/kills are in
 *       enforce_status (enforce's own counter map, not bpf-loader's);
 *   manager_free(): enforce_free(m->enforce) (before freeing the config);
 *   `aegis run --detach-enforcement`: enforce_detach_pinned(), print, exit;
 *   optional: enforce_proc_exec()/enforce_proc_exit() from exec/exit records
 *       (enforce's own exec feed already covers it), enforce_update_local_addrs()
 *       when the host's addresses change, enforce_set_host_addrs() with the
 *       resolver's results (like policy_set_host_addrs()).
 *
 * WINDOW MEASUREMENT (tests/integration/test-block-cmdline.sh; this machine:
 * 2 cores shared with other test runs, load average 6-7, kernel 6.18). A
 * copy of nc execs and connects to a forbidden loopback port ~1 ms later,
 * 100 times in a row; the server counts what got through.
 *   exe + cmdline rule (pending mark):   0 of 100 got through (every run);
 *     the price: the same exe with an allowed cmdline is refused while
 *     pending: 3-46 of 100 immediate connects (a program that connects
 *     later than the verdict latency below is not affected);
 *   cmdline-only rule (no exe/path: no pending mark, every exec is sent to
 *     the feed): 1-47 of 100 immediate connects got through before the
 *     verdict; a process that connects later than that is blocked.
 *   exec -> verdict in the map (the feed's wakeup, /proc read, regex, map
 *   update): avg ~200 us, max ~25 ms under that load.
 * The daemon's trace ring buffer is polled every 10-80 ms (batched
 * wakeups), which is why the verdicts do not wait for it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "addrset.h"
#include "config.h"

#define ENFORCE_PENDING_TIMEOUT_MS 2000

struct enforce;

struct enforce_status {
	bool active; /* programs attached and some rule blocks */
	bool pinned; /* persist mode: links/maps pinned in bpffs */
	bool adopted; /* links were found pinned and adopted at start */
	unsigned n_kernel_rules; /* blocking apps decided fully in the kernel */
	unsigned n_cmdline_rules; /* blocking apps that need per-process cmdline verdicts */
	unsigned n_userspace_only; /* blocking apps that cannot match in the kernel */
	uint64_t blocks, kills; /* AEGIS_CNT_BLOCKS/KILLS of the enforce programs */
	const char *cgroup_root;
	/* additive: one line per blocking app, "in-kernel: exe=nc", "cmdline: ...",
	 * "userspace-only (why): ..."; NULL-terminated, owned by e */
	char *const *rules;
	unsigned n_links; /* links held (4 cgroup + 3 tracepoints when complete) */
	uint64_t generation; /* policy applications since start */
	bool kill_in_kernel; /* kill rules SIGKILL from the cgroup hook (else userspace kills) */
	/* the exec feed: execs classified, and exec -> verdict-in-the-map latency */
	uint64_t exec_events, verdict_latency_avg_us, verdict_latency_max_us;
	uint64_t apply_usec; /* the last policy application (compile + map writes) */
	uint64_t map_writes; /* map entries it wrote (0: unchanged) */
};

/* Load + attach (or adopt pinned) + compile c. */
int enforce_new(const struct config *c, struct enforce **ret);
/* Reload: compile into the inactive set, flip. On error the old policy stays. */
int enforce_apply(struct enforce *e, const struct config *c);
/* Per-process verdict for cmdline rules (call for every exec; cmdline joined by spaces). */
int enforce_proc_exec(struct enforce *e, pid_t pid, const char *exe, const char *cmdline,
		      uid_t uid);
void enforce_proc_exit(struct enforce *e, pid_t pid);
/* Never block or kill pid (inherited by its future children). */
int enforce_exempt_self(struct enforce *e, pid_t pid);
/* Re-reads this host's addresses (local/remote classification); call on address changes. */
int enforce_update_local_addrs(struct enforce *e);
/* Addresses of a hostname used in remotes (from the resolver); recompiles. */
int enforce_set_host_addrs(struct enforce *e, const char *host, const struct cidr *addrs, size_t n);
/*
 * The exec feed: the kernel reports execs that cmdline rules must classify
 * (candidates, see above) on enforce's own ring buffer with an immediate
 * wakeup, and enforce writes their verdicts itself. Either register it on
 * the daemon's loop with enforce_attach_event_loop(), or poll
 * enforce_event_fd() and call enforce_process_events() when readable.
 * enforce_proc_exec() from the daemon's exec records stays valid (a second,
 * later path: same verdict). Until the feed is polled (enforce_event_fd()
 * was called), no exec is held pending.
 */
struct event_loop;
int enforce_attach_event_loop(struct enforce *e, struct event_loop *l);
int enforce_event_fd(const struct enforce *e);
int enforce_process_events(struct enforce *e);
void enforce_get_status(const struct enforce *e, struct enforce_status *ret);
/* Detaches unless pinned. Accepts NULL; returns NULL. */
struct enforce *enforce_free(struct enforce *e);

/*
 * Removes pinned enforcement (links detached, pins and AEGIS_BPFFS_DIR
 * removed). Returns the number of links detached (0: nothing was pinned) or
 * -errno.
 */
int enforce_detach_pinned(void);
