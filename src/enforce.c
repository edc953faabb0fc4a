// SPDX-License-Identifier: GPL-2.0-or-later
/* In-kernel enforcement: load, attach/adopt, compile, flip. See enforce.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config-h.h"
#include "enforce.h"
#include "event-loop.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "policy-compile.h"
#include "policy.h"
#include "proc-cache.h"
#include "record.h"
#include "enforce.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#define BPFFS_ROOT "/sys/fs/bpf"
#define ENFORCE_RECOMPILE_DELAY_USEC (200ULL * 1000)

enum { SET_IDS, SET_RULES, SET_PORTS, SET_CIDR4, SET_CIDR6, SET_PROCV, _SET_MAX };

enum { L_CONNECT4, L_CONNECT6, L_SENDMSG4, L_SENDMSG6, L_FORK, L_EXEC, L_EXIT, _L_MAX };
#define L_CGROUP_MAX L_FORK

static const char *const link_names[_L_MAX] = {
	"link_connect4", "link_connect6", "link_sendmsg4", "link_sendmsg6",
	"link_fork",	 "link_exec",	  "link_exit",
};

struct host_entry {
	char *host;
	struct cidr *addrs;
	size_t n;
};

struct enforce {
	struct aegis_enforce *skel;
	struct bpf_link *links[_L_MAX];
	char *cgroup_root;
	int cgroup_fd;
	bool persist, pinned, adopted;
	bool attached; /* links exist: attached when the first policy that blocks arrives */
	uint32_t gen; /* active slot */
	uint64_t seq;
	uint64_t seq_base; /* adopted: the pinned sets' highest seq (hdr.seq stays unique) */
	int procv_fd; /* the active set's procv inner map (borrowed: slot_fds[gen][SET_PROCV]) */
	/*
	 * Inner maps installed in each slot (each fd owned: a map shared by both
	 * slots is held through a dup()). Only procv is written after install,
	 * so a slot whose plan content for a set equals the new plan's keeps
	 * its map, and an unchanged active set is shared with the inactive slot.
	 */
	int slot_fds[2][_SET_MAX];
	bool slot_shared[_SET_MAX]; /* both slots hold the same map: never modify it */
	const struct config *config; /* last applied */
	struct policy *policy; /* matcher for cmdline verdicts (NULL without cmdline apps) */
	struct pcompile_plan *plan; /* last compiled */
	bool plan_installed; /* plan is what slot gen holds */
	struct pcompile_plan *prev_plan; /* what slot gen ^ 1 holds; NULL: unknown */
	char **rules_desc;
	struct host_entry *hosts;
	size_t n_hosts;
	bool need_unit; /* some app matches by unit: read /proc/PID/cgroup for verdicts */
	bool kill_in_hook; /* bpf_send_signal() from the cgroup hook works */
	struct ring_buffer *events; /* enf_events: execs to classify now */
	struct event_source *events_source;
	struct event_source *recompile_source; /* coalesces enforce_set_host_addrs() recompiles */
	uint64_t n_exec_events;
	uint64_t lat_sum_ns, lat_max_ns; /* exec -> verdict written, over n_exec_events */
};

static void closedir_p(DIR **d)
{
	if (*d)
		closedir(*d);
}

static struct bpf_map *outer_map(struct enforce *e, unsigned i)
{
	struct bpf_map *m[_SET_MAX] = {
		e->skel->maps.enf_ids,	 e->skel->maps.enf_rules, e->skel->maps.enf_ports,
		e->skel->maps.enf_cidr4, e->skel->maps.enf_cidr6, e->skel->maps.enf_procv,
	};

	return m[i];
}

static struct bpf_program *link_prog(struct enforce *e, unsigned i)
{
	struct bpf_program *p[_L_MAX] = {
		e->skel->progs.enf_connect4, e->skel->progs.enf_connect6,
		e->skel->progs.enf_sendmsg4, e->skel->progs.enf_sendmsg6,
		e->skel->progs.enf_fork,     e->skel->progs.enf_exec,
		e->skel->progs.enf_exit,
	};

	return p[i];
}

/* ---- system facts */

/* Mount point of the first cgroup2 mount in /proc/self/mountinfo. */
static int find_cgroup2_root(char **ret)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t sz = 0;

	if (!f)
		return -errno;
	while (getline(&line, &sz, f) > 0) {
		char mp[PATH_MAX], *sep = strstr(line, " - ");
		char fstype[64];

		if (!sep || sscanf(sep, " - %63s", fstype) != 1 || !streq(fstype, "cgroup2"))
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

static uint32_t kdev(dev_t d)
{
	return (major(d) << 20) | minor(d);
}

/*
 * Inode/device of an executable path. A symlink is refused: the exe path
 * userspace compares with is the resolved one, so a symlink path never matches
 * there either.
 */
static int env_stat_path(const char *path, __u64 *ret_ino, __u32 *ret_dev, void *userdata)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ELOOP;
	*ret_ino = st.st_ino;
	*ret_dev = kdev(st.st_dev);
	return 0;
}

/* Depth-first search of the cgroup tree for a directory named unit. */
/* A unit other than a slice: everything below it belongs to it. */
static bool is_leaf_unit_name(const char *name)
{
	static const char *const suffixes[] = { ".service", ".scope", ".socket", ".mount",
						".swap" };
	size_t n = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t k = strlen(suffixes[i]);

		if (n > k && streq(name + n - k, suffixes[i]))
			return true;
	}
	return false;
}

/*
 * The cgroup of unit: the unit is the first unit in a process's cgroup path
 * (sd_pid_get_unit(), proc-cache.c), so only slices and non-unit directories
 * are searched: a user's .../user@1000.service/app.slice/nginx.service is in
 * user@1000.service, not in nginx.service.
 */
static int find_unit_dir(int dfd, const char *unit, unsigned depth, __u64 *ret_ino,
			 unsigned *ret_level)
{
	DIR *d;
	struct dirent *de;
	int r = -ENOENT;

	if (depth >= AEGIS_ENF_CG_LEVELS)
		return -ENOENT;
	d = fdopendir(dfd);
	if (!d) {
		safe_close(dfd);
		return -errno;
	}
	while (r < 0 && (de = readdir(d))) {
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (streq(de->d_name, unit)) {
			struct stat st;

			if (fstatat(dirfd(d), de->d_name, &st, 0) == 0) {
				*ret_ino = st.st_ino;
				*ret_level = depth + 1;
				r = 0;
			}
			continue;
		}
		if (is_leaf_unit_name(de->d_name))
			continue;
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0)
			r = find_unit_dir(sub, unit, depth + 1, ret_ino, ret_level);
	}
	closedir(d);
	return r;
}

