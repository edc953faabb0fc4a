// SPDX-License-Identifier: GPL-2.0-or-later
/* The control socket server (on the daemon's loop) and its blocking client. See control.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "commands.h"
#include "config-h.h"
#include "control.h"
#include "event-loop.h"
#include "json-value.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"

/* Bound the work one wake-up does, so a busy socket cannot starve the loop. */
#define ACCEPT_BATCH 16
#define READ_BATCH 4

#define CONTROL_NOTICE_END "{\"notice\":\"end\"}"

struct client {
	struct control *ctl;
	int fd;
	struct event_source *src;
	struct strbuf in; /* partial request line */
	struct strbuf out; /* queued output; out.s + out_off is not yet sent */
	size_t out_off;
	uint32_t events; /* what src is armed for */
	bool subscribed;
	bool eof; /* peer shut down its write side: no more requests */
	bool closing; /* close once out is flushed */
	uint64_t dropped; /* records lost since the last notice */
	struct client *prev, *next;
};

struct control {
	struct event_loop *loop;
	int fd;
	struct event_source *src;
	char *path;
	dev_t dev;
	ino_t ino;
	const struct control_ops *ops;
	void *userdata;
	struct client *clients;
	unsigned n_clients, n_subscribers;
	uint64_t dropped, kicked, refused;
	char *backlog[CONTROL_BACKLOG]; /* ring of recent records, each with its '\n' */
	size_t backlog_len[CONTROL_BACKLOG];
	unsigned backlog_next, backlog_n;
};

const char *control_default_path(void)
{
	const char *e = getenv("AEGIS_CONTROL_SOCKET");

	return e && *e ? e : AEGIS_CONTROL_SOCKET;
}

static int sockaddr_un_set(struct sockaddr_un *sa, const char *path, socklen_t *ret_len)
{
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	memcpy(sa->sun_path, path, n);
	*ret_len = offsetof(struct sockaddr_un, sun_path) + n + 1;
	return 0;
}

/* ---- server: clients ---- */

static void client_free(struct client *cl)
{
	struct control *ctl = cl->ctl;

	if (cl->prev)
		cl->prev->next = cl->next;
	else
		ctl->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	ctl->n_clients--;
	if (cl->subscribed)
		ctl->n_subscribers--;
	event_source_free(cl->src);
	safe_close(cl->fd);
	strbuf_done(&cl->in);
	strbuf_done(&cl->out);
	free(cl);
}

static void client_arm(struct client *cl)
{
	uint32_t ev = 0;

	if (!cl->eof && !cl->closing)
		ev |= EPOLLIN;
	if (cl->out_off < cl->out.len)
		ev |= EPOLLOUT;
	if (ev != cl->events && event_source_set_io_events(cl->src, ev) >= 0)
		cl->events = ev;
}

static int client_queue(struct client *cl, const char *s, size_t len)
{
	int r;

	r = strbuf_append(&cl->out, s, len);
	if (r >= 0 && (len == 0 || s[len - 1] != '\n'))
		r = strbuf_putc(&cl->out, '\n');
	return r;
}

/* One-line {"notice":"dropped","dropped":N} for a subscriber that fell behind. */
static int client_queue_drop_notice(struct client *cl)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	struct json_writer w;

	json_init(&w, &b);
	json_begin_object(&w);
	json_kv_string(&w, "notice", "dropped");
	json_kv_uint(&w, "dropped", cl->dropped);
	json_end_object(&w);
	if (json_finish(&w) < 0)
		return -ENOMEM;
	cl->dropped = 0;
	return client_queue(cl, b.s, b.len);
}

/* Writes what the socket takes now. Returns < 0 when the client is gone (and freed). */
static int client_flush(struct client *cl)
{
	while (cl->out_off < cl->out.len) {
		ssize_t n = send(cl->fd, cl->out.s + cl->out_off, cl->out.len - cl->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			log_debug_errno(errno, "control: client write failed: %m");
			client_free(cl);
			return -EPIPE;
		}
		cl->out_off += n;
	}
	if (cl->out_off == cl->out.len) {
		strbuf_reset(&cl->out);
		cl->out_off = 0;
		if (cl->closing) {
			client_free(cl);
			return -EPIPE;
		}
		if (cl->dropped > 0 && client_queue_drop_notice(cl) >= 0)
			return client_flush(cl);
	}
	client_arm(cl);
	return 0;
}

