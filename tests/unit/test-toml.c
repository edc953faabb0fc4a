/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the TOML parser: what the toml-test corpus does not cover. */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "src/toml.h"
#include "tap.h"

static struct toml_error err;

/* Parses a NUL-terminated document; on success the root, on failure NULL with err set. */
static struct toml_value *parse_n(const char *s, size_t len)
{
	struct toml_value *root = NULL;

	memset(&err, 0, sizeof(err));
	if (toml_parse(s, len, &root, &err) < 0)
		return NULL;
	return root;
}

static struct toml_value *parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static int parse_rc(const char *s)
{
	struct toml_value *root = NULL;
	int r;

	memset(&err, 0, sizeof(err));
	r = toml_parse(s, strlen(s), &root, &err);
	toml_free(root);
	return r;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST(int64_limits)
{
	struct toml_value *root =
		parse("max = 9223372036854775807\n"
		      "min = -9223372036854775808\n"
		      "hex = 0x7FFFFFFFFFFFFFFF\n"
		      "oct = 0o777777777777777777777\n"
		      "bin = 0b111111111111111111111111111111111111111111111111111111111111111\n");

	ASSERT_NOT_NULL(root);
	ASSERT_TRUE(toml_table_get(root, "max")->u.integer == INT64_MAX);
	ASSERT_TRUE(toml_table_get(root, "min")->u.integer == INT64_MIN);
	ASSERT_TRUE(toml_table_get(root, "hex")->u.integer == INT64_MAX);
	ASSERT_TRUE(toml_table_get(root, "oct")->u.integer == INT64_MAX);
	ASSERT_TRUE(toml_table_get(root, "bin")->u.integer == INT64_MAX);
	toml_free(root);
}

TEST(int64_overflow)
{
	static const char *const bad[] = {
		"a = 9223372036854775808",
		"a = -9223372036854775809",
		"a = +9223372036854775808",
		"a = 99999999999999999999999999",
		"a = 9_223_372_036_854_775_808",
		"a = 0x8000000000000000",
		"a = 0xFFFFFFFFFFFFFFFF",
		"a = 0x1_0000_0000_0000_0000",
		"a = 0o1000000000000000000000",
		"a = 0b1000000000000000000000000000000000000000000000000000000000000000",
		"a = [1, 18446744073709551616]",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_rc(bad[i]) != -EINVAL)
			TAP_FAIL("accepted: %s", bad[i]);
		if (!strstr(err.msg, "64 bits"))
			TAP_FAIL("%s: unexpected message '%s'", bad[i], err.msg);
		ASSERT_EQ(err.line, 1);
	}
	ASSERT_ERR(parse_rc("a = 9223372036854775808"));
	ASSERT_EQ(err.col, 5);
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(hl + ul * n + tl + 1), *o = s;

	if (!s)
		abort();
	memcpy(o, head, hl);
	o += hl;
	for (size_t i = 0; i < n; i++, o += ul)
		memcpy(o, unit, ul);
	memcpy(o, tail, tl + 1);
	return s;
}

static void expect_depth_error(char *doc)
{
	int r = parse_rc(doc);

	free(doc);
	if (r != -EINVAL)
		TAP_FAIL("deep document: expected -EINVAL, got %d", r);
	if (!strstr(err.msg, "nesting deeper than"))
		TAP_FAIL("unexpected message '%s'", err.msg);
	ASSERT_EQ(err.line, 1);
}

TEST(depth_limit_arrays)
{
	expect_depth_error(repeat("a = ", "[", 10000, ""));
	expect_depth_error(repeat("a = ", "[", 100000, ""));
	/* the error points at the first bracket beyond the limit */
	expect_depth_error(repeat("a = ", "[", TOML_MAX_DEPTH + 1, ""));
	ASSERT_EQ(err.col, 5 + TOML_MAX_DEPTH);
}

TEST(depth_limit_inline_tables)
{
	expect_depth_error(repeat("a = ", "{b = ", 10000, ""));
	expect_depth_error(repeat("", "a.", 10000, "b = 1"));
	expect_depth_error(repeat("[", "a.", 10000, "b]"));
	expect_depth_error(repeat("[[", "a.", 10000, "b]]"));
	expect_depth_error(repeat("x = [", "{a = [", 5000, ""));
}

TEST(depth_limit_boundary)
{
	char *s, *t;
	struct toml_value *root;
	const struct toml_value *v;
	size_t n = 0;

	/* a = [[...[1]...]]: TOML_MAX_DEPTH arrays below the root table are fine */
	s = repeat("a = ", "[", TOML_MAX_DEPTH, "1");
	t = repeat(s, "]", TOML_MAX_DEPTH, "\n");
	free(s);
	root = parse(t);
	free(t);
	ASSERT_NOT_NULL(root);
	for (v = toml_table_get(root, "a"); v->type == TOML_ARRAY; v = v->u.array.items[0])
		n++;
	ASSERT_EQ(n, TOML_MAX_DEPTH);
	ASSERT_EQ(v->u.integer, 1);
	toml_free(root);
}

