// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Process cache: exec/exit records, the /proc fallback against real processes
 * (this one and a forked child), PID reuse detected by start time, unit
 * extraction from cgroup paths, argv joining.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#include "aegis.h"
#include "macro.h"
#include "proc-cache.h"
#include "tap.h"

#define SEC_NS 1000000000ull

/* task->start_time (CLOCK_MONOTONIC ns) of pid, rebuilt from /proc/PID/stat. */
static uint64_t start_time_of(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long ticks = 0;
	struct timespec b, m;
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1,
			 " %*c %*d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			 "%*s %*s %llu",
			 &ticks) != 1)
		return 0;
	clock_gettime(CLOCK_BOOTTIME, &b);
	clock_gettime(CLOCK_MONOTONIC, &m);
	/* middle of the tick, minus the suspend offset between the two clocks */
	return ticks * (SEC_NS / sysconf(_SC_CLK_TCK)) + SEC_NS / sysconf(_SC_CLK_TCK) / 2 -
	       ((b.tv_sec - m.tv_sec) * SEC_NS + (b.tv_nsec - m.tv_nsec));
}

static struct aegis_task task_of(pid_t pid, const char *comm)
{
	struct aegis_task t = {
		.pid = (uint32_t)pid,
		.tid = (uint32_t)pid,
		.ppid = (uint32_t)getppid(),
		.uid = getuid(),
		.gid = getgid(),
		.start_time = start_time_of(pid),
	};

	snprintf(t.comm, sizeof(t.comm), "%s", comm);
	return t;
}

static char *readlink_alloc(const char *path)
{
	char buf[4096];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = 0;
	return strdup(buf);
}

static const char *user_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "%u", (unsigned)uid);
	return buf;
}

static struct aegis_rec_exec *exec_rec(pid_t pid, uint64_t start_time, const char *path,
				       const char *argv, size_t argv_len, uint32_t flags)
{
	struct aegis_rec_exec *e = calloc(1, sizeof(*e));

	e->type = AEGIS_REC_EXEC;
	e->flags = flags;
	e->ts = 10 * SEC_NS;
	e->task.pid = e->task.tid = (uint32_t)pid;
	e->task.ppid = 1;
	e->task.uid = 0;
	e->task.start_time = start_time;
	snprintf(e->task.comm, sizeof(e->task.comm), "test");
	e->path_len = (uint32_t)strlen(path) + 1;
	memcpy(e->path, path, strlen(path));
	snprintf(e->filename, sizeof(e->filename), "./relative");
	e->filename_len = (uint32_t)strlen(e->filename) + 1;
	memcpy(e->argv, argv, argv_len);
	e->argv_len = (uint32_t)argv_len;
	return e;
}

