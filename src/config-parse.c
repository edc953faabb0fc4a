// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One parsed TOML file → struct config: every key of [global], [notify],
 * [whitelist] and [[app]], with its type, range and semantic checks. Each
 * problem becomes an error at the file:line:col of the offending value.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <inttypes.h>
#include <pcre2.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "parse-util.h"

/* ---------------------------------------------------------------- hints */

/*
 * Edit distance with insert/delete 1, substitution 2 and adjacent
 * transposition 1, so "remots" is closer to "remotes" than to "remote".
 */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[3][65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *cur = d[i % 3], *prev = d[(i - 1) % 3], *pprev = d[(i + 1) % 3];

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t v = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 2);

			v = MIN(v, prev[j] + 1);
			v = MIN(v, cur[j - 1] + 1);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				v = MIN(v, pprev[j - 2] + 1);
			cur[j] = v;
		}
	}
	return d[la % 3][lb];
}

/* Closest candidate within a small edit distance, or NULL. */
static const char *closest(const char *s, const char *const *cands, size_t n)
{
	size_t best = SIZE_MAX, limit = MAX((size_t)2, strlen(s) / 3);
	const char *res = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(s, cands[i]);

		/* a tie goes to the candidate of the same length: "remotse" is a swap
		 * in "remotes" rather than an extra letter in "remote" */
		if (d < best || (d == best && res && strlen(cands[i]) == strlen(s) &&
				 strlen(res) != strlen(s))) {
			best = d;
			res = cands[i];
		}
	}
	return best <= limit && best < strlen(s) + 1 ? res : NULL;
}

/* ---------------------------------------------------------------- typed getters */

static const char *type_name(const struct toml_value *v)
{
	return toml_type_to_string(v->type);
}

static bool check_type(struct loader *L, const struct toml_kv *kv, enum toml_type t,
		       const char *what)
{
	if (kv->value->type == t)
		return true;
	err_v(L, kv->value, "'%s' must be %s, got %s", kv->key, what, type_name(kv->value));
	return false;
}

static bool get_bool(struct loader *L, const struct toml_kv *kv, bool *ret)
{
	if (!check_type(L, kv, TOML_BOOL, "a boolean (true or false)"))
		return false;
	*ret = kv->value->u.boolean;
	return true;
}

static bool get_uint(struct loader *L, const struct toml_kv *kv, uint64_t min, uint64_t max,
		     const char *unit, uint64_t *ret)
{
	int64_t v;

	if (!check_type(L, kv, TOML_INTEGER, "an integer"))
		return false;
	v = kv->value->u.integer;
	if (v < 0 || (uint64_t)v < min || (uint64_t)v > max) {
		err_v(L, kv->value,
		      "'%s' must be between %" PRIu64 " and %" PRIu64 "%s%s, got %" PRId64, kv->key,
		      min, max, unit ? " " : "", unit ?: "", v);
		return false;
	}
	*ret = (uint64_t)v;
	return true;
}

/* A string without NUL bytes; empty strings are refused. */
static bool string_ok(struct loader *L, const char *key, const struct toml_value *v)
{
	if (strlen(v->u.string.s) != v->u.string.len) {
		err_v(L, v, "'%s' must not contain NUL characters", key);
		return false;
	}
	if (v->u.string.len == 0) {
		err_v(L, v, "'%s' must not be empty", key);
		return false;
	}
	return true;
}

static bool get_string(struct loader *L, const struct toml_kv *kv, char **ret)
{
	char *s;

	if (!check_type(L, kv, TOML_STRING, "a string") || !string_ok(L, kv->key, kv->value))
		return false;
	s = strdup(kv->value->u.string.s);
	if (!s) {
		L->oom = true;
		return false;
	}
	free(*ret);
	*ret = s;
	return true;
}

static bool check_absolute(struct loader *L, const char *key, const struct toml_value *v)
{
	if (v->u.string.s[0] == '/')
		return true;
	err_v(L, v, "'%s' must be an absolute path, got '%s'", key, v->u.string.s);
	return false;
}