static int env_unit_cgroup(const char *unit, __u64 *ret_cgid, unsigned *ret_level, void *userdata)
{
	struct enforce *e = userdata;
	int fd = open(e->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return find_unit_dir(fd, unit, 0, ret_cgid, ret_level);
}

static int env_host_addrs(const char *host, const struct cidr **ret, size_t *ret_n, void *userdata)
{
	struct enforce *e = userdata;

	for (size_t i = 0; i < e->n_hosts; i++)
		if (streq(e->hosts[i].host, host)) {
			*ret = e->hosts[i].addrs;
			*ret_n = e->hosts[i].n;
			return 0;
		}
	*ret = NULL;
	*ret_n = 0;
	return 0;
}

/* ---- bpffs and pins */

static int ensure_bpffs(void)
{
	struct statfs sfs;

	if (statfs(BPFFS_ROOT, &sfs) == 0 && (uint32_t)sfs.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700") < 0)
		return -errno;
	return 0;
}

/*
 * Where pinned enforcement lives: AEGIS_BPFFS_DIR, or $AEGIS_BPFFS_DIR when
 * it names a directory directly under /sys/fs/bpf/ (tests running several
 * daemons side by side keep their pins apart with it).
 */
static const char *pin_dir(void)
{
	const char *d = getenv("AEGIS_BPFFS_DIR");

	if (d && strneq(d, BPFFS_ROOT "/", strlen(BPFFS_ROOT "/")) &&
	    d[strlen(BPFFS_ROOT "/")] != 0 && !strchr(d + strlen(BPFFS_ROOT "/"), '/') &&
	    !strstr(d, ".."))
		return d;
	return AEGIS_BPFFS_DIR;
}

static int pin_path(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", pin_dir(), name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int enforce_detach_pinned(void)
{
	_cleanup_(closedir_p) DIR *d = NULL;
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;

	for (unsigned i = 0; i < _L_MAX; i++) {
		int fd;

		if (pin_path(path, sizeof(path), link_names[i]) < 0)
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		/* BPF_LINK_DETACH: detached even if someone still holds the link */
		if (bpf_link_detach(fd) == 0)
			n++;
		safe_close(fd);
	}
	d = opendir(pin_dir());
	if (!d)
		return errno == ENOENT ? n : -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			(void)unlinkat(dirfd(d), de->d_name, 0);
	if (rmdir(pin_dir()) < 0)
		return -errno;
	return n;
}

/* Pinned links exist (persist mode left them behind)? */
static bool have_pins(void)
{
	char path[PATH_MAX];

	return pin_path(path, sizeof(path), link_names[L_CONNECT4]) == 0 && access(path, F_OK) == 0;
}

/* Anything pinned at all (links, or only maps of a run that never attached)? */
static bool have_pin_dir(void)
{
	return access(pin_dir(), F_OK) == 0;
}

static int set_map_pins(struct enforce *e)
{
	struct bpf_map *m;
	char path[PATH_MAX];
	int r;

	bpf_object__for_each_map(m, e->skel->obj) {
		if (bpf_map__is_internal(m))
			continue;
		r = pin_path(path, sizeof(path), bpf_map__name(m));
		if (r < 0)
			return r;
		r = bpf_map__set_pin_path(m, path);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- load and attach */

static int load_once(struct enforce *e, bool kill_in_hook)
{
	int r;

	e->skel = aegis_enforce__open();
	if (!e->skel)
		return negative_errno();
	e->skel->rodata->pending_timeout_ns = (uint64_t)ENFORCE_PENDING_TIMEOUT_MS * 1000000ull;
	e->skel->rodata->kill_in_hook = kill_in_hook;
	if (e->persist) {
		r = set_map_pins(e);
		if (r < 0)
			return r;
	}
	return aegis_enforce__load(e->skel);
}

static int load(struct enforce *e)
{
	int r = load_once(e, true);

	if (r >= 0) {
		e->kill_in_hook = true;
		return 0;
	}
	/* the verifier may refuse bpf_send_signal() in cgroup programs: block without it */
	aegis_enforce__destroy(TAKE_PTR(e->skel));
	r = load_once(e, false);
	if (r >= 0)
		log_warning("bpf_send_signal() is not allowed in cgroup connect programs on this "
			    "kernel: kill rules block in the kernel and kill from userspace");
	return r;
}

static int attach_one(struct enforce *e, unsigned i)
{
	struct bpf_program *p = link_prog(e, i);
	char path[PATH_MAX];
	int r;

	if (e->persist && i >= L_CGROUP_MAX && pin_path(path, sizeof(path), link_names[i]) == 0)
		/* raw_tp links cannot be updated: drop the pinned one and attach anew
		 * (a moment without fork/exec bookkeeping is harmless) */
		(void)unlink(path);
	if (e->persist && pin_path(path, sizeof(path), link_names[i]) == 0 &&
	    access(path, F_OK) == 0) {
		/* adopt: the pinned link stays the one attachment; run our program in it */
		e->links[i] = bpf_link__open(path);
		if (e->links[i] && bpf_link__update_program(e->links[i], p) == 0)
			return 1;
		/* a stale pin (link detached by someone): replace it */
		bpf_link__destroy(e->links[i]);
		e->links[i] = NULL;
		(void)unlink(path);
	}
	if (i < L_CGROUP_MAX)
		e->links[i] = bpf_program__attach_cgroup(p, e->cgroup_fd);
	else
		e->links[i] = bpf_program__attach(p);
	if (!e->links[i])
		return negative_errno();
	if (e->persist) {
		r = pin_path(path, sizeof(path), link_names[i]);
		if (r >= 0)
			r = bpf_link__pin(e->links[i], path);
		if (r < 0)
			return r;
	}
	return 0;
}

static int attach(struct enforce *e)
{
	unsigned adopted = 0;
	int r;

	for (unsigned i = 0; i < _L_MAX; i++) {
		r = attach_one(e, i);
		if (r < 0)
			return r;
		if (r > 0 && i < L_CGROUP_MAX)
			adopted++;
	}
	e->adopted = adopted == L_CGROUP_MAX;
	e->pinned = e->persist;
	e->attached = true;
	return 0;
}

/* ---- maps */

static int map_clear(int fd, size_t key_size)
{
	_cleanup_free_ void *k = calloc(1, key_size), *next = calloc(1, key_size);

	if (!k || !next)
		return -ENOMEM;
	/* restart from the first key after every delete: deleting invalidates the cursor */
	while (bpf_map_get_next_key(fd, NULL, next) == 0)
		if (bpf_map_delete_elem(fd, next) < 0)
			return -errno;
	return 0;
}

static int update_exempt(struct enforce *e, pid_t pid)
{
	__u32 k = pid, one = 1;

	return RET_NERRNO(
		bpf_map_update_elem(bpf_map__fd(e->skel->maps.enf_exempt), &k, &one, BPF_ANY));
}

int enforce_exempt_self(struct enforce *e, pid_t pid)
{
	return update_exempt(e, pid);
}

/* Deletes the keys of fd that are not in keep[0..n) (key_size bytes each). */
static int map_prune(int fd, size_t key_size, const void *keep, size_t n)
{
	_cleanup_free_ uint8_t *k = calloc(1, key_size), *next = calloc(1, key_size);
	bool first = true;

	if (!k || !next)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, first ? NULL : k, next) == 0) {
		bool found = false;

		for (size_t i = 0; i < n && !found; i++)
			found = memcmp((const uint8_t *)keep + i * key_size, next, key_size) == 0;
		if (!found && bpf_map_delete_elem(fd, next) == 0)
			continue; /* deleted: the cursor restarts at k (or the start) */
		memcpy(k, next, key_size);
		first = false;
	}
	return 0;
}

int enforce_update_local_addrs(struct enforce *e)
{
	int fd4 = bpf_map__fd(e->skel->maps.enf_local4);
	int fd6 = bpf_map__fd(e->skel->maps.enf_local6);
	_cleanup_free_ uint8_t *v4 = NULL, *v6 = NULL;
	size_t n4 = 0, n6 = 0, cap = 0;
	struct ifaddrs *ifa, *i;
	__u32 one = 1;
	int r = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		cap++;
	v4 = calloc(cap + 1, 4);
	v6 = calloc(cap + 1, 16);
	if (!v4 || !v6)
		r = -ENOMEM;
	/* add first, then remove what is gone: an address of this host is never
	 * missing from the map, even for a moment */
	for (i = ifa; i && r >= 0; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			memcpy(v4 + 4 * n4, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			r = RET_NERRNO(bpf_map_update_elem(fd4, v4 + 4 * n4++, &one, BPF_ANY));
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			memcpy(v6 + 16 * n6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			r = RET_NERRNO(bpf_map_update_elem(fd6, v6 + 16 * n6++, &one, BPF_ANY));
		}
	}
	freeifaddrs(ifa);
	if (r >= 0)
		r = map_prune(fd4, 4, v4, n4);
	if (r >= 0)
		r = map_prune(fd6, 16, v6, n6);
	return r < 0 ? r : 0;
}

/*
 * Must match the templates in enforce.bpf.c exactly (the kernel checks type,
 * sizes and flags when an inner map is installed); libbpf drops its copy of
 * the template after load, so they are spelled out here.
 */
static const struct {
	enum bpf_map_type type;
	__u32 key_size, value_size, max_entries;
} inner_tmpl[_SET_MAX] = {
	[SET_IDS] = { BPF_MAP_TYPE_HASH, sizeof(struct aegis_enf_id_key),
		      sizeof(struct aegis_enf_id_val), AEGIS_ENF_MAX_IDS },
	[SET_RULES] = { BPF_MAP_TYPE_HASH, sizeof(__u32), sizeof(struct aegis_enf_rule),
			AEGIS_ENF_MAX_RULES },
	[SET_PORTS] = { BPF_MAP_TYPE_LPM_TRIE, sizeof(struct aegis_enf_port_key), sizeof(__u32),
			AEGIS_ENF_MAX_PORTS },
	[SET_CIDR4] = { BPF_MAP_TYPE_LPM_TRIE, sizeof(struct aegis_enf_cidr4_key), sizeof(__u32),
			AEGIS_ENF_MAX_CIDR4 },
	[SET_CIDR6] = { BPF_MAP_TYPE_LPM_TRIE, sizeof(struct aegis_enf_cidr6_key), sizeof(__u32),
			AEGIS_ENF_MAX_CIDR6 },
	[SET_PROCV] = { BPF_MAP_TYPE_HASH, sizeof(__u32), sizeof(struct aegis_enf_procv),
			AEGIS_ENF_MAX_PROCS },
};

static int inner_create(unsigned i)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);

	return RET_NERRNO(bpf_map_create(inner_tmpl[i].type, "aegis_enf", inner_tmpl[i].key_size,
					 inner_tmpl[i].value_size, inner_tmpl[i].max_entries,
					 &opts));
}

/* A set's plan entries as key (+ value) records, for the in-place diff. */
struct set_view {
	const char *base;
	size_t n, entsz, keysz, valoff, valsz; /* valoff SIZE_MAX: value is 1 (ports) */
};

static bool set_view(const struct pcompile_plan *p, unsigned set, struct set_view *v)
{
	switch (set) {
	case SET_IDS:
		*v = (struct set_view){ (const char *)p->ids,
					p->n_ids,
					sizeof(*p->ids),
					sizeof(p->ids->key),
					offsetof(struct pcompile_id, val),
					sizeof(p->ids->val) };
		return true;
	case SET_PORTS:
		*v = (struct set_view){ (const char *)p->ports, p->n_ports, sizeof(*p->ports),
					sizeof(*p->ports),	SIZE_MAX,   sizeof(__u32) };
		return true;
	case SET_CIDR4:
		*v = (struct set_view){ (const char *)p->c4,
					p->n_c4,
					sizeof(*p->c4),
					sizeof(p->c4->key),
					offsetof(struct pcompile_cidr4, val),
					sizeof(p->c4->val) };
		return true;
	case SET_CIDR6:
		*v = (struct set_view){ (const char *)p->c6,
					p->n_c6,
					sizeof(*p->c6),
					sizeof(p->c6->key),
					offsetof(struct pcompile_cidr6, val),
					sizeof(p->c6->val) };
		return true;
	default:
		return false;
	}
}

static const void *view_key(const struct set_view *v, size_t i)
{
	return v->base + i * v->entsz;
}

static const void *view_val(const struct set_view *v, size_t i)
{
	static const __u32 one = 1;

	return v->valoff == SIZE_MAX ? (const void *)&one : v->base + i * v->entsz + v->valoff;
}

static int view_cmp(const void *a, const void *b, void *userdata)
{
	const struct set_view *v = userdata;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	int c = memcmp(view_key(v, ia), view_key(v, ib), v->keysz);

	/* equal keys in fill order: the last one is what the map holds */
	return c ? c : (ia > ib) - (ia < ib);
}

static size_t *view_sorted(const struct set_view *v)
{
	size_t *idx = malloc((v->n ? v->n : 1) * sizeof(*idx));

	if (!idx)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		idx[i] = i;
	qsort_r(idx, v->n, sizeof(*idx), view_cmp, (void *)v);
	return idx;
}

/* Position of the last entry with the key of idx[i] (duplicates: last wins). */
static size_t view_last(const struct set_view *v, const size_t *idx, size_t i)
{
	while (i + 1 < v->n && memcmp(view_key(v, idx[i]), view_key(v, idx[i + 1]), v->keysz) == 0)
		i++;
	return i;
}

/*
 * Map writes gathered for one BPF_MAP_{UPDATE,DELETE}_BATCH call: one
 * syscall for a whole set instead of one per entry (50,000 LPM entries:
 * ~120 -> ~70 ms here). Kernels without the batch op for the map type get
 * the same writes one by one.
 */
struct map_batch {
	size_t key_size, val_size;
	uint8_t *keys, *vals;
	size_t n, cap;
};

static void map_batch_done(struct map_batch *b)
{
	free(b->keys);
	free(b->vals);
	*b = (struct map_batch){ .key_size = b->key_size, .val_size = b->val_size };
}

static int map_batch_add(struct map_batch *b, const void *key, const void *val)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		uint8_t *k = realloc(b->keys, cap * b->key_size), *v;

		if (!k)
			return -ENOMEM;
		b->keys = k;
		if (b->val_size) {
			v = realloc(b->vals, cap * b->val_size);
			if (!v)
				return -ENOMEM;
			b->vals = v;
		}
		b->cap = cap;
	}
	memcpy(b->keys + b->n * b->key_size, key, b->key_size);
	if (b->val_size)
		memcpy(b->vals + b->n * b->val_size, val, b->val_size);
	b->n++;
	return 0;
}