static int reply_error(struct client *cl, const char *error, const char *message)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	struct json_writer w;
	int r;

	json_init(&w, &b);
	json_begin_object(&w);
	json_kv_bool(&w, "ok", false);
	json_kv_string(&w, "error", error);
	if (message)
		json_kv_string(&w, "message", message);
	json_end_object(&w);
	r = json_finish(&w);
	if (r < 0)
		return r;
	return client_queue(cl, b.s, b.len);
}

static int reply_ok(struct client *cl, const char *key, const char *raw_json, const char *msg)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	struct json_writer w;

	json_init(&w, &b);
	json_begin_object(&w);
	json_kv_bool(&w, "ok", true);
	if (raw_json) {
		json_key(&w, key);
		json_raw(&w, raw_json, strlen(raw_json));
	} else if (msg) {
		json_kv_string(&w, key, msg);
	} else {
		json_kv_bool(&w, key, true);
	}
	json_end_object(&w);
	if (json_finish(&w) < 0)
		return -ENOMEM;
	return client_queue(cl, b.s, b.len);
}

static int handle_status(struct client *cl)
{
	struct control *ctl = cl->ctl;
	_cleanup_(strbuf_done) struct strbuf j = {};
	_cleanup_(jv_freep) struct jv *v = NULL;
	int r;

	if (!ctl->ops || !ctl->ops->status)
		return reply_error(cl, "status not available", NULL);
	r = ctl->ops->status(ctl->userdata, &j);
	if (r < 0)
		return reply_error(cl, strerror(-r), NULL);
	/* Never forward something that would break the framing or the client's parser. */
	if (j.oom || !j.s || jv_parse(j.s, j.len, &v) < 0 || v->type != JV_OBJECT)
		return reply_error(cl, "daemon produced invalid status JSON", NULL);
	for (size_t i = 0; i < j.len; i++)
		if (j.s[i] == '\n' || j.s[i] == '\r')
			j.s[i] = ' '; /* only possible as whitespace between tokens in valid JSON */
	return reply_ok(cl, "status", j.s, NULL);
}

static int handle_reload(struct client *cl)
{
	struct control *ctl = cl->ctl;
	_cleanup_(strbuf_done) struct strbuf m = {};
	int r;

	if (!ctl->ops || !ctl->ops->reload)
		return reply_error(cl, "reload not available", NULL);
	r = ctl->ops->reload(ctl->userdata, &m);
	if (r < 0)
		return reply_error(cl, strerror(-r), m.s ? m.s : "");
	return reply_ok(cl, "message", NULL, m.s ? m.s : "reloaded");
}

static int handle_events(struct client *cl, const struct jv *req)
{
	struct control *ctl = cl->ctl;
	const struct jv *backlog = jv_get(req, "backlog"), *follow = jv_get(req, "follow");
	uint64_t n = 0;
	int r;

	if (backlog && (backlog->type != JV_NUMBER || safe_atou64(backlog->str, &n) < 0))
		return reply_error(cl, "\"backlog\" must be a non-negative integer", NULL);
	if (follow && follow->type != JV_BOOL)
		return reply_error(cl, "\"follow\" must be true or false", NULL);
	r = reply_ok(cl, "events", NULL, NULL);
	n = MIN(n, (uint64_t)ctl->backlog_n);
	for (unsigned i = 0; r >= 0 && i < n; i++) {
		unsigned k = (ctl->backlog_next + CONTROL_BACKLOG - n + i) % CONTROL_BACKLOG;

		r = strbuf_append(&cl->out, ctl->backlog[k], ctl->backlog_len[k]);
	}
	if (r < 0)
		return r;
	if (follow && !follow->boolean) {
		cl->closing = true;
		return client_queue(cl, CONTROL_NOTICE_END, strlen(CONTROL_NOTICE_END));
	}
	if (!cl->subscribed) {
		cl->subscribed = true;
		ctl->n_subscribers++;
	}
	return 0;
}

