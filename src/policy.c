// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Policy matcher (semantics in policy.h). policy_new() indexes every app
 * once under its most selective hashable matcher (path, else exe, else unit,
 * else user; cmdline-only apps go to a short regex list), so a lookup costs a
 * few hash probes plus the regexes of the candidates, whatever the number of
 * apps. remotes are compiled per app: port-only entries into a portset, CIDR
 * entries into one addrset per distinct port range, hostnames into references
 * to a shared per-policy host table the daemon fills.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "aegis.h"
#include "detent.h"
#include "hostaddr.h"
#include "log.h"
#include "macro.h"
#include "policy.h"

/* Interned violation reasons: bounded, then a generic fallback. */
#define REASONS_MAX 4096
/* List items shown in reasons before "…". */
#define DESC_ITEMS_MAX 8

/* A hash map from byte strings to a vector of pointers (open addressing). */
struct smap_entry {
	const char *key; /* NULL = empty slot */
	size_t len;
	uint64_t hash;
	void **v;
	size_t n;
};

struct smap {
	struct smap_entry *e;
	size_t cap; /* power of two or 0 */
	size_t n;
	bool own_keys;
};

struct host {
	char *name;
	struct cidr *addrs;
	size_t n;
};

struct rgroup {
	struct port_range pr;
	struct addrset set;
};

struct hostref {
	struct host *host;
	struct port_range pr;
};

struct rules {
	const struct app *app; /* also the key of policy.by_app (pointer bytes) */
	size_t pos; /* position in config->apps: later wins ties */
	int rank;
	char *name;
	pcre2_code *re; /* borrowed from app->cmdline_re or own_re */
	pcre2_code *own_re;
	bool remotes_set;
	struct portset remote_ports; /* port-only remotes */
	struct rgroup *groups; /* CIDR remotes, sorted by pr.lo */
	size_t n_groups;
	struct hostref *hosts;
	size_t n_hosts;
	bool local_restr, remote_restr; /* policy.h 5a */
	char **aliases; /* exe aliases (policy.h 2), NULL-terminated or NULL */
};

struct policy {
	const struct config *c;
	uint64_t gen;
	struct rules *rules;
	size_t n_rules;
	struct smap by_app, by_path, by_exe, by_unit, by_uid, by_user;
	struct rules **re_only;
	size_t n_re_only;
	struct smap programs;
	char **program_aliases; /* keys of programs owned by p */
	const char *const *exe_dirs; /* where exe aliases are looked up */
	struct policy_exe_index *exe_index; /* their symlinks, while compiling */
	struct smap hosts;
	char **host_names; /* NULL-terminated, strings owned by struct host */
	pcre2_match_data *md;
	struct smap reasons; /* owned keys */
};

static atomic_uint_fast64_t policy_gen_counter;

/* ---- small helpers ---- */

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t hash_bytes(const void *data, size_t len)
{
	return fnv1a(0xcbf29ce484222325ULL, data, len);
}

static struct smap_entry *smap_slot(const struct smap *m, const char *key, size_t len,
				    uint64_t hash)
{
	size_t mask = m->cap - 1;

	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		struct smap_entry *e = &m->e[i];

		if (!e->key || (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0))
			return e;
	}
}

static struct smap_entry *smap_find(const struct smap *m, const char *key, size_t len)
{
	struct smap_entry *e;

	if (!m->cap || !key)
		return NULL;
	e = smap_slot(m, key, len, hash_bytes(key, len));
	return e->key ? e : NULL;
}

static int smap_grow(struct smap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct smap_entry *e = calloc(cap, sizeof(*e));
	struct smap old = *m;

	if (!e)
		return -ENOMEM;
	m->e = e;
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.e[i].key)
			*smap_slot(m, old.e[i].key, old.e[i].len, old.e[i].hash) = old.e[i];
	free(old.e);
	return 0;
}

/* Adds value (if non-NULL) under key; returns the entry through ret if non-NULL. */
static int smap_add(struct smap *m, const char *key, size_t len, void *value,
		    struct smap_entry **ret)
{
	uint64_t hash = hash_bytes(key, len);
	struct smap_entry *e;
	int r;

	if ((m->n + 1) * 2 > m->cap) {
		r = smap_grow(m);
		if (r < 0)
			return r;
	}
	e = smap_slot(m, key, len, hash);
	if (!e->key) {
		*e = (struct smap_entry){ .key = key, .len = len, .hash = hash };
		m->n++;
	} else if (m->own_keys) {
		free((char *)key); /* already present: the caller's copy is ours to drop */
	}
	if (value) {
		void **v = realloc(e->v, (e->n + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		v[e->n++] = value;
		e->v = v;
	}
	if (ret)
		*ret = e;
	return 0;
}

static void smap_done(struct smap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->e[i].v);
		if (m->own_keys)
			free((char *)m->e[i].key);
	}
	free(m->e);
	*m = (struct smap){};
}

static int smap_add_str(struct smap *m, const char *key, void *value)
{
	return smap_add(m, key, strlen(key), value, NULL);
}

/* The executable path without a " (deleted)" suffix, and its basename. */
struct exe_view {
	const char *path, *base;
	size_t path_len, base_len;
};

static void exe_view_init(struct exe_view *v, const char *exe)
{
	static const char deleted[] = " (deleted)";
	size_t len = exe ? strlen(exe) : 0;
	const char *slash;

	if (len >= sizeof(deleted) - 1 &&
	    memcmp(exe + len - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1) == 0)
		len -= sizeof(deleted) - 1;
	v->path = exe ? exe : "";
	v->path_len = len;
	slash = memrchr(v->path, '/', len);
	v->base = slash ? slash + 1 : v->path;
	v->base_len = len - (size_t)(v->base - v->path);
}

/* Normalises v4-mapped v6 to v4 (first 4 bytes). */
static int addr_normalize(int family, const uint8_t in[16], uint8_t out[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, 16);
	if (family == AF_INET6 && memcmp(in, mapped, sizeof(mapped)) == 0) {
		memcpy(out, in + 12, 4);
		return AF_INET;
	}
	memcpy(out, in, family == AF_INET ? 4 : 16);
	return family;
}