static bool batch_unsupported(int r)
{
	/* no batch op for this map type (ENOTSUPP), or no batch command at all */
	return r == -524 || r == -EOPNOTSUPP || r == -EINVAL;
}

/* Writes (val_size != 0) or deletes (val_size 0) the gathered entries in fd. */
static int map_batch_flush(struct map_batch *b, int fd)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t done = 0;
	int r = 0;

	while (done < b->n) {
		__u32 count = (__u32)MIN(b->n - done, (size_t)UINT32_MAX);
		const void *k = b->keys + done * b->key_size;

		if (b->val_size)
			r = RET_NERRNO(bpf_map_update_batch(fd, k, b->vals + done * b->val_size,
							    &count, &opts));
		else
			r = RET_NERRNO(bpf_map_delete_batch(fd, k, &count, &opts));
		if (r < 0 && count == 0 && batch_unsupported(r))
			break;
		if (r == -ENOENT && !b->val_size) { /* already gone: what a delete wants */
			done += count + 1;
			r = 0;
			continue;
		}
		if (r < 0)
			return r;
		done += count;
	}
	/* one by one from where the batch stopped */
	for (; done < b->n && r < 0; done++) {
		const void *k = b->keys + done * b->key_size;
		int q;

		if (b->val_size)
			q = RET_NERRNO(
				bpf_map_update_elem(fd, k, b->vals + done * b->val_size, BPF_ANY));
		else if ((q = RET_NERRNO(bpf_map_delete_elem(fd, k))) == -ENOENT)
			q = 0;
		if (q < 0)
			return q;
	}
	b->n = 0;
	return 0;
}

