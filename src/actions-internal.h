/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between actions.c and the action-*.c modules; not a public API. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "actions.h"
#include "config.h"
#include "record.h"
#include "strbuf.h"

struct event_loop;
struct notifier;
struct script_runner;

/* At most burst messages per interval; the rest are counted and reported later. */
struct ratelimit {
	uint64_t interval_usec;
	unsigned burst;
	uint64_t begin;
	unsigned n;
	uint64_t suppressed;
};
#define RATELIMIT_INIT(i, b) ((struct ratelimit){ .interval_usec = (i), .burst = (b) })
/* True when a message may be emitted now; *ret_suppressed = messages skipped before it. */
bool ratelimit_ok(struct ratelimit *rl, uint64_t *ret_suppressed);

struct actions {
	struct event_loop *loop;
	const struct config *config;
	struct actions_stats stats;
	int json_fd; /* global.json_log, or -EBADF */
	bool json_fd_owned; /* false for "-" (stdout) */
	struct notifier *notify;
	struct script_runner *scripts;
	struct ratelimit kill_rl;
};

/* action-log.c */
enum record_kind {
	KIND_VIOLATION,
	KIND_UNCONFIGURED,
	KIND_BLOCK,
	KIND_CONNECTION,
	KIND_KILL,
	KIND_KILL_REFUSED,
	KIND_NOTIFY,
	KIND_SCRIPT_EXIT,
	_KIND_MAX,
};
const char *record_kind_to_string(enum record_kind k);
enum record_kind record_kind_of(const struct record *r);
/* "violation: telegraf[42] tcp out 10.0.0.1:4711 -> 10.0.0.2:6666 ..." (no newline). */
int action_format_message(const struct record *r, const char *kind, struct strbuf *b);
/*
 * One journald entry of the given kind: MESSAGE, PRIORITY, MESSAGE_ID,
 * SYSLOG_IDENTIFIER=aegis, AEGIS_KIND, every field of r (may be NULL) and the
 * extra "KEY=value" strings. Falls back to one line on stderr (message, then
 * json if given) when journald does not take it. Returns 0 if journald took it.
 */
int action_journal_send(enum record_kind kind, int priority, const char *message,
			const struct record *r, const char *json, char *const *extra);
int action_log_record(struct actions *a, const struct record *r, const char *json);
int action_log_open_json(struct actions *a);
void action_log_close_json(struct actions *a);

/* action-notify.c */
int notifier_new(struct actions *a, struct notifier **ret);
/*
 * Loads libcurl and sets up the transfer machinery when c has webhooks and
 * this was not done yet (never undone). Nothing to do without webhooks.
 * Logs the reason and returns -ELIBACC/-EIO/-ENOMEM when libcurl cannot be used.
 */
int notifier_prepare(struct notifier *n, const struct config *c);
struct notifier *notifier_free(struct notifier *n);
int notifier_submit(struct notifier *n, const struct record *r, const char *json);

/* action-script.c */
int script_runner_new(struct actions *a, struct script_runner **ret);
struct script_runner *script_runner_free(struct script_runner *s);
int script_runner_submit(struct script_runner *s, const struct record *r, const char *json);
bool script_runner_owns(const struct script_runner *s, pid_t pid);

/* action-kill.c */
int action_kill(struct actions *a, const struct record *r);
/* From /proc/PID/stat: start time (field 22, clock ticks since boot) and session id. */
int proc_stat_read(pid_t pid, uint64_t *ret_start_ticks, pid_t *ret_session);