/*
 * An array of non-empty strings (absolute paths if absolute). Returns the
 * new list in *ret (an empty array gives an allocated empty list).
 */
static bool get_strv(struct loader *L, const struct toml_kv *kv, bool absolute, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	bool ok = true;

	if (!check_type(L, kv, TOML_ARRAY, "an array of strings"))
		return false;
	l = calloc(1, sizeof(char *));
	if (!l)
		goto oom;
	for (size_t i = 0; i < kv->value->u.array.n; i++) {
		const struct toml_value *e = kv->value->u.array.items[i];

		if (e->type != TOML_STRING) {
			err_v(L, e, "'%s' elements must be strings, got %s", kv->key, type_name(e));
			ok = false;
			continue;
		}
		if (!string_ok(L, kv->key, e) || (absolute && !check_absolute(L, kv->key, e))) {
			ok = false;
			continue;
		}
		if (config_strv_contains(l, e->u.string.s))
			continue;
		if (config_strv_push(&l, e->u.string.s) < 0)
			goto oom;
	}
	if (!ok)
		return false;
	strv_free(*ret);
	*ret = TAKE_PTR(l);
	return true;
oom:
	L->oom = true;
	return false;
}

static bool get_actions(struct loader *L, const struct toml_kv *kv, unsigned *ret)
{
	unsigned mask = 0;
	bool ok = true;

	if (!check_type(L, kv, TOML_ARRAY, "an array of action names"))
		return false;
	for (size_t i = 0; i < kv->value->u.array.n; i++) {
		const struct toml_value *e = kv->value->u.array.items[i];
		const char *hint;
		int a;

		if (e->type != TOML_STRING) {
			err_v(L, e, "'%s' elements must be action names (strings), got %s", kv->key,
			      type_name(e));
			ok = false;
			continue;
		}
		a = action_from_string(e->u.string.s);
		if (a < 0) {
			hint = closest(e->u.string.s, config_action_names,
				       ARRAY_SIZE(config_action_names));
			err_v(L, e,
			      "unknown action '%s'%s%s%s (valid: log, notify, script, block, kill, "
			      "allow)",
			      e->u.string.s, hint ? "; did you mean '" : "", hint ?: "",
			      hint ? "'?" : "");
			ok = false;
			continue;
		}
		mask |= (unsigned)a;
	}
	if (ok && (mask & ACTION_ALLOW) && (mask & (ACTION_BLOCK | ACTION_KILL))) {
		err_v(L, kv->value, "'%s' contains 'allow' together with '%s': contradictory",
		      kv->key, mask & ACTION_BLOCK ? "block" : "kill");
		ok = false;
	}
	if (ok)
		*ret = mask;
	return ok;
}

/* One port or range, written as a string ("80", "8000-8100") or an integer. */
static bool get_port_range(struct loader *L, const char *key, const struct toml_value *e,
			   struct port_range *ret)
{
	const char *reason = NULL;

	if (e->type == TOML_INTEGER) {
		if (e->u.integer < 1 || e->u.integer > 65535) {
			err_v(L, e, "invalid port %" PRId64 " in '%s': port out of range (1-65535)",
			      e->u.integer, key);
			return false;
		}
		*ret = (struct port_range){ (uint16_t)e->u.integer, (uint16_t)e->u.integer };
		return true;
	}
	if (e->type != TOML_STRING) {
		err_v(L, e,
		      "'%s' elements must be ports or ranges like \"80\" or \"8000-8100\", got %s",
		      key, type_name(e));
		return false;
	}
	if (port_range_parse(e->u.string.s, ret, &reason) < 0) {
		err_v(L, e, "invalid port '%s' in '%s': %s", e->u.string.s, key, reason);
		return false;
	}
	return true;
}

