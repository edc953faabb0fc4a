// SPDX-License-Identifier: GPL-2.0-or-later
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "action-env.h"
#include "macro.h"

struct env_builder {
	char **v;
	size_t n, cap;
};

static int builder_push(struct env_builder *b, char *s)
{
	if (!s)
		return -ENOMEM;
	if (b->n + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		char **v = reallocarray(b->v, cap, sizeof(char *));

		if (!v) {
			free(s);
			return -ENOMEM;
		}
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = s;
	b->v[b->n] = NULL;
	return 0;
}

int action_env_entry(const char *name, const char *value, size_t len, char **ret)
{
	size_t nlen = strlen(name), off = 0;
	char *s;

	s = malloc(strlen("AEGIS_") + nlen + 1 + len + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, "AEGIS_", strlen("AEGIS_"));
	off = strlen("AEGIS_");
	for (size_t i = 0; i < nlen; i++)
		s[off++] = (char)toupper((unsigned char)name[i]);
	s[off++] = '=';
	for (size_t i = 0; i < len; i++)
		s[off++] = value[i] ? value[i] : ' ';
	s[off] = '\0';
	*ret = s;
	return 0;
}

static int env_field(const char *name, const char *value, size_t len, void *userdata)
{
	char *s = NULL;
	int r;

	r = action_env_entry(name, value, len, &s);
	if (r < 0)
		return r;
	return builder_push(userdata, s);
}

int action_env_build(const struct record *r, const char *json, char ***ret)
{
	struct env_builder b = {};
	int k;

	k = builder_push(&b, strdup(ACTION_ENV_PATH));
	if (k >= 0)
		k = builder_push(&b, strdup(ACTION_ENV_LANG));
	if (k >= 0)
		k = record_foreach_field(r, env_field, &b);
	if (k >= 0 && json) {
		char *s = NULL;

		k = action_env_entry("event_json", json, strlen(json), &s);
		if (k >= 0)
			k = builder_push(&b, s);
	}
	if (k < 0) {
		strv_free(b.v);
		return k;
	}
	*ret = b.v;
	return 0;
}
