// SPDX-License-Identifier: GPL-2.0-or-later
/* Policy -> enforcement map contents. See policy-compile.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "policy-compile.h"
#include "policy.h"

#define GROW(arr, n, cap)                                                 \
	({                                                                \
		int _r_ = 0;                                              \
		if ((n) >= (cap)) {                                       \
			size_t _c_ = (cap) ? (cap)*2 : 64;                \
			void *_p_ = realloc((arr), _c_ * sizeof(*(arr))); \
			if (_p_) {                                        \
				(arr) = _p_;                              \
				(cap) = _c_;                              \
			} else                                            \
				_r_ = -ENOMEM;                            \
		}                                                         \
		_r_;                                                      \
	})

unsigned pcompile_block_bits(unsigned actions)
{
	unsigned bits = 0;

	if (actions & ACTION_ALLOW)
		return 0;
	if (actions & (ACTION_BLOCK | ACTION_KILL))
		bits |= AEGIS_ENF_R_BLOCK;
	if (actions & ACTION_KILL)
		bits |= AEGIS_ENF_R_KILL;
	return bits;
}

int pcompile_range_prefixes(unsigned __int128 lo, unsigned __int128 hi, unsigned width,
			    int (*cb)(unsigned __int128 v, unsigned plen, void *userdata),
			    void *userdata)
{
	unsigned __int128 max = width >= 128 ? ~(unsigned __int128)0 :
					       (((unsigned __int128)1 << width) - 1);

	if (lo > hi || hi > max)
		return -EINVAL;
	for (;;) {
		unsigned k = 0;
		int r;

		/* largest aligned block starting at lo that stays within hi */
		while (k < width) {
			/* size - 1 of a block of 2^(k+1); 2^128 itself does not fit */
			unsigned __int128 mask = k + 1 >= 128 ?
							 ~(unsigned __int128)0 :
							 ((unsigned __int128)1 << (k + 1)) - 1;

			if (lo & mask)
				break;
			if (hi - lo < mask)
				break;
			k++;
		}
		r = cb(lo, width - k, userdata);
		if (r < 0)
			return r;
		if (k == width)
			return 0;
		if (hi - lo == (((unsigned __int128)1 << k) - 1))
			return 0;
		lo += (unsigned __int128)1 << k;
	}
}

static void set_be(__u8 out[4], uint32_t set)
{
	out[0] = set >> 24;
	out[1] = set >> 16;
	out[2] = set >> 8;
	out[3] = set;
}

struct port_emit {
	struct pcompile_plan *p;
	uint32_t set;
};

static int port_prefix_cb(unsigned __int128 v, unsigned plen, void *userdata)
{
	struct port_emit *pe = userdata;
	struct pcompile_plan *p = pe->p;
	struct aegis_enf_port_key *k;

	if (GROW(p->ports, p->n_ports, p->cap_ports) < 0)
		return -ENOMEM;
	k = &p->ports[p->n_ports++];
	memset(k, 0, sizeof(*k));
	k->prefixlen = 32 + plen;
	set_be(k->set, pe->set);
	k->port[0] = (uint16_t)v >> 8;
	k->port[1] = (uint8_t)v;
	return 0;
}

static bool ranges_eq(const struct port_range *a, size_t na, const struct port_range *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

static int emit_ranges(struct pcompile_plan *p, uint32_t set, const struct port_range *r, size_t n)
{
	struct port_emit pe = { p, set };

	for (size_t i = 0; i < n; i++) {
		int k = pcompile_range_prefixes(r[i].lo, r[i].hi, 16, port_prefix_cb, &pe);

		if (k < 0)
			return k;
	}
	return 0;
}

/*
 * Port sets by content, while compiling: apps that allow the same ports
 * share one set (the bench's 2,000 apps: 25,000 port entries -> 13), which
 * also keeps a plan free of sets with equal content, as pcompile_renumber()
 * wants.
 */
struct pset_entry {
	uint64_t hash;
	struct port_range *r;
	size_t n;
	uint32_t set;
};

struct pset_table {
	struct pset_entry *e;
	size_t n, mask;
};

static uint64_t ranges_hash(const struct port_range *r, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ n;

	for (size_t i = 0; i < n; i++)
		h = ((h ^ r[i].lo) * 0x100000001b3ULL ^ r[i].hi) * 0x100000001b3ULL;
	return h;
}

static void pset_table_free(struct pset_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->e && i <= t->mask; i++)
		free(t->e[i].r);
	free(t->e);
	free(t);
}

static int pset_grow(struct pset_table *t)
{
	size_t cap = t->e ? 2 * (t->mask + 1) : 64;
	struct pset_entry *e = calloc(cap, sizeof(*e));

	if (!e)
		return -ENOMEM;
	for (size_t i = 0; t->e && i <= t->mask; i++) {
		size_t j;

		if (!t->e[i].r)
			continue;
		for (j = t->e[i].hash & (cap - 1); e[j].r; j = (j + 1) & (cap - 1))
			;
		e[j] = t->e[i];
	}
	free(t->e);
	t->e = e;
	t->mask = cap - 1;
	return 0;
}

