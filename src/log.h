/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Diagnostics of the daemon and the CLI. Core modules (toml, config, policy,
 * addrset, detent, json) never log above debug; they return errors.
 *
 * Messages go to stderr, or to the journal (sd_journal_print with
 * SYSLOG_IDENTIFIER=aegis) once log_open_journal() succeeded.
 * log_*_errno() return -abs(err) so callers can `return log_error_errno(r, ...)`;
 * "%m" in the format expands to strerror(err).
 */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
/* Route diagnostics to journald when it is reachable (stderr stays the fallback). */
void log_open_journal(void);
bool log_is_journal(void);

int log_internal(int level, int err, const char *file, int line, const char *func, const char *fmt,
		 ...) _printf_(6, 7);
int log_internalv(int level, int err, const char *file, int line, const char *func, const char *fmt,
		  va_list ap) _printf_(6, 0);

#define log_full_errno(level, err, ...)                                                     \
	({                                                                                  \
		int _l_ = (level), _e_ = (err);                                             \
		_l_ <= log_get_max_level() ?                                                \
			log_internal(_l_, _e_, __FILE__, __LINE__, __func__, __VA_ARGS__) : \
			-abs(_e_);                                                          \
	})
#define log_full(level, ...) (void)log_full_errno(level, 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)

/* libbpf print callback: demotes libbpf's messages one level (xdp-tools). */
struct libbpf_print_fn_args;
int log_libbpf_print(int level, const char *fmt, va_list ap) _printf_(2, 0);
