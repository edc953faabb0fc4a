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

/*
 * Map writes gathered for BPF_MAP_{UPDATE,DELETE}_BATCH calls: one syscall
 * for many entries instead of one per entry (50,000 LPM entries: ~120 ->
 * ~70 ms here). Kernels without the batch op for the map type get the same
 * writes one by one. Keys are stored with their slot applied.
 */
struct map_batch {
	unsigned set;
	__u32 slot_bit;
	size_t key_size, val_size; /* val_size 0: deletes */
	uint8_t *keys, *vals;
	size_t n, cap, done;
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
	int fence_inner_fd; /* what fence() installs in enf_fence */
	/*
	 * What each slot of the policy maps holds: slot_plan[s], or nothing when
	 * NULL; slot_known[s] false: unknown (adopted from an earlier run, or a
	 * write failed half way): its keys are read back and deleted before
	 * reuse. slot_live[s]: programs may still read slot s (active since the
	 * last fence).
	 */
	struct pcompile_plan *slot_plan[2];
	bool slot_known[2], slot_live[2];
	/* a slot write in progress (job_begin()/job_step()) */
	struct {
		bool on;
		uint32_t slot;
		struct pcompile_plan *plan; /* owned by e->plan or a slot meanwhile */
		unsigned set; /* next set to write */
		struct map_batch del[SET_PROCV], upd[SET_PROCV];
		size_t n_writes; /* deletes + updates */
	} job;
	size_t last_writes; /* map writes of the last policy change */
	uint64_t last_apply_usec;
	bool last_unchanged;
	struct event_source *job_source;
	const struct config *config; /* last applied */
	struct policy *policy; /* matcher for cmdline verdicts (NULL without cmdline apps) */
	struct pcompile_plan *plan; /* last compiled */
	bool plan_installed; /* plan is what slot gen holds */
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

static struct bpf_map *set_map(struct enforce *e, unsigned set)
{
	struct bpf_map *m[_SET_MAX] = {
		e->skel->maps.enf_ids,	 e->skel->maps.enf_rules, e->skel->maps.enf_ports,
		e->skel->maps.enf_cidr4, e->skel->maps.enf_cidr6, e->skel->maps.enf_procv,
	};

	return m[set];
}

/* Puts a plan key (slot-less) into slot bit's half of the set's map. */
static void key_to_slot(unsigned set, void *key, __u32 bit)
{
	switch (set) {
	case SET_IDS:
		((struct aegis_enf_id_key *)key)->slot = bit;
		break;
	case SET_PORTS:
		((struct aegis_enf_port_key *)key)->set[0] |= bit >> 24;
		break;
	case SET_CIDR4:
		((struct aegis_enf_cidr4_key *)key)->set[0] |= bit >> 24;
		break;
	case SET_CIDR6:
		((struct aegis_enf_cidr6_key *)key)->set[0] |= bit >> 24;
		break;
	default: /* rules, procv: a __u32 */
		*(__u32 *)key |= bit;
		break;
	}
}

/* Which slot a key of the set's map belongs to (key_to_slot()'s bit). */
static __u32 key_slot(unsigned set, const void *key)
{
	switch (set) {
	case SET_IDS:
		return ((const struct aegis_enf_id_key *)key)->slot ? AEGIS_ENF_SLOT_BIT : 0;
	case SET_PORTS:
		return (__u32)(((const struct aegis_enf_port_key *)key)->set[0] & 0x80) << 24;
	case SET_CIDR4:
		return (__u32)(((const struct aegis_enf_cidr4_key *)key)->set[0] & 0x80) << 24;
	case SET_CIDR6:
		return (__u32)(((const struct aegis_enf_cidr6_key *)key)->set[0] & 0x80) << 24;
	default:
		return *(const __u32 *)key & AEGIS_ENF_SLOT_BIT;
	}
}

/* Batch for the set's map (its key and value sizes as loaded). */
static void map_batch_init(struct map_batch *b, struct enforce *e, unsigned set, __u32 slot_bit,
			   bool del)
{
	const struct bpf_map *m = set_map(e, set);

	*b = (struct map_batch){
		.set = set,
		.slot_bit = slot_bit,
		.key_size = bpf_map__key_size(m),
		.val_size = del ? 0 : bpf_map__value_size(m),
	};
}

static void map_batch_done(struct map_batch *b)
{
	free(b->keys);
	free(b->vals);
	b->keys = b->vals = NULL;
	b->n = b->cap = b->done = 0;
}

/* key: a plan key (slot-less) or, raw, a map key as it is. */
static int map_batch_add(struct map_batch *b, const void *key, const void *val, bool raw)
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
	if (!raw)
		key_to_slot(b->set, b->keys + b->n * b->key_size, b->slot_bit);
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

/* Writes or deletes up to max of the gathered entries not done yet. */
static int map_batch_flush(struct map_batch *b, int fd, size_t max)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t end = b->n - b->done > max ? b->done + max : b->n;
	int r = 0;

