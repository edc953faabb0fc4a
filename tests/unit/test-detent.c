// SPDX-License-Identifier: GPL-2.0-or-later
/* Detent: window, expiry, suppressed counts, LRU cap, zero window. */
#include <linux/types.h>
#include <netinet/in.h>

#include "aegis.h"
#include "detent.h"
#include "macro.h"
#include "tap.h"

#define SEC 1000000ULL

static struct detent_key key(uint64_t app, uint8_t last, uint16_t port)
{
	return (struct detent_key){
		.app = app,
		.addr = { 10, 0, 0, last },
		.port = port,
		.family = AF_INET,
		.direction = AEGIS_DIR_OUT,
	};
}

TEST(first_emits_repeats_suppressed)
{
	struct detent *d;
	struct detent_key k = key(1, 1, 6666);
	struct detent_stats st;
	uint64_t sup = 42;

	ASSERT_OK(detent_new(10 * SEC, 100, &d));
	ASSERT_TRUE(detent_check(d, &k, 1 * SEC, 0, &sup));
	ASSERT_EQ(sup, 0);
	for (int i = 0; i < 999; i++) {
		sup = 42;
		ASSERT_FALSE(detent_check(d, &k, 1 * SEC + (uint64_t)i, 0, &sup));
		ASSERT_EQ(sup, 0);
	}
	detent_get_stats(d, &st);
	ASSERT_EQ(st.entries, 1);
	ASSERT_EQ(st.emitted, 1);
	ASSERT_EQ(st.suppressed, 999);
	ASSERT_EQ(st.evictions, 0);
	/* After the window: emitted with the count, then the count restarts. */
	ASSERT_TRUE(detent_check(d, &k, 11 * SEC, 0, &sup));
	ASSERT_EQ(sup, 999);
	ASSERT_FALSE(detent_check(d, &k, 12 * SEC, 0, &sup));
	ASSERT_TRUE(detent_check(d, &k, 21 * SEC, 0, &sup));
	ASSERT_EQ(sup, 1);
	detent_free(d);
}

TEST(window_runs_from_emitted_record)
{
	struct detent *d;
	struct detent_key k = key(1, 1, 80);
	uint64_t sup;

	ASSERT_OK(detent_new(10 * SEC, 100, &d));
	ASSERT_TRUE(detent_check(d, &k, 0, 0, &sup));
	/* A repeat just before the end does not extend the window. */
	ASSERT_FALSE(detent_check(d, &k, 10 * SEC - 1, 0, &sup));
	ASSERT_TRUE(detent_check(d, &k, 10 * SEC, 0, &sup));
	ASSERT_EQ(sup, 1);
	detent_free(d);
}

TEST(keys_are_distinct)
{
	struct detent *d;
	struct detent_key k1 = key(1, 1, 80), k2 = key(2, 1, 80), k3 = key(1, 2, 80),
			  k4 = key(1, 1, 81), k5 = key(1, 1, 80);

	k5.direction = AEGIS_DIR_IN;
	ASSERT_OK(detent_new(10 * SEC, 100, &d));
	ASSERT_TRUE(detent_check(d, &k1, 0, 0, NULL));
	ASSERT_TRUE(detent_check(d, &k2, 0, 0, NULL));
	ASSERT_TRUE(detent_check(d, &k3, 0, 0, NULL));
	ASSERT_TRUE(detent_check(d, &k4, 0, 0, NULL));
	ASSERT_TRUE(detent_check(d, &k5, 0, 0, NULL));
	ASSERT_FALSE(detent_check(d, &k1, 1, 0, NULL));
	ASSERT_FALSE(detent_check(d, &k5, 1, 0, NULL));
	detent_free(d);
}

TEST(add_suppressed_folds_kernel_repeats)
{
	struct detent *d;
	struct detent_key k = key(7, 9, 443);
	struct detent_stats st;
	uint64_t sup;

	ASSERT_OK(detent_new(10 * SEC, 100, &d));
	/* Emitted record that already stands for 5 kernel-folded repeats. */
	ASSERT_TRUE(detent_check(d, &k, 0, 5, &sup));
	ASSERT_EQ(sup, 5);
	/* Suppressed record standing for 1 + 3. */
	ASSERT_FALSE(detent_check(d, &k, 1, 3, &sup));
	ASSERT_TRUE(detent_check(d, &k, 20 * SEC, 2, &sup));
	ASSERT_EQ(sup, 4 + 2);
	detent_get_stats(d, &st);
	ASSERT_EQ(st.suppressed, 5 + 4 + 2);
	ASSERT_EQ(st.emitted, 2);
	detent_free(d);
}

