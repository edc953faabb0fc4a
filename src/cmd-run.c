// SPDX-License-Identifier: GPL-2.0-or-later
/* aegis run: the daemon, in the foreground. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "config.h"
#include "enforce.h"
#include "log.h"
#include "macro.h"
#include "manager.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct manager *, manager_free);

static void help(void)
{
	printf("Usage: aegis run [OPTIONS]\n\n"
	       "Load the BPF programs and report every connection with the process behind it.\n\n"
	       "  -c, --config=FILE  main configuration file (default %s if it exists)\n"
	       "      --no-config    run without a policy: log every connection\n"
	       "      --json         JSON lines on stdout instead of text lines\n"
	       "  -q, --quiet        no per-connection lines on stdout (policy actions still run;\n"
	       "                     the default when stdout is the journal)\n"
	       "      --detach-enforcement\n"
	       "                     remove enforcement pinned by enforce_persist = true, and exit\n"
	       "  -v, --verbose      debug diagnostics\n"
	       "  -h, --help         show this help\n",
	       AEGIS_DEFAULT_CONFIG);
}

enum {
	ARG_NO_CONFIG = 0x100,
	ARG_JSON,
	ARG_DETACH_ENFORCEMENT,
};

static int parse_argv(int argc, char **argv, struct manager_opts *o)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "no-config", no_argument, NULL, ARG_NO_CONFIG },
		{ "json", no_argument, NULL, ARG_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "detach-enforcement", no_argument, NULL, ARG_DETACH_ENFORCEMENT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:qvh", options, NULL)) >= 0) {
		switch (c) {
		case 'c':
			o->config_path = optarg;
			break;
		case ARG_NO_CONFIG:
			o->no_config = true;
			break;
		case ARG_JSON:
			o->json = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case ARG_DETACH_ENFORCEMENT:
			return 2;
		case 'v':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			help();
			return 0;
		default:
			fprintf(stderr, "Try 'aegis run --help'.\n");
			return -AEGIS_EXIT(EXIT_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "aegis run: unexpected argument '%s'. Try 'aegis run --help'.\n",
			argv[optind]);
		return -AEGIS_EXIT(EXIT_USAGE);
	}
	if (o->no_config && o->config_path) {
		fprintf(stderr, "aegis run: --config and --no-config exclude each other.\n");
		return -AEGIS_EXIT(EXIT_USAGE);
	}
	return 1;
}

int cmd_run(int argc, char **argv)
{
	_cleanup_(manager_freep) struct manager *m = NULL;
	struct manager_opts o = {};
	int r;

	r = parse_argv(argc, argv, &o);
	if (r <= 0)
		return r;
	if (r == 2) {
		r = enforce_detach_pinned();
		if (r < 0)
			return log_error_errno(r, "Failed to remove pinned enforcement: %m");
		printf("%s\n",
		       r > 0 ? "Pinned enforcement removed." : "No pinned enforcement found.");
		return 0;
	}
	/* Under systemd stderr is the journal already; structured entries go there directly. */
	if (getenv("JOURNAL_STREAM"))
		log_open_journal();
	r = manager_new(&m);
	if (r < 0)
		return log_error_errno(r, "Failed to allocate the daemon: %m");
	r = manager_startup(m, &o);
	if (r == -EINVAL && !o.no_config)
		return -AEGIS_EXIT(EXIT_CONFIG);
	if (r < 0)
		return r;
	return manager_run(m);
}
