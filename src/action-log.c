// SPDX-License-Identifier: GPL-2.0-or-later
/* log action: journald entries with AEGIS_* fields, JSON lines, stderr fallback. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>

#include "action-env.h"
#include "aegis.h"
#include "actions-internal.h"
#include "json.h"
#include "log.h"
#include "macro.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static const struct {
	const char *name;
	const char *id;
} kinds[_KIND_MAX] = {
	[KIND_VIOLATION] = { "violation", AEGIS_MESSAGE_ID_VIOLATION },
	[KIND_UNCONFIGURED] = { "unconfigured", AEGIS_MESSAGE_ID_UNCONFIGURED },
	[KIND_BLOCK] = { "block", AEGIS_MESSAGE_ID_BLOCK },
	[KIND_CONNECTION] = { "connection", AEGIS_MESSAGE_ID_CONNECTION },
	[KIND_KILL] = { "kill", AEGIS_MESSAGE_ID_KILL },
	[KIND_KILL_REFUSED] = { "kill-refused", AEGIS_MESSAGE_ID_KILL_REFUSED },
	[KIND_NOTIFY] = { "notify", AEGIS_MESSAGE_ID_NOTIFY },
	[KIND_SCRIPT_EXIT] = { "script-exit", AEGIS_MESSAGE_ID_SCRIPT_EXIT },
};

const char *record_kind_to_string(enum record_kind k)
{
	return k < _KIND_MAX ? kinds[k].name : NULL;
}

enum record_kind record_kind_of(const struct record *r)
{
	if (r->actions & ACTION_BLOCK)
		return KIND_BLOCK;
	if (r->outcome == OUTCOME_VIOLATION)
		return KIND_VIOLATION;
	if (r->outcome == OUTCOME_UNCONFIGURED)
		return KIND_UNCONFIGURED;
	return KIND_CONNECTION;
}

static int kind_priority(enum record_kind k)
{
	switch (k) {
	case KIND_VIOLATION:
	case KIND_BLOCK:
		return LOG_WARNING;
	case KIND_UNCONFIGURED:
		return LOG_NOTICE;
	default:
		return LOG_INFO;
	}
}

/* Printable text for a readable line: control bytes and invalid UTF-8 as \xNN. */
static void put_sanitized(struct strbuf *b, const char *s)
{
	text_escape(b, s, strlen(s));
}

static void put_endpoint(struct strbuf *b, int family, const uint8_t addr[16], uint16_t port)
{
	char buf[64];

	record_addr_to_string(family, addr, buf, sizeof(buf));
	if (!buf[0])
		strbuf_puts(b, "?");
	else if (strchr(buf, ':'))
		strbuf_printf(b, "[%s]", buf);
	else
		strbuf_puts(b, buf);
	strbuf_printf(b, ":%u", port);
}

int action_format_message(const struct record *r, const char *kind, struct strbuf *b)
{
	const struct proc_info *p = r->proc;
	char acts[128];

	strbuf_printf(b, "%s: ", kind);
	put_sanitized(b, p->comm[0] ? p->comm : "?");
	strbuf_printf(b, "[%d] %s %s ", (int)p->pid, proto_to_string(r->proto) ?: "?",
		      direction_to_string(r->direction) ?: "?");
	if (r->direction == AEGIS_DIR_LISTEN)
		strbuf_puts(b, "-"); /* no peer yet: as the stdout line and JSON ("src": "") */
	else
		put_endpoint(b, r->family, r->saddr, r->sport);
	strbuf_puts(b, " -> ");
	put_endpoint(b, r->family, r->daddr, r->dport);
	strbuf_puts(b, " exe=");
	put_sanitized(b, p->exe && p->exe[0] ? p->exe : "?");
	strbuf_puts(b, " user=");
	put_sanitized(b, p->user && p->user[0] ? p->user : "?");
	if (p->unit && p->unit[0]) {
		strbuf_puts(b, " unit=");
		put_sanitized(b, p->unit);
	}
	if (r->rule && r->rule[0]) {
		strbuf_puts(b, " rule=");
		put_sanitized(b, r->rule);
	}
	if (r->reason && r->reason[0]) {
		strbuf_puts(b, ": ");
		put_sanitized(b, r->reason);
	}
	strbuf_printf(b, " actions=%s", actions_to_string(r->actions, acts, sizeof(acts)));
	if (r->suppressed)
		strbuf_printf(b, " (%" PRIu64 " repeats suppressed)", r->suppressed);
	return b->oom ? -ENOMEM : 0;
}