/* The set id of port ranges r[0..n): an existing set with the same ranges, or a new one. */
static int port_set_id(struct pcompile_plan *p, const struct port_range *r, size_t n,
		       uint32_t *ret_set)
{
	struct pset_table *t = p->psets;
	uint64_t h = ranges_hash(r, n);
	size_t i;
	int k;

	if (!t) {
		t = p->psets = calloc(1, sizeof(*t));
		if (!t)
			return -ENOMEM;
	}
	if (2 * (t->n + 1) > (t->e ? t->mask + 1 : 0) && pset_grow(t) < 0)
		return -ENOMEM;
	for (i = h & t->mask; t->e[i].r; i = (i + 1) & t->mask)
		if (t->e[i].hash == h && ranges_eq(t->e[i].r, t->e[i].n, r, n)) {
			*ret_set = t->e[i].set;
			return 0;
		}
	t->e[i].r = malloc(n * sizeof(*r) + 1);
	if (!t->e[i].r)
		return -ENOMEM;
	if (n)
		memcpy(t->e[i].r, r, n * sizeof(*r));
	t->e[i].n = n;
	t->e[i].hash = h;
	t->e[i].set = p->next_set++;
	t->n++;
	k = emit_ranges(p, t->e[i].set, r, n);
	if (k < 0)
		return k;
	*ret_set = t->e[i].set;
	return 0;
}

static int emit_portset(struct pcompile_plan *p, const struct portset *s, uint32_t *ret_set)
{
	return port_set_id(p, s->r, s->n, ret_set);
}

static int emit_cidr(struct pcompile_plan *p, uint32_t set, int family, const uint8_t *addr,
		     unsigned prefix, uint32_t val)
{
	if (family == AF_INET) {
		struct pcompile_cidr4 *e;

		if (GROW(p->c4, p->n_c4, p->cap_c4) < 0)
			return -ENOMEM;
		e = &p->c4[p->n_c4++];
		memset(e, 0, sizeof(*e));
		e->key.prefixlen = 32 + prefix;
		set_be(e->key.set, set);
		memcpy(e->key.addr, addr, 4);
		e->val = val;
	} else {
		struct pcompile_cidr6 *e;

		if (GROW(p->c6, p->n_c6, p->cap_c6) < 0)
			return -ENOMEM;
		e = &p->c6[p->n_c6++];
		memset(e, 0, sizeof(*e));
		e->key.prefixlen = 32 + prefix;
		set_be(e->key.set, set);
		memcpy(e->key.addr, addr, 16);
		e->val = val;
	}
	return 0;
}

static int emit_id(struct pcompile_plan *p, const struct aegis_enf_id_key *k, uint32_t rule,
		   uint32_t rank)
{
	if (GROW(p->ids, p->n_ids, p->cap_ids) < 0)
		return -ENOMEM;
	p->ids[p->n_ids].key = *k;
	p->ids[p->n_ids].val = (struct aegis_enf_id_val){ .rule = rule, .rank = rank };
	p->n_ids++;
	return 0;
}

static void key_name(struct aegis_enf_id_key *k, const char *name)
{
	/* names longer than AEGIS_ENF_NAME_MAX - 1 compare on that prefix (as in the kernel) */
	memset(k->name, 0, sizeof(k->name));
	strncpy(k->name, name, sizeof(k->name) - 1);
}

/*
 * Emits k (kind *_EXE) for name and for each of its exe aliases (policy.h 2:
 * the kernel sees the resolved file's dentry name, e.g. nc.openbsd for nc).
 */
static int emit_exe_ids(struct pcompile_plan *p, const struct pcompile_env *env,
			struct aegis_enf_id_key *k, const char *name, uint32_t rule, uint32_t rank)
{
	char **aliases = NULL;
	int r;

	key_name(k, name);
	r = emit_id(p, k, rule, rank);
	if (r >= 0)
		r = policy_exe_index_aliases(p->exe_index, name, &aliases);
	STRV_FOREACH(al, aliases) {
		if (r < 0)
			break;
		key_name(k, *al);
		r = emit_id(p, k, rule, rank);
	}
	strv_free(aliases);
	return r;
}

/* ---- remotes: CIDR forest, so the longest match carries the union of all containing entries */

struct rent {
	uint8_t addr[16];
	uint8_t prefix;
	struct port_range r;
};

struct rnode {
	const struct rent *c;
	uint32_t set;
	struct port_range *r; /* union, sorted, merged */
	size_t n;
};

struct rctx {
	struct pcompile_plan *p;
	int family;
	unsigned alen;
};

static int rent_cmp(const void *a, const void *b)
{
	const struct rent *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 16);

	if (c)
		return c;
	return (int)x->prefix - (int)y->prefix;
}

