// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test harness for src/enforce.c without the daemon: loads a config, starts
 * enforcement, prints "ready" and the status, then
 *   SIGHUP   reload the config (a broken file keeps the old policy)
 *   SIGUSR1  print the status
 *   SIGTERM  exit (detaches unless pinned)
 * Usage: enforce-driver CONFIG | enforce-driver --detach
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "config.h"
#include "enforce.h"
#include "log.h"

static int load(const char *path, struct config **ret)
{
	struct config_load_opts o = { .main_path = path, .skip_owner_check = true };
	struct diag_list d = {};
	int r = config_load(&o, ret, &d);

	diag_list_print(&d, stderr);
	diag_list_done(&d);
	return r;
}

static void status(struct enforce *e)
{
	struct enforce_status s;

	enforce_get_status(e, &s);
	printf("status active=%d pinned=%d adopted=%d kernel=%u cmdline=%u userspace=%u "
	       "blocks=%llu kills=%llu links=%u gen=%llu root=%s\n",
	       s.active, s.pinned, s.adopted, s.n_kernel_rules, s.n_cmdline_rules,
	       s.n_userspace_only, (unsigned long long)s.blocks, (unsigned long long)s.kills,
	       s.n_links, (unsigned long long)s.generation, s.cgroup_root);
	for (char *const *l = s.rules; l && *l; l++)
		printf("rule %s\n", *l);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct config *c = NULL, *nc;
	struct enforce *e = NULL;
	struct signalfd_siginfo si;
	sigset_t ss;
	int fd, r;

	if (argc == 2 && strcmp(argv[1], "--detach") == 0) {
		r = enforce_detach_pinned();
		printf("detached %d\n", r);
		return r < 0 ? 1 : 0;
	}
	if (argc != 2)
		return 2;
	log_set_max_level(LOG_INFO);
	sigemptyset(&ss);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGUSR1);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	fd = signalfd(-1, &ss, SFD_CLOEXEC);
	if (load(argv[1], &c) < 0)
		return 1;
	r = enforce_new(c, &e);
	if (r < 0) {
		fprintf(stderr, "enforce_new: %s\n", strerror(-r));
		return 1;
	}
	printf("ready\n");
	status(e);
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			status(e);
		else if (si.ssi_signo == SIGHUP) {
			nc = NULL;
			if (load(argv[1], &nc) < 0) {
				printf("reload failed, keeping the old policy\n");
				fflush(stdout);
				continue;
			}
			r = enforce_apply(e, nc);
			if (r < 0) {
				printf("apply failed: %s\n", strerror(-r));
				config_free(nc);
			} else {
				config_free(c);
				c = nc;
				printf("reloaded\n");
			}
			status(e);
		} else
			break;
	}
	enforce_free(e);
	config_free(c);
	return 0;
}
