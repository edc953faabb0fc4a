// SPDX-License-Identifier: GPL-2.0-or-later
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "addrset.h"
#include "macro.h"
#include "parse-util.h"
#include "tap.h"

static void ip(const char *s, int *family, uint8_t a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, s, a) == 1)
		*family = AF_INET6;
	else
		*family = -1;
}

static bool set_has(const struct addrset *s, const char *addr)
{
	uint8_t a[16];
	int f;

	ip(addr, &f, a);
	return addrset_contains(s, f, a);
}

static const char *roundtrip(const char *in)
{
	static char buf[64];
	struct cidr c;

	if (cidr_parse(in, &c, NULL) < 0)
		return "(error)";
	return cidr_to_string(&c, buf, sizeof(buf));
}

TEST(cidr_parse_ok)
{
	ASSERT_STREQ(roundtrip("10.0.0.0/8"), "10.0.0.0/8");
	ASSERT_STREQ(roundtrip("192.168.1.1"), "192.168.1.1");
	ASSERT_STREQ(roundtrip("192.168.1.1/32"), "192.168.1.1");
	ASSERT_STREQ(roundtrip("0.0.0.0/0"), "0.0.0.0/0");
	ASSERT_STREQ(roundtrip("2001:db8::/32"), "2001:db8::/32");
	ASSERT_STREQ(roundtrip("::1"), "::1");
	ASSERT_STREQ(roundtrip("::/0"), "::/0");
	/* v4-mapped becomes v4 */
	ASSERT_STREQ(roundtrip("::ffff:10.1.2.3"), "10.1.2.3");
	ASSERT_STREQ(roundtrip("::ffff:10.1.0.0/112"), "10.1.0.0/16");
}

TEST(cidr_parse_errors)
{
	const char *reason = NULL;
	struct cidr c;

	ASSERT_EQ(cidr_parse("10.0.0.0/33", &c, &reason), -EINVAL);
	ASSERT_STREQ(reason, "prefix length out of range (0-32 for IPv4)");
	ASSERT_EQ(cidr_parse("::/129", &c, &reason), -EINVAL);
	ASSERT_STREQ(reason, "prefix length out of range (0-128 for IPv6)");
	ASSERT_EQ(cidr_parse("10.0.0.1/8", &c, &reason), -EINVAL);
	ASSERT_STREQ(reason, "host bits set after the prefix length");
	ASSERT_EQ(cidr_parse("10.0.0/8", &c, &reason), -EINVAL);
	ASSERT_STREQ(reason, "invalid IP address");
	ASSERT_EQ(cidr_parse("10.0.0.0/", &c, &reason), -EINVAL);
	ASSERT_EQ(cidr_parse("10.0.0.0/8x", &c, &reason), -EINVAL);
	ASSERT_EQ(cidr_parse("10.0.0.0/-1", &c, &reason), -EINVAL);
	ASSERT_EQ(cidr_parse("", &c, &reason), -EINVAL);
	ASSERT_EQ(cidr_parse("/8", &c, &reason), -EINVAL);
	ASSERT_EQ(cidr_parse("example.com", &c, &reason), -EINVAL);
	ASSERT_EQ(cidr_parse(" 10.0.0.0/8", &c, &reason), -EINVAL);
	/* the hint variant masks instead */
	ASSERT_OK(cidr_parse_full("10.0.0.1/8", true, &c, &reason));
	char buf[64];
	ASSERT_STREQ(cidr_to_string(&c, buf, sizeof(buf)), "10.0.0.0/8");
}

TEST(cidr_contains_works)
{
	uint8_t a[16];
	struct cidr c;
	int f;

	ASSERT_OK(cidr_parse("10.0.0.0/8", &c, NULL));
	ip("10.255.1.2", &f, a);
	ASSERT_TRUE(cidr_contains(&c, f, a));
	ip("11.0.0.0", &f, a);
	ASSERT_FALSE(cidr_contains(&c, f, a));
	ip("::ffff:10.9.9.9", &f, a);
	ASSERT_TRUE(cidr_contains(&c, f, a));
	ip("2001:db8::1", &f, a);
	ASSERT_FALSE(cidr_contains(&c, f, a));
	ASSERT_OK(cidr_parse("2001:db8::/32", &c, NULL));
	ASSERT_TRUE(cidr_contains(&c, f, a));
	ASSERT_OK(cidr_parse("0.0.0.0/0", &c, NULL));
	ip("255.255.255.255", &f, a);
	ASSERT_TRUE(cidr_contains(&c, f, a));
}