TEST(unit_from_cgroup)
{
	static const struct {
		const char *path, *unit;
	} cases[] = {
		{ "/system.slice/nginx.service", "nginx.service" },
		{ "/system.slice/nginx.service/", "nginx.service" },
		{ "/system.slice/docker-0123abc.scope", "docker-0123abc.scope" },
		{ "/system.slice/foo.service/payload/sub", "foo.service" },
		{ "/system.slice/sshd.socket", "sshd.socket" },
		{ "/user.slice/user-1000.slice/session-4.scope", "session-4.scope" },
		/* below a unit is delegated to it: a user's own "sshd.service" is not the
		 * system's (sd_pid_get_unit() semantics) */
		{ "/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service",
		  "user@1000.service" },
		{ "/user.slice/user-1000.slice/user@1000.service/app.slice/sshd.service",
		  "user@1000.service" },
		{ "/user.slice/user-1000.slice/user@1000.service/init.scope", "user@1000.service" },
		{ "/init.scope", "init.scope" },
		{ "/system.slice/_cpu.service", "cpu.service" },
		{ "/machine.slice/machine-c1.scope/payload/system.slice/postgres.service",
		  "machine-c1.scope" },
		{ "/system.slice", NULL },
		{ "/user.slice/user-1000.slice", NULL },
		{ "/", NULL },
		{ "", NULL },
		{ "/a/.service", NULL },
		{ "/lxc/container1", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *unit = (char *)"x";

		ASSERT_OK(proc_cache_unit_from_cgroup(cases[i].path, &unit));
		if (cases[i].unit)
			ASSERT_STREQ(unit, cases[i].unit);
		else if (unit)
			TAP_FAIL("%s: expected no unit, got %s", cases[i].path, unit);
		free(unit);
	}
}

TEST(join_argv)
{
	char *s;

	ASSERT_OK(proc_cache_join_argv("curl\0-s\0http://x/\0", 18, false, &s));
	ASSERT_STREQ(s, "curl -s http://x/");
	free(s);
	/* empty arguments keep their place */
	ASSERT_OK(proc_cache_join_argv("a\0\0b\0", 5, false, &s));
	ASSERT_STREQ(s, "a  b");
	free(s);
	ASSERT_OK(proc_cache_join_argv("", 0, false, &s));
	ASSERT_STREQ(s, "");
	free(s);
	/* cut in the middle of U+20AC: the partial sequence goes */
	ASSERT_OK(proc_cache_join_argv("x\0\xe2\x82", 4, true, &s));
	ASSERT_STREQ(s, "x ");
	free(s);
	/* ... but not a complete one, nor anything when argv was not cut */
	ASSERT_OK(proc_cache_join_argv("x\0\xe2\x82\xac", 5, true, &s));
	ASSERT_STREQ(s, "x \xe2\x82\xac");
	free(s);
	ASSERT_OK(proc_cache_join_argv("x\0\xe2\x82", 4, false, &s));
	ASSERT_STREQ(s, "x \xe2\x82");
	free(s);
}

TEST(exec_records)
{
	struct proc_cache *c = NULL;
	const struct proc_info *p;
	struct aegis_rec_exec *e;
	struct aegis_task t;
	char name[64];

	ASSERT_OK(proc_cache_new(&c));
	/* a pid that cannot exist: only the records can tell who it is */
	e = exec_rec(99999999, 123 * SEC_NS, "/usr/bin/sh", "sh\0-c\0exec python3\0", 20, 0);
	ASSERT_OK(proc_cache_exec(c, e));
	ASSERT_EQ(proc_cache_size(c), 1);
	t = e->task;
	p = proc_cache_get(c, &t);
	ASSERT_NOT_NULL(p);
	ASSERT_STREQ(p->exe, "/usr/bin/sh");
	ASSERT_STREQ(p->cmdline, "sh -c exec python3");
	ASSERT_FALSE(p->cmdline_truncated);
	ASSERT_STREQ(p->comm, "test");
	ASSERT_EQ(p->pid, 99999999);
	ASSERT_EQ(p->ppid, 1);

	/* the same process execs again (sh -c 'exec ...'): replaced, not added */
	free(e);
	e = exec_rec(99999999, 123 * SEC_NS, "/usr/bin/python3.11", "python3\0-c\0pass\0", 17, 0);
	ASSERT_OK(proc_cache_exec(c, e));
	ASSERT_EQ(proc_cache_size(c), 1);
	p = proc_cache_get(c, &t);
	ASSERT_STREQ(p->exe, "/usr/bin/python3.11");
	ASSERT_STREQ(p->cmdline, "python3 -c pass");

	/* a thread of it resolves to the process */
	t.tid = 100000000;
	ASSERT_TRUE(proc_cache_get(c, &t) == p);

	/* it drops root after start and is re-parented: the event's task says so,
	 * and the policy match cached for the old user is dropped */
	((struct proc_info *)p)->app = (const struct app *)p;
	((struct proc_info *)p)->policy_gen = 7;
	t.uid = 65534;
	t.gid = 65534;
	t.ppid = 4242;
	ASSERT_TRUE(proc_cache_get(c, &t) == p);
	ASSERT_EQ(p->uid, 65534);
	ASSERT_EQ(p->gid, 65534);
	ASSERT_EQ(p->ppid, 4242);
	ASSERT_STREQ(p->user, user_name(65534, name, sizeof(name)));
	ASSERT_NULL(p->app);
	ASSERT_EQ(p->policy_gen, 0);
	/* same credentials again: the cached match is kept */
	((struct proc_info *)p)->policy_gen = 8;
	ASSERT_TRUE(proc_cache_get(c, &t) == p);
	ASSERT_EQ(p->policy_gen, 8);
	t.uid = 0;
	t.gid = 0;
	t.tid = t.pid;

	/* deleted exe, cut argv */
	free(e);
	e = exec_rec(99999998, 5 * SEC_NS, "/tmp/x", "x\0aaaa", 6,
		     AEGIS_EXEC_EXE_DELETED | AEGIS_EXEC_ARGV_TRUNC);
	ASSERT_OK(proc_cache_exec(c, e));
	t = e->task;
	p = proc_cache_get(c, &t);
	ASSERT_STREQ(p->exe, "/tmp/x (deleted)");
	ASSERT_STREQ(p->cmdline, "x aaaa");
	ASSERT_TRUE(p->cmdline_truncated);

	/* no resolved path: the filename as passed to execve */
	free(e);
	e = exec_rec(99999997, 5 * SEC_NS, "", "y\0", 2, 0);
	e->path_len = 0;
	ASSERT_OK(proc_cache_exec(c, e));
	t = e->task;
	ASSERT_STREQ(proc_cache_get(c, &t)->exe, "./relative");

	/* a pseudo file (memfd + fexecve): the kernel's walk says "/", never a
	 * program; the process is gone, so the filename as executed */
	free(e);
	e = exec_rec(99999995, 5 * SEC_NS, "/", "m\0", 2, AEGIS_EXEC_EXE_DELETED);
	snprintf(e->filename, sizeof(e->filename), "/dev/fd/3");
	e->filename_len = (uint32_t)strlen(e->filename) + 1;
	ASSERT_OK(proc_cache_exec(c, e));
	t = e->task;
	ASSERT_STREQ(proc_cache_get(c, &t)->exe, "/dev/fd/3 (deleted)");

	/* hostile lengths from a buggy kernel side are clamped, not trusted */
	free(e);
	e = exec_rec(99999996, 5 * SEC_NS, "/bin/z", "z\0", 2, 0);
	e->argv_len = 1u << 30;
	e->path_len = 1u << 30;
	ASSERT_OK(proc_cache_exec(c, e));
	t = e->task;
	ASSERT_STREQ(proc_cache_get(c, &t)->exe, "/bin/z");
	free(e);
	proc_cache_free(c);
}

TEST(pid_reuse_keeps_processes_apart)
{
	struct proc_cache *c = NULL;
	struct aegis_rec_exec *a, *b;
	struct aegis_task t;

	ASSERT_OK(proc_cache_new(&c));
	a = exec_rec(99999990, 1 * SEC_NS, "/usr/bin/old", "old\0", 4, 0);
	b = exec_rec(99999990, 2 * SEC_NS, "/usr/bin/new", "new\0", 4, 0);
	ASSERT_OK(proc_cache_exec(c, a));
	ASSERT_OK(proc_cache_exec(c, b));
	ASSERT_EQ(proc_cache_size(c), 2);
	t = a->task;
	ASSERT_STREQ(proc_cache_get(c, &t)->exe, "/usr/bin/old");
	t = b->task;
	ASSERT_STREQ(proc_cache_get(c, &t)->exe, "/usr/bin/new");
	free(a);
	free(b);
	proc_cache_free(c);
}

TEST(exit_keeps_entry_for_grace)
{
	struct proc_cache *c = NULL;
	struct aegis_rec_exec *e;
	struct aegis_rec_exit x = { .type = AEGIS_REC_EXIT };
	const struct proc_info *p;
	struct aegis_task t;

	ASSERT_OK(proc_cache_new(&c));
	e = exec_rec(99999980, 3 * SEC_NS, "/usr/bin/short", "short\0", 6, 0);
	ASSERT_OK(proc_cache_exec(c, e));
	x.task = e->task;
	x.ts = e->ts + 1000;
	proc_cache_exit(c, &x);
	/* records queued behind the exit still resolve */
	t = e->task;
	p = proc_cache_get(c, &t);
	ASSERT_STREQ(p->exe, "/usr/bin/short");
	ASSERT_EQ(proc_cache_size(c), 1);
	proc_cache_sweep(c, x.ts + PROC_CACHE_EXIT_GRACE_NS - 1);
	ASSERT_EQ(proc_cache_size(c), 1);
	proc_cache_sweep(c, x.ts + PROC_CACHE_EXIT_GRACE_NS);
	ASSERT_EQ(proc_cache_size(c), 0);

	/* later record time (an exec of another process) sweeps too */
	ASSERT_OK(proc_cache_exec(c, e));
	proc_cache_exit(c, &x);
	free(e);
	e = exec_rec(99999981, 3 * SEC_NS, "/usr/bin/other", "other\0", 6, 0);
	e->ts = x.ts + PROC_CACHE_EXIT_GRACE_NS + 1;
	ASSERT_OK(proc_cache_exec(c, e));
	ASSERT_EQ(proc_cache_size(c), 1);

	/* gone for good: a miss falls back to the task fields */
	p = proc_cache_get(c, &t);
	ASSERT_NOT_NULL(p);
	ASSERT_STREQ(p->exe, "");
	ASSERT_STREQ(p->cmdline, "");
	ASSERT_STREQ(p->comm, "test");
	ASSERT_EQ(p->pid, 99999980);
	free(e);
	proc_cache_free(c);
}

/* A live program run from a memfd: its exec record says "/", /proc tells the truth. */
TEST(memfd_exe_from_proc)
{
	struct proc_cache *c = NULL;
	struct aegis_rec_exec *e;
	struct aegis_task t;
	char link[64], *exe = NULL, buf[65536];
	int fd, in;
	ssize_t n;
	pid_t pid;

	fd = memfd_create("qa-memfd", MFD_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	in = open("/bin/sleep", O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(in >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ASSERT_EQ(write(fd, buf, (size_t)n), n);
	close(in);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		char *argv[] = { (char *)"sleep", (char *)"30", NULL };
		char *envp[] = { NULL };

		fexecve(fd, argv, envp);
		_exit(127);
	}
	close(fd);
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	for (int i = 0; i < 200; i++) {
		free(exe);
		exe = readlink_alloc(link);
		if (exe && strstr(exe, "memfd:qa-memfd"))
			break;
		usleep(10000);
	}
	ASSERT_NOT_NULL(exe);
	ASSERT_NOT_NULL(strstr(exe, "memfd:qa-memfd"));
	ASSERT_OK(proc_cache_new(&c));
	t = task_of(pid, "3");
	e = exec_rec(pid, t.start_time, "/",
		     "sleep\0"
		     "30\0",
		     9, AEGIS_EXEC_EXE_DELETED);
	snprintf(e->filename, sizeof(e->filename), "/dev/fd/3");
	e->filename_len = (uint32_t)strlen(e->filename) + 1;
	ASSERT_OK(proc_cache_exec(c, e));
	ASSERT_STREQ(proc_cache_get(c, &e->task)->exe, exe);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(e);
	free(exe);
	proc_cache_free(c);
}

TEST(proc_fallback_self)
{
	struct proc_cache *c = NULL;
	struct aegis_task t = task_of(getpid(), "test-proc-cache");
	const struct proc_info *p;
	char *exe = readlink_alloc("/proc/self/exe"), name[64];

	ASSERT_NOT_NULL(exe);
	ASSERT_NE(t.start_time, 0);
	ASSERT_OK(proc_cache_new(&c));
	p = proc_cache_get(c, &t);
	ASSERT_NOT_NULL(p);
	ASSERT_STREQ(p->exe, exe);
	/* meson runs us with no arguments: the cmdline is our path as executed */
	ASSERT_NOT_NULL(strstr(p->cmdline, "test-proc-cache"));
	ASSERT_FALSE(p->cmdline_truncated);
	ASSERT_STREQ(p->user, user_name(getuid(), name, sizeof(name)));
	ASSERT_EQ(p->pid, getpid());
	ASSERT_EQ(proc_cache_size(c), 1);
	/* a hit the second time: same entry */
	ASSERT_TRUE(proc_cache_get(c, &t) == p);
	ASSERT_EQ(proc_cache_size(c), 1);
	free(exe);
	proc_cache_free(c);
}

TEST(proc_fallback_child_and_reuse)
{
	struct proc_cache *c = NULL;
	const struct proc_info *p;
	struct aegis_task t, fake;
	char link[64], *exe = NULL;
	pid_t pid;

	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "30", "1", (char *)NULL);
		_exit(127);
	}
	/* wait (bounded) until the child has exec'ed */
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	for (int i = 0; i < 200; i++) {
		free(exe);
		exe = readlink_alloc(link);
		if (exe && strstr(exe, "sleep"))
			break;
		usleep(10000);
	}
	ASSERT_NOT_NULL(exe);
	ASSERT_NOT_NULL(strstr(exe, "sleep"));

	ASSERT_OK(proc_cache_new(&c));
	t = task_of(pid, "sleep");
	p = proc_cache_get(c, &t);
	ASSERT_STREQ(p->exe, exe);
	ASSERT_STREQ(p->cmdline, "sleep 30 1");
	ASSERT_EQ(p->pid, pid);

	/* the same PID with another start time: a reused PID must not be attributed */
	fake = t;
	fake.start_time -= 5 * SEC_NS;
	snprintf(fake.comm, sizeof(fake.comm), "ghost");
	p = proc_cache_get(c, &fake);
	ASSERT_NOT_NULL(p);
	ASSERT_STREQ(p->exe, "");
	ASSERT_STREQ(p->cmdline, "");
	ASSERT_STREQ(p->comm, "ghost");
	ASSERT_EQ(proc_cache_size(c), 2);
	fake.start_time = t.start_time + 5 * SEC_NS;
	ASSERT_STREQ(proc_cache_get(c, &fake)->exe, "");

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	/* gone: built from the task fields */
	fake = t;
	fake.start_time += 60 * SEC_NS;
	fake.pid = fake.tid = (uint32_t)pid;
	p = proc_cache_get(c, &fake);
	ASSERT_STREQ(p->exe, "");
	/* the entry cached while it lived still answers */
	ASSERT_STREQ(proc_cache_get(c, &t)->exe, exe);
	free(exe);
	proc_cache_free(c);
}

static bool cgroup2_mount(char *mnt, size_t size)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		char m[4096];
		const char *sep = strstr(line, " - ");

		if (sep && strncmp(sep + 3, "cgroup2 ", 8) == 0 &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", m) == 1) {
			snprintf(mnt, size, "%s", m);
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* cgroup id of our own cgroup v2 (name_to_handle_at, like the kernel reports it). */
static uint64_t own_cgroup(char *path, size_t size)
{
	char line[4096], mnt[4096] = "", full[8192];
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(uint64_t) } };
	FILE *f = fopen("/proc/self/cgroup", "re");
	int mnt_id;

	path[0] = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(path, size, "%s", line + 3);
		}
	if (f)
		fclose(f);
	if (!path[0] || !cgroup2_mount(mnt, sizeof(mnt)))
		return 0;
	snprintf(full, sizeof(full), "%s%s", mnt, path);
	if (name_to_handle_at(AT_FDCWD, full, &h.fh, &mnt_id, 0) < 0)
		return 0;
	return h.id;
}

