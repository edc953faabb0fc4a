// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON writer and record renderings; escaping rules are documented in json.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "aegis.h"
#include "json.h"
#include "record.h"

/*
 * Length of the well-formed UTF-8 sequence at s (Unicode table 3-7), or 0
 * when the byte at s does not start one. Only for bytes >= 0x80.
 */
static size_t utf8_valid_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0; /* continuation byte, C0/C1 (overlong), F5..FF */

	/* the second byte's range excludes overlongs, surrogates and > U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;

	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static const char hexdigits[] = "0123456789abcdef";

static int put_hex_byte(struct strbuf *out, const char *prefix, unsigned char c)
{
	char tmp[8];
	size_t n = strlen(prefix);

	memcpy(tmp, prefix, n);
	tmp[n++] = hexdigits[c >> 4];
	tmp[n++] = hexdigits[c & 0xf];
	return strbuf_append(out, tmp, n);
}

/*
 * Shared scanner: copies runs of bytes that need no escape in one append,
 * calls esc() for the rest. esc returns the number of bytes it consumed.
 */
typedef int (*escape_fn)(struct strbuf *out, const unsigned char *s, size_t len, size_t *consumed);

static bool plain_byte(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c < 0x80 && c != '\\' && c != '"';
}

static int escape_run(struct strbuf *out, const char *str, size_t len, escape_fn esc)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	int r;

	while (i < len) {
		size_t start = i, used = 0;

		while (i < len && plain_byte(s[i]))
			i++;
		if (i > start) {
			r = strbuf_append(out, (const char *)s + start, i - start);
			if (r < 0)
				return r;
		}
		if (i >= len)
			break;
		if (s[i] >= 0x80) {
			size_t n = utf8_valid_len(s + i, len - i);

			if (n > 0) {
				r = strbuf_append(out, (const char *)s + i, n);
				if (r < 0)
					return r;
				i += n;
				continue;
			}
		}
		r = esc(out, s + i, len - i, &used);
		if (r < 0)
			return r;
		i += used;
	}
	return 0;
}

static int json_escape_one(struct strbuf *out, const unsigned char *s, size_t len, size_t *consumed)
{
	unsigned char c = s[0];

	*consumed = 1;
	switch (c) {
	case '"':
		return strbuf_append(out, "\\\"", 2);
	case '\\':
		return strbuf_append(out, "\\\\", 2);
	case '\b':
		return strbuf_append(out, "\\b", 2);
	case '\f':
		return strbuf_append(out, "\\f", 2);
	case '\n':
		return strbuf_append(out, "\\n", 2);
	case '\r':
		return strbuf_append(out, "\\r", 2);
	case '\t':
		return strbuf_append(out, "\\t", 2);
	}
	if (c >= 0x80) /* not part of a well-formed sequence */
		return put_hex_byte(out, "\\\\x", c);
	return put_hex_byte(out, "\\u00", c);
}

int json_escape(struct strbuf *out, const char *s, size_t len)
{
	int r;

	r = strbuf_putc(out, '"');
	if (r < 0)
		return r;
	r = escape_run(out, s, len, json_escape_one);
	if (r < 0)
		return r;
	return strbuf_putc(out, '"');
}

static int text_escape_one(struct strbuf *out, const unsigned char *s, size_t len, size_t *consumed)
{
	unsigned char c = s[0];

	*consumed = 1;
	switch (c) {
	case '"':
		return strbuf_append(out, "\\\"", 2);
	case '\\':
		return strbuf_append(out, "\\\\", 2);
	case '\n':
		return strbuf_append(out, "\\n", 2);
	case '\r':
		return strbuf_append(out, "\\r", 2);
	case '\t':
		return strbuf_append(out, "\\t", 2);
	}
	return put_hex_byte(out, "\\x", c);
}

int text_escape(struct strbuf *out, const char *s, size_t len)
{
	return escape_run(out, s, len, text_escape_one);
}

/* ---- writer ---- */

void json_init(struct json_writer *w, struct strbuf *out)
{
	*w = (struct json_writer){ .out = out };
	w->first[0] = true;
}

