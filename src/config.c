// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Policy loading: files on disk → TOML trees → validated, merged struct config.
 * Errors never stop the walk: every problem found becomes a diag with
 * file:line:col, and the load fails at the end if any error was recorded.
 * See config.h for the drop-in and override rules.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "config-internal.h"
#include "policy.h"
#include "strbuf.h"

#define CONFIG_FILE_MAX (64u << 20)

/* ---------------------------------------------------------------- actions */

const char *const config_action_names[6] = { "log", "notify", "script", "block", "kill", "allow" };

const char *action_to_string(unsigned action)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_action_names); i++)
		if (action == 1u << i)
			return config_action_names[i];
	return NULL;
}

int action_from_string(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_action_names); i++)
		if (streq(s, config_action_names[i]))
			return (int)(1u << i);
	return -EINVAL;
}

char *actions_to_string(unsigned actions, char *buf, size_t size)
{
	size_t len = 0;

	if (size)
		buf[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(config_action_names) && size; i++) {
		int n;

		if (!(actions & (1u << i)))
			continue;
		n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", config_action_names[i]);
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	return buf;
}

/* ---------------------------------------------------------------- apps */

char *app_identity(const struct app *a, char *buf, size_t size)
{
	struct {
		const char *k, *v;
	} f[] = { { "exe", a->exe },
		  { "path", a->path },
		  { "cmdline", a->cmdline },
		  { "user", a->user },
		  { "unit", a->unit } };
	size_t len = 0;

	if (size)
		buf[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(f) && size; i++) {
		int n;

		if (!f[i].v)
			continue;
		n = snprintf(buf + len, size - len, "%s%s=%s%s%s", len ? " " : "", f[i].k,
			     i == 2 ? "/" : "", f[i].v, i == 2 ? "/" : "");
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	return buf;
}

int app_specificity(const struct app *a)
{
	return (a->cmdline ? 1000 : 0) + (a->path ? 100 : 0) + (a->exe ? 10 : 0) + !!a->user +
	       !!a->unit;
}

/* Where something was written. */
void config_remotes_free(struct remote_spec *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].host);
	free(r);
}

void config_app_free(struct app *a)
{
	struct app_priv *p = (struct app_priv *)a;

	if (!a)
		return;
	free(a->exe);
	free(a->path);
	free(a->cmdline);
	pcre2_code_free(a->cmdline_re);
	free(a->user);
	free(a->unit);
	free(a->name);
	portset_done(&a->ports);
	portset_done(&a->locals);
	config_remotes_free(a->remotes, a->n_remotes);
	strv_free(a->scripts);
	free(p->key);
	free(p);
}

struct app_priv *config_app_new(void)
{
	struct app_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->a.uid = (uid_t)-1;
	p->a.local = true;
	p->a.remote = true;
	return p;
}

/* ---------------------------------------------------------------- diags */

void diag_list_done(struct diag_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->d[i].file);
		free(l->d[i].msg);
	}
	free(l->d);
	*l = (struct diag_list){};
}

void diag_list_print(const struct diag_list *l, FILE *f)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct diag *d = &l->d[i];
		const char *kind = d->warning ? "warning" : "error";

		if (d->file && d->line)
			fprintf(f, "%s:%u:%u: %s: %s\n", d->file, d->line, d->col, kind, d->msg);
		else if (d->file)
			fprintf(f, "%s: %s: %s\n", d->file, kind, d->msg);
		else
			fprintf(f, "%s: %s\n", kind, d->msg);
	}
}

void config_diag_addv(struct loader *L, bool warning, const char *file, unsigned line, unsigned col,
		      const char *fmt, va_list ap)
{
	struct diag *d, n = { .line = line, .col = col, .warning = warning };

	if (vasprintf(&n.msg, fmt, ap) < 0) {
		L->oom = true;
		return;
	}
	if (file && !(n.file = strdup(file))) {
		free(n.msg);
		L->oom = true;
		return;
	}
	d = reallocarray(L->diags->d, L->diags->n + 1, sizeof(*d));
	if (!d) {
		free(n.msg);
		free(n.file);
		L->oom = true;
		return;
	}
	L->diags->d = d;
	d[L->diags->n++] = n;
	if (!warning)
		L->diags->n_errors++;
}

void config_err_at(struct loader *L, const char *file, unsigned line, unsigned col, const char *fmt,
		   ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_diag_addv(L, false, file, line, col, fmt, ap);
	va_end(ap);
}

