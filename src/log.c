// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool use_journal;

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

void log_open_journal(void)
{
	/* journald's socket exists only while journald runs; without it, stay on stderr. */
	use_journal = access("/run/systemd/journal/socket", W_OK) == 0;
}

bool log_is_journal(void)
{
	return use_journal;
}

int log_internalv(int level, int err, const char *file, int line, const char *func, const char *fmt,
		  va_list ap)
{
	char buf[2048];
	int saved = errno;

	if (err)
		errno = abs(err);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (use_journal) {
		char f[64], l[32];

		snprintf(f, sizeof(f), "CODE_FILE=%s", file);
		snprintf(l, sizeof(l), "CODE_LINE=%d", line);
		if (sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", level, f, l, "CODE_FUNC=%s",
				    func, "SYSLOG_IDENTIFIER=aegis", NULL) >= 0)
			goto out;
	}
	fprintf(stderr, "aegis: %s\n", buf);
out:
	errno = saved;
	return -abs(err);
}

int log_internal(int level, int err, const char *file, int line, const char *func, const char *fmt,
		 ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = log_internalv(level, err, file, line, func, fmt, ap);
	va_end(ap);
	return r;
}

int log_libbpf_print(int level, const char *fmt, va_list ap)
{
	/* libbpf levels: 0 warn, 1 info, 2 debug; demote one step. */
	int l = level == 0 ? LOG_INFO : LOG_DEBUG;
	char buf[1024];
	size_t n;

	if (l > max_level)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	log_internal(l, 0, "libbpf", 0, "libbpf", "libbpf: %s", buf);
	return 0;
}
