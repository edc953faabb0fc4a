// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * notify action: a journald alert entry, plus an HTTP POST of a
 * Slack-compatible payload to every configured webhook:
 *
 *   {"text": "<readable line>", "aegis": {<the record, record_to_json()>}}
 *
 * libcurl's multi interface runs on the daemon's loop: CURLMOPT_SOCKETFUNCTION
 * maps curl's sockets to io sources, CURLMOPT_TIMERFUNCTION to one timer.
 * Each POST is a job: at most NOTIFY_MAX_ACTIVE in flight, the rest wait in a
 * FIFO; a failed attempt (transport error or non-2xx) is retried after
 * backoff * 2^(attempt-1) ms, up to notify.retries times. Jobs (waiting, in
 * flight, backing off) never exceed notify.queue_max: beyond that a POST is
 * dropped, counted and logged (rate-limited). Nothing here blocks: DNS goes
 * through libcurl's threaded resolver.
 *
 * libcurl is not linked: notifier_prepare() loads it (curl-util.h) and
 * creates the multi handle the first time a configuration with webhooks is
 * applied; until then n->multi is NULL and no curl function is called.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include "actions-internal.h"
#include "curl-util.h"
#include "event-loop.h"
#include "json.h"
#include "log.h"
#include "macro.h"

#define NOTIFY_MAX_ACTIVE 16

struct notify_job {
	struct notify_job *next;
	struct notifier *n;
	char *url;
	char *body;
	unsigned attempt; /* attempts made */
	uint64_t retries, timeout_ms, backoff_ms;
	uint64_t due; /* CLOCK_MONOTONIC usec when backing off */
	CURL *easy;
	struct curl_slist *headers;
	char error[CURL_ERROR_SIZE];
};

struct notifier {
	struct actions *a;
	CURLM *multi;
	struct event_source *curl_timer; /* curl's timeout */
	struct event_source *retry_timer; /* earliest backoff expiry */
	struct notify_job *wait_head, *wait_tail; /* FIFO, not started */
	struct notify_job *active; /* in curl */
	struct notify_job *backoff; /* unsorted; retry_timer armed at the earliest */
	struct curl_sock *socks; /* sockets watched for curl */
	size_t n_active, n_jobs;
	struct ratelimit drop_rl, fail_rl;
};

static struct notify_job *job_free(struct notify_job *j)
{
	if (!j)
		return NULL;
	if (j->easy) {
		sym_curl_multi_remove_handle(j->n->multi, j->easy);
		sym_curl_easy_cleanup(j->easy);
	}
	if (j->headers)
		sym_curl_slist_free_all(j->headers);
	free(j->url);
	free(j->body);
	j->n->n_jobs--;
	j->n->a->stats.notify_queued = j->n->n_jobs;
	free(j);
	return NULL;
}

