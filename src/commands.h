/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One function per verb, each in its own cmd-*.c, parsing its own options
 * with getopt_long (argv[0] is the verb). They return 0 or a negative errno;
 * main() maps that to the exit code (see man/aegis.8.scd EXIT STATUS).
 * A verb that wants a specific exit code returns -AEGIS_EXIT(code).
 */
#pragma once

#define AEGIS_EXIT_BASE 10000
/* Exit codes: 0 ok, 1 failure, 2 usage, 3 invalid configuration, 4 daemon unreachable. */
#define EXIT_USAGE 2
#define EXIT_CONFIG 3
#define EXIT_NODAEMON 4
#define AEGIS_EXIT(code) (AEGIS_EXIT_BASE + (code))

int cmd_run(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_explain(int argc, char **argv);
