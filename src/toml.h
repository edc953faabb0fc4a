/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Strict TOML 1.0 parser. Pure: no logging, no I/O. Input is a byte buffer
 * with its length (may contain NUL, which is an error). The result is an
 * immutable tree; tables keep keys in document order. Every value and key
 * carries the 1-based line and column (in bytes) where it starts, so the
 * config layer can report file:line:col.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum toml_type {
	TOML_TABLE,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME, /* offset date-time */
	TOML_DATETIME_LOCAL,
	TOML_DATE_LOCAL,
	TOML_TIME_LOCAL,
	_TOML_TYPE_MAX,
};

struct toml_datetime {
	int year, month, day; /* unset for TOML_TIME_LOCAL */
	int hour, minute, second; /* unset for TOML_DATE_LOCAL */
	int nanosecond; /* fraction, truncated to ns */
	int frac_digits; /* digits written in the input (0 = none) */
	int offset_minutes; /* TOML_DATETIME only; 0 for Z */
	bool offset_z; /* written as Z/z rather than +00:00 */
};

struct toml_value;

struct toml_kv {
	char *key; /* decoded, NUL-terminated; may contain NUL: use key_len */
	size_t key_len;
	unsigned line, col; /* where the (last part of the) key was written */
	struct toml_value *value;
};

struct toml_value {
	enum toml_type type;
	unsigned line, col; /* where the value starts (for tables: header or first key) */
	union {
		struct {
			size_t n;
			struct toml_kv *items;
		} table;
		struct {
			size_t n;
			struct toml_value **items;
		} array;
		struct {
			char *s; /* NUL-terminated; may contain NUL: use len */
			size_t len;
		} string;
		int64_t integer;
		double fl;
		bool boolean;
		struct toml_datetime dt;
	} u;
};

struct toml_error {
	unsigned line, col;
	char msg[200];
};

/* Maximum nesting of arrays/inline tables/dotted tables; deeper input is an error. */
#define TOML_MAX_DEPTH 128

/*
 * Parses buf[0..len). On success returns 0 and *ret_root is a TOML_TABLE owned
 * by the caller (free with toml_free()). On failure returns -EINVAL (syntax,
 * semantics, bad UTF-8) or -ENOMEM, and fills *ret_err when non-NULL.
 */
int toml_parse(const char *buf, size_t len, struct toml_value **ret_root,
	       struct toml_error *ret_err);

/* Accepts NULL; returns NULL. */
struct toml_value *toml_free(struct toml_value *v);

/* Table lookup by NUL-terminated key; NULL if absent or t is not a table. */
const struct toml_value *toml_table_get(const struct toml_value *t, const char *key);
/* Same, returning the key/value pair (for key positions). */
const struct toml_kv *toml_table_get_kv(const struct toml_value *t, const char *key);

/* "table", "array", "string", "integer", "float", "bool", "datetime", ... */
const char *toml_type_to_string(enum toml_type t);