static void list_remove(struct notify_job **head, struct notify_job *j)
{
	for (struct notify_job **p = head; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	j->next = NULL;
}

static void wait_push(struct notifier *n, struct notify_job *j)
{
	j->next = NULL;
	if (n->wait_tail)
		n->wait_tail->next = j;
	else
		n->wait_head = j;
	n->wait_tail = j;
}

static struct notify_job *wait_pop(struct notifier *n)
{
	struct notify_job *j = n->wait_head;

	if (j) {
		n->wait_head = j->next;
		if (!n->wait_head)
			n->wait_tail = NULL;
		j->next = NULL;
	}
	return j;
}

/*
 * A socket curl wants watched. epoll watches our own dup of it: curl may
 * close its fd before it says CURL_POLL_REMOVE (sockets closed without a
 * connection), and an epoll registration outlives close() while any copy of
 * the file exists (e.g. in a hook script between clone and exec), which would
 * deliver events for a freed source. With the dup, EPOLL_CTL_DEL always works.
 */
struct curl_sock {
	struct curl_sock *next;
	struct notifier *n;
	curl_socket_t fd; /* curl's */
	int dup_fd; /* ours, registered */
	struct event_source *src;
};

static void sock_drop(struct notifier *n, struct curl_sock *cs)
{
	for (struct curl_sock **p = &n->socks; *p; p = &(*p)->next)
		if (*p == cs) {
			*p = cs->next;
			break;
		}
	event_source_free(cs->src);
	safe_close(cs->dup_fd);
	free(cs);
}

static int on_curl_io(struct event_source *s, int fd, uint32_t revents, void *userdata);

static int sock_add(struct notifier *n, curl_socket_t fd, uint32_t events)
{
	struct curl_sock *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return -1;
	*cs = (struct curl_sock){ .n = n, .fd = fd, .dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3) };
	if (cs->dup_fd < 0 ||
	    event_loop_add_io(n->a->loop, cs->dup_fd, events, on_curl_io, cs, &cs->src) < 0) {
		safe_close(cs->dup_fd);
		free(cs);
		return -1;
	}
	cs->next = n->socks;
	n->socks = cs;
	sym_curl_multi_assign(n->multi, fd, cs);
	return 0;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct notifier *n = userp;
	struct curl_sock *cs = socketp;
	uint32_t events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (cs)
			sock_drop(n, cs);
		sym_curl_multi_assign(n->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (cs && !same_file(fd, cs->dup_fd)) {
		/* curl closed the old socket unannounced and got the same number again */
		sock_drop(n, cs);
		cs = NULL;
	}
	if (cs)
		return event_source_set_io_events(cs->src, events) < 0 ? -1 : 0;
	return sock_add(n, fd, events);
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct notifier *n = userp;
	uint64_t t = 0;

	/* Never call curl_multi_socket_action() from here: fire the timer instead. */
	if (timeout_ms >= 0)
		t = now_usec(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000;
	return event_source_set_time(n->curl_timer, t) < 0 ? -1 : 0;
}

static void start_waiting(struct notifier *n);
static void arm_retry_timer(struct notifier *n);

static bool job_failed_for_good(struct notifier *n, struct notify_job *j, const char *why)
{
	uint64_t skipped;

	if (j->attempt <= j->retries) {
		uint64_t delay = j->backoff_ms << MIN(j->attempt - 1, 20u);

		log_debug("Webhook POST to %s failed (%s), retry %u in %" PRIu64 " ms.", j->url,
			  why, j->attempt, delay);
		j->due = now_usec(CLOCK_MONOTONIC) + delay * 1000;
		j->next = n->backoff;
		n->backoff = j;
		arm_retry_timer(n);
		return false;
	}
	n->a->stats.notify_failed++;
	if (ratelimit_ok(&n->fail_rl, &skipped))
		log_warning("Webhook POST to %s failed after %u attempts: %s%s", j->url, j->attempt,
			    why, skipped ? " (earlier failures not logged)" : "");
	return true;
}

static void job_done(struct notifier *n, struct notify_job *j, CURLcode res)
{
	long code = 0;
	char why[CURL_ERROR_SIZE + 64];

	list_remove(&n->active, j);
	n->n_active--;
	sym_curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
	sym_curl_multi_remove_handle(n->multi, j->easy);
	sym_curl_easy_cleanup(j->easy);
	j->easy = NULL;
	if (res == CURLE_OK && code >= 200 && code < 300) {
		n->a->stats.notify_sent++;
		job_free(j);
		return;
	}
	if (res != CURLE_OK)
		snprintf(why, sizeof(why), "%s",
			 j->error[0] ? j->error : sym_curl_easy_strerror(res));
	else
		snprintf(why, sizeof(why), "HTTP status %ld", code);
	if (job_failed_for_good(n, j, why))
		job_free(j);
}

static void check_done(struct notifier *n)
{
	CURLMsg *msg;
	int left;

	while ((msg = sym_curl_multi_info_read(n->multi, &left))) {
		struct notify_job *j = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		sym_curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
		if (j)
			job_done(n, j, msg->data.result);
	}
	start_waiting(n);
}

static int on_curl_io(struct event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct curl_sock *cs = userdata;
	struct notifier *n = cs->n;
	int flags = 0, running;

	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	/* cs may be dropped inside: do not touch it afterwards */
	sym_curl_multi_socket_action(n->multi, cs->fd, flags, &running);
	check_done(n);
	return 0;
}

static int on_curl_timer(struct event_source *s, uint64_t now, void *userdata)
{
	struct notifier *n = userdata;
	int running;

	sym_curl_multi_socket_action(n->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(n);
	return 0;
}

/* The answer is not needed (curl's default would write it to our stdout). */
static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	return size * nmemb;
}

static int job_start(struct notifier *n, struct notify_job *j)
{
	CURL *e = sym_curl_easy_init();

	if (!e)
		return -ENOMEM;
	j->error[0] = '\0';
	sym_curl_easy_setopt(e, CURLOPT_URL, j->url);
	sym_curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
	sym_curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(j->body));
	sym_curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
	sym_curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)j->timeout_ms);
	sym_curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)j->timeout_ms);
	sym_curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	sym_curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	sym_curl_easy_setopt(e, CURLOPT_USERAGENT, "aegis");
	sym_curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->error);
	sym_curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
	sym_curl_easy_setopt(e, CURLOPT_PRIVATE, j);
	if (sym_curl_multi_add_handle(n->multi, e) != CURLM_OK) {
		sym_curl_easy_cleanup(e);
		return -EIO;
	}
	j->easy = e;
	j->attempt++;
	j->next = n->active;
	n->active = j;
	n->n_active++;
	return 0;
}