/* ---- exe aliases ---- */

const char *const policy_std_exe_dirs[] = {
	"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL,
};

static int strv_push_unique(char ***l, size_t *n, const char *s)
{
	char **v;

	STRV_FOREACH(x, *l)
		if (streq(*x, s))
			return 0;
	v = realloc(*l, (*n + 2) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	*l = v;
	v[*n] = strdup(s);
	if (!v[*n])
		return -ENOMEM;
	v[++*n] = NULL;
	return 0;
}

/* The basename of dir/name's resolved target if dir/name is a symlink, else NULL. */
static char *alias_in(const char *dir, const char *name)
{
	char path[PATH_MAX], *real, *base = NULL;
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return NULL;
	if (lstat(path, &st) < 0 || !S_ISLNK(st.st_mode))
		return NULL;
	real = realpath(path, NULL);
	if (!real)
		return NULL;
	base = strrchr(real, '/');
	base = base ? strdup(base + 1) : NULL;
	free(real);
	return base;
}

/*
 * The symlinks of each directory, read once: a policy with thousands of exe
 * names then costs one directory scan instead of an lstat() per name and
 * directory (2,000 apps: ~35 % of a reload's CPU before).
 */
struct exe_dir_links {
	const char *dir;
	char **names; /* sorted: entries that are (or may be) symlinks */
	size_t n;
	bool unread; /* could not be listed: lstat() each name */
};

struct policy_exe_index {
	struct exe_dir_links *d;
	size_t n;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

static int dir_links_read(struct exe_dir_links *l)
{
	_cleanup_(closedirp) DIR *d = opendir(l->dir);
	size_t cap = 0;
	struct dirent *de;

	if (!d) {
		/* absent: no aliases there; anything else: fall back to lstat() */
		l->unread = errno != ENOENT && errno != ENOTDIR;
		return 0;
	}
	while ((de = readdir(d))) {
		if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			continue;
		if (l->n == cap) {
			char **v = realloc(l->names, (cap = cap ? cap * 2 : 64) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			l->names = v;
		}
		l->names[l->n] = strdup(de->d_name);
		if (!l->names[l->n])
			return -ENOMEM;
		l->n++;
	}
	if (l->n)
		qsort(l->names, l->n, sizeof(*l->names), cmp_str);
	return 0;
}

struct policy_exe_index *policy_exe_index_free(struct policy_exe_index *x)
{
	if (!x)
		return NULL;
	for (size_t i = 0; i < x->n; i++) {
		for (size_t j = 0; j < x->d[i].n; j++)
			free(x->d[i].names[j]);
		free(x->d[i].names);
	}
	free(x->d);
	free(x);
	return NULL;
}

int policy_exe_index_new(const char *const *dirs, struct policy_exe_index **ret)
{
	struct policy_exe_index *x = calloc(1, sizeof(*x));
	size_t n = 0;
	int r = 0;

	if (!x)
		return -ENOMEM;
	if (!dirs)
		dirs = policy_std_exe_dirs;
	while (dirs[n])
		n++;
	x->d = calloc(n + 1, sizeof(*x->d));
	if (!x->d) {
		free(x);
		return -ENOMEM;
	}
	for (x->n = 0; x->n < n && r >= 0; x->n++) {
		x->d[x->n].dir = dirs[x->n];
		r = dir_links_read(&x->d[x->n]);
	}
	if (r < 0)
		return policy_exe_index_free(x), r;
	*ret = x;
	return 0;
}

static bool dir_may_link(const struct exe_dir_links *l, const char *name)
{
	return l->unread || (l->n && bsearch(&name, l->names, l->n, sizeof(*l->names), cmp_str));
}

int policy_exe_index_aliases(const struct policy_exe_index *x, const char *name, char ***ret)
{
	char **l = calloc(1, sizeof(*l));
	size_t n = 0;

	if (!l)
		return -ENOMEM;
	/* a name with a "/" is no basename; "." and ".." are no programs */
	if (!name || !name[0] || strchr(name, '/') || streq(name, ".") || streq(name, "..")) {
		*ret = l;
		return 0;
	}
	for (size_t i = 0; i < x->n; i++) {
		char *base;
		int r = 0;

		if (!dir_may_link(&x->d[i], name))
			continue;
		base = alias_in(x->d[i].dir, name);
		if (!base)
			continue; /* absent, no symlink, dangling: no alias */
		if (base[0] && !streq(base, name))
			r = strv_push_unique(&l, &n, base);
		free(base);
		if (r < 0) {
			strv_free(l);
			return r;
		}
	}
	*ret = l;
	return 0;
}

int policy_exe_aliases(const char *const *dirs, const char *name, char ***ret)
{
	/* one name: an lstat() per directory, no listing */
	_cleanup_free_ struct exe_dir_links *d = NULL;
	struct policy_exe_index x = {};

	if (!dirs)
		dirs = policy_std_exe_dirs;
	while (dirs[x.n])
		x.n++;
	d = calloc(x.n + 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < x.n; i++)
		d[i] = (struct exe_dir_links){ .dir = dirs[i], .unread = true };
	x.d = d;
	return policy_exe_index_aliases(&x, name, ret);
}

/* ---- identity ---- */

int policy_app_rank(const struct app *a)
{
	return (a->cmdline ? 16 : 0) + (a->path ? 8 : 0) + (a->exe ? 4 : 0) + (a->user ? 1 : 0) +
	       (a->unit ? 1 : 0);
}

uint64_t policy_app_hash(const struct app *a)
{
	const char *f[] = { a->exe, a->path, a->cmdline, a->user, a->unit };
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		uint8_t tag = f[i] ? (uint8_t)(i + 1) : 0;

		h = fnv1a(h, &tag, 1);
		if (f[i])
			h = fnv1a(h, f[i], strlen(f[i]) + 1);
	}
	return h;
}

static char *app_display_name(const struct app *a)
{
	char buf[1024];
	size_t o = 0;

	if (a->name)
		return strdup(a->name);
	buf[0] = 0;
#define ADD(fmt, v)                                                                             \
	do {                                                                                    \
		if ((v) && o < sizeof(buf))                                                     \
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s" fmt, o ? " " : "", \
					      v);                                               \
	} while (0)
	ADD("exe=%s", a->exe);
	ADD("path=%s", a->path);
	ADD("cmdline=/%s/", a->cmdline);
	ADD("user=%s", a->user);
	ADD("unit=%s", a->unit);
#undef ADD
	return strdup(buf);
}

/* ---- descriptions for reasons ---- */

struct desc {
	char buf[512];
	size_t o;
	size_t items;
	size_t more;
};

static void desc_item(struct desc *d, const char *fmt, ...) _printf_(2, 3);
static void desc_item(struct desc *d, const char *fmt, ...)
{
	va_list ap;

	if (d->items >= DESC_ITEMS_MAX) {
		d->more++;
		return;
	}
	if (d->items++ && d->o < sizeof(d->buf))
		d->o += (size_t)snprintf(d->buf + d->o, sizeof(d->buf) - d->o, ", ");
	if (d->o >= sizeof(d->buf))
		return;
	va_start(ap, fmt);
	d->o += (size_t)vsnprintf(d->buf + d->o, sizeof(d->buf) - d->o, fmt, ap);
	va_end(ap);
}

static char *desc_finish(struct desc *d, const char *what)
{
	char *s;

	if (d->more && d->o < sizeof(d->buf))
		snprintf(d->buf + d->o, sizeof(d->buf) - d->o, ", … %zu more", d->more);
	if (asprintf(&s, "%s [%s]", what, d->buf) < 0)
		return NULL;
	return s;
}

static void desc_range(struct desc *d, const struct port_range *r, const char *prefix)
{
	if (r->lo == r->hi)
		desc_item(d, "%s%u", prefix, r->lo);
	else
		desc_item(d, "%s%u-%u", prefix, r->lo, r->hi);
}

static char *portset_desc(const struct portset *s, const char *what)
{
	struct desc d = {};

	for (size_t i = 0; i < s->n; i++)
		desc_range(&d, &s->r[i], "");
	return desc_finish(&d, what);
}

/*
 * "remotes [...]". for_local: the description shown for a local peer, which
 * only address/host entries can allow: port-only entries are left out and a
 * hint says where such ports belong (a user who added "9090" to remotes and
 * still sees local port 9090 refused must not read "9090 not in remotes [9090]").
 */
static char *remotes_desc(const struct app *a, bool for_local)
{
	struct desc d = {};
	size_t port_only = 0;
	char *s1, *s2;

	for (size_t i = 0; i < a->n_remotes; i++) {
		const struct remote_spec *s = &a->remotes[i];
		char addr[64], pfx[128];

		/* desc_item() would drop it too, but only after it was formatted: 50,000 CIDRs */
		if (d.items >= DESC_ITEMS_MAX && (!for_local || s->kind != REMOTE_PORT_ONLY)) {
			d.more++;
			continue;
		}
		switch (s->kind) {
		case REMOTE_PORT_ONLY:
			if (for_local) {
				port_only++;
				continue;
			}
			pfx[0] = 0;
			break;
		case REMOTE_CIDR:
			cidr_to_string(&s->cidr, addr, sizeof(addr));
			snprintf(pfx, sizeof(pfx),
				 s->cidr.family == AF_INET6 ? "[%s]:" : "%s:", addr);
			break;
		default:
			snprintf(pfx, sizeof(pfx), "%.100s:", s->host ? s->host : "");
			break;
		}
		desc_range(&d, &s->ports, pfx);
	}
	s1 = desc_finish(&d, "remotes");
	if (!s1 || !port_only)
		return s1;
	if (asprintf(&s2,
		     "%s (port-only remotes apply to remote peers; ports on this host go in locals)",
		     s1) < 0)
		s2 = NULL;
	free(s1);
	return s2;
}

/* ---- compilation ---- */

/* An address/CIDR remotes entry within loopback (127.0.0.0/8, ::1). */
static bool cidr_in_loopback(const struct cidr *c)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	if (c->family == AF_INET)
		return c->prefix >= 8 && c->addr[0] == 127;
	return c->family == AF_INET6 && c->prefix == 128 &&
	       memcmp(c->addr, v6_loopback, sizeof(v6_loopback)) == 0;
}

/*
 * A hostname that names this host's loopback (RFC 6761: "localhost" and
 * "*.localhost"; Debian's /etc/hosts aliases): "localhost:8080" means the same
 * as "127.0.0.1:8080" and must restrict local peers the same way.
 */
bool policy_host_is_loopback_name(const char *host)
{
	static const char *const names[] = { "localhost", "localhost.localdomain", "ip6-localhost",
					     "ip6-loopback" };
	size_t n = host ? strlen(host) : 0;
	const char *suffix = ".localhost";

	if (n && host[n - 1] == '.') /* a fully qualified "localhost." */
		n--;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == n && strncasecmp(host, names[i], n) == 0)
			return true;
	return n > strlen(suffix) &&
	       strncasecmp(host + n - strlen(suffix), suffix, strlen(suffix)) == 0;
}

bool policy_remote_is_loopback(const struct remote_spec *s)
{
	return (s->kind == REMOTE_CIDR && cidr_in_loopback(&s->cidr)) ||
	       (s->kind == REMOTE_HOST && policy_host_is_loopback_name(s->host));
}

void policy_app_restricts(const struct app *a, bool *ret_local, bool *ret_remote)
{
	bool local = a->ports.set || a->locals.set, remote = a->ports.set;

	/* remotes = [] (given, empty): nothing remote is allowed */
	if ((a->set & APP_F_REMOTES) && a->n_remotes == 0)
		remote = true;
	for (size_t i = 0; i < a->n_remotes; i++) {
		if (policy_remote_is_loopback(&a->remotes[i]))
			local = true;
		else
			remote = true;
	}
	*ret_local = local;
	*ret_remote = remote;
}

static int rgroup_cmp(const void *x, const void *y)
{
	const struct rgroup *a = x, *b = y;

	if (a->pr.lo != b->pr.lo)
		return a->pr.lo < b->pr.lo ? -1 : 1;
	if (a->pr.hi != b->pr.hi)
		return a->pr.hi < b->pr.hi ? -1 : 1;
	return 0;
}

static struct rgroup *rules_group(struct rules *ru, struct port_range pr)
{
	/* Few distinct ranges per app in practice; the sort below makes lookups cheap. */
	for (size_t i = 0; i < ru->n_groups; i++)
		if (ru->groups[i].pr.lo == pr.lo && ru->groups[i].pr.hi == pr.hi)
			return &ru->groups[i];
	struct rgroup *g = realloc(ru->groups, (ru->n_groups + 1) * sizeof(*g));
	if (!g)
		return NULL;
	ru->groups = g;
	g = &ru->groups[ru->n_groups++];
	*g = (struct rgroup){ .pr = pr };
	return g;
}

static int policy_host(struct policy *p, const char *name, struct host **ret)
{
	struct smap_entry *e = smap_find(&p->hosts, name, strlen(name));
	struct host *h;
	int r;

	if (e) {
		*ret = e->v[0];
		return 0;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->name = strdup(name);
	if (!h->name) {
		free(h);
		return -ENOMEM;
	}
	r = smap_add_str(&p->hosts, h->name, h);
	if (r < 0) {
		free(h->name);
		free(h);
		return r;
	}
	*ret = h;
	return 0;
}

static int compile_remotes(struct policy *p, struct rules *ru)
{
	const struct app *a = ru->app;
	size_t last_group = (size_t)-1;
	int r;

	ru->remotes_set = (a->set & APP_F_REMOTES) || a->n_remotes > 0;
	policy_app_restricts(a, &ru->local_restr, &ru->remote_restr);
	for (size_t i = 0; i < a->n_remotes; i++) {
		const struct remote_spec *s = &a->remotes[i];

		if (s->kind == REMOTE_PORT_ONLY) {
			r = portset_add(&ru->remote_ports, s->ports);
		} else if (s->kind == REMOTE_CIDR) {
			struct rgroup *g;

			/* Consecutive entries usually share a range: skip the search. */
			if (last_group < ru->n_groups &&
			    ru->groups[last_group].pr.lo == s->ports.lo &&
			    ru->groups[last_group].pr.hi == s->ports.hi)
				g = &ru->groups[last_group];
			else
				g = rules_group(ru, s->ports);
			if (!g)
				return -ENOMEM;
			last_group = (size_t)(g - ru->groups);
			r = addrset_add(&g->set, &s->cidr);
		} else {
			struct hostref *hr = realloc(ru->hosts, (ru->n_hosts + 1) * sizeof(*hr));

			if (!hr)
				return -ENOMEM;
			ru->hosts = hr;
			hr = &ru->hosts[ru->n_hosts];
			hr->pr = s->ports;
			r = policy_host(p, s->host ? s->host : "", &hr->host);
			if (r >= 0)
				ru->n_hosts++;
		}
		if (r < 0)
			return r;
	}
	ru->remote_ports.set = true;
	for (size_t i = 0; i < ru->n_groups; i++)
		addrset_finalize(&ru->groups[i].set);
	if (ru->n_groups > 1)
		qsort(ru->groups, ru->n_groups, sizeof(*ru->groups), rgroup_cmp);
	return 0;
}

static int compile_regex(struct rules *ru)
{
	const struct app *a = ru->app;
	PCRE2_SIZE off;
	int err;

	if (!a->cmdline)
		return 0;
	if (a->cmdline_re) {
		ru->re = a->cmdline_re;
		return 0;
	}
	ru->own_re =
		pcre2_compile((PCRE2_SPTR)a->cmdline, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
	if (!ru->own_re)
		return -EINVAL;
	(void)pcre2_jit_compile(ru->own_re, PCRE2_JIT_COMPLETE);
	ru->re = ru->own_re;
	return 0;
}

static int compile_rules(struct policy *p, struct rules *ru)
{
	const struct app *a = ru->app;
	int r;

	if (a->exe) {
		r = policy_exe_index_aliases(p->exe_index, a->exe, &ru->aliases);
		if (r < 0)
			return r;
	}

	ru->rank = policy_app_rank(a);
	ru->name = app_display_name(a);
	if (!ru->name)
		return -ENOMEM;
	r = compile_regex(ru);
	if (r < 0)
		return r;
	return compile_remotes(p, ru);
}

/* Indexes ru under its most selective hashable matcher. */
static int index_rules(struct policy *p, struct rules *ru)
{
	const struct app *a = ru->app;

	if (a->path)
		return smap_add_str(&p->by_path, a->path, ru);
	if (a->exe) {
		int r = smap_add_str(&p->by_exe, a->exe, ru);

		STRV_FOREACH(al, ru->aliases)
			if (r >= 0)
				r = smap_add_str(&p->by_exe, *al, ru);
		return r;
	}
	if (a->cmdline) {
		struct rules **v = realloc(p->re_only, (p->n_re_only + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		v[p->n_re_only++] = ru;
		p->re_only = v;
		return 0;
	}
	if (a->unit)
		return smap_add_str(&p->by_unit, a->unit, ru);
	if (a->user && a->uid != (uid_t)-1)
		return smap_add(&p->by_uid, (const char *)&a->uid, sizeof(a->uid), ru, NULL);
	if (a->user)
		return smap_add_str(&p->by_user, a->user, ru);
	return -EINVAL; /* no matcher: config_load refuses these */
}

static int collect_hosts(struct policy *p)
{
	size_t n = 0;

	p->host_names = calloc(p->hosts.n + 1, sizeof(char *));
	if (!p->host_names)
		return -ENOMEM;
	for (size_t i = 0; i < p->hosts.cap; i++)
		if (p->hosts.e[i].key)
			p->host_names[n++] = ((struct host *)p->hosts.e[i].v[0])->name;
	return 0;
}

/* Adds the aliases of whitelisted program name to p->programs (keys owned by p). */
static int program_aliases(struct policy *p, const char *name)
{
	char **al = NULL;
	size_t n = strv_length(p->program_aliases);
	int r;

	r = policy_exe_index_aliases(p->exe_index, name, &al);
	STRV_FOREACH(x, al) {
		if (r < 0)
			break;
		if (smap_find(&p->programs, *x, strlen(*x)))
			continue;
		r = strv_push_unique(&p->program_aliases, &n, *x);
		if (r >= 0)
			r = smap_add_str(&p->programs, p->program_aliases[n - 1], NULL);
	}
	strv_free(al);
	return r;
}

static int policy_compile(struct policy *p)
{
	const struct config *c = p->c;
	int r;

	STRV_FOREACH(s, c->whitelist.programs) {
		r = smap_add_str(&p->programs, *s, NULL);
		if (r < 0)
			return r;
	}
	/* by name: their aliases too (policy.h 2) */
	STRV_FOREACH(s, c->whitelist.programs) {
		r = (*s)[0] == '/' ? 0 : program_aliases(p, *s);
		if (r < 0)
			return r;
	}
	p->rules = calloc(c->n_apps ? c->n_apps : 1, sizeof(*p->rules));
	if (!p->rules)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_apps; i++) {
		struct rules *ru = &p->rules[i];

		ru->app = c->apps[i];
		ru->pos = i;
		p->n_rules++;
		r = compile_rules(p, ru);
		if (r < 0)
			return r;
		r = index_rules(p, ru);
		if (r < 0)
			return r;
		r = smap_add(&p->by_app, (const char *)&ru->app, sizeof(ru->app), ru, NULL);
		if (r < 0)
			return r;
	}
	return collect_hosts(p);
}

int policy_new(const struct config *c, struct policy **ret)
{
	return policy_new_with_exe_dirs(c, NULL, ret);
}

int policy_new_with_exe_dirs(const struct config *c, const char *const *exe_dirs,
			     struct policy **ret)
{
	struct policy *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->c = c;
	p->exe_dirs = exe_dirs ? exe_dirs : policy_std_exe_dirs;
	p->gen = atomic_fetch_add(&policy_gen_counter, 1) + 1;
	p->reasons.own_keys = true;
	p->md = pcre2_match_data_create(1, NULL);
	if (!p->md) {
		policy_free(p);
		return -ENOMEM;
	}
	r = policy_exe_index_new(p->exe_dirs, &p->exe_index);
	if (r >= 0)
		r = policy_compile(p);
	p->exe_index = policy_exe_index_free(p->exe_index);
	if (r < 0) {
		policy_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

static void rules_done(struct rules *ru)
{
	free(ru->name);
	if (ru->own_re)
		pcre2_code_free(ru->own_re);
	portset_done(&ru->remote_ports);
	for (size_t i = 0; i < ru->n_groups; i++)
		addrset_done(&ru->groups[i].set);
	free(ru->groups);
	free(ru->hosts);
	strv_free(ru->aliases);
}

struct policy *policy_free(struct policy *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_rules; i++)
		rules_done(&p->rules[i]);
	free(p->rules);
	for (size_t i = 0; i < p->hosts.cap; i++) {
		struct host *h = p->hosts.e[i].key ? p->hosts.e[i].v[0] : NULL;

		if (h) {
			free(h->addrs);
			free(h->name);
			free(h);
		}
	}
	smap_done(&p->hosts);
	smap_done(&p->by_app);
	smap_done(&p->by_path);
	smap_done(&p->by_exe);
	smap_done(&p->by_unit);
	smap_done(&p->by_uid);
	smap_done(&p->by_user);
	smap_done(&p->programs);
	strv_free(p->program_aliases);
	smap_done(&p->reasons);
	free(p->re_only);
	free(p->host_names);
	if (p->md)
		pcre2_match_data_free(p->md);
	free(p);
	return NULL;
}

const struct config *policy_config(const struct policy *p)
{
	return p->c;
}

uint64_t policy_generation(const struct policy *p)
{
	return p->gen;
}

/* ---- matching ---- */

static bool str_eq(const char *s, const char *b, size_t blen)
{
	return strlen(s) == blen && memcmp(s, b, blen) == 0;
}

static atomic_uint_fast64_t regex_errors;

uint64_t policy_regex_errors(void)
{
	return atomic_load(&regex_errors);
}

/*
 * A cmdline match that could not finish (PCRE2's match, depth or heap limit:
 * a pattern that backtracks badly on a crafted command line). It counts as
 * no match; it is counted, and logged at the 1st, 2nd, 4th, 8th... failure
 * so that a process provoking it cannot flood the log.
 */
static void regex_failed(const struct rules *ru, size_t len, int err)
{
	uint64_t n = atomic_fetch_add(&regex_errors, 1) + 1;
	PCRE2_UCHAR msg[128];

	if (n & (n - 1))
		return;
	if (pcre2_get_error_message(err, msg, sizeof(msg)) < 0)
		snprintf((char *)msg, sizeof(msg), "error %d", err);
	log_warning("App %s: cmdline pattern failed on a %zu-byte command line (%s): "
		    "counted as no match (failures so far: %" PRIu64 ")",
		    ru->name, len, (const char *)msg, n);
}

static bool exe_matches(const struct rules *ru, const struct exe_view *v)
{
	if (str_eq(ru->app->exe, v->base, v->base_len))
		return true;
	STRV_FOREACH(al, ru->aliases)
		if (str_eq(*al, v->base, v->base_len))
			return true;
	return false;
}

static bool rules_match(const struct policy *p, const struct rules *ru,
			const struct proc_info *proc, const struct exe_view *v)
{
	const struct app *a = ru->app;

	if (a->path && !str_eq(a->path, v->path, v->path_len))
		return false;
	if (a->exe && !exe_matches(ru, v))
		return false;
	if (a->unit && !(proc->unit && streq(a->unit, proc->unit)))
		return false;
	if (a->user) {
		if (a->uid != (uid_t)-1 ? proc->uid != a->uid :
					  !(proc->user && streq(a->user, proc->user)))
			return false;
	}
	if (ru->re) {
		const char *cl = proc->cmdline ? proc->cmdline : "";
		size_t len = strlen(cl);
		int r = pcre2_match(ru->re, (PCRE2_SPTR)cl, len, 0, 0, p->md, NULL);

		if (r == PCRE2_ERROR_NOMATCH)
			return false;
		if (r < 0) {
			regex_failed(ru, len, r);
			return false;
		}
	}
	return true;
}

static bool rules_better(const struct rules *a, const struct rules *b)
{
	if (!b)
		return true;
	if (a->rank != b->rank)
		return a->rank > b->rank;
	return a->pos > b->pos;
}

typedef void (*match_cb)(const struct rules *ru, void *userdata);

static void visit(const struct policy *p, const struct smap_entry *e, const struct proc_info *proc,
		  const struct exe_view *v, match_cb cb, void *ud)
{
	for (size_t i = 0; e && i < e->n; i++)
		if (rules_match(p, e->v[i], proc, v))
			cb(e->v[i], ud);
}

static void for_each_match(const struct policy *p, const struct proc_info *proc, match_cb cb,
			   void *ud)
{
	struct exe_view v;

	exe_view_init(&v, proc->exe);
	if (v.path_len) {
		visit(p, smap_find(&p->by_path, v.path, v.path_len), proc, &v, cb, ud);
		visit(p, smap_find(&p->by_exe, v.base, v.base_len), proc, &v, cb, ud);
	}
	for (size_t i = 0; i < p->n_re_only; i++)
		if (rules_match(p, p->re_only[i], proc, &v))
			cb(p->re_only[i], ud);
	if (proc->unit)
		visit(p, smap_find(&p->by_unit, proc->unit, strlen(proc->unit)), proc, &v, cb, ud);
	visit(p, smap_find(&p->by_uid, (const char *)&proc->uid, sizeof(proc->uid)), proc, &v, cb,
	      ud);
	if (proc->user)
		visit(p, smap_find(&p->by_user, proc->user, strlen(proc->user)), proc, &v, cb, ud);
}

static void best_cb(const struct rules *ru, void *userdata)
{
	const struct rules **best = userdata;

	if (rules_better(ru, *best))
		*best = ru;
}

const struct app *policy_match_app(const struct policy *p, const struct proc_info *proc)
{
	const struct rules *best = NULL;

	for_each_match(p, proc, best_cb, &best);
	return best ? best->app : NULL;
}

const struct app *policy_app_cached(const struct policy *p, struct proc_info *proc)
{
	if (proc->policy_gen != p->gen) {
		proc->app = policy_match_app(p, proc);
		proc->policy_gen = p->gen;
	}
	return proc->app;
}

struct all_ctx {
	const struct rules **v;
	size_t n, cap;
	bool failed;
};

static void all_cb(const struct rules *ru, void *userdata)
{
	struct all_ctx *ctx = userdata;

	if (ctx->n == ctx->cap) {
		size_t cap = ctx->cap ? ctx->cap * 2 : 8;
		const struct rules **v = realloc(ctx->v, cap * sizeof(*v));

		if (!v) {
			ctx->failed = true;
			return;
		}
		ctx->v = v;
		ctx->cap = cap;
	}
	ctx->v[ctx->n++] = ru;
}

static int rules_cmp_best_first(const void *x, const void *y)
{
	const struct rules *a = *(const struct rules *const *)x,
			   *b = *(const struct rules *const *)y;

	return rules_better(a, b) ? -1 : rules_better(b, a) ? 1 : 0;
}

size_t policy_match_all(const struct policy *p, const struct proc_info *proc,
			const struct app **ret, size_t max)
{
	struct all_ctx ctx = {};

	for_each_match(p, proc, all_cb, &ctx);
	if (ctx.n > 1)
		qsort(ctx.v, ctx.n, sizeof(*ctx.v), rules_cmp_best_first);
	for (size_t i = 0; i < ctx.n && i < max; i++)
		ret[i] = ctx.v[i]->app;
	free(ctx.v);
	return ctx.n;
}

static const struct rules *rules_of(const struct policy *p, const struct app *a)
{
	const struct smap_entry *e = smap_find(&p->by_app, (const char *)&a, sizeof(a));

	return e ? e->v[0] : NULL;
}

const char *policy_app_name(const struct policy *p, const struct app *a)
{
	const struct rules *ru = rules_of(p, a);

	return ru ? ru->name : "";
}

char *const *policy_app_exe_aliases(const struct policy *p, const struct app *a)
{
	const struct rules *ru = rules_of(p, a);

	return ru && ru->aliases && ru->aliases[0] ? ru->aliases : NULL;
}

/* ---- decisions ---- */

bool policy_addr_is_local(const struct hostaddr *h, int family, const uint8_t addr[16])
{
	static const uint8_t zero[16], v6_loopback[16] = { [15] = 1 };
	uint8_t a[16];

	family = addr_normalize(family, addr, a);
	if (family == AF_INET) {
		if (a[0] == 127 || memcmp(a, zero, 4) == 0)
			return true;
	} else if (family == AF_INET6) {
		if (memcmp(a, v6_loopback, 16) == 0 || memcmp(a, zero, 16) == 0)
			return true;
	} else {
		return false;
	}
	return h && hostaddr_is_local(h, family, a);
}

static const struct app *decided_app(const struct policy *p, const struct proc_info *proc)
{
	if (proc->policy_gen == p->gen)
		return proc->app;
	return policy_match_app(p, proc);
}

static bool program_whitelisted(const struct policy *p, const struct proc_info *proc)
{
	struct exe_view v;

	if (!p->programs.n)
		return false;
	exe_view_init(&v, proc->exe);
	if (!v.path_len)
		return false;
	return smap_find(&p->programs, v.path, v.path_len) ||
	       smap_find(&p->programs, v.base, v.base_len);
}

static unsigned final_actions(unsigned actions)
{
	return (actions & ACTION_ALLOW) ? ACTION_ALLOW : actions;
}

enum peer_class {
	PEER_LOCAL,
	PEER_REMOTE,
	PEER_NONE, /* listen */
};

struct peer {
	enum peer_class cls;
	int family;
	uint8_t addr[16];
	uint16_t port;
};

static void peer_of(const struct hostaddr *h, const struct record *r, struct peer *ret)
{
	const uint8_t *a = r->direction == AEGIS_DIR_IN ? r->saddr : r->daddr;

	*ret = (struct peer){ .port = r->dport, .cls = PEER_NONE };
	if (r->direction == AEGIS_DIR_LISTEN)
		return;
	ret->family = addr_normalize(r->family, a, ret->addr);
	ret->cls = policy_addr_is_local(h, ret->family, ret->addr) ? PEER_LOCAL : PEER_REMOTE;
}

/* A remotes address/CIDR/hostname entry matches (peer, port): any peer class. */
static bool remotes_addr_allow(const struct rules *ru, const struct peer *pe)
{
	for (size_t i = 0; i < ru->n_groups && ru->groups[i].pr.lo <= pe->port; i++)
		if (pe->port <= ru->groups[i].pr.hi &&
		    addrset_contains(&ru->groups[i].set, pe->family, pe->addr))
			return true;
	for (size_t i = 0; i < ru->n_hosts; i++) {
		const struct hostref *hr = &ru->hosts[i];

		if (pe->port < hr->pr.lo || pe->port > hr->pr.hi)
			continue;
		for (size_t j = 0; j < hr->host->n; j++)
			if (cidr_contains(&hr->host->addrs[j], pe->family, pe->addr))
				return true;
	}
	return false;
}

static void set_decision(struct record *r, enum outcome o, unsigned actions, const char *rule,
			 const char *reason)
{
	r->outcome = o;
	r->actions = actions;
	r->rule = rule;
	r->reason = reason;
}

/*
 * Violation reasons name the port (and the peer when it matters), so they are
 * formatted once per distinct (app, class, direction, port[, peer]) and kept
 * until policy_free(); past REASONS_MAX distinct ones a generic text is used.
 * Lookups go by a binary key: no formatting on the hot path.
 */
struct reason_key {
	const struct rules *ru;
	uint8_t cls, direction, family, pad;
	uint16_t port, pad2;
	uint8_t addr[16];
};

static const char *reason_lookup(const struct policy *p, const struct reason_key *k)
{
	const struct smap_entry *e = smap_find(&p->reasons, (const char *)k, sizeof(*k));

	return e ? e->v[0] : NULL;
}

static const char *reason_store(const struct policy *cp, const struct reason_key *k,
				const char *text)
{
	struct policy *p = (struct policy *)cp; /* the interned strings are a cache */
	size_t len = strlen(text) + 1;
	char *block;

	block = malloc(sizeof(*k) + len);
	if (!block)
		return NULL;
	memcpy(block, k, sizeof(*k));
	memcpy(block + sizeof(*k), text, len);
	if (smap_add(&p->reasons, block, sizeof(*k), block + sizeof(*k), NULL) < 0) {
		free(block);
		return NULL;
	}
	return block + sizeof(*k);
}

static void violation_subject(const struct record *r, const struct peer *pe, bool with_addr,
			      char *buf, size_t size)
{
	const char *cls = pe->cls == PEER_LOCAL ? "local" : "remote";
	char addr[64];

	record_addr_to_string(pe->family, pe->addr, addr, sizeof(addr));
	if (pe->cls == PEER_NONE)
		snprintf(buf, size, "listen port %u", pe->port);
	else if (r->direction == AEGIS_DIR_IN)
		snprintf(buf, size, "incoming port %u from %s %s", pe->port, cls, addr);
	else if (with_addr)
		snprintf(buf, size, "%s %s port %u", cls, addr, pe->port);
	else
		snprintf(buf, size, "%s port %u", cls, pe->port);
}

/* Whether remotes were consulted for this peer (policy.h 5c). */
static bool remotes_apply(const struct rules *ru, const struct peer *pe)
{
	if (pe->cls == PEER_REMOTE)
		return ru->remotes_set;
	return pe->cls == PEER_LOCAL && (ru->n_groups > 0 || ru->n_hosts > 0);
}

static const char *violation_reason(const struct policy *p, const struct rules *ru,
				    const struct record *r, const struct peer *pe)
{
	const struct app *a = ru->app;
	bool by_remotes = remotes_apply(ru, pe);
	char *lists[3] = {};
	size_t n = 0, o;
	struct reason_key k = {
		.ru = ru,
		.cls = (uint8_t)pe->cls,
		.direction = r->direction,
		.port = pe->port,
	};
	char subject[128], text[2048];
	const char *s;
	bool oom = false;

	if (r->direction == AEGIS_DIR_IN || by_remotes) {
		k.family = (uint8_t)pe->family;
		memcpy(k.addr, pe->addr, sizeof(k.addr));
	}
	s = reason_lookup(p, &k);
	if (s)
		return s;
	if (p->reasons.n >= REASONS_MAX)
		return "port not allowed by the app's allow lists";
	/* the lists' descriptions: made here, once per distinct reason (cached) */
	if (a->ports.set)
		lists[n++] = portset_desc(&a->ports, "ports");
	if (pe->cls != PEER_REMOTE && a->locals.set)
		lists[n++] = portset_desc(&a->locals, "locals");
	if (by_remotes)
		lists[n++] = remotes_desc(a, pe->cls == PEER_LOCAL);
	for (size_t i = 0; i < n; i++)
		oom = oom || !lists[i];
	if (n == 0 || oom) {
		for (size_t i = 0; i < n; i++)
			free(lists[i]);
		return "port not allowed by the app's allow lists";
	}
	violation_subject(r, pe, by_remotes, subject, sizeof(subject));
	o = (size_t)snprintf(text, sizeof(text), "%s not in %s", subject, lists[0]);
	for (size_t i = 1; i < n && o < sizeof(text); i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, " or %s", lists[i]);
	for (size_t i = 0; i < n; i++)
		free(lists[i]);
	s = reason_store(p, &k, text);
	return s ?: "port not allowed by the app's allow lists";
}

/* listen: only ports and locals apply (policy.h 5, "listen"). */
static void decide_listen(const struct policy *p, const struct rules *ru, const struct peer *pe,
			  unsigned vact, struct record *r)
{
	const struct app *a = ru->app;

	if (!a->ports.set && !a->locals.set)
		return set_decision(r, OUTCOME_ALLOWED, 0, ru->name, "no allow list restricts it");
	if (portset_contains(&a->ports, pe->port))
		return set_decision(r, OUTCOME_ALLOWED, 0, ru->name, "port in ports");
	if (portset_contains(&a->locals, pe->port))
		return set_decision(r, OUTCOME_ALLOWED, 0, ru->name, "port in locals");
	set_decision(r, OUTCOME_VIOLATION, vact, ru->name, violation_reason(p, ru, r, pe));
}

static void decide_app(const struct policy *p, const struct rules *ru, const struct peer *pe,
		       struct record *r)
{
	const struct app *a = ru->app;
	unsigned vact =
		final_actions((a->set & APP_F_ACTIONS) ? a->actions : p->c->global.default_actions);
	bool local = pe->cls == PEER_LOCAL;

	if (pe->cls == PEER_NONE)
		return decide_listen(p, ru, pe, vact, r);
	if (local && !a->local)
		return set_decision(r, OUTCOME_VIOLATION, vact, ru->name,
				    "local connections forbidden (local = false)");
	if (!local && !a->remote)
		return set_decision(r, OUTCOME_VIOLATION, vact, ru->name,
				    "remote connections forbidden (remote = false)");
	if (!(local ? ru->local_restr : ru->remote_restr))
		return set_decision(r, OUTCOME_ALLOWED, 0, ru->name,
				    local ? "no allow list restricts local peers" :
					    "no allow list restricts remote peers");
	if (portset_contains(&a->ports, pe->port))
		return set_decision(r, OUTCOME_ALLOWED, 0, ru->name, "port in ports");
	if (local && portset_contains(&a->locals, pe->port))
		return set_decision(r, OUTCOME_ALLOWED, 0, ru->name, "port in locals");
	if (remotes_addr_allow(ru, pe))
		return set_decision(r, OUTCOME_ALLOWED, 0, ru->name, "peer in remotes");
	if (!local && portset_contains(&ru->remote_ports, pe->port))
		return set_decision(r, OUTCOME_ALLOWED, 0, ru->name, "port in remotes");
	set_decision(r, OUTCOME_VIOLATION, vact, ru->name, violation_reason(p, ru, r, pe));
}

void policy_decide(const struct policy *p, const struct hostaddr *h, struct record *r)
{
	const struct config *c = p->c;
	const struct app *a;
	const struct rules *ru;
	struct peer pe;

	peer_of(h, r, &pe);
	if (pe.cls != PEER_NONE && addrset_contains(&c->whitelist.ips, pe.family, pe.addr))
		return set_decision(r, OUTCOME_WHITELISTED, 0, "whitelist:ips",
				    "peer address in whitelist ips");
	if (portset_contains(&c->whitelist.ports, pe.port))
		return set_decision(r, OUTCOME_WHITELISTED, 0, "whitelist:ports",
				    "port in whitelist ports");
	if (program_whitelisted(p, r->proc))
		return set_decision(r, OUTCOME_WHITELISTED, 0, "whitelist:programs",
				    "program in whitelist programs");

	a = decided_app(p, r->proc);
	ru = a ? rules_of(p, a) : NULL;
	if (!ru)
		return set_decision(r, OUTCOME_UNCONFIGURED,
				    final_actions(c->global.unconfigured_actions), "unconfigured",
				    "no [[app]] matches");
	if (ru->app->ignore)
		return set_decision(r, OUTCOME_IGNORED, 0, ru->name, "ignore = true");
	decide_app(p, ru, &pe, r);
}

/* ---- hosts ---- */

char *const *policy_hosts(const struct policy *p)
{
	return p->host_names;
}

int policy_set_host_addrs(struct policy *p, const char *host, const struct cidr *addrs, size_t n)
{
	struct smap_entry *e = smap_find(&p->hosts, host, strlen(host));
	struct host *h;
	struct cidr *copy = NULL;

	if (!e)
		return -ENOENT;
	h = e->v[0];
	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, addrs, n * sizeof(*copy));
	}
	free(h->addrs);
	h->addrs = copy;
	h->n = n;
	return 0;
}

int policy_get_host_addrs(const struct policy *p, const char *host, const struct cidr **ret,
			  size_t *ret_n)
{
	struct smap_entry *e = smap_find(&p->hosts, host, strlen(host));
	struct host *h;

	if (!e)
		return -ENOENT;
	h = e->v[0];
	*ret = h->addrs;
	*ret_n = h->n;
	return 0;
}

/* ---- detent ---- */

void policy_detent_key(const struct policy *p, const struct record *r, struct detent_key *ret)
{
	const struct app *a = decided_app(p, r->proc);
	struct peer pe;

	*ret = (struct detent_key){};
	if (a) {
		ret->app = policy_app_hash(a);
	} else {
		const char *exe = r->proc->exe ? r->proc->exe : "";

		ret->app = fnv1a(hash_bytes("unconfigured", 13), exe, strlen(exe));
	}
	peer_of(NULL, r, &pe);
	ret->family = pe.cls == PEER_NONE ? 0 : (uint8_t)pe.family;
	memcpy(ret->addr, pe.addr, sizeof(ret->addr));
	ret->port = pe.port;
	ret->direction = r->direction;
}