/* Appends to *set (which is marked set even when the array is empty). */
static bool get_ports(struct loader *L, const struct toml_kv *kv, struct portset *set)
{
	bool ok = true;

	if (!check_type(L, kv, TOML_ARRAY, "an array of ports"))
		return false;
	set->set = true;
	for (size_t i = 0; i < kv->value->u.array.n; i++) {
		struct port_range r;

		if (!get_port_range(L, kv->key, kv->value->u.array.items[i], &r)) {
			ok = false;
			continue;
		}
		if (portset_add(set, r) < 0)
			L->oom = true;
	}
	return ok;
}

static void cidr_error(struct loader *L, const struct toml_value *e, const char *s,
		       const char *what, const char *reason)
{
	char hint[64];
	struct cidr c;

	if (cidr_parse_full(s, true, &c, NULL) >= 0) {
		err_v(L, e, "invalid %s '%s': %s (did you mean '%s'?)", what, s, reason,
		      cidr_to_string(&c, hint, sizeof(hint)));
		return;
	}
	err_v(L, e, "invalid %s '%s': %s", what, s, reason);
}

static bool get_ips(struct loader *L, const struct toml_kv *kv, struct addrset *set)
{
	bool ok = true;

	if (!check_type(L, kv, TOML_ARRAY, "an array of addresses or CIDRs"))
		return false;
	for (size_t i = 0; i < kv->value->u.array.n; i++) {
		const struct toml_value *e = kv->value->u.array.items[i];
		const char *reason = NULL;
		struct cidr c;

		if (e->type != TOML_STRING) {
			err_v(L, e, "'%s' elements must be addresses or CIDRs (strings), got %s",
			      kv->key, type_name(e));
			ok = false;
			continue;
		}
		if (cidr_parse(e->u.string.s, &c, &reason) < 0) {
			cidr_error(L, e, e->u.string.s, "address", reason);
			ok = false;
			continue;
		}
		if (addrset_add(set, &c) < 0)
			L->oom = true;
	}
	return ok;
}

static bool hostname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
		      ('0' <= *p && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
			return false;
	return true;
}

static bool looks_numeric(const char *s)
{
	for (; *s; s++)
		if (!(('0' <= *s && *s <= '9') || *s == '.' || *s == '/'))
			return false;
	return true;
}

/* "port", "host:port", "ip:port", "cidr:port", "[v6]:port", "[v6cidr]:port"; port may be a range or "*". */
static bool parse_remote(struct loader *L, const char *key, const struct toml_value *e,
			 struct remote_spec *ret)
{
	_cleanup_free_ char *dup = NULL;
	const char *s = e->u.string.s, *reason = NULL, *port;
	struct remote_spec r = { .line = e->line, .col = e->col };
	char *addr, *colon;

	if (!strchr(s, ':')) {
		r.kind = REMOTE_PORT_ONLY;
		if (!get_port_range(L, key, e, &r.ports))
			return false;
		*ret = r;
		return true;
	}
	dup = strdup(s);
	if (!dup) {
		L->oom = true;
		return false;
	}
	if (dup[0] == '[') {
		char *close = strchr(dup, ']');

		if (!close || close[1] != ':') {
			err_v(L, e, "invalid remote '%s' in '%s': expected '[IPv6]:port'", s, key);
			return false;
		}
		*close = 0;
		addr = dup + 1;
		port = close + 2;
	} else {
		colon = strrchr(dup, ':');
		*colon = 0;
		addr = dup;
		port = colon + 1;
		if (strchr(addr, ':')) {
			err_v(L, e,
			      "invalid remote '%s' in '%s': write IPv6 addresses in brackets, "
			      "e.g. '[2001:db8::1]:443'",
			      s, key);
			return false;
		}
	}
	if (streq(port, "*"))
		r.ports = (struct port_range){ 1, 65535 };
	else if (port_range_parse(port, &r.ports, &reason) < 0) {
		err_v(L, e, "invalid port '%s' in remote '%s': %s", port, s, reason);
		return false;
	}
	if (cidr_parse(addr, &r.cidr, &reason) >= 0)
		r.kind = REMOTE_CIDR;
	else if (dup[0] == '[' || looks_numeric(addr)) {
		cidr_error(L, e, addr, "address in remote", reason);
		return false;
	} else if (hostname_valid(addr)) {
		r.kind = REMOTE_HOST;
		r.host = strdup(addr);
		if (!r.host) {
			L->oom = true;
			return false;
		}
	} else {
		err_v(L, e,
		      "invalid remote '%s' in '%s': '%s' is neither an address nor a hostname", s,
		      key, addr);
		return false;
	}
	*ret = r;
	return true;
}