void config_warn_at(struct loader *L, const char *file, unsigned line, unsigned col,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_diag_addv(L, true, file, line, col, fmt, ap);
	va_end(ap);
}

int config_strv_push(char ***l, const char *s)
{
	size_t n = strv_length(*l);
	char **m, *d;

	d = strdup(s);
	if (!d)
		return -ENOMEM;
	m = reallocarray(*l, n + 2, sizeof(char *));
	if (!m) {
		free(d);
		return -ENOMEM;
	}
	m[n] = d;
	m[n + 1] = NULL;
	*l = m;
	return 0;
}

bool config_strv_contains(char *const *l, const char *s)
{
	STRV_FOREACH(i, (char **)l)
		if (streq(*i, s))
			return true;
	return false;
}

/* ---------------------------------------------------------------- merge */

static char *identity_key(const struct app *a)
{
	const char *f[] = { a->exe, a->path, a->cmdline, a->user, a->unit };
	struct strbuf b;

	strbuf_init(&b);
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		if (f[i]) {
			strbuf_putc(&b, '=');
			strbuf_puts(&b, f[i]);
		}
		strbuf_putc(&b, '\x1f');
	}
	if (b.oom) {
		strbuf_done(&b);
		return NULL;
	}
	return strbuf_steal(&b);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static struct app_priv **index_slot(struct loader *L, const char *key)
{
	size_t i = hash_str(key) & (L->cap - 1);

	while (L->slots[i] && !streq(L->slots[i]->key, key))
		i = (i + 1) & (L->cap - 1);
	return &L->slots[i];
}