/* Fills a fresh inner map of set from plan p. */
static int fill_one(const struct pcompile_plan *p, unsigned set, int fd)
{
	struct map_batch b = { inner_tmpl[set].key_size, inner_tmpl[set].value_size };
	struct set_view v;
	int r = 0;

	if (set == SET_RULES) {
		for (__u32 i = 0; i < p->n_rules && r >= 0; i++)
			r = map_batch_add(&b, &i, &p->rules[i]);
	} else if (set_view(p, set, &v)) {
		/* in plan order: where a key repeats, the last one wins, as in the diff */
		for (size_t i = 0; i < v.n && r >= 0; i++)
			r = map_batch_add(&b, view_key(&v, i), view_val(&v, i));
	} /* else procv: verdicts, written by scan_procs() */
	if (r >= 0)
		r = map_batch_flush(&b, fd);
	map_batch_done(&b);
	return r;
}

/* One entry of the diff: counted only (dry, no batches) or gathered. */
static int diff_op(struct map_batch *upd, struct map_batch *del, const void *key, const void *val,
		   unsigned *n_ops)
{
	(*n_ops)++;
	if (!upd)
		return 0;
	return val ? map_batch_add(upd, key, val) : map_batch_add(del, key, NULL);
}

static int diff_gather(const struct pcompile_plan *o, const struct pcompile_plan *n, unsigned set,
		       struct map_batch *upd, struct map_batch *del, unsigned *n_ops)
{
	_cleanup_free_ size_t *io = NULL, *in = NULL;
	struct set_view vo, vn;
	size_t a = 0, b = 0;
	int r = 0;

	if (set == SET_RULES) {
		for (__u32 i = 0; i < n->n_rules && r >= 0; i++)
			if (i >= o->n_rules ||
			    memcmp(&o->rules[i], &n->rules[i], sizeof(n->rules[i])))
				r = diff_op(upd, del, &i, &n->rules[i], n_ops);
		for (__u32 i = n->n_rules; i < o->n_rules && r >= 0; i++)
			r = diff_op(upd, del, &i, NULL, n_ops);
		return r;
	}
	if (!set_view(o, set, &vo) || !set_view(n, set, &vn))
		return -EINVAL;
	io = view_sorted(&vo);
	in = view_sorted(&vn);
	if (!io || !in)
		return -ENOMEM;
	while ((a < vo.n || b < vn.n) && r >= 0) {
		int c;

		if (a < vo.n)
			a = view_last(&vo, io, a);
		if (b < vn.n)
			b = view_last(&vn, in, b);
		c = a >= vo.n ? 1 :
		    b >= vn.n ? -1 :
				memcmp(view_key(&vo, io[a]), view_key(&vn, in[b]), vo.keysz);
		if (c < 0) {
			r = diff_op(upd, del, view_key(&vo, io[a]), NULL, n_ops);
			a++;
		} else if (c > 0) {
			r = diff_op(upd, del, view_key(&vn, in[b]), view_val(&vn, in[b]), n_ops);
			b++;
		} else {
			if (memcmp(view_val(&vo, io[a]), view_val(&vn, in[b]), vn.valsz))
				r = diff_op(upd, del, view_key(&vn, in[b]), view_val(&vn, in[b]),
					    n_ops);
			a++;
			b++;
		}
	}
	return r;
}

/*
 * Turns map fd, filled from plan o, into what plan n needs for set: deletes
 * and updates only the entries that differ (nothing may read the map).
 * fd < 0: only counts them. Returns the number of map operations or -errno.
 */
