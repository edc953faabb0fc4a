// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * script action: every executable in global.script_dirs (sorted by name), or
 * the app's own `scripts`, runs with argv = { path } and an environment made
 * only of the record (action-env.h). Never a shell.
 *
 * Children are made with clone3(CLONE_PIDFD) and exit_signal 0: no SIGCHLD,
 * invisible to waitpid(-1) (only __WALL sees them), so nobody else can reap
 * them and the pidfd always names our child. The pidfd sits on the event
 * loop; readable = exited, then waitid(P_PIDFD, WNOHANG). Each child leads
 * its own session/process group, so the timeout (SIGTERM, then SIGKILL after
 * SCRIPT_KILL_GRACE_USEC) reaches whatever the script started.
 *
 * The child runs only async-signal-safe calls (libcurl may have threads):
 * everything it needs is prepared before clone3.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "action-env.h"
#include "actions-internal.h"
#include "event-loop.h"
#include "log.h"
#include "macro.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define SCRIPT_KILL_GRACE_USEC (2 * 1000000ULL)

struct script_env {
	unsigned ref;
	char **envp;
	char *rec_pid; /* "AEGIS_PID=..." for the exit log */
};

struct script_job {
	struct script_job *next;
	struct script_runner *runner;
	char *path;
	struct script_env *env;
	uint64_t timeout_usec;
	pid_t pid;
	int pidfd;
	struct event_source *child_src, *timer_src;
	uint64_t started;
	bool term_sent, timed_out;
};

struct script_runner {
	struct actions *a;
	struct script_job *queue_head, *queue_tail;
	size_t n_queued;
	struct script_job *running;
	struct ratelimit drop_rl, refuse_rl;
};

static struct script_env *env_unref(struct script_env *e)
{
	if (!e || --e->ref > 0)
		return NULL;
	strv_free(e->envp);
	free(e->rec_pid);
	free(e);
	return NULL;
}

static struct script_job *job_free(struct script_job *j)
{
	if (!j)
		return NULL;
	j->child_src = event_source_free(j->child_src);
	j->timer_src = event_source_free(j->timer_src);
	safe_close(j->pidfd);
	env_unref(j->env);
	free(j->path);
	free(j);
	return NULL;
}

int script_runner_new(struct actions *a, struct script_runner **ret)
{
	struct script_runner *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->a = a;
	s->drop_rl = RATELIMIT_INIT(10 * 1000000ULL, 3);
	s->refuse_rl = RATELIMIT_INIT(60 * 1000000ULL, 5);
	*ret = s;
	return 0;
}

/* Shutdown: SIGKILL and reap (the only wait that blocks, and SIGKILL is prompt). */
struct script_runner *script_runner_free(struct script_runner *s)
{
	if (!s)
		return NULL;
	while (s->running) {
		struct script_job *j = s->running;
		siginfo_t si;

		s->running = j->next;
		(void)kill(-j->pid, SIGKILL);
		(void)syscall(SYS_pidfd_send_signal, j->pidfd, SIGKILL, NULL, 0);
		(void)waitid((idtype_t)P_PIDFD, (id_t)j->pidfd, &si, WEXITED | __WALL);
		job_free(j);
	}
	while (s->queue_head) {
		struct script_job *j = s->queue_head;

		s->queue_head = j->next;
		job_free(j);
	}
	free(s);
	return NULL;
}

bool script_runner_owns(const struct script_runner *s, pid_t pid)
{
	for (const struct script_job *j = s ? s->running : NULL; j; j = j->next)
		if (j->pid == pid)
			return true;
	return false;
}

static uint64_t script_max(const struct script_runner *s)
{
	const struct config *c = s->a->config;

	return MAX(c ? c->global.script_max : 8, 1);
}

static void running_remove(struct script_runner *s, struct script_job *j)
{
	for (struct script_job **p = &s->running; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	s->a->stats.scripts_running--;
}

static void log_exit(struct script_job *j, const siginfo_t *si)
{
	char status[64], *extra[6] = {};
	_cleanup_free_ char *msg = NULL, *e0 = NULL, *e1 = NULL, *e2 = NULL, *e3 = NULL;
	bool failed = true;
	const char *name = strrchr(j->path, '/') ? strrchr(j->path, '/') + 1 : j->path;
	double secs = (double)(now_usec(CLOCK_MONOTONIC) - j->started) / 1e6;

	if (!si)
		snprintf(status, sizeof(status), "unknown");
	else if (si->si_code == CLD_EXITED) {
		snprintf(status, sizeof(status), "exited %d", si->si_status);
		failed = si->si_status != 0;
	} else
		snprintf(status, sizeof(status), "killed SIG%s",
			 sigabbrev_np(si->si_status) ?: "?");
	if (asprintf(&msg, "Hook script %s (pid %d) %s after %.3fs%s", name, (int)j->pid, status,
		     secs, j->timed_out ? " (timed out)" : "") < 0)
		return;
	if (asprintf(&e0, "AEGIS_SCRIPT=%s", j->path) < 0 ||
	    asprintf(&e1, "AEGIS_SCRIPT_PID=%d", (int)j->pid) < 0 ||
	    asprintf(&e2, "AEGIS_SCRIPT_STATUS=%s", status) < 0 ||
	    asprintf(&e3, "AEGIS_SCRIPT_TIMED_OUT=%d", j->timed_out) < 0)
		return;
	extra[0] = e0, extra[1] = e1, extra[2] = e2, extra[3] = e3, extra[4] = j->env->rec_pid;
	(void)action_journal_send(KIND_SCRIPT_EXIT, failed || j->timed_out ? LOG_WARNING : LOG_INFO,
				  msg, NULL, NULL, extra);
}

static void runner_dispatch(struct script_runner *s);

static int on_child(struct event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct script_job *j = userdata;
	struct script_runner *s = j->runner;
	siginfo_t si = {};

	if (waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG | __WALL) < 0) {
		if (errno != ECHILD)
			return -errno;
		log_exit(j, NULL); /* reaped elsewhere (SIGCHLD ignored?) */
	} else if (si.si_pid == 0) {
		return 0; /* not yet */
	} else {
		log_exit(j, &si);
	}
	if (j->timed_out)
		(void)kill(-j->pid, SIGKILL); /* what it left behind in its group */
	running_remove(s, j);
	job_free(j);
	runner_dispatch(s);
	return 0;
}

