/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * This host's addresses: every address on every interface (v4 and v6) plus
 * the loopback ranges 127.0.0.0/8 and ::1, kept current by an rtnetlink
 * socket (RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR) on the daemon's event
 * loop. On any address notification (or a lost one: ENOBUFS) the set is
 * rebuilt from getifaddrs() as soon as the pending notifications are drained
 * (before the events that epoll reported after them are handled), and retried
 * at the end of the loop iteration if that failed.
 *
 * The lookup is inline over the addrset (a core module), so the policy (also
 * core) can use it without linking the daemon side; tests fill `addrs` by
 * hand.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "addrset.h"

struct event_loop;
struct event_source;

struct hostaddr {
	struct addrset addrs; /* finalized */
	uint64_t generation; /* bumped on every rebuild */
	/* daemon side */
	int fd; /* rtnetlink, -EBADF when not watching */
	struct event_source *io, *post;
	bool dirty;
};

/*
 * Reads the current addresses and, when l is non-NULL, subscribes to changes
 * on l. Returns 0 or a negative errno.
 */
int hostaddr_new(struct event_loop *l, struct hostaddr **ret);
/* Accepts NULL; returns NULL. */
struct hostaddr *hostaddr_free(struct hostaddr *h);
/* Re-reads the addresses now. */
int hostaddr_refresh(struct hostaddr *h);

static inline bool hostaddr_is_local(const struct hostaddr *h, int family, const uint8_t addr[16])
{
	return h && addrset_contains(&h->addrs, family, addr);
}
