// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * In-kernel enforcement: cgroup/connect4, connect6, sendmsg4, sendmsg6
 * verdicts from the policy maps described in enforce-api.h. Returning 0 makes
 * the syscall fail with EPERM before anything is sent; 1 lets it through.
 *
 * Kill: bpf_send_signal(SIGKILL) is called from the cgroup hook itself (the
 * kernel allows it for cgroup sock_addr programs here: probed at load time by
 * the verifier). The connect is refused in the same call, so no SYN or
 * datagram leaves and the signal is delivered on return to userspace.
 *
 * Bookkeeping programs: sched_process_fork (exemption and per-process
 * verdict inheritance), sched_process_exec (forget the old image's verdict,
 * mark "pending" when cmdline rules may match the new exe), and
 * sched_process_exit (forget the process).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "aegis.h"
#include "enforce-api.h"

#define SIGKILL 9
#define AF_INET 2
#define AF_INET6 10

/* ns a fresh exec of a cmdline-rule candidate stays blocked without a verdict */
const volatile __u64 pending_timeout_ns = 2000000000ull;
/*
 * bpf_send_signal() from the cgroup hook. Kernels whose verifier refuses the
 * helper in cgroup sock_addr programs get a build with this false (the call
 * is then dead code the verifier skips): the connect is still refused and
 * the daemon's userspace kill action (pidfd) kills the process.
 */
const volatile bool kill_in_hook = true;

/*
 * The policy maps hold two generations (slots) each: the slot is part of
 * every key (AEGIS_ENF_SLOT_BIT in set ids, rule ids and pids; the id key's
 * slot field), enf_gen selects the active one. Userspace rewrites only the
 * inactive slot, so a flip is one array write (no map-in-map update, each
 * of which waits for an RCU grace period).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * AEGIS_ENF_MAX_IDS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct aegis_enf_id_key);
	__type(value, struct aegis_enf_id_val);
} enf_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * AEGIS_ENF_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32); /* slot bit | rule id */
	__type(value, struct aegis_enf_rule);
} enf_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2 * AEGIS_ENF_MAX_PORTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct aegis_enf_port_key);
	__type(value, __u32);
} enf_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2 * AEGIS_ENF_MAX_CIDR4);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct aegis_enf_cidr4_key);
	__type(value, __u32);
} enf_cidr4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2 * AEGIS_ENF_MAX_CIDR6);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct aegis_enf_cidr6_key);
	__type(value, __u32);
} enf_cidr6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * AEGIS_ENF_MAX_PROCS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32); /* slot bit | tgid */
	__type(value, struct aegis_enf_procv);
} enf_procv SEC(".maps");

/*
 * Userspace's fence: an update of this map-in-map returns once every BPF
 * program that was running has finished (an RCU grace period), so a slot
 * flipped away from is no longer read when userspace rewrites it.
 */
struct fence_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct fence_inner);
} enf_fence SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct aegis_enf_hdr);
} enf_hdr SEC(".maps");

/* The flip: enf_gen[0] selects the active set. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} enf_gen SEC(".maps");

/* enf_feed[0] != 0: userspace consumes enf_events (else no exec is held pending). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} enf_feed SEC(".maps");

/* Not generation-bound. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tgid */
	__type(value, __u32);
} enf_exempt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tgid */
	__type(value, __u64); /* deadline, bpf_ktime_get_ns() */
} enf_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* IPv4, network order */
	__type(value, __u32);
} enf_local4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct in6_addr);
	__type(value, __u32);
} enf_local6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AEGIS_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} enf_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} enf_events SEC(".maps");

/*
 * Per-process cache of the decision inputs that only change with the
 * process's image, uid, cgroup or the policy: whether its exe is a
 * whitelisted program, and its exe/path/user/unit rule. Valid while seq
 * (policy generation of the set), exe (mm->exe_file: a new one at every
 * exec, also after pid reuse), uid and cgroup id match; entries are
 * replaced whole (bpf_map_update_elem), never written in place. Cmdline
 * verdicts (procv), pending marks and exemptions are read live.
 */
struct pcache {
	__u64 seq;
	__u64 exe;
	__u64 cgid;
	__u32 uid;
	__u32 rule; /* find_rule(): AEGIS_ENF_NO_RULE if none */
	__u32 wl_prog; /* exe is in whitelist.programs */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tgid */
	__type(value, struct pcache);
} enf_pcache SEC(".maps");

/* Per-CPU scratch: the id key is too big to build several times on the stack. */
struct scratch {
	struct aegis_enf_id_key key;
	char name[AEGIS_ENF_NAME_MAX];
	__u64 ino;
	__u32 dev;
	__u32 uid;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} enf_scratch SEC(".maps");

