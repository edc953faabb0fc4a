// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kill action from userspace: SIGKILL through a pidfd that is proven to refer
 * to the exact process of the record, (pid, start time). pidfd_open() pins
 * whatever process owns the PID at that moment; /proc/PID/stat read *after*
 * it shows the start time of the current owner. If that equals the record's
 * start time, the pidfd is the recorded process (it started before the record,
 * so it cannot be a newcomer that appeared after pidfd_open()).
 * (The in-kernel kill at connect time is bpf_send_signal in enforce.bpf.c.)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "actions-internal.h"
#include "event-loop.h"
#include "log.h"
#include "macro.h"

static int sys_pidfd_open(pid_t pid, unsigned flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

static int sys_pidfd_send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int proc_stat_read(pid_t pid, uint64_t *ret_start_ticks, pid_t *ret_session)
{
	char path[64], buf[1024];
	_cleanup_close_ int fd = -EBADF;
	unsigned long long start;
	const char *p;
	ssize_t n;
	int session;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	/* comm (field 2) may hold anything, ')' included: fields resume after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	/* fields 3 state, 4 ppid, 5 pgrp, 6 session, ... 22 starttime */
	if (sscanf(p + 1,
		   " %*c %*d %*d %d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
		   "%*d %llu",
		   &session, &start) != 2)
		return -EINVAL;
	if (ret_start_ticks)
		*ret_start_ticks = start;
	if (ret_session)
		*ret_session = session;
	return 0;
}

/*
 * The kernel records task->start_time (CLOCK_MONOTONIC), /proc shows
 * start_boottime (CLOCK_BOOTTIME), in USER_HZ ticks. They differ by the time
 * the host was suspended before the process started: without a suspend they
 * are equal; after one, the current offset is the best estimate.
 */
static bool start_matches(uint64_t start_ns, uint64_t ticks, uint64_t hz)
{
	uint64_t tick_ns = 1000000000ULL / hz;
	uint64_t slept = now_usec(CLOCK_BOOTTIME) - now_usec(CLOCK_MONOTONIC);

	if (start_ns / tick_ns == ticks)
		return true;
	/* now_usec() granularity: allow the tick either side of the suspend-corrected value */
	start_ns += slept * 1000;
	return start_ns / tick_ns == ticks || (start_ns + 1000) / tick_ns == ticks ||
	       (start_ns - 1000) / tick_ns == ticks;
}

static void log_kill(struct actions *a, const struct record *r, bool killed, const char *why)
{
	_cleanup_free_ char *res = NULL;
	char *extra[2] = {};
	struct strbuf b;
	uint64_t skipped = 0;

	if (!killed && !ratelimit_ok(&a->kill_rl, &skipped))
		return;
	strbuf_init(&b);
	action_format_message(r, killed ? "killed" : "kill refused", &b);
	if (why)
		strbuf_printf(&b, " (%s)", why);
	if (skipped)
		strbuf_printf(&b, " [%" PRIu64 " similar refusals not logged]", skipped);
	if (asprintf(&res, "AEGIS_KILL_RESULT=%s%s",
		     killed ? "" : "refused: ", killed ? why ?: "killed" : why) >= 0)
		extra[0] = res;
	(void)action_journal_send(killed ? KIND_KILL : KIND_KILL_REFUSED,
				  killed ? LOG_ALERT : LOG_ERR, b.s ?: "kill", r, NULL, extra);
	strbuf_done(&b);
}

/*
 * Gone before we got to it. Not a refusal: a connect refused with EPERM under
 * a kill rule was killed by bpf_send_signal() in the cgroup hook, so the kill
 * is logged as such; anything else simply exited first.
 */
static int gone(struct actions *a, const struct record *r)
{
	if (r->has_result && r->result == -EPERM)
		log_kill(a, r, true, "killed in kernel");
	else
		log_debug("Process %d already exited before the kill.", (int)r->proc->pid);
	return 0;
}

static int refuse(struct actions *a, const struct record *r, int err, const char *why)
{
	a->stats.kill_refused++;
	log_kill(a, r, false, why);
	return err;
}

int action_kill(struct actions *a, const struct record *r)
{
	const struct proc_info *p = r->proc;
	_cleanup_close_ int pidfd = -EBADF;
	uint64_t ticks;
	pid_t session;
	long hz = sysconf(_SC_CLK_TCK);
	int k;

	if (p->pid <= 1)
		return refuse(a, r, -EPERM, "never PID 1");
	if (p->pid == getpid())
		return refuse(a, r, -EPERM, "never aegis itself");
	if (actions_is_own_child(a, p->pid))
		return refuse(a, r, -EPERM, "never an aegis hook script");
	if (!p->start_time || hz <= 0)
		return refuse(a, r, -ESRCH, "start time unknown, cannot verify identity");
	pidfd = sys_pidfd_open(p->pid, 0);
	if (pidfd < 0)
		return errno == ESRCH ? gone(a, r) : refuse(a, r, -errno, "pidfd_open failed");
	k = proc_stat_read(p->pid, &ticks, &session);
	if (k == -ENOENT || k == -ESRCH)
		return gone(a, r);
	if (k < 0)
		return refuse(a, r, k, "cannot read /proc/PID/stat");
	if (!start_matches(p->start_time, ticks, (uint64_t)hz))
		return refuse(a, r, -ESRCH, "PID reused by another process");
	/* Hooks lead their own session: this also covers what they started (curl...). */
	if (actions_is_own_child(a, session))
		return refuse(a, r, -EPERM, "never a process of an aegis hook script");
	if (sys_pidfd_send_signal(pidfd, SIGKILL) < 0)
		return errno == ESRCH ? gone(a, r) :
					refuse(a, r, -errno, "pidfd_send_signal failed");
	a->stats.kills++;
	log_kill(a, r, true, NULL);
	return 0;
}
