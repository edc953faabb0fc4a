// SPDX-License-Identifier: GPL-2.0-or-later
/* Process cache keyed by (pid, start_time); see proc-cache.h for the semantics. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "proc-cache.h"

#ifndef FILEID_KERNFS
#define FILEID_KERNFS 0xfe /* include/linux/exportfs.h: a kernfs node id as the handle */
#endif

#define USER_NAME_MAX 64
#define CGROUP_CACHE_MAX 16384

struct proc_entry {
	struct proc_info info; /* first: proc_cache_get() hands out &entry->info */
	struct proc_entry *hnext; /* hash chain */
	struct proc_entry *xnext; /* exited FIFO */
	uint64_t exited_ns; /* record time of the exit; valid when exited */
	bool exited;
};

struct uid_name {
	uid_t uid;
	char *name;
};

struct cgroup_name {
	uint64_t id;
	char *path; /* "" when the cgroup is known to be gone */
	char *unit; /* NULL when none */
	struct cgroup_name *next;
};

struct proc_cache {
	struct proc_entry **buckets;
	size_t n_buckets; /* power of two */
	size_t n;
	struct proc_entry *x_head, *x_tail;
	uint64_t now_ns; /* newest record time seen */
	size_t gc_at; /* run the /proc liveness check once n reaches this */

	struct uid_name *users;
	size_t n_users;

	struct cgroup_name *cgroups[256];
	size_t n_cgroups;
	int cgroup_root_fd; /* cgroup2 mount (O_RDONLY); -EBADF until found, -ENOENT if none */
	char *cgroup_root; /* its mount point */
};

/* ---- helpers ---- */

static uint64_t hash_key(pid_t pid, uint64_t start_time)
{
	uint64_t h = (uint64_t)(uint32_t)pid * 0x9e3779b97f4a7c15ull;

	h ^= start_time + 0x7f4a7c15ull + (h << 6) + (h >> 2);
	return h ^ (h >> 29);
}

static struct proc_entry **bucket_of(struct proc_cache *c, pid_t pid, uint64_t start_time)
{
	return &c->buckets[hash_key(pid, start_time) & (c->n_buckets - 1)];
}

static void proc_info_done(struct proc_info *p)
{
	free(p->exe);
	free(p->cmdline);
	free(p->cgroup);
	free(p->unit);
	/* user is owned by the uid table */
}

static struct proc_entry *entry_find(struct proc_cache *c, pid_t pid, uint64_t start_time)
{
	for (struct proc_entry *e = *bucket_of(c, pid, start_time); e; e = e->hnext)
		if (e->info.pid == pid && e->info.start_time == start_time)
			return e;
	return NULL;
}

static int rehash(struct proc_cache *c, size_t n_buckets)
{
	struct proc_entry **old = c->buckets, **b;
	size_t n_old = c->n_buckets;

	b = calloc(n_buckets, sizeof(*b));
	if (!b)
		return -ENOMEM;
	c->buckets = b;
	c->n_buckets = n_buckets;
	for (size_t i = 0; i < n_old; i++) {
		struct proc_entry *e = old[i], *next;

		for (; e; e = next) {
			struct proc_entry **head = bucket_of(c, e->info.pid, e->info.start_time);

			next = e->hnext;
			e->hnext = *head;
			*head = e;
		}
	}
	free(old);
	return 0;
}

static void entry_unlink(struct proc_cache *c, struct proc_entry *e)
{
	struct proc_entry **p = bucket_of(c, e->info.pid, e->info.start_time);

	for (; *p; p = &(*p)->hnext)
		if (*p == e) {
			*p = e->hnext;
			c->n--;
			return;
		}
}

static void entry_free(struct proc_entry *e)
{
	proc_info_done(&e->info);
	free(e);
}

static void mark_exited(struct proc_cache *c, struct proc_entry *e, uint64_t ts)
{
	if (e->exited)
		return;
	e->exited = true;
	e->exited_ns = ts;
	e->xnext = NULL;
	if (c->x_tail)
		c->x_tail->xnext = e;
	else
		c->x_head = e;
	c->x_tail = e;
}

static void advance_clock(struct proc_cache *c, uint64_t ts)
{
	if (ts > c->now_ns)
		c->now_ns = ts;
}

/* ---- users ---- */

