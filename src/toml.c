/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Strict TOML 1.0 parser.
 *
 * The document level is a loop over lines; only values (arrays, inline
 * tables) recurse, and every container records its depth, which is bounded
 * by TOML_MAX_DEPTH, so neither parsing nor freeing can exhaust the stack.
 * Tables with many keys get an open-addressing hash index, so lookups stay
 * O(1) for large documents.
 *
 * Redefinition rules (TOML 1.0 "Table" section), per table node:
 *   EXPLICIT  defined by a [header] (or is an [[array]] element): no second
 *             [header], no dotted keys into it from another section;
 *   DOTTED    created by a dotted key in section N: dotted keys of section N
 *             may extend it, a [header] may never define it (but may define
 *             sub-tables below it);
 *   FROZEN    inline table or static array: never extended;
 *   none      created implicitly as the parent of a [header]: may be
 *             defined once by a later [header] or claimed by dotted keys.
 * A section is the body of one [header] (the root is the first) or one
 * inline table.
 */
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "toml.h"

enum {
	NODE_EXPLICIT = 1 << 0,
	NODE_DOTTED = 1 << 1,
	NODE_FROZEN = 1 << 2,
	NODE_AOT = 1 << 3, /* array of tables created by [[header]] */
};

#define INDEX_MIN 8 /* tables with at least this many keys get a hash index */

struct node {
	struct toml_value v; /* first: the public view */
	unsigned flags;
	unsigned depth;
	unsigned section;
	size_t cap; /* allocated table/array items */
	uint32_t *index; /* open addressing: item index + 1, 0 = empty */
	size_t index_cap;
};

struct keypart {
	size_t off, len; /* into parser.kbuf */
	size_t pos; /* where it was written */
	unsigned line, col; /* the same, computed while the line cache is there */
};

struct sbuf {
	char *s;
	size_t len, cap;
};

struct parser {
	const char *buf;
	size_t len, pos;
	struct toml_error *err;
	bool failed, oom;

	/* line/column cache: positions are mostly asked for in increasing order */
	size_t lc_pos, lc_line_start;
	unsigned lc_line;

	unsigned section, n_sections;

	struct keypart *keys;
	size_t n_keys, keys_cap;
	struct sbuf kbuf; /* decoded key parts */
	struct sbuf sbuf; /* decoded string value */
	locale_t c_locale; /* for strtod_l(), created on the first float */
};

static const char *const type_names[_TOML_TYPE_MAX] = {
	[TOML_TABLE] = "table",		  [TOML_ARRAY] = "array",
	[TOML_STRING] = "string",	  [TOML_INTEGER] = "integer",
	[TOML_FLOAT] = "float",		  [TOML_BOOL] = "bool",
	[TOML_DATETIME] = "datetime",	  [TOML_DATETIME_LOCAL] = "datetime-local",
	[TOML_DATE_LOCAL] = "date-local", [TOML_TIME_LOCAL] = "time-local",
};

const char *toml_type_to_string(enum toml_type t)
{
	if ((unsigned)t >= _TOML_TYPE_MAX)
		return NULL;
	return type_names[t];
}

/* ---- positions and errors ---- */

static void linecol(struct parser *p, size_t pos, unsigned *ret_line, unsigned *ret_col)
{
	const char *nl;

	if (pos > p->len)
		pos = p->len;
	if (pos < p->lc_line_start) {
		/* backwards (error positions, header starts): rare and short */
		const char *b = p->buf;

		for (size_t i = pos; i < p->lc_line_start; i++)
			p->lc_line -= b[i] == '\n';
		p->lc_line_start = pos;
		while (p->lc_line_start > 0 && b[p->lc_line_start - 1] != '\n')
			p->lc_line_start--;
		p->lc_pos = pos;
	} else if (pos < p->lc_pos) {
		p->lc_pos = pos;
	}
	while ((nl = memchr(p->buf + p->lc_pos, '\n', pos - p->lc_pos))) {
		p->lc_line++;
		p->lc_pos = p->lc_line_start = nl - p->buf + 1;
	}
	p->lc_pos = pos;
	*ret_line = p->lc_line;
	*ret_col = pos - p->lc_line_start + 1;
}

/* Records the first error; the caller returns -EINVAL (see fail()). */
_printf_(3, 4) static void set_error(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	if (p->err) {
		linecol(p, pos, &p->err->line, &p->err->col);
		va_start(ap, fmt);
		vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
		va_end(ap);
	}
}

/* A macro so that the result is visibly -EINVAL (to readers and to the analyzer). */
#define fail(p, pos, ...) (set_error((p), (pos), __VA_ARGS__), -EINVAL)

static void set_oom(struct parser *p)
{
	if (!p->failed && p->err) {
		linecol(p, p->pos, &p->err->line, &p->err->col);
		snprintf(p->err->msg, sizeof(p->err->msg), "out of memory");
	}
	p->failed = p->oom = true;
}

#define fail_oom(p) (set_oom(p), -ENOMEM)

