/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small JSON writer on strbuf (bpftool json_writer style), plus the two
 * renderings of a record: JSON lines and the human one-liner. Pure; never logs.
 *
 * String escaping (json_escape(), every json_string*()): the output is always
 * valid JSON and valid UTF-8, whatever the input bytes are:
 *   - '"' and '\' become \" and \\;
 *   - \b \f \n \r \t use their short escapes, every other byte < 0x20 and
 *     0x7f become \u00XX (so NUL is \u0000);
 *   - well-formed UTF-8 (Unicode table 3-7: no overlongs, no surrogates
 *     U+D800..U+DFFF, nothing above U+10FFFF) is copied as is;
 *   - every byte that is not part of a well-formed sequence (a stray
 *     continuation byte, a truncated sequence, C0/C1/F5..FF, an overlong or
 *     surrogate encoding) is written as the four characters \xNN (JSON text
 *     "\\xNN", lower-case hex), one per byte, and decoding resumes at the
 *     next byte. Nothing is dropped, so the original bytes can be recovered,
 *     except that a literal backslash followed by "xNN" in the input reads the
 *     same: a consumer that must tell them apart cannot from the text alone
 *     (invalid bytes are always >= 0x80, so "\x00".."\x7f" are always literal).
 *
 * Writer: the functions append to the strbuf given to json_init(); the first
 * error (-ENOMEM, or -EINVAL for misuse such as a value without a key inside
 * an object or nesting deeper than JSON_MAX_DEPTH) is sticky, later calls do
 * nothing and json_finish() returns it. Commas are inserted automatically:
 *
 *   struct json_writer w;
 *   json_init(&w, &buf);
 *   json_begin_object(&w);
 *   json_key(&w, "pid");  json_uint(&w, 42);
 *   json_key(&w, "tags"); json_begin_array(&w); json_string(&w, "a"); json_end_array(&w);
 *   json_end_object(&w);
 *   r = json_finish(&w);   -> {"pid":42,"tags":["a"]}
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

struct record;

#define JSON_MAX_DEPTH 32

struct json_writer {
	struct strbuf *out;
	unsigned depth;
	int error; /* first error, sticky */
	bool expect_value; /* a key was written, its value is next */
	bool first[JSON_MAX_DEPTH + 1]; /* no element yet at this depth */
	bool is_object[JSON_MAX_DEPTH + 1];
};

void json_init(struct json_writer *w, struct strbuf *out);
/* 0, or the first error of any call since json_init(); also fails on unclosed containers. */
int json_finish(struct json_writer *w);

int json_begin_object(struct json_writer *w);
int json_end_object(struct json_writer *w);
int json_begin_array(struct json_writer *w);
int json_end_array(struct json_writer *w);
/* Object member name; escaped like any string. */
int json_key(struct json_writer *w, const char *key);

/* A string value from a NUL-terminated string; NULL writes null. */
int json_string(struct json_writer *w, const char *s);
/* A string value from len raw bytes (may hold NULs and invalid UTF-8). */
int json_string_len(struct json_writer *w, const char *s, size_t len);
int json_uint(struct json_writer *w, uint64_t v);
int json_int(struct json_writer *w, int64_t v);
int json_bool(struct json_writer *w, bool v);
int json_null(struct json_writer *w);
/* A value that is already valid JSON text (e.g. a nested record), copied verbatim. */
int json_raw(struct json_writer *w, const char *json, size_t len);

/* Shorthands for "key": value members. */
int json_kv_string(struct json_writer *w, const char *key, const char *s);
int json_kv_uint(struct json_writer *w, const char *key, uint64_t v);
int json_kv_int(struct json_writer *w, const char *key, int64_t v);
int json_kv_bool(struct json_writer *w, const char *key, bool v);

/* Appends len bytes as a quoted, escaped JSON string (see the top of this file). */
int json_escape(struct strbuf *out, const char *s, size_t len);

/*
 * Appends len bytes for a terminal or a log line: printable ASCII and
 * well-formed UTF-8 as is; '\' as \\ and '"' as \" (a quoted value cannot
 * fake the fields after it); \n \t \r as such; every other control
 * byte and every byte of an ill-formed UTF-8 sequence as \xNN. The result
 * never contains a control character, so one record stays one line.
 */
int text_escape(struct strbuf *out, const char *s, size_t len);

/*
 * The record as one JSON object, appended to out, on one line without a
 * trailing newline. Keys and order are record.h's field table. Numbers (pid,
 * ppid, uid, spt, dpt, suppressed) are JSON numbers, or null when unknown
 * (spt/src of a listen record); cmdline_truncated is a JSON boolean; every
 * other field is a string ("" when unknown).
 */
int record_to_json(const struct record *r, struct strbuf *out);

/*
 * The human-readable one-liner for stdout, appended to out without a trailing
 * newline, e.g.
 *   2026-11-21T20:01:57.123456Z out tcp 127.0.0.1:40312 -> 127.0.0.1:8080 pid=4242
 *   user=root exe=/usr/bin/curl cmdline="curl -s http://127.0.0.1:8080/" unit=- result=0
 * ("-" for an empty value; "*:*" for the src of a listen record; IPv6 in
 * brackets), "[truncated]" right after a cut cmdline, and outcome= rule=
 * [suppressed=] [reason=""] appended when a decision is present. Text values go
 * through text_escape().
 */
int record_to_line(const struct record *r, struct strbuf *out);
