// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include "event-loop.h"
#include "log.h"
#include "macro.h"

enum source_type {
	SOURCE_IO,
	SOURCE_TIMER,
	SOURCE_POST,
};

struct event_source {
	struct event_loop *loop;
	enum source_type type;
	int fd; /* io: caller's fd; timer: our timerfd */
	void *userdata;
	union {
		event_io_handler_t io;
		event_timer_handler_t timer;
		event_post_handler_t post;
	} h;
	bool dead; /* freed while the loop held a pointer to it */
	struct event_source *next_post, *next_dead;
};

struct event_loop {
	int epfd;
	bool exiting;
	int exit_code;
	int dispatching; /* >0 while handlers run: frees are deferred */
	struct event_source *posts;
	struct event_source *dead;
};

uint64_t now_usec(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

int event_loop_new(struct event_loop **ret)
{
	struct event_loop *l;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = -errno;

		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

static void source_release(struct event_source *s)
{
	if (s->type == SOURCE_TIMER)
		safe_close(s->fd);
	free(s);
}

static void loop_reap(struct event_loop *l)
{
	while (l->dead) {
		struct event_source *s = l->dead;

		l->dead = s->next_dead;
		source_release(s);
	}
}

struct event_loop *event_loop_free(struct event_loop *l)
{
	if (!l)
		return NULL;
	while (l->posts)
		event_source_free(l->posts);
	loop_reap(l);
	safe_close(l->epfd);
	free(l);
	return NULL;
}

static int loop_add(struct event_loop *l, enum source_type type, int fd, uint32_t events,
		    void *userdata, struct event_source **ret)
{
	struct epoll_event ev = { .events = events };
	struct event_source *s = NULL;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct event_source){ .loop = l, .type = type, .fd = fd, .userdata = userdata };
	ev.data.ptr = s;
	if (type != SOURCE_POST && epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;

		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int event_loop_add_io(struct event_loop *l, int fd, uint32_t events, event_io_handler_t h,
		      void *userdata, struct event_source **ret)
{
	struct event_source *s = NULL;
	int r;

	r = loop_add(l, SOURCE_IO, fd, events, userdata, &s);
	if (r < 0)
		return r;
	s->h.io = h;
	if (ret)
		*ret = s;
	return 0;
}

int event_source_set_io_events(struct event_source *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	return RET_NERRNO(epoll_ctl(s->loop->epfd, EPOLL_CTL_MOD, s->fd, &ev));
}

int event_loop_add_timer(struct event_loop *l, uint64_t usec, event_timer_handler_t h,
			 void *userdata, struct event_source **ret)
{
	struct event_source *s = NULL;
	int fd, r;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = loop_add(l, SOURCE_TIMER, fd, EPOLLIN, userdata, &s);
	if (r < 0) {
		safe_close(fd);
		return r;
	}
	s->h.timer = h;
	r = event_source_set_time(s, usec);
	if (r < 0) {
		event_source_free(s);
		return r;
	}
	if (ret)
		*ret = s;
	return 0;
}

int event_source_set_time(struct event_source *s, uint64_t usec)
{
	struct itimerspec its = {};

	if (usec) {
		/* An absolute 0 would disarm; anything due already fires at once. */
		its.it_value.tv_sec = usec / 1000000ULL;
		its.it_value.tv_nsec = (usec % 1000000ULL) * 1000;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	return RET_NERRNO(timerfd_settime(s->fd, TFD_TIMER_ABSTIME, &its, NULL));
}

int event_loop_add_post(struct event_loop *l, event_post_handler_t h, void *userdata,
			struct event_source **ret)
{
	struct event_source *s = NULL;
	int r;

	r = loop_add(l, SOURCE_POST, -EBADF, 0, userdata, &s);
	if (r < 0)
		return r;
	s->h.post = h;
	s->next_post = l->posts;
	l->posts = s;
	if (ret)
		*ret = s;
	return 0;
}

struct event_loop *event_source_get_loop(struct event_source *s)
{
	return s->loop;
}

struct event_source *event_source_free(struct event_source *s)
{
	struct event_loop *l;

	if (!s || s->dead)
		return NULL;
	l = s->loop;
	if (s->type == SOURCE_POST) {
		for (struct event_source **p = &l->posts; *p; p = &(*p)->next_post)
			if (*p == s) {
				*p = s->next_post;
				break;
			}
	} else {
		(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	}
	s->dead = true;
	/* Deferred release: an epoll batch may still hold a pointer to s. */
	s->next_dead = l->dead;
	l->dead = s;
	if (!l->dispatching)
		loop_reap(l);
	return NULL;
}

static void dispatch(struct event_source *s, uint32_t revents)
{
	int r = 0;

	if (s->dead)
		return;
	if (s->type == SOURCE_IO) {
		r = s->h.io(s, s->fd, revents, s->userdata);
	} else if (s->type == SOURCE_TIMER) {
		uint64_t expirations;

		if (read(s->fd, &expirations, sizeof(expirations)) < 0 && errno == EAGAIN)
			return;
		r = s->h.timer(s, now_usec(CLOCK_MONOTONIC), s->userdata);
	}
	if (r < 0)
		log_debug_errno(r, "Event handler failed: %m");
}

int event_loop_run_once(struct event_loop *l, int timeout_ms)
{
	struct epoll_event evs[32];
	int n;

	n = epoll_wait(l->epfd, evs, ARRAY_SIZE(evs), timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return -errno;
	}
	l->dispatching++;
	for (int i = 0; i < n; i++)
		dispatch(evs[i].data.ptr, evs[i].events);
	for (struct event_source *p = l->posts, *next; p; p = next) {
		next = p->next_post;
		if (!p->dead)
			(void)p->h.post(p, p->userdata);
	}
	l->dispatching--;
	loop_reap(l);
	return n;
}

int event_loop_run(struct event_loop *l)
{
	while (!l->exiting) {
		int r = event_loop_run_once(l, -1);

		if (r < 0)
			return r;
	}
	return l->exit_code;
}

void event_loop_exit(struct event_loop *l, int code)
{
	l->exiting = true;
	l->exit_code = code;
}