TEST(error_positions)
{
	ASSERT_ERR(parse_rc("a = 1\nb = 2\na = 3\n"));
	ASSERT_EQ(err.line, 3);
	ASSERT_EQ(err.col, 1);
	ASSERT_STREQ(err.msg, "duplicate key 'a' (first defined at line 1)");

	ASSERT_ERR(parse_rc("# c\r\nname = \"bad \\x41\"\r\n"));
	ASSERT_EQ(err.line, 2);
	ASSERT_EQ(err.col, 13);
	ASSERT_STREQ(err.msg, "invalid escape '\\x'");

	ASSERT_ERR(parse_rc("[a]\nx = 1\n[b]\n[a]\n"));
	ASSERT_EQ(err.line, 4);
	ASSERT_EQ(err.col, 2);
	ASSERT_STREQ(err.msg, "table 'a' is already defined (first defined at line 1)");

	ASSERT_ERR(parse_rc("t = {a = 1}\nt.b = 2\n"));
	ASSERT_EQ(err.line, 2);
	ASSERT_EQ(err.col, 1);
	ASSERT_TRUE(strstr(err.msg, "inline table") != NULL);

	ASSERT_ERR(parse_rc("s = \"\"\"\nline\n\"\"\"\nd = 2021-02-29\n"));
	ASSERT_EQ(err.line, 4);
	ASSERT_EQ(err.col, 5);

	ASSERT_ERR(parse_rc("t = 07:32\n"));
	ASSERT_TRUE(strstr(err.msg, "seconds") != NULL);

	ASSERT_ERR(parse_rc("a = \"x\"\rb = 1\n"));
	ASSERT_EQ(err.col, 8);
	ASSERT_TRUE(strstr(err.msg, "carriage return") != NULL);

	/* column counts bytes: 'é' is two */
	ASSERT_ERR(parse_rc("\"é\" = 1 2\n"));
	ASSERT_EQ(err.col, 10);

	/* errors reported at the start of a construct that spans lines */
	ASSERT_ERR(parse_rc("x = 1\na = [\n  1,\n  2,\n"));
	ASSERT_EQ(err.line, 2);
	ASSERT_EQ(err.col, 5);
	ASSERT_STREQ(err.msg, "unterminated array");
	ASSERT_ERR(parse_rc("s = '''\n\n\n"));
	ASSERT_EQ(err.line, 1);
	ASSERT_EQ(err.col, 5);
	ASSERT_STREQ(err.msg, "unterminated string");

	ASSERT_ERR(parse_rc("a = 1\n\xC0\xAF = 1\n"));
	ASSERT_EQ(err.line, 2);
	ASSERT_EQ(err.col, 1);
	ASSERT_TRUE(strstr(err.msg, "UTF-8") != NULL);
}

TEST(nul_byte)
{
	static const char doc[] = "a = \"x\0y\"\n";
	struct toml_value *root;

	ASSERT_NULL(parse_n(doc, sizeof(doc) - 1));
	ASSERT_EQ(err.line, 1);
	ASSERT_EQ(err.col, 7);
	ASSERT_TRUE(strstr(err.msg, "NUL") != NULL);
	ASSERT_NULL(parse_n("\0", 1));
	ASSERT_NULL(parse_n("a = 1 #\0\n", 9));
	ASSERT_NULL(parse_n("a = 1\n\0", 7));

	/* the buffer length is honoured: the trailing NUL is not part of the input */
	root = parse_n("a = 1\nb = 2", 5);
	ASSERT_NOT_NULL(root);
	ASSERT_EQ(root->u.table.n, 1);
	toml_free(root);

	/* an escaped NUL is fine, and keeps its length */
	root = parse("\"k\\u0000\" = \"v\\u0000w\"\n");
	ASSERT_NOT_NULL(root);
	ASSERT_EQ(root->u.table.items[0].key_len, 2);
	ASSERT_EQ(root->u.table.items[0].value->u.string.len, 3);
	ASSERT_TRUE(memcmp(root->u.table.items[0].value->u.string.s, "v\0w", 4) == 0);
	toml_free(root);
}

