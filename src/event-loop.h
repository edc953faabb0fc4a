/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's one loop: epoll over io sources (fds with a callback and
 * userdata), timers (one timerfd each) and post hooks run once per iteration.
 * Handlers must not block; they drain a bounded batch and return. A handler
 * returning < 0 is logged by the loop and the source stays registered.
 */
#pragma once

#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>

struct event_loop;
struct event_source;

typedef int (*event_io_handler_t)(struct event_source *s, int fd, uint32_t revents, void *userdata);
typedef int (*event_timer_handler_t)(struct event_source *s, uint64_t now_usec, void *userdata);
typedef int (*event_post_handler_t)(struct event_source *s, void *userdata);

int event_loop_new(struct event_loop **ret);
/* Frees all sources still registered (without closing their io fds). Accepts NULL. */
struct event_loop *event_loop_free(struct event_loop *l);

/* Runs until event_loop_exit(); returns the exit code given there. */
int event_loop_run(struct event_loop *l);
/* Runs one iteration, waiting at most timeout_ms (-1 = forever). */
int event_loop_run_once(struct event_loop *l, int timeout_ms);
void event_loop_exit(struct event_loop *l, int code);

/* fd stays owned by the caller; free the source before closing the fd. */
int event_loop_add_io(struct event_loop *l, int fd, uint32_t events, event_io_handler_t h,
		      void *userdata, struct event_source **ret);
int event_source_set_io_events(struct event_source *s, uint32_t events);

/*
 * A timer on CLOCK_MONOTONIC. usec is an absolute time (now_usec() + delta);
 * 0 disarms. Timers are one-shot: re-arm from the handler for periodic work.
 */
int event_loop_add_timer(struct event_loop *l, uint64_t usec, event_timer_handler_t h,
			 void *userdata, struct event_source **ret);
int event_source_set_time(struct event_source *s, uint64_t usec);

/* Called after every iteration's io/timer dispatch (e.g. to flush batched output). */
int event_loop_add_post(struct event_loop *l, event_post_handler_t h, void *userdata,
			struct event_source **ret);

/* Unregisters and frees; accepts NULL; returns NULL. Safe from within handlers. */
struct event_source *event_source_free(struct event_source *s);
struct event_loop *event_source_get_loop(struct event_source *s);

/* CLOCK_MONOTONIC / CLOCK_REALTIME / CLOCK_BOOTTIME in microseconds. */
uint64_t now_usec(clockid_t clock);