struct dst {
	__u8 family;
	__u8 addr[16];
	__u16 port; /* host order */
};

struct set {
	__u32 slot; /* AEGIS_ENF_SLOT_BIT or 0: or-ed into the keys */
	struct aegis_enf_hdr *hdr;
};

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&enf_counters, &idx);

	if (v)
		*v += 1;
}

static __always_inline int load_set(struct set *s)
{
	__u32 zero = 0, *g, gen;

	g = bpf_map_lookup_elem(&enf_gen, &zero);
	if (!g)
		return -1;
	gen = *g & 1;
	s->hdr = bpf_map_lookup_elem(&enf_hdr, &gen);
	if (!s->hdr || !(s->hdr->flags & AEGIS_ENF_H_ACTIVE))
		return -1;
	s->slot = AEGIS_ENF_SLOT(gen);
	return 0;
}

/* Exe identity as the kernel sees it: mm->exe_file's dentry name, inode, device. */
static __always_inline struct file *current_exe(void)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, mm, exe_file);
}

static __always_inline int read_exe_file(struct scratch *sc, struct file *f)
{
	const unsigned char *name;

	if (!f)
		return -1;
	sc->ino = BPF_CORE_READ(f, f_inode, i_ino);
	sc->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	name = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	__builtin_memset(sc->name, 0, sizeof(sc->name));
	bpf_probe_read_kernel_str(sc->name, sizeof(sc->name), name);
	return 0;
}

static __always_inline int read_exe(struct scratch *sc)
{
	return read_exe_file(sc, current_exe());
}

static __always_inline void key_fill(const struct set *s, struct scratch *sc, __u32 kind)
{
	struct aegis_enf_id_key *k = &sc->key;

	__builtin_memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->slot = s->slot;
	if (kind == AEGIS_ENF_ID_EXE || kind == AEGIS_ENF_ID_WL_EXE ||
	    kind == AEGIS_ENF_ID_CAND_EXE)
		__builtin_memcpy(k->name, sc->name, sizeof(k->name));
	else if (kind == AEGIS_ENF_ID_PATH || kind == AEGIS_ENF_ID_WL_PATH ||
		 kind == AEGIS_ENF_ID_CAND_PATH) {
		k->ino = sc->ino;
		k->dev = sc->dev;
	}
}

static __always_inline bool id_exists(const struct set *s, struct scratch *sc, __u32 kind)
{
	key_fill(s, sc, kind);
	sc->key.uid = AEGIS_ENF_ANY_UID;
	return bpf_map_lookup_elem(&enf_ids, &sc->key) != NULL;
}

/* Highest-rank ids entry for this task; AEGIS_ENF_NO_RULE if none. */
static __always_inline __u32 find_rule(struct set *s, struct scratch *sc)
{
	__u32 best = AEGIS_ENF_NO_RULE, best_rank = 0;

	for (__u32 kind = 0; kind < 3; kind++) {
		for (__u32 au = 0; au < 2; au++) {
			for (__u32 lvl = 0; lvl <= AEGIS_ENF_CG_LEVELS; lvl++) {
				struct aegis_enf_id_val *v;
				bool any_cg = lvl == AEGIS_ENF_CG_LEVELS;

				if (!(s->hdr->id_mask & AEGIS_ENF_IDBIT(kind, au, any_cg)))
					continue;
				if (!any_cg && !(s->hdr->cg_levels & (1u << lvl)))
					continue;
				key_fill(s, sc, kind);
				sc->key.uid = au ? AEGIS_ENF_ANY_UID : sc->uid;
				sc->key.cgid = any_cg ? 0 : bpf_get_current_ancestor_cgroup_id(lvl);
				if (!any_cg && !sc->key.cgid)
					continue;
				v = bpf_map_lookup_elem(&enf_ids, &sc->key);
				if (v && (best == AEGIS_ENF_NO_RULE || v->rank > best_rank)) {
					best = v->rule;
					best_rank = v->rank;
				}
			}
		}
	}
	return best;
}

static __always_inline bool port_in(const struct set *s, __u32 set, __u16 port)
{
	struct aegis_enf_port_key k;

	set |= s->slot;
	k = (struct aegis_enf_port_key){
		.prefixlen = 48,
		.set = { set >> 24, set >> 16, set >> 8, set },
		.port = { port >> 8, port },
	};

	return bpf_map_lookup_elem(&enf_ports, &k) != NULL;
}

