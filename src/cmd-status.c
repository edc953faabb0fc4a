// SPDX-License-Identifier: GPL-2.0-or-later
/* aegis status [--json]: ask the running daemon for its state (control.h "status"). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "control.h"
#include "json-value.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"

#define STATUS_TIMEOUT_MS 10000

static bool arg_json;

static void help(void)
{
	printf("Usage: aegis status [--json]\n\n"
	       "Show the state of the running daemon: version, uptime, attach mode per event\n"
	       "source, missing kernel features, policy files and rule counts, enforcement,\n"
	       "counters.\n\n"
	       "  -j --json   print the daemon's status object as JSON\n"
	       "  -h --help   show this help\n");
}

static int parse_argv(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "jh", options, NULL)) >= 0) {
		switch (c) {
		case 'j':
			arg_json = true;
			break;
		case 'h':
			help();
			return 0;
		default:
			return -AEGIS_EXIT(EXIT_USAGE);
		}
	}
	if (optind < argc) {
		log_error("status: unexpected argument '%s'", argv[optind]);
		return -AEGIS_EXIT(EXIT_USAGE);
	}
	return 1;
}

/* Scalars as terminal-safe text. */
static void print_scalar(const struct jv *v)
{
	_cleanup_(strbuf_done) struct strbuf b = {};

	if (v->type == JV_STRING && v->len == 0) {
		fputs("-", stdout);
		return;
	}
	if (v->type == JV_STRING && text_escape(&b, v->str, v->len) >= 0 && b.s)
		fputs(b.s, stdout);
	else
		fputs(jv_scalar_text(v), stdout);
}

static bool is_scalar(const struct jv *v)
{
	return v->type != JV_ARRAY && v->type != JV_OBJECT;
}

static bool all_scalar(const struct jv *v)
{
	for (const struct jv *c = v->child; c; c = c->next)
		if (!is_scalar(c))
			return false;
	return true;
}

static void print_label(const char *key, int indent)
{
	printf("%*s", indent, "");
	if (streq(key, "uptime_sec"))
		key = "uptime";
	for (const char *p = key; *p; p++)
		putchar(*p == '_' ? ' ' : *p);
	putchar(':');
}

static void print_duration(uint64_t s)
{
	if (s >= 86400)
		printf(" %" PRIu64 "d", s / 86400);
	if (s >= 3600)
		printf(" %" PRIu64 "h", s / 3600 % 24);
	if (s >= 60)
		printf(" %" PRIu64 "min", s / 60 % 60);
	printf(" %" PRIu64 "s", s % 60);
}

/* One line for an object of scalars: the first value, then key=value. */
static void print_inline_object(const struct jv *o)
{
	for (const struct jv *c = o->child; c; c = c->next) {
		if (c != o->child)
			printf(" %s=", c->key);
		print_scalar(c);
	}
}

/* Width of "k=v k=v ..." for an object of scalars. */
static size_t inline_width(const struct jv *o)
{
	size_t w = 0;

	for (const struct jv *c = o->child; c; c = c->next)
		w += strlen(c->key) + strlen(jv_scalar_text(c)) + 2;
	return w;
}

static void print_value(const char *key, const struct jv *v, int indent);

static void print_members(const struct jv *o, int indent)
{
	for (const struct jv *c = o->child; c; c = c->next)
		print_value(c->key, c, indent);
}

static void print_value(const char *key, const struct jv *v, int indent)
{
	uint64_t n;

	print_label(key, indent);
	if (streq(key, "uptime_sec") && v->type == JV_NUMBER && safe_atou64(v->str, &n) >= 0) {
		print_duration(n);
		putchar('\n');
	} else if (is_scalar(v)) {
		putchar(' ');
		print_scalar(v);
		putchar('\n');
	} else if (!v->child) {
		printf(" %s\n", v->type == JV_ARRAY ? "none" : "-");
	} else if (v->type == JV_ARRAY && all_scalar(v)) {
		for (const struct jv *c = v->child; c; c = c->next) {
			fputs(c == v->child ? " " : ", ", stdout);
			print_scalar(c);
		}
		putchar('\n');
	} else if (v->type == JV_OBJECT && all_scalar(v) && inline_width(v) <= 80) {
		for (const struct jv *c = v->child; c; c = c->next) {
			printf(" %s=", c->key);
			print_scalar(c);
		}
		putchar('\n');
	} else if (v->type == JV_OBJECT) {
		putchar('\n');
		print_members(v, indent + 2);
	} else {
		putchar('\n');
		for (const struct jv *c = v->child; c; c = c->next) {
			printf("%*s- ", indent + 2, "");
			if (is_scalar(c)) {
				print_scalar(c);
				putchar('\n');
			} else if (c->type == JV_OBJECT && all_scalar(c)) {
				print_inline_object(c);
				putchar('\n');
			} else {
				putchar('\n');
				print_members(c, indent + 4);
			}
		}
	}
}

static void print_status(const struct jv *st)
{
	const char *version = jv_get_str(st, "version");
	const struct jv *pid = jv_get(st, "pid"), *up = jv_get(st, "uptime_sec");
	uint64_t n;

	printf("aegis %s", version ?: "(unknown version)");
	if (pid && pid->type == JV_NUMBER)
		printf(", pid %s", pid->str);
	printf(", running");
	if (up && up->type == JV_NUMBER && safe_atou64(up->str, &n) >= 0) {
		printf(" for");
		print_duration(n);
	}
	putchar('\n');
	for (const struct jv *c = st->child; c; c = c->next)
		if (!streq(c->key, "version") && !streq(c->key, "pid") &&
		    !streq(c->key, "uptime_sec"))
			print_value(c->key, c, 0);
}

static int print_json(const struct jv *st)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	struct json_writer w;
	int r;

	json_init(&w, &b);
	jv_write(st, &w);
	r = json_finish(&w);
	if (r < 0)
		return log_error_errno(r, "Failed to format the status: %m");
	printf("%s\n", b.s);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	_cleanup_(control_client_done) struct control_client c = { .fd = -EBADF };
	_cleanup_(jv_freep) struct jv *answer = NULL;
	const struct jv *ok, *st;
	int r;

	r = parse_argv(argc, argv);
	if (r <= 0)
		return r;
	r = control_cli_call(&c, "{\"cmd\":\"status\"}", STATUS_TIMEOUT_MS, &answer);
	if (r < 0)
		return r;
	ok = jv_get(answer, "ok");
	st = jv_get(answer, "status");
	if (!ok || ok->type != JV_BOOL || !ok->boolean || !st || st->type != JV_OBJECT) {
		const char *e = jv_get_str(answer, "error");

		return log_error_errno(-EIO, "The daemon could not report its status: %s",
				       e ?: "invalid answer");
	}
	if (arg_json)
		return print_json(st);
	print_status(st);
	return 0;
}