static const char *user_lookup(struct proc_cache *c, uid_t uid)
{
	char buf[4096], name[USER_NAME_MAX];
	struct passwd pw, *res = NULL;
	struct uid_name *u;
	char *dup;

	for (size_t i = 0; i < c->n_users; i++)
		if (c->users[i].uid == uid)
			return c->users[i].name;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res && res->pw_name[0])
		snprintf(name, sizeof(name), "%s", res->pw_name);
	else
		snprintf(name, sizeof(name), "%" PRIu32, (uint32_t)uid);

	dup = strdup(name);
	if (!dup)
		return NULL;
	u = reallocarray(c->users, c->n_users + 1, sizeof(*u));
	if (!u) {
		free(dup);
		return NULL;
	}
	c->users = u;
	c->users[c->n_users++] = (struct uid_name){ uid, dup };
	return dup;
}

/* ---- cgroups ---- */

int proc_cache_unit_from_cgroup(const char *cgroup, char **ret)
{
	static const char *const suffixes[] = { ".service", ".scope", ".socket", ".mount",
						".swap" };
	const char *best = NULL, *p = cgroup;
	size_t best_len = 0;

	while (!best && p && *p) {
		const char *comp, *slash;
		size_t len;

		while (*p == '/')
			p++;
		comp = p;
		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		p += len;
		if (comp[0] == '_') { /* systemd's cg_escape() prefix */
			comp++;
			len--;
		}
		for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
			size_t sl = strlen(suffixes[i]);

			if (len > sl && memcmp(comp + len - sl, suffixes[i], sl) == 0) {
				best = comp;
				best_len = len;
				break;
			}
		}
	}

	if (!best) {
		*ret = NULL;
		return 0;
	}
	*ret = strndup(best, best_len);
	return *ret ? 0 : -ENOMEM;
}

int cgroup2_mount_point(char **ret)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t sz = 0;

	if (!f)
		return -errno;
	while (getline(&line, &sz, f) > 0) {
		char mp[PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");

		/* id parent major:minor root mountpoint ... - fstype source opts */
		if (!sep || sscanf(sep + 3, "%63s", fstype) != 1 || !streq(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		/* mountinfo escapes space, tab, newline and backslash as \ooo */
		for (char *s = mp, *d = mp;; s++, d++) {
			if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
				*d = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) |
					    (s[3] - '0'));
				s += 3;
			} else
				*d = *s;
			if (!*s)
				break;
		}
		*ret = strdup(mp);
		return *ret ? 0 : -ENOMEM;
	}
	return -ENOENT;
}

static int cgroup_root_open(struct proc_cache *c)
{
	_cleanup_free_ char *mnt = NULL;

	if (c->cgroup_root_fd != -EBADF)
		return c->cgroup_root_fd;
	c->cgroup_root_fd = -ENOENT;
	if (cgroup2_mount_point(&mnt) < 0)
		return c->cgroup_root_fd;
	/* not O_PATH: open_by_handle_at() refuses O_PATH mount fds (EBADF) */
	c->cgroup_root_fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->cgroup_root_fd < 0)
		c->cgroup_root_fd = -ENOENT;
	else
		c->cgroup_root = TAKE_PTR(mnt);
	return c->cgroup_root_fd;
}

/* The systemd trick (cg_path_from_cgroupid): a cgroup id is a kernfs file handle. */
static int cgroup_path_by_id(struct proc_cache *c, uint64_t id, char **ret)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = FILEID_KERNFS },
		.id = id };
	char link[64], target[4096];
	_cleanup_close_ int fd = -EBADF;
	size_t rl;
	ssize_t n;
	int root = cgroup_root_open(c);

	if (root < 0)
		return root;
	fd = open_by_handle_at(root, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	rl = strlen(c->cgroup_root);
	if (strncmp(target, c->cgroup_root, rl) != 0 || (target[rl] != '/' && target[rl] != 0))
		return -EXDEV;
	*ret = strdup(target[rl] ? target + rl : "/");
	return *ret ? 0 : -ENOMEM;
}

/* "0::/system.slice/x.service" from /proc/PID/cgroup (dirfd: /proc/PID). */
static int cgroup_path_by_proc(int dirfd, char **ret)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t n = 0;
	ssize_t k;

	fd = openat(dirfd, "cgroup", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "re");
	if (!f)
		return -errno;
	TAKE_FD(fd);
	while ((k = getline(&line, &n, f)) > 0) {
		if (!strneq(line, "0::", 3))
			continue;
		if (line[k - 1] == '\n')
			line[k - 1] = 0;
		*ret = strdup(line + 3);
		return *ret ? 0 : -ENOMEM;
	}
	return -ENOENT;
}