TEST(port_ranges)
{
	const char *reason = NULL;
	struct port_range r;
	char buf[16];

	ASSERT_OK(port_range_parse("80", &r, NULL));
	ASSERT_EQ(r.lo, 80);
	ASSERT_EQ(r.hi, 80);
	ASSERT_OK(port_range_parse("8000-8100", &r, NULL));
	ASSERT_EQ(r.lo, 8000);
	ASSERT_EQ(r.hi, 8100);
	ASSERT_STREQ(port_range_to_string(&r, buf, sizeof(buf)), "8000-8100");
	ASSERT_OK(port_range_parse("65535", &r, NULL));
	ASSERT_EQ(port_range_parse("70000", &r, &reason), -ERANGE);
	ASSERT_STREQ(reason, "port out of range (1-65535)");
	ASSERT_EQ(port_range_parse("0", &r, &reason), -ERANGE);
	ASSERT_EQ(port_range_parse("8100-8000", &r, &reason), -EINVAL);
	ASSERT_STREQ(reason, "port range is reversed (first port above the last)");
	ASSERT_ERR(port_range_parse("http", &r, NULL));
	ASSERT_ERR(port_range_parse("80-", &r, NULL));
	ASSERT_ERR(port_range_parse("-80", &r, NULL));
	ASSERT_ERR(port_range_parse("1-2-3", &r, NULL));
	ASSERT_ERR(port_range_parse("+80", &r, NULL));
	ASSERT_ERR(port_range_parse("", &r, NULL));
}

TEST(portset_merge)
{
	struct portset s = {};

	ASSERT_OK(portset_add(&s, (struct port_range){ 443, 443 }));
	ASSERT_OK(portset_add(&s, (struct port_range){ 80, 80 }));
	ASSERT_OK(portset_add(&s, (struct port_range){ 81, 90 }));
	ASSERT_OK(portset_add(&s, (struct port_range){ 85, 100 }));
	ASSERT_OK(portset_add(&s, (struct port_range){ 65535, 65535 }));
	ASSERT_EQ(s.n, 3);
	ASSERT_EQ(s.r[0].lo, 80);
	ASSERT_EQ(s.r[0].hi, 100);
	ASSERT_TRUE(portset_contains(&s, 80));
	ASSERT_TRUE(portset_contains(&s, 95));
	ASSERT_TRUE(portset_contains(&s, 443));
	ASSERT_TRUE(portset_contains(&s, 65535));
	ASSERT_FALSE(portset_contains(&s, 101));
	ASSERT_FALSE(portset_contains(&s, 79));
	ASSERT_FALSE(portset_contains(&s, 444));

	struct portset c = {};
	ASSERT_OK(portset_copy(&c, &s));
	ASSERT_EQ(c.n, 3);
	ASSERT_TRUE(c.set);
	portset_done(&s);
	ASSERT_TRUE(portset_contains(&c, 443));
	portset_done(&c);
}

static int collect(const struct cidr *c, void *userdata)
{
	char buf[64], *out = userdata;

	if (*out)
		strcat(out, " ");
	strcat(out, cidr_to_string(c, buf, sizeof(buf)));
	return 0;
}

