/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runs the actions of a decided record: log, notify, script, kill (block is
 * enforced in the kernel; allow does nothing). Everything runs on the
 * daemon's event loop and never blocks: webhooks go through libcurl's multi
 * interface (libcurl is dlopen()ed when a configuration with webhooks is
 * first applied, see curl-util.h), hook scripts are spawned with a pidfd and
 * reaped when it becomes readable.
 *
 * Every field written anywhere comes from record_foreach_field() /
 * record_to_json(), so a JSON key "dst" is the hook variable AEGIS_DST and
 * the journald field AEGIS_DST.
 *
 * journald entries (SYSLOG_IDENTIFIER=aegis) and their MESSAGE_IDs, fixed
 * forever (`journalctl MESSAGE_ID=...` selects one kind):
 *
 *   kind           MESSAGE_ID                        PRIORITY
 *   violation      4698d7b0e71c47bfb8655b1a6bb8bf91  4 warning  (log: app broke its rules)
 *   unconfigured   bd6e912aebf9461892369f4de519e170  5 notice   (log: no [[app]] matched)
 *   block          ceb8beca71ac44babd1ffb68a6b94ea1  4 warning  (log: record whose actions block)
 *   connection     129984b1c9534d47844394a48615bee7  6 info     (log: any other outcome)
 *   kill           f1a65a382d3943d4b2b457672d6059be  1 alert    (a process was killed)
 *   kill-refused   6ede48e0445a4f58bd1b6eaf76cb5e85  3 err      (PID 1, aegis, its scripts,
 *                                                               identity mismatch, failure)
 *   notify         17366eb437b040e8a929df7bb42c35dc  2 crit     (notify: the alert entry)
 *   script-exit    9755730d908a44f58ccfda092d115a76  6 info / 4 warning (hook script finished;
 *                                                               warning if it failed or timed out)
 *
 * Record entries carry MESSAGE (one readable line), every record field as
 * AEGIS_<NAME> (values raw; newlines kept), and AEGIS_KIND (the kind above).
 * script-exit entries add AEGIS_SCRIPT, AEGIS_SCRIPT_PID, AEGIS_SCRIPT_STATUS
 * ("exited 0", "killed SIGTERM"...), AEGIS_SCRIPT_TIMED_OUT (0/1).
 * kill/kill-refused add AEGIS_KILL_RESULT: "killed" (SIGKILL through a pidfd
 * verified against the record's (pid, start time)), "killed in kernel" (the
 * connect was refused with EPERM under a kill rule and the process was gone:
 * bpf_send_signal() in the cgroup hook got it), or "refused: <why>" (PID 1,
 * aegis itself, a hook script or anything in a hook's session, PID reused,
 * start time unknown). Refusals are rate-limited (20 per 10 s).
 *
 * global.json_log gets one JSON line per logged record (record_to_json()),
 * each with a single write(); "-" is stdout, best used with `aegis run
 * --quiet`, since the per-connection trace shares that stream. Reopened on
 * every actions_set_config() (log rotation: rename, then reload).
 *
 * Hook scripts never trigger SIGCHLD (clone3 with exit_signal 0): the
 * manager must not reap them (no waitpid(-1, __WALL)); they are reaped here
 * through their pidfds.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct actions;
struct config;
struct event_loop;
struct record;

#define AEGIS_MESSAGE_ID_VIOLATION "4698d7b0e71c47bfb8655b1a6bb8bf91"
#define AEGIS_MESSAGE_ID_UNCONFIGURED "bd6e912aebf9461892369f4de519e170"
#define AEGIS_MESSAGE_ID_BLOCK "ceb8beca71ac44babd1ffb68a6b94ea1"
#define AEGIS_MESSAGE_ID_CONNECTION "129984b1c9534d47844394a48615bee7"
#define AEGIS_MESSAGE_ID_KILL "f1a65a382d3943d4b2b457672d6059be"
#define AEGIS_MESSAGE_ID_KILL_REFUSED "6ede48e0445a4f58bd1b6eaf76cb5e85"
#define AEGIS_MESSAGE_ID_NOTIFY "17366eb437b040e8a929df7bb42c35dc"
#define AEGIS_MESSAGE_ID_SCRIPT_EXIT "9755730d908a44f58ccfda092d115a76"

/* Counters since start (reloads keep them). Gauges are marked. */
struct actions_stats {
	uint64_t logged; /* records logged (journald or the stderr fallback) */
	uint64_t notify_sent; /* webhook POSTs answered 2xx */
	uint64_t notify_failed; /* gave up after the last retry */
	uint64_t notify_dropped; /* queue full: never sent */
	uint64_t notify_queued; /* gauge: webhook POSTs waiting, in flight or backing off */
	uint64_t scripts_run; /* hook scripts spawned */
	uint64_t scripts_running; /* gauge */
	uint64_t scripts_dropped; /* pending queue full, or refused (ownership/mode) */
	uint64_t scripts_timed_out; /* killed at global.script_timeout */
	uint64_t kills; /* SIGKILL delivered through a verified pidfd */
	uint64_t kill_refused; /* PID 1, aegis, own script, identity mismatch, error */
};

/* c must stay valid until the next actions_set_config() or actions_free(). */
int actions_new(struct event_loop *l, const struct config *c, struct actions **ret);
/*
 * On reload. Queued and running work keeps the settings it started with.
 * Fails, changing nothing (-ELIBACC, logged), when c has webhooks and
 * libcurl cannot be loaded; actions_new() fails the same way.
 */
int actions_set_config(struct actions *a, const struct config *c);
/* Kills and reaps running scripts, aborts transfers. Accepts NULL; returns NULL. */
struct actions *actions_free(struct actions *a);

/*
 * Runs r->actions (already filtered by the detent). Never blocks: notify and
 * script work is queued. Returns 0, or a negative errno when some action
 * could not even be queued (it is counted and logged as well).
 */
int actions_run(struct actions *a, const struct record *r);

void actions_get_stats(const struct actions *a, struct actions_stats *ret);
/* True for a hook script aegis spawned that has not been reaped yet. */
bool actions_is_own_child(const struct actions *a, pid_t pid);
