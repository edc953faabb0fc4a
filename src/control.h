/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: how `aegis status|events|reload` talk to `aegis run`.
 *
 * Transport: a unix stream socket, AEGIS_CONTROL_SOCKET (/run/aegis/aegis.sock),
 * mode 0600 in a 0700 directory (created if missing). Every accepted peer's
 * SO_PEERCRED uid must be 0 (or the daemon's own euid, which is 0 when it runs
 * as a service): others get one error line and are disconnected.
 *
 * Protocol: line-based JSON, UTF-8, one JSON object per '\n'-terminated line,
 * both ways. A request line is at most CONTROL_LINE_MAX bytes. Requests:
 *
 *   {"cmd":"status"}  -> {"ok":true,"status":{...}}
 *                        the object is the daemon's status callback output
 *                        (schema below)
 *   {"cmd":"reload"}  -> {"ok":true,"message":"..."}           reload done
 *                        {"ok":false,"error":"...","message":"..."} it failed,
 *                        the old policy stays active
 *   {"cmd":"events","backlog":N,"follow":true}
 *                     -> {"ok":true,"events":true}, then the last N records
 *                        (at most CONTROL_BACKLOG; default 0), then, with
 *                        "follow" (default true), every new record as it is
 *                        published until either side closes; without it a
 *                        line {"notice":"end"} and the server closes. A
 *                        record line is exactly the daemon's JSON-lines
 *                        record (json.h record_to_json()). A line
 *                        {"notice":"dropped","dropped":N} tells a
 *                        subscriber that N records were not sent because it
 *                        read too slowly.
 *   anything else     -> {"ok":false,"error":"..."}
 *
 * A connection may send several requests; answers come in order. The server
 * never blocks: output is queued per client, at most CONTROL_CLIENT_BUF_MAX
 * bytes. A subscriber whose queue is full loses records (counted, announced
 * with the notice line once its queue drained); one that loses
 * CONTROL_DROP_LIMIT records in a row is disconnected. At most
 * CONTROL_MAX_CLIENTS connections; more are refused with an error line.
 *
 * Status schema (what the CLI knows how to print; extra members are printed
 * generically, so the daemon may add more):
 *   {"version":"0.1.0", "pid":N, "uptime_sec":N,
 *    "sources":{"<event source>":"<attach mode>", ...},
 *    "missing_features":["...", ...],
 *    "policy":{"files":[{"path":"/etc/aegis.toml","apps":N}, ...], "apps":N,
 *              "loaded_at":"<time>"},
 *    "enforcement":{"rules":N, "pinned":false},
 *    "counters":{"events":N, "suppressed":N, "kernel_dropped":N,
 *                "notify_queue":N, "scripts_running":N, "cmdline_regex_failed":N,
 *                ...}}
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct event_loop;
struct control;

#define CONTROL_MAX_CLIENTS 32
#define CONTROL_LINE_MAX 4096
#define CONTROL_CLIENT_BUF_MAX (1024 * 1024)
#define CONTROL_DROP_LIMIT 4096
#define CONTROL_BACKLOG 256 /* recent records kept for "events" without --follow */
#define CONTROL_BACKLOG_LINE_MAX 16384 /* longer records are streamed but not kept */

/*
 * Callbacks into the daemon, called from the loop while answering a request.
 * status: append ONE JSON object (the schema above) to out_json.
 * reload: reload the policy (build, validate, swap); append a one-line human
 * message to out_msg (what changed, or why it failed). Return < 0 on failure.
 */
struct control_ops {
	int (*status)(void *userdata, struct strbuf *out_json);
	int (*reload)(void *userdata, struct strbuf *out_msg);
};

/*
 * Binds path (NULL = AEGIS_CONTROL_SOCKET) and serves it on loop l. A stale
 * socket file is replaced; -EADDRINUSE if another daemon answers on it.
 * ops and userdata must outlive the control object.
 */
int control_new(struct event_loop *l, const char *path, const struct control_ops *ops,
		void *userdata, struct control **ret);
/* Disconnects every client, closes and unlinks the socket. Accepts NULL; returns NULL. */
struct control *control_free(struct control *c);

/*
 * Queues json_line (one record, no newline needed) to every "events"
 * subscriber and keeps it in the backlog ring. Never blocks. Call it for every
 * record (it costs one copy); control_has_subscribers() only says whether
 * someone is streaming right now.
 */
void control_publish(struct control *c, const char *json_line, size_t len);
bool control_has_subscribers(const struct control *c);

struct control_stats {
	unsigned clients; /* connected now */
	unsigned subscribers; /* of which streaming events */
	uint64_t dropped; /* records not sent to a slow subscriber, total */
	uint64_t kicked; /* subscribers disconnected for being too slow */
	uint64_t refused; /* connections refused: credentials or too many clients */
};
void control_get_stats(const struct control *c, struct control_stats *ret);

/* Client side (the CLI verbs): blocking, with timeouts. */
struct control_client {
	int fd;
	struct strbuf in; /* bytes read and not yet returned */
	size_t off; /* start of the next line in in */
};

/*
 * Connects to path (NULL = AEGIS_CONTROL_SOCKET). -ENOENT / -ECONNREFUSED
 * mean no daemon is running; -EACCES/-EPERM: not root.
 */
int control_client_connect(const char *path, struct control_client *ret);
void control_client_done(struct control_client *c);
/* Sends one request: a JSON object on one line (the newline is added). */
int control_client_send(struct control_client *c, const char *request_json);
/*
 * Reads the next line (without '\n'; valid until the next call). timeout_ms
 * -1 waits forever. Returns 1 with a line, 0 at end of stream, -ETIMEDOUT,
 * -EBADMSG for a line over the limit, other -errno.
 */
int control_client_read_line(struct control_client *c, int timeout_ms, const char **ret_line,
			     size_t *ret_len);
/* Path used when NULL is given: $AEGIS_CONTROL_SOCKET if set, else AEGIS_CONTROL_SOCKET. */
const char *control_default_path(void);

struct jv;
/*
 * For the CLI verbs: connect, send request_json, read and parse the first
 * answer line. Logs every failure once and returns the code the verb should
 * return: -AEGIS_EXIT(EXIT_NODAEMON) when no daemon listens, a negative errno
 * otherwise. An answer with "ok":false is returned as is (0) for the caller
 * to report. On success c stays connected (for streams).
 */
int control_cli_call(struct control_client *c, const char *request_json, int timeout_ms,
		     struct jv **ret_answer);
