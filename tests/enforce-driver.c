// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test harness for src/enforce.c without the daemon: loads a config, starts
 * enforcement, prints "ready" and the status, then
 *   SIGHUP   reload the config (a broken file keeps the old policy)
 *   SIGUSR1  print the status
 *   SIGUSR2  run $AEGIS_DRIVER_SPAWN (sh -c) as a child: it inherits the
 *            driver's exemption like a hook script of the daemon
 *   SIGTERM  exit (detaches unless pinned)
 * Cmdline verdicts come from enforce's own exec feed (enforce_event_fd()).
 * Usage: enforce-driver CONFIG | enforce-driver --detach
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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
	       "blocks=%llu kills=%llu links=%u gen=%llu root=%s execs=%llu lat_avg_us=%llu "
	       "lat_max_us=%llu\n",
	       s.active, s.pinned, s.adopted, s.n_kernel_rules, s.n_cmdline_rules,
	       s.n_userspace_only, (unsigned long long)s.blocks, (unsigned long long)s.kills,
	       s.n_links, (unsigned long long)s.generation, s.cgroup_root,
	       (unsigned long long)s.exec_events, (unsigned long long)s.verdict_latency_avg_us,
	       (unsigned long long)s.verdict_latency_max_us);
	for (char *const *l = s.rules; l && *l; l++)
		printf("rule %s\n", *l);
	fflush(stdout);
}

static void spawn_child(void)
{
	const char *cmd = getenv("AEGIS_DRIVER_SPAWN");
	sigset_t none;
	pid_t pid;

	if (!cmd)
		return;
	pid = fork();
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
}

int main(int argc, char **argv)
{
	struct config *c = NULL, *nc;
	struct enforce *e = NULL;
	struct signalfd_siginfo si;
	sigset_t ss;
	int fd, efd, r;

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
	sigaddset(&ss, SIGUSR2);
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
	efd = enforce_event_fd(e);
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = efd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents & POLLIN)
			enforce_process_events(e);
		if (!(p[0].revents & POLLIN))
			continue;
		if (read(fd, &si, sizeof(si)) != sizeof(si))
			break;
		if (si.ssi_signo == SIGUSR1)
			status(e);
		else if (si.ssi_signo == SIGUSR2)
			spawn_child();
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
