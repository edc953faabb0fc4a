// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-value.h"
#include "json.h"
#include "strbuf.h"

struct parser {
	const char *p, *end;
	unsigned depth;
};

static int parse_value(struct parser *ps, struct jv **ret);

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool eat(struct parser *ps, char c)
{
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == c) {
		ps->p++;
		return true;
	}
	return false;
}

static bool eat_word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0)
		return false;
	ps->p += n;
	return true;
}

static struct jv *jv_alloc(enum jv_type type)
{
	struct jv *v = calloc(1, sizeof(*v));

	if (v)
		v->type = type;
	return v;
}

struct jv *jv_free(struct jv *v)
{
	while (v) {
		struct jv *next = v->next;

		jv_free(v->child);
		free(v->key);
		free(v->str);
		free(v);
		v = next;
	}
	return NULL;
}

static int hex4(struct parser *ps, uint32_t *ret)
{
	uint32_t u = 0;

	if (ps->end - ps->p < 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		char c = *ps->p++;

		u <<= 4;
		if (c >= '0' && c <= '9')
			u |= c - '0';
		else if (c >= 'a' && c <= 'f')
			u |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			u |= c - 'A' + 10;
		else
			return -EINVAL;
	}
	*ret = u;
	return 0;
}

static int put_utf8(struct strbuf *b, uint32_t u)
{
	char t[4];
	size_t n;

	if (u < 0x80) {
		t[0] = u;
		n = 1;
	} else if (u < 0x800) {
		t[0] = 0xc0 | (u >> 6);
		t[1] = 0x80 | (u & 0x3f);
		n = 2;
	} else if (u < 0x10000) {
		t[0] = 0xe0 | (u >> 12);
		t[1] = 0x80 | ((u >> 6) & 0x3f);
		t[2] = 0x80 | (u & 0x3f);
		n = 3;
	} else {
		t[0] = 0xf0 | (u >> 18);
		t[1] = 0x80 | ((u >> 12) & 0x3f);
		t[2] = 0x80 | ((u >> 6) & 0x3f);
		t[3] = 0x80 | (u & 0x3f);
		n = 4;
	}
	return strbuf_append(b, t, n);
}

static int parse_escape(struct parser *ps, struct strbuf *b)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	uint32_t u, lo;

	if (ps->p >= ps->end)
		return -EINVAL;
	if (*ps->p != 'u') {
		e = memchr(from, *ps->p, sizeof(from) - 1);
		if (!e)
			return -EINVAL;
		ps->p++;
		return strbuf_putc(b, to[e - from]);
	}
	ps->p++;
	if (hex4(ps, &u) < 0)
		return -EINVAL;
	if (u >= 0xd800 && u < 0xdc00) {
		/* a high surrogate must be followed by a low one */
		if (!eat_word(ps, "\\u") || hex4(ps, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return -EINVAL;
		u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
	} else if (u >= 0xdc00 && u < 0xe000) {
		return -EINVAL;
	}
	return put_utf8(b, u);
}

static int parse_string_raw(struct parser *ps, char **ret, size_t *ret_len)
{
	_cleanup_(strbuf_done) struct strbuf b = {};
	int r;

	if (!eat(ps, '"'))
		return -EINVAL;
	for (;;) {
		const char *start = ps->p;

		while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' &&
		       (unsigned char)*ps->p >= 0x20)
			ps->p++;
		r = strbuf_append(&b, start, ps->p - start);
		if (r < 0)
			return r;
		if (ps->p >= ps->end || (unsigned char)*ps->p < 0x20)
			return -EINVAL;
		if (*ps->p++ == '"')
			break;
		r = parse_escape(ps, &b);
		if (r < 0)
			return r;
	}
	if (strbuf_putc(&b, 0) < 0) /* make sure s is allocated even for "" */
		return -ENOMEM;
	*ret_len = b.len - 1;
	*ret = strbuf_steal(&b);
	return 0;
}

static int parse_number(struct parser *ps, struct jv **ret)
{
	const char *start = ps->p;
	struct jv *v;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		return -EINVAL;
	if (*ps->p == '0')
		ps->p++;
	else
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return -EINVAL;
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return -EINVAL;
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	v = jv_alloc(JV_NUMBER);
	if (!v)
		return -ENOMEM;
	v->str = strndup(start, ps->p - start);
	if (!v->str)
		return jv_free(v), -ENOMEM;
	*ret = v;
	return 0;
}

