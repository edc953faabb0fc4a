// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Resolver: names resolved on the worker thread and delivered on the loop
 * (localhost, an unresolvable name), cached answers replayed on
 * resolve_set_hosts(), periodic refresh. The daemon-side sources are
 * compiled in directly (they are not part of the core library).
 */
#include "../../src/event-loop.c"
#include "../../src/resolve.c"

#include "tap.h"

struct seen {
	int calls, errors;
	size_t last_n;
	char last_host[64];
	bool has_127;
};

static void on_resolved(const char *host, const struct cidr *addrs, size_t n, const char *error,
			void *userdata)
{
	struct seen *s = userdata;

	s->calls++;
	s->errors += error != NULL;
	s->last_n = n;
	snprintf(s->last_host, sizeof(s->last_host), "%s", host);
	for (size_t i = 0; i < n; i++)
		if (addrs[i].family == AF_INET && addrs[i].addr[0] == 127 && addrs[i].prefix == 32)
			s->has_127 = true;
}

static void wait_calls(struct event_loop *l, struct seen *s, int calls)
{
	uint64_t end = now_usec(CLOCK_MONOTONIC) + 10 * 1000000ULL;

	while (s->calls < calls && now_usec(CLOCK_MONOTONIC) < end)
		(void)event_loop_run_once(l, 100);
}

TEST(localhost_and_unresolvable)
{
	char *hosts[] = { (char *)"localhost", (char *)"no..such..name", NULL };
	struct event_loop *l;
	struct resolve *r;
	struct seen s = {};

	ASSERT_OK(event_loop_new(&l));
	ASSERT_OK(resolve_new(l, 3600ULL * 1000000, on_resolved, &s, &r));
	ASSERT_OK(resolve_set_hosts(r, hosts));
	ASSERT_EQ(resolve_pending(r), 2);
	wait_calls(l, &s, 2);
	ASSERT_EQ(s.calls, 2);
	ASSERT_EQ(s.errors,
		  1); /* an invalid name fails locally (no DNS query): reported, not fatal */
	ASSERT_TRUE(s.has_127);
	ASSERT_EQ(resolve_pending(r), 0);

	/* Same names again: answered from the cache, synchronously. */
	s = (struct seen){};
	char *again[] = { (char *)"localhost", NULL };
	ASSERT_OK(resolve_set_hosts(r, again));
	ASSERT_EQ(s.calls, 1);
	ASSERT_TRUE(s.has_127);
	ASSERT_STREQ(s.last_host, "localhost");
	ASSERT_EQ(resolve_pending(r), 0);
	resolve_free(r);
	event_loop_free(l);
}

TEST(periodic_refresh)
{
	char *hosts[] = { (char *)"localhost", NULL };
	struct event_loop *l;
	struct resolve *r;
	struct seen s = {};

	ASSERT_OK(event_loop_new(&l));
	ASSERT_OK(resolve_new(l, 200 * 1000, on_resolved, &s, &r)); /* 200 ms */
	ASSERT_OK(resolve_set_hosts(r, hosts));
	wait_calls(l, &s, 3); /* first answer plus at least two refreshes */
	ASSERT_TRUE(s.calls >= 3);
	ASSERT_EQ(s.errors, 0);
	resolve_free(r);
	event_loop_free(l);
}

TEST(free_with_work_queued)
{
	char *hosts[] = { (char *)"localhost", (char *)"bad..name", (char *)"bad name", NULL };
	struct event_loop *l;
	struct resolve *r;
	struct seen s = {};

	ASSERT_OK(event_loop_new(&l));
	ASSERT_OK(resolve_new(l, 0, on_resolved, &s, &r));
	ASSERT_OK(resolve_set_hosts(r, hosts));
	resolve_free(r); /* must not wait for or crash in the worker */
	event_loop_free(l);
	usleep(200 * 1000);
}

TAP_MAIN()
