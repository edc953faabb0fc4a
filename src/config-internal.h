/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internals shared by config.c (files, merge, checks), config-parse.c (TOML
 * tree to struct config, with every per-key validation) and config-dump.c.
 * Not an API for other modules.
 */
#pragma once

#include <stdarg.h>

#include "config.h"
#include "macro.h"
#include "toml.h"

extern const char *const config_action_names[6];

/* Where something was written. */
struct pos {
	const char *file;
	unsigned line, col;
};

#define APP_FIELD_COUNT 9

/* struct app plus what only the loader needs; a is first so free(app) works. */
struct app_priv {
	struct app a;
	char *key; /* identity key for the merge index */
	struct pos field[APP_FIELD_COUNT]; /* where each set field was last written */
	struct pos entry;
};

static inline unsigned field_index(unsigned bit)
{
	return (unsigned)__builtin_ctz(bit);
}

struct loader {
	const struct config_load_opts *opts;
	struct config *c;
	struct diag_list *diags;
	bool oom;

	/* current file */
	const char *file;
	const char *buf;
	size_t len;
	bool is_main;

	/* merge index of apps by identity key */
	struct app_priv **slots;
	size_t cap;

	struct pos pos_unconfigured, pos_default;
	struct pos pos_script_dirs;
};

struct app_priv *config_app_new(void);
void config_app_free(struct app *a);
void config_remotes_free(struct remote_spec *r, size_t n);
/* Merges n into the entry of the same identity, or appends it; takes n. */
void config_app_add(struct loader *L, struct app_priv *n);
/* Applies one parsed file to L->c. */
void config_load_tree(struct loader *L, const struct toml_value *root);

int config_strv_push(char ***l, const char *s);
bool config_strv_contains(char *const *l, const char *s);

_printf_(6, 0) void config_diag_addv(struct loader *L, bool warning, const char *file,
				     unsigned line, unsigned col, const char *fmt, va_list ap);
_printf_(5, 6) void config_err_at(struct loader *L, const char *file, unsigned line, unsigned col,
				  const char *fmt, ...);
_printf_(5, 6) void config_warn_at(struct loader *L, const char *file, unsigned line, unsigned col,
				   const char *fmt, ...);

#define err_at config_err_at
#define warn_at config_warn_at
/* Error at a TOML value (or key) of the current file. */
#define err_v(L, v, ...) err_at(L, (L)->file, (v)->line, (v)->col, __VA_ARGS__)
#define err_pos(L, p, ...) err_at(L, (p)->file, (p)->line, (p)->col, __VA_ARGS__)