TEST(addrset_merge_and_dump)
{
	struct addrset s = {};
	char out[512] = "";
	struct cidr c;

	const char *in[] = {
		"10.0.0.0/9",	 "10.128.0.0/9",       "192.168.1.1", "192.168.1.0/24",
		"2001:db8::/33", "2001:db8:8000::/33", "::1",	      "::ffff:1.2.3.4"
	};
	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		ASSERT_OK(cidr_parse(in[i], &c, NULL));
		ASSERT_OK(addrset_add(&s, &c));
	}
	addrset_finalize(&s);
	ASSERT_EQ(addrset_count(&s), 5);
	ASSERT_OK(addrset_foreach_cidr(&s, collect, out));
	ASSERT_STREQ(out, "1.2.3.4 10.0.0.0/8 192.168.1.0/24 ::1 2001:db8::/32");

	ASSERT_TRUE(set_has(&s, "10.200.3.4"));
	ASSERT_TRUE(set_has(&s, "::ffff:10.200.3.4"));
	ASSERT_TRUE(set_has(&s, "1.2.3.4"));
	ASSERT_FALSE(set_has(&s, "1.2.3.5"));
	ASSERT_TRUE(set_has(&s, "::1"));
	ASSERT_FALSE(set_has(&s, "::2"));
	ASSERT_TRUE(set_has(&s, "2001:db8:ffff::1"));
	ASSERT_FALSE(set_has(&s, "2001:db9::"));

	struct addrset cp = {};
	ASSERT_OK(addrset_copy(&cp, &s));
	addrset_done(&s);
	ASSERT_TRUE(set_has(&cp, "192.168.1.200"));
	addrset_done(&cp);
}

/* finalize gives back unused slots; adding after finalize still works */
TEST(addrset_finalize_shrinks)
{
	struct addrset s = {};
	struct cidr c;

	const char *in[] = { "10.0.0.0/9", "10.128.0.0/9", "10.1.2.3" };
	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		ASSERT_OK(cidr_parse(in[i], &c, NULL));
		ASSERT_OK(addrset_add(&s, &c));
	}
	ASSERT_TRUE(s.cap4 > 3);
	addrset_finalize(&s);
	/* merged into 10.0.0.0/8: one slot kept, no v6 storage */
	ASSERT_EQ(s.n4, 1);
	ASSERT_EQ(s.cap4, 1);
	ASSERT_TRUE(s.v6 == NULL && s.cap6 == 0);
	ASSERT_TRUE(set_has(&s, "10.200.0.1"));

	ASSERT_OK(cidr_parse("192.0.2.0/24", &c, NULL));
	ASSERT_OK(addrset_add(&s, &c));
	ASSERT_OK(cidr_parse("2001:db8::/32", &c, NULL));
	ASSERT_OK(addrset_add(&s, &c));
	addrset_finalize(&s);
	ASSERT_EQ(s.cap4, 2);
	ASSERT_EQ(s.cap6, 1);
	ASSERT_TRUE(set_has(&s, "10.1.1.1"));
	ASSERT_TRUE(set_has(&s, "192.0.2.77"));
	ASSERT_TRUE(set_has(&s, "2001:db8::1"));
	ASSERT_FALSE(set_has(&s, "192.0.3.1"));
	addrset_done(&s);
}