static int handle_request(struct client *cl, const char *line, size_t len)
{
	_cleanup_(jv_freep) struct jv *req = NULL;
	const char *cmd;

	if (jv_parse(line, len, &req) < 0 || req->type != JV_OBJECT)
		return reply_error(cl, "request is not a JSON object", NULL);
	cmd = jv_get_str(req, "cmd");
	if (!cmd)
		return reply_error(cl, "request has no \"cmd\"", NULL);
	log_debug("control: request '%s' on fd %d", cmd, cl->fd);
	if (streq(cmd, "status"))
		return handle_status(cl);
	if (streq(cmd, "reload"))
		return handle_reload(cl);
	if (streq(cmd, "events"))
		return handle_events(cl, req);
	return reply_error(cl, "unknown command", cmd);
}

/* Handles every complete line in cl->in; keeps the partial tail. */
static int client_process_input(struct client *cl)
{
	size_t start = 0;
	int r;

	if (cl->in.len == 0)
		return 0;
	for (;;) {
		char *nl = memchr(cl->in.s + start, '\n', cl->in.len - start);
		size_t n;

		if (!nl)
			break;
		n = nl - (cl->in.s + start);
		if (n > CONTROL_LINE_MAX) {
			cl->closing = true;
			return reply_error(cl, "request line too long", NULL);
		}
		if (n > 0) {
			r = handle_request(cl, cl->in.s + start, n);
			if (r < 0)
				return r;
		}
		start += n + 1;
	}
	if (cl->in.len - start > CONTROL_LINE_MAX) {
		cl->closing = true;
		return reply_error(cl, "request line too long", NULL);
	}
	memmove(cl->in.s, cl->in.s + start, cl->in.len - start);
	cl->in.len -= start;
	cl->in.s[cl->in.len] = 0;
	return 0;
}

static int client_read(struct client *cl)
{
	char buf[4096];

	for (int i = 0; i < READ_BATCH && !cl->eof && !cl->closing; i++) {
		ssize_t n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return -errno;
		if (n == 0) {
			cl->eof = true;
			/* a last request without a newline still counts */
			if (cl->in.len > 0 && strbuf_putc(&cl->in, '\n') < 0)
				return -ENOMEM;
		} else if (strbuf_append(&cl->in, buf, n) < 0) {
			return -ENOMEM;
		}
		if (client_process_input(cl) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int client_io(struct event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *cl = userdata;
	int r;

	if (revents & EPOLLIN) {
		r = client_read(cl);
		if (r < 0) {
			log_debug_errno(r, "control: dropping client: %m");
			client_free(cl);
			return 0;
		}
	}
	if (revents & (EPOLLERR | EPOLLHUP)) {
		client_free(cl);
		return 0;
	}
	if (client_flush(cl) < 0)
		return 0; /* freed */
	/* Nothing left to do for a client that hung up its side and does not stream. */
	if (cl->eof && !cl->subscribed && cl->out.len == 0)
		client_free(cl);
	return 0;
}

static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

/* Best effort, the socket is fresh and empty: the line fits in its buffer. */
static void refuse(struct control *ctl, int fd, const char *why)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	struct json_writer w;

	ctl->refused++;
	json_init(&w, &b);
	json_begin_object(&w);
	json_kv_bool(&w, "ok", false);
	json_kv_string(&w, "error", why);
	json_end_object(&w);
	if (json_finish(&w) >= 0 && strbuf_putc(&b, '\n') >= 0)
		(void)send(fd, b.s, b.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	log_debug("control: refused a client: %s", why);
	safe_close(fd);
}

static int client_add(struct control *ctl, int fd)
{
	struct client *cl;
	int r;

	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		safe_close(fd);
		return -ENOMEM;
	}
	*cl = (struct client){ .ctl = ctl, .fd = fd, .events = EPOLLIN };
	r = event_loop_add_io(ctl->loop, fd, EPOLLIN, client_io, cl, &cl->src);
	if (r < 0) {
		safe_close(fd);
		free(cl);
		return r;
	}
	cl->next = ctl->clients;
	if (cl->next)
		cl->next->prev = cl;
	ctl->clients = cl;
	ctl->n_clients++;
	return 0;
}

static int control_accept(struct event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct control *ctl = userdata;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return 0;
			return -errno; /* logged by the loop; e.g. EMFILE */
		}
		if (!peer_allowed(cfd))
			refuse(ctl, cfd, "permission denied: the control socket is for root only");
		else if (ctl->n_clients >= CONTROL_MAX_CLIENTS)
			refuse(ctl, cfd, "too many clients");
		else
			(void)client_add(ctl, cfd);
	}
	return 0;
}

