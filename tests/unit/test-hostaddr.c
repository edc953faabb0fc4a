// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hostaddr: loopback ranges always local; an address added to an interface
 * becomes local through the rtnetlink notification on the event loop, and
 * stops being local when removed. Runs in a private network namespace
 * (needs root; skipped otherwise, a failure with AEGIS_TEST_STRICT=1). The
 * daemon-side sources are compiled in directly.
 */
#include <arpa/inet.h>
#include <sched.h>

#include "../../src/event-loop.c"
#include "../../src/hostaddr.c"

#include "tap.h"

static bool local4(const struct hostaddr *h, const char *s)
{
	uint8_t a[16] = {};

	inet_pton(AF_INET, s, a);
	return hostaddr_is_local(h, AF_INET, a);
}

static bool local6(const struct hostaddr *h, const char *s)
{
	uint8_t a[16] = {};

	inet_pton(AF_INET6, s, a);
	return hostaddr_is_local(h, AF_INET6, a);
}

/* Runs the loop until h's generation moves past gen (or 5 s). */
static void wait_change(struct event_loop *l, struct hostaddr *h, uint64_t gen)
{
	uint64_t end = now_usec(CLOCK_MONOTONIC) + 5 * 1000000ULL;

	while (h->generation == gen && now_usec(CLOCK_MONOTONIC) < end)
		(void)event_loop_run_once(l, 100);
}

static bool in_netns;

TEST(loopback_and_live_updates)
{
	struct event_loop *l;
	struct hostaddr *h;
	uint64_t gen;

	if (!in_netns)
		return;
	ASSERT_OK(event_loop_new(&l));
	ASSERT_OK(hostaddr_new(l, &h));
	ASSERT_TRUE(local4(h, "127.0.0.1"));
	ASSERT_TRUE(local4(h, "127.1.2.3"));
	ASSERT_TRUE(local6(h, "::1"));
	ASSERT_TRUE(local6(h, "::ffff:127.0.0.1"));
	ASSERT_FALSE(local4(h, "192.0.2.1"));
	ASSERT_FALSE(local6(h, "2001:db8::1"));
	ASSERT_FALSE(hostaddr_is_local(NULL, AF_INET, (uint8_t[16]){ 127, 0, 0, 1 }));

	gen = h->generation;
	ASSERT_EQ(system("ip link set lo up && ip addr add 192.0.2.1/24 dev lo"), 0);
	wait_change(l, h, gen);
	ASSERT_TRUE(local4(h, "192.0.2.1"));
	ASSERT_FALSE(local4(h, "192.0.2.2")); /* the address, not its subnet */

	gen = h->generation;
	ASSERT_EQ(system("ip -6 addr add 2001:db8::1/64 dev lo nodad"), 0);
	wait_change(l, h, gen);
	ASSERT_TRUE(local6(h, "2001:db8::1"));

	gen = h->generation;
	ASSERT_EQ(system("ip addr del 192.0.2.1/24 dev lo"), 0);
	wait_change(l, h, gen);
	ASSERT_FALSE(local4(h, "192.0.2.1"));
	ASSERT_TRUE(local6(h, "2001:db8::1"));
	hostaddr_free(h);
	event_loop_free(l);
}

TEST(without_loop_reads_once)
{
	struct hostaddr *h;

	ASSERT_OK(hostaddr_new(NULL, &h));
	ASSERT_TRUE(local4(h, "127.0.0.1"));
	ASSERT_TRUE(local6(h, "::1"));
	ASSERT_TRUE(h->fd < 0);
	hostaddr_free(h);
}

__attribute__((constructor(200))) static void enter_netns(void)
{
	const char *strict = getenv("AEGIS_TEST_STRICT");

	in_netns = unshare(CLONE_NEWNET) == 0;
	if (!in_netns) {
		if (strict && streq(strict, "1")) {
			printf("Bail out! needs root for a private network namespace\n");
			exit(1);
		}
		printf("# loopback_and_live_updates skipped: not root (no netns)\n");
	}
}

TAP_MAIN()
