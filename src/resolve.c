// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hostname resolution on a worker thread (see resolve.h). The loop side and
 * the worker share a small refcounted state (queue of names in, list of
 * results out, eventfd); resolve_free() drops its reference and never
 * waits for a getaddrinfo() in progress: the worker frees the state when it
 * exits.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

#include "event-loop.h"
#include "log.h"
#include "macro.h"
#include "resolve.h"

/* Addresses kept per name (a round-robin name with more is cut). */
#define RESOLVE_ADDRS_MAX 64

struct result {
	char *host;
	struct cidr *addrs;
	size_t n;
	int gai_error;
	struct result *next;
};

struct shared {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;
	bool stop;
	char **queue; /* FIFO of owned names */
	size_t n_queue;
	struct result *results, **results_tail;
	int efd;
};

struct entry {
	char *host;
	struct cidr *addrs;
	size_t n;
	bool answered;
};

struct resolve {
	struct shared *sh;
	struct event_source *io, *timer;
	uint64_t refresh;
	resolve_handler_t cb;
	void *userdata;
	struct entry *hosts;
	size_t n_hosts;
};

static void result_free(struct result *r)
{
	if (!r)
		return;
	free(r->host);
	free(r->addrs);
	free(r);
}

static void shared_unref_locked(struct shared *sh)
{
	bool last = --sh->refs == 0;

	pthread_mutex_unlock(&sh->lock);
	if (!last)
		return;
	for (size_t i = 0; i < sh->n_queue; i++)
		free(sh->queue[i]);
	free(sh->queue);
	while (sh->results) {
		struct result *r = sh->results;

		sh->results = r->next;
		result_free(r);
	}
	safe_close(sh->efd);
	pthread_cond_destroy(&sh->cond);
	pthread_mutex_destroy(&sh->lock);
	free(sh);
}

