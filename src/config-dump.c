// SPDX-License-Identifier: GPL-2.0-or-later
/* The effective merged policy as TOML that itself passes check-config. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "config-internal.h"

static void put_string(FILE *f, const char *s)
{
	bool literal = strchr(s, '\\') && !strchr(s, '\'');

	for (const char *p = s; *p && literal; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			literal = false;
	if (literal) {
		fprintf(f, "'%s'", s);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void put_key_string(FILE *f, const char *key, const char *s)
{
	fprintf(f, "%s = ", key);
	put_string(f, s);
	fputc('\n', f);
}

static void put_strv(FILE *f, const char *key, char *const *l)
{
	bool first = true;

	fprintf(f, "%s = [", key);
	STRV_FOREACH(s, (char **)l) {
		fputs(first ? "" : ", ", f);
		put_string(f, *s);
		first = false;
	}
	fputs("]\n", f);
}

static void put_actions(FILE *f, const char *key, unsigned actions)
{
	bool first = true;

	fprintf(f, "%s = [", key);
	for (size_t i = 0; i < ARRAY_SIZE(config_action_names); i++) {
		if (!(actions & (1u << i)))
			continue;
		fprintf(f, "%s\"%s\"", first ? "" : ", ", config_action_names[i]);
		first = false;
	}
	fputs("]\n", f);
}

static void put_ports(FILE *f, const char *key, const struct portset *s)
{
	char buf[16];

	fprintf(f, "%s = [", key);
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "",
			port_range_to_string(&s->r[i], buf, sizeof(buf)));
	fputs("]\n", f);
}

struct dump_ips {
	FILE *f;
	bool first;
};

static int put_cidr(const struct cidr *c, void *userdata)
{
	struct dump_ips *d = userdata;
	char buf[64];

	fprintf(d->f, "%s\"%s\"", d->first ? "" : ", ", cidr_to_string(c, buf, sizeof(buf)));
	d->first = false;
	return 0;
}

static void put_remotes(FILE *f, const struct app *a)
{
	char addr[64], port[16];

	fputs("remotes = [", f);
	for (size_t i = 0; i < a->n_remotes; i++) {
		const struct remote_spec *r = &a->remotes[i];

		port_range_to_string(&r->ports, port, sizeof(port));
		fputs(i ? ", " : "", f);
		if (r->kind == REMOTE_PORT_ONLY)
			fprintf(f, "\"%s\"", port);
		else if (r->kind == REMOTE_HOST)
			fprintf(f, "\"%s:%s\"", r->host, port);
		else if (r->cidr.family == AF_INET6)
			fprintf(f, "\"[%s]:%s\"", cidr_to_string(&r->cidr, addr, sizeof(addr)),
				port);
		else
			fprintf(f, "\"%s:%s\"", cidr_to_string(&r->cidr, addr, sizeof(addr)), port);
	}
	fputs("]\n", f);
}

static void dump_app(const struct app *a, FILE *f)
{
	fputs("\n[[app]]\n", f);
	if (a->set & APP_F_NAME)
		put_key_string(f, "name", a->name);
	if (a->exe)
		put_key_string(f, "exe", a->exe);
	if (a->path)
		put_key_string(f, "path", a->path);
	if (a->cmdline)
		put_key_string(f, "cmdline", a->cmdline);
	if (a->user)
		put_key_string(f, "user", a->user);
	if (a->unit)
		put_key_string(f, "unit", a->unit);
	if (a->set & APP_F_IGNORE)
		fprintf(f, "ignore = %s\n", a->ignore ? "true" : "false");
	if (a->set & APP_F_LOCAL)
		fprintf(f, "local = %s\n", a->local ? "true" : "false");
	if (a->set & APP_F_REMOTE)
		fprintf(f, "remote = %s\n", a->remote ? "true" : "false");
	if (a->set & APP_F_PORTS)
		put_ports(f, "ports", &a->ports);
	if (a->set & APP_F_LOCALS)
		put_ports(f, "locals", &a->locals);
	if (a->set & APP_F_REMOTES)
		put_remotes(f, a);
	if (a->set & APP_F_ACTIONS)
		put_actions(f, "actions", a->actions);
	if (a->set & APP_F_SCRIPTS)
		put_strv(f, "scripts", a->scripts);
}

int config_dump(const struct config *c, FILE *f)
{
	const struct config_global *g = &c->global;
	const struct config_notify *n = &c->notify;
	struct dump_ips d = { f, true };

	fputs("# Effective aegis policy: the main file and all drop-ins merged.\n"
	      "# Self-contained: include_dirs is empty because the drop-ins are merged below.\n"
	      "\n[global]\ninclude_dirs = []\n",
	      f);
	put_strv(f, "script_dirs", g->script_dirs);
	fprintf(f, "detent = %" PRIu64 " # seconds\n", g->detent);
	fprintf(f, "detent_max = %" PRIu64 "\n", g->detent_max);
	put_actions(f, "default_actions", g->default_actions);
	put_actions(f, "unconfigured_actions", g->unconfigured_actions);
	fprintf(f, "block_unconfigured_programs = %s\n",
		g->block_unconfigured_programs ? "true" : "false");
	fprintf(f, "ringbuf_size = %" PRIu64 " # bytes\n", g->ringbuf_size);
	fprintf(f, "kernel_dedup = %" PRIu64 " # seconds\n", g->kernel_dedup);
	fprintf(f, "enforce_persist = %s\n", g->enforce_persist ? "true" : "false");
	if (g->json_log)
		put_key_string(f, "json_log", g->json_log);
	fprintf(f, "script_timeout = %" PRIu64 " # milliseconds\n", g->script_timeout);
	fprintf(f, "script_max = %" PRIu64 "\n", g->script_max);
	fprintf(f, "script_queue_max = %" PRIu64 "\n", g->script_queue_max);

	fputs("\n[notify]\n", f);
	put_strv(f, "webhooks", n->webhooks);
	fprintf(f, "timeout = %" PRIu64 " # milliseconds\n", n->timeout);
	fprintf(f, "retries = %" PRIu64 "\n", n->retries);
	fprintf(f, "backoff = %" PRIu64 " # milliseconds\n", n->backoff);
	fprintf(f, "queue_max = %" PRIu64 "\n", n->queue_max);

	fputs("\n[whitelist]\nips = [", f);
	addrset_foreach_cidr(&c->whitelist.ips, put_cidr, &d);
	fputs("]\n", f);
	put_ports(f, "ports", &c->whitelist.ports);
	put_strv(f, "programs", c->whitelist.programs);

	for (size_t i = 0; i < c->n_apps; i++)
		dump_app(c->apps[i], f);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