	while (b->done < end) {
		__u32 count = (__u32)MIN(end - b->done, (size_t)UINT32_MAX);
		const void *k = b->keys + b->done * b->key_size;

		if (b->val_size)
			r = RET_NERRNO(bpf_map_update_batch(fd, k, b->vals + b->done * b->val_size,
							    &count, &opts));
		else
			r = RET_NERRNO(bpf_map_delete_batch(fd, k, &count, &opts));
		/*
		 * no batch op (old kernels leave count as it was): one by one from
		 * here; rewriting or deleting an entry twice does no harm
		 */
		if (r < 0 && batch_unsupported(r))
			break;
		if (r == -ENOENT && !b->val_size) { /* already gone: what a delete wants */
			b->done += count + 1;
			r = 0;
			continue;
		}
		if (r < 0)
			return r;
		b->done += count;
	}
	/* one by one from where the batch stopped */
	for (; b->done < end && r < 0; b->done++) {
		const void *k = b->keys + b->done * b->key_size;
		int q;

		if (b->val_size)
			q = RET_NERRNO(bpf_map_update_elem(fd, k, b->vals + b->done * b->val_size,
							   BPF_ANY));
		else if ((q = RET_NERRNO(bpf_map_delete_elem(fd, k))) == -ENOENT)
			q = 0;
		if (q < 0)
			return q;
	}
	return 0;
}

/* Gathers the keys of the set's map that are in slot bit's half, for deletion. */
static int gather_slot_keys(int fd, unsigned set, __u32 bit, struct map_batch *del)
{
	_cleanup_free_ uint8_t *k = malloc(del->key_size), *next = malloc(del->key_size);
	bool first = true;
	int r = 0;

	if (!k || !next)
		return -ENOMEM;
	while (r >= 0 && bpf_map_get_next_key(fd, first ? NULL : k, next) == 0) {
		if (key_slot(set, next) == bit)
			r = map_batch_add(del, next, NULL, true);
		memcpy(k, next, del->key_size);
		first = false;
	}
	return r;
}

/* A set's plan entries as key (+ value) records. */
struct set_view {
	const char *base;
	size_t n, entsz, keysz, valoff, valsz; /* valoff SIZE_MAX: value is 1 (ports) */
};

static bool set_view(const struct pcompile_plan *p, unsigned set, struct set_view *v)
{
	static const struct pcompile_plan empty;

	if (!p)
		p = &empty;
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
 * Gathers what turns a slot holding plan o (NULL: nothing) into one holding
 * plan n for set: deletes of what n lacks, updates of what is new or
 * different. From nothing: n's entries in plan order (the last of a
 * repeated key wins, as in the map).
 */
static int diff_gather(const struct pcompile_plan *o, const struct pcompile_plan *n, unsigned set,
		       struct map_batch *upd, struct map_batch *del)
{
	_cleanup_free_ size_t *io = NULL, *in = NULL;
	struct set_view vo, vn;
	size_t a = 0, b = 0;
	int r = 0;