static int index_grow(struct loader *L)
{
	struct app_priv **old = L->slots;
	size_t old_cap = L->cap;

	if (L->c->n_apps * 2 < L->cap)
		return 0;
	L->cap = old_cap ? old_cap * 2 : 64;
	L->slots = calloc(L->cap, sizeof(*L->slots));
	if (!L->slots) {
		L->slots = old;
		L->cap = old_cap;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			*index_slot(L, old[i]->key) = old[i];
	free(old);
	return 0;
}

#define MOVE_FIELD(dst, src, f)                      \
	do {                                         \
		__typeof__((dst)->f) _t_ = (dst)->f; \
		(dst)->f = (src)->f;                 \
		(src)->f = _t_;                      \
	} while (0)

/* Moves every field n sets into o (swapping, so config_app_free(n) frees the old values). */
static void app_override(struct app_priv *o, struct app_priv *n)
{
	unsigned set = n->a.set;

	if (set & APP_F_IGNORE)
		o->a.ignore = n->a.ignore;
	if (set & APP_F_LOCAL)
		o->a.local = n->a.local;
	if (set & APP_F_REMOTE)
		o->a.remote = n->a.remote;
	if (set & APP_F_ACTIONS)
		o->a.actions = n->a.actions;
	if (set & APP_F_PORTS)
		MOVE_FIELD(&o->a, &n->a, ports);
	if (set & APP_F_LOCALS)
		MOVE_FIELD(&o->a, &n->a, locals);
	if (set & APP_F_REMOTES) {
		MOVE_FIELD(&o->a, &n->a, remotes);
		MOVE_FIELD(&o->a, &n->a, n_remotes);
	}
	if (set & APP_F_SCRIPTS)
		MOVE_FIELD(&o->a, &n->a, scripts);
	if (set & APP_F_NAME)
		MOVE_FIELD(&o->a, &n->a, name);
	for (unsigned i = 0; i < APP_FIELD_COUNT; i++)
		if (set & (1u << i))
			o->field[i] = n->field[i];
	o->a.set |= set;
	o->a.file = n->a.file;
	o->a.line = n->a.line;
	o->entry = n->entry;
}

void config_app_add(struct loader *L, struct app_priv *n)
{
	struct app_priv **slot;
	struct app **apps;

	n->key = identity_key(&n->a);
	if (!n->key || index_grow(L) < 0)
		goto oom;
	slot = index_slot(L, n->key);
	if (*slot) {
		app_override(*slot, n);
		config_app_free(&n->a);
		return;
	}
	apps = reallocarray(L->c->apps, L->c->n_apps + 1, sizeof(*apps));
	if (!apps)
		goto oom;
	L->c->apps = apps;
	n->a.index = L->c->n_apps;
	apps[L->c->n_apps++] = &n->a;
	*slot = n;
	return;
oom:
	L->oom = true;
	config_app_free(&n->a);
}

/* ---------------------------------------------------------------- files */

static void check_owner(struct loader *L, const char *path, const struct stat *st)
{
	const char *what = S_ISDIR(st->st_mode) ? "directory" : "file";

	if (L->opts->skip_owner_check)
		return;
	if (st->st_uid != 0)
		err_at(L, path, 0, 0,
		       "refusing %s owned by uid %u: policy files and directories must be owned "
		       "by root and writable only by root (fix: chown root:root %s && chmod go-w %s)",
		       what, (unsigned)st->st_uid, path, path);
	else if (st->st_mode & (S_IWGRP | S_IWOTH))
		err_at(L, path, 0, 0,
		       "refusing %s writable by %s (mode %04o): policy files and directories "
		       "must be writable only by root (fix: chown root:root %s && chmod go-w %s)",
		       what, st->st_mode & S_IWOTH ? "others" : "group",
		       (unsigned)(st->st_mode & 07777), path, path);
}

static int read_fd(int fd, size_t size_hint, char **ret, size_t *ret_len)
{
	size_t cap = size_hint + 1, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *b;

			if (cap >= CONFIG_FILE_MAX) {
				free(buf);
				return -EFBIG;
			}
			b = realloc(buf, cap * 2);
			if (!b) {
				free(buf);
				return -ENOMEM;
			}
			buf = b;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* Reads, checks and applies one file. Returns false when it could not be parsed. */
static bool load_file(struct loader *L, const char *path, bool is_main)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *buf = NULL;
	struct toml_value *root = NULL;
	struct toml_error terr = {};
	struct stat st;
	size_t len = 0;
	int r;

	if (config_strv_push(&L->c->files, path) < 0) {
		L->oom = true;
		return false;
	}
	L->file = L->c->files[strv_length(L->c->files) - 1];
	L->is_main = is_main;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err_at(L, path, 0, 0, "cannot open: %s", strerror(errno));
		return false;
	}
	if (fstat(fd, &st) < 0) {
		err_at(L, path, 0, 0, "cannot stat: %s", strerror(errno));
		return false;
	}
	/* A drop-in symlinked to /dev/null masks the file of that name (as in systemd). */
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
		return true;
	if (!S_ISREG(st.st_mode)) {
		err_at(L, path, 0, 0, "not a regular file");
		return false;
	}
	check_owner(L, path, &st);
	r = read_fd(fd, (size_t)MIN(st.st_size, (off_t)CONFIG_FILE_MAX), &buf, &len);
	if (r == -ENOMEM) {
		L->oom = true;
		return false;
	}
	if (r < 0) {
		err_at(L, path, 0, 0, "cannot read: %s", strerror(-r));
		return false;
	}
	r = toml_parse(buf, len, &root, &terr);
	if (r == -ENOMEM) {
		L->oom = true;
		return false;
	}
	if (r < 0) {
		err_at(L, path, terr.line, terr.col, "%s", terr.msg);
		return false;
	}
	L->buf = buf;
	L->len = len;
	config_load_tree(L, root);
	L->buf = NULL;
	L->len = 0;
	toml_free(root);
	return true;
}

struct dropin {
	char *name; /* sort key: file name */
	char *path;
};

static int dropin_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dropin *)a)->name, ((const struct dropin *)b)->name);
}

struct dropin_list {
	struct dropin *d;
	size_t n;
};

static void dropin_list_done(struct dropin_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->d[i].name);
		free(l->d[i].path);
	}
	free(l->d);
}

static struct dropin *dropin_find(struct dropin_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->d[i].name, name))
			return &l->d[i];
	return NULL;
}

static int dropin_add(struct dropin_list *l, const char *dir, const char *name)
{
	struct dropin *d, n = {};

	n.name = strdup(name);
	if (asprintf(&n.path, "%s%s%s", dir ?: "", dir ? "/" : "", dir ? name : "") < 0)
		n.path = NULL;
	if (!n.name || !n.path)
		goto oom;
	d = reallocarray(l->d, l->n + 1, sizeof(*d));
	if (!d)
		goto oom;
	l->d = d;
	d[l->n++] = n;
	return 0;
oom:
	free(n.name);
	free(n.path);
	return -ENOMEM;
}

static bool is_dropin_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && streq(name + n - 5, ".toml");
}

