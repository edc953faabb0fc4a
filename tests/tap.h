/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Minimal TAP test harness (kmod/systemd style). In a test file:
 *
 *   TEST(parses_ports) { ASSERT_EQ(f(1), 2); }
 *   ...
 *   TAP_MAIN()
 *
 * Tests register themselves by constructor; TAP_MAIN runs them in order of
 * definition and prints TAP for meson's `protocol : 'tap'`.
 */
#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_test {
	const char *name;
	void (*fn)(void);
};

#define TAP_MAX_TESTS 512
extern struct tap_test tap_tests[TAP_MAX_TESTS];
extern int tap_n_tests;
extern int tap_failed_now;

#define TEST(name)                                                                          \
	static void test_##name(void);                                                      \
	__attribute__((constructor)) static void tap_register_##name(void)                  \
	{                                                                                   \
		if (tap_n_tests < TAP_MAX_TESTS)                                            \
			tap_tests[tap_n_tests++] = (struct tap_test){ #name, test_##name }; \
	}                                                                                   \
	static void test_##name(void)

#define TAP_FAIL(...)                                    \
	do {                                             \
		printf("# %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__);                     \
		printf("\n");                            \
		tap_failed_now = 1;                      \
		return;                                  \
	} while (0)

#define ASSERT_TRUE(x)                                     \
	do {                                               \
		if (!(x))                                  \
			TAP_FAIL("expected true: %s", #x); \
	} while (0)
#define ASSERT_FALSE(x) ASSERT_TRUE(!(x))
#define ASSERT_EQ(a, b)                                                     \
	do {                                                                \
		long long _a = (long long)(a), _b = (long long)(b);         \
		if (_a != _b)                                               \
			TAP_FAIL("%s == %s: %lld != %lld", #a, #b, _a, _b); \
	} while (0)
#define ASSERT_NE(a, b)                                              \
	do {                                                         \
		long long _a = (long long)(a), _b = (long long)(b);  \
		if (_a == _b)                                        \
			TAP_FAIL("%s != %s: both %lld", #a, #b, _a); \
	} while (0)
#define ASSERT_OK(r)                                                                  \
	do {                                                                          \
		long long _r = (long long)(r);                                        \
		if (_r < 0)                                                           \
			TAP_FAIL("%s failed: %lld (%s)", #r, _r, strerror((int)-_r)); \
	} while (0)
#define ASSERT_ERR(r)                                                    \
	do {                                                             \
		if ((long long)(r) >= 0)                                 \
			TAP_FAIL("%s succeeded, expected an error", #r); \
	} while (0)
#define ASSERT_STREQ(a, b)                                                                 \
	do {                                                                               \
		const char *_a = (a), *_b = (b);                                           \
		if (!_a || !_b || strcmp(_a, _b) != 0)                                     \
			TAP_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)", \
				 _b ? _b : "(null)");                                      \
	} while (0)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)
#define ASSERT_NULL(p) ASSERT_TRUE((p) == NULL)

#define TAP_MAIN()                                                                      \
	struct tap_test tap_tests[TAP_MAX_TESTS];                                       \
	int tap_n_tests;                                                                \
	int tap_failed_now;                                                             \
	int main(void)                                                                  \
	{                                                                               \
		int failed = 0;                                                         \
		printf("1..%d\n", tap_n_tests);                                         \
		for (int i = 0; i < tap_n_tests; i++) {                                 \
			tap_failed_now = 0;                                             \
			tap_tests[i].fn();                                              \
			printf("%s %d - %s\n", tap_failed_now ? "not ok" : "ok", i + 1, \
			       tap_tests[i].name);                                      \
			failed += tap_failed_now;                                       \
		}                                                                       \
		return failed ? 1 : 0;                                                  \
	}