	if (set == SET_RULES) {
		__u32 no = o ? (__u32)o->n_rules : 0;

		for (__u32 i = 0; i < n->n_rules && r >= 0; i++)
			if (i >= no || memcmp(&o->rules[i], &n->rules[i], sizeof(n->rules[i])))
				r = map_batch_add(upd, &i, &n->rules[i], false);
		for (__u32 i = (__u32)n->n_rules; i < no && r >= 0; i++)
			r = map_batch_add(del, &i, NULL, false);
		return r;
	}
	if (!set_view(o, set, &vo) || !set_view(n, set, &vn))
		return 0; /* procv: runtime verdicts, not in plans */
	if (!vo.n) {
		for (size_t i = 0; i < vn.n && r >= 0; i++)
			r = map_batch_add(upd, view_key(&vn, i), view_val(&vn, i), false);
		return r;
	}
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
			r = map_batch_add(del, view_key(&vo, io[a]), NULL, false);
			a++;
		} else if (c > 0) {
			r = map_batch_add(upd, view_key(&vn, in[b]), view_val(&vn, in[b]), false);
			b++;
		} else {
			if (memcmp(view_val(&vo, io[a]), view_val(&vn, in[b]), vn.valsz))
				r = map_batch_add(upd, view_key(&vn, in[b]), view_val(&vn, in[b]),
						  false);
			a++;
			b++;
		}
	}
	return r;
}

static bool mem_eq(const void *a, size_t na, const void *b, size_t nb, size_t size)
{
	return na == nb && (na == 0 || memcmp(a, b, na * size) == 0);
}