static struct cgroup_name *cgroup_find(struct proc_cache *c, uint64_t id)
{
	for (struct cgroup_name *g = c->cgroups[id % ARRAY_SIZE(c->cgroups)]; g; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

static void cgroup_cache_clear(struct proc_cache *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(c->cgroups); i++) {
		struct cgroup_name *g = c->cgroups[i], *next;

		for (; g; g = next) {
			next = g->next;
			free(g->path);
			free(g->unit);
			free(g);
		}
		c->cgroups[i] = NULL;
	}
	c->n_cgroups = 0;
}

static struct cgroup_name *cgroup_add(struct proc_cache *c, uint64_t id, char *path)
{
	struct cgroup_name *g;

	if (c->n_cgroups >= CGROUP_CACHE_MAX)
		cgroup_cache_clear(c);
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	if (proc_cache_unit_from_cgroup(path, &g->unit) < 0) {
		free(g);
		return NULL;
	}
	g->id = id;
	g->path = path;
	g->next = c->cgroups[id % ARRAY_SIZE(c->cgroups)];
	c->cgroups[id % ARRAY_SIZE(c->cgroups)] = g;
	c->n_cgroups++;
	return g;
}

/*
 * Resolves cgroup id -> path, cached per id. dirfd (/proc/PID or -EBADF) is
 * the fallback when file handles do not work; a cgroup that is gone is
 * remembered as "" so it is not looked up again.
 */
static const struct cgroup_name *cgroup_lookup(struct proc_cache *c, uint64_t id, int dirfd)
{
	struct cgroup_name *g;
	char *path = NULL;
	int r;

	if (id == 0)
		return NULL;
	g = cgroup_find(c, id);
	if (g)
		return g;
	r = cgroup_path_by_id(c, id, &path);
	if (r == -ENOMEM)
		return NULL;
	if (r < 0 && dirfd >= 0)
		r = cgroup_path_by_proc(dirfd, &path);
	if (r < 0) {
		if (r != -ESTALE && r != -ENOENT)
			return NULL; /* unknown why: try again next time */
		path = strdup("");
		if (!path)
			return NULL;
	}
	g = cgroup_add(c, id, path);
	if (!g)
		free(path);
	return g;
}

static int set_cgroup(struct proc_cache *c, struct proc_info *p, int dirfd)
{
	const struct cgroup_name *g = cgroup_lookup(c, p->cgroup_id, dirfd);
	char *path = NULL, *unit = NULL;

	if (g && g->path[0]) {
		path = strdup(g->path);
		unit = g->unit ? strdup(g->unit) : NULL;
		if (!path || (g->unit && !unit)) {
			free(path);
			free(unit);
			return -ENOMEM;
		}
	}
	free(p->cgroup);
	free(p->unit);
	p->cgroup = path;
	p->unit = unit;
	return 0;
}

/* ---- argv ---- */

/* Length of s[0..len) without an incomplete UTF-8 sequence at its end. */
static size_t utf8_trim_partial(const char *s, size_t len)
{
	for (size_t back = 1; back <= 3 && back <= len; back++) {
		unsigned char c = (unsigned char)s[len - back];
		size_t need;

		if ((c & 0xc0) == 0x80)
			continue; /* continuation byte: keep looking for the lead */
		if (c >= 0xf0)
			need = 4;
		else if (c >= 0xe0)
			need = 3;
		else if (c >= 0xc0)
			need = 2;
		else
			return len;
		return need > back ? len - back : len;
	}
	return len;
}

int proc_cache_join_argv(const char *argv, size_t len, bool truncated, char **ret)
{
	char *s;

	while (len > 0 && argv[len - 1] == 0)
		len--;
	if (truncated)
		len = utf8_trim_partial(argv, len);
	s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		s[i] = argv[i] ? argv[i] : ' ';
	s[len] = 0;
	*ret = s;
	return 0;
}

/* ---- exec / exit ---- */

static void gc_dead(struct proc_cache *c);

static struct proc_entry *entry_new(struct proc_cache *c, const struct aegis_task *t)
{
	struct proc_entry *e, **head;