static bool get_remotes(struct loader *L, const struct toml_kv *kv, struct remote_spec **ret,
			size_t *ret_n)
{
	struct remote_spec *l = NULL;
	size_t n = 0;
	bool ok = true;

	if (!check_type(L, kv, TOML_ARRAY, "an array of remotes"))
		return false;
	if (kv->value->u.array.n) {
		l = calloc(kv->value->u.array.n, sizeof(*l));
		if (!l) {
			L->oom = true;
			return false;
		}
	}
	for (size_t i = 0; i < kv->value->u.array.n; i++) {
		const struct toml_value *e = kv->value->u.array.items[i];

		if (e->type == TOML_INTEGER) {
			l[n].kind = REMOTE_PORT_ONLY;
			l[n].line = e->line;
			l[n].col = e->col;
			if (get_port_range(L, kv->key, e, &l[n].ports))
				n++;
			else
				ok = false;
			continue;
		}
		if (e->type != TOML_STRING) {
			err_v(L, e,
			      "'%s' elements must be strings like \"8086\", \"host:443\", "
			      "\"10.0.0.0/8:5432\" or \"[2001:db8::1]:443\", got %s",
			      kv->key, type_name(e));
			ok = false;
			continue;
		}
		if (parse_remote(L, kv->key, e, &l[n]))
			n++;
		else
			ok = false;
	}
	if (!ok) {
		config_remotes_free(l, n);
		return false;
	}
	*ret = l;
	*ret_n = n;
	return true;
}

/* ---------------------------------------------------------------- tables */

typedef void (*key_fn)(struct loader *L, const struct toml_kv *kv, void *obj);

struct key_desc {
	const char *name;
	key_fn fn;
};

static void walk_table(struct loader *L, const struct toml_value *t, const char *table_name,
		       const struct key_desc *keys, size_t n_keys, void *obj)
{
	const char *names[32];

	for (size_t i = 0; i < n_keys && i < ARRAY_SIZE(names); i++)
		names[i] = keys[i].name;
	for (size_t i = 0; i < t->u.table.n; i++) {
		const struct toml_kv *kv = &t->u.table.items[i];
		const char *hint;
		size_t k;

		for (k = 0; k < n_keys; k++)
			if (streq(kv->key, keys[k].name))
				break;
		if (k < n_keys) {
			keys[k].fn(L, kv, obj);
			continue;
		}
		hint = closest(kv->key, names, MIN(n_keys, ARRAY_SIZE(names)));
		err_at(L, L->file, kv->line, kv->col, "unknown key '%s' in %s%s%s%s", kv->key,
		       table_name, hint ? "; did you mean '" : "", hint ?: "", hint ? "'?" : "");
	}
}

/* [global] */

static struct pos here(struct loader *L, const struct toml_value *v)
{
	return (struct pos){ L->file, v->line, v->col };
}

#define G(L) (&(L)->c->global)

static void g_include_dirs(struct loader *L, const struct toml_kv *kv, void *obj)
{
	if (!L->is_main) {
		err_at(L, L->file, kv->line, kv->col,
		       "'include_dirs' is only read from the main file, not from drop-ins");
		return;
	}
	get_strv(L, kv, true, &G(L)->include_dirs);
}

