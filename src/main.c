// SPDX-License-Identifier: GPL-2.0-or-later
/* aegis: process-attributing network connection monitor. Verb dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config-h.h"
#include "log.h"
#include "macro.h"

struct command {
	const char *name;
	int (*func)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "run", cmd_run, "Load the BPF programs and monitor connections (the daemon)" },
	{ "check-config", cmd_check_config, "Validate the policy (main file and drop-ins)" },
	{ "status", cmd_status, "Show the state of the running daemon" },
	{ "events", cmd_events, "Stream records from the running daemon" },
	{ "reload", cmd_reload, "Make the running daemon reload its policy" },
	{ "explain", cmd_explain, "Show which rule matches a process and destination" },
};

static void help(void)
{
	printf("Usage: aegis [--version] [--help] COMMAND [ARGS...]\n\n"
	       "Process-attributing network connection monitor.\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-14s %s\n", commands[i].name, commands[i].help);
	printf("\nRun 'aegis COMMAND --help' for a command's options. See aegis(8).\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	int c, r;

	/* Global options stop at the first non-option: the verb. */
	while ((c = getopt_long(argc, argv, "+hV", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case 'V':
			printf("aegis %s\n", AEGIS_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'aegis --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "aegis: missing command. Try 'aegis --help'.\n");
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (!streq(argv[optind], commands[i].name))
			continue;
		argv += optind;
		argc -= optind;
		optind = 0; /* reset getopt for the verb */
		r = commands[i].func(argc, argv);
		if (r >= 0)
			return 0;
		if (-r > AEGIS_EXIT_BASE)
			return -r - AEGIS_EXIT_BASE;
		return 1;
	}
	fprintf(stderr, "aegis: unknown command '%s'. Try 'aegis --help'.\n", argv[optind]);
	return EXIT_USAGE;
}