static int iov_push(struct iovec **iov, size_t *n, size_t *cap, const char *s)
{
	if (*n >= *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct iovec *v = reallocarray(*iov, c, sizeof(**iov));

		if (!v)
			return -ENOMEM;
		*iov = v;
		*cap = c;
	}
	(*iov)[(*n)++] = (struct iovec){ .iov_base = (void *)s, .iov_len = strlen(s) };
	return 0;
}

static void stderr_fallback(const char *message, const char *json)
{
	_cleanup_free_ char *line = NULL;
	int len;

	len = asprintf(&line, "aegis: %s%s%s\n", message, json ? " " : "", json ?: "");
	if (len > 0)
		(void)!write(STDERR_FILENO, line, len);
}

int action_journal_send(enum record_kind kind, int priority, const char *message,
			const struct record *r, const char *json, char *const *extra)
{
	_cleanup_strv_free_ char **fields = NULL;
	_cleanup_free_ struct iovec *iov = NULL;
	_cleanup_free_ char *msg = NULL, *prio = NULL, *id = NULL, *k = NULL;
	size_t n = 0, cap = 0;
	int ret;

	if (r && action_env_build(r, NULL, &fields) < 0)
		fields = NULL;
	if (asprintf(&msg, "MESSAGE=%s", message) < 0 ||
	    asprintf(&prio, "PRIORITY=%d", priority) < 0 ||
	    asprintf(&id, "MESSAGE_ID=%s", kinds[kind].id) < 0 ||
	    asprintf(&k, "AEGIS_KIND=%s", kinds[kind].name) < 0) {
		stderr_fallback(message, json);
		return -ENOMEM;
	}
	ret = iov_push(&iov, &n, &cap, msg);
	ret = ret ?: iov_push(&iov, &n, &cap, prio);
	ret = ret ?: iov_push(&iov, &n, &cap, id);
	ret = ret ?: iov_push(&iov, &n, &cap, "SYSLOG_IDENTIFIER=aegis");
	ret = ret ?: iov_push(&iov, &n, &cap, k);
	/* fields[0..1] are PATH and LANG, only meant for hook scripts. */
	for (size_t i = 2; fields && i < strv_length(fields) && !ret; i++)
		ret = iov_push(&iov, &n, &cap, fields[i]);
	STRV_FOREACH(e, (char **)extra)
		ret = ret ?: iov_push(&iov, &n, &cap, *e);
	/* sd_journal_sendv() reports success when journald is absent: look first. */
	if (!ret && access(JOURNAL_SOCKET, W_OK) < 0)
		ret = -errno;
	if (!ret)
		ret = sd_journal_sendv(iov, (int)n);
	if (ret < 0)
		stderr_fallback(message, json);
	return ret < 0 ? ret : 0;
}

int action_log_record(struct actions *a, const struct record *r, const char *json)
{
	struct strbuf b;
	enum record_kind kind = record_kind_of(r);

	strbuf_init(&b);
	action_format_message(r, kinds[kind].name, &b);
	(void)action_journal_send(kind, kind_priority(kind), b.s ?: kinds[kind].name, r, json,
				  NULL);
	strbuf_done(&b);
	a->stats.logged++;
	if (a->json_fd >= 0 && json) {
		_cleanup_free_ char *line = NULL;
		int len = asprintf(&line, "%s\n", json);

		if (len > 0 && write(a->json_fd, line, len) != len)
			log_debug_errno(errno, "Failed to write JSON log line: %m");
	}
	return 0;
}

int action_log_open_json(struct actions *a)
{
	const char *path = a->config ? a->config->global.json_log : NULL;
	int fd;

	action_log_close_json(a);
	if (!path || !path[0])
		return 0;
	if (streq(path, "-")) {
		a->json_fd = STDOUT_FILENO;
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
	if (fd < 0)
		return log_warning_errno(errno, "Failed to open JSON log %s, ignoring: %m", path);
	a->json_fd = fd;
	a->json_fd_owned = true;
	return 0;
}

void action_log_close_json(struct actions *a)
{
	if (a->json_fd_owned)
		safe_close(a->json_fd);
	a->json_fd = -EBADF;
	a->json_fd_owned = false;
}