static struct result *lookup(const char *host)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	struct result *res;

	res = calloc(1, sizeof(*res));
	if (!res)
		return NULL;
	res->host = strdup(host);
	res->addrs = calloc(RESOLVE_ADDRS_MAX, sizeof(*res->addrs));
	if (!res->host || !res->addrs) {
		result_free(res);
		return NULL;
	}
	res->gai_error = getaddrinfo(host, NULL, &hints, &ai);
	for (struct addrinfo *i = ai; i && res->n < RESOLVE_ADDRS_MAX; i = i->ai_next) {
		struct cidr c = { .family = (uint8_t)i->ai_family };
		bool dup = false;

		if (i->ai_family == AF_INET) {
			c.prefix = 32;
			memcpy(c.addr, &((struct sockaddr_in *)i->ai_addr)->sin_addr, 4);
		} else if (i->ai_family == AF_INET6) {
			c.prefix = 128;
			memcpy(c.addr, &((struct sockaddr_in6 *)i->ai_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		for (size_t j = 0; j < res->n && !dup; j++)
			dup = memcmp(&res->addrs[j], &c, sizeof(c)) == 0;
		if (!dup)
			res->addrs[res->n++] = c;
	}
	if (ai)
		freeaddrinfo(ai);
	return res;
}

static void *worker(void *arg)
{
	struct shared *sh = arg;

	pthread_mutex_lock(&sh->lock);
	for (;;) {
		struct result *res;
		char *host;

		while (!sh->stop && sh->n_queue == 0)
			pthread_cond_wait(&sh->cond, &sh->lock);
		if (sh->stop)
			break;
		host = sh->queue[0];
		memmove(sh->queue, sh->queue + 1, --sh->n_queue * sizeof(*sh->queue));
		pthread_mutex_unlock(&sh->lock);

		res = lookup(host);
		free(host);

		pthread_mutex_lock(&sh->lock);
		if (res) {
			*sh->results_tail = res;
			sh->results_tail = &res->next;
			(void)eventfd_write(sh->efd, 1);
		}
	}
	shared_unref_locked(sh);
	return NULL;
}

/* Queues host unless already queued. */
static int enqueue(struct resolve *r, const char *host)
{
	struct shared *sh = r->sh;
	char **q, *copy;
	int ret = 0;

	pthread_mutex_lock(&sh->lock);
	for (size_t i = 0; i < sh->n_queue; i++)
		if (streq(sh->queue[i], host))
			goto out;
	copy = strdup(host);
	q = copy ? realloc(sh->queue, (sh->n_queue + 1) * sizeof(*q)) : NULL;
	if (!q) {
		free(copy);
		ret = -ENOMEM;
		goto out;
	}
	q[sh->n_queue++] = copy;
	sh->queue = q;
	pthread_cond_signal(&sh->cond);
out:
	pthread_mutex_unlock(&sh->lock);
	return ret;
}

static struct entry *find_entry(struct resolve *r, const char *host)
{
	for (size_t i = 0; i < r->n_hosts; i++)
		if (streq(r->hosts[i].host, host))
			return &r->hosts[i];
	return NULL;
}

static void apply_result(struct resolve *r, struct result *res)
{
	struct entry *e = find_entry(r, res->host);

	if (!e)
		return; /* no longer wanted */
	e->answered = true;
	if (res->gai_error == 0) {
		free(e->addrs);
		e->addrs = TAKE_PTR(res->addrs);
		e->n = res->n;
		r->cb(e->host, e->addrs, e->n, NULL, r->userdata);
	} else {
		r->cb(e->host, e->addrs, e->n, gai_strerror(res->gai_error), r->userdata);
	}
}

static int on_results(struct event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct resolve *r = userdata;
	struct result *list;
	eventfd_t v;

	(void)eventfd_read(fd, &v);
	pthread_mutex_lock(&r->sh->lock);
	list = r->sh->results;
	r->sh->results = NULL;
	r->sh->results_tail = &r->sh->results;
	pthread_mutex_unlock(&r->sh->lock);

	while (list) {
		struct result *res = list;

		list = res->next;
		apply_result(r, res);
		result_free(res);
	}
	return 0;
}

static int on_refresh(struct event_source *s, uint64_t now, void *userdata)
{
	struct resolve *r = userdata;

	for (size_t i = 0; i < r->n_hosts; i++)
		(void)enqueue(r, r->hosts[i].host);
	return event_source_set_time(s, now + r->refresh);
}

static int shared_new(struct shared **ret)
{
	struct shared *sh = calloc(1, sizeof(*sh));

	if (!sh)
		return -ENOMEM;
	sh->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sh->efd < 0) {
		free(sh);
		return -errno;
	}
	pthread_mutex_init(&sh->lock, NULL);
	pthread_cond_init(&sh->cond, NULL);
	sh->results_tail = &sh->results;
	sh->refs = 1;
	*ret = sh;
	return 0;
}

static int start_worker(struct shared *sh)
{
	pthread_attr_t attr;
	pthread_t t;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sh->refs++;
	r = -pthread_create(&t, &attr, worker, sh);
	pthread_attr_destroy(&attr);
	if (r < 0)
		sh->refs--;
	return r;
}

int resolve_new(struct event_loop *l, uint64_t refresh_usec, resolve_handler_t cb, void *userdata,
		struct resolve **ret)
{
	struct resolve *r;
	int k;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cb = cb;
	r->userdata = userdata;
	r->refresh = refresh_usec ? refresh_usec : 300ULL * 1000000;
	k = shared_new(&r->sh);
	if (k >= 0)
		k = event_loop_add_io(l, r->sh->efd, EPOLLIN, on_results, r, &r->io);
	if (k >= 0)
		k = event_loop_add_timer(l, now_usec(CLOCK_MONOTONIC) + r->refresh, on_refresh, r,
					 &r->timer);
	if (k >= 0)
		k = start_worker(r->sh);
	if (k < 0) {
		resolve_free(r);
		return k;
	}
	*ret = r;
	return 0;
}

static void entries_free(struct entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].host);
		free(v[i].addrs);
	}
	free(v);
}

struct resolve *resolve_free(struct resolve *r)
{
	if (!r)
		return NULL;
	event_source_free(r->io);
	event_source_free(r->timer);
	if (r->sh) {
		pthread_mutex_lock(&r->sh->lock);
		r->sh->stop = true;
		pthread_cond_broadcast(&r->sh->cond);
		shared_unref_locked(r->sh);
	}
	entries_free(r->hosts, r->n_hosts);
	free(r);
	return NULL;
}

int resolve_set_hosts(struct resolve *r, char *const *hosts)
{
	size_t n = strv_length(hosts), k = 0;
	struct entry *v;

	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct entry *old = find_entry(r, hosts[i]);

		if (old) {
			v[k++] = *old;
			*old = (struct entry){ .host = NULL };
			continue;
		}
		v[k].host = strdup(hosts[i]);
		if (!v[k].host) {
			entries_free(v, k);
			return -ENOMEM;
		}
		k++;
	}
	/* Old entries that were moved have host == NULL; free the rest. */
	entries_free(r->hosts, r->n_hosts);
	r->hosts = v;
	r->n_hosts = k;
	for (size_t i = 0; i < k; i++) {
		if (v[i].answered)
			r->cb(v[i].host, v[i].addrs, v[i].n, NULL, r->userdata);
		else
			(void)enqueue(r, v[i].host);
	}
	return 0;
}

size_t resolve_pending(const struct resolve *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_hosts; i++)
		n += !r->hosts[i].answered;
	return n;
}