TEST(cgroup_by_id)
{
	struct proc_cache *c = NULL;
	struct aegis_rec_exec *e;
	struct aegis_task t;
	const struct proc_info *p;
	char path[4096], *unit = NULL;
	uint64_t id = own_cgroup(path, sizeof(path));

	if (id == 0) {
		printf("# no cgroup2 or no file handles here, cgroup path not checked\n");
		return;
	}
	ASSERT_OK(proc_cache_new(&c));
	/* a process that no longer exists: only the id can find the path */
	e = exec_rec(99999970, 7 * SEC_NS, "/usr/bin/x", "x\0", 2, 0);
	e->task.cgroup_id = id;
	ASSERT_OK(proc_cache_exec(c, e));
	t = e->task;
	p = proc_cache_get(c, &t);
	ASSERT_STREQ(p->cgroup, path);
	ASSERT_OK(proc_cache_unit_from_cgroup(path, &unit));
	if (unit)
		ASSERT_STREQ(p->unit, unit);
	else
		ASSERT_NULL(p->unit);
	printf("# cgroup %" PRIu64 " = %s (unit %s)\n", id, p->cgroup, unit ?: "none");
	free(unit);
	free(e);
	proc_cache_free(c);
}

/* Needs root: a cgroup of our own named like a unit, resolved by id, then removed. */
TEST(cgroup_made_and_removed)
{
	struct proc_cache *c = NULL;
	struct aegis_rec_exec *e;
	struct aegis_task t;
	const struct proc_info *p;
	char mnt[4096], dir[4200], name[64], expect[128];
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(uint64_t) } };
	int mnt_id;

	if (!cgroup2_mount(mnt, sizeof(mnt)) || geteuid() != 0) {
		printf("# not root or no cgroup2: cgroup creation not checked\n");
		return;
	}
	snprintf(name, sizeof(name), "aegis-test-%d.service", (int)getpid());
	snprintf(dir, sizeof(dir), "%s/%s", mnt, name);
	snprintf(expect, sizeof(expect), "/%s", name);
	ASSERT_OK(RET_NERRNO(mkdir(dir, 0755)));
	if (name_to_handle_at(AT_FDCWD, dir, &h.fh, &mnt_id, 0) < 0) {
		rmdir(dir);
		TAP_FAIL("name_to_handle_at(%s): %m", dir);
	}

	ASSERT_OK(proc_cache_new(&c));
	e = exec_rec(99999960, 7 * SEC_NS, "/usr/bin/x", "x\0", 2, 0);
	e->task.cgroup_id = h.id;
	ASSERT_OK(proc_cache_exec(c, e));
	t = e->task;
	p = proc_cache_get(c, &t);
	rmdir(dir);
	ASSERT_STREQ(p->cgroup, expect);
	ASSERT_STREQ(p->unit, name);

	/* removed: an unknown id gives no path (and is remembered as such) */
	proc_cache_free(c);
	ASSERT_OK(proc_cache_new(&c));
	e->task.pid = 99999961;
	ASSERT_OK(proc_cache_exec(c, e));
	t = e->task;
	p = proc_cache_get(c, &t);
	ASSERT_NULL(p->cgroup);
	ASSERT_NULL(p->unit);
	free(e);
	proc_cache_free(c);
}