static bool prefix_contains(const struct rent *outer, const struct rent *inner, unsigned alen)
{
	unsigned bits = outer->prefix, i;

	if (outer->prefix > inner->prefix)
		return false;
	for (i = 0; i < alen && bits >= 8; i++, bits -= 8)
		if (outer->addr[i] != inner->addr[i])
			return false;
	if (bits && i < alen) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		if ((outer->addr[i] & mask) != (inner->addr[i] & mask))
			return false;
	}
	return true;
}

static bool ranges_cover(const struct port_range *r, size_t n, struct port_range x)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].lo <= x.lo && x.hi <= r[i].hi)
			return true;
	return false;
}

static int range_cmp(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* Sorted, merged union of a and b into *ret. */
static int ranges_union(const struct port_range *a, size_t na, const struct port_range *b,
			size_t nb, struct port_range **ret, size_t *ret_n)
{
	struct port_range *u = malloc((na + nb + 1) * sizeof(*u));
	size_t n = 0;

	if (!u)
		return -ENOMEM;
	if (na)
		memcpy(u, a, na * sizeof(*u));
	if (nb)
		memcpy(u + na, b, nb * sizeof(*u));
	qsort(u, na + nb, sizeof(*u), range_cmp);
	for (size_t i = 0; i < na + nb; i++) {
		if (n && u[i].lo <= (unsigned)u[n - 1].hi + 1) {
			if (u[i].hi > u[n - 1].hi)
				u[n - 1].hi = u[i].hi;
		} else
			u[n++] = u[i];
	}
	*ret = u;
	*ret_n = n;
	return 0;
}

static int node_set(struct rctx *x, struct rnode *node)
{
	if (node->n == 1 && node->r[0].lo <= 1 && node->r[0].hi == 65535) {
		node->set = AEGIS_ENF_NO_SET;
		return 0;
	}
	return port_set_id(x->p, node->r, node->n, &node->set);
}

/* Entries sorted; emits one LPM key per node whose union grows. */
static int remotes_forest(struct rctx *x, uint32_t set, const struct rent *e, size_t n)
{
	struct rnode stack[130] = {};
	size_t depth = 0, i = 0;
	int r = 0;

	while (i < n) {
		size_t j = i;
		struct port_range own[64];
		size_t n_own = 0;
		struct rnode node = { .c = &e[i] };
		const struct port_range *base = NULL;
		size_t n_base = 0;
		bool grows = false;

		while (depth > 0 && !prefix_contains(stack[depth - 1].c, &e[i], x->alen))
			free(stack[--depth].r);
		if (depth > 0) {
			base = stack[depth - 1].r;
			n_base = stack[depth - 1].n;
		}
		/* own ranges: all entries with this exact cidr (in chunks of 64) */
		while (j < n && rent_cmp(&e[j], &e[i]) == 0 && n_own < ARRAY_SIZE(own)) {
			own[n_own++] = e[j].r;
			if (!ranges_cover(base, n_base, e[j].r))
				grows = true;
			j++;
		}
		if (!grows && depth > 0) {
			i = j;
			continue;
		}
		r = ranges_union(base, n_base, own, n_own, &node.r, &node.n);
		if (r < 0)
			break;
		r = node_set(x, &node);
		if (r < 0) {
			free(node.r);
			break;
		}
		r = emit_cidr(x->p, set, x->family, e[i].addr, e[i].prefix, node.set);
		if (r < 0 || depth >= ARRAY_SIZE(stack)) {
			free(node.r);
			r = r < 0 ? r : -E2BIG;
			break;
		}
		stack[depth++] = node;
		i = j;
	}
	while (depth > 0)
		free(stack[--depth].r);
	return r;
}

struct rlist {
	struct rent *v4, *v6;
	size_t n4, n6, cap4, cap6;
};

static int rlist_add(struct rlist *l, int family, const uint8_t *addr, unsigned prefix,
		     struct port_range pr)
{
	struct rent *e;

	if (pr.lo == 0 && pr.hi == 0)
		pr = (struct port_range){ 1, 65535 };
	if (family == AF_INET) {
		if (GROW(l->v4, l->n4, l->cap4) < 0)
			return -ENOMEM;
		e = &l->v4[l->n4++];
	} else {
		if (GROW(l->v6, l->n6, l->cap6) < 0)
			return -ENOMEM;
		e = &l->v6[l->n6++];
	}
	memset(e, 0, sizeof(*e));
	memcpy(e->addr, addr, family == AF_INET ? 4 : 16);
	e->prefix = prefix;
	e->r = pr;
	return 0;
}

static int remotes_collect(const struct app *a, const struct pcompile_env *env, struct rlist *l)
{
	int r = 0;

	for (size_t i = 0; i < a->n_remotes && r >= 0; i++) {
		const struct remote_spec *s = &a->remotes[i];
		const struct cidr *addrs = NULL;
		size_t n = 0;

		switch (s->kind) {
		case REMOTE_PORT_ONLY:
			break; /* remote peers only: the rule's rports set */
		case REMOTE_CIDR:
			r = rlist_add(l, s->cidr.family, s->cidr.addr, s->cidr.prefix, s->ports);
			break;
		case REMOTE_HOST:
			/* unresolved: matches nothing, as in policy.h */
			if (env && env->host_addrs && s->host &&
			    env->host_addrs(s->host, &addrs, &n, env->userdata) < 0)
				n = 0;
			for (size_t k = 0; k < n && r >= 0; k++)
				r = rlist_add(l, addrs[k].family, addrs[k].addr, addrs[k].prefix,
					      s->ports);
			break;
		}
	}
	return r;
}

static int compile_remotes(struct pcompile_plan *p, const struct app *a,
			   const struct pcompile_env *env, uint32_t *ret_set)
{
	struct rlist l = {};
	struct rctx x = { .p = p };
	uint32_t set = p->next_set++;
	int r;

	r = remotes_collect(a, env, &l);
	if (r >= 0) {
		if (l.n4)
			qsort(l.v4, l.n4, sizeof(*l.v4), rent_cmp);
		if (l.n6)
			qsort(l.v6, l.n6, sizeof(*l.v6), rent_cmp);
		x.family = AF_INET;
		x.alen = 4;
		r = remotes_forest(&x, set, l.v4, l.n4);
	}
	if (r >= 0) {
		x.family = AF_INET6;
		x.alen = 16;
		r = remotes_forest(&x, set, l.v6, l.n6);
	}
	free(l.v4);
	free(l.v6);
	if (r >= 0)
		*ret_set = set;
	return r;
}

/* ---- whitelist */

static int wl_cidr_cb(const struct cidr *c, void *userdata)
{
	struct pcompile_plan *p = userdata;

	return emit_cidr(p, AEGIS_ENF_SET_WL, c->family, c->addr, c->prefix, AEGIS_ENF_NO_SET);
}

static int compile_whitelist(struct pcompile_plan *p, const struct config *c,
			     const struct pcompile_env *env)
{
	const struct config_whitelist *w = &c->whitelist;
	int r;

	if (w->ports.set && w->ports.n > 0) {
		r = emit_ranges(p, AEGIS_ENF_SET_WL, w->ports.r, w->ports.n);
		if (r < 0)
			return r;
		p->hdr.flags |= AEGIS_ENF_H_WL_PORTS;
	}
	if (addrset_count(&w->ips) > 0) {
		r = addrset_foreach_cidr(&w->ips, wl_cidr_cb, p);
		if (r < 0)
			return r;
		p->hdr.flags |= AEGIS_ENF_H_WL_CIDRS;
	}
	STRV_FOREACH(prog, w->programs) {
		struct aegis_enf_id_key k = { .uid = AEGIS_ENF_ANY_UID };

		if ((*prog)[0] == '/') {
			if (!env || !env->stat_path ||
			    env->stat_path(*prog, &k.ino, &k.dev, env->userdata) < 0)
				continue; /* absent file: nothing to exempt */
			k.kind = AEGIS_ENF_ID_WL_PATH;
			r = emit_id(p, &k, AEGIS_ENF_NO_RULE, 0);
		} else {
			k.kind = AEGIS_ENF_ID_WL_EXE;
			r = emit_exe_ids(p, env, &k, *prog, AEGIS_ENF_NO_RULE, 0);
		}
		if (r < 0)
			return r;
		p->hdr.flags |= AEGIS_ENF_H_WL_PROGS;
	}
	return 0;
}

/* ---- apps */

/* remotes: address entries into the cidr tries, port-only entries into a port set. */
static int compile_rule_remotes(struct pcompile_plan *p, const struct app *a,
				const struct pcompile_env *env, struct aegis_enf_rule *ru)
{
	struct portset rports = {};
	bool addrs = false;
	int r = 0;

	for (size_t i = 0; i < a->n_remotes && r >= 0; i++) {
		struct port_range pr = a->remotes[i].ports;

		if (a->remotes[i].kind != REMOTE_PORT_ONLY) {
			addrs = true;
			continue;
		}
		if (pr.lo == 0 && pr.hi == 0)
			pr = (struct port_range){ 1, 65535 };
		r = portset_add(&rports, pr);
	}
	if (r >= 0 && rports.n > 0) {
		ru->flags |= AEGIS_ENF_R_RPORTS;
		r = emit_portset(p, &rports, &ru->rports_set);
	}
	portset_done(&rports);
	if (r >= 0 && addrs) {
		ru->flags |= AEGIS_ENF_R_REMOTES;
		r = compile_remotes(p, a, env, &ru->remotes_set);
	}
	return r;
}

static int compile_rule(struct pcompile_plan *p, const struct app *a,
			const struct pcompile_env *env, unsigned block_bits)
{
	struct aegis_enf_rule *ru = &p->rules[a->index];
	bool local_restr, remote_restr;
	int r;

	ru->flags = block_bits;
	if (a->ignore)
		ru->flags |= AEGIS_ENF_R_IGNORE;
	if (!a->local)
		ru->flags |= AEGIS_ENF_R_NO_LOCAL;
	if (!a->remote)
		ru->flags |= AEGIS_ENF_R_NO_REMOTE;
	if (a->ports.set) {
		ru->flags |= AEGIS_ENF_R_PORTS;
		r = emit_portset(p, &a->ports, &ru->ports_set);
		if (r < 0)
			return r;
	}
	if (a->locals.set) {
		ru->flags |= AEGIS_ENF_R_LOCALS;
		r = emit_portset(p, &a->locals, &ru->locals_set);
		if (r < 0)
			return r;
	}
	policy_app_restricts(a, &local_restr, &remote_restr);
	if (local_restr)
		ru->flags |= AEGIS_ENF_R_LOCAL_RESTR;
	if (remote_restr)
		ru->flags |= AEGIS_ENF_R_REMOTE_RESTR;
	return compile_rule_remotes(p, a, env, ru);
}

/* Candidate keys: a fresh exec of these exes waits for its cmdline verdict. */
static int compile_candidate(struct pcompile_plan *p, const struct app *a,
			     const struct pcompile_env *env)
{
	struct aegis_enf_id_key k = { .uid = AEGIS_ENF_ANY_UID };

	if (a->path) {
		if (!env || !env->stat_path ||
		    env->stat_path(a->path, &k.ino, &k.dev, env->userdata) < 0)
			return 0;
		k.kind = AEGIS_ENF_ID_CAND_PATH;
	} else if (a->exe) {
		k.kind = AEGIS_ENF_ID_CAND_EXE;
		p->hdr.flags |= AEGIS_ENF_H_CAND;
		return emit_exe_ids(p, env, &k, a->exe, a->index, 0);
	} else {
		/* any exe: every exec is classified at once, but not held pending */
		p->hdr.flags |= AEGIS_ENF_H_CAND_ANY;
		return 0;
	}
	p->hdr.flags |= AEGIS_ENF_H_CAND;
	return emit_id(p, &k, a->index, 0);
}

static int compile_identity(struct pcompile_plan *p, const struct app *a,
			    const struct pcompile_env *env, struct pcompile_rule_info *info)
{
	struct aegis_enf_id_key k = { .uid = AEGIS_ENF_ANY_UID };
	unsigned level = 0;
	uint32_t rank;

	if (a->user) {
		if (a->uid == (uid_t)-1) {
			info->kind = PCOMPILE_USERSPACE;
			info->why = "user has no uid";
			return 0;
		}
		k.uid = a->uid;
	}
	if (a->unit) {
		if (!env || !env->unit_cgroup ||
		    env->unit_cgroup(a->unit, &k.cgid, &level, env->userdata) < 0 ||
		    level >= AEGIS_ENF_CG_LEVELS) {
			info->kind = PCOMPILE_USERSPACE;
			info->why = "unit has no cgroup at load time";
			return 0;
		}
		p->hdr.cg_levels |= 1u << level;
	}
	if (a->path) {
		if (!env || !env->stat_path ||
		    env->stat_path(a->path, &k.ino, &k.dev, env->userdata) < 0) {
			info->kind = PCOMPILE_USERSPACE;
			info->why = "path does not exist at load time";
			return 0;
		}
		k.kind = AEGIS_ENF_ID_PATH;
	} else if (a->exe)
		k.kind = AEGIS_ENF_ID_EXE;
	else
		k.kind = AEGIS_ENF_ID_NONE;
	p->hdr.id_mask |= AEGIS_ENF_IDBIT(k.kind, !a->user, !a->unit);
	rank = ((uint32_t)policy_app_rank(a) << 17) | (uint32_t)MIN(a->index, 0x1ffffu);
	info->kind = PCOMPILE_KERNEL;
	info->why = "";
	if (k.kind == AEGIS_ENF_ID_EXE)
		return emit_exe_ids(p, env, &k, a->exe, a->index, rank);
	return emit_id(p, &k, a->index, rank);
}

static int compile_app(struct pcompile_plan *p, const struct config *c, const struct app *a,
		       const struct pcompile_env *env)
{
	struct pcompile_rule_info *info = &p->info[a->index];
	unsigned actions = (a->set & APP_F_ACTIONS) ? a->actions : c->global.default_actions;
	unsigned bits = a->ignore ? 0 : pcompile_block_bits(actions);
	int r;

	info->app = a->index;
	info->blocks = bits != 0;
	r = compile_rule(p, a, env, bits);
	if (r < 0)
		return r;
	if (a->cmdline) {
		info->kind = PCOMPILE_CMDLINE;
		info->why = "cmdline regex: per-process verdict from userspace";
		p->has_cmdline = true;
		/* only blocking cmdline apps hold fresh execs back (see enforce.h) */
		r = bits ? compile_candidate(p, a, env) : 0;
	} else
		r = compile_identity(p, a, env, info);
	if (r < 0)
		return r;
	if (bits) {
		p->hdr.flags |= AEGIS_ENF_H_ACTIVE;
		if (info->kind == PCOMPILE_KERNEL)
			p->n_kernel++;
		else if (info->kind == PCOMPILE_CMDLINE)
			p->n_cmdline++;
		else
			p->n_userspace++;
	}
	return 0;
}

int pcompile(const struct config *c, const struct pcompile_env *env, struct pcompile_plan **ret)
{
	struct pcompile_plan *p = calloc(1, sizeof(*p));
	unsigned unconf;
	int r;

	if (!p)
		return -ENOMEM;
	p->next_set = AEGIS_ENF_SET_WL + 1;
	p->n_rules = p->n_info = c->n_apps;
	p->rules = calloc(c->n_apps + 1, sizeof(*p->rules));
	p->info = calloc(c->n_apps + 1, sizeof(*p->info));
	if (!p->rules || !p->info) {
		pcompile_plan_free(p);
		return -ENOMEM;
	}
	r = policy_exe_index_new(env ? env->exe_dirs : NULL, &p->exe_index);
	if (r >= 0)
		r = compile_whitelist(p, c, env);
	for (size_t i = 0; i < c->n_apps && r >= 0; i++) {
		/* rule ids are app indexes; trust the position, not a stale a->index */
		if (c->apps[i]->index != i) {
			r = -EINVAL;
			break;
		}
		r = compile_app(p, c, c->apps[i], env);
	}
	p->exe_index = policy_exe_index_free(p->exe_index);
	pset_table_free(p->psets);
	p->psets = NULL;
	if (r < 0) {
		pcompile_plan_free(p);
		return r;
	}
	if (c->global.block_unconfigured_programs) {
		unconf = pcompile_block_bits(c->global.unconfigured_actions);
		if (unconf & AEGIS_ENF_R_BLOCK)
			p->hdr.flags |= AEGIS_ENF_H_UNCONF_BLOCK | AEGIS_ENF_H_ACTIVE;
		if (unconf & AEGIS_ENF_R_KILL)
			p->hdr.flags |= AEGIS_ENF_H_UNCONF_KILL;
	}
	*ret = p;
	return 0;
}

struct pcompile_plan *pcompile_plan_free(struct pcompile_plan *p)
{
	if (!p)
		return NULL;
	free(p->ids);
	free(p->rules);
	free(p->ports);
	free(p->c4);
	free(p->c6);
	free(p->info);
	policy_exe_index_free(p->exe_index);
	pset_table_free(p->psets);
	free(p);
	return NULL;
}

/* ---- stable set ids */

static uint32_t get_be(const __u8 b[4])
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* One LPM table of a plan (ports, c4, c6) seen as (set, rest of key, value) entries. */
struct rn_tab {
	const uint8_t *base;
	size_t n, entsz, keysz, valoff; /* valoff 0: no value (ports) */
	size_t *idx; /* sorted by set, key, position */
};

/* Per set id of a plan: its entries' ranges in each table's idx, and their hash. */
struct rn_set {
	size_t lo[3], hi[3];
	uint64_t hash;
	bool hashed;
};

struct rn_plan {
	struct rn_tab t[3];
	struct rn_set *sets; /* [next_set] */
	uint32_t n_sets;
};

static uint32_t rn_set_of(const struct rn_tab *t, size_t i)
{
	return get_be(t->base + i * t->entsz + sizeof(__u32)); /* after prefixlen */
}

static uint32_t rn_val(const struct rn_tab *t, size_t i)
{
	uint32_t v = 0;

	if (t->valoff)
		memcpy(&v, t->base + i * t->entsz + t->valoff, sizeof(v));
	return v;
}

static int rn_cmp(const void *a, const void *b, void *userdata)
{
	const struct rn_tab *t = userdata;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	uint32_t sa = rn_set_of(t, ia), sb = rn_set_of(t, ib);
	int c;

	if (sa != sb)
		return sa < sb ? -1 : 1;
	c = memcmp(t->base + ia * t->entsz, t->base + ib * t->entsz, t->keysz);
	return c ? c : (ia > ib) - (ia < ib);
}

static void rn_plan_done(struct rn_plan *r)
{
	for (unsigned k = 0; k < 3; k++)
		free(r->t[k].idx);
	free(r->sets);
}

static int rn_plan_init(struct rn_plan *r, const struct pcompile_plan *p)
{
	*r = (struct rn_plan){
		.t = {
			{ (const uint8_t *)p->ports, p->n_ports, sizeof(*p->ports), sizeof(*p->ports), 0 },
			{ (const uint8_t *)p->c4, p->n_c4, sizeof(*p->c4), sizeof(p->c4->key),
			  offsetof(struct pcompile_cidr4, val) },
			{ (const uint8_t *)p->c6, p->n_c6, sizeof(*p->c6), sizeof(p->c6->key),
			  offsetof(struct pcompile_cidr6, val) },
		},
		.n_sets = p->next_set,
	};
	r->sets = calloc(r->n_sets + 1, sizeof(*r->sets));
	if (!r->sets)
		return -ENOMEM;
	for (unsigned k = 0; k < 3; k++) {
		struct rn_tab *t = &r->t[k];

		t->idx = malloc((t->n + 1) * sizeof(*t->idx));
		if (!t->idx)
			return -ENOMEM;
		for (size_t i = 0; i < t->n; i++)
			t->idx[i] = i;
		qsort_r(t->idx, t->n, sizeof(*t->idx), rn_cmp, t);
		for (size_t i = 0; i < t->n;) {
			uint32_t s = rn_set_of(t, t->idx[i]);
			size_t j = i;

			while (j < t->n && rn_set_of(t, t->idx[j]) == s)
				j++;
			if (s >= r->n_sets)
				return -EINVAL; /* not from pcompile() */
			r->sets[s].lo[k] = i;
			r->sets[s].hi[k] = j;
			i = j;
		}
	}
	return 0;
}

static bool rn_has_values(const struct rn_plan *r, uint32_t s)
{
	return r->sets[s].hi[1] > r->sets[s].lo[1] || r->sets[s].hi[2] > r->sets[s].lo[2];
}

#define RN_UNMAPPED 0xfffffffeu /* a new port set without an old id (yet) */

/* A cidr value (port set id) in the old plan's numbering; map NULL: as is. */
static uint32_t rn_map_val(uint32_t v, const uint32_t *map, uint32_t n)
{
	if (!map || v == AEGIS_ENF_NO_SET)
		return v;
	return v < n && map[v] != RN_UNMAPPED ? map[v] : RN_UNMAPPED;
}

static uint64_t rn_hash(const struct rn_plan *r, uint32_t s, const uint32_t *map)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (unsigned k = 0; k < 3; k++) {
		const struct rn_tab *t = &r->t[k];

		h = (h ^ (r->sets[s].hi[k] - r->sets[s].lo[k])) * 0x100000001b3ULL;
		for (size_t i = r->sets[s].lo[k]; i < r->sets[s].hi[k]; i++) {
			const uint8_t *e = t->base + t->idx[i] * t->entsz;
			uint32_t v = rn_map_val(rn_val(t, t->idx[i]), map, r->n_sets);

			/* prefixlen, then the key after the set id */
			for (size_t b = 0; b < t->keysz; b++)
				if (b < 4 || b >= 8)
					h = (h ^ e[b]) * 0x100000001b3ULL;
			h = (h ^ v) * 0x100000001b3ULL;
		}
	}
	return h;
}