/* ---- server: socket ---- */

/* -EADDRINUSE if something answers on path; 0 if it is free (a stale file was removed). */
static int claim_path(const char *path)
{
	struct sockaddr_un sa;
	socklen_t salen;
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	int r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	r = sockaddr_un_set(&sa, path, &salen);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, salen) == 0)
		return -EADDRINUSE;
	return RET_NERRNO(unlink(path)) < 0 && errno != ENOENT ? -errno : 0;
}

static int make_parent_dir(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	const char *dir;

	if (!copy)
		return -ENOMEM;
	dir = dirname(copy);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int control_bind(struct control *ctl)
{
	struct sockaddr_un sa;
	socklen_t salen;
	struct stat st;
	int r;

	r = sockaddr_un_set(&sa, ctl->path, &salen);
	if (r < 0)
		return r;
	r = make_parent_dir(ctl->path);
	if (r < 0)
		return r;
	r = claim_path(ctl->path);
	if (r < 0)
		return r;
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0)
		return -errno;
	/* The mode of the socket file comes from the socket inode and the umask at bind time. */
	if (fchmod(ctl->fd, 0600) < 0)
		return -errno;
	if (bind(ctl->fd, (struct sockaddr *)&sa, salen) < 0)
		return -errno;
	if (chmod(ctl->path, 0600) < 0 || stat(ctl->path, &st) < 0)
		return -errno;
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	if (listen(ctl->fd, CONTROL_MAX_CLIENTS) < 0)
		return -errno;
	return 0;
}

int control_new(struct event_loop *l, const char *path, const struct control_ops *ops,
		void *userdata, struct control **ret)
{
	struct control *ctl;
	int r;

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	*ctl = (struct control){ .loop = l, .fd = -EBADF, .ops = ops, .userdata = userdata };
	ctl->path = strdup(path ?: control_default_path());
	if (!ctl->path) {
		control_free(ctl);
		return -ENOMEM;
	}
	r = control_bind(ctl);
	if (r >= 0)
		r = event_loop_add_io(l, ctl->fd, EPOLLIN, control_accept, ctl, &ctl->src);
	if (r < 0) {
		control_free(ctl);
		return r;
	}
	*ret = ctl;
	return 0;
}

struct control *control_free(struct control *ctl)
{
	struct stat st;

	if (!ctl)
		return NULL;
	while (ctl->clients)
		client_free(ctl->clients);
	for (unsigned i = 0; i < CONTROL_BACKLOG; i++)
		free(ctl->backlog[i]);
	event_source_free(ctl->src);
	if (ctl->fd >= 0 && ctl->ino != 0 && stat(ctl->path, &st) == 0 && st.st_dev == ctl->dev &&
	    st.st_ino == ctl->ino)
		(void)unlink(ctl->path); /* only our own socket, not a successor's */
	safe_close(ctl->fd);
	free(ctl->path);
	free(ctl);
	return NULL;
}

static void backlog_add(struct control *ctl, const char *line, size_t len)
{
	unsigned k = ctl->backlog_next;
	char *copy;

	if (len > CONTROL_BACKLOG_LINE_MAX)
		return;
	copy = malloc(len + 1);
	if (!copy)
		return;
	memcpy(copy, line, len);
	copy[len] = '\n';
	free(ctl->backlog[k]);
	ctl->backlog[k] = copy;
	ctl->backlog_len[k] = len + 1;
	ctl->backlog_next = (k + 1) % CONTROL_BACKLOG;
	ctl->backlog_n = MIN(ctl->backlog_n + 1, CONTROL_BACKLOG);
}