static int on_timeout(struct event_source *src, uint64_t now, void *userdata)
{
	struct script_job *j = userdata;
	int sig = j->term_sent ? SIGKILL : SIGTERM;

	if (!j->term_sent) {
		j->timed_out = j->term_sent = true;
		j->runner->a->stats.scripts_timed_out++;
		log_warning("Hook script %s (pid %d) timed out after %" PRIu64
			    " ms, sending SIGTERM.",
			    j->path, (int)j->pid, j->timeout_usec / 1000);
		(void)event_source_set_time(src, now + SCRIPT_KILL_GRACE_USEC);
	} else {
		log_warning("Hook script %s (pid %d) ignored SIGTERM, sending SIGKILL.", j->path,
			    (int)j->pid);
	}
	/* Not reaped yet, so the group id cannot have been reused. */
	(void)kill(-j->pid, sig);
	(void)syscall(SYS_pidfd_send_signal, j->pidfd, sig, NULL, 0);
	return 0;
}

struct spawn_ctx {
	const char *path;
	char *const *argv;
	char *const *envp;
	int in, out;
	pid_t parent;
};

static _noreturn_ void child_exec(const struct spawn_ctx *c)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	/* The daemon blocks signals for its signalfd, and ignored ones survive exec. */
	for (int sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	/* If aegis dies, so does the hook (no orphan running on without limits). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != c->parent)
		_exit(126);
	(void)setsid();
	if (chdir("/") < 0)
		_exit(126);
	if (dup2(c->in, STDIN_FILENO) < 0 || dup2(c->out, STDOUT_FILENO) < 0 ||
	    dup2(c->out, STDERR_FILENO) < 0)
		_exit(126);
	(void)syscall(SYS_close_range, 3U, ~0U, 0U);
	execve(c->path, c->argv, c->envp);
	_exit(127);
}

static int output_fd(const char *path)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	_cleanup_free_ char *ident = NULL;
	int fd;

	if (asprintf(&ident, "aegis-script-%s", name) >= 0) {
		fd = sd_journal_stream_fd(ident, LOG_INFO, /* level_prefix= */ 0);
		if (fd >= 0) {
			/* Above 2, so dup2() in the child always makes a fresh, inheritable copy. */
			int fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 3);

			safe_close(fd);
			return fd2 >= 0 ? fd2 : -errno;
		}
	}
	fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	return fd >= 0 ? fd : -errno;
}

static int job_spawn(struct script_runner *s, struct script_job *j)
{
	_cleanup_close_ int in = -EBADF, out = -EBADF;
	char *argv[] = { j->path, NULL };
	struct spawn_ctx c;
	int pidfd = -EBADF, r;
	struct clone_args args = {
		.flags = CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = 0,
	};
	long pid;

	in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in >= 0 && in < 3) {
		int fd = fcntl(in, F_DUPFD_CLOEXEC, 3);

		safe_close(in);
		in = fd;
	}
	if (in < 0)
		return -errno;
	out = output_fd(j->path);
	if (out < 0)
		return out;
	c = (struct spawn_ctx){
		.path = j->path,
		.argv = argv,
		.envp = j->env->envp,
		.in = in,
		.out = out,
		.parent = getpid(),
	};
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_exec(&c);
	j->pid = (pid_t)pid;
	j->pidfd = pidfd;
	j->started = now_usec(CLOCK_MONOTONIC);
	r = event_loop_add_io(s->a->loop, pidfd, EPOLLIN, on_child, j, &j->child_src);
	if (r >= 0 && j->timeout_usec)
		r = event_loop_add_timer(s->a->loop, j->started + j->timeout_usec, on_timeout, j,
					 &j->timer_src);
	if (r < 0) {
		/* Cannot watch it: do not leave it unsupervised. */
		siginfo_t si;

		(void)kill(-j->pid, SIGKILL);
		(void)waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | __WALL);
		return r;
	}
	return 0;
}

