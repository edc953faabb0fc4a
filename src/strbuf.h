/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A growable byte buffer (kmod's strbuf). Pure. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

struct strbuf {
	char *s; /* always NUL-terminated once anything was appended */
	size_t len;
	size_t cap;
	bool oom; /* an append failed: content is incomplete */
};

void strbuf_init(struct strbuf *b);
void strbuf_done(struct strbuf *b);
void strbuf_reset(struct strbuf *b);
int strbuf_append(struct strbuf *b, const char *s, size_t len);
int strbuf_puts(struct strbuf *b, const char *s);
int strbuf_putc(struct strbuf *b, char c);
int strbuf_printf(struct strbuf *b, const char *fmt, ...) _printf_(2, 3);
/* Detaches the buffer (caller frees); the strbuf is reset. */
char *strbuf_steal(struct strbuf *b);