/* Same entries (set id aside), the new plan's values mapped. */
static bool rn_equal(const struct rn_plan *o, uint32_t so, const struct rn_plan *n, uint32_t sn,
		     const uint32_t *map)
{
	for (unsigned k = 0; k < 3; k++) {
		const struct rn_tab *to = &o->t[k], *tn = &n->t[k];
		size_t len = o->sets[so].hi[k] - o->sets[so].lo[k];

		if (len != n->sets[sn].hi[k] - n->sets[sn].lo[k])
			return false;
		for (size_t i = 0; i < len; i++) {
			size_t io = to->idx[o->sets[so].lo[k] + i],
			       in = tn->idx[n->sets[sn].lo[k] + i];
			const uint8_t *eo = to->base + io * to->entsz,
				      *en = tn->base + in * tn->entsz;

			if (memcmp(eo, en, 4) || memcmp(eo + 8, en + 8, to->keysz - 8) ||
			    rn_val(to, io) != rn_map_val(rn_val(tn, in), map, n->n_sets))
				return false;
		}
	}
	return true;
}

/*
 * Old set ids by content (open addressing): one slot per distinct content,
 * its old ids chained, handed out once each (two apps with equal remotes
 * keep their two sets).
 */
struct rn_index {
	uint32_t *rep; /* old set id + 1 of the content; 0 = empty slot */
	uint32_t *cursor; /* next old id of the content to hand out + 1; 0: none left */
	uint64_t *hash;
	uint32_t *same_next; /* [old set id]: next old id with the same content + 1 */
	size_t mask;
};

