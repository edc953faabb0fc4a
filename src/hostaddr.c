// SPDX-License-Identifier: GPL-2.0-or-later
/* This host's addresses, kept current through rtnetlink (see hostaddr.h). */
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "event-loop.h"
#include "hostaddr.h"
#include "log.h"
#include "macro.h"

/* Messages drained per wake-up: the loop stays responsive under a flood. */
#define HOSTADDR_DRAIN_MAX 64

static int add_loopback(struct addrset *s)
{
	struct cidr lo4 = { .family = AF_INET, .prefix = 8, .addr = { 127 } };
	struct cidr lo6 = { .family = AF_INET6, .prefix = 128, .addr = { [15] = 1 } };
	int r;

	r = addrset_add(s, &lo4);
	if (r < 0)
		return r;
	return addrset_add(s, &lo6);
}

static int add_ifaddr(struct addrset *s, const struct sockaddr *sa)
{
	struct cidr c = {};

	if (sa->sa_family == AF_INET) {
		c.family = AF_INET;
		c.prefix = 32;
		memcpy(c.addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		c.family = AF_INET6;
		c.prefix = 128;
		memcpy(c.addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else {
		return 0;
	}
	return addrset_add(s, &c);
}

int hostaddr_refresh(struct hostaddr *h)
{
	struct addrset s = {};
	struct ifaddrs *ifa = NULL;
	int r;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	r = add_loopback(&s);
	for (struct ifaddrs *i = ifa; r >= 0 && i; i = i->ifa_next)
		if (i->ifa_addr)
			r = add_ifaddr(&s, i->ifa_addr);
	freeifaddrs(ifa);
	if (r < 0) {
		addrset_done(&s);
		return r;
	}
	addrset_finalize(&s);
	addrset_done(&h->addrs);
	h->addrs = s;
	h->generation++;
	h->dirty = false;
	log_debug("host addresses: %zu ranges", addrset_count(&h->addrs));
	return 0;
}

static int on_netlink(struct event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct hostaddr *h = userdata;
	char buf[8192];

	for (int i = 0; i < HOSTADDR_DRAIN_MAX; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			if (errno == ENOBUFS) { /* lost notifications: rebuild anyway */
				h->dirty = true;
				continue;
			}
			return log_warning_errno(errno, "rtnetlink receive failed: %m");
		}
		h->dirty = true; /* RTM_NEWADDR / RTM_DELADDR: rebuild once, below */
	}
	/*
	 * Rebuild now, not in the post hook: epoll reports fds in the order they
	 * became ready, so when a busy loop gets this notification and the ring
	 * buffer in one batch, a connection made to a just-added address comes
	 * after it and must already see the new set (the post hook runs after
	 * the whole batch). On failure dirty stays set: on_post retries and logs.
	 */
	if (h->dirty)
		(void)hostaddr_refresh(h);
	return 0;
}

static int on_post(struct event_source *s, void *userdata)
{
	struct hostaddr *h = userdata;
	int r;

	if (!h->dirty)
		return 0;
	r = hostaddr_refresh(h);
	if (r < 0)
		return log_warning_errno(
			r, "Failed to re-read host addresses, keeping the old set: %m");
	return 0;
}

static int watch(struct hostaddr *h, struct event_loop *l)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	};
	int r;

	h->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (h->fd < 0)
		return -errno;
	if (bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	r = event_loop_add_io(l, h->fd, EPOLLIN, on_netlink, h, &h->io);
	if (r < 0)
		return r;
	return event_loop_add_post(l, on_post, h, &h->post);
}

int hostaddr_new(struct event_loop *l, struct hostaddr **ret)
{
	struct hostaddr *h;
	int r;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = -EBADF;
	/* Subscribe first, then read: no change can fall in between. */
	r = l ? watch(h, l) : 0;
	if (r >= 0)
		r = hostaddr_refresh(h);
	if (r < 0) {
		hostaddr_free(h);
		return r;
	}
	*ret = h;
	return 0;
}

struct hostaddr *hostaddr_free(struct hostaddr *h)
{
	if (!h)
		return NULL;
	event_source_free(h->io);
	event_source_free(h->post);
	safe_close(h->fd);
	addrset_done(&h->addrs);
	free(h);
	return NULL;
}
