/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hostname resolution off the event loop, for app remotes ("bob.com:8086").
 *
 * One worker thread runs getaddrinfo() (AF_UNSPEC: v4 and v6) for queued
 * names and hands results back through an eventfd registered on the loop;
 * the handler (on the loop thread) calls the callback once per answered
 * name. Every name is resolved again every refresh_usec. A failed lookup
 * keeps the addresses of the last successful one and reports the error:
 * the daemon logs a warning (a transient DNS failure does not turn allowed
 * traffic into violations). A name that never resolved matches nothing.
 *
 * Daemon glue (after policy_new and on reload):
 *
 *   static void on_resolved(const char *host, const struct cidr *a, size_t n,
 *                           const char *error, void *userdata)
 *   {
 *           if (error)
 *                   log_warning("Cannot resolve '%s': %s, ignoring", host, error);
 *           (void)policy_set_host_addrs(m->policy, host, a, n);
 *   }
 *   resolve_new(loop, 300 * USEC_PER_SEC, on_resolved, m, &m->resolve);
 *   resolve_set_hosts(m->resolve, policy_hosts(m->policy));
 *
 * resolve_set_hosts() calls the callback synchronously for names it already
 * knows (so a reloaded policy gets their addresses at once) and queues the
 * others.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "addrset.h"

struct event_loop;
struct resolve;

/* addrs are host routes (/32, /128); error is NULL on success, else gai_strerror() text. */
typedef void (*resolve_handler_t)(const char *host, const struct cidr *addrs, size_t n,
				  const char *error, void *userdata);

int resolve_new(struct event_loop *l, uint64_t refresh_usec, resolve_handler_t cb, void *userdata,
		struct resolve **ret);
/*
 * Does not wait for a lookup in progress (the worker exits after it).
 * Accepts NULL; returns NULL.
 */
struct resolve *resolve_free(struct resolve *r);

/* Replaces the set of names (NULL-terminated; copied). */
int resolve_set_hosts(struct resolve *r, char *const *hosts);

/* Names not answered yet since they were queued by resolve_set_hosts(). */
size_t resolve_pending(const struct resolve *r);