static int diff_one(int fd, const struct pcompile_plan *o, const struct pcompile_plan *n,
		    unsigned set)
{
	struct map_batch upd = { inner_tmpl[set].key_size, inner_tmpl[set].value_size };
	struct map_batch del = { inner_tmpl[set].key_size, 0 };
	unsigned n_ops = 0;
	int r;

	r = diff_gather(o, n, set, fd >= 0 ? &upd : NULL, &del, &n_ops);
	/* deletes first: the map never holds more entries than one of the plans needs */
	if (r >= 0 && fd >= 0)
		r = map_batch_flush(&del, fd);
	if (r >= 0 && fd >= 0)
		r = map_batch_flush(&upd, fd);
	map_batch_done(&upd);
	map_batch_done(&del);
	return r < 0 ? r : (int)n_ops;
}

/* Entries a fresh map of set needs (what fill_one() writes). */
static size_t set_size(const struct pcompile_plan *p, unsigned set)
{
	struct set_view v;

	if (set == SET_RULES)
		return p->n_rules;
	return set_view(p, set, &v) ? v.n : 0;
}

static bool mem_eq(const void *a, size_t na, const void *b, size_t nb, size_t size)
{
	return na == nb && (na == 0 || memcmp(a, b, na * size) == 0);
}

/*
 * Whether an inner map filled from plan a holds what plan b needs for set.
 * procv holds runtime verdicts: only the empty one of a policy without
 * cmdline apps (nothing writes it then) can be kept.
 */
static bool set_equal(const struct pcompile_plan *a, const struct pcompile_plan *b, unsigned set)
{
	if (!a || !b)
		return false;
	switch (set) {
	case SET_IDS:
		return mem_eq(a->ids, a->n_ids, b->ids, b->n_ids, sizeof(*a->ids));
	case SET_RULES:
		return mem_eq(a->rules, a->n_rules, b->rules, b->n_rules, sizeof(*a->rules));
	case SET_PORTS:
		return mem_eq(a->ports, a->n_ports, b->ports, b->n_ports, sizeof(*a->ports));
	case SET_CIDR4:
		return mem_eq(a->c4, a->n_c4, b->c4, b->n_c4, sizeof(*a->c4));
	case SET_CIDR6:
		return mem_eq(a->c6, a->n_c6, b->c6, b->n_c6, sizeof(*a->c6));
	case SET_PROCV:
		return !a->has_cmdline && !b->has_cmdline;
	default:
		return false;
	}
}

/* Same map contents and header (but the generation number). */
static bool plan_equal(const struct pcompile_plan *a, const struct pcompile_plan *b)
{
	struct aegis_enf_hdr ha = a->hdr, hb = b->hdr;

	ha.seq = hb.seq = 0;
	if (memcmp(&ha, &hb, sizeof(ha)) != 0 || a->has_cmdline != b->has_cmdline)
		return false;
	for (unsigned i = 0; i < SET_PROCV; i++)
		if (!set_equal(a, b, i))
			return false;
	return true;
}

/* ---- per-process verdicts */

static int read_small(const char *path, char *buf, size_t size, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	*ret_len = (size_t)n;
	return 0;
}

static char *proc_unit(pid_t pid)
{
	char path[64], buf[4096], *p, *unit = NULL;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_small(path, buf, sizeof(buf), &n) < 0)
		return NULL;
	p = strstr(buf, "0::");
	if (p != buf && p && p[-1] != '\n')
		p = NULL;
	if (!p)
		return NULL;
	p += 3;
	p[strcspn(p, "\n")] = 0;
	if (proc_cache_unit_from_cgroup(p, &unit) < 0)
		return NULL;
	return unit;
}

static int verdict_write(struct enforce *e, int procv_fd, pid_t pid, const char *exe,
			 const char *cmdline, uid_t uid)
{
	struct proc_info pi = {
		.pid = pid,
		.uid = uid,
		.exe = (char *)exe,
		.cmdline = (char *)cmdline,
	};
	_cleanup_free_ char *unit = NULL;
	const struct app *a;
	__u32 k = pid;

	if (e->need_unit)
		pi.unit = unit = proc_unit(pid);
	a = policy_match_app(e->policy, &pi);
	if (a && a->cmdline) {
		struct aegis_enf_procv v = { .rule = (__u32)a->index };

		return RET_NERRNO(bpf_map_update_elem(procv_fd, &k, &v, BPF_ANY));
	}
	/* exe/path/user/unit rules decide in the kernel */
	(void)bpf_map_delete_elem(procv_fd, &k);
	return 0;
}

static void pending_clear(struct enforce *e, pid_t pid)
{
	__u32 k = pid;

	(void)bpf_map_delete_elem(bpf_map__fd(e->skel->maps.enf_pending), &k);
}

int enforce_proc_exec(struct enforce *e, pid_t pid, const char *exe, const char *cmdline, uid_t uid)
{
	int r = 0;

	if (!e)
		return 0;
	if (e->policy && e->procv_fd >= 0)
		r = verdict_write(e, e->procv_fd, pid, exe ? exe : "", cmdline ? cmdline : "", uid);
	pending_clear(e, pid);
	return r;
}

void enforce_proc_exit(struct enforce *e, pid_t pid)
{
	__u32 k = pid;

	if (!e)
		return;
	if (e->procv_fd >= 0)
		(void)bpf_map_delete_elem(e->procv_fd, &k);
	pending_clear(e, pid);
}

static uid_t proc_uid(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned uid;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, buf, sizeof(buf), &n) < 0)
		return (uid_t)-1;
	p = strstr(buf, "\nUid:");
	if (!p || sscanf(p + 5, "%u", &uid) != 1)
		return (uid_t)-1;
	return uid;
}

static int read_proc_exec(pid_t pid, char *exe, size_t exe_size, char *cl, size_t cl_size)
{
	char path[64];
	ssize_t el;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	el = readlink(path, exe, exe_size - 1);
	if (el <= 0)
		return -ESRCH;
	exe[el] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (read_small(path, cl, cl_size, &n) < 0)
		return -ESRCH;
	while (n > 0 && cl[n - 1] == 0)
		n--;
	for (size_t i = 0; i < n; i++)
		if (cl[i] == 0)
			cl[i] = ' ';
	cl[n] = 0;
	return 0;
}

/* Verdicts for processes that already run (started before aegis, or before a reload). */
static void scan_procs(struct enforce *e, int procv_fd)
{
	_cleanup_(closedir_p) DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char exe[PATH_MAX], cl[AEGIS_ARGV_MAX + 1];
		uint32_t u;

		if (safe_atou32(de->d_name, &u) < 0 || u == 0 || u > INT32_MAX)
			continue;
		/* kernel threads (no exe) and processes gone meanwhile are skipped */
		if (read_proc_exec((pid_t)u, exe, sizeof(exe), cl, sizeof(cl)) < 0)
			continue;
		(void)verdict_write(e, procv_fd, (pid_t)u, exe, cl, proc_uid((pid_t)u));
	}
}

/* ---- the exec feed of enf_events */