/* Port set of the CIDR entries of set `set` containing dst; NULL if none. */
static __always_inline __u32 *cidr_lookup(const struct set *s, __u32 set, const struct dst *d)
{
	set |= s->slot;
	if (d->family == AF_INET) {
		struct aegis_enf_cidr4_key k = {
			.prefixlen = 64,
			.set = { set >> 24, set >> 16, set >> 8, set },
		};

		__builtin_memcpy(k.addr, d->addr, 4);
		return bpf_map_lookup_elem(&enf_cidr4, &k);
	} else {
		struct aegis_enf_cidr6_key k = {
			.prefixlen = 160,
			.set = { set >> 24, set >> 16, set >> 8, set },
		};

		__builtin_memcpy(k.addr, d->addr, 16);
		return bpf_map_lookup_elem(&enf_cidr6, &k);
	}
}

static __always_inline bool cidr_port_in(struct set *s, __u32 set, const struct dst *d)
{
	__u32 *ps = cidr_lookup(s, set, d);

	if (!ps)
		return false;
	return *ps == AEGIS_ENF_NO_SET || port_in(s, *ps, d->port);
}

static __always_inline bool is_local(const struct dst *d)
{
	if (d->family == AF_INET) {
		__u32 a;

		__builtin_memcpy(&a, d->addr, 4);
		/* loopback 127/8 and the unspecified address */
		if (d->addr[0] == 127 || a == 0)
			return true;
		return bpf_map_lookup_elem(&enf_local4, &a) != NULL;
	}
	{
		struct in6_addr a;
		__u64 hi, lo;

		__builtin_memcpy(&hi, d->addr, 8);
		__builtin_memcpy(&lo, d->addr + 8, 8);
		if (hi == 0 && (lo == 0 || lo == bpf_cpu_to_be64(1)))
			return true;
		__builtin_memcpy(&a, d->addr, 16);
		return bpf_map_lookup_elem(&enf_local6, &a) != NULL;
	}
}

/* Does the rule allow the destination? (policy.h steps 3-5, peer = dst) */
static __always_inline bool rule_allows(struct set *s, const struct aegis_enf_rule *r,
					const struct dst *d)
{
	bool local = is_local(d);

	if (r->flags & AEGIS_ENF_R_IGNORE)
		return true;
	if (local && (r->flags & AEGIS_ENF_R_NO_LOCAL))
		return false;
	if (!local && (r->flags & AEGIS_ENF_R_NO_REMOTE))
		return false;
	/* the peer's class is not restricted by any allow list */
	if (!(r->flags & (local ? AEGIS_ENF_R_LOCAL_RESTR : AEGIS_ENF_R_REMOTE_RESTR)))
		return true;
	if ((r->flags & AEGIS_ENF_R_PORTS) && port_in(s, r->ports_set, d->port))
		return true;
	if (local && (r->flags & AEGIS_ENF_R_LOCALS) && port_in(s, r->locals_set, d->port))
		return true;
	/* address entries match local and remote peers alike */
	if ((r->flags & AEGIS_ENF_R_REMOTES) && cidr_port_in(s, r->remotes_set, d))
		return true;
	if (!local && (r->flags & AEGIS_ENF_R_RPORTS) && port_in(s, r->rports_set, d->port))
		return true;
	return false;
}

/* whitelist.ports and ips (programs: wl_prog(), cached) */
static __always_inline bool whitelisted(struct set *s, const struct dst *d)
{
	__u32 f = s->hdr->flags;

	if ((f & AEGIS_ENF_H_WL_PORTS) && port_in(s, AEGIS_ENF_SET_WL, d->port))
		return true;
	if ((f & AEGIS_ENF_H_WL_CIDRS) && cidr_lookup(s, AEGIS_ENF_SET_WL, d))
		return true;
	return false;
}

static __always_inline bool wl_prog(struct set *s, struct scratch *sc)
{
	return (s->hdr->flags & AEGIS_ENF_H_WL_PROGS) &&
	       (id_exists(s, sc, AEGIS_ENF_ID_WL_EXE) || id_exists(s, sc, AEGIS_ENF_ID_WL_PATH));
}

/*
 * The whitelist only turns a refusal into an allow: it is checked last, so
 * the common allowed connect skips its LPM lookups.
 */
static __always_inline __u32 refuse_unless_whitelisted(struct set *s, const struct dst *d,
						       __u32 verdict)
{
	if (!verdict || whitelisted(s, d))
		return 0;
	return verdict;
}

