/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Enforcement maps: what bpf/enforce.bpf.c reads at connect time and
 * src/enforce.c writes. Included after vmlinux.h (BPF) or <linux/types.h>
 * (userspace). Only __u8..__u64 and explicit padding.
 *
 * Policy sets. Everything the policy compiler produces lives in one "set"
 * (entries of ids, rules, ports, cidr4, cidr6, procv) plus one header. There
 * are two sets (slots) in the same maps, the slot part of every key
 * (AEGIS_ENF_SLOT_BIT), selected by enf_gen[0] (0 or 1). A reload rewrites
 * the inactive slot's entries (the difference to what it holds) and
 * enf_hdr[inactive], then writes enf_gen[0]: one 4-byte store, so a connect
 * sees either the whole old policy or the whole new one (the program reads
 * enf_gen once at entry). Before a slot that was active is rewritten,
 * userspace waits for the programs that may still read it (enf_fence).
 *
 * Decision for an outbound connect/sendmsg to (dst, dport) by task T:
 *  1. exempt: T's tgid is 1, or in enf_exempt (aegis, its hook scripts; fork
 *     inherits) -> allow.
 *  2. whitelist: dst in cidr set AEGIS_ENF_SET_WL, dport in port set
 *     AEGIS_ENF_SET_WL, or T's exe (name or inode/dev) has a WL_* id -> allow.
 *  3. app: if procv[tgid] exists, that rule (a cmdline app chosen in
 *     userspace, or AEGIS_ENF_NO_RULE = no cmdline app matches); else the
 *     highest-rank ids entry among (exe name | exe inode/dev | none) x
 *     (uid | any) x (cgroup ancestor at a configured level | any).
 *     If no procv entry exists but enf_pending[tgid] holds a deadline in the
 *     future (a fresh exec of an exe that cmdline rules may match), the
 *     connect is refused until userspace writes the verdict.
 *  4. rule (policy.h steps 3-5 for direction "out", peer = dst): ignore ->
 *     allow. The destination is "local" if it is loopback, unspecified, or in
 *     enf_local4/6. Violation when local && NO_LOCAL, or !local && NO_REMOTE.
 *     The peer's class is restricted when the rule has LOCAL_RESTR (local
 *     peer) or REMOTE_RESTR (remote peer), computed at compile time by
 *     policy_app_restricts(); an unrestricted class -> allowed. Else allowed
 *     when: dport in the PORTS set; or local and dport in the LOCALS set; or
 *     (dst, dport) in the rule's REMOTES address entries, whatever the class
 *     (the cidr tries give, for the longest prefix containing dst, the port
 *     set of all address/CIDR/hostname entries whose CIDR contains dst); or
 *     !local and dport in the RPORTS set (port-only remotes entries).
 *     No rule -> the header's unconfigured verdict.
 *  5. violation with BLOCK -> refuse (EPERM); with KILL -> refuse and
 *     bpf_send_signal(SIGKILL) in the same hook.
 * The per-process parts (whitelist.programs in 2, the ids lookup in 3) are
 * cached per tgid in enf_pcache, valid for one hdr.seq, exe_file, uid and
 * cgroup (bpf/enforce.bpf.c): a repeat connect skips the exe reads and id
 * lookups. The whitelist only turns a refusal into an allow, so its LPM
 * lookups run only for a connect that would be refused; procv and
 * enf_pending only when the policy has cmdline apps (AEGIS_ENF_H_PROCV).
 * enf_connect4 with the bench's 2,000-app/50,000-CIDR policy, loadgen's
 * connects: ~800 ns per run before, ~320 ns (bpf_stats run_time_ns/run_cnt).
 */
#pragma once

#define AEGIS_ENF_NAME_MAX 64 /* exe dentry name bytes compared (incl. NUL) */
#define AEGIS_ENF_ANY_UID 0xffffffffu
#define AEGIS_ENF_NO_RULE 0xffffffffu
#define AEGIS_ENF_NO_SET 0xffffffffu /* cidr value: any port */
#define AEGIS_ENF_SET_WL 0u /* set id of the whitelist in ports/cidr tries */
#define AEGIS_ENF_CG_LEVELS 8 /* cgroup ancestor levels checked for unit rules */
/*
 * Both generations live in the same maps: the slot is the top bit of set
 * ids (ports/cidr keys), rule ids (rules keys) and tgids (procv keys), and
 * the id key's slot field. Set ids, rule ids and tgids stay below it.
 */
#define AEGIS_ENF_SLOT_BIT 0x80000000u
#define AEGIS_ENF_SLOT(gen) ((gen)&1 ? AEGIS_ENF_SLOT_BIT : 0u)

/* Entries per generation (the maps hold two). */
#define AEGIS_ENF_MAX_IDS 65536
#define AEGIS_ENF_MAX_RULES 65536
#define AEGIS_ENF_MAX_PORTS 262144
#define AEGIS_ENF_MAX_CIDR4 262144
#define AEGIS_ENF_MAX_CIDR6 131072
#define AEGIS_ENF_MAX_PROCS 65536