static void start_waiting(struct notifier *n)
{
	while (n->n_active < NOTIFY_MAX_ACTIVE && n->wait_head) {
		struct notify_job *j = wait_pop(n);

		if (job_start(n, j) < 0) {
			n->a->stats.notify_failed++;
			job_free(j);
		}
	}
}

static void arm_retry_timer(struct notifier *n)
{
	uint64_t t = 0;

	for (struct notify_job *j = n->backoff; j; j = j->next)
		if (!t || j->due < t)
			t = j->due;
	(void)event_source_set_time(n->retry_timer, t);
}

static int on_retry_timer(struct event_source *s, uint64_t now, void *userdata)
{
	struct notifier *n = userdata;

	for (struct notify_job **p = &n->backoff; *p;) {
		struct notify_job *j = *p;

		if (j->due <= now) {
			*p = j->next;
			wait_push(n, j);
		} else {
			p = &j->next;
		}
	}
	arm_retry_timer(n);
	start_waiting(n);
	return 0;
}

int notifier_new(struct actions *a, struct notifier **ret)
{
	struct notifier *n;
	int r;

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->a = a;
	n->drop_rl = RATELIMIT_INIT(10 * 1000000ULL, 3);
	n->fail_rl = RATELIMIT_INIT(10 * 1000000ULL, 5);
	r = event_loop_add_timer(a->loop, 0, on_curl_timer, n, &n->curl_timer);
	if (r >= 0)
		r = event_loop_add_timer(a->loop, 0, on_retry_timer, n, &n->retry_timer);
	if (r < 0) {
		notifier_free(n);
		return r;
	}
	*ret = n;
	return 0;
}