/* Returns the rule flags deciding this connect: 0 = allow, else BLOCK/KILL bits. */
static __always_inline __u32 decide(const struct dst *d)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0, rid, verdict, uid, id_rule, pkey;
	struct aegis_enf_procv *pv;
	struct pcache *pc;
	struct file *exe;
	bool is_wl;
	__u64 cgid;
	struct aegis_enf_rule *r;
	struct scratch *sc;
	struct set s;
	__u64 *pend;

	if (tgid <= 1 || bpf_map_lookup_elem(&enf_exempt, &tgid))
		return 0;
	if (load_set(&s) < 0)
		return 0;
	exe = current_exe();
	/* no mm->exe_file: a kernel thread (NFS, iSCSI, ...) connecting: never ours to block */
	if (!exe)
		return 0;
	uid = (__u32)bpf_get_current_uid_gid();
	cgid = bpf_get_current_cgroup_id();
	pc = bpf_map_lookup_elem(&enf_pcache, &tgid);
	if (pc && pc->seq == s.hdr->seq && pc->exe == (__u64)exe && pc->uid == uid &&
	    pc->cgid == cgid) {
		is_wl = pc->wl_prog;
		id_rule = pc->rule;
	} else {
		struct pcache nc = {
			.seq = s.hdr->seq,
			.exe = (__u64)exe,
			.cgid = cgid,
			.uid = uid,
		};

		sc = bpf_map_lookup_elem(&enf_scratch, &zero);
		if (!sc || read_exe_file(sc, exe) < 0)
			return 0;
		sc->uid = uid;
		nc.wl_prog = is_wl = wl_prog(&s, sc);
		nc.rule = id_rule = find_rule(&s, sc);
		bpf_map_update_elem(&enf_pcache, &tgid, &nc, BPF_ANY);
	}
	if (is_wl)
		return 0;

	pv = NULL;
	if (s.hdr->flags & AEGIS_ENF_H_PROCV) {
		pkey = s.slot | tgid;
		pv = bpf_map_lookup_elem(&enf_procv, &pkey);
	}
	if (pv)
		rid = pv->rule;
	else if (!(s.hdr->flags & AEGIS_ENF_H_PROCV))
		rid = AEGIS_ENF_NO_RULE; /* no cmdline app: no verdicts, no pending marks */
	else {
		pend = bpf_map_lookup_elem(&enf_pending, &tgid);
		if (pend && *pend > bpf_ktime_get_ns())
			return refuse_unless_whitelisted(&s, d, AEGIS_ENF_R_BLOCK);
		rid = AEGIS_ENF_NO_RULE;
	}
	if (rid == AEGIS_ENF_NO_RULE)
		rid = id_rule;
	if (rid == AEGIS_ENF_NO_RULE) {
		verdict = 0;
		if (s.hdr->flags & AEGIS_ENF_H_UNCONF_BLOCK)
			verdict |= AEGIS_ENF_R_BLOCK;
		if (s.hdr->flags & AEGIS_ENF_H_UNCONF_KILL)
			verdict |= AEGIS_ENF_R_KILL;
		return refuse_unless_whitelisted(&s, d, verdict);
	}
	rid |= s.slot;
	r = bpf_map_lookup_elem(&enf_rules, &rid);
	if (!r || !(r->flags & (AEGIS_ENF_R_BLOCK | AEGIS_ENF_R_KILL)))
		return 0;
	if (rule_allows(&s, r, d))
		return 0;
	return refuse_unless_whitelisted(&s, d, r->flags & (AEGIS_ENF_R_BLOCK | AEGIS_ENF_R_KILL));
}

static __always_inline int verdict(const struct dst *d)
{
	__u32 v = decide(d);

	if (!v)
		return 1;
	count(AEGIS_CNT_BLOCKS);
	if ((v & AEGIS_ENF_R_KILL) && kill_in_hook) {
		bpf_send_signal(SIGKILL);
		count(AEGIS_CNT_KILLS);
	}
	return 0;
}

static __always_inline int hook4(struct bpf_sock_addr *ctx)
{
	struct dst d = { .family = AF_INET };
	__u32 a = ctx->user_ip4;

	__builtin_memcpy(d.addr, &a, 4);
	d.port = bpf_ntohs(ctx->user_port);
	return verdict(&d);
}

static __always_inline int hook6(struct bpf_sock_addr *ctx)
{
	struct dst d = { .family = AF_INET6 };
	__u32 w[4];

	w[0] = ctx->user_ip6[0];
	w[1] = ctx->user_ip6[1];
	w[2] = ctx->user_ip6[2];
	w[3] = ctx->user_ip6[3];
	d.port = bpf_ntohs(ctx->user_port);
	/* v4-mapped (::ffff:a.b.c.d) is IPv4 for the policy */
	if (w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff)) {
		d.family = AF_INET;
		__builtin_memcpy(d.addr, &w[3], 4);
	} else
		__builtin_memcpy(d.addr, w, 16);
	return verdict(&d);
}

