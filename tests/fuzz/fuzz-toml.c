/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the TOML parser: any input must parse or fail cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks the tree so that every node is touched (ASan checks the reads). */
static size_t walk(const struct toml_value *v)
{
	size_t n = 1;

	if (v->type == TOML_TABLE) {
		for (size_t i = 0; i < v->u.table.n; i++) {
			const struct toml_kv *kv = &v->u.table.items[i];

			/* every key must be found again by lookup when it has no NUL */
			if (strlen(kv->key) == kv->key_len && toml_table_get_kv(v, kv->key) != kv)
				__builtin_trap();
			n += walk(kv->value);
		}
	} else if (v->type == TOML_ARRAY) {
		for (size_t i = 0; i < v->u.array.n; i++)
			n += walk(v->u.array.items[i]);
	} else if (v->type == TOML_STRING) {
		if (v->u.string.s[v->u.string.len] != '\0')
			__builtin_trap();
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_value *root = NULL;
	struct toml_error err;

	if (toml_parse((const char *)data, size, &root, &err) == 0) {
		walk(root);
		toml_free(root);
	} else if (err.line == 0 || err.col == 0 || !memchr(err.msg, '\0', sizeof(err.msg))) {
		__builtin_trap();
	}
	return 0;
}