static void g_script_dirs(struct loader *L, const struct toml_kv *kv, void *obj)
{
	if (get_strv(L, kv, true, &G(L)->script_dirs))
		L->pos_script_dirs = here(L, kv->value);
}

static void g_detent(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_uint(L, kv, 0, 366ull * 86400, "seconds", &G(L)->detent);
}

static void g_detent_max(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_uint(L, kv, 1, 1u << 24, "entries", &G(L)->detent_max);
}

static void g_default_actions(struct loader *L, const struct toml_kv *kv, void *obj)
{
	if (get_actions(L, kv, &G(L)->default_actions))
		L->pos_default = here(L, kv->value);
}

static void g_unconfigured_actions(struct loader *L, const struct toml_kv *kv, void *obj)
{
	if (get_actions(L, kv, &G(L)->unconfigured_actions))
		L->pos_unconfigured = here(L, kv->value);
}

static void g_block_unconfigured(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_bool(L, kv, &G(L)->block_unconfigured_programs);
}

static void g_ringbuf_size(struct loader *L, const struct toml_kv *kv, void *obj)
{
	uint64_t v;

	if (!get_uint(L, kv, 4096, 1u << 30, "bytes", &v))
		return;
	if (v & (v - 1)) {
		err_v(L, kv->value,
		      "'ringbuf_size' must be a power of two (e.g. 1048576), got %" PRIu64, v);
		return;
	}
	G(L)->ringbuf_size = v;
}

static void g_kernel_dedup(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_uint(L, kv, 0, 86400, "seconds", &G(L)->kernel_dedup);
}

static void g_enforce_persist(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_bool(L, kv, &G(L)->enforce_persist);
}

static void g_json_log(struct loader *L, const struct toml_kv *kv, void *obj)
{
	if (kv->value->type == TOML_STRING && kv->value->u.string.len &&
	    !streq(kv->value->u.string.s, "-") && !check_absolute(L, kv->key, kv->value))
		return;
	get_string(L, kv, &G(L)->json_log);
}

static void g_script_timeout(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_uint(L, kv, 100, 3600000, "milliseconds", &G(L)->script_timeout);
}

static void g_script_max(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_uint(L, kv, 1, 1024, NULL, &G(L)->script_max);
}

static void g_script_queue_max(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_uint(L, kv, 0, 1000000, NULL, &G(L)->script_queue_max);
}

static const struct key_desc global_keys[] = {
	{ "include_dirs", g_include_dirs },
	{ "script_dirs", g_script_dirs },
	{ "detent", g_detent },
	{ "detent_max", g_detent_max },
	{ "default_actions", g_default_actions },
	{ "unconfigured_actions", g_unconfigured_actions },
	{ "block_unconfigured_programs", g_block_unconfigured },
	{ "ringbuf_size", g_ringbuf_size },
	{ "kernel_dedup", g_kernel_dedup },
	{ "enforce_persist", g_enforce_persist },
	{ "json_log", g_json_log },
	{ "script_timeout", g_script_timeout },
	{ "script_max", g_script_max },
	{ "script_queue_max", g_script_queue_max },
};

/* [notify] */

#define N(L) (&(L)->c->notify)

static void n_webhooks(struct loader *L, const struct toml_kv *kv, void *obj)
{
	_cleanup_strv_free_ char **l = NULL;
	bool ok = true;

	if (!get_strv(L, kv, false, &l))
		return;
	for (size_t i = 0; l[i]; i++) {
		if (strneq(l[i], "http://", 7) || strneq(l[i], "https://", 8))
			continue;
		/* find the element for the position */
		for (size_t j = 0; j < kv->value->u.array.n; j++)
			if (streq(kv->value->u.array.items[j]->u.string.s, l[i])) {
				err_v(L, kv->value->u.array.items[j],
				      "'webhooks' entries must be http:// or https:// URLs, got '%s'",
				      l[i]);
				break;
			}
		ok = false;
	}
	if (!ok)
		return;
	strv_free(N(L)->webhooks);
	N(L)->webhooks = l[0] ? TAKE_PTR(l) : NULL;
}