enum aegis_enf_id_kind {
	AEGIS_ENF_ID_NONE = 0, /* no exe matcher (user/unit only) */
	AEGIS_ENF_ID_EXE = 1, /* exe dentry name */
	AEGIS_ENF_ID_PATH = 2, /* exe inode + device */
	AEGIS_ENF_ID_WL_EXE = 3, /* whitelist.programs by name */
	AEGIS_ENF_ID_WL_PATH = 4, /* whitelist.programs by path */
	AEGIS_ENF_ID_CAND_EXE = 5, /* exe has cmdline rules: pending at exec */
	AEGIS_ENF_ID_CAND_PATH = 6,
};

struct aegis_enf_id_key {
	__u32 kind; /* enum aegis_enf_id_kind */
	__u32 uid; /* or AEGIS_ENF_ANY_UID */
	__u64 cgid; /* cgroup v2 id; 0 = any */
	__u64 ino; /* ID_PATH */
	__u32 dev; /* ID_PATH: kernel dev_t encoding (major << 20 | minor) */
	__u32 slot; /* AEGIS_ENF_SLOT(generation) */
	char name[AEGIS_ENF_NAME_MAX]; /* ID_EXE: NUL padded */
};

struct aegis_enf_id_val {
	__u32 rule;
	__u32 rank; /* higher wins */
};

/* aegis_enf_rule.flags */
#define AEGIS_ENF_R_BLOCK (1u << 0)
#define AEGIS_ENF_R_KILL (1u << 1)
#define AEGIS_ENF_R_IGNORE (1u << 2)
#define AEGIS_ENF_R_NO_LOCAL (1u << 3)
#define AEGIS_ENF_R_NO_REMOTE (1u << 4)
#define AEGIS_ENF_R_PORTS (1u << 5)
#define AEGIS_ENF_R_LOCALS (1u << 6)
#define AEGIS_ENF_R_REMOTES (1u << 7) /* remotes address entries: remotes_set (cidr tries) */
#define AEGIS_ENF_R_LOCAL_RESTR (1u << 8) /* the allow lists restrict local peers */
#define AEGIS_ENF_R_REMOTE_RESTR (1u << 9) /* ... remote peers */
#define AEGIS_ENF_R_RPORTS (1u << 10) /* port-only remotes entries: rports_set */

struct aegis_enf_rule {
	__u32 flags;
	__u32 ports_set;
	__u32 locals_set;
	__u32 remotes_set;
	__u32 rports_set;
	__u32 pad;
};

/* LPM keys: set id and port/address in network byte order. */
struct aegis_enf_port_key {
	__u32 prefixlen; /* 32 + port prefix bits */
	__u8 set[4];
	__u8 port[2];
	__u8 pad[2];
};

struct aegis_enf_cidr4_key {
	__u32 prefixlen; /* 32 + address prefix bits */
	__u8 set[4];
	__u8 addr[4];
};

struct aegis_enf_cidr6_key {
	__u32 prefixlen;
	__u8 set[4];
	__u8 addr[16];
};

/* aegis_enf_hdr.flags */
#define AEGIS_ENF_H_ACTIVE (1u << 0) /* some rule blocks: evaluate at all */
#define AEGIS_ENF_H_UNCONF_BLOCK (1u << 1)
#define AEGIS_ENF_H_UNCONF_KILL (1u << 2)
#define AEGIS_ENF_H_WL_PORTS (1u << 3)
#define AEGIS_ENF_H_WL_CIDRS (1u << 4)
#define AEGIS_ENF_H_WL_PROGS (1u << 5)
#define AEGIS_ENF_H_CAND (1u << 6) /* cmdline rules exist: exec marks pending */
#define AEGIS_ENF_H_CAND_ANY (1u << 7) /* a blocking cmdline app names no exe/path */
/*
 * Set by enforce.c (not the compiler) when the policy has cmdline apps: only
 * then can procv hold verdicts and enf_pending marks matter; without it the
 * hooks skip both lookups.
 */
#define AEGIS_ENF_H_PROCV (1u << 8)

/* id_mask bits: (kind 0..2) * 2 + (uid any ? 1 : 0), times 2 for cgroup any/specific. */
#define AEGIS_ENF_IDBIT(kind, any_uid, any_cg) \
	(1u << (((kind)*4) + ((any_uid) ? 1 : 0) * 2 + ((any_cg) ? 1 : 0)))

struct aegis_enf_hdr {
	__u32 flags;
	__u32 id_mask; /* which id key shapes exist (skip useless lookups) */
	__u32 cg_levels; /* bit L: unit rules at cgroup ancestor level L */
	__u32 pad;
	__u64 seq; /* policy generation number: unique per applied set (keys enf_pcache) */
};

/*
 * enf_events ring buffer: an exec userspace must classify by cmdline now
 * (a candidate exe, or any exec with AEGIS_ENF_H_CAND_ANY). Submitted with
 * an immediate wakeup: the verdict latency is the daemon's, not the
 * batched trace ring buffer's.
 */
struct aegis_enf_exec_ev {
	__u32 pid; /* tgid */
	__u32 pending; /* 1: held pending until the verdict */
	__u64 ts; /* bpf_ktime_get_ns() at exec (CLOCK_MONOTONIC) */
};

/* enf_procv value: per-process verdict, written by userspace. */
struct aegis_enf_procv {
	__u32 rule; /* or AEGIS_ENF_NO_RULE */
	__u32 pad;
};