TEST(addrset_full_ranges)
{
	struct addrset s = {};
	char out[512] = "";
	struct cidr c;

	ASSERT_OK(cidr_parse("0.0.0.0/1", &c, NULL));
	ASSERT_OK(addrset_add(&s, &c));
	ASSERT_OK(cidr_parse("128.0.0.0/1", &c, NULL));
	ASSERT_OK(addrset_add(&s, &c));
	ASSERT_OK(cidr_parse("::/0", &c, NULL));
	ASSERT_OK(addrset_add(&s, &c));
	ASSERT_OK(cidr_parse("::/1", &c, NULL));
	ASSERT_OK(addrset_add(&s, &c));
	addrset_finalize(&s);
	ASSERT_OK(addrset_foreach_cidr(&s, collect, out));
	ASSERT_STREQ(out, "0.0.0.0/0 ::/0");
	ASSERT_TRUE(set_has(&s, "255.255.255.255"));
	ASSERT_TRUE(set_has(&s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	addrset_done(&s);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

static int readd(const struct cidr *c, void *userdata)
{
	return addrset_add(userdata, c);
}

/* 50,000 random CIDRs: binary search agrees with a linear scan of the CIDRs. */
TEST(addrset_50k_lookup_correctness)
{
	enum { N = 50000, PROBES = 4000 };
	struct cidr *cidrs = calloc(N, sizeof(*cidrs));
	struct addrset s = {};

	ASSERT_NOT_NULL(cidrs);
	for (size_t i = 0; i < N; i++) {
		uint32_t a = rnd();
		unsigned p = 16 + rnd() % 17;

		a &= p ? ~0u << (32 - p) : 0;
		cidrs[i].family = AF_INET;
		cidrs[i].prefix = (uint8_t)p;
		cidrs[i].addr[0] = a >> 24;
		cidrs[i].addr[1] = a >> 16;
		cidrs[i].addr[2] = a >> 8;
		cidrs[i].addr[3] = a;
		if (addrset_add(&s, &cidrs[i]) < 0)
			TAP_FAIL("add");
	}
	addrset_finalize(&s);
	ASSERT_TRUE(addrset_count(&s) > 0);

	unsigned hits = 0;
	for (size_t k = 0; k < PROBES; k++) {
		uint8_t a[16] = {};
		uint32_t v;
		bool expect = false;

		/* half the probes inside a known CIDR, half random */
		if (k % 2) {
			const struct cidr *c = &cidrs[rnd() % N];
			uint32_t base = (uint32_t)c->addr[0] << 24 | c->addr[1] << 16 |
					c->addr[2] << 8 | c->addr[3];
			uint32_t span = c->prefix == 32 ? 0 : (1u << (32 - c->prefix)) - 1;
			v = base + (span ? rnd() % span : 0);
		} else
			v = rnd();
		a[0] = v >> 24;
		a[1] = v >> 16;
		a[2] = v >> 8;
		a[3] = v;
		for (size_t i = 0; i < N && !expect; i++)
			expect = cidr_contains(&cidrs[i], AF_INET, a);
		if (addrset_contains(&s, AF_INET, a) != expect) {
			free(cidrs);
			addrset_done(&s);
			TAP_FAIL("mismatch at probe %zu", k);
		}
		hits += expect;
	}
	ASSERT_TRUE(hits >= PROBES / 2);

	/* dumping the merged set as CIDRs and re-adding gives the same intervals */
	struct addrset t = {};
	ASSERT_OK(addrset_foreach_cidr(&s, readd, &t));
	addrset_finalize(&t);
	ASSERT_EQ(t.n4, s.n4);
	ASSERT_TRUE(memcmp(t.v4, s.v4, s.n4 * sizeof(*s.v4)) == 0);
	addrset_done(&t);
	free(cidrs);
	addrset_done(&s);
}

TEST(parse_util)
{
	uint64_t v;
	uint32_t v32;
	uint16_t v16;

	ASSERT_OK(safe_atou64("18446744073709551615", &v));
	ASSERT_TRUE(v == UINT64_MAX);
	ASSERT_EQ(safe_atou64("18446744073709551616", &v), -ERANGE);
	ASSERT_EQ(safe_atou64("12a", &v), -EINVAL);
	ASSERT_EQ(safe_atou64(" 1", &v), -EINVAL);
	ASSERT_EQ(safe_atou64("-1", &v), -EINVAL);
	ASSERT_EQ(safe_atou64("", &v), -EINVAL);
	ASSERT_OK(safe_atou32("4294967295", &v32));
	ASSERT_EQ(safe_atou32("4294967296", &v32), -ERANGE);
	ASSERT_OK(safe_atou16("65535", &v16));
	ASSERT_EQ(v16, 65535);
	ASSERT_EQ(safe_atou16("65536", &v16), -ERANGE);
	ASSERT_EQ(safe_atou64_range("5", 10, 20, &v), -ERANGE);
	ASSERT_OK(parse_duration_ms("5s", &v));
	ASSERT_EQ(v, 5000);
	ASSERT_OK(parse_duration_ms("250", &v));
	ASSERT_EQ(v, 250);
	ASSERT_OK(parse_duration_ms("2min", &v));
	ASSERT_EQ(v, 120000);
	ASSERT_EQ(parse_duration_ms("5 s", &v), -EINVAL);
	ASSERT_EQ(parse_duration_ms("5y", &v), -EINVAL);
}

TAP_MAIN()
