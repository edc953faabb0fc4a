/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address, CIDR and port sets: parse, match, print. Pure, no logging.
 * An addrset holds v4 and v6 CIDRs as sorted, merged intervals, so lookups
 * are O(log n) whatever the number of CIDRs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cidr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t prefix; /* 0..32 or 0..128 */
	uint8_t addr[16]; /* network byte order, host bits zero */
};

struct port_range {
	uint16_t lo, hi; /* inclusive, 1..65535 (0 is invalid in config) */
};

struct portset {
	struct port_range *r; /* sorted, merged */
	size_t n;
	bool set; /* the list was given (even if empty) */
};

struct addr_interval4 {
	uint32_t lo, hi; /* host order, inclusive */
};
struct addr_interval6 {
	unsigned __int128 lo, hi;
};

struct addrset {
	struct addr_interval4 *v4;
	size_t n4, cap4;
	struct addr_interval6 *v6;
	size_t n6, cap6;
	bool sorted;
};

/*
 * "10.0.0.0/8", "192.168.1.1", "2001:db8::/32", "::1". v4-mapped v6 becomes v4.
 * Host bits set ("10.0.0.1/8") are an error. Returns 0 or -EINVAL with a
 * reason in *ret_reason (static string) when non-NULL.
 */
int cidr_parse(const char *s, struct cidr *ret, const char **ret_reason);
/* Same; with allow_host_bits the host bits are cleared instead (used for hints). */
int cidr_parse_full(const char *s, bool allow_host_bits, struct cidr *ret, const char **ret_reason);
/* "a.b.c.d/n" or "x::/n"; prefix omitted for host routes. Returns buf. */
char *cidr_to_string(const struct cidr *c, char *buf, size_t size);
/* addr: 16 bytes for AF_INET6, the first 4 bytes for AF_INET (network order). */
bool cidr_contains(const struct cidr *c, int family, const uint8_t addr[16]);

/* "80", "8000-8100". Returns 0 or -EINVAL/-ERANGE with *ret_reason. */
int port_range_parse(const char *s, struct port_range *ret, const char **ret_reason);
/* "80" or "8000-8100". Returns buf (>= 12 bytes). */
char *port_range_to_string(const struct port_range *r, char *buf, size_t size);

int portset_add(struct portset *s, struct port_range r);
bool portset_contains(const struct portset *s, uint16_t port);
void portset_done(struct portset *s);
int portset_copy(struct portset *dst, const struct portset *src);

int addrset_add(struct addrset *s, const struct cidr *c);
/* Sorts and merges; must be called after adds and before lookups. */
void addrset_finalize(struct addrset *s);
bool addrset_contains(const struct addrset *s, int family, const uint8_t addr[16]);
size_t addrset_count(const struct addrset *s);
void addrset_done(struct addrset *s);
int addrset_copy(struct addrset *dst, const struct addrset *src);
/*
 * Calls cb for the minimal list of CIDRs covering the (finalized) set, v4
 * then v6, ascending. Stops at and returns the first negative cb result.
 */
int addrset_foreach_cidr(const struct addrset *s, int (*cb)(const struct cidr *c, void *userdata),
			 void *userdata);