static void runner_dispatch(struct script_runner *s)
{
	while (s->queue_head && s->a->stats.scripts_running < script_max(s)) {
		struct script_job *j = s->queue_head;
		int r;

		s->queue_head = j->next;
		if (!s->queue_head)
			s->queue_tail = NULL;
		s->n_queued--;
		j->next = NULL;
		r = job_spawn(s, j);
		if (r < 0) {
			log_warning_errno(r, "Failed to run hook script %s, ignoring: %m", j->path);
			s->a->stats.scripts_dropped++;
			job_free(j);
			continue;
		}
		j->next = s->running;
		s->running = j;
		s->a->stats.scripts_run++;
		s->a->stats.scripts_running++;
	}
}

static void refuse_log(struct script_runner *s, const char *what, const char *path, const char *why)
{
	uint64_t skipped;

	if (ratelimit_ok(&s->refuse_rl, &skipped))
		log_warning("Refusing hook %s %s: %s%s", what, path, why,
			    skipped ? " (and earlier refusals not logged)" : "");
}

/* Root-owned and not writable by group or others, else anyone could run code as root. */
static const char *unsafe_reason(const struct stat *st)
{
	if (st->st_uid != 0)
		return "not owned by root";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	return NULL;
}

static int enqueue(struct script_runner *s, const char *path, struct script_env *env)
{
	const struct config *c = s->a->config;
	struct script_job *j;
	uint64_t qmax = c ? c->global.script_queue_max : 1024, skipped;

	uint64_t free_slots = script_max(s) - MIN(s->a->stats.scripts_running, script_max(s));

	/* Runs not yet started beyond the free slots wait in a queue of qmax. */
	if (s->n_queued >= qmax + free_slots) {
		s->a->stats.scripts_dropped++;
		if (ratelimit_ok(&s->drop_rl, &skipped))
			log_warning("Hook script queue full (%zu pending), dropping %s "
				    "(%" PRIu64 " dropped in total).",
				    s->n_queued, path, s->a->stats.scripts_dropped);
		return -ENOBUFS;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->path = strdup(path);
	if (!j->path) {
		free(j);
		return -ENOMEM;
	}
	*j = (struct script_job){ .runner = s,
				  .path = j->path,
				  .env = env,
				  .pidfd = -EBADF,
				  .timeout_usec =
					  (c ? c->global.script_timeout : 10000) * 1000ULL };
	env->ref++;
	if (s->queue_tail)
		s->queue_tail->next = j;
	else
		s->queue_head = j;
	s->queue_tail = j;
	s->n_queued++;
	return 0;
}

static int check_and_enqueue(struct script_runner *s, const char *path, struct script_env *env)
{
	struct stat st;
	const char *why;

	if (stat(path, &st) < 0) {
		refuse_log(s, "script", path, strerror(errno));
		s->a->stats.scripts_dropped++;
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return 0; /* not a script (README, directory...) */
	why = unsafe_reason(&st);
	if (why) {
		refuse_log(s, "script", path, why);
		s->a->stats.scripts_dropped++;
		return -EPERM;
	}
	return enqueue(s, path, env);
}

static int filter_entry(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static int cmp_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int enqueue_dir(struct script_runner *s, const char *dir, struct script_env *env)
{
	struct dirent **list = NULL;
	struct stat st;
	const char *why;
	int n, ret = 0;

	if (stat(dir, &st) < 0) {
		if (errno != ENOENT)
			refuse_log(s, "directory", dir, strerror(errno));
		return errno == ENOENT ? 0 : -errno;
	}
	why = unsafe_reason(&st);
	if (why) {
		refuse_log(s, "directory", dir, why);
		return -EPERM;
	}
	n = scandir(dir, &list, filter_entry, cmp_name);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, list[i]->d_name) >= 0) {
			int r = check_and_enqueue(s, path, env);

			if (r < 0 && !ret)
				ret = r;
		}
		free(list[i]);
	}
	free(list);
	return ret;
}

int script_runner_submit(struct script_runner *s, const struct record *r, const char *json)
{
	const struct config *c = s->a->config;
	const struct app *app = r->proc->app;
	struct script_env *env;
	int ret = 0, k;

	env = calloc(1, sizeof(*env));
	if (!env)
		return -ENOMEM;
	env->ref = 1;
	k = action_env_build(r, json, &env->envp);
	if (k < 0 || asprintf(&env->rec_pid, "AEGIS_PID=%d", (int)r->proc->pid) < 0) {
		env->rec_pid = NULL;
		env_unref(env);
		return k < 0 ? k : -ENOMEM;
	}
	if (app && app->scripts) {
		STRV_FOREACH(p, app->scripts) {
			k = check_and_enqueue(s, *p, env);
			ret = ret ?: MIN(k, 0);
		}
	} else if (c) {
		STRV_FOREACH(d, c->global.script_dirs) {
			k = enqueue_dir(s, *d, env);
			ret = ret ?: MIN(k, 0);
		}
	}
	env_unref(env);
	runner_dispatch(s);
	return ret;
}
