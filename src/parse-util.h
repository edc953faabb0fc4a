/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Checked number parsing (systemd's safe_atou*): decimal digits only, no
 * sign, no leading/trailing whitespace, no trailing garbage, range-checked.
 * Returns 0, -EINVAL (not a number) or -ERANGE (does not fit). Pure.
 */
#pragma once

#include <stdint.h>

int safe_atou64(const char *s, uint64_t *ret);
int safe_atou32(const char *s, uint32_t *ret);
int safe_atou16(const char *s, uint16_t *ret);
/* Like safe_atou64, and -ERANGE unless min <= value <= max. */
int safe_atou64_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/*
 * Duration to milliseconds: "250ms", "5s", "2min", "1h", "1d", or a bare
 * number meaning ms. One unit only (no "1h30min"). -EINVAL / -ERANGE.
 */
int parse_duration_ms(const char *s, uint64_t *ret);
