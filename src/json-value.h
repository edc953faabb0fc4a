/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small JSON reader into a tree, for the control protocol: the daemon reads
 * one-line requests, the CLI reads the daemon's answers and event records.
 * Strict RFC 8259 syntax; depth is bounded (JV_DEPTH_MAX). Pure: no logging.
 * (Writing JSON is json.h's job.)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

#define JV_DEPTH_MAX 32

enum jv_type {
	JV_NULL,
	JV_BOOL,
	JV_NUMBER,
	JV_STRING,
	JV_ARRAY,
	JV_OBJECT,
};

struct jv {
	enum jv_type type;
	char *key; /* member name when the parent is an object, else NULL */
	char *str; /* JV_STRING: decoded UTF-8 (may hold NUL: see len); JV_NUMBER: source text */
	size_t len; /* JV_STRING: length of str */
	bool boolean; /* JV_BOOL */
	struct jv *child; /* JV_ARRAY/JV_OBJECT: first element or member */
	struct jv *next; /* next sibling */
};

/* Parses exactly one JSON value (surrounding whitespace allowed). -EINVAL on bad syntax. */
int jv_parse(const char *s, size_t len, struct jv **ret);
struct jv *jv_free(struct jv *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct jv *, jv_free);

/* Member of an object by name (first match); NULL if v is not an object or has none. */
const struct jv *jv_get(const struct jv *v, const char *key);
/* String member, or NULL when absent or not a string. */
const char *jv_get_str(const struct jv *v, const char *key);
/* Scalar as text: strings as they are, numbers as written, true/false, "null" ("" for containers). */
const char *jv_scalar_text(const struct jv *v);

struct json_writer;
/* Writes v (and, inside containers, its children) back as JSON. */
int jv_write(const struct jv *v, struct json_writer *w);
