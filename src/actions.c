// SPDX-License-Identifier: GPL-2.0-or-later
/* Dispatch of a decided record to the action modules (see actions.h). */
#include <errno.h>
#include <stdlib.h>

#include "actions-internal.h"
#include "event-loop.h"
#include "json.h"
#include "log.h"
#include "macro.h"

bool ratelimit_ok(struct ratelimit *rl, uint64_t *ret_suppressed)
{
	uint64_t now = now_usec(CLOCK_MONOTONIC);

	if (!rl->begin || now - rl->begin >= rl->interval_usec) {
		*ret_suppressed = rl->suppressed;
		rl->begin = now;
		rl->n = 1;
		rl->suppressed = 0;
		return true;
	}
	if (rl->n < rl->burst) {
		rl->n++;
		*ret_suppressed = 0;
		return true;
	}
	rl->suppressed++;
	return false;
}

int actions_new(struct event_loop *l, const struct config *c, struct actions **ret)
{
	struct actions *a;
	int r;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->loop = l;
	a->config = c;
	a->json_fd = -EBADF;
	a->kill_rl = RATELIMIT_INIT(10 * 1000000ULL, 20);
	r = notifier_new(a, &a->notify);
	/* libcurl is loaded only for a configuration with webhooks (action-notify.c) */
	if (r >= 0)
		r = notifier_prepare(a->notify, c);
	if (r >= 0)
		r = script_runner_new(a, &a->scripts);
	if (r < 0) {
		actions_free(a);
		return r;
	}
	(void)action_log_open_json(a);
	*ret = a;
	return 0;
}

int actions_set_config(struct actions *a, const struct config *c)
{
	const struct config *old = a->config;
	int r;

	/* Before anything changes: a config whose webhooks cannot work is refused whole. */
	r = notifier_prepare(a->notify, c);
	if (r < 0)
		return r;
	a->config = c;
	/* Reopened on every reload, so a rotated JSON log is picked up. */
	r = action_log_open_json(a);
	if (r < 0) {
		/* the caller frees c and keeps old: do not keep pointing at c */
		a->config = old;
		(void)action_log_open_json(a);
	}
	return r;
}

struct actions *actions_free(struct actions *a)
{
	if (!a)
		return NULL;
	a->scripts = script_runner_free(a->scripts);
	a->notify = notifier_free(a->notify);
	action_log_close_json(a);
	free(a);
	return NULL;
}

int actions_run(struct actions *a, const struct record *r)
{
	struct strbuf json;
	int ret = 0, k;

	if (r->actions & ACTION_ALLOW)
		return 0;
	/* Kill first: every other action can wait, the process should not. */
	if (r->actions & ACTION_KILL)
		(void)action_kill(a, r);
	if (!(r->actions & (ACTION_LOG | ACTION_NOTIFY | ACTION_SCRIPT)))
		return 0;
	strbuf_init(&json);
	k = record_to_json(r, &json);
	if (k < 0 || json.oom) {
		strbuf_done(&json);
		return log_warning_errno(k < 0 ? k : -ENOMEM, "Failed to render record: %m");
	}
	if (r->actions & ACTION_LOG)
		ret = action_log_record(a, r, json.s);
	if (r->actions & ACTION_NOTIFY) {
		k = notifier_submit(a->notify, r, json.s);
		ret = ret ?: MIN(k, 0);
	}
	if (r->actions & ACTION_SCRIPT) {
		k = script_runner_submit(a->scripts, r, json.s);
		ret = ret ?: MIN(k, 0);
	}
	strbuf_done(&json);
	return ret;
}

void actions_get_stats(const struct actions *a, struct actions_stats *ret)
{
	*ret = a->stats;
}

bool actions_is_own_child(const struct actions *a, pid_t pid)
{
	return a && script_runner_owns(a->scripts, pid);
}