static int on_exec_event(void *ctx, void *data, size_t size)
{
	struct enforce *e = ctx;
	struct aegis_enf_exec_ev ev;
	char exe[PATH_MAX], cl[AEGIS_ARGV_MAX + 1];

	if (size < sizeof(ev))
		return 0;
	memcpy(&ev, data, sizeof(ev));
	e->n_exec_events++;
	/* gone already, or exec'd again (its own event follows): nothing to decide */
	if (read_proc_exec(ev.pid, exe, sizeof(exe), cl, sizeof(cl)) < 0) {
		pending_clear(e, ev.pid);
		return 0;
	}
	(void)enforce_proc_exec(e, ev.pid, exe, cl, proc_uid(ev.pid));
	{
		uint64_t lat = now_usec(CLOCK_MONOTONIC) * 1000 - ev.ts;

		e->lat_sum_ns += lat;
		e->lat_max_ns = MAX(e->lat_max_ns, lat);
	}
	return 0;
}

static void feed_set(const struct enforce *e, __u32 on)
{
	__u32 zero = 0;

	(void)bpf_map_update_elem(bpf_map__fd(e->skel->maps.enf_feed), &zero, &on, BPF_ANY);
}

int enforce_event_fd(const struct enforce *e)
{
	if (!e || !e->events)
		return -EBADF;
	/* someone polls the feed from now on: fresh execs may be held pending */
	feed_set(e, 1);
	return ring_buffer__epoll_fd(e->events);
}

int enforce_process_events(struct enforce *e)
{
	if (!e || !e->events)
		return 0;
	return ring_buffer__consume(e->events);
}

static int on_events_io(struct event_source *s, int fd, uint32_t revents, void *userdata)
{
	int r = enforce_process_events(userdata);

	return r < 0 ? r : 0;
}

static int compile_and_apply(struct enforce *e, const struct config *c, int log_level);

static int on_recompile(struct event_source *s, uint64_t now, void *userdata)
{
	struct enforce *e = userdata;

	return e->config ? compile_and_apply(e, e->config, LOG_DEBUG) : 0;
}

int enforce_attach_event_loop(struct enforce *e, struct event_loop *l)
{
	int fd = enforce_event_fd(e), r;

	if (fd < 0)
		return fd;
	e->events_source = event_source_free(e->events_source);
	e->recompile_source = event_source_free(e->recompile_source);
	r = event_loop_add_timer(l, /* usec= */ 0, on_recompile, e, &e->recompile_source);
	if (r < 0)
		return r;
	return event_loop_add_io(l, fd, EPOLLIN, on_events_io, e, &e->events_source);
}

/* ---- apply */

static char **rules_describe(const struct config *c, const struct pcompile_plan *p)
{
	char **v = calloc(p->n_info + 1, sizeof(char *));
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < p->n_info; i++) {
		const struct pcompile_rule_info *in = &p->info[i];
		char id[512];
		int k;

		if (!in->blocks)
			continue;
		app_identity(c->apps[in->app], id, sizeof(id));
		if (in->kind == PCOMPILE_KERNEL)
			k = asprintf(&v[n], "in-kernel: %s", id);
		else if (in->kind == PCOMPILE_CMDLINE)
			k = asprintf(&v[n], "cmdline verdict (%s): %s", in->why, id);
		else
			k = asprintf(&v[n], "userspace-only (%s): %s", in->why, id);
		if (k < 0)
			return strv_free(v);
		n++;
	}
	return v;
}

static bool config_has_unit(const struct config *c)
{
	for (size_t i = 0; i < c->n_apps; i++)
		if (c->apps[i]->unit)
			return true;
	return false;
}

/* Re-classifies the running processes into the active procv map with pol (plan unchanged). */
static void rescan_active(struct enforce *e, struct policy *pol)
{
	struct policy *old = TAKE_PTR(e->policy);

	e->policy = pol;
	scan_procs(e, e->procv_fd);
	e->policy = old;
}

static int apply_plan(struct enforce *e, struct pcompile_plan *plan, struct policy *pol)
{
	uint32_t slot = e->gen ^ 1, zero = 0;
	const struct pcompile_plan *active = e->plan_installed ? e->plan : NULL;
	int fds[_SET_MAX], r = 0;
	bool install[_SET_MAX] = {}, shared[_SET_MAX] = {}, fenced = false;
	struct aegis_enf_hdr hdr = plan->hdr;
	unsigned i;

	for (i = 0; i < _SET_MAX; i++)
		fds[i] = -EBADF;
	for (i = 0; i < _SET_MAX && r >= 0; i++) {
		/* the inactive slot holds it already: nothing to do */
		if (e->slot_fds[slot][i] >= 0 && set_equal(e->prev_plan, plan, i)) {
			fds[i] = e->slot_fds[slot][i];
			continue;
		}
		/* unchanged since the active policy: share its map (never written again) */
		if (e->slot_fds[e->gen][i] >= 0 && set_equal(active, plan, i)) {
			install[i] = shared[i] = true;
			fds[i] = RET_NERRNO(fcntl(e->slot_fds[e->gen][i], F_DUPFD_CLOEXEC, 3));
			r = fds[i];
			continue;
		}
		/*
		 * The inactive slot's own map, content known: apply the difference
		 * in place (after one grace period: no program that read the slot
		 * before the last flip still runs).
		 */
		if (i != SET_PROCV && e->prev_plan && e->slot_fds[slot][i] >= 0 &&
		    !e->slot_shared[i] &&
		    /* more changes than half a fresh fill: build fresh (fewer syscalls) */
		    (size_t)diff_one(-EBADF, e->prev_plan, plan, i) <= set_size(plan, i) / 2) {
			if (!fenced) {
				/* rewriting the same inner map waits for an RCU grace period */
				r = RET_NERRNO(bpf_map_update_elem(bpf_map__fd(outer_map(e, i)),
								   &slot, &e->slot_fds[slot][i],
								   BPF_ANY));
				fenced = true;
			}
			fds[i] = e->slot_fds[slot][i];
			if (r >= 0)
				r = diff_one(fds[i], e->prev_plan, plan, i);
			continue;
		}
		install[i] = true;
		fds[i] = inner_create(i);
		r = fds[i];
		if (r >= 0)
			r = fill_one(plan, i, fds[i]);
	}
	/*
	 * install the new set in the inactive slot: nothing reads it yet (each
	 * update waits for an RCU grace period: only the changed sets)
	 */
	for (i = 0; i < _SET_MAX && r >= 0; i++)
		if (install[i])
			r = RET_NERRNO(bpf_map_update_elem(bpf_map__fd(outer_map(e, i)), &slot,
							   &fds[i], BPF_ANY));
	if (r >= 0 && pol && plan->has_cmdline) {
		struct policy *old = TAKE_PTR(e->policy);

		e->policy = pol;
		scan_procs(e, fds[SET_PROCV]);
		e->policy = old;
	}
	/* unique per set: the kernel's per-process cache (enf_pcache) is keyed on it */
	hdr.seq = e->seq_base + e->seq + 1;
	if (plan->has_cmdline)
		hdr.flags |= AEGIS_ENF_H_PROCV;
	if (r >= 0)
		r = RET_NERRNO(bpf_map_update_elem(bpf_map__fd(e->skel->maps.enf_hdr), &slot, &hdr,
						   BPF_ANY));
	/* the flip */
	if (r >= 0)
		r = RET_NERRNO(bpf_map_update_elem(bpf_map__fd(e->skel->maps.enf_gen), &zero, &slot,
						   BPF_ANY));
	if (r < 0) {
		for (i = 0; i < _SET_MAX; i++)
			if (install[i])
				safe_close(fds[i]);
		/* the inactive slot may be half updated: its content is unknown now */
		e->prev_plan = pcompile_plan_free(e->prev_plan);
		return r;
	}
	for (i = 0; i < _SET_MAX; i++)
		if (install[i]) {
			safe_close(e->slot_fds[slot][i]);
			e->slot_fds[slot][i] = fds[i];
			e->slot_shared[i] = shared[i];
		}
	e->procv_fd = e->slot_fds[slot][SET_PROCV];
	e->gen = slot;
	e->seq++;
	return 0;
}

