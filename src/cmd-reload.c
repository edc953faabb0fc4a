// SPDX-License-Identifier: GPL-2.0-or-later
/* aegis reload: make the running daemon reload its policy (control.h "reload"), print its answer. */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "control.h"
#include "json-value.h"
#include "log.h"
#include "macro.h"

/* A reload loads and validates every file and rebuilds the in-kernel rules. */
#define RELOAD_TIMEOUT_MS 60000

static void help(void)
{
	printf("Usage: aegis reload\n\n"
	       "Ask the running daemon to reload its configuration (the same as SIGHUP or\n"
	       "systemctl reload aegis) and print its answer. The new policy replaces the\n"
	       "old one only if it is valid; otherwise the old one stays and this fails.\n\n"
	       "  -h --help   show this help\n");
}

int cmd_reload(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(control_client_done) struct control_client c = { .fd = -EBADF };
	_cleanup_(jv_freep) struct jv *answer = NULL;
	const struct jv *ok;
	const char *msg;
	int o, r;

	while ((o = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (o != 'h')
			return -AEGIS_EXIT(EXIT_USAGE);
		help();
		return 0;
	}
	if (optind < argc) {
		log_error("reload: unexpected argument '%s'", argv[optind]);
		return -AEGIS_EXIT(EXIT_USAGE);
	}
	r = control_cli_call(&c, "{\"cmd\":\"reload\"}", RELOAD_TIMEOUT_MS, &answer);
	if (r < 0)
		return r;
	ok = jv_get(answer, "ok");
	msg = jv_get_str(answer, "message");
	if (!ok || ok->type != JV_BOOL || !ok->boolean) {
		const char *e = jv_get_str(answer, "error");

		if (msg && *msg)
			return log_error_errno(
				-EINVAL, "Reload failed, the old policy stays active: %s", msg);
		return log_error_errno(-EINVAL, "Reload failed, the old policy stays active: %s",
				       e ?: "invalid answer");
	}
	printf("%s\n", msg && *msg ? msg : "reloaded");
	return 0;
}
