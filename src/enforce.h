/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * In-kernel enforcement (block, kill): loads bpf/enforce.bpf.c, attaches its
 * cgroup/connect4, connect6, sendmsg4, sendmsg6 programs to the cgroup-v2
 * root (found in /proc/self/mountinfo) with bpf_link (multi-attach: other
 * users of these hooks keep working), and compiles the policy into its maps
 * (src/policy-compile.h). Semantics of the decision: bpf/enforce-api.h.
 *
 * Reload (enforce_apply): the new policy is compiled into fresh inner maps
 * installed in the inactive slot of each outer map, then one 4-byte write of
 * the generation index flips every connect to the new policy at once.
 *
 * Fail mode. Default (fail-open): nothing is pinned, the links live in this
 * process's fds, so enforcement ends when the daemon exits, also on a crash
 * or kill -9. global.enforce_persist = true (fail-closed): links and maps are
 * pinned under AEGIS_BPFFS_DIR (bpffs is mounted on /sys/fs/bpf when needed);
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
 * the connect is refused, so nothing leaves.
 *
 * Cmdline-only rules. An app with a cmdline matcher is selected through a
 * per-process verdict (tgid -> rule) that userspace writes from
 * enforce_proc_exec() (the daemon calls it for every exec record;
 * enforce_new() and enforce_apply() scan /proc for processes that already
 * run). To close the window between exec and that verdict, the
 * sched_process_exec program marks a new process "pending" when its exe is
 * named by (or is the path of) a cmdline app; a pending process's connects
 * are refused until the verdict lands or ENFORCE_PENDING_TIMEOUT_MS passes
 * (then the exe/path/user/unit rules decide: fail-open, e.g. when the daemon
 * is gone in persist mode). Cmdline apps without exe/path matchers have no
 * pending state: for them the window remains.
 *
 * WINDOW MEASUREMENT (tests/integration/test-block-cmdline.sh, this machine,
 * 2 shared cores, kernel 6.18): a program execs and immediately connects to
 * a forbidden loopback port in a loop; counted are the connects that got
 * through before the verdict.
 *   with the pending mark (exe = + cmdline = rule):  0 of N got through;
 *   without it (cmdline-only rule, no exe/path):     see the test's output
 *   and the numbers in the report (first connect ~0.1-1 ms after exec vs.
 *   verdict latency of the daemon's exec handling).
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
int enforce_set_host_addrs(struct enforce *e, const char *host, const struct cidr *addrs,
			   size_t n);
void enforce_get_status(const struct enforce *e, struct enforce_status *ret);
/* Detaches unless pinned. Accepts NULL; returns NULL. */
struct enforce *enforce_free(struct enforce *e);

/*
 * Removes pinned enforcement (links detached, pins and AEGIS_BPFFS_DIR
 * removed). Returns the number of links detached (0: nothing was pinned) or
 * -errno.
 */
int enforce_detach_pinned(void);