static int compile_and_apply(struct enforce *e, const struct config *c, int log_level)
{
	struct pcompile_env env = {
		.stat_path = env_stat_path,
		.unit_cgroup = env_unit_cgroup,
		.host_addrs = env_host_addrs,
		.userdata = e,
	};
	struct pcompile_plan *plan = NULL;
	struct policy *pol = NULL;
	char **desc;
	uint64_t t0 = now_usec(CLOCK_MONOTONIC);
	uint64_t t_compile;
	bool installed = true, unchanged = false;
	int r = 0;

	r = pcompile(c, &env, &plan);
	if (r < 0)
		return r;
	t_compile = now_usec(CLOCK_MONOTONIC) - t0;
	if (plan->has_cmdline) {
		r = policy_new(c, &pol);
		if (r < 0) {
			pcompile_plan_free(plan);
			return r;
		}
	}
	desc = rules_describe(c, plan);
	e->need_unit = config_has_unit(c);
	/*
	 * Nothing attached and nothing to block: no program reads the maps, so
	 * skip installing them (each map-in-map update waits for an RCU grace
	 * period: ~80 ms per reload for nothing).
	 */
	if (!desc)
		r = -ENOMEM;
	else if (!e->attached && !(plan->hdr.flags & AEGIS_ENF_H_ACTIVE))
		installed = false;
	else if (e->plan_installed && plan_equal(e->plan, plan)) {
		/* unchanged (SIGHUP, a config manager re-run): no rebuild, no flip */
		unchanged = true;
		if (pol && plan->has_cmdline)
			rescan_active(e, pol);
		e->seq++;
	} else
		r = apply_plan(e, plan, pol);
	if (r < 0) {
		strv_free(desc);
		policy_free(pol);
		pcompile_plan_free(plan);
		return r;
	}
	strv_free(e->rules_desc);
	e->rules_desc = desc;
	policy_free(e->policy);
	e->policy = pol;
	if (!installed) /* slot gen keeps what it holds, if anything */
		e->plan = pcompile_plan_free(e->plan);
	else if (!unchanged) { /* flipped: the old active plan is the inactive slot's now */
		pcompile_plan_free(e->prev_plan);
		e->prev_plan = e->plan_installed ? e->plan : pcompile_plan_free(e->plan);
	} else
		pcompile_plan_free(e->plan);
	e->plan = plan;
	e->plan_installed = installed;
	e->config = c;
	/* nothing is attached until some rule blocks: no cost per connect before that */
	if (!e->attached && (plan->hdr.flags & AEGIS_ENF_H_ACTIVE)) {
		r = attach(e);
		if (r < 0)
			return log_error_errno(r, "Failed to attach enforcement to %s: %m",
					       e->cgroup_root);
	}
	log_full(log_level,
		 "Enforcement policy %" PRIu64 " applied in %" PRIu64 " ms (compile %" PRIu64
		 " ms%s): %zu ids, %zu rules, %zu port prefixes, %zu+%zu CIDR prefixes",
		 e->seq, (now_usec(CLOCK_MONOTONIC) - t0) / 1000, t_compile / 1000,
		 unchanged ? ", unchanged: installed maps kept" : "", plan->n_ids, plan->n_rules,
		 plan->n_ports, plan->n_c4, plan->n_c6);
	return 0;
}

int enforce_apply(struct enforce *e, const struct config *c)
{
	if (c->global.enforce_persist != e->persist)
		log_notice("enforce_persist takes effect at the next start of the daemon");
	return compile_and_apply(e, c, LOG_INFO);
}

int enforce_set_host_addrs(struct enforce *e, const char *host, const struct cidr *addrs, size_t n)
{
	struct host_entry *h = NULL;
	struct cidr *copy = NULL;

	for (size_t i = 0; i < e->n_hosts; i++)
		if (streq(e->hosts[i].host, host))
			h = &e->hosts[i];
	if (!h) {
		struct host_entry *v = realloc(e->hosts, (e->n_hosts + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->hosts = v;
		h = &e->hosts[e->n_hosts];
		*h = (struct host_entry){ .host = strdup(host) };
		if (!h->host)
			return -ENOMEM;
		e->n_hosts++;
	}
	/* a refresh that changes nothing (the common case) costs nothing */
	if (h->n == n && (n == 0 || memcmp(h->addrs, addrs, n * sizeof(*addrs)) == 0))
		return 0;
	if (n > 0) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, addrs, n * sizeof(*copy));
	}
	free(h->addrs);
	h->addrs = copy;
	h->n = n;
	if (!e->config)
		return 0;
	/* on the daemon's loop: one recompile for a burst of resolutions */
	if (e->recompile_source)
		return event_source_set_time(e->recompile_source,
					     now_usec(CLOCK_MONOTONIC) +
						     ENFORCE_RECOMPILE_DELAY_USEC);
	/* resolver refreshes are routine: their recompiles log at debug level */
	return compile_and_apply(e, e->config, LOG_DEBUG);
}

/* ---- lifecycle */

static int adopt_state(struct enforce *e)
{
	uint32_t zero = 0, g = 0;
	int r;

	/* which slot the pinned programs use now; stale exemptions (dead pids) go */
	if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.enf_gen), &zero, &g) == 0)
		e->gen = g & 1;
	for (uint32_t i = 0; i < 2; i++) {
		struct aegis_enf_hdr h;

		if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.enf_hdr), &i, &h) == 0 &&
		    h.seq > e->seq_base)
			e->seq_base = h.seq;
	}
	r = map_clear(bpf_map__fd(e->skel->maps.enf_exempt), sizeof(__u32));
	if (r < 0)
		return r;
	return 0;
}