TEST(large_tables)
{
	size_t cap = 1 << 22, o = 0;
	char *s = malloc(cap);
	struct toml_value *root;
	const struct toml_value *apps, *arr;
	double t0;

	ASSERT_NOT_NULL(s);
	for (int i = 0; i < 2000; i++)
		o += snprintf(
			s + o, cap - o,
			"[[app]]\nname = \"app-%d\"\nexe = \"/usr/bin/a%d\"\nports = [%d, 443]\n"
			"remote.host = \"h%d\"\n\n",
			i, i, i, i);
	o += snprintf(s + o, cap - o, "[big]\n");
	for (int i = 0; i < 20000; i++)
		o += snprintf(s + o, cap - o, "k%d = %d\n", i, i);
	o += snprintf(s + o, cap - o, "[strings]\nlist = [");
	for (int i = 0; i < 50000; i++)
		o += snprintf(s + o, cap - o, "\"s%d\",", i);
	o += snprintf(s + o, cap - o, "]\n");
	ASSERT_TRUE(o < cap - 1);

	t0 = now();
	root = parse_n(s, o);
	free(s);
	if (!root)
		TAP_FAIL("parse failed: %u:%u: %s", err.line, err.col, err.msg);
	if (now() - t0 > 2.0)
		TAP_FAIL("parsing took %.2f s", now() - t0);

	apps = toml_table_get(root, "app");
	ASSERT_NOT_NULL(apps);
	ASSERT_EQ(apps->type, TOML_ARRAY);
	ASSERT_EQ(apps->u.array.n, 2000);
	ASSERT_STREQ(toml_table_get(apps->u.array.items[1999], "name")->u.string.s, "app-1999");
	ASSERT_STREQ(
		toml_table_get(toml_table_get(apps->u.array.items[7], "remote"), "host")->u.string.s,
		"h7");
	ASSERT_EQ(toml_table_get(toml_table_get(root, "big"), "k19999")->u.integer, 19999);
	ASSERT_EQ(toml_table_get(toml_table_get(root, "big"), "k0")->u.integer, 0);
	ASSERT_NULL(toml_table_get(toml_table_get(root, "big"), "k20000"));
	arr = toml_table_get(toml_table_get(root, "strings"), "list");
	ASSERT_EQ(arr->u.array.n, 50000);
	ASSERT_STREQ(arr->u.array.items[49999]->u.string.s, "s49999");
	toml_free(root);

	/* a duplicate among many keys is still found (hash index path) */
	s = malloc(1 << 20);
	o = 0;
	for (int i = 0; i < 5000; i++)
		o += snprintf(s + o, (1 << 20) - o, "k%d = 1\n", i);
	o += snprintf(s + o, (1 << 20) - o, "k4321 = 2\n");
	ASSERT_NULL(parse_n(s, o));
	free(s);
	ASSERT_EQ(err.line, 5001);
	ASSERT_STREQ(err.msg, "duplicate key 'k4321' (first defined at line 4322)");
}

TEST(table_get)
{
	struct toml_value *root = parse("title = \"x\"\n"
					"[srv]\n"
					"  port = 8080\n"
					"  \"quoted key\" = true\n"
					"  a.b.c = 1.5\n");
	const struct toml_value *srv;
	const struct toml_kv *kv;

	ASSERT_NOT_NULL(root);
	ASSERT_EQ(root->type, TOML_TABLE);
	ASSERT_EQ(root->u.table.n, 2);
	/* document order */
	ASSERT_STREQ(root->u.table.items[0].key, "title");
	ASSERT_STREQ(root->u.table.items[1].key, "srv");

	srv = toml_table_get(root, "srv");
	ASSERT_NOT_NULL(srv);
	ASSERT_EQ(srv->line, 2);
	ASSERT_EQ(srv->col, 1);
	kv = toml_table_get_kv(root, "srv");
	ASSERT_EQ(kv->line, 2);
	ASSERT_EQ(kv->col, 2);

	kv = toml_table_get_kv(srv, "port");
	ASSERT_NOT_NULL(kv);
	ASSERT_EQ(kv->line, 3);
	ASSERT_EQ(kv->col, 3);
	ASSERT_EQ(kv->value->line, 3);
	ASSERT_EQ(kv->value->col, 10);
	ASSERT_EQ(kv->value->type, TOML_INTEGER);
	ASSERT_EQ(kv->value->u.integer, 8080);

	kv = toml_table_get_kv(srv, "quoted key");
	ASSERT_NOT_NULL(kv);
	ASSERT_EQ(kv->col, 3);
	ASSERT_TRUE(kv->value->u.boolean);

	kv = toml_table_get_kv(toml_table_get(toml_table_get(srv, "a"), "b"), "c");
	ASSERT_NOT_NULL(kv);
	ASSERT_EQ(kv->line, 5);
	ASSERT_EQ(kv->col, 7);
	ASSERT_TRUE(kv->value->u.fl == 1.5);

	ASSERT_NULL(toml_table_get(root, "missing"));
	ASSERT_NULL(toml_table_get(root, "tit"));
	ASSERT_NULL(toml_table_get(toml_table_get(root, "title"), "x"));
	ASSERT_NULL(toml_table_get(NULL, "x"));
	ASSERT_NULL(toml_table_get_kv(root, NULL));
	ASSERT_NULL(toml_free(root));
	ASSERT_NULL(toml_free(NULL));
}