SEC("cgroup/connect4")
int enf_connect4(struct bpf_sock_addr *ctx)
{
	return hook4(ctx);
}

SEC("cgroup/connect6")
int enf_connect6(struct bpf_sock_addr *ctx)
{
	return hook6(ctx);
}

SEC("cgroup/sendmsg4")
int enf_sendmsg4(struct bpf_sock_addr *ctx)
{
	return hook4(ctx);
}

SEC("cgroup/sendmsg6")
int enf_sendmsg6(struct bpf_sock_addr *ctx)
{
	return hook6(ctx);
}

static __always_inline void procv_copy(__u32 gen, __u32 from, __u32 to)
{
	__u32 kf = AEGIS_ENF_SLOT(gen) | from, kt = AEGIS_ENF_SLOT(gen) | to;
	struct aegis_enf_procv *v = bpf_map_lookup_elem(&enf_procv, &kf);

	if (v)
		bpf_map_update_elem(&enf_procv, &kt, v, BPF_ANY);
}

static __always_inline void procv_delete(__u32 gen, __u32 pid)
{
	__u32 k = AEGIS_ENF_SLOT(gen) | pid;

	bpf_map_delete_elem(&enf_procv, &k);
}

/*
 * raw tracepoints: attached by name (no tracefs needed), the task pointers
 * come straight from the tracepoint arguments.
 */
SEC("raw_tp/sched_process_fork")
int enf_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *child = (void *)ctx->args[1];
	__u32 parent = bpf_get_current_pid_tgid() >> 32;
	__u32 tgid = BPF_CORE_READ(child, tgid), one = 1;
	__u64 *pend;

	if (tgid == parent)
		return 0; /* a thread: keyed by the tgid already */
	if (bpf_map_lookup_elem(&enf_exempt, &parent))
		bpf_map_update_elem(&enf_exempt, &tgid, &one, BPF_ANY);
	procv_copy(0, parent, tgid);
	procv_copy(1, parent, tgid);
	pend = bpf_map_lookup_elem(&enf_pending, &parent);
	if (pend)
		bpf_map_update_elem(&enf_pending, &tgid, pend, BPF_ANY);
	return 0;
}

static __always_inline void notify_exec(__u32 tgid, __u32 pending)
{
	struct aegis_enf_exec_ev *ev = bpf_ringbuf_reserve(&enf_events, sizeof(*ev), 0);

	if (!ev) {
		count(AEGIS_CNT_DROPS);
		return;
	}
	ev->pid = tgid;
	ev->pending = pending;
	ev->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(ev, 0);
}

SEC("raw_tp/sched_process_exec")
int enf_exec(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0, *feed;
	struct scratch *sc;
	struct set s;
	__u64 deadline;

	/* the old image's cmdline verdict and cached identity no longer apply */
	bpf_map_delete_elem(&enf_pcache, &tgid);
	procv_delete(0, tgid);
	procv_delete(1, tgid);
	bpf_map_delete_elem(&enf_pending, &tgid);
	if (load_set(&s) < 0 || !(s.hdr->flags & (AEGIS_ENF_H_CAND | AEGIS_ENF_H_CAND_ANY)))
		return 0;
	feed = bpf_map_lookup_elem(&enf_feed, &zero);
	if (!feed || !*feed)
		return 0; /* nobody would write the verdict: do not hold anything */
	sc = bpf_map_lookup_elem(&enf_scratch, &zero);
	if (!sc || read_exe(sc) < 0)
		return 0;
	if ((s.hdr->flags & AEGIS_ENF_H_CAND) && (id_exists(&s, sc, AEGIS_ENF_ID_CAND_EXE) ||
						  id_exists(&s, sc, AEGIS_ENF_ID_CAND_PATH))) {
		deadline = bpf_ktime_get_ns() + pending_timeout_ns;
		bpf_map_update_elem(&enf_pending, &tgid, &deadline, BPF_ANY);
		notify_exec(tgid, 1);
	} else if (s.hdr->flags & AEGIS_ENF_H_CAND_ANY)
		notify_exec(tgid, 0);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int enf_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, tgid = id >> 32;

	if (tid != tgid)
		return 0;
	bpf_map_delete_elem(&enf_exempt, &tgid);
	bpf_map_delete_elem(&enf_pcache, &tgid);
	procv_delete(0, tgid);
	procv_delete(1, tgid);
	bpf_map_delete_elem(&enf_pending, &tgid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