TEST(many_entries)
{
	struct proc_cache *c = NULL;
	struct aegis_rec_exec *e = exec_rec(1, SEC_NS, "/usr/bin/x", "x\0", 2, 0);
	struct aegis_rec_exit x = { .type = AEGIS_REC_EXIT };

	ASSERT_OK(proc_cache_new(&c));
	for (uint32_t i = 0; i < 20000; i++) {
		e->task.pid = 100000000 + i;
		e->task.start_time = SEC_NS + i;
		ASSERT_OK(proc_cache_exec(c, e));
	}
	ASSERT_EQ(proc_cache_size(c), 20000);
	for (uint32_t i = 0; i < 20000; i++) {
		struct aegis_task t = e->task;

		t.pid = 100000000 + i;
		t.start_time = SEC_NS + i;
		ASSERT_EQ(proc_cache_get(c, &t)->pid, (pid_t)t.pid);
		x.task = t;
		x.ts = e->ts;
		proc_cache_exit(c, &x);
	}
	proc_cache_sweep(c, e->ts + PROC_CACHE_EXIT_GRACE_NS);
	ASSERT_EQ(proc_cache_size(c), 0);
	free(e);
	proc_cache_free(c);
}

/* Lost exit records must not grow the cache forever: past the cap, /proc decides. */
TEST(cap_drops_dead_entries)
{
	struct proc_cache *c = NULL;
	struct aegis_rec_exec *e = exec_rec(1, SEC_NS, "/usr/bin/x", "x\0", 2, 0);
	struct aegis_task self = task_of(getpid(), "self");
	uint32_t i;

	ASSERT_OK(proc_cache_new(&c));
	ASSERT_NOT_NULL(proc_cache_get(c, &self)); /* a live entry, from /proc */
	for (i = 0; proc_cache_size(c) < PROC_CACHE_MAX_ENTRIES; i++) {
		e->task.pid = 200000000 + i; /* above any pid_max: never alive */
		ASSERT_OK(proc_cache_exec(c, e));
	}
	e->task.pid = 200000000 + i;
	ASSERT_OK(proc_cache_exec(c, e)); /* this one triggers the check */
	ASSERT_EQ(proc_cache_size(c),
		  PROC_CACHE_MAX_ENTRIES + 1); /* dead ones wait out the grace */
	proc_cache_sweep(c, e->ts + PROC_CACHE_EXIT_GRACE_NS);
	/* left: ourselves (alive) and the newest entry */
	ASSERT_EQ(proc_cache_size(c), 2);
	ASSERT_EQ(proc_cache_get(c, &self)->pid, getpid());
	free(e);
	proc_cache_free(c);
}

TAP_MAIN()
