// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * aegis check-config [-c MAIN] [--drop-in FILE]... [--dump] [-q]
 *
 * Loads the policy exactly as the daemon does (ownership checks included) and
 * prints every diagnostic. Exit 0 when valid, 3 (EXIT_CONFIG) when not, 2 on
 * usage errors. Ansible: `validate: aegis check-config --drop-in %s`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "config.h"
#include "curl-util.h"
#include "log.h"
#include "macro.h"

static const char *arg_config;
static char **arg_drop_ins;
static bool arg_dump;
static bool arg_quiet;

static void help(void)
{
	printf("Usage: aegis check-config [OPTIONS]\n\n"
	       "Validate the policy: the main file, every drop-in of its include_dirs, and\n"
	       "the given extra drop-ins. Prints every error as FILE:LINE:COL: MESSAGE.\n\n"
	       "  -c, --config=FILE     main file (default %s)\n"
	       "      --drop-in=FILE    also read FILE as a drop-in, sorted by its file name;\n"
	       "                        it replaces an installed drop-in of the same name\n"
	       "                        (repeatable; for Ansible: validate: aegis check-config\n"
	       "                        --drop-in %%s)\n"
	       "      --dump            print the effective merged policy as TOML\n"
	       "  -q, --quiet           no summary line and no warnings, only errors\n"
	       "  -h, --help            show this help\n\n"
	       "Exit status: 0 valid, 3 invalid, 2 usage error.\n",
	       AEGIS_DEFAULT_CONFIG);
}

static int parse_argv(int argc, char **argv)
{
	enum { ARG_DROP_IN = 0x100, ARG_DUMP };
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "drop-in", required_argument, NULL, ARG_DROP_IN },
		{ "dump", no_argument, NULL, ARG_DUMP },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	size_t n = 0;
	int c;

	while ((c = getopt_long(argc, argv, "c:qh", options, NULL)) >= 0) {
		switch (c) {
		case 'c':
			arg_config = optarg;
			break;
		case ARG_DROP_IN: {
			char **l = reallocarray(arg_drop_ins, n + 2, sizeof(char *));

			if (!l)
				return log_error_errno(-ENOMEM, "Out of memory");
			arg_drop_ins = l;
			l[n++] = optarg; /* borrowed from argv */
			l[n] = NULL;
			break;
		}
		case ARG_DUMP:
			arg_dump = true;
			break;
		case 'q':
			arg_quiet = true;
			break;
		case 'h':
			help();
			return 0;
		default:
			fprintf(stderr, "Try 'aegis check-config --help'.\n");
			return -AEGIS_EXIT(EXIT_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "aegis check-config: unexpected argument '%s'. Try --help.\n",
			argv[optind]);
		return -AEGIS_EXIT(EXIT_USAGE);
	}
	return 1;
}

static void print_diags(const struct diag_list *l)
{
	if (!arg_quiet) {
		diag_list_print(l, stderr);
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		struct diag_list one = { .d = l->d + i, .n = 1 };

		if (!l->d[i].warning)
			diag_list_print(&one, stderr);
	}
}

static void print_summary(const struct config *c, const char *main_path,
			  const struct diag_list *diags)
{
	size_t n_files = strv_length(c->files);

	printf("%s: OK, %zu file%s, %zu app%s, %zu whitelist ip range%s, %zu whitelist port "
	       "range%s, %zu whitelisted program%s",
	       main_path, n_files, n_files == 1 ? "" : "s", c->n_apps, c->n_apps == 1 ? "" : "s",
	       addrset_count(&c->whitelist.ips), addrset_count(&c->whitelist.ips) == 1 ? "" : "s",
	       c->whitelist.ports.n, c->whitelist.ports.n == 1 ? "" : "s",
	       strv_length(c->whitelist.programs),
	       strv_length(c->whitelist.programs) == 1 ? "" : "s");
	if (diags->n > diags->n_errors)
		printf(", %zu warning%s", diags->n - diags->n_errors,
		       diags->n - diags->n_errors == 1 ? "" : "s");
	printf("\n");
}

/*
 * The daemon loads libcurl only for webhooks and refuses a configuration
 * whose webhooks it cannot serve. The policy itself is valid (this may run on
 * another host than the daemon), so a missing libcurl is a warning here.
 */
static void check_libcurl(const struct config *c, const char *main_path)
{
	const char *why = NULL;

	if (arg_quiet || !c->notify.webhooks || !c->notify.webhooks[0])
		return;
	if (curl_util_load(&why) < 0)
		fprintf(stderr,
			"%s: warning: notify.webhooks is set, but libcurl cannot be used (%s); "
			"aegis run and aegis reload refuse this configuration on this host\n",
			main_path, why);
}

int cmd_check_config(int argc, char **argv)
{
	struct diag_list diags = {};
	struct config *c = NULL;
	const char *main_path;
	int r;

	r = parse_argv(argc, argv);
	if (r <= 0)
		goto out;
	main_path = arg_config ?: AEGIS_DEFAULT_CONFIG;

	struct config_load_opts opts = { .main_path = main_path, .drop_ins = arg_drop_ins };
	r = config_load(&opts, &c, &diags);
	print_diags(&diags);
	if (r == -EINVAL) {
		fprintf(stderr, "%s: %zu error%s, policy not valid\n", main_path, diags.n_errors,
			diags.n_errors == 1 ? "" : "s");
		r = -AEGIS_EXIT(EXIT_CONFIG);
		goto out;
	}
	if (r < 0) {
		r = log_error_errno(r, "Failed to load the policy: %m");
		goto out;
	}
	check_libcurl(c, main_path);
	if (arg_dump) {
		r = config_dump(c, stdout);
		if (r < 0) {
			r = log_error_errno(r, "Failed to write the policy: %m");
			goto out;
		}
	} else if (!arg_quiet)
		print_summary(c, main_path, &diags);
	r = 0;
out:
	config_free(c);
	diag_list_done(&diags);
	free(arg_drop_ins);
	arg_drop_ins = NULL;
	return r;
}