static void rn_index_done(struct rn_index *x)
{
	free(x->rep);
	free(x->cursor);
	free(x->hash);
	free(x->same_next);
}

static int rn_index_build(struct rn_index *x, const struct rn_plan *o)
{
	_cleanup_free_ uint32_t *tail = NULL;
	size_t cap = 16;

	while (cap < 2 * (size_t)o->n_sets)
		cap *= 2;
	x->rep = calloc(cap, sizeof(*x->rep));
	x->cursor = calloc(cap, sizeof(*x->cursor));
	x->hash = calloc(cap, sizeof(*x->hash));
	x->same_next = calloc(o->n_sets + 1, sizeof(*x->same_next));
	tail = calloc(cap, sizeof(*tail));
	if (!x->rep || !x->cursor || !x->hash || !x->same_next || !tail)
		return -ENOMEM;
	x->mask = cap - 1;
	for (uint32_t s = AEGIS_ENF_SET_WL + 1; s < o->n_sets; s++) {
		uint64_t h = rn_hash(o, s, NULL);
		size_t i;

		for (i = h & x->mask; x->rep[i]; i = (i + 1) & x->mask)
			if (x->hash[i] == h && rn_equal(o, x->rep[i] - 1, o, s, NULL))
				break;
		if (!x->rep[i]) {
			x->rep[i] = x->cursor[i] = s + 1;
			x->hash[i] = h;
		} else
			x->same_next[tail[i] - 1] = s + 1;
		tail[i] = s + 1;
	}
	return 0;
}