static void n_timeout(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_uint(L, kv, 100, 600000, "milliseconds", &N(L)->timeout);
}

static void n_retries(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_uint(L, kv, 0, 100, NULL, &N(L)->retries);
}

static void n_backoff(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_uint(L, kv, 0, 3600000, "milliseconds", &N(L)->backoff);
}

static void n_queue_max(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_uint(L, kv, 1, 1000000, NULL, &N(L)->queue_max);
}

static const struct key_desc notify_keys[] = {
	{ "webhooks", n_webhooks }, { "timeout", n_timeout },	  { "retries", n_retries },
	{ "backoff", n_backoff },   { "queue_max", n_queue_max },
};

/* [whitelist]: lists from several files are joined. */

#define W(L) (&(L)->c->whitelist)

static void w_ips(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_ips(L, kv, &W(L)->ips);
}

static void w_ports(struct loader *L, const struct toml_kv *kv, void *obj)
{
	get_ports(L, kv, &W(L)->ports);
}

static void w_programs(struct loader *L, const struct toml_kv *kv, void *obj)
{
	_cleanup_strv_free_ char **l = NULL;

	if (!get_strv(L, kv, false, &l))
		return;
	for (size_t i = 0; i < kv->value->u.array.n; i++) {
		const struct toml_value *e = kv->value->u.array.items[i];

		if (e->u.string.s[0] != '/' && strchr(e->u.string.s, '/')) {
			err_v(L, e,
			      "'programs' entries are executable file names or absolute paths, got '%s'",
			      e->u.string.s);
			return;
		}
	}
	STRV_FOREACH(p, l) {
		if (config_strv_contains(W(L)->programs, *p))
			continue;
		if (config_strv_push(&W(L)->programs, *p) < 0)
			L->oom = true;
	}
}

static const struct key_desc whitelist_keys[] = {
	{ "ips", w_ips },
	{ "ports", w_ports },
	{ "programs", w_programs },
};

/* [[app]] */

static void app_mark(struct loader *L, struct app_priv *p, unsigned bit, const struct toml_kv *kv)
{
	p->a.set |= bit;
	p->field[field_index(bit)] = here(L, kv->value);
}

static void a_exe(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;

	if (kv->value->type == TOML_STRING && strchr(kv->value->u.string.s, '/')) {
		err_v(L, kv->value,
		      "'exe' is the executable's file name without directory; use path = \"%s\" "
		      "for a full path",
		      kv->value->u.string.s);
		return;
	}
	get_string(L, kv, &p->a.exe);
}

static void a_path(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;

	if (kv->value->type == TOML_STRING && kv->value->u.string.len &&
	    !check_absolute(L, kv->key, kv->value))
		return;
	get_string(L, kv, &p->a.path);
}

/* Column in the source of byte `offset` of the decoded string value v. */
static unsigned string_offset_col(const struct loader *L, const struct toml_value *v, size_t offset)
{
	const char *p = L->buf, *end = L->buf + L->len, *s;
	size_t dec = 0;

	for (unsigned line = 1; line < v->line && p < end; p++)
		if (*p == '\n')
			line++;
	if (v->col < 1 || (size_t)(end - p) < v->col)
		return v->col;
	p += v->col - 1;
	if (*p == '\'' || (end - p >= 3 && (strneq(p, "\"\"\"", 3))))
		return v->col + (*p == '\'' ? 1 : 3) + (unsigned)offset;
	if (*p != '"')
		return v->col;
	for (s = p + 1; s < end && *s != '"' && *s != '\n' && dec < offset;) {
		if (*s == '\\' && s + 1 < end && (s[1] == 'u' || s[1] == 'U')) {
			size_t nhex = s[1] == 'u' ? 4 : 8;
			unsigned long cp = 0;

			for (size_t i = 0; i < nhex && s + 2 + i < end; i++)
				cp = cp * 16 + (unsigned long)(s[2 + i] <= '9' ? s[2 + i] - '0' :
										 (s[2 + i] | 0x20) -
											 'a' + 10);
			dec += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
			s += 2 + nhex;
		} else {
			s += *s == '\\' ? 2 : 1;
			dec++;
		}
	}
	return v->col + (unsigned)(s - p);
}

