/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The environment of a hook script, built from a record (pure; unit-tested).
 * Nothing of aegis's own environment is passed on. Entries, in order:
 *
 *   PATH=/usr/sbin:/usr/bin:/sbin:/bin
 *   LANG=C.UTF-8
 *   AEGIS_<NAME>=<value>   one per record field, NAME = upper-cased field name
 *   AEGIS_EVENT_JSON=<the record as one JSON object>
 *
 * Values are the raw field text: no quoting, no escaping (nothing is ever
 * parsed by a shell). A NUL byte, which an environment string cannot hold,
 * becomes a space.
 */
#pragma once

#include "record.h"

#define ACTION_ENV_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#define ACTION_ENV_LANG "LANG=C.UTF-8"

/* "KEY=value" with KEY = "AEGIS_" + upper(name); NULs in value become spaces. */
int action_env_entry(const char *name, const char *value, size_t len, char **ret);
/* NULL-terminated vector (free with strv_free()). json may be NULL: no AEGIS_EVENT_JSON. */
int action_env_build(const struct record *r, const char *json, char ***ret);
