// SPDX-License-Identifier: GPL-2.0-or-later
/* Checked number and duration parsing. */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "parse-util.h"

/* Parses the leading decimal digits of s; *ret_end points after them. */
static int parse_digits(const char *s, uint64_t *ret, const char **ret_end)
{
	uint64_t v = 0;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	*ret_end = p;
	return 0;
}

int safe_atou64(const char *s, uint64_t *ret)
{
	const char *end;
	uint64_t v;
	int r;

	r = parse_digits(s, &v, &end);
	if (r < 0)
		return r;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int safe_atou64_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v;
	int r;

	r = safe_atou64(s, &v);
	if (r < 0)
		return r;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int safe_atou32(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r;

	r = safe_atou64_range(s, 0, UINT32_MAX, &v);
	if (r < 0)
		return r;
	*ret = (uint32_t)v;
	return 0;
}

int safe_atou16(const char *s, uint16_t *ret)
{
	uint64_t v;
	int r;

	r = safe_atou64_range(s, 0, UINT16_MAX, &v);
	if (r < 0)
		return r;
	*ret = (uint16_t)v;
	return 0;
}

int parse_duration_ms(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{ "", 1 },
		{ "ms", 1 },
		{ "s", 1000 },
		{ "min", 60 * 1000 },
		{ "h", 3600 * 1000 },
		{ "d", 24 * 3600 * 1000 },
	};
	const char *end;
	uint64_t v;
	int r;

	r = parse_digits(s, &v, &end);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (!streq(end, units[i].suffix))
			continue;
		if (v > UINT64_MAX / units[i].ms)
			return -ERANGE;
		*ret = v * units[i].ms;
		return 0;
	}
	return -EINVAL;
}