static void a_cmdline(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	pcre2_code *re;
	int err;

	if (!get_string(L, kv, &p->a.cmdline))
		return;
	re = pcre2_compile((PCRE2_SPTR)p->a.cmdline, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
	if (!re) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		err_at(L, L->file, kv->value->line, string_offset_col(L, kv->value, off),
		       "invalid regex in 'cmdline': %s (at offset %zu of the pattern)", (char *)msg,
		       (size_t)off);
		return;
	}
	/* JIT is an optimisation: where it is unavailable the interpreter is used. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	pcre2_code_free(p->a.cmdline_re);
	p->a.cmdline_re = re;
}

static int resolve_user(const char *name, uid_t *ret)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	uint32_t uid;

	if (safe_atou32(name, &uid) >= 0) {
		if (uid == (uint32_t)-1)
			return -ERANGE;
		*ret = uid;
		return 0;
	}
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return -ESRCH;
	*ret = res->pw_uid;
	return 0;
}

static void a_user(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;
	char num[24];

	if (kv->value->type == TOML_INTEGER) {
		if (kv->value->u.integer < 0 || kv->value->u.integer >= UINT32_MAX) {
			err_v(L, kv->value, "'user' uid out of range, got %" PRId64,
			      kv->value->u.integer);
			return;
		}
		snprintf(num, sizeof(num), "%" PRId64, kv->value->u.integer);
		free(p->a.user);
		p->a.user = strdup(num);
		if (!p->a.user)
			L->oom = true;
	} else if (kv->value->type == TOML_STRING) {
		if (!get_string(L, kv, &p->a.user))
			return;
	} else {
		err_v(L, kv->value, "'user' must be a user name or a numeric uid, got %s",
		      type_name(kv->value));
		return;
	}
	if (p->a.user && resolve_user(p->a.user, &p->a.uid) < 0)
		err_v(L, kv->value, "unknown user '%s' (not in the user database)", p->a.user);
}

static void a_unit(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;
	const char *s;

	if (!get_string(L, kv, &p->a.unit))
		return;
	s = p->a.unit;
	if (strchr(s, '/') || !strchr(s, '.') || s[0] == '.')
		err_v(L, kv->value,
		      "'unit' must be a full systemd unit name like \"nginx.service\", got '%s'",
		      s);
}

static void a_name(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;

	if (get_string(L, kv, &p->a.name))
		app_mark(L, p, APP_F_NAME, kv);
}

static void a_ignore(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;

	if (get_bool(L, kv, &p->a.ignore))
		app_mark(L, p, APP_F_IGNORE, kv);
}

static void a_local(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;

	if (get_bool(L, kv, &p->a.local))
		app_mark(L, p, APP_F_LOCAL, kv);
}

static void a_remote(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;

	if (get_bool(L, kv, &p->a.remote))
		app_mark(L, p, APP_F_REMOTE, kv);
}

static void a_ports(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;

	portset_done(&p->a.ports);
	if (get_ports(L, kv, &p->a.ports))
		app_mark(L, p, APP_F_PORTS, kv);
}

static void a_locals(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;

	portset_done(&p->a.locals);
	if (get_ports(L, kv, &p->a.locals))
		app_mark(L, p, APP_F_LOCALS, kv);
}

static void a_remotes(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;
	struct remote_spec *r;
	size_t n;

	if (!get_remotes(L, kv, &r, &n))
		return;
	config_remotes_free(p->a.remotes, p->a.n_remotes);
	p->a.remotes = r;
	p->a.n_remotes = n;
	app_mark(L, p, APP_F_REMOTES, kv);
}

static void a_actions(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;

	if (get_actions(L, kv, &p->a.actions))
		app_mark(L, p, APP_F_ACTIONS, kv);
}

static void a_scripts(struct loader *L, const struct toml_kv *kv, void *obj)
{
	struct app_priv *p = obj;

	if (get_strv(L, kv, true, &p->a.scripts))
		app_mark(L, p, APP_F_SCRIPTS, kv);
}

static const struct key_desc app_keys[] = {
	{ "name", a_name },	  { "exe", a_exe },	    { "path", a_path },
	{ "cmdline", a_cmdline }, { "user", a_user },	    { "unit", a_unit },
	{ "ignore", a_ignore },	  { "local", a_local },	    { "remote", a_remote },
	{ "ports", a_ports },	  { "locals", a_locals },   { "remotes", a_remotes },
	{ "actions", a_actions }, { "scripts", a_scripts },
};

static void load_app(struct loader *L, const struct toml_value *t)
{
	struct app_priv *p;

	if (t->type != TOML_TABLE) {
		err_v(L, t, "'app' entries must be tables ([[app]]), got %s", type_name(t));
		return;
	}
	p = config_app_new();
	if (!p) {
		L->oom = true;
		return;
	}
	p->a.file = L->file;
	p->a.line = t->line;
	p->entry = here(L, t);
	walk_table(L, t, "[[app]]", app_keys, ARRAY_SIZE(app_keys), p);
	if (!p->a.exe && !p->a.path && !p->a.cmdline && !p->a.user && !p->a.unit) {
		/* unless a matcher was given but invalid (already reported) */
		if (!toml_table_get(t, "exe") && !toml_table_get(t, "path") &&
		    !toml_table_get(t, "cmdline") && !toml_table_get(t, "user") &&
		    !toml_table_get(t, "unit"))
			err_v(L, t,
			      "[[app]] entry has no matcher: set at least one of exe, path, "
			      "cmdline, user, unit");
		config_app_free(&p->a);
		return;
	}
	config_app_add(L, p);
}