static int enforce_start(struct enforce *e, const struct config *c)
{
	int r;

	r = find_cgroup2_root(&e->cgroup_root);
	if (r < 0)
		return log_error_errno(r, "No cgroup2 mount found for enforcement: %m");
	e->cgroup_fd = open(e->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (e->cgroup_fd < 0)
		return log_error_errno(errno, "Failed to open %s: %m", e->cgroup_root);
	if (!e->persist && have_pin_dir()) {
		r = enforce_detach_pinned();
		log_info("enforce_persist is off: removed pinned enforcement (%d links)", r);
	}
	if (e->persist) {
		r = ensure_bpffs();
		if (r < 0)
			return log_error_errno(r, "Failed to mount bpffs on " BPFFS_ROOT ": %m");
		if (mkdir(pin_dir(), 0700) < 0 && errno != EEXIST)
			return log_error_errno(errno, "Failed to create %s: %m", pin_dir());
	}
	r = load(e);
	if (r < 0 && e->persist && have_pin_dir()) {
		/* pinned maps from an incompatible build: start over */
		log_warning_errno(r,
				  "Pinned enforcement maps are not reusable (%m), replacing them");
		aegis_enforce__destroy(TAKE_PTR(e->skel));
		(void)enforce_detach_pinned();
		(void)mkdir(pin_dir(), 0700);
		r = load(e);
	}
	if (r < 0)
		return log_error_errno(r, "Failed to load the enforcement programs: %m");
	if (e->persist && have_pins()) {
		/* pinned links from an earlier run: adopt them now, whatever the policy */
		r = attach(e);
		if (r < 0)
			return log_error_errno(r, "Failed to adopt pinned enforcement on %s: %m",
					       e->cgroup_root);
	}
	if (e->persist) {
		r = adopt_state(e);
		if (r < 0)
			return log_error_errno(r, "Failed to adopt pinned enforcement maps: %m");
	}
	e->events = ring_buffer__new(bpf_map__fd(e->skel->maps.enf_events), on_exec_event, e, NULL);
	if (!e->events)
		return log_error_errno(errno, "Failed to open the enforcement exec feed: %m");
	r = update_exempt(e, getpid());
	if (r < 0)
		return log_error_errno(r, "Failed to exempt aegis from enforcement: %m");
	r = enforce_update_local_addrs(e);
	if (r < 0)
		return log_error_errno(r, "Failed to read this host's addresses: %m");
	r = compile_and_apply(e, c, LOG_INFO);
	if (r < 0)
		return log_error_errno(r, "Failed to compile the policy into enforcement maps: %m");
	return 0;
}

int enforce_new(const struct config *c, struct enforce **ret)
{
	struct enforce *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->cgroup_fd = -EBADF;
	e->procv_fd = -EBADF;
	for (unsigned i = 0; i < 2 * _SET_MAX; i++)
		e->slot_fds[i / _SET_MAX][i % _SET_MAX] = -EBADF;
	e->persist = c->global.enforce_persist;
	r = enforce_start(e, c);
	if (r < 0) {
		enforce_free(e);
		return r;
	}
	log_info("Enforcement %s on %s (%s): %u in-kernel, %u cmdline, %u userspace-only rules",
		 e->adopted  ? "adopted" :
		 e->attached ? "attached" :
			       "idle (no rule blocks)",
		 e->cgroup_root, e->pinned ? "pinned, survives the daemon" : "ends with the daemon",
		 e->plan->n_kernel, e->plan->n_cmdline, e->plan->n_userspace);
	*ret = e;
	return 0;
}

static uint64_t counter(const struct enforce *e, __u32 idx)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t sum = 0;

	if (ncpu <= 0 || ncpu > 4096)
		return 0;
	{
		_cleanup_free_ __u64 *v = calloc(ncpu, sizeof(__u64));

		if (!v || bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.enf_counters), &idx, v) < 0)
			return 0;
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	}
	return sum;
}

void enforce_get_status(const struct enforce *e, struct enforce_status *ret)
{
	*ret = (struct enforce_status){};
	if (!e || !e->skel)
		return;
	for (unsigned i = 0; i < _L_MAX; i++)
		if (e->links[i])
			ret->n_links++;
	ret->active = e->attached && e->plan && (e->plan->hdr.flags & AEGIS_ENF_H_ACTIVE) &&
		      ret->n_links >= L_CGROUP_MAX;
	ret->pinned = e->pinned;
	ret->adopted = e->adopted;
	if (e->plan) {
		ret->n_kernel_rules = e->plan->n_kernel;
		ret->n_cmdline_rules = e->plan->n_cmdline;
		ret->n_userspace_only = e->plan->n_userspace;
	}
	ret->blocks = counter(e, AEGIS_CNT_BLOCKS);
	ret->kills = counter(e, AEGIS_CNT_KILLS);
	ret->cgroup_root = e->cgroup_root;
	ret->rules = e->rules_desc;
	ret->generation = e->seq;
	ret->kill_in_kernel = e->kill_in_hook;
	ret->exec_events = e->n_exec_events;
	ret->verdict_latency_avg_us = e->n_exec_events ? e->lat_sum_ns / e->n_exec_events / 1000 :
							 0;
	ret->verdict_latency_max_us = e->lat_max_ns / 1000;
}

struct enforce *enforce_free(struct enforce *e)
{
	if (!e)
		return NULL;
	for (unsigned i = 0; i < _L_MAX; i++) {
		if (!e->links[i])
			continue;
		/* pinned: closing our fd leaves the pinned attachment in place */
		if (e->pinned)
			bpf_link__disconnect(e->links[i]);
		bpf_link__destroy(e->links[i]);
	}
	if (e->skel && e->events)
		feed_set(e, 0);
	event_source_free(e->events_source);
	event_source_free(e->recompile_source);
	ring_buffer__free(e->events);
	aegis_enforce__destroy(e->skel);
	for (unsigned i = 0; i < 2 * _SET_MAX; i++)
		safe_close(e->slot_fds[i / _SET_MAX][i % _SET_MAX]);
	safe_close(e->cgroup_fd);
	policy_free(e->policy);
	pcompile_plan_free(e->plan);
	pcompile_plan_free(e->prev_plan);
	strv_free(e->rules_desc);
	for (size_t i = 0; i < e->n_hosts; i++) {
		free(e->hosts[i].host);
		free(e->hosts[i].addrs);
	}
	free(e->hosts);
	free(e->cgroup_root);
	free(e);
	return NULL;
}