/* Renders a key for messages: control bytes escaped, long keys cut. */
static const char *key_display(char *out, size_t outsz, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (o + 8 >= outsz) {
			/* don't cut a UTF-8 sequence in half */
			while (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
				o--;
			if (o > 0 && (unsigned char)out[o - 1] >= 0xC0)
				o--;
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7F || c == '\\' || c == '\'')
			o += snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

#define KEYBUF 72

static const char *part_display(struct parser *p, char *out, size_t i)
{
	return key_display(out, KEYBUF, p->kbuf.s + p->keys[i].off, p->keys[i].len);
}

/* ---- small buffers ---- */

static int sbuf_grow(struct sbuf *b, size_t more)
{
	size_t want = b->len + more + 1;
	char *n;

	if (want <= b->cap)
		return 0;
	if (want < b->cap * 2)
		want = b->cap * 2;
	if (want < 64)
		want = 64;
	n = realloc(b->s, want);
	if (!n)
		return -ENOMEM;
	b->s = n;
	b->cap = want;
	return 0;
}

static int sbuf_put(struct sbuf *b, const char *s, size_t n)
{
	if (sbuf_grow(b, n) < 0)
		return -ENOMEM;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

static int sbuf_put_utf8(struct sbuf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = 0xC0 | (cp >> 6);
		u[1] = 0x80 | (cp & 0x3F);
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = 0xE0 | (cp >> 12);
		u[1] = 0x80 | ((cp >> 6) & 0x3F);
		u[2] = 0x80 | (cp & 0x3F);
		n = 3;
	} else {
		u[0] = 0xF0 | (cp >> 18);
		u[1] = 0x80 | ((cp >> 12) & 0x3F);
		u[2] = 0x80 | ((cp >> 6) & 0x3F);
		u[3] = 0x80 | (cp & 0x3F);
		n = 4;
	}
	return sbuf_put(b, u, n);
}

static char *memdup_nul(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* ---- nodes ---- */

static void node_free(struct node *n)
{
	if (!n)
		return;
	switch (n->v.type) {
	case TOML_TABLE:
		for (size_t i = 0; i < n->v.u.table.n; i++) {
			free(n->v.u.table.items[i].key);
			node_free((struct node *)n->v.u.table.items[i].value);
		}
		free(n->v.u.table.items);
		free(n->index);
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < n->v.u.array.n; i++)
			node_free((struct node *)n->v.u.array.items[i]);
		free(n->v.u.array.items);
		break;
	case TOML_STRING:
		free(n->v.u.string.s);
		break;
	default:
		break;
	}
	free(n);
}

struct toml_value *toml_free(struct toml_value *v)
{
	node_free((struct node *)v);
	return NULL;
}

static int node_new(struct parser *p, enum toml_type type, unsigned depth, size_t pos,
		    struct node **ret)
{
	struct node *n;

	if ((type == TOML_TABLE || type == TOML_ARRAY) && depth > TOML_MAX_DEPTH)
		return fail(p, pos, "nesting deeper than %d levels", TOML_MAX_DEPTH);
	n = calloc(1, sizeof(*n));
	if (!n)
		return fail_oom(p);
	n->v.type = type;
	n->depth = depth;
	linecol(p, pos, &n->v.line, &n->v.col);
	*ret = n;
	return 0;
}

static uint64_t hash_key(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void index_insert(struct node *t, size_t item)
{
	const struct toml_kv *kv = &t->v.u.table.items[item];
	size_t mask = t->index_cap - 1;
	size_t i = hash_key(kv->key, kv->key_len) & mask;

	while (t->index[i])
		i = (i + 1) & mask;
	t->index[i] = item + 1;
}

static int index_rebuild(struct node *t)
{
	size_t cap = 16;

	while (cap < t->v.u.table.n * 2)
		cap *= 2;
	free(t->index);
	t->index = calloc(cap, sizeof(*t->index));
	if (!t->index) {
		t->index_cap = 0;
		return -ENOMEM;
	}
	t->index_cap = cap;
	for (size_t i = 0; i < t->v.u.table.n; i++)
		index_insert(t, i);
	return 0;
}

static struct toml_kv *table_find(const struct node *t, const char *key, size_t len)
{
	struct toml_kv *items = t->v.u.table.items;

	if (t->index) {
		size_t mask = t->index_cap - 1;

		for (size_t i = hash_key(key, len) & mask; t->index[i]; i = (i + 1) & mask) {
			struct toml_kv *kv = &items[t->index[i] - 1];

			if (kv->key_len == len && memcmp(kv->key, key, len) == 0)
				return kv;
		}
		return NULL;
	}
	for (size_t i = 0; i < t->v.u.table.n; i++)
		if (items[i].key_len == len && memcmp(items[i].key, key, len) == 0)
			return &items[i];
	return NULL;
}

/* Takes ownership of key and value, also on failure. */
static int table_add(struct parser *p, struct node *t, char *key, const struct keypart *k,
		     struct node *value)
{
	size_t n = t->v.u.table.n;

	if (n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4;
		struct toml_kv *items = realloc(t->v.u.table.items, cap * sizeof(*items));

		if (!items) {
			free(key);
			node_free(value);
			return fail_oom(p);
		}
		t->v.u.table.items = items;
		t->cap = cap;
	}
	t->v.u.table.items[n] = (struct toml_kv){
		.key = key,
		.key_len = k->len,
		.line = k->line,
		.col = k->col,
		.value = &value->v,
	};
	t->v.u.table.n++;
	if (t->v.u.table.n >= INDEX_MIN) {
		if (!t->index || t->v.u.table.n * 2 > t->index_cap) {
			if (index_rebuild(t) < 0)
				return fail_oom(p);
		} else {
			index_insert(t, n);
		}
	}
	return 0;
}

/* Takes ownership of value, also on failure. */
static int array_add(struct parser *p, struct node *a, struct node *value)
{
	size_t n = a->v.u.array.n;

	if (n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;
		struct toml_value **items = realloc(a->v.u.array.items, cap * sizeof(*items));

		if (!items) {
			node_free(value);
			return fail_oom(p);
		}
		a->v.u.array.items = items;
		a->cap = cap;
	}
	a->v.u.array.items[n] = &value->v;
	a->v.u.array.n++;
	return 0;
}

/* Creates table key i of p->keys in t. */
static int table_add_subtable(struct parser *p, struct node *t, size_t i, unsigned flags,
			      struct node **ret)
{
	struct keypart *k = &p->keys[i];
	struct node *n;
	char *key;

	if (node_new(p, TOML_TABLE, t->depth + 1, k->pos, &n) < 0)
		return -EINVAL;
	n->flags = flags;
	n->section = p->section;
	key = memdup_nul(p->kbuf.s + k->off, k->len);
	if (!key) {
		node_free(n);
		return fail_oom(p);
	}
	if (table_add(p, t, key, k, n) < 0)
		return -EINVAL;
	*ret = n;
	return 0;
}

/* Marks a finished inline table and everything created inside it as immutable. */
static void freeze(struct node *n)
{
	if (n->flags & NODE_FROZEN)
		return;
	n->flags |= NODE_FROZEN;
	if (n->v.type == TOML_TABLE)
		for (size_t i = 0; i < n->v.u.table.n; i++)
			freeze((struct node *)n->v.u.table.items[i].value);
	else if (n->v.type == TOML_ARRAY)
		for (size_t i = 0; i < n->v.u.array.n; i++)
			freeze((struct node *)n->v.u.array.items[i]);
}

/* ---- UTF-8 and characters ---- */

/* Length of the valid UTF-8 sequence at s (no overlongs, surrogates, > U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* Code point of an already validated UTF-8 sequence. */
static uint32_t utf8_decode(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = u[0] < 0xE0 ? 2 : u[0] < 0xF0 ? 3 : 4;
	uint32_t cp = u[0] & (0x7F >> n);

	for (size_t i = 1; i < n; i++)
		cp = (cp << 6) | (u[i] & 0x3F);
	return cp;
}

static int check_encoding(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->buf;

	for (size_t i = 0; i < p->len;) {
		size_t n;

		if (s[i] == 0)
			return fail(p, i, "NUL byte in input");
		n = utf8_len(s + i, p->len - i);
		if (!n)
			return fail(p, i, "invalid UTF-8 byte 0x%02x", s[i]);
		i += n;
	}
	return 0;
}

static int peek_at(const struct parser *p, size_t off)
{
	if (p->pos + off >= p->len)
		return -1;
	return (unsigned char)p->buf[p->pos + off];
}

static int peek(const struct parser *p)
{
	return peek_at(p, 0);
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_bare_key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
	       c == '-';
}

static bool is_newline(const struct parser *p)
{
	return peek(p) == '\n' || (peek(p) == '\r' && peek_at(p, 1) == '\n');
}

static void skip_newline(struct parser *p)
{
	p->pos += peek(p) == '\r' ? 2 : 1;
}

static void skip_ws(struct parser *p)
{
	while (peek(p) == ' ' || peek(p) == '\t')
		p->pos++;
}

/* Control characters are allowed nowhere but as tab (and as newlines where noted). */
static bool is_control(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F;
}

static int bad_char(struct parser *p, const char *where)
{
	int c = peek(p);

	if (c == '\r')
		return fail(p, p->pos, "carriage return not followed by a newline %s", where);
	return fail(p, p->pos, "control character 0x%02x %s", c, where);
}

static int skip_comment(struct parser *p)
{
	p->pos++; /* '#' */
	for (int c; (c = peek(p)) >= 0 && !is_newline(p); p->pos++)
		if (is_control(c))
			return bad_char(p, "in comment");
	return 0;
}

/* Skips whitespace, comments and newlines (inside arrays). */
static int skip_ws_nl(struct parser *p)
{
	for (;;) {
		skip_ws(p);
		if (peek(p) == '#') {
			if (skip_comment(p) < 0)
				return -EINVAL;
		} else if (is_newline(p)) {
			skip_newline(p);
		} else {
			return 0;
		}
	}
}

/* After a key/value pair or a header: whitespace, an optional comment, then a newline or EOF. */
static int expect_eol(struct parser *p, const char *what)
{
	skip_ws(p);
	if (peek(p) == '#' && skip_comment(p) < 0)
		return -EINVAL;
	if (peek(p) < 0)
		return 0;
	if (is_newline(p)) {
		skip_newline(p);
		return 0;
	}
	if (is_control(peek(p)))
		return bad_char(p, "where a newline was expected");
	return fail(p, p->pos, "expected a newline after %s", what);
}

/* ---- strings ---- */

static int hexval(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_unicode_escape(struct parser *p, struct sbuf *b, size_t start, int digits)
{
	uint32_t cp = 0;

	for (int i = 0; i < digits; i++) {
		int h = hexval(peek(p));

		if (h < 0)
			return fail(p, start, "invalid escape '\\%c': expected %d hex digits",
				    digits == 4 ? 'u' : 'U', digits);
		cp = cp * 16 + h;
		p->pos++;
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return fail(p, start, "escape '%.*s' is not a Unicode scalar value", digits + 2,
			    p->buf + start);
	return sbuf_put_utf8(b, cp) < 0 ? fail_oom(p) : 0;
}

/* Multi-line basic strings: a backslash at the end of a line trims all following whitespace. */
static bool skip_line_continuation(struct parser *p)
{
	size_t save = p->pos;

	skip_ws(p);
	if (!is_newline(p)) {
		p->pos = save;
		return false;
	}
	for (;;) {
		skip_ws(p);
		if (!is_newline(p))
			return true;
		skip_newline(p);
	}
}

static int parse_escape(struct parser *p, struct sbuf *b, bool multiline)
{
	size_t start = p->pos;
	int c;
	char out;

	p->pos++; /* '\\' */
	c = peek(p);
	switch (c) {
	case 'b':
		out = '\b';
		break;
	case 't':
		out = '\t';
		break;
	case 'n':
		out = '\n';
		break;
	case 'f':
		out = '\f';
		break;
	case 'r':
		out = '\r';
		break;
	case '"':
		out = '"';
		break;
	case '\\':
		out = '\\';
		break;
	case 'u':
	case 'U':
		p->pos++;
		return parse_unicode_escape(p, b, start, c == 'u' ? 4 : 8);
	default:
		if (multiline && skip_line_continuation(p))
			return 0;
		if (c < 0x20 || c >= 0x7F)
			return fail(p, start, "invalid escape sequence");
		return fail(p, start, "invalid escape '\\%c'", c);
	}
	p->pos++;
	return sbuf_put(b, &out, 1) < 0 ? fail_oom(p) : 0;
}

/*
 * At a run of quotes inside a multi-line string: 1-2 are content, 3-5 close
 * the string (the extra ones are content), more is an error.
 */
static int multiline_quotes(struct parser *p, struct sbuf *b, char q, bool *ret_end)
{
	size_t run = 0;

	while (peek_at(p, run) == q)
		run++;
	if (run > 5)
		return fail(p, p->pos, "too many quotes in multi-line string");
	*ret_end = run >= 3;
	if (run >= 3)
		run -= 3;
	for (size_t i = 0; i < run; i++)
		if (sbuf_put(b, &q, 1) < 0)
			return fail_oom(p);
	p->pos += run + (*ret_end ? 3 : 0);
	return 0;
}

/* Plain content bytes up to the next special byte. */
static int string_span(struct parser *p, struct sbuf *b, char q, bool escapes)
{
	size_t start = p->pos;
	int c;

	while ((c = peek(p)) >= 0 && c != q && !(escapes && c == '\\') && !is_control(c))
		p->pos++;
	if (p->pos > start && sbuf_put(b, p->buf + start, p->pos - start) < 0)
		return fail_oom(p);
	return 0;
}

/* Parses any of the four string kinds at p->pos into b. */
static int parse_string(struct parser *p, struct sbuf *b, bool allow_multiline)
{
	size_t start = p->pos;
	char q = p->buf[p->pos];
	bool escapes = q == '"';
	bool multiline = peek_at(p, 1) == q && peek_at(p, 2) == q;
	const char *what = escapes ? "in string" : "in literal string";

	b->len = 0;
	if (sbuf_grow(b, 0) < 0)
		return fail_oom(p);
	b->s[0] = '\0';
	if (multiline && !allow_multiline)
		return fail(p, p->pos, "multi-line string cannot be used as a key");
	p->pos += multiline ? 3 : 1;
	if (multiline && is_newline(p))
		skip_newline(p);

	for (;;) {
		int c;

		if (string_span(p, b, q, escapes) < 0)
			return -EINVAL;
		c = peek(p);
		if (c < 0)
			return fail(p, start, "unterminated string");
		if (c == q && !multiline) {
			p->pos++;
			return 0;
		}
		if (c == q) {
			bool end = false;

			if (multiline_quotes(p, b, q, &end) < 0)
				return -EINVAL;
			if (end)
				return 0;
		} else if (c == '\\') {
			if (parse_escape(p, b, multiline) < 0)
				return -EINVAL;
		} else if (multiline && is_newline(p)) {
			size_t n = c == '\r' ? 2 : 1;

			if (sbuf_put(b, p->buf + p->pos, n) < 0)
				return fail_oom(p);
			p->pos += n;
		} else if (c == '\n') {
			return fail(p, p->pos, "newline in single-line string");
		} else {
			return bad_char(p, what);
		}
	}
}

/* ---- keys ---- */

static int keys_push(struct parser *p, size_t off, size_t len, size_t pos)
{
	if (p->n_keys == p->keys_cap) {
		size_t cap = p->keys_cap ? p->keys_cap * 2 : 8;
		struct keypart *k = realloc(p->keys, cap * sizeof(*k));

		if (!k)
			return fail_oom(p);
		p->keys = k;
		p->keys_cap = cap;
	}
	p->keys[p->n_keys] = (struct keypart){ .off = off, .len = len, .pos = pos };
	linecol(p, pos, &p->keys[p->n_keys].line, &p->keys[p->n_keys].col);
	p->n_keys++;
	return 0;
}

static int parse_simple_key(struct parser *p)
{
	size_t start = p->pos, off = p->kbuf.len;
	int c = peek(p);

	if (c == '"' || c == '\'') {
		if (parse_string(p, &p->sbuf, /* allow_multiline= */ false) < 0)
			return -EINVAL;
		if (sbuf_put(&p->kbuf, p->sbuf.s, p->sbuf.len) < 0)
			return fail_oom(p);
	} else {
		while (is_bare_key_char(peek(p)))
			p->pos++;
		if (p->pos == start) {
			if (c < 0 || is_newline(p))
				return fail(p, start, "expected a key");
			if (is_control(c))
				return bad_char(p, "where a key was expected");
			if (c == '=')
				return fail(p, start, "expected a key before '='");
			if (c >= 0x80)
				return fail(p, start, "invalid character U+%04X in key",
					    utf8_decode(p->buf + start));
			return fail(p, start, "invalid character '%c' in key", c);
		}
		if (sbuf_put(&p->kbuf, p->buf + start, p->pos - start) < 0)
			return fail_oom(p);
	}
	return keys_push(p, off, p->kbuf.len - off, start);
}

/* Parses a dotted key into p->keys. */
static int parse_key(struct parser *p)
{
	p->n_keys = 0;
	p->kbuf.len = 0;
	for (;;) {
		skip_ws(p);
		if (parse_simple_key(p) < 0)
			return -EINVAL;
		skip_ws(p);
		if (peek(p) != '.')
			return 0;
		p->pos++;
	}
}

/* ---- numbers ---- */

/* Digits of the given base with single underscores between them; returns the end. */
static size_t scan_digits(const char *s, size_t i, size_t end, int base, bool *ret_ok)
{
	size_t start = i;

	*ret_ok = false;
	for (; i < end; i++) {
		int v = hexval(s[i]);

		if (s[i] == '_') {
			if (i == start || i + 1 >= end || hexval(s[i + 1]) < 0 ||
			    hexval(s[i + 1]) >= base)
				return i;
			continue;
		}
		if (v < 0 || v >= base)
			break;
	}
	*ret_ok = i > start;
	return i;
}

static int parse_prefixed_int(struct parser *p, struct node *n, const char *s, size_t len,
			      size_t pos)
{
	int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
	uint64_t v = 0;
	size_t end;
	bool ok;

	end = scan_digits(s, 2, len, base, &ok);
	if (!ok || end != len)
		return fail(p, pos, "invalid %s integer '%.*s'",
			    base == 16 ? "hexadecimal" :
			    base == 8  ? "octal" :
					 "binary",
			    (int)MIN(len, 64), s);
	for (size_t i = 2; i < len; i++) {
		if (s[i] == '_')
			continue;
		if (v > ((uint64_t)INT64_MAX - hexval(s[i])) / base)
			return fail(p, pos, "integer '%.*s' does not fit in 64 bits",
				    (int)MIN(len, 64), s);
		v = v * base + hexval(s[i]);
	}
	n->v.type = TOML_INTEGER;
	n->v.u.integer = (int64_t)v;
	return 0;
}

static int parse_decimal_int(struct parser *p, struct node *n, const char *s, size_t len,
			     size_t pos)
{
	bool neg = s[0] == '-';
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t v = 0;

	for (size_t i = (s[0] == '+' || s[0] == '-'); i < len; i++) {
		unsigned d = s[i] - '0';

		if (s[i] == '_')
			continue;
		if (v > (limit - d) / 10)
			return fail(p, pos, "integer '%.*s' does not fit in 64 bits",
				    (int)MIN(len, 64), s);
		v = v * 10 + d;
	}
	n->v.type = TOML_INTEGER;
	n->v.u.integer = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int parse_float_text(struct parser *p, struct node *n, const char *s, size_t len, size_t pos)
{
	struct sbuf *b = &p->sbuf;
	char *end;

	/* the C locale, whatever the process uses: '.' is the decimal point */
	if (!p->c_locale) {
		p->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
		if (!p->c_locale)
			return fail_oom(p);
	}
	b->len = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '_' && sbuf_put(b, s + i, 1) < 0)
			return fail_oom(p);
	n->v.type = TOML_FLOAT;
	n->v.u.fl = strtod_l(b->s, &end, p->c_locale);
	if (*end != '\0')
		return fail(p, pos, "invalid float '%.*s'", (int)MIN(len, 64), s);
	return 0;
}

/* A decimal integer or float: [+-] int [. digits] [e [+-] digits]. */
static int parse_decimal(struct parser *p, struct node *n, const char *s, size_t len, size_t pos)
{
	size_t i = (s[0] == '+' || s[0] == '-'), int_start = i;
	bool ok, is_float = false;

	i = scan_digits(s, i, len, 10, &ok);
	if (!ok)
		goto invalid;
	if (s[int_start] == '0' && i - int_start > 1)
		return fail(p, pos, "leading zeros are not allowed in '%.*s'", (int)MIN(len, 64),
			    s);
	if (i < len && s[i] == '.') {
		i = scan_digits(s, i + 1, len, 10, &ok);
		if (!ok)
			goto invalid;
		is_float = true;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		i = scan_digits(s, i, len, 10, &ok);
		if (!ok)
			goto invalid;
		is_float = true;
	}
	if (i != len)
		goto invalid;
	if (is_float)
		return parse_float_text(p, n, s, len, pos);
	return parse_decimal_int(p, n, s, len, pos);
invalid:
	return fail(p, pos, "invalid number '%.*s'", (int)MIN(len, 64), s);
}

static bool is_number_char(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == '+' || c == '-' || c == '.';
}

static int parse_number(struct parser *p, struct node *n)
{
	size_t pos = p->pos, len;
	const char *s = p->buf + pos, *body;
	bool sign;

	while (is_number_char(peek(p)))
		p->pos++;
	len = p->pos - pos;
	sign = s[0] == '+' || s[0] == '-';
	body = s + sign;
	if (len - sign == 3 && (memcmp(body, "inf", 3) == 0 || memcmp(body, "nan", 3) == 0)) {
		n->v.type = TOML_FLOAT;
		if (body[0] == 'i')
			n->v.u.fl = s[0] == '-' ? -__builtin_inf() : __builtin_inf();
		else
			n->v.u.fl = s[0] == '-' ? -__builtin_nan("") : __builtin_nan("");
		return 0;
	}
	if (len - sign >= 2 && body[0] == '0' &&
	    (body[1] == 'x' || body[1] == 'o' || body[1] == 'b')) {
		if (sign)
			return fail(p, pos, "a sign is not allowed on '%.*s'", (int)MIN(len, 64),
				    s);
		return parse_prefixed_int(p, n, s, len, pos);
	}
	if (len == sign)
		return fail(p, pos, "expected a value");
	return parse_decimal(p, n, s, len, pos);
}

/* ---- dates and times ---- */

static bool read_digits(struct parser *p, int count, int *ret)
{
	int v = 0;

	for (int i = 0; i < count; i++) {
		if (!is_digit(peek(p)))
			return false;
		v = v * 10 + (peek(p) - '0');
		p->pos++;
	}
	*ret = v;
	return true;
}

static bool read_sep(struct parser *p, char c)
{
	if (peek(p) != c)
		return false;
	p->pos++;
	return true;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

static int parse_date(struct parser *p, struct toml_datetime *dt)
{
	size_t start = p->pos;

	if (!read_digits(p, 4, &dt->year) || !read_sep(p, '-') || !read_digits(p, 2, &dt->month) ||
	    !read_sep(p, '-') || !read_digits(p, 2, &dt->day))
		return fail(p, start, "invalid date: expected YYYY-MM-DD");
	if (dt->month < 1 || dt->month > 12)
		return fail(p, start, "invalid date: month %02d out of range", dt->month);
	if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month))
		return fail(p, start, "invalid date: day %02d out of range for %04d-%02d", dt->day,
			    dt->year, dt->month);
	return 0;
}

static int parse_time(struct parser *p, struct toml_datetime *dt)
{
	size_t start = p->pos;

	if (!read_digits(p, 2, &dt->hour) || !read_sep(p, ':') || !read_digits(p, 2, &dt->minute))
		return fail(p, start, "invalid time: expected HH:MM:SS");
	if (!read_sep(p, ':') || !read_digits(p, 2, &dt->second))
		return fail(p, start, "invalid time: seconds are required (HH:MM:SS)");
	if (dt->hour > 23 || dt->minute > 59 || dt->second > 60)
		return fail(p, start, "invalid time: %02d:%02d:%02d out of range", dt->hour,
			    dt->minute, dt->second);
	if (peek(p) == '.') {
		p->pos++;
		if (!is_digit(peek(p)))
			return fail(p, p->pos, "invalid time: expected digits after '.'");
		for (int ns_scale = 100000000; is_digit(peek(p)); p->pos++) {
			dt->nanosecond += (peek(p) - '0') * ns_scale;
			ns_scale /= 10;
			if (dt->frac_digits < 1000)
				dt->frac_digits++;
		}
	}
	return 0;
}

static int parse_offset(struct parser *p, struct toml_datetime *dt)
{
	size_t start = p->pos;
	int sign = peek(p) == '-' ? -1 : 1, h, m;

	if (peek(p) == 'Z' || peek(p) == 'z') {
		p->pos++;
		dt->offset_z = true;
		return 0;
	}
	p->pos++;
	if (!read_digits(p, 2, &h) || !read_sep(p, ':') || !read_digits(p, 2, &m))
		return fail(p, start, "invalid UTC offset: expected +HH:MM, -HH:MM or Z");
	if (h > 23 || m > 59)
		return fail(p, start, "invalid UTC offset: %c%02d:%02d out of range",
			    sign < 0 ? '-' : '+', h, m);
	dt->offset_minutes = sign * (h * 60 + m);
	return 0;
}

static bool at_date(const struct parser *p)
{
	for (int i = 0; i < 4; i++)
		if (!is_digit(peek_at(p, i)))
			return false;
	return peek_at(p, 4) == '-';
}

static bool at_time(const struct parser *p)
{
	return is_digit(peek(p)) && is_digit(peek_at(p, 1)) && peek_at(p, 2) == ':';
}

static int parse_datetime(struct parser *p, struct node *n)
{
	struct toml_datetime *dt = &n->v.u.dt;
	int c;

	if (at_time(p)) {
		n->v.type = TOML_TIME_LOCAL;
		return parse_time(p, dt);
	}
	n->v.type = TOML_DATE_LOCAL;
	if (parse_date(p, dt) < 0)
		return -EINVAL;
	c = peek(p);
	if (!(c == 'T' || c == 't' || (c == ' ' && is_digit(peek_at(p, 1)))))
		return 0;
	p->pos++;
	n->v.type = TOML_DATETIME_LOCAL;
	if (parse_time(p, dt) < 0)
		return -EINVAL;
	c = peek(p);
	if (c != 'Z' && c != 'z' && c != '+' && c != '-')
		return 0;
	n->v.type = TOML_DATETIME;
	return parse_offset(p, dt);
}

/* ---- values ---- */

static int parse_value(struct parser *p, unsigned depth, struct node **ret);
static int parse_keyval(struct parser *p, struct node *base);

static int parse_array_items(struct parser *p, struct node *a, size_t start)
{
	for (;;) {
		struct node *v;

		if (skip_ws_nl(p) < 0)
			return -EINVAL;
		if (peek(p) == ']')
			return 0;
		if (peek(p) < 0)
			return fail(p, start, "unterminated array");
		if (parse_value(p, a->depth + 1, &v) < 0 || array_add(p, a, v) < 0)
			return -EINVAL;
		if (skip_ws_nl(p) < 0)
			return -EINVAL;
		if (peek(p) == ']')
			return 0;
		if (peek(p) < 0)
			return fail(p, start, "unterminated array");
		if (peek(p) != ',')
			return fail(p, p->pos, "expected ',' or ']' in array");
		p->pos++;
	}
}

static int parse_array(struct parser *p, unsigned depth, struct node **ret)
{
	size_t start = p->pos;
	struct node *a;

	if (node_new(p, TOML_ARRAY, depth, start, &a) < 0)
		return -EINVAL;
	p->pos++; /* '[' */
	if (parse_array_items(p, a, start) < 0) {
		node_free(a);
		return -EINVAL;
	}
	p->pos++; /* ']' */
	a->flags |= NODE_FROZEN;
	*ret = a;
	return 0;
}

static int parse_inline_items(struct parser *p, struct node *t)
{
	skip_ws(p);
	if (peek(p) == '}')
		return 0;
	for (;;) {
		if (parse_keyval(p, t) < 0)
			return -EINVAL;
		skip_ws(p);
		if (peek(p) == '}')
			return 0;
		if (peek(p) < 0 || peek(p) == '\n' || peek(p) == '\r')
			return fail(p, p->pos, "newline or end of input in inline table");
		if (peek(p) != ',')
			return fail(p, p->pos, "expected ',' or '}' in inline table");
		p->pos++;
		skip_ws(p);
		if (peek(p) == '}')
			return fail(p, p->pos, "trailing comma not allowed in inline table");
	}
}

static int parse_inline_table(struct parser *p, unsigned depth, struct node **ret)
{
	unsigned saved = p->section;
	struct node *t;

	if (node_new(p, TOML_TABLE, depth, p->pos, &t) < 0)
		return -EINVAL;
	p->section = ++p->n_sections;
	p->pos++; /* '{' */
	if (parse_inline_items(p, t) < 0) {
		node_free(t);
		return -EINVAL;
	}
	p->pos++; /* '}' */
	p->section = saved;
	freeze(t);
	*ret = t;
	return 0;
}

static int parse_scalar(struct parser *p, struct node *n)
{
	int c = peek(p);

	if (c == '"' || c == '\'') {
		if (parse_string(p, &p->sbuf, /* allow_multiline= */ true) < 0)
			return -EINVAL;
		n->v.type = TOML_STRING;
		n->v.u.string.s = memdup_nul(p->sbuf.s, p->sbuf.len);
		n->v.u.string.len = p->sbuf.len;
		return n->v.u.string.s ? 0 : fail_oom(p);
	}
	if (c == 't' && p->len - p->pos >= 4 && memcmp(p->buf + p->pos, "true", 4) == 0) {
		p->pos += 4;
		n->v.type = TOML_BOOL;
		n->v.u.boolean = true;
		return 0;
	}
	if (c == 'f' && p->len - p->pos >= 5 && memcmp(p->buf + p->pos, "false", 5) == 0) {
		p->pos += 5;
		n->v.type = TOML_BOOL;
		return 0;
	}
	if (at_date(p) || at_time(p))
		return parse_datetime(p, n);
	if (is_digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n')
		return parse_number(p, n);
	if (c < 0 || is_newline(p))
		return fail(p, p->pos, "expected a value");
	if (is_control(c))
		return bad_char(p, "where a value was expected");
	return fail(p, p->pos, "invalid value");
}

static int parse_value(struct parser *p, unsigned depth, struct node **ret)
{
	struct node *n;

	if (peek(p) == '[')
		return parse_array(p, depth, ret);
	if (peek(p) == '{')
		return parse_inline_table(p, depth, ret);
	/* a bool owns nothing: safe to free until parse_scalar sets the real type */
	if (node_new(p, TOML_BOOL, depth, p->pos, &n) < 0)
		return -EINVAL;
	if (parse_scalar(p, n) < 0) {
		node_free(n);
		return -EINVAL;
	}
	*ret = n;
	return 0;
}

/* ---- key/value pairs and headers ---- */

/* "an integer", "a static array", ... for messages. */
static const char *describe(const struct node *n)
{
	static const char *const names[_TOML_TYPE_MAX] = {
		[TOML_TABLE] = "a table",
		[TOML_ARRAY] = "a static array",
		[TOML_STRING] = "a string",
		[TOML_INTEGER] = "an integer",
		[TOML_FLOAT] = "a float",
		[TOML_BOOL] = "a bool",
		[TOML_DATETIME] = "an offset date-time",
		[TOML_DATETIME_LOCAL] = "a local date-time",
		[TOML_DATE_LOCAL] = "a local date",
		[TOML_TIME_LOCAL] = "a local time",
	};

	if (n->v.type == TOML_TABLE && (n->flags & NODE_FROZEN))
		return "an inline table";
	if (n->v.type == TOML_ARRAY && (n->flags & NODE_AOT))
		return "an array of tables";
	return names[n->v.type];
}

static int already_defined(struct parser *p, size_t i, const struct toml_kv *kv)
{
	char key[KEYBUF];

	return fail(p, p->keys[i].pos, "duplicate key '%s' (first defined at line %u)",
		    part_display(p, key, i), kv->line);
}

/* Follows the dotted key parts before the last one from base, creating tables. */
static int walk_dotted(struct parser *p, struct node *t, struct node **ret)
{
	char key[KEYBUF];

	for (size_t i = 0; i + 1 < p->n_keys; i++) {
		struct keypart *k = &p->keys[i];
		struct toml_kv *kv = table_find(t, p->kbuf.s + k->off, k->len);
		struct node *n;

		if (!kv) {
			if (table_add_subtable(p, t, i, NODE_DOTTED, &t) < 0)
				return -EINVAL;
			continue;
		}
		n = (struct node *)kv->value;
		if (n->v.type != TOML_TABLE)
			return fail(p, k->pos, "key '%s' is already defined as %s at line %u",
				    part_display(p, key, i), describe(n), kv->line);
		if (n->flags & NODE_FROZEN)
			return fail(p, k->pos,
				    "cannot extend inline table '%s' (defined at line %u)",
				    part_display(p, key, i), kv->line);
		if ((n->flags & NODE_EXPLICIT) ||
		    ((n->flags & NODE_DOTTED) && n->section != p->section))
			return fail(
				p, k->pos,
				"cannot add keys to table '%s' with dotted keys here (defined at line %u)",
				part_display(p, key, i), n->v.line);
		n->flags |= NODE_DOTTED;
		n->section = p->section;
		t = n;
	}
	*ret = t;
	return 0;
}

static int parse_keyval(struct parser *p, struct node *base)
{
	struct keypart last;
	struct node *t = NULL, *v;
	char *key;

	if (parse_key(p) < 0)
		return -EINVAL;
	if (peek(p) != '=') {
		if (peek(p) < 0 || is_newline(p))
			return fail(p, p->pos, "expected '=' after key");
		return fail(p, p->pos, "expected '=' after key, found '%c'",
			    peek(p) < 0x80 && !is_control(peek(p)) ? peek(p) : '?');
	}
	p->pos++;
	if (walk_dotted(p, base, &t) < 0)
		return -EINVAL;
	/* copied: parsing the value (an inline table) reuses p->keys */
	last = p->keys[p->n_keys - 1];
	{
		struct toml_kv *kv = table_find(t, p->kbuf.s + last.off, last.len);

		if (kv)
			return already_defined(p, p->n_keys - 1, kv);
	}
	key = memdup_nul(p->kbuf.s + last.off, last.len);
	if (!key)
		return fail_oom(p);
	skip_ws(p);
	if (parse_value(p, t->depth + 1, &v) < 0) {
		free(key);
		return -EINVAL;
	}
	return table_add(p, t, key, &last, v);
}

/* Renders p->keys[0..upto] joined by dots. */
static const char *path_display(struct parser *p, char *out, size_t outsz, size_t upto)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i <= upto && o + 8 < outsz; i++) {
		char part[KEYBUF];

		o += snprintf(out + o, outsz - o, "%s%s", i ? "." : "", part_display(p, part, i));
	}
	return out;
}

/* Follows a [header] path up to its last part, creating implicit tables. */
static int walk_header(struct parser *p, struct node *t, struct node **ret)
{
	char path[160];

	for (size_t i = 0; i + 1 < p->n_keys; i++) {
		struct keypart *k = &p->keys[i];
		struct toml_kv *kv = table_find(t, p->kbuf.s + k->off, k->len);
		struct node *n;

		if (!kv) {
			if (table_add_subtable(p, t, i, 0, &t) < 0)
				return -EINVAL;
			continue;
		}
		n = (struct node *)kv->value;
		if (n->v.type == TOML_ARRAY && (n->flags & NODE_AOT)) {
			t = (struct node *)n->v.u.array.items[n->v.u.array.n - 1];
			continue;
		}
		if (n->v.type != TOML_TABLE || (n->flags & NODE_FROZEN))
			return fail(p, k->pos,
				    "cannot define a table below '%s': it is %s (line %u)",
				    path_display(p, path, sizeof(path), i), describe(n), kv->line);
		t = n;
	}
	*ret = t;
	return 0;
}

static int define_table(struct parser *p, struct node *t, size_t pos, struct node **ret)
{
	struct keypart *last = &p->keys[p->n_keys - 1];
	struct toml_kv *kv = table_find(t, p->kbuf.s + last->off, last->len);
	char path[160];
	struct node *n;

	if (!kv) {
		if (table_add_subtable(p, t, p->n_keys - 1, NODE_EXPLICIT, &n) < 0)
			return -EINVAL;
		linecol(p, pos, &n->v.line, &n->v.col);
		*ret = n;
		return 0;
	}
	n = (struct node *)kv->value;
	path_display(p, path, sizeof(path), p->n_keys - 1);
	if (n->v.type == TOML_ARRAY && (n->flags & NODE_AOT))
		return fail(p, last->pos,
			    "table '%s' is already defined as an array of tables (line %u)", path,
			    kv->line);
	if (n->v.type != TOML_TABLE)
		return fail(p, last->pos, "duplicate key '%s' (first defined at line %u)", path,
			    kv->line);
	if (n->flags & (NODE_EXPLICIT | NODE_DOTTED | NODE_FROZEN))
		return fail(p, last->pos,
			    "table '%s' is already defined (first defined at line %u)", path,
			    n->v.line);
	/* an implicitly created table, defined now */
	n->flags |= NODE_EXPLICIT;
	linecol(p, pos, &n->v.line, &n->v.col);
	kv->line = last->line;
	kv->col = last->col;
	*ret = n;
	return 0;
}

static int append_table(struct parser *p, struct node *t, size_t pos, struct node **ret)
{
	struct keypart *last = &p->keys[p->n_keys - 1];
	struct toml_kv *kv = table_find(t, p->kbuf.s + last->off, last->len);
	char path[160];
	struct node *a, *n;
	char *key;

	if (kv) {
		a = (struct node *)kv->value;
		if (a->v.type != TOML_ARRAY || !(a->flags & NODE_AOT))
			return fail(
				p, last->pos,
				"cannot define array of tables '%s': already defined as %s (line %u)",
				path_display(p, path, sizeof(path), p->n_keys - 1), describe(a),
				kv->line);
	} else {
		if (node_new(p, TOML_ARRAY, t->depth + 1, pos, &a) < 0)
			return -EINVAL;
		a->flags = NODE_AOT;
		key = memdup_nul(p->kbuf.s + last->off, last->len);
		if (!key) {
			node_free(a);
			return fail_oom(p);
		}
		if (table_add(p, t, key, last, a) < 0)
			return -EINVAL;
	}
	if (node_new(p, TOML_TABLE, a->depth + 1, pos, &n) < 0)
		return -EINVAL;
	n->flags = NODE_EXPLICIT;
	if (array_add(p, a, n) < 0)
		return -EINVAL;
	*ret = n;
	return 0;
}

static int parse_header(struct parser *p, struct node *root, struct node **ret)
{
	size_t pos = p->pos;
	bool aot = peek_at(p, 1) == '[';
	struct node *t = NULL;

	p->pos += aot ? 2 : 1;
	if (parse_key(p) < 0)
		return -EINVAL;
	if (peek(p) != ']' || (aot && peek_at(p, 1) != ']'))
		return fail(p, p->pos, "expected '%s' to close the table header", aot ? "]]" : "]");
	p->pos += aot ? 2 : 1;
	if (expect_eol(p, "table header") < 0)
		return -EINVAL;
	p->section = ++p->n_sections;
	if (walk_header(p, root, &t) < 0)
		return -EINVAL;
	return aot ? append_table(p, t, pos, ret) : define_table(p, t, pos, ret);
}

static int parse_document(struct parser *p, struct node *root)
{
	struct node *cur = root;

	if (p->len >= 3 && memcmp(p->buf, "\xEF\xBB\xBF", 3) == 0)
		p->pos = 3;
	p->section = ++p->n_sections;
	for (;;) {
		int c;

		skip_ws(p);
		c = peek(p);
		if (c < 0)
			return 0;
		if (c == '#') {
			if (expect_eol(p, "comment") < 0)
				return -EINVAL;
		} else if (is_newline(p)) {
			skip_newline(p);
		} else if (c == '[') {
			if (parse_header(p, root, &cur) < 0)
				return -EINVAL;
		} else {
			if (parse_keyval(p, cur) < 0 || expect_eol(p, "value") < 0)
				return -EINVAL;
		}
	}
}

int toml_parse(const char *buf, size_t len, struct toml_value **ret_root,
	       struct toml_error *ret_err)
{
	struct parser p = {
		.buf = buf,
		.len = len,
		.err = ret_err,
		.lc_line = 1,
	};
	struct node *root;
	int r;

	if (!buf && len > 0) {
		p.buf = "";
		p.len = 0;
		return fail(&p, 0, "no input buffer");
	}
	if (!buf)
		p.buf = "";
	if (node_new(&p, TOML_TABLE, 0, 0, &root) < 0)
		return -ENOMEM;
	root->flags = NODE_EXPLICIT;
	r = check_encoding(&p);
	if (r >= 0)
		r = parse_document(&p, root);
	free(p.keys);
	free(p.kbuf.s);
	free(p.sbuf.s);
	if (p.c_locale)
		freelocale(p.c_locale);
	if (r < 0) {
		node_free(root);
		return p.oom ? -ENOMEM : -EINVAL;
	}
	*ret_root = &root->v;
	return 0;
}

const struct toml_kv *toml_table_get_kv(const struct toml_value *t, const char *key)
{
	if (!t || t->type != TOML_TABLE || !key)
		return NULL;
	return table_find((const struct node *)t, key, strlen(key));
}

const struct toml_value *toml_table_get(const struct toml_value *t, const char *key)
{
	const struct toml_kv *kv = toml_table_get_kv(t, key);

	return kv ? kv->value : NULL;
}
