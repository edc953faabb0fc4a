/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Policy compiler: the block-relevant part of a config as the contents of
 * the enforcement maps (bpf/enforce-api.h). Pure: the few facts that need the
 * system (inode of a path, cgroup of a unit, hostname addresses) come from
 * the caller through struct pcompile_env; exe aliases are symlinks read in
 * env->exe_dirs (the standard binary directories). No logging.
 *
 * What the kernel can decide (mirrors policy.h):
 *  - whitelist ips/ports/programs (names, and paths by inode/device);
 *  - apps identified by exe (dentry name, and the names of the exe's aliases,
 *    policy.h 2), path (inode/device of the file at compile time), user
 *    (uid), unit (cgroup id of the unit's cgroup at
 *    compile time, matched as an ancestor of the task's cgroup), and any
 *    combination; their local/remote permissions, which peer classes their
 *    allow lists restrict (policy_app_restricts()), ports, locals, remotes
 *    (CIDRs and hostnames with the addresses known at compile time into the
 *    cidr tries, matched for local and remote peers; port-only entries into
 *    a port set, for remote peers);
 *  - unconfigured programs (with global.block_unconfigured_programs).
 * Apps with a cmdline matcher are compiled as rules too, but only a
 * per-process verdict written by userspace selects them (PCOMPILE_CMDLINE).
 * Rules userspace alone can decide (PCOMPILE_USERSPACE): a path that does not
 * exist, a unit with no cgroup, a user that did not resolve to a uid. They
 * match nothing in the kernel.
 * A rule id is the app's index in config->apps.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "config.h"
#include "enforce-api.h"

struct pcompile_env {
	/* inode and kernel dev_t (major << 20 | minor) of a file; < 0 if absent */
	int (*stat_path)(const char *path, __u64 *ret_ino, __u32 *ret_dev, void *userdata);
	/* cgroup id and depth (root = 0) of a unit's cgroup; < 0 if none */
	int (*unit_cgroup)(const char *unit, __u64 *ret_cgid, unsigned *ret_level, void *userdata);
	/* current addresses of a hostname used in remotes; 0 and n = 0 when unresolved */
	int (*host_addrs)(const char *host, const struct cidr **ret, size_t *ret_n, void *userdata);
	void *userdata;
	/*
	 * Where exe aliases are looked up (policy_exe_aliases()): NULL (or a NULL
	 * env) = policy_std_exe_dirs, as policy_new() does, so both agree.
	 */
	const char *const *exe_dirs;
};

enum pcompile_kind {
	PCOMPILE_KERNEL, /* fully decided in the kernel */
	PCOMPILE_CMDLINE, /* needs the per-process verdict (cmdline regex) */
	PCOMPILE_USERSPACE, /* cannot match in the kernel (see above) */
};

struct pcompile_rule_info {
	size_t app; /* index in config->apps */
	enum pcompile_kind kind;
	bool blocks; /* block or kill on violation */
	const char *why; /* static: reason for CMDLINE/USERSPACE, "" otherwise */
};

struct pcompile_id {
	struct aegis_enf_id_key key;
	struct aegis_enf_id_val val;
};

struct pcompile_cidr4 {
	struct aegis_enf_cidr4_key key;
	__u32 val;
};

struct pcompile_cidr6 {
	struct aegis_enf_cidr6_key key;
	__u32 val;
};

struct pcompile_plan {
	struct aegis_enf_hdr hdr;
	struct pcompile_id *ids;
	size_t n_ids, cap_ids;
	struct aegis_enf_rule *rules; /* index = rule id = app index */
	size_t n_rules;
	struct aegis_enf_port_key *ports;
	size_t n_ports, cap_ports;
	struct pcompile_cidr4 *c4;
	size_t n_c4, cap_c4;
	struct pcompile_cidr6 *c6;
	size_t n_c6, cap_c6;
	struct pcompile_rule_info *info; /* one per app */
	size_t n_info;
	unsigned n_kernel, n_cmdline, n_userspace; /* blocking apps by kind */
	bool has_cmdline; /* some app has a cmdline matcher: verdicts needed */
	uint32_t next_set;
	struct policy_exe_index *exe_index; /* during pcompile() only */
	struct pset_table *psets; /* during pcompile() only */
};

int pcompile(const struct config *c, const struct pcompile_env *env, struct pcompile_plan **ret);
struct pcompile_plan *pcompile_plan_free(struct pcompile_plan *p);

/*
 * Renumbers p's port and CIDR sets so that a set with the same content as
 * one of ref's (the plan in force) gets ref's id, and new content ids ref
 * does not use: an edit to one app then changes that app's entries only,
 * not the ids (and so the map keys) of every set compiled after it. Same
 * meaning, other numbers. ref NULL: nothing to do. Returns 0 or -errno.
 */
int pcompile_renumber(struct pcompile_plan *p, const struct pcompile_plan *ref);

/* Whether an app's resulting actions refuse the connection (block/kill, and no "allow"). */
unsigned pcompile_block_bits(unsigned actions);

/*
 * Calls cb(prefix_value, prefix_len) for the minimal prefixes covering
 * [lo, hi] in a width-bit space (16 for ports, 32, 128). Exposed for tests.
 */
int pcompile_range_prefixes(unsigned __int128 lo, unsigned __int128 hi, unsigned width,
			    int (*cb)(unsigned __int128 v, unsigned plen, void *userdata),
			    void *userdata);