static void scan_dir(struct loader *L, const char *dir, struct dropin_list *l)
{
	DIR *d;
	struct dirent *de;
	struct stat st;

	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			warn_at(L, dir, 0, 0, "include directory does not exist, ignoring");
		else
			err_at(L, dir, 0, 0, "cannot open include directory: %s", strerror(errno));
		return;
	}
	if (fstat(dirfd(d), &st) == 0)
		check_owner(L, dir, &st);
	while ((de = readdir(d))) {
		if (!is_dropin_name(de->d_name) || dropin_find(l, de->d_name))
			continue; /* same name in an earlier directory wins (modprobe.d) */
		if (dropin_add(l, dir, de->d_name) < 0) {
			L->oom = true;
			break;
		}
	}
	closedir(d);
}

/* --drop-in FILE: sorted by its file name; replaces an installed file of that name. */
static void add_extra_dropins(struct loader *L, struct dropin_list *l)
{
	STRV_FOREACH(p, L->opts->drop_ins) {
		const char *base = strrchr(*p, '/') ? strrchr(*p, '/') + 1 : *p;
		struct dropin *d = dropin_find(l, base);
		char *path;

		if (d) {
			path = strdup(*p);
			if (!path) {
				L->oom = true;
				return;
			}
			free(d->path);
			d->path = path;
			continue;
		}
		if (dropin_add(l, NULL, base) < 0) {
			L->oom = true;
			return;
		}
		free(l->d[l->n - 1].path);
		l->d[l->n - 1].path = strdup(*p);
		if (!l->d[l->n - 1].path)
			L->oom = true;
	}
}

/* Every script in a script dir runs as root: each must be as safe as the dir. */
static void check_scripts_in(struct loader *L, const char *dir)
{
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
			L->oom = true;
			break;
		}
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			check_owner(L, p, &st);
	}
	closedir(d);
}

static void check_script_dirs(struct loader *L)
{
	STRV_FOREACH(dir, L->c->global.script_dirs) {
		struct stat st;

		if (stat(*dir, &st) < 0) {
			if (errno == ENOENT)
				warn_at(L, *dir, 0, 0, "script directory does not exist, ignoring");
			else
				err_at(L, *dir, 0, 0, "cannot access script directory: %s",
				       strerror(errno));
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			err_at(L, *dir, 0, 0, "script directory is not a directory");
			continue;
		}
		check_owner(L, *dir, &st);
		check_scripts_in(L, *dir);
	}
}

static size_t file_index(const struct loader *L, const char *file)
{
	for (size_t i = 0; L->c->files && L->c->files[i]; i++)
		if (L->c->files[i] == file)
			return i;
	return SIZE_MAX;
}

/* Of two settings that contradict each other, the one written last. */
static const struct pos *later(const struct loader *L, const struct pos *a, const struct pos *b)
{
	size_t fa = file_index(L, a->file), fb = file_index(L, b->file);

	if (fa != fb)
		return fa > fb ? a : b;
	return a->line > b->line || (a->line == b->line && a->col >= b->col) ? a : b;
}

#define FIELD(p, bit) (&(p)->field[field_index(bit)])

/* remotes naming loopback restrict local peers (policy.h): meaningful with remote = false. */
static bool remotes_name_loopback(const struct app *a)
{
	for (size_t i = 0; i < a->n_remotes; i++)
		if (policy_remote_is_loopback(&a->remotes[i]))
			return true;
	return false;
}

static void check_app(struct loader *L, struct app_priv *p)
{
	struct app *a = &p->a;
	const struct pos *f;

	if (!a->local && a->locals.n) {
		f = later(L, FIELD(p, APP_F_LOCALS), FIELD(p, APP_F_LOCAL));
		err_pos(L, f,
			"'locals' has no effect with local = false (no local connections at all); "
			"remove one of them");
	}
	if (!a->remote && a->n_remotes && !remotes_name_loopback(a)) {
		f = later(L, FIELD(p, APP_F_REMOTES), FIELD(p, APP_F_REMOTE));
		err_pos(L, f,
			"'remotes' has no effect with remote = false (no remote connections at all); "
			"remove one of them");
	}
	if (!a->local && !a->remote && a->ports.n) {
		f = later(L, FIELD(p, APP_F_PORTS), FIELD(p, APP_F_REMOTE));
		err_pos(L, f,
			"'ports' has no effect with local = false and remote = false; remove one of "
			"them");
	}
	STRV_FOREACH(s, a->scripts) {
		struct stat st;

		f = FIELD(p, APP_F_SCRIPTS);
		if (stat(*s, &st) < 0) {
			warn_at(L, f->file, f->line, f->col, "script '%s' does not exist: %s", *s,
				strerror(errno));
			continue;
		}
		if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
			err_pos(L, f, "script '%s' is not an executable file", *s);
		else
			check_owner(L, *s, &st);
	}
	if (!(a->set & APP_F_ACTIONS))
		a->actions = L->c->global.default_actions;
	if ((a->actions & ACTION_SCRIPT) && !a->scripts && !strv_length(L->c->global.script_dirs)) {
		f = a->set & APP_F_ACTIONS ? FIELD(p, APP_F_ACTIONS) : &p->entry;
		warn_at(L, f->file, f->line, f->col,
			"action 'script' but no scripts: set 'scripts' or global.script_dirs");
	}
}