TEST(zero_window_disables)
{
	struct detent *d;
	struct detent_key k = key(1, 1, 1);
	struct detent_stats st;
	uint64_t sup;

	ASSERT_OK(detent_new(0, 100, &d));
	for (int i = 0; i < 100; i++) {
		ASSERT_TRUE(detent_check(d, &k, (uint64_t)i, 0, &sup));
		ASSERT_EQ(sup, 0);
	}
	ASSERT_TRUE(detent_check(d, &k, 100, 3, &sup));
	ASSERT_EQ(sup, 3);
	detent_get_stats(d, &st);
	ASSERT_EQ(st.entries, 0);
	ASSERT_EQ(st.emitted, 101);
	detent_free(d);
}

TEST(lru_cap_evicts_least_recent)
{
	struct detent *d;
	struct detent_stats st;
	struct detent_key k;

	ASSERT_OK(detent_new(1000 * SEC, 3, &d));
	for (uint8_t i = 1; i <= 3; i++) {
		k = key(1, i, 80);
		ASSERT_TRUE(detent_check(d, &k, i, 0, NULL));
	}
	/* Touch 1: 2 becomes the least recently seen. */
	k = key(1, 1, 80);
	ASSERT_FALSE(detent_check(d, &k, 10, 0, NULL));
	k = key(1, 4, 80);
	ASSERT_TRUE(detent_check(d, &k, 11, 0, NULL));
	detent_get_stats(d, &st);
	ASSERT_EQ(st.entries, 3);
	ASSERT_EQ(st.evictions, 1);
	/* 2 was evicted: it is new again; 1 and 3 are still suppressed (3 evicted now). */
	k = key(1, 1, 80);
	ASSERT_FALSE(detent_check(d, &k, 12, 0, NULL));
	k = key(1, 2, 80);
	ASSERT_TRUE(detent_check(d, &k, 13, 0, NULL));
	k = key(1, 4, 80);
	ASSERT_FALSE(detent_check(d, &k, 14, 0, NULL));
	k = key(1, 3, 80);
	ASSERT_TRUE(detent_check(d, &k, 15, 0, NULL));
	detent_get_stats(d, &st);
	ASSERT_EQ(st.entries, 3);
	ASSERT_EQ(st.evictions, 3);
	detent_free(d);
}

TEST(many_keys_bounded)
{
	struct detent *d;
	struct detent_stats st;

	ASSERT_OK(detent_new(1000 * SEC, 1000, &d));
	for (uint32_t i = 0; i < 20000; i++) {
		struct detent_key k = key(i, (uint8_t)i, (uint16_t)(i >> 8));

		ASSERT_TRUE(detent_check(d, &k, i, 0, NULL));
	}
	detent_get_stats(d, &st);
	ASSERT_EQ(st.entries, 1000);
	ASSERT_EQ(st.evictions, 19000);
	/* The last 1000 are still there. */
	for (uint32_t i = 19000; i < 20000; i++) {
		struct detent_key k = key(i, (uint8_t)i, (uint16_t)(i >> 8));

		ASSERT_FALSE(detent_check(d, &k, 20000, 0, NULL));
	}
	detent_free(d);
}

TEST(expire_drops_idle_keys_without_pending)
{
	struct detent *d;
	struct detent_stats st;
	struct detent_key a = key(1, 1, 80), b = key(1, 2, 80);
	uint64_t sup;

	ASSERT_OK(detent_new(10 * SEC, 100, &d));
	ASSERT_TRUE(detent_check(d, &a, 0, 0, NULL));
	ASSERT_TRUE(detent_check(d, &b, 0, 0, NULL));
	ASSERT_FALSE(detent_check(d, &b, 1 * SEC, 0, NULL)); /* b has a pending count */
	ASSERT_EQ(detent_expire(d, 5 * SEC), 0);
	ASSERT_EQ(detent_expire(d, 11 * SEC + 1), 1); /* a only */
	detent_get_stats(d, &st);
	ASSERT_EQ(st.entries, 1);
	ASSERT_TRUE(detent_check(d, &b, 12 * SEC, 0, &sup));
	ASSERT_EQ(sup, 1);
	detent_free(d);
}

TEST(set_limits_trims)
{
	struct detent *d;
	struct detent_stats st;

	ASSERT_OK(detent_new(10 * SEC, 100, &d));
	for (uint8_t i = 0; i < 50; i++) {
		struct detent_key k = key(1, i, 80);

		ASSERT_TRUE(detent_check(d, &k, 0, 0, NULL));
	}
	detent_set_limits(d, 10 * SEC, 10);
	detent_get_stats(d, &st);
	ASSERT_EQ(st.entries, 10);
	ASSERT_EQ(st.evictions, 40);
	detent_free(d);
}

TAP_MAIN()
