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

static int emit_portset(struct pcompile_plan *p, const struct portset *s, uint32_t *ret_set)
{
	uint32_t set = p->next_set++;
	int r = emit_ranges(p, set, s->r, s->n);

	if (r < 0)
		return r;
	*ret_set = set;
	return 0;
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
	/* last created set, for dedup of identical unions */
	struct port_range *last;
	size_t n_last;
	uint32_t last_set;
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

static bool ranges_eq(const struct port_range *a, size_t na, const struct port_range *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

static int node_set(struct rctx *x, struct rnode *node)
{
	int r;

	if (node->n == 1 && node->r[0].lo <= 1 && node->r[0].hi == 65535) {
		node->set = AEGIS_ENF_NO_SET;
		return 0;
	}
	if (x->last && ranges_eq(x->last, x->n_last, node->r, node->n)) {
		node->set = x->last_set;
		return 0;
	}
	node->set = x->p->next_set++;
	r = emit_ranges(x->p, node->set, node->r, node->n);
	if (r < 0)
		return r;
	free(x->last);
	x->last = malloc(node->n * sizeof(*node->r) + 1);
	if (!x->last)
		return -ENOMEM;
	memcpy(x->last, node->r, node->n * sizeof(*node->r));
	x->n_last = node->n;
	x->last_set = node->set;
	return 0;
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
	free(x.last);
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
	free(p);
	return NULL;
}