void control_publish(struct control *ctl, const char *json_line, size_t len)
{
	struct client *next;

	if (!ctl)
		return;
	while (len > 0 && json_line[len - 1] == '\n')
		len--;
	backlog_add(ctl, json_line, len);
	if (ctl->n_subscribers == 0)
		return;
	for (struct client *cl = ctl->clients; cl; cl = next) {
		next = cl->next;
		if (!cl->subscribed || cl->closing)
			continue;
		/* Once behind, stay behind until the queue drained, so the notice is accurate. */
		if (cl->dropped > 0 || cl->out.len + len + 1 > CONTROL_CLIENT_BUF_MAX ||
		    client_queue(cl, json_line, len) < 0) {
			cl->dropped++;
			ctl->dropped++;
			if (cl->dropped >= CONTROL_DROP_LIMIT) {
				log_debug(
					"control: disconnecting a subscriber that lost %u records",
					CONTROL_DROP_LIMIT);
				ctl->kicked++;
				client_free(cl);
			}
			continue;
		}
		if (!(cl->events & EPOLLOUT))
			(void)client_flush(cl); /* may free cl */
	}
}

bool control_has_subscribers(const struct control *ctl)
{
	return ctl && ctl->n_subscribers > 0;
}

void control_get_stats(const struct control *ctl, struct control_stats *ret)
{
	*ret = (struct control_stats){
		.clients = ctl->n_clients,
		.subscribers = ctl->n_subscribers,
		.dropped = ctl->dropped,
		.kicked = ctl->kicked,
		.refused = ctl->refused,
	};
}

/* ---- client ---- */

int control_client_connect(const char *path, struct control_client *ret)
{
	struct sockaddr_un sa;
	socklen_t salen;
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = sockaddr_un_set(&sa, path ?: control_default_path(), &salen);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0)
		return -errno;
	*ret = (struct control_client){ .fd = TAKE_FD(fd) };
	return 0;
}

void control_client_done(struct control_client *c)
{
	c->fd = safe_close(c->fd);
	strbuf_done(&c->in);
	c->off = 0;
}

int control_client_send(struct control_client *c, const char *request_json)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	size_t done = 0;
	int r;

	r = strbuf_puts(&b, request_json);
	if (r < 0 || (r = strbuf_putc(&b, '\n')) < 0)
		return r;
	while (done < b.len) {
		ssize_t n = send(c->fd, b.s + done, b.len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += n;
	}
	return 0;
}

int control_client_read_line(struct control_client *c, int timeout_ms, const char **ret_line,
			     size_t *ret_len)
{
	char buf[65536];

	/* drop the line returned last time */
	if (c->off > 0) {
		memmove(c->in.s, c->in.s + c->off, c->in.len - c->off);
		c->in.len -= c->off;
		c->in.s[c->in.len] = 0;
		c->off = 0;
	}
	for (;;) {
		char *nl = c->in.len ? memchr(c->in.s, '\n', c->in.len) : NULL;
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t n;
		int r;

		if (nl) {
			*nl = 0;
			*ret_line = c->in.s;
			*ret_len = nl - c->in.s;
			c->off = *ret_len + 1;
			return 1;
		}
		if (c->in.len > CONTROL_CLIENT_BUF_MAX)
			return -EBADMSG;
		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (strbuf_append(&c->in, buf, n) < 0)
			return -ENOMEM;
	}
}

int control_cli_call(struct control_client *c, const char *request_json, int timeout_ms,
		     struct jv **ret_answer)
{
	const char *path = control_default_path(), *line;
	_cleanup_(jv_freep) struct jv *v = NULL;
	size_t len;
	int r;

	r = control_client_connect(path, c);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		log_error_errno(r, "No daemon is running (nothing listens on %s): %m", path);
		return -AEGIS_EXIT(EXIT_NODAEMON);
	}
	if (r < 0)
		return log_error_errno(r, "Failed to connect to %s: %m", path);
	r = control_client_send(c, request_json);
	/* A refused client may find the socket closed already: its reason is still readable. */
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		return log_error_errno(r, "Failed to send the request to %s: %m", path);
	r = control_client_read_line(c, timeout_ms, &line, &len);
	if (r == 0) {
		log_error("The daemon closed the connection without an answer");
		return -AEGIS_EXIT(EXIT_NODAEMON);
	}
	if (r < 0)
		return log_error_errno(r, "Failed to read the answer from %s: %m", path);
	r = jv_parse(line, len, &v);
	if (r < 0 || v->type != JV_OBJECT)
		return log_error_errno(-EBADMSG, "The daemon sent an invalid answer: %.200s", line);
	*ret_answer = TAKE_PTR(v);
	return 0;
}