TEST(scalars)
{
	struct toml_value *root = parse("f1 = -0.0\nf2 = -inf\nf3 = nan\nf4 = 6.626e-34\n"
					"d = 1979-05-27T00:32:00.999999-07:30\n"
					"l = 1979-05-27 07:32:00\n"
					"t = 23:59:60.5\n"
					"leap = 2000-02-29\n");
	const struct toml_value *v;

	ASSERT_NOT_NULL(root);
	v = toml_table_get(root, "f1");
	ASSERT_TRUE(v->u.fl == 0 && signbit(v->u.fl));
	ASSERT_TRUE(isinf(toml_table_get(root, "f2")->u.fl) &&
		    toml_table_get(root, "f2")->u.fl < 0);
	ASSERT_TRUE(isnan(toml_table_get(root, "f3")->u.fl));
	ASSERT_TRUE(toml_table_get(root, "f4")->u.fl == 6.626e-34);

	v = toml_table_get(root, "d");
	ASSERT_EQ(v->type, TOML_DATETIME);
	ASSERT_EQ(v->u.dt.year, 1979);
	ASSERT_EQ(v->u.dt.nanosecond, 999999000);
	ASSERT_EQ(v->u.dt.frac_digits, 6);
	ASSERT_EQ(v->u.dt.offset_minutes, -(7 * 60 + 30));
	ASSERT_FALSE(v->u.dt.offset_z);
	ASSERT_EQ(toml_table_get(root, "l")->type, TOML_DATETIME_LOCAL);
	ASSERT_EQ(toml_table_get(root, "t")->type, TOML_TIME_LOCAL);
	ASSERT_EQ(toml_table_get(root, "t")->u.dt.second, 60);
	ASSERT_EQ(toml_table_get(root, "leap")->type, TOML_DATE_LOCAL);
	ASSERT_STREQ(toml_type_to_string(TOML_DATETIME_LOCAL), "datetime-local");
	ASSERT_NULL(toml_type_to_string(_TOML_TYPE_MAX));
	toml_free(root);

	ASSERT_ERR(parse_rc("d = 1900-02-29"));
	ASSERT_ERR(parse_rc("d = 2023-04-31"));
	ASSERT_ERR(parse_rc("d = 2023-04-30T12:00:00+24:00"));
	ASSERT_ERR(parse_rc("s = \"\\e\""));
	ASSERT_ERR(parse_rc("s = \"\\uD800\""));
	ASSERT_ERR(parse_rc("s = \"\\U00110000\""));
	ASSERT_ERR(parse_rc("a = 1_000_"));
	ASSERT_ERR(parse_rc("a = -0x1"));
	ASSERT_ERR(parse_rc("a = 0X1"));
	ASSERT_ERR(parse_rc("a = 012"));
}

TEST(redefinitions)
{
	static const char *const good[] = {
		"[a.b.c]\n[a]\nb.d = 1\n", /* dotted keys may claim an implicit table */
		"[fruit]\napple.color = 'red'\napple.taste.sweet = true\n[fruit.apple.texture]\n",
		"[[a]]\n[a.b]\n[[a]]\n[a.b]\n",
		"a = {b.c = 1, b.d = 2}\n",
		"[a.b]\n[a]\n",
	};
	static const char *const bad[] = {
		"[a.b.c]\n[a]\nb.d = 1\n[a.b]\n",
		"a.b = 1\n[a]\n",
		"a = {}\n[a.b]\n",
		"a = [{}]\n[[a]]\n",
		"a = [{}]\n[a.b]\n",
		"a = {b = {c = 1}, b.d = 2}\n",
		"[a]\nb = 1\n[a.b]\n",
		"[a.b]\nc = 1\n[a]\nb.d = 2\n",
		"[[a]]\n[a]\n",
		"a = 1\n[[a]]\n",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (parse_rc(good[i]) < 0)
			TAP_FAIL("rejected %s: %u:%u: %s", good[i], err.line, err.col, err.msg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_rc(bad[i]) != -EINVAL)
			TAP_FAIL("accepted %s", bad[i]);
}

TEST(empty_and_bom)
{
	struct toml_value *root = parse_n(NULL, 0);

	ASSERT_NOT_NULL(root);
	ASSERT_EQ(root->type, TOML_TABLE);
	ASSERT_EQ(root->u.table.n, 0);
	toml_free(root);
	root = parse("\xEF\xBB\xBF"
		     "a = 1\n");
	ASSERT_NOT_NULL(root);
	ASSERT_EQ(root->u.table.items[0].col, 1 + 3);
	toml_free(root);
	ASSERT_ERR(parse_rc("a = 1\n\xEF\xBB\xBF"));
}

TAP_MAIN()