int notifier_prepare(struct notifier *n, const struct config *c)
{
	const char *why = NULL;
	int r;

	if (n->multi || !c || !c->notify.webhooks || !c->notify.webhooks[0])
		return 0;
	r = curl_util_load(&why);
	if (r < 0)
		return log_error_errno(r, "notify.webhooks is set, but libcurl cannot be used: %s",
				       why);
	n->multi = sym_curl_multi_init();
	if (!n->multi)
		return log_error_errno(-ENOMEM, "Failed to set up libcurl for notify.webhooks: %m");
	sym_curl_multi_setopt(n->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	sym_curl_multi_setopt(n->multi, CURLMOPT_SOCKETDATA, n);
	sym_curl_multi_setopt(n->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	sym_curl_multi_setopt(n->multi, CURLMOPT_TIMERDATA, n);
	log_debug("libcurl loaded for notify.webhooks");
	return 0;
}

/* Aborts every transfer; pending notifications are lost (counted as failed). */
struct notifier *notifier_free(struct notifier *n)
{
	struct notify_job *lists[3];

	if (!n)
		return NULL;
	lists[0] = n->active, lists[1] = n->wait_head, lists[2] = n->backoff;
	n->active = n->wait_head = n->wait_tail = n->backoff = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		while (lists[i]) {
			struct notify_job *j = lists[i];

			lists[i] = j->next;
			n->a->stats.notify_failed++;
			job_free(j);
		}
	/* sym_curl_multi_cleanup() may still call the socket callback: keep n usable until then. */
	if (n->multi)
		sym_curl_multi_cleanup(n->multi);
	while (n->socks)
		sock_drop(n, n->socks);
	event_source_free(n->curl_timer);
	event_source_free(n->retry_timer);
	free(n);
	return NULL;
}

static int build_payload(const struct record *r, const char *json, char **ret)
{
	struct strbuf b, text;
	struct json_writer w;
	int k;

	strbuf_init(&b);
	strbuf_init(&text);
	strbuf_puts(&text, "aegis on ");
	{
		char host[256] = "";

		(void)gethostname(host, sizeof(host) - 1);
		strbuf_puts(&text, host);
	}
	strbuf_puts(&text, ": ");
	k = action_format_message(r, record_kind_to_string(record_kind_of(r)), &text);
	json_init(&w, &b);
	json_begin_object(&w);
	json_kv_string(&w, "text", text.s ?: "");
	json_key(&w, "aegis");
	json_raw(&w, json, strlen(json));
	json_end_object(&w);
	k = k ?: json_finish(&w);
	strbuf_done(&text);
	if (k < 0 || b.oom) {
		strbuf_done(&b);
		return k < 0 ? k : -ENOMEM;
	}
	*ret = strbuf_steal(&b);
	return 0;
}

static int submit_one(struct notifier *n, const char *url, const char *body)
{
	const struct config_notify *c = &n->a->config->notify;
	struct notify_job *j;
	uint64_t skipped;

	if (n->n_jobs >= c->queue_max) {
		n->a->stats.notify_dropped++;
		if (ratelimit_ok(&n->drop_rl, &skipped))
			log_warning("Webhook queue full (%zu pending), dropping notification to %s "
				    "(%" PRIu64 " dropped in total).",
				    n->n_jobs, url, n->a->stats.notify_dropped);
		return -ENOBUFS;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->n = n;
	n->n_jobs++;
	n->a->stats.notify_queued = n->n_jobs;
	j->url = strdup(url);
	j->body = strdup(body);
	j->headers = sym_curl_slist_append(NULL, "Content-Type: application/json");
	if (!j->url || !j->body || !j->headers) {
		job_free(j);
		return -ENOMEM;
	}
	j->retries = c->retries;
	j->timeout_ms = c->timeout ?: 5000;
	j->backoff_ms = c->backoff;
	wait_push(n, j);
	return 0;
}

static void journal_alert(const struct record *r, const char *json)
{
	struct strbuf b;

	strbuf_init(&b);
	action_format_message(r, "ALERT", &b);
	(void)action_journal_send(KIND_NOTIFY, LOG_CRIT, b.s ?: "ALERT", r, json, NULL);
	strbuf_done(&b);
}

int notifier_submit(struct notifier *n, const struct record *r, const char *json)
{
	_cleanup_free_ char *body = NULL;
	int ret = 0, k;

	journal_alert(r, json);
	if (!n->a->config || !n->a->config->notify.webhooks)
		return 0;
	if (!n->multi) /* cannot happen: actions_set_config() prepared this config */
		return -ELIBACC;
	k = build_payload(r, json, &body);
	if (k < 0)
		return k;
	STRV_FOREACH(u, n->a->config->notify.webhooks) {
		k = submit_one(n, *u, body);
		ret = ret ?: MIN(k, 0);
	}
	start_waiting(n);
	return ret;
}
