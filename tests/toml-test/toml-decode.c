/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * toml-decode: the toml-test decoder interface. Reads TOML on stdin and
 * writes the tagged JSON of the document on stdout (exit 0), or
 * "line:col: message" on stderr (exit 1).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

static int read_all(FILE *f, char **ret_buf, size_t *ret_len)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		size_t n;

		if (len == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		return -EIO;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

static void put_json_string(const char *s, size_t len)
{
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7F)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Shortest %g form that reads back as the same double. */
static void format_float(char *out, size_t outsz, double d)
{
	if (isnan(d)) {
		snprintf(out, outsz, "nan");
		return;
	}
	if (isinf(d)) {
		snprintf(out, outsz, "%sinf", d < 0 ? "-" : "");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, outsz, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

static void format_datetime(char *out, size_t outsz, enum toml_type type,
			    const struct toml_datetime *dt)
{
	size_t o = 0;

	if (type != TOML_TIME_LOCAL)
		o += snprintf(out + o, outsz - o, "%04d-%02d-%02d", dt->year, dt->month, dt->day);
	if (type == TOML_DATETIME || type == TOML_DATETIME_LOCAL)
		out[o++] = 'T';
	if (type != TOML_DATE_LOCAL) {
		o += snprintf(out + o, outsz - o, "%02d:%02d:%02d", dt->hour, dt->minute,
			      dt->second);
		if (dt->frac_digits > 0)
			o += snprintf(out + o, outsz - o, ".%03d", dt->nanosecond / 1000000);
	}
	if (type == TOML_DATETIME) {
		int off = dt->offset_minutes < 0 ? -dt->offset_minutes : dt->offset_minutes;

		if (dt->offset_z)
			o += snprintf(out + o, outsz - o, "Z");
		else
			o += snprintf(out + o, outsz - o, "%c%02d:%02d",
				      dt->offset_minutes < 0 ? '-' : '+', off / 60, off % 60);
	}
	out[o] = '\0';
}

static void put_scalar(const struct toml_value *v)
{
	char buf[64];

	printf("{\"type\":\"%s\",\"value\":", toml_type_to_string(v->type));
	switch (v->type) {
	case TOML_STRING:
		put_json_string(v->u.string.s, v->u.string.len);
		break;
	case TOML_INTEGER:
		printf("\"%lld\"", (long long)v->u.integer);
		break;
	case TOML_FLOAT:
		format_float(buf, sizeof(buf), v->u.fl);
		printf("\"%s\"", buf);
		break;
	case TOML_BOOL:
		printf("\"%s\"", v->u.boolean ? "true" : "false");
		break;
	default:
		format_datetime(buf, sizeof(buf), v->type, &v->u.dt);
		printf("\"%s\"", buf);
		break;
	}
	putchar('}');
}

/* Depth is bounded by TOML_MAX_DEPTH, so recursion is fine here. */
static void put_value(const struct toml_value *v)
{
	if (v->type == TOML_TABLE) {
		putchar('{');
		for (size_t i = 0; i < v->u.table.n; i++) {
			const struct toml_kv *kv = &v->u.table.items[i];

			if (i)
				putchar(',');
			put_json_string(kv->key, kv->key_len);
			putchar(':');
			put_value(kv->value);
		}
		putchar('}');
	} else if (v->type == TOML_ARRAY) {
		putchar('[');
		for (size_t i = 0; i < v->u.array.n; i++) {
			if (i)
				putchar(',');
			put_value(v->u.array.items[i]);
		}
		putchar(']');
	} else {
		put_scalar(v);
	}
}

int main(void)
{
	struct toml_value *root = NULL;
	struct toml_error err = {};
	size_t len;
	char *buf;
	int r;

	r = read_all(stdin, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "toml-decode: failed to read stdin: %s\n", strerror(-r));
		return 2;
	}
	r = toml_parse(buf, len, &root, &err);
	free(buf);
	if (r < 0) {
		fprintf(stderr, "%u:%u: %s\n", err.line, err.col, err.msg);
		return 1;
	}
	put_value(root);
	putchar('\n');
	toml_free(root);
	return fflush(stdout) == 0 ? 0 : 2;
}
