// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Address, CIDR and port sets. CIDRs become inclusive integer intervals
 * (v4 as uint32, v6 as unsigned __int128); finalize sorts and merges them so
 * a lookup is a binary search whatever the number of CIDRs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addrset.h"
#include "macro.h"
#include "parse-util.h"

typedef unsigned __int128 u128;

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static uint32_t v4_from_bytes(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static void v4_to_bytes(uint32_t v, uint8_t *a)
{
	a[0] = v >> 24;
	a[1] = v >> 16;
	a[2] = v >> 8;
	a[3] = v;
}

static u128 v6_from_bytes(const uint8_t *a)
{
	u128 v = 0;

	for (int i = 0; i < 16; i++)
		v = v << 8 | a[i];
	return v;
}

static void v6_to_bytes(u128 v, uint8_t *a)
{
	for (int i = 15; i >= 0; i--) {
		a[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Host mask of a prefix in a bits-wide address space (bits <= 128). */
static u128 host_mask(unsigned bits, unsigned prefix)
{
	unsigned host = bits - prefix;

	if (host >= 128)
		return ~(u128)0;
	return ((u128)1 << host) - 1;
}

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static u128 cidr_value(const struct cidr *c)
{
	return c->family == AF_INET ? v4_from_bytes(c->addr) : v6_from_bytes(c->addr);
}

static void cidr_set_value(struct cidr *c, u128 v)
{
	memset(c->addr, 0, sizeof(c->addr));
	if (c->family == AF_INET)
		v4_to_bytes((uint32_t)v, c->addr);
	else
		v6_to_bytes(v, c->addr);
}

static int parse_prefix(const char *s, unsigned max, unsigned *ret, const char **ret_reason)
{
	uint64_t v;
	int r;

	r = safe_atou64(s, &v);
	if (r == -EINVAL) {
		*ret_reason = "invalid prefix length";
		return -EINVAL;
	}
	if (r < 0 || v > max) {
		*ret_reason = max == 32 ? "prefix length out of range (0-32 for IPv4)" :
					  "prefix length out of range (0-128 for IPv6)";
		return -EINVAL;
	}
	*ret = (unsigned)v;
	return 0;
}

static int cidr_parse_impl(const char *s, bool allow_host_bits, struct cidr *ret,
			   const char **ret_reason)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct cidr c = {};
	const char *slash;
	unsigned prefix;
	size_t len;
	int r;

	slash = strchr(s, '/');
	len = slash ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= sizeof(buf)) {
		*ret_reason = "invalid IP address";
		return -EINVAL;
	}
	memcpy(buf, s, len);
	buf[len] = 0;

	if (inet_pton(AF_INET, buf, c.addr) == 1)
		c.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, c.addr) == 1)
		c.family = AF_INET6;
	else {
		*ret_reason = "invalid IP address";
		return -EINVAL;
	}

	prefix = family_bits(c.family);
	if (slash) {
		r = parse_prefix(slash + 1, prefix, &prefix, ret_reason);
		if (r < 0)
			return r;
	}

	/* v4-mapped v6 (::ffff:a.b.c.d) is the v4 address. */
	if (c.family == AF_INET6 && prefix >= 96 &&
	    memcmp(c.addr, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		memmove(c.addr, c.addr + 12, 4);
		memset(c.addr + 4, 0, 12);
		c.family = AF_INET;
		prefix -= 96;
	}
	c.prefix = (uint8_t)prefix;

	u128 v = cidr_value(&c), m = host_mask(family_bits(c.family), prefix);
	if (v & m) {
		if (!allow_host_bits) {
			*ret_reason = "host bits set after the prefix length";
			return -EINVAL;
		}
		cidr_set_value(&c, v & ~m);
	}
	*ret = c;
	return 0;
}

int cidr_parse(const char *s, struct cidr *ret, const char **ret_reason)
{
	const char *dummy;

	return cidr_parse_impl(s, false, ret, ret_reason ?: &dummy);
}

int cidr_parse_full(const char *s, bool allow_host_bits, struct cidr *ret, const char **ret_reason)
{
	const char *dummy;

	return cidr_parse_impl(s, allow_host_bits, ret, ret_reason ?: &dummy);
}

char *cidr_to_string(const struct cidr *c, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		a[0] = 0;
	if (c->prefix == family_bits(c->family))
		snprintf(buf, size, "%s", a);
	else
		snprintf(buf, size, "%s/%u", a, c->prefix);
	return buf;
}

bool cidr_contains(const struct cidr *c, int family, const uint8_t addr[16])
{
	u128 m, v;

	if (family == AF_INET6 && memcmp(addr, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		family = AF_INET;
		addr += 12;
	}
	if (family != c->family)
		return false;
	v = family == AF_INET ? v4_from_bytes(addr) : v6_from_bytes(addr);
	m = host_mask(family_bits(family), c->prefix);
	return (v & ~m) == cidr_value(c);
}

static int parse_port(const char *s, uint16_t *ret, const char **ret_reason)
{
	uint64_t v;
	int r;

	r = safe_atou64(s, &v);
	if (r == -EINVAL) {
		*ret_reason = "invalid port number";
		return -EINVAL;
	}
	if (r < 0 || v < 1 || v > 65535) {
		*ret_reason = "port out of range (1-65535)";
		return -ERANGE;
	}
	*ret = (uint16_t)v;
	return 0;
}

int port_range_parse(const char *s, struct port_range *ret, const char **ret_reason)
{
	struct port_range pr;
	const char *dash, *dummy;
	char lo[8];
	int r;

	if (!ret_reason)
		ret_reason = &dummy;
	dash = strchr(s, '-');
	if (!dash) {
		r = parse_port(s, &pr.lo, ret_reason);
		if (r < 0)
			return r;
		pr.hi = pr.lo;
		*ret = pr;
		return 0;
	}
	if ((size_t)(dash - s) >= sizeof(lo) || dash == s) {
		*ret_reason = "invalid port range";
		return -EINVAL;
	}
	memcpy(lo, s, dash - s);
	lo[dash - s] = 0;
	r = parse_port(lo, &pr.lo, ret_reason);
	if (r < 0)
		return r;
	r = parse_port(dash + 1, &pr.hi, ret_reason);
	if (r < 0)
		return r;
	if (pr.lo > pr.hi) {
		*ret_reason = "port range is reversed (first port above the last)";
		return -EINVAL;
	}
	*ret = pr;
	return 0;
}

char *port_range_to_string(const struct port_range *r, char *buf, size_t size)
{
	if (r->lo == r->hi)
		snprintf(buf, size, "%u", r->lo);
	else
		snprintf(buf, size, "%u-%u", r->lo, r->hi);
	return buf;
}

static int port_range_cmp(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

int portset_add(struct portset *s, struct port_range r)
{
	struct port_range *n;
	size_t j = 0;

	n = reallocarray(s->r, s->n + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->r = n;
	s->r[s->n++] = r;
	s->set = true;

	qsort(s->r, s->n, sizeof(*s->r), port_range_cmp);
	for (size_t i = 1; i < s->n; i++) {
		if ((unsigned)s->r[i].lo <= (unsigned)s->r[j].hi + 1) {
			s->r[j].hi = MAX(s->r[j].hi, s->r[i].hi);
			continue;
		}
		s->r[++j] = s->r[i];
	}
	s->n = j + 1;
	return 0;
}

bool portset_contains(const struct portset *s, uint16_t port)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (port < s->r[mid].lo)
			hi = mid;
		else if (port > s->r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

void portset_done(struct portset *s)
{
	free(s->r);
	*s = (struct portset){};
}

int portset_copy(struct portset *dst, const struct portset *src)
{
	struct portset n = { .n = src->n, .set = src->set };

	if (src->n) {
		n.r = malloc(src->n * sizeof(*n.r));
		if (!n.r)
			return -ENOMEM;
		memcpy(n.r, src->r, src->n * sizeof(*n.r));
	}
	*dst = n;
	return 0;
}

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
	size_t c;
	void *q;

	if (n < *cap)
		return 0;
	/* from 2: most sets hold one or two entries (shrink() returns the rest) */
	c = *cap ? *cap * 2 : 2;
	q = reallocarray(*p, c, elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

int addrset_add(struct addrset *s, const struct cidr *c)
{
	u128 v = cidr_value(c), m = host_mask(family_bits(c->family), c->prefix);
	int r;

	if (c->family == AF_INET) {
		r = grow((void **)&s->v4, &s->cap4, s->n4, sizeof(*s->v4));
		if (r < 0)
			return r;
		s->v4[s->n4++] = (struct addr_interval4){ (uint32_t)(v & ~m), (uint32_t)(v | m) };
	} else if (c->family == AF_INET6) {
		r = grow((void **)&s->v6, &s->cap6, s->n6, sizeof(*s->v6));
		if (r < 0)
			return r;
		s->v6[s->n6++] = (struct addr_interval6){ v & ~m, v | m };
	} else
		return -EAFNOSUPPORT;
	s->sorted = false;
	return 0;
}

static int iv4_cmp(const void *a, const void *b)
{
	const struct addr_interval4 *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int iv6_cmp(const void *a, const void *b)
{
	const struct addr_interval6 *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void merge4(struct addr_interval4 *v, size_t *n)
{
	size_t j = 0;

	if (!*n)
		return;
	qsort(v, *n, sizeof(*v), iv4_cmp);
	for (size_t i = 1; i < *n; i++) {
		if (v[j].hi == UINT32_MAX || v[i].lo <= v[j].hi + 1) {
			v[j].hi = MAX(v[j].hi, v[i].hi);
			continue;
		}
		v[++j] = v[i];
	}
	*n = j + 1;
}

static void merge6(struct addr_interval6 *v, size_t *n)
{
	size_t j = 0;

	if (!*n)
		return;
	qsort(v, *n, sizeof(*v), iv6_cmp);
	for (size_t i = 1; i < *n; i++) {
		if (v[j].hi == ~(u128)0 || v[i].lo <= v[j].hi + 1) {
			v[j].hi = MAX(v[j].hi, v[i].hi);
			continue;
		}
		v[++j] = v[i];
	}
	*n = j + 1;
}

/*
 * Gives back what grow() reserved beyond n: a policy holds one set per
 * (app, port range), most with one or two entries (2,000 apps with a dozen
 * remotes each kept 3 MiB of empty slots).
 */
static void shrink(void **p, size_t *cap, size_t n, size_t elem)
{
	void *q;

	if (n == *cap)
		return;
	if (!n) {
		free(*p);
		*p = NULL;
		*cap = 0;
		return;
	}
	q = reallocarray(*p, n, elem);
	if (q) { /* else keep the larger block */
		*p = q;
		*cap = n;
	}
}

void addrset_finalize(struct addrset *s)
{
	merge4(s->v4, &s->n4);
	merge6(s->v6, &s->n6);
	shrink((void **)&s->v4, &s->cap4, s->n4, sizeof(*s->v4));
	shrink((void **)&s->v6, &s->cap6, s->n6, sizeof(*s->v6));
	s->sorted = true;
}

static bool find4(const struct addrset *s, uint32_t a)
{
	size_t lo = 0, hi = s->n4;

	if (!s->sorted) {
		for (size_t i = 0; i < s->n4; i++)
			if (a >= s->v4[i].lo && a <= s->v4[i].hi)
				return true;
		return false;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a < s->v4[mid].lo)
			hi = mid;
		else if (a > s->v4[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static bool find6(const struct addrset *s, u128 a)
{
	size_t lo = 0, hi = s->n6;

	if (!s->sorted) {
		for (size_t i = 0; i < s->n6; i++)
			if (a >= s->v6[i].lo && a <= s->v6[i].hi)
				return true;
		return false;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a < s->v6[mid].lo)
			hi = mid;
		else if (a > s->v6[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

bool addrset_contains(const struct addrset *s, int family, const uint8_t addr[16])
{
	if (family == AF_INET)
		return find4(s, v4_from_bytes(addr));
	if (family != AF_INET6)
		return false;
	if (memcmp(addr, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0)
		return find4(s, v4_from_bytes(addr + 12));
	return find6(s, v6_from_bytes(addr));
}

size_t addrset_count(const struct addrset *s)
{
	return s->n4 + s->n6;
}

void addrset_done(struct addrset *s)
{
	free(s->v4);
	free(s->v6);
	*s = (struct addrset){};
}

int addrset_copy(struct addrset *dst, const struct addrset *src)
{
	struct addrset n = { .n4 = src->n4,
			     .cap4 = src->n4,
			     .n6 = src->n6,
			     .cap6 = src->n6,
			     .sorted = src->sorted };

	if (src->n4) {
		n.v4 = malloc(src->n4 * sizeof(*n.v4));
		if (!n.v4)
			return -ENOMEM;
		memcpy(n.v4, src->v4, src->n4 * sizeof(*n.v4));
	}
	if (src->n6) {
		n.v6 = malloc(src->n6 * sizeof(*n.v6));
		if (!n.v6) {
			free(n.v4);
			return -ENOMEM;
		}
		memcpy(n.v6, src->v6, src->n6 * sizeof(*n.v6));
	}
	*dst = n;
	return 0;
}

/* Splits [lo, hi] into the minimal list of aligned blocks (CIDRs). */
static int range_to_cidrs(int family, u128 lo, u128 hi,
			  int (*cb)(const struct cidr *c, void *userdata), void *userdata)
{
	unsigned bits = family_bits(family);
	u128 max = host_mask(bits, 0);

	for (;;) {
		struct cidr c = { .family = (uint8_t)family };
		unsigned p;
		u128 m = 0;
		int r;

		for (p = 0; p <= bits; p++) {
			m = host_mask(bits, p);
			if ((lo & m) == 0 && m <= hi - lo)
				break;
		}
		c.prefix = (uint8_t)p;
		cidr_set_value(&c, lo);
		r = cb(&c, userdata);
		if (r < 0)
			return r;
		if (lo + m >= hi || lo + m == max)
			return 0;
		lo += m + 1;
	}
}

int addrset_foreach_cidr(const struct addrset *s, int (*cb)(const struct cidr *c, void *userdata),
			 void *userdata)
{
	int r;

	for (size_t i = 0; i < s->n4; i++) {
		r = range_to_cidrs(AF_INET, s->v4[i].lo, s->v4[i].hi, cb, userdata);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->n6; i++) {
		r = range_to_cidrs(AF_INET6, s->v6[i].lo, s->v6[i].hi, cb, userdata);
		if (r < 0)
			return r;
	}
	return 0;
}