/* Elements of an array or members of an object, after the opening bracket. */
static int parse_children(struct parser *ps, struct jv *parent, char close)
{
	struct jv **tail = &parent->child;
	_cleanup_free_ char *key = NULL;
	size_t key_len;
	int r;

	if (eat(ps, close))
		return 0;
	for (;;) {
		if (parent->type == JV_OBJECT) {
			skip_ws(ps);
			r = parse_string_raw(ps, &key, &key_len);
			if (r < 0)
				return r;
			if (!eat(ps, ':'))
				return -EINVAL;
		}
		r = parse_value(ps, tail);
		if (r < 0)
			return r;
		(*tail)->key = TAKE_PTR(key);
		tail = &(*tail)->next;
		if (eat(ps, close))
			return 0;
		if (!eat(ps, ','))
			return -EINVAL;
	}
}

static int parse_value(struct parser *ps, struct jv **ret)
{
	_cleanup_(jv_freep) struct jv *v = NULL;
	char c;
	int r;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return -EINVAL;
	c = *ps->p;
	if (c == '{' || c == '[') {
		if (++ps->depth > JV_DEPTH_MAX)
			return -ELOOP;
		ps->p++;
		v = jv_alloc(c == '{' ? JV_OBJECT : JV_ARRAY);
		if (!v)
			return -ENOMEM;
		r = parse_children(ps, v, c == '{' ? '}' : ']');
		if (r < 0)
			return r;
		ps->depth--;
	} else if (c == '"') {
		v = jv_alloc(JV_STRING);
		if (!v)
			return -ENOMEM;
		r = parse_string_raw(ps, &v->str, &v->len);
		if (r < 0)
			return r;
	} else if (eat_word(ps, "true") || eat_word(ps, "false")) {
		v = jv_alloc(JV_BOOL);
		if (!v)
			return -ENOMEM;
		v->boolean = c == 't';
	} else if (eat_word(ps, "null")) {
		v = jv_alloc(JV_NULL);
		if (!v)
			return -ENOMEM;
	} else {
		return parse_number(ps, ret);
	}
	*ret = TAKE_PTR(v);
	return 0;
}

int jv_parse(const char *s, size_t len, struct jv **ret)
{
	struct parser ps = { .p = s, .end = s + len };
	_cleanup_(jv_freep) struct jv *v = NULL;
	int r;

	r = parse_value(&ps, &v);
	if (r < 0)
		return r;
	skip_ws(&ps);
	if (ps.p != ps.end)
		return -EINVAL;
	*ret = TAKE_PTR(v);
	return 0;
}

const struct jv *jv_get(const struct jv *v, const char *key)
{
	if (!v || v->type != JV_OBJECT)
		return NULL;
	for (const struct jv *m = v->child; m; m = m->next)
		if (streq(m->key, key))
			return m;
	return NULL;
}

const char *jv_get_str(const struct jv *v, const char *key)
{
	const struct jv *m = jv_get(v, key);

	return m && m->type == JV_STRING ? m->str : NULL;
}

const char *jv_scalar_text(const struct jv *v)
{
	switch (v->type) {
	case JV_NULL:
		return "null";
	case JV_BOOL:
		return v->boolean ? "true" : "false";
	case JV_NUMBER:
	case JV_STRING:
		return v->str;
	default:
		return "";
	}
}

int jv_write(const struct jv *v, struct json_writer *w)
{
	switch (v->type) {
	case JV_NULL:
		return json_null(w);
	case JV_BOOL:
		return json_bool(w, v->boolean);
	case JV_NUMBER:
		return json_raw(w, v->str, strlen(v->str));
	case JV_STRING:
		return json_string_len(w, v->str, v->len);
	case JV_ARRAY:
	case JV_OBJECT:
		if (v->type == JV_ARRAY)
			json_begin_array(w);
		else
			json_begin_object(w);
		for (const struct jv *c = v->child; c; c = c->next) {
			if (c->key)
				json_key(w, c->key);
			jv_write(c, w);
		}
		return v->type == JV_ARRAY ? json_end_array(w) : json_end_object(w);
	}
	return -EINVAL;
}
