// SPDX-License-Identifier: GPL-2.0-or-later
/* aegis events [--follow] [--json] [--lines N]: records from the running daemon (control.h). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "commands.h"
#include "control.h"
#include "json-value.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"

#define EVENTS_TIMEOUT_MS 10000

static bool arg_follow;
static bool arg_json;
static int64_t arg_lines = -1; /* -1: all kept without --follow, none with it */

static void help(void)
{
	printf("Usage: aegis events [--follow] [--json] [--lines N]\n\n"
	       "Print the records the running daemon produced recently and, with --follow,\n"
	       "every new one as it happens.\n\n"
	       "  -f --follow    keep streaming new records until interrupted\n"
	       "  -j --json      print records as JSON lines (the daemon's --json format)\n"
	       "  -n --lines N   start with the last N records (default: all the daemon keeps,\n"
	       "                 %d; 0 with --follow)\n"
	       "  -h --help      show this help\n",
	       CONTROL_BACKLOG);
}

static int parse_argv(int argc, char **argv)
{
	static const struct option options[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "lines", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	uint32_t n;
	int c;

	while ((c = getopt_long(argc, argv, "fjn:h", options, NULL)) >= 0) {
		switch (c) {
		case 'f':
			arg_follow = true;
			break;
		case 'j':
			arg_json = true;
			break;
		case 'n':
			if (safe_atou32(optarg, &n) < 0) {
				log_error("events: invalid --lines '%s'", optarg);
				return -AEGIS_EXIT(EXIT_USAGE);
			}
			arg_lines = n;
			break;
		case 'h':
			help();
			return 0;
		default:
			return -AEGIS_EXIT(EXIT_USAGE);
		}
	}
	if (optind < argc) {
		log_error("events: unexpected argument '%s'", argv[optind]);
		return -AEGIS_EXIT(EXIT_USAGE);
	}
	if (arg_lines < 0)
		arg_lines = arg_follow ? 0 : CONTROL_BACKLOG;
	return 1;
}

static const char *field(const struct jv *rec, const char *key)
{
	const struct jv *v = jv_get(rec, key);

	if (!v || v->type == JV_NULL || v->type == JV_ARRAY || v->type == JV_OBJECT)
		return "";
	return jv_scalar_text(v);
}

static void put_text(struct strbuf *b, const char *s)
{
	if (!*s)
		strbuf_putc(b, '-');
	else
		text_escape(b, s, strlen(s));
}

static void put_endpoint(struct strbuf *b, const char *addr, const char *port)
{
	bool v6 = strchr(addr, ':');

	if (!*addr) {
		strbuf_putc(b, '-');
		return;
	}
	strbuf_printf(b, v6 ? "[%s]" : "%s", addr);
	if (*port)
		strbuf_printf(b, ":%s", port);
}

/* The daemon's human one-liner (json.h record_to_line()), rebuilt from the JSON record. */
static void format_record(const struct jv *rec, struct strbuf *b)
{
	static const char *const tail[] = { "pid", "user", "exe", "cmdline", "unit", "result" };

	strbuf_printf(b, "%s %s %s ", field(rec, "time"), field(rec, "direction"),
		      field(rec, "proto"));
	put_endpoint(b, field(rec, "src"), field(rec, "spt"));
	strbuf_puts(b, " -> ");
	put_endpoint(b, field(rec, "dst"), field(rec, "dpt"));
	for (size_t i = 0; i < ARRAY_SIZE(tail); i++) {
		const char *v = field(rec, tail[i]);

		strbuf_printf(b, " %s=", tail[i]);
		if (streq(tail[i], "cmdline") && *v) {
			strbuf_putc(b, '"');
			text_escape(b, v, strlen(v));
			strbuf_putc(b, '"');
		} else {
			put_text(b, v);
		}
	}
	if (streq(field(rec, "cmdline_truncated"), "true"))
		strbuf_puts(b, " [truncated]");
	if (*field(rec, "outcome")) {
		strbuf_printf(b, " outcome=%s rule=", field(rec, "outcome"));
		put_text(b, field(rec, "rule"));
		strbuf_puts(b, " actions=");
		put_text(b, field(rec, "actions"));
	}
}

/* 1: keep reading; 0: the stream ended. */
static int handle_line(const char *line, size_t len)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	_cleanup_(jv_freep) struct jv *rec = NULL;
	const char *notice;

	if (jv_parse(line, len, &rec) < 0 || rec->type != JV_OBJECT) {
		log_warning("Ignoring an invalid line from the daemon: %.200s", line);
		return 1;
	}
	notice = jv_get_str(rec, "notice");
	if (notice && streq(notice, "end"))
		return 0;
	if (notice && streq(notice, "dropped")) {
		log_warning("%s records were not shown: this reader was too slow",
			    field(rec, "dropped"));
		return 1;
	}
	if (arg_json) {
		fwrite(line, 1, len, stdout);
		putchar('\n');
	} else {
		format_record(rec, &b);
		if (b.s)
			puts(b.s);
	}
	fflush(stdout);
	return 1;
}

int cmd_events(int argc, char **argv)
{
	_cleanup_(control_client_done) struct control_client c = { .fd = -EBADF };
	_cleanup_(jv_freep) struct jv *answer = NULL;
	_cleanup_(strbuf_done) struct strbuf req = {};
	const struct jv *ok;
	const char *line;
	size_t len;
	int r;

	r = parse_argv(argc, argv);
	if (r <= 0)
		return r;
	strbuf_printf(&req, "{\"cmd\":\"events\",\"backlog\":%" PRIi64 ",\"follow\":%s}", arg_lines,
		      arg_follow ? "true" : "false");
	if (req.oom)
		return log_error_errno(-ENOMEM, "Out of memory");
	r = control_cli_call(&c, req.s, EVENTS_TIMEOUT_MS, &answer);
	if (r < 0)
		return r;
	ok = jv_get(answer, "ok");
	if (!ok || ok->type != JV_BOOL || !ok->boolean)
		return log_error_errno(-EIO, "The daemon refused to stream events: %s",
				       jv_get_str(answer, "error") ?: "invalid answer");
	for (;;) {
		r = control_client_read_line(&c, arg_follow ? -1 : EVENTS_TIMEOUT_MS, &line, &len);
		if (r == 0) {
			if (arg_follow)
				log_info("The daemon closed the stream");
			return 0;
		}
		if (r < 0)
			return log_error_errno(r, "Failed to read from the daemon: %m");
		if (handle_line(line, len) == 0)
			return 0;
	}
}