	if (c->n >= c->gc_at)
		gc_dead(c);
	if (c->n >= c->n_buckets && rehash(c, c->n_buckets * 2) < 0)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->info.pid = (pid_t)t->pid;
	e->info.start_time = t->start_time;
	head = bucket_of(c, e->info.pid, e->info.start_time);
	e->hnext = *head;
	*head = e;
	c->n++;
	return e;
}

static void info_set_task(struct proc_cache *c, struct proc_info *p, const struct aegis_task *t)
{
	p->ppid = (pid_t)t->ppid;
	p->uid = t->uid;
	p->gid = t->gid;
	p->cgroup_id = t->cgroup_id;
	p->exe_ino = t->exe_ino;
	p->exe_dev = t->exe_dev;
	memcpy(p->comm, t->comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = 0;
	p->user = (char *)user_lookup(c, t->uid);
}

static int exe_from_proc(const struct aegis_task *t, char **ret);

/*
 * The kernel's path walk ends at the root of the file's own filesystem: for a
 * program run from a memfd or another unlinked pseudo file (fileless malware:
 * memfd_create + fexecve) it yields "/", which is never a program.
 */
static bool exe_path_is_pseudo(const char *path, size_t len)
{
	return len == 1 && path[0] == '/';
}

static int exec_exe(const struct aegis_rec_exec *e, char **ret)
{
	size_t plen = strnlen(e->path, MIN((size_t)e->path_len, sizeof(e->path)));
	size_t flen = strnlen(e->filename, MIN((size_t)e->filename_len, sizeof(e->filename)));
	bool deleted = e->flags & AEGIS_EXEC_EXE_DELETED;
	const char *src = e->path;
	size_t len = plen;

	/* a pseudo file: what /proc says while the process lives ("/memfd:x (deleted)") */
	if (exe_path_is_pseudo(e->path, plen) && exe_from_proc(&e->task, ret) >= 0)
		return 0;
	/* a cut path lacks its leading components: an absolute filename is better;
	 * for a pseudo file the filename as executed ("/dev/fd/3") tells more than "/" */
	if (plen == 0 || e->path[0] != '/' || (exe_path_is_pseudo(e->path, plen) && flen > 0) ||
	    ((e->flags & AEGIS_EXEC_PATH_TRUNC) && flen > 0 && e->filename[0] == '/')) {
		src = e->filename;
		len = flen;
	}
	if (asprintf(ret, "%.*s%s", (int)len, src, deleted ? " (deleted)" : "") < 0)
		return -ENOMEM;
	return 0;
}

int proc_cache_exec(struct proc_cache *c, const struct aegis_rec_exec *e)
{
	_cleanup_free_ char *exe = NULL, *cmdline = NULL;
	bool trunc = e->flags & AEGIS_EXEC_ARGV_TRUNC;
	size_t alen = MIN((size_t)e->argv_len, sizeof(e->argv));
	struct proc_entry *pe;
	int r;

	advance_clock(c, e->ts);
	proc_cache_sweep(c, 0);

	r = exec_exe(e, &exe);
	if (r < 0)
		return r;
	r = proc_cache_join_argv(e->argv, alen, trunc, &cmdline);
	if (r < 0)
		return r;

	pe = entry_find(c, (pid_t)e->task.pid, e->task.start_time);
	if (!pe) {
		pe = entry_new(c, &e->task);
		if (!pe)
			return -ENOMEM;
	}
	info_set_task(c, &pe->info, &e->task);
	free(pe->info.exe);
	free(pe->info.cmdline);
	pe->info.exe = TAKE_PTR(exe);
	pe->info.cmdline = TAKE_PTR(cmdline);
	pe->info.cmdline_truncated = trunc;
	pe->info.app = NULL; /* a new program: the policy must match it again */
	pe->info.policy_gen = 0;
	return set_cgroup(c, &pe->info, -EBADF);
}

void proc_cache_exit(struct proc_cache *c, const struct aegis_rec_exit *e)
{
	struct proc_entry *pe;

	advance_clock(c, e->ts);
	pe = entry_find(c, (pid_t)e->task.pid, e->task.start_time);
	if (pe)
		mark_exited(c, pe, e->ts);
	proc_cache_sweep(c, 0);
}

void proc_cache_sweep(struct proc_cache *c, uint64_t now_ns)
{
	if (now_ns == 0)
		now_ns = c->now_ns;
	while (c->x_head && c->x_head->exited_ns + PROC_CACHE_EXIT_GRACE_NS <= now_ns) {
		struct proc_entry *e = c->x_head;

		c->x_head = e->xnext;
		if (!c->x_head)
			c->x_tail = NULL;
		entry_unlink(c, e);
		entry_free(e);
	}
}

size_t proc_cache_size(const struct proc_cache *c)
{
	return c ? c->n : 0;
}

/* ---- /proc fallback ---- */

static int64_t boot_minus_mono_ns(void)
{
	struct timespec b, m;

	if (clock_gettime(CLOCK_BOOTTIME, &b) < 0 || clock_gettime(CLOCK_MONOTONIC, &m) < 0)
		return 0;
	return ((int64_t)b.tv_sec - m.tv_sec) * 1000000000ll + (b.tv_nsec - m.tv_nsec);
}

static ssize_t read_at(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += n;
	}
	return (ssize_t)got;
}

/* ppid and starttime (clock ticks since boot) from /proc/PID/stat. */
static int read_stat(int dirfd, pid_t *ret_ppid, uint64_t *ret_ticks)
{
	char buf[1024];
	unsigned long long ticks;
	const char *p;
	int ppid;
	ssize_t n;

	n = read_at(dirfd, "stat", buf, sizeof(buf) - 1);
	if (n < 0)
		return (int)n;
	buf[n] = 0;
	p = strrchr(buf, ')'); /* comm may contain anything, even ") " */
	if (!p)
		return -EIO;
	/* fields 3..22: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
	 * utime stime cutime cstime priority nice num_threads itrealvalue starttime */
	if (sscanf(p + 1,
		   " %*c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
		   &ppid, &ticks) != 2)
		return -EIO;
	*ret_ppid = ppid;
	*ret_ticks = ticks;
	return 0;
}

static bool start_time_matches(uint64_t start_time_ns, uint64_t ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	int64_t ns = (int64_t)start_time_ns + boot_minus_mono_ns();
	int64_t mine;

	if (hz <= 0)
		hz = 100;
	mine = ns / (1000000000ll / hz);
	/* the clock offset is measured now, not at fork: allow one tick of rounding */
	return mine - (int64_t)ticks <= 1 && (int64_t)ticks - mine <= 1;
}

/* The exe link of the live process (pid, start time); -ESRCH when gone or reused. */
static int exe_from_proc(const struct aegis_task *t, char **ret)
{
	_cleanup_close_ int dirfd = -EBADF;
	char path[32], exe[4096];
	uint64_t ticks;
	pid_t ppid;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%" PRIu32, t->pid);
	dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	n = readlinkat(dirfd, "exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ESRCH;
	exe[n] = 0;
	/* checked after the read: dirfd pins the process the link was read from */
	if (read_stat(dirfd, &ppid, &ticks) < 0 || !start_time_matches(t->start_time, ticks))
		return -ESRCH;
	*ret = strdup(exe);
	return *ret ? 0 : -ENOMEM;
}

/* Reads exe, cmdline and cgroup of a live process; dirfd pins it (/proc/PID). */
static int fill_from_proc(struct proc_cache *c, struct proc_info *p, int dirfd)
{
	char exe[4096], *argv;
	ssize_t n;
	int r;

	n = readlinkat(dirfd, "exe", exe, sizeof(exe) - 1);
	if (n < 0)
		n = 0; /* kernel thread or no permission: leave exe empty */
	exe[n] = 0;
	free(p->exe);
	p->exe = strdup(exe);
	if (!p->exe)
		return -ENOMEM;

	argv = malloc(AEGIS_ARGV_MAX + 1);
	if (!argv)
		return -ENOMEM;
	n = read_at(dirfd, "cmdline", argv, AEGIS_ARGV_MAX + 1);
	if (n < 0)
		n = 0;
	p->cmdline_truncated = n > AEGIS_ARGV_MAX;
	free(p->cmdline);
	p->cmdline = NULL;
	r = proc_cache_join_argv(argv, MIN((size_t)n, (size_t)AEGIS_ARGV_MAX), p->cmdline_truncated,
				 &p->cmdline);
	free(argv);
	if (r < 0)
		return r;
	return set_cgroup(c, p, dirfd);
}

static const struct proc_info *proc_fallback(struct proc_cache *c, const struct aegis_task *t)
{
	_cleanup_close_ int dirfd = -EBADF;
	struct proc_entry *pe;
	char path[32];
	uint64_t ticks = 0;
	pid_t ppid = 0;
	bool alive = false;

	snprintf(path, sizeof(path), "/proc/%" PRIu32, t->pid);
	dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd >= 0 && read_stat(dirfd, &ppid, &ticks) >= 0)
		alive = start_time_matches(t->start_time, ticks);

	pe = entry_new(c, t);
	if (!pe)
		return NULL;
	info_set_task(c, &pe->info, t);
	if (!pe->info.ppid && alive)
		pe->info.ppid = ppid;
	if (alive && fill_from_proc(c, &pe->info, dirfd) >= 0)
		return &pe->info;

	/* gone or reused: what the task fields tell, and forget it after the grace */
	free(pe->info.exe);
	free(pe->info.cmdline);
	pe->info.exe = strdup("");
	pe->info.cmdline = strdup("");
	pe->info.cmdline_truncated = false;
	if (!pe->info.exe || !pe->info.cmdline) {
		entry_unlink(c, pe);
		entry_free(pe);
		return NULL;
	}
	(void)set_cgroup(c, &pe->info, -EBADF);
	mark_exited(c, pe, c->now_ns);
	return &pe->info;
}

/* Exit records can be lost (ring buffer full): drop live entries /proc says are gone. */
static void gc_dead(struct proc_cache *c)
{
	for (size_t i = 0; i < c->n_buckets; i++)
		for (struct proc_entry *e = c->buckets[i]; e; e = e->hnext) {
			char path[48];
			_cleanup_close_ int dirfd = -EBADF;
			uint64_t ticks;
			pid_t ppid;

			if (e->exited)
				continue;
			snprintf(path, sizeof(path), "/proc/%d", (int)e->info.pid);
			dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (dirfd < 0 || read_stat(dirfd, &ppid, &ticks) < 0 ||
			    !start_time_matches(e->info.start_time, ticks))
				mark_exited(c, e, c->now_ns);
		}
	proc_cache_sweep(c, 0);
	c->gc_at = MAX((size_t)PROC_CACHE_MAX_ENTRIES, c->n * 2);
}

/*
 * What can change without an exec: credentials (a daemon drops root after
 * start), the parent (re-parenting when it dies) and the cgroup (moved into a
 * unit). The acting task of each event says what holds now; the policy match
 * cached on the entry depends on user and unit, so it is redone on a change.
 */
static void info_refresh(struct proc_cache *c, struct proc_info *p, const struct aegis_task *t)
{
	bool changed = false;

	if (_unlikely_(p->uid != t->uid)) {
		p->uid = t->uid;
		p->user = (char *)user_lookup(c, t->uid);
		changed = true;
	}
	p->gid = t->gid;
	if (t->ppid)
		p->ppid = (pid_t)t->ppid;
	if (_unlikely_(t->cgroup_id && p->cgroup_id != t->cgroup_id)) {
		p->cgroup_id = t->cgroup_id;
		(void)set_cgroup(c, p, -EBADF);
		changed = true;
	}
	if (changed) {
		p->app = NULL;
		p->policy_gen = 0;
	}
}

const struct proc_info *proc_cache_get(struct proc_cache *c, const struct aegis_task *t)
{
	struct proc_entry *pe = entry_find(c, (pid_t)t->pid, t->start_time);

	if (_likely_(pe != NULL)) {
		info_refresh(c, &pe->info, t);
		return &pe->info;
	}
	return proc_fallback(c, t);
}

/* ---- lifetime ---- */

int proc_cache_new(struct proc_cache **ret)
{
	struct proc_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->n_buckets = 1024;
	c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return -ENOMEM;
	}
	c->cgroup_root_fd = -EBADF;
	c->gc_at = PROC_CACHE_MAX_ENTRIES;
	*ret = c;
	return 0;
}

struct proc_cache *proc_cache_free(struct proc_cache *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_buckets; i++) {
		struct proc_entry *e = c->buckets[i], *next;

		for (; e; e = next) {
			next = e->hnext;
			entry_free(e);
		}
	}
	free(c->buckets);
	for (size_t i = 0; i < c->n_users; i++)
		free(c->users[i].name);
	free(c->users);
	cgroup_cache_clear(c);
	if (c->cgroup_root_fd >= 0)
		safe_close(c->cgroup_root_fd);
	free(c->cgroup_root);
	free(c);
	return NULL;
}