static void check_global(struct loader *L)
{
	struct config_global *g = &L->c->global;

	if ((g->unconfigured_actions & (ACTION_BLOCK | ACTION_KILL)) &&
	    !g->block_unconfigured_programs) {
		const char *what = g->unconfigured_actions & ACTION_KILL ? "kill" : "block";
		struct pos *p = &L->pos_unconfigured;

		err_pos(L, p,
			"'unconfigured_actions' contains '%s': this would %s every program that has no "
			"[[app]] entry (sshd, apt, your shell...). If that is really what you want, "
			"also set block_unconfigured_programs = true in [global]",
			what, what);
	}
}

static int config_new(struct config **ret)
{
	struct config *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->global = (struct config_global){
		.detent = 86400,
		.detent_max = 65536,
		.default_actions = ACTION_LOG | ACTION_NOTIFY,
		.unconfigured_actions = ACTION_LOG,
		.ringbuf_size = 1u << 20,
		.kernel_dedup = 60,
		.script_timeout = 10000,
		.script_max = 8,
		.script_queue_max = 1024,
	};
	c->notify = (struct config_notify){
		.timeout = 5000,
		.retries = 3,
		.backoff = 1000,
		.queue_max = 1024,
	};
	if (config_strv_push(&c->global.include_dirs, "/etc/aegis.d") < 0 ||
	    config_strv_push(&c->global.script_dirs, "/etc/aegis/scripts") < 0) {
		config_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

struct config *config_free(struct config *c)
{
	if (!c)
		return NULL;
	strv_free(c->files);
	strv_free(c->global.include_dirs);
	strv_free(c->global.script_dirs);
	free(c->global.json_log);
	strv_free(c->notify.webhooks);
	addrset_done(&c->whitelist.ips);
	portset_done(&c->whitelist.ports);
	strv_free(c->whitelist.programs);
	for (size_t i = 0; i < c->n_apps; i++)
		config_app_free(c->apps[i]);
	free(c->apps);
	free(c);
	return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_free);

int config_load(const struct config_load_opts *opts, struct config **ret, struct diag_list *diags)
{
	static const struct config_load_opts no_opts = {};
	_cleanup_(config_freep) struct config *c = NULL;
	struct dropin_list dl = {};
	struct loader L = { .opts = opts ?: &no_opts, .diags = diags };
	size_t errors_before = diags->n_errors;
	bool main_ok;
	int r;

	r = config_new(&c);
	if (r < 0)
		return r;
	L.c = c;

	main_ok = load_file(&L, L.opts->main_path ?: AEGIS_DEFAULT_CONFIG, true);
	if (main_ok) {
		STRV_FOREACH(dir, c->global.include_dirs)
			scan_dir(&L, *dir, &dl);
	}
	add_extra_dropins(&L, &dl);
	if (dl.n)
		qsort(dl.d, dl.n, sizeof(*dl.d), dropin_cmp);
	for (size_t i = 0; i < dl.n && !L.oom; i++)
		load_file(&L, dl.d[i].path, false);
	dropin_list_done(&dl);

	addrset_finalize(&c->whitelist.ips);
	if (c->whitelist.programs && !c->whitelist.programs[0])
		c->whitelist.programs = strv_free(c->whitelist.programs);
	check_global(&L);
	/* a main file that could not be read leaves the default script dirs:
	 * warnings about those would only bury the one error that matters */
	if (main_ok)
		check_script_dirs(&L);
	for (size_t i = 0; i < c->n_apps; i++)
		check_app(&L, (struct app_priv *)c->apps[i]);
	free(L.slots);

	if (L.oom)
		return -ENOMEM;
	if (diags->n_errors > errors_before)
		return -EINVAL;
	*ret = TAKE_PTR(c);
	return 0;
}