int json_finish(struct json_writer *w)
{
	if (w->error)
		return w->error;
	if (w->depth != 0 || w->expect_value)
		return -EINVAL;
	if (w->out->oom)
		return -ENOMEM;
	return 0;
}

static int fail(struct json_writer *w, int r)
{
	if (!w->error)
		w->error = r;
	return w->error;
}

/* Separator and state check before any value (or key). */
static int pre_value(struct json_writer *w)
{
	if (w->error)
		return w->error;
	if (w->depth > 0 && w->is_object[w->depth]) {
		/* inside an object a value must follow its key */
		if (!w->expect_value)
			return fail(w, -EINVAL);
		w->expect_value = false;
		return 0;
	}
	if (!w->first[w->depth]) {
		if (w->depth == 0)
			return fail(w, -EINVAL); /* a second top-level value */
		if (strbuf_putc(w->out, ',') < 0)
			return fail(w, -ENOMEM);
	}
	w->first[w->depth] = false;
	return 0;
}

static int emit(struct json_writer *w, const char *s, size_t len)
{
	if (strbuf_append(w->out, s, len) < 0)
		return fail(w, -ENOMEM);
	return 0;
}

static int begin(struct json_writer *w, bool object)
{
	int r = pre_value(w);

	if (r < 0)
		return r;
	if (w->depth >= JSON_MAX_DEPTH)
		return fail(w, -EINVAL);
	w->depth++;
	w->first[w->depth] = true;
	w->is_object[w->depth] = object;
	return emit(w, object ? "{" : "[", 1);
}

static int end(struct json_writer *w, bool object)
{
	if (w->error)
		return w->error;
	if (w->depth == 0 || w->is_object[w->depth] != object || w->expect_value)
		return fail(w, -EINVAL);
	w->depth--;
	return emit(w, object ? "}" : "]", 1);
}

int json_begin_object(struct json_writer *w)
{
	return begin(w, true);
}

int json_end_object(struct json_writer *w)
{
	return end(w, true);
}

int json_begin_array(struct json_writer *w)
{
	return begin(w, false);
}

int json_end_array(struct json_writer *w)
{
	return end(w, false);
}

int json_key(struct json_writer *w, const char *key)
{
	if (w->error)
		return w->error;
	if (w->depth == 0 || !w->is_object[w->depth] || w->expect_value)
		return fail(w, -EINVAL);
	if (!w->first[w->depth] && strbuf_putc(w->out, ',') < 0)
		return fail(w, -ENOMEM);
	w->first[w->depth] = false;
	if (json_escape(w->out, key, strlen(key)) < 0 || strbuf_putc(w->out, ':') < 0)
		return fail(w, -ENOMEM);
	w->expect_value = true;
	return 0;
}

int json_string_len(struct json_writer *w, const char *s, size_t len)
{
	int r = pre_value(w);

	if (r < 0)
		return r;
	if (json_escape(w->out, s, len) < 0)
		return fail(w, -ENOMEM);
	return 0;
}

int json_string(struct json_writer *w, const char *s)
{
	if (!s)
		return json_null(w);
	return json_string_len(w, s, strlen(s));
}

int json_raw(struct json_writer *w, const char *json, size_t len)
{
	int r = pre_value(w);

	if (r < 0)
		return r;
	return emit(w, json, len);
}

int json_uint(struct json_writer *w, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	return json_raw(w, buf, (size_t)n);
}

int json_int(struct json_writer *w, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRIi64, v);

	return json_raw(w, buf, (size_t)n);
}

int json_bool(struct json_writer *w, bool v)
{
	return v ? json_raw(w, "true", 4) : json_raw(w, "false", 5);
}

int json_null(struct json_writer *w)
{
	return json_raw(w, "null", 4);
}

int json_kv_string(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	return json_string(w, s);
}

int json_kv_uint(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	return json_uint(w, v);
}

int json_kv_int(struct json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	return json_int(w, v);
}

int json_kv_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	return json_bool(w, v);
}