/* An unused old id with new set sn's content, or RN_UNMAPPED. */
static uint32_t rn_take(struct rn_index *x, const struct rn_plan *o, const struct rn_plan *n,
			uint32_t sn, const uint32_t *map)
{
	uint64_t h = rn_hash(n, sn, map);

	for (size_t i = h & x->mask; x->rep[i]; i = (i + 1) & x->mask)
		if (x->hash[i] == h && rn_equal(o, x->rep[i] - 1, n, sn, map)) {
			uint32_t id = x->cursor[i];

			if (!id)
				return RN_UNMAPPED;
			x->cursor[i] = x->same_next[id - 1];
			return id - 1;
		}
	return RN_UNMAPPED;
}

static void put_be(__u8 out[4], uint32_t v)
{
	out[0] = v >> 24;
	out[1] = v >> 16;
	out[2] = v >> 8;
	out[3] = v;
}

static uint32_t rn_apply_id(uint32_t v, const uint32_t *map, uint32_t n)
{
	return v != AEGIS_ENF_NO_SET && v < n ? map[v] : v;
}

int pcompile_renumber(struct pcompile_plan *p, const struct pcompile_plan *ref)
{
	struct rn_plan o = {}, n = {};
	struct rn_index x = {};
	uint32_t *map = NULL, next = AEGIS_ENF_SET_WL + 1, top;
	uint8_t *used = NULL;
	int r;

	if (!ref || p->next_set <= AEGIS_ENF_SET_WL + 1)
		return 0;
	r = rn_plan_init(&o, ref);
	if (r >= 0)
		r = rn_plan_init(&n, p);
	if (r >= 0)
		r = rn_index_build(&x, &o);
	top = MAX(o.n_sets, n.n_sets) + n.n_sets + 1;
	map = malloc(n.n_sets * sizeof(*map));
	used = calloc(top, 1);
	if (r >= 0 && (!map || !used))
		r = -ENOMEM;
	if (r < 0)
		goto out;
	map[AEGIS_ENF_SET_WL] = AEGIS_ENF_SET_WL;
	used[AEGIS_ENF_SET_WL] = 1;
	for (uint32_t s = AEGIS_ENF_SET_WL + 1; s < n.n_sets; s++)
		map[s] = RN_UNMAPPED;
	/* port sets first: the cidr sets' values name them */
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t s = AEGIS_ENF_SET_WL + 1; s < n.n_sets; s++) {
			bool empty = true;

			for (unsigned k = 0; k < 3; k++)
				empty = empty && n.sets[s].hi[k] == n.sets[s].lo[k];
			if (empty || rn_has_values(&n, s) != (pass == 1))
				continue;
			map[s] = rn_take(&x, &o, &n, s, map);
			if (map[s] != RN_UNMAPPED)
				used[map[s]] = 1;
		}
	/* the rest (new content, empty sets) take ids the old plan does not use */
	for (uint32_t s = 1; s < o.n_sets; s++)
		used[s] = 1;
	for (uint32_t s = AEGIS_ENF_SET_WL + 1; s < n.n_sets; s++) {
		if (map[s] != RN_UNMAPPED)
			continue;
		while (used[next])
			next++;
		map[s] = next;
		used[next] = 1;
	}
	/* rewrite keys, values and rules; next_set past the highest id */
	for (size_t i = 0; i < p->n_ports; i++)
		put_be(p->ports[i].set, map[get_be(p->ports[i].set)]);
	for (size_t i = 0; i < p->n_c4; i++) {
		put_be(p->c4[i].key.set, map[get_be(p->c4[i].key.set)]);
		p->c4[i].val = rn_apply_id(p->c4[i].val, map, n.n_sets);
	}
	for (size_t i = 0; i < p->n_c6; i++) {
		put_be(p->c6[i].key.set, map[get_be(p->c6[i].key.set)]);
		p->c6[i].val = rn_apply_id(p->c6[i].val, map, n.n_sets);
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		struct aegis_enf_rule *ru = &p->rules[i];

		ru->ports_set = rn_apply_id(ru->ports_set, map, n.n_sets);
		ru->locals_set = rn_apply_id(ru->locals_set, map, n.n_sets);
		ru->remotes_set = rn_apply_id(ru->remotes_set, map, n.n_sets);
		ru->rports_set = rn_apply_id(ru->rports_set, map, n.n_sets);
	}
	p->next_set = AEGIS_ENF_SET_WL + 1;
	for (uint32_t s = AEGIS_ENF_SET_WL + 1; s < n.n_sets; s++)
		p->next_set = MAX(p->next_set, map[s] + 1);
out:
	rn_plan_done(&o);
	rn_plan_done(&n);
	rn_index_done(&x);
	free(map);
	free(used);
	return r;
}