static const char *const top_tables[] = { "global", "notify", "whitelist", "app" };

void config_load_tree(struct loader *L, const struct toml_value *root)
{
	for (size_t i = 0; i < root->u.table.n; i++) {
		const struct toml_kv *kv = &root->u.table.items[i];
		const struct toml_value *v = kv->value;
		const char *hint;

		if (streq(kv->key, "app")) {
			if (v->type != TOML_ARRAY) {
				err_v(L, v,
				      "'app' must be an array of tables (write [[app]]), got %s",
				      type_name(v));
				continue;
			}
			for (size_t j = 0; j < v->u.array.n; j++)
				load_app(L, v->u.array.items[j]);
			continue;
		}
		if (streq(kv->key, "global") || streq(kv->key, "notify") ||
		    streq(kv->key, "whitelist")) {
			if (v->type != TOML_TABLE) {
				err_v(L, v, "'%s' must be a table (write [%s]), got %s", kv->key,
				      kv->key, type_name(v));
				continue;
			}
			if (streq(kv->key, "global"))
				walk_table(L, v, "[global]", global_keys, ARRAY_SIZE(global_keys),
					   NULL);
			else if (streq(kv->key, "notify"))
				walk_table(L, v, "[notify]", notify_keys, ARRAY_SIZE(notify_keys),
					   NULL);
			else
				walk_table(L, v, "[whitelist]", whitelist_keys,
					   ARRAY_SIZE(whitelist_keys), NULL);
			continue;
		}
		hint = closest(kv->key, top_tables, ARRAY_SIZE(top_tables));
		err_at(L, L->file, kv->line, kv->col,
		       "unknown %s '%s' at top level%s%s%s (valid: [global], [notify], "
		       "[whitelist], [[app]])",
		       v->type == TOML_TABLE ? "table" : "key", kv->key,
		       hint ? "; did you mean '" : "", hint ?: "", hint ? "'?" : "");
	}
}