/* Whether plans a and b put the same entries in set's map. */
static bool set_equal(const struct pcompile_plan *a, const struct pcompile_plan *b, unsigned set)
{
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
	default:
		return true;
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

/* ---- slot writes */

/*
 * Waits until no BPF program still runs that may have read a slot before
 * the last flip: the kernel answers an update of a map-in-map only after an
 * RCU grace period (~16 ms here), and the cgroup/raw_tp programs run inside
 * RCU read sections.
 */
static int fence(struct enforce *e)
{
	__u32 zero = 0;
	int r;

	r = RET_NERRNO(bpf_map_update_elem(bpf_map__fd(e->skel->maps.enf_fence), &zero,
					   &e->fence_inner_fd, BPF_ANY));
	if (r < 0)
		return r;
	e->slot_live[0] = e->slot_live[1] = false;
	e->slot_live[e->gen] = true;
	return 0;
}

/* Frees plan p unless a slot or the last compile still refers to it. */
static void plan_release(struct enforce *e, struct pcompile_plan *p)
{
	if (p && p != e->plan && p != e->slot_plan[0] && p != e->slot_plan[1])
		pcompile_plan_free(p);
}

static void slot_set(struct enforce *e, uint32_t slot, struct pcompile_plan *p, bool known)
{
	struct pcompile_plan *old = e->slot_plan[slot];

	e->slot_plan[slot] = p;
	e->slot_known[slot] = known;
	plan_release(e, old);
}

static void job_reset(struct enforce *e)
{
	for (unsigned i = 0; i < SET_PROCV; i++) {
		map_batch_done(&e->job.del[i]);
		map_batch_done(&e->job.upd[i]);
	}
	e->job.on = false;
	if (e->job_source)
		(void)event_source_set_time(e->job_source, 0);
}

/*
 * Starts turning slot's entries into plan p's: gathers the deletes (all of
 * the slot's keys when its content is unknown) and updates; job_step()
 * writes them once the slot's last readers are gone. procv (runtime
 * verdicts) is left to the caller. The slot's content is unknown until
 * job_step() has written everything.
 */
static int job_begin(struct enforce *e, uint32_t slot, struct pcompile_plan *p)
{
	const struct pcompile_plan *o = e->slot_plan[slot];
	bool known = e->slot_known[slot];
	__u32 bit = AEGIS_ENF_SLOT(slot);
	int r = 0;

	job_reset(e);
	e->job.slot = slot;
	e->job.plan = p;
	e->job.set = 0;
	for (unsigned i = 0; i < SET_PROCV && r >= 0; i++) {
		map_batch_init(&e->job.del[i], e, i, bit, true);
		map_batch_init(&e->job.upd[i], e, i, bit, false);
		if (!known)
			r = gather_slot_keys(bpf_map__fd(set_map(e, i)), i, bit, &e->job.del[i]);
		if (r >= 0)
			r = diff_gather(known ? o : NULL, p, i, &e->job.upd[i], &e->job.del[i]);
	}
	e->job.n_writes = 0;
	for (unsigned i = 0; i < SET_PROCV; i++)
		e->job.n_writes += e->job.del[i].n + e->job.upd[i].n;
	/* what the slot holds is in between from here on */
	slot_set(e, slot, NULL, false);
	if (r < 0) {
		job_reset(e);
		return r;
	}
	e->job.on = true;
	return 0;
}

/*
 * Writes up to max entries of the job (SIZE_MAX: all). Returns 1 when the
 * slot holds the job's plan, 0 if more is left, or -errno (slot unknown).
 */
static int job_step(struct enforce *e, size_t max)
{
	/* readers of the slot from before the last flip are gone first */
	if (e->slot_live[e->job.slot] && e->job.slot != e->gen) {
		int r = fence(e);

		if (r < 0) {
			job_reset(e);
			return r;
		}
	}
	while (e->job.set < SET_PROCV && max > 0) {
		unsigned i = e->job.set;
		struct map_batch *d = &e->job.del[i], *u = &e->job.upd[i];
		/* deletes first: the slot never holds more entries than one of the plans */
		struct map_batch *b = d->done < d->n ? d : u;
		size_t before = b->done;
		int r = map_batch_flush(b, bpf_map__fd(set_map(e, i)), max);

		if (r < 0) {
			job_reset(e);
			return r;
		}
		max -= b->done - before;
		if (d->done == d->n && u->done == u->n)
			e->job.set++;
	}
	if (e->job.set < SET_PROCV)
		return 0;
	slot_set(e, e->job.slot, e->job.plan, true);
	job_reset(e);
	return 1;
}

/* Completes a background slot write now (a reload needs the slots settled). */
static int job_finish(struct enforce *e)
{
	return e->job.on ? job_step(e, SIZE_MAX) : 0;
}

#define JOB_STEP_ENTRIES 4096 /* per event loop turn: a few ms */

static int on_job(struct event_source *s, uint64_t now, void *userdata)
{
	struct enforce *e = userdata;
	int r;

	if (!e->job.on)
		return 0;
	r = job_step(e, JOB_STEP_ENTRIES);
	if (r > 0)
		log_debug("Enforcement slot %u mirrors the active policy", e->gen ^ 1);
	if (r < 0)
		log_warning_errno(r,
				  "Failed to mirror the enforcement policy into slot %u, it is "
				  "rewritten at the next reload: %m",
				  e->job.slot);
	else if (r == 0)
		(void)event_source_set_time(s, now_usec(CLOCK_MONOTONIC));
	return 0;
}

/*
 * After a flip: bring the now inactive slot to the active plan in the
 * background (a few thousand entries per loop turn), so the next change is
 * a small difference written in place.
 */
static void mirror_schedule(struct enforce *e)
{
	uint32_t slot = e->gen ^ 1;
	int r;

	if (!e->plan_installed || (e->slot_known[slot] && e->slot_plan[slot] == e->plan))
		return;
	if (!e->job_source)
		return; /* enforce_attach_event_loop() schedules it */
	r = job_begin(e, slot, e->plan);
	if (r < 0) {
		log_warning_errno(r, "Failed to mirror the enforcement policy: %m");
		return;
	}
	(void)event_source_set_time(e->job_source, now_usec(CLOCK_MONOTONIC));
}

/* Clears slot bit's verdicts in procv (they belong to the policy the slot held). */
static int procv_clear(struct enforce *e, __u32 bit)
{
	struct map_batch del;
	int fd = bpf_map__fd(e->skel->maps.enf_procv), r;

	map_batch_init(&del, e, SET_PROCV, bit, true);
	r = gather_slot_keys(fd, SET_PROCV, bit, &del);
	if (r >= 0)
		r = map_batch_flush(&del, fd, SIZE_MAX);
	map_batch_done(&del);
	return r;
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

/* Writes pid's cmdline verdict into slot's half of procv. */
static int verdict_write(struct enforce *e, uint32_t slot, pid_t pid, const char *exe,
			 const char *cmdline, uid_t uid)
{
	struct proc_info pi = {
		.pid = pid,
		.uid = uid,
		.exe = (char *)exe,
		.cmdline = (char *)cmdline,
	};
	_cleanup_free_ char *unit = NULL;
	int fd = bpf_map__fd(e->skel->maps.enf_procv);
	const struct app *a;
	__u32 k = AEGIS_ENF_SLOT(slot) | (__u32)pid;

	if (e->need_unit)
		pi.unit = unit = proc_unit(pid);
	a = policy_match_app(e->policy, &pi);
	if (a && a->cmdline) {
		struct aegis_enf_procv v = { .rule = (__u32)a->index };

		return RET_NERRNO(bpf_map_update_elem(fd, &k, &v, BPF_ANY));
	}
	/* exe/path/user/unit rules decide in the kernel */
	(void)bpf_map_delete_elem(fd, &k);
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
	if (e->policy && e->plan_installed)
		r = verdict_write(e, e->gen, pid, exe ? exe : "", cmdline ? cmdline : "", uid);
	pending_clear(e, pid);
	return r;
}

void enforce_proc_exit(struct enforce *e, pid_t pid)
{
	if (!e)
		return;
	for (uint32_t slot = 0; slot < 2; slot++) {
		__u32 k = AEGIS_ENF_SLOT(slot) | (__u32)pid;

		(void)bpf_map_delete_elem(bpf_map__fd(e->skel->maps.enf_procv), &k);
	}
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
static void scan_procs(struct enforce *e, uint32_t slot)
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
		(void)verdict_write(e, slot, (pid_t)u, exe, cl, proc_uid((pid_t)u));
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
	e->job_source = event_source_free(e->job_source);
	r = event_loop_add_timer(l, /* usec= */ 0, on_recompile, e, &e->recompile_source);
	if (r < 0)
		return r;
	r = event_loop_add_timer(l, /* usec= */ 0, on_job, e, &e->job_source);
	if (r < 0)
		return r;
	/* the start's policy went into one slot: the other follows in the background */
	mirror_schedule(e);
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
	scan_procs(e, e->gen);
	e->policy = old;
}

/*
 * Writes plan into the inactive slot (the difference to what it holds, or
 * all of it), its verdicts and header, then flips to it.
 */
static int apply_plan(struct enforce *e, struct pcompile_plan *plan, struct policy *pol)
{
	uint32_t slot = e->gen ^ 1, zero = 0;
	struct aegis_enf_hdr hdr = plan->hdr;
	int r;

	r = job_finish(e); /* a background mirror: the slots settle first */
	if (r >= 0)
		r = job_begin(e, slot, plan);
	if (r >= 0)
		e->last_writes = e->job.n_writes;
	if (r >= 0)
		r = job_step(e, SIZE_MAX);
	/* verdicts: the slot's old ones belong to the policy it held */
	if (r >= 0)
		r = procv_clear(e, AEGIS_ENF_SLOT(slot));
	if (r >= 0 && pol && plan->has_cmdline) {
		struct policy *old = TAKE_PTR(e->policy);

		e->policy = pol;
		scan_procs(e, slot);
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
		/* the inactive slot may be half written: its content is unknown now */
		e->slot_plan[slot] = NULL; /* plan is the caller's */
		e->slot_known[slot] = false;
		return r;
	}
	e->gen = slot;
	e->slot_live[slot] = true;
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
	struct pcompile_plan *old;
	bool installed = true, unchanged = false;
	int r = 0;

	r = pcompile(c, &env, &plan);
	if (r < 0)
		return r;
	/* the set ids of the plan in force: unchanged sets keep their map entries */
	r = pcompile_renumber(plan, e->plan);
	if (r < 0) {
		pcompile_plan_free(plan);
		return r;
	}
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
	 * skip writing them (a large policy's entries cost ~1 us each).
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
	old = e->plan;
	if (unchanged) {
		/* same entries: what refers to the old plan holds the new one */
		for (uint32_t i = 0; i < 2; i++)
			if (e->slot_plan[i] == old)
				e->slot_plan[i] = plan;
		if (e->job.plan == old)
			e->job.plan = plan;
	} else if (e->job.on && e->job.plan == old)
		(void)job_finish(e);
	e->plan = plan;
	e->plan_installed = installed;
	e->config = c;
	plan_release(e, old);
	if (installed && !unchanged)
		mirror_schedule(e);
	/* nothing is attached until some rule blocks: no cost per connect before that */
	if (!e->attached && (plan->hdr.flags & AEGIS_ENF_H_ACTIVE)) {
		r = attach(e);
		if (r < 0)
			return log_error_errno(r, "Failed to attach enforcement to %s: %m",
					       e->cgroup_root);
	}
	e->last_apply_usec = now_usec(CLOCK_MONOTONIC) - t0;
	e->last_unchanged = unchanged || !installed;
	log_full(log_level,
		 "Enforcement policy %" PRIu64 " applied in %" PRIu64 " ms (compile %" PRIu64
		 " ms, %zu map writes%s): %zu ids, %zu rules, %zu port prefixes, %zu+%zu CIDR "
		 "prefixes",
		 e->seq, (now_usec(CLOCK_MONOTONIC) - t0) / 1000, t_compile / 1000,
		 unchanged || !installed ? (size_t)0 : e->last_writes,
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
	/* what the pinned maps hold is the earlier run's: read back before reuse */
	e->slot_known[0] = e->slot_known[1] = false;
	e->slot_live[0] = e->slot_live[1] = true;
	r = map_clear(bpf_map__fd(e->skel->maps.enf_exempt), sizeof(__u32));
	if (r < 0)
		return r;
	return 0;
}

static int enforce_start(struct enforce *e, const struct config *c)
{
	int r;

	r = cgroup2_mount_point(&e->cgroup_root);
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
	e->fence_inner_fd = RET_NERRNO(bpf_map_create(BPF_MAP_TYPE_ARRAY, "aegis_fence",
						      sizeof(__u32), sizeof(__u32), 1, NULL));
	if (e->fence_inner_fd < 0)
		return log_error_errno(e->fence_inner_fd,
				       "Failed to create the enforcement fence: %m");
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
	e->fence_inner_fd = -EBADF;
	/* fresh maps hold nothing (adopt_state() says otherwise for pinned ones) */
	e->slot_known[0] = e->slot_known[1] = true;
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
	ret->apply_usec = e->last_apply_usec;
	ret->map_writes = e->last_unchanged ? 0 : e->last_writes;
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
	job_reset(e);
	event_source_free(e->job_source);
	aegis_enforce__destroy(e->skel);
	safe_close(e->fence_inner_fd);
	safe_close(e->cgroup_fd);
	policy_free(e->policy);
	for (uint32_t i = 0; i < 2; i++)
		if (e->slot_plan[i] != e->plan && (i == 0 || e->slot_plan[1] != e->slot_plan[0]))
			pcompile_plan_free(e->slot_plan[i]);
	pcompile_plan_free(e->plan);
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