/* ---- records ---- */

static bool is_decimal(const char *s, size_t len)
{
	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int json_field_cb(const char *name, enum field_kind kind, const char *value, size_t len,
			 void *userdata)
{
	struct json_writer *w = userdata;

	json_key(w, name);
	switch (kind) {
	case FIELD_KIND_NUMBER:
		if (!is_decimal(value, len))
			return json_null(w);
		return json_raw(w, value, len);
	case FIELD_KIND_BOOL:
		return json_bool(w, len == 4 && memcmp(value, "true", 4) == 0);
	case FIELD_KIND_STRING:
		break;
	}
	return json_string_len(w, value, len);
}

int record_to_json(const struct record *r, struct strbuf *out)
{
	struct json_writer w;
	int k;

	json_init(&w, out);
	json_begin_object(&w);
	k = record_foreach_field_typed(r, json_field_cb, &w);
	if (k < 0)
		return k;
	json_end_object(&w);
	return json_finish(&w);
}

/* ---- human line ---- */

static int put_endpoint(struct strbuf *out, const struct record *r, const uint8_t addr[16],
			uint16_t port, bool known)
{
	char a[64];

	if (!known)
		return strbuf_puts(out, "*:*");
	record_addr_to_string(r->family, addr, a, sizeof(a));
	if (r->family == AF_INET6)
		return strbuf_printf(out, "[%s]:%u", a, port);
	return strbuf_printf(out, "%s:%u", a[0] ? a : "*", port);
}

/* " key=value" with value escaped; "-" for an empty value unless quoted. */
static int put_kv(struct strbuf *out, const char *key, const char *value, bool quote)
{
	size_t len = value ? strlen(value) : 0;
	int r = strbuf_printf(out, " %s=%s", key, quote ? "\"" : "");

	if (r < 0)
		return r;
	if (len == 0 && !quote)
		return strbuf_putc(out, '-');
	r = text_escape(out, value, len);
	if (r < 0)
		return r;
	return quote ? strbuf_putc(out, '"') : 0;
}

static int find_actions_cb(const char *name, enum field_kind kind, const char *value, size_t len,
			   void *userdata)
{
	if (!streq(name, "actions"))
		return 0;
	snprintf(userdata, 64, "%.*s", (int)len, value);
	return 1; /* found: stop */
}

int record_to_line(const struct record *r, struct strbuf *out)
{
	static const struct proc_info empty_proc = {};
	const struct proc_info *p = r->proc ?: &empty_proc;
	const char *dir = direction_to_string(r->direction), *proto = proto_to_string(r->proto);
	char buf[64];

	strbuf_puts(out, record_time_to_string(r->time_usec, buf, sizeof(buf)));
	strbuf_printf(out, " %s %s ", dir ?: "?", proto ?: "?");
	put_endpoint(out, r, r->saddr, r->sport, r->direction != AEGIS_DIR_LISTEN);
	strbuf_puts(out, " -> ");
	put_endpoint(out, r, r->daddr, r->dport, true);
	strbuf_printf(out, " pid=%d", (int)p->pid);
	put_kv(out, "user", p->user, false);
	put_kv(out, "exe", p->exe, false);
	put_kv(out, "cmdline", p->cmdline, true);
	if (p->cmdline_truncated)
		strbuf_puts(out, "[truncated]");
	put_kv(out, "unit", p->unit, false);
	put_kv(out, "result", record_result_to_string(r, buf, sizeof(buf)), false);
	if (r->outcome != OUTCOME_NONE) {
		put_kv(out, "outcome", outcome_to_string(r->outcome), false);
		put_kv(out, "rule", r->rule, false);
		buf[0] = 0;
		(void)record_foreach_field_typed(r, find_actions_cb, buf);
		put_kv(out, "actions", buf, false);
		if (r->suppressed)
			strbuf_printf(out, " suppressed=%" PRIu64, r->suppressed);
		if (r->reason && r->reason[0])
			put_kv(out, "reason", r->reason, true);
	}
	return out->oom ? -ENOMEM : 0;
}
