// SPDX-License-Identifier: GPL-2.0-or-later
/* Open/configure/probe/load/attach the observation programs (see bpf-loader.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf-loader.h"
#include "log.h"
#include "macro.h"
#include "proc-cache.h"
#include "trace.skel.h"

struct bpf_loader {
	struct aegis_trace *skel;
	enum attach_mode modes[_BPF_SOURCE_MAX];
	bool accept_old; /* inet_csk_accept has the pre-6.10 4-argument signature */
	bool fast_reads; /* bpf_rdonly_cast() exists: the tracepoints' _fast variants */
	enum indirect_mode indirect; /* connects the connect source does not see */
	bool state_btf; /* the TCP state program can be tp_btf (the fallback from cgroup) */
	char *cgroup_root; /* the cgroup2 mount, for INDIRECT_CGROUP */
};

static const char *const source_names[_BPF_SOURCE_MAX] = {
	[BPF_SOURCE_EXEC] = "exec",	  [BPF_SOURCE_EXIT] = "exit",
	[BPF_SOURCE_CONNECT] = "connect", [BPF_SOURCE_ACCEPT] = "accept",
	[BPF_SOURCE_LISTEN] = "listen",	  [BPF_SOURCE_UDP_SEND] = "udp-send",
};

static const char *const mode_names[_ATTACH_MODE_MAX] = {
	[ATTACH_TRACEPOINT] = "tracepoint",
	[ATTACH_TP_BTF] = "tp_btf",
	[ATTACH_FENTRY] = "fentry",
	[ATTACH_CGROUP] = "cgroup",
};

const char *bpf_source_to_string(enum bpf_source s)
{
	return s < _BPF_SOURCE_MAX ? source_names[s] : NULL;
}

const char *attach_mode_to_string(enum attach_mode m)
{
	return m < _ATTACH_MODE_MAX ? mode_names[m] : NULL;
}

static const char *const indirect_names[_INDIRECT_MODE_MAX] = {
	[INDIRECT_TRACEPOINT] = "tracepoint",
	[INDIRECT_TP_BTF] = "tp_btf",
	[INDIRECT_CGROUP] = "cgroup",
};

const char *indirect_mode_to_string(enum indirect_mode m)
{
	return m < _INDIRECT_MODE_MAX ? indirect_names[m] : NULL;
}

static _printf_(2, 3) int libbpf_line(int level, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = log_libbpf_print(level, fmt, ap);
	va_end(ap);
	return r;
}

/* libbpf prints whole verifier logs as one message: pass them on line by line. */
static _printf_(2, 0) int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static char buf[65536];
	char *line, *save = NULL;

	if ((level == LIBBPF_DEBUG ? LOG_DEBUG : LOG_INFO) > log_get_max_level())
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		libbpf_line(level, "%s", line);
	return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct aegis_trace *, aegis_trace__destroy);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct btf *, btf__free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct bpf_loader *, bpf_loader_free);

/*
 * Can a BTF-typed tracing program (tp_btf or fexit) load and attach at this
 * BTF type id? Loads "return 0" and attaches it for a moment, as systemd's
 * bpf_*_supported() do: lockdown refuses the load, kernels without
 * trampolines refuse the attach.
 */
static int probe_tracing(__s32 btf_id, enum bpf_attach_type type)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type,
		    .attach_btf_id = btf_id);
	_cleanup_close_ int prog = -EBADF, link = -EBADF;

	if (btf_id < 0)
		return btf_id;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, ARRAY_SIZE(insns), &opts);
	if (prog < 0)
		return -errno;
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link < 0)
		return -errno;
	return 0;
}

static int probe_tp_btf(const struct btf *btf, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return probe_tracing(btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF), BPF_TRACE_RAW_TP);
}

static int probe_fexit(const struct btf *btf, const char *func)
{
	return probe_tracing(btf__find_by_name_kind(btf, func, BTF_KIND_FUNC), BPF_TRACE_FEXIT);
}

/* Number of parameters of a kernel function per BTF, or < 0. */
static int func_arity(const struct btf *btf, const char *func)
{
	const struct btf_type *t;
	__s32 id;

	id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	if (id < 0)
		return id;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_func_proto(t))
		return -EINVAL;
	return btf_vlen(t);
}

/* Whether the BTF enum type has an enumerator of that name. */
static bool btf_enum_has(const struct btf *btf, const char *type, const char *name)
{
	__s32 id = btf__find_by_name_kind(btf, type, BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;

	for (int i = 0; t && i < btf_vlen(t); i++)
		if (streq(btf__name_by_offset(btf, btf_enum(t)[i].name_off), name))
			return true;
	return false;
}

/*
 * The cgroup observer can be the connect source's entry when it can tell
 * which syscall it runs in (trace.bpf.c current_syscall_nr()).
 */
static bool syscall_nr_readable(const struct btf *btf)
{
#if defined(__x86_64__) || defined(__aarch64__)
	return btf_enum_has(btf, "bpf_func_id", "BPF_FUNC_task_pt_regs");
#else
	return false;
#endif
}

static void probe_modes(struct bpf_loader *l, bool no_fentry)
{
	_cleanup_(btf__freep) struct btf *btf = NULL;
	int n;

	btf = btf__load_vmlinux_btf();
	if (!btf) {
		log_debug_errno(-errno, "No kernel BTF, using tracepoints: %m");
		return;
	}
	/* 6.2+: kfuncs in every program type, direct reads through bpf_rdonly_cast() */
	l->fast_reads = btf__find_by_name_kind(btf, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
	if (probe_tp_btf(btf, "sched_process_exec") >= 0)
		l->modes[BPF_SOURCE_EXEC] = ATTACH_TP_BTF;
	if (probe_tp_btf(btf, "sched_process_exit") >= 0)
		l->modes[BPF_SOURCE_EXIT] = ATTACH_TP_BTF;
	/* connects outside connect(2) (io_uring, TCP Fast Open), whatever the connect mode */
	l->state_btf = probe_tp_btf(btf, "inet_sock_set_state") >= 0;
	if (cgroup2_mount_point(&l->cgroup_root) >= 0)
		l->indirect = INDIRECT_CGROUP;
	else if (l->state_btf)
		l->indirect = INDIRECT_TP_BTF;
	if (no_fentry || probe_fexit(btf, "__sys_connect_file") < 0) {
		/* no trampolines (or lockdown): the other fexit probes would fail alike */
		log_debug("fexit not available, tracepoints for sockets");
		if (l->indirect == INDIRECT_CGROUP && syscall_nr_readable(btf)) {
			l->modes[BPF_SOURCE_CONNECT] = ATTACH_CGROUP;
			l->modes[BPF_SOURCE_UDP_SEND] = ATTACH_CGROUP;
		}
		return;
	}
	l->modes[BPF_SOURCE_CONNECT] = ATTACH_FENTRY;
	n = func_arity(btf, "inet_csk_accept");
	if ((n == 2 || n == 4) && probe_fexit(btf, "inet_csk_accept") >= 0) {
		l->modes[BPF_SOURCE_ACCEPT] = ATTACH_FENTRY;
		l->accept_old = n == 4;
	}
	if (probe_fexit(btf, "inet_listen") >= 0)
		l->modes[BPF_SOURCE_LISTEN] = ATTACH_FENTRY;
	if (probe_fexit(btf, "udp_sendmsg") >= 0 && probe_fexit(btf, "udpv6_sendmsg") >= 0)
		l->modes[BPF_SOURCE_UDP_SEND] = ATTACH_FENTRY;
}

static void set_autoload(struct aegis_trace *s, const struct bpf_loader *l)
{
	const enum attach_mode *m = l->modes;
	bool tp, exit_tp;

#define AUTOLOAD(prog, on) bpf_program__set_autoload(s->progs.prog, on)
	AUTOLOAD(tp_exec, m[BPF_SOURCE_EXEC] == ATTACH_TRACEPOINT);
	AUTOLOAD(btf_exec, m[BPF_SOURCE_EXEC] == ATTACH_TP_BTF);
	AUTOLOAD(tp_exit, m[BPF_SOURCE_EXIT] == ATTACH_TRACEPOINT);
	AUTOLOAD(btf_exit, m[BPF_SOURCE_EXIT] == ATTACH_TP_BTF);

	tp = m[BPF_SOURCE_CONNECT] == ATTACH_TRACEPOINT;
	AUTOLOAD(tp_connect_enter, tp && !l->fast_reads);
	AUTOLOAD(tp_connect_enter_fast, tp && l->fast_reads);
	/* ATTACH_CGROUP: the cgroup observer is the entry half */
	AUTOLOAD(tp_connect_exit, m[BPF_SOURCE_CONNECT] != ATTACH_FENTRY);
	AUTOLOAD(fexit_connect, m[BPF_SOURCE_CONNECT] == ATTACH_FENTRY);
	AUTOLOAD(cg_connect4, l->indirect == INDIRECT_CGROUP);
	AUTOLOAD(cg_connect6, l->indirect == INDIRECT_CGROUP);
	AUTOLOAD(btf_tcp_state, l->indirect == INDIRECT_TP_BTF);
	AUTOLOAD(tp_tcp_state, l->indirect == INDIRECT_TRACEPOINT);

	tp = m[BPF_SOURCE_ACCEPT] == ATTACH_TRACEPOINT;
	AUTOLOAD(tp_accept_exit, tp && !l->fast_reads);
	AUTOLOAD(tp_accept4_exit, tp && !l->fast_reads);
	AUTOLOAD(tp_accept_exit_fast, tp && l->fast_reads);
	AUTOLOAD(tp_accept4_exit_fast, tp && l->fast_reads);
	AUTOLOAD(fexit_accept, !tp && !l->accept_old);
	AUTOLOAD(fexit_accept_old, !tp && l->accept_old);

	tp = m[BPF_SOURCE_LISTEN] == ATTACH_TRACEPOINT;
	AUTOLOAD(tp_listen_enter, tp);
	AUTOLOAD(tp_listen_exit, tp);
	AUTOLOAD(fexit_listen, !tp);

	tp = m[BPF_SOURCE_UDP_SEND] == ATTACH_TRACEPOINT;
	/* ATTACH_CGROUP: the cgroup send observer is the entry half */
	exit_tp = m[BPF_SOURCE_UDP_SEND] != ATTACH_FENTRY;
	AUTOLOAD(tp_sendto_enter, tp && !l->fast_reads);
	AUTOLOAD(tp_sendto_enter_fast, tp && l->fast_reads);
	AUTOLOAD(tp_sendto_exit, exit_tp);
	AUTOLOAD(tp_sendmsg_enter, tp && !l->fast_reads);
	AUTOLOAD(tp_sendmsg_enter_fast, tp && l->fast_reads);
	AUTOLOAD(tp_sendmsg_exit, exit_tp);
	AUTOLOAD(tp_sendmmsg_enter, tp && !l->fast_reads);
	AUTOLOAD(tp_sendmmsg_enter_fast, tp && l->fast_reads);
	AUTOLOAD(tp_sendmmsg_exit, exit_tp);
	AUTOLOAD(cg_sendmsg4, m[BPF_SOURCE_UDP_SEND] == ATTACH_CGROUP);
	AUTOLOAD(cg_sendmsg6, m[BPF_SOURCE_UDP_SEND] == ATTACH_CGROUP);
	AUTOLOAD(fexit_udp_send, !exit_tp);
	AUTOLOAD(fexit_udp6_send, !exit_tp);
#undef AUTOLOAD
}

/*
 * The cgroup observer or the TCP state program reports connects the connect
 * source does not see. With tracepoints, it skips the syscalls whose exit
 * programs report connects (connect(2); sendto/sendmsg/sendmmsg with
 * MSG_FASTOPEN). fexit on __sys_connect_file sees io_uring connects too: then
 * only Fast Open is left.
 */
static void set_state_rodata(struct aegis_trace *s, const struct bpf_loader *l)
{
	bool send_tp = l->modes[BPF_SOURCE_UDP_SEND] != ATTACH_FENTRY; /* the exit programs */

	s->rodata->fastopen_only = l->modes[BPF_SOURCE_CONNECT] == ATTACH_FENTRY;
	s->rodata->hook_connect = l->modes[BPF_SOURCE_CONNECT] == ATTACH_CGROUP;
	s->rodata->hook_send = l->modes[BPF_SOURCE_UDP_SEND] == ATTACH_CGROUP;
	s->rodata->nr_connect = s->rodata->fastopen_only ? -1 : SYS_connect;
	s->rodata->nr_sendto = send_tp ? SYS_sendto : -1;
	s->rodata->nr_sendmsg = send_tp ? SYS_sendmsg : -1;
	s->rodata->nr_sendmmsg = send_tp ? SYS_sendmmsg : -1;
}

/* Ring buffer sizes must be a power of two and a multiple of the page size. */
static uint64_t ringbuf_size_fixup(uint64_t size)
{
	uint64_t s = 4096;

	if (!size)
		return 0;
	while (s < size && s < (1ULL << 31))
		s <<= 1;
	return s;
}

/*
 * The length of a jiffy: the resolution of the coarse clocks is the tick
 * (TICK_NSEC = 1e9 / HZ). 0 (dedup reads ktime instead) if it looks wrong.
 */
static uint64_t tick_ns(void)
{
	struct timespec ts;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &ts) < 0 || ts.tv_sec || ts.tv_nsec < 100000 ||
	    ts.tv_nsec > 100000000)
		return 0;
	return ts.tv_nsec;
}

/*
 * Links of the cgroup observers in use on the cgroup2 root (and, through it,
 * on every cgroup below): libbpf does not auto-attach cgroup programs.
 */
static int attach_cgroup_observers(struct aegis_trace *s, const struct bpf_loader *l)
{
	bool send = l->modes[BPF_SOURCE_UDP_SEND] == ATTACH_CGROUP;
	const struct {
		struct bpf_program *prog;
		struct bpf_link **link;
		bool on;
	} o[] = {
		{ s->progs.cg_connect4, &s->links.cg_connect4, true },
		{ s->progs.cg_connect6, &s->links.cg_connect6, true },
		{ s->progs.cg_sendmsg4, &s->links.cg_sendmsg4, send },
		{ s->progs.cg_sendmsg6, &s->links.cg_sendmsg6, send },
	};
	_cleanup_close_ int fd = -EBADF;

	if (l->indirect != INDIRECT_CGROUP)
		return 0; /* udp-send=cgroup comes with it */
	fd = open(l->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(o); i++) {
		if (!o[i].on)
			continue;
		*o[i].link = bpf_program__attach_cgroup(o[i].prog, fd);
		if (!*o[i].link)
			return -errno;
	}
	return 0;
}

static int trace_open_load_attach(const struct bpf_loader_opts *o, const struct bpf_loader *l,
				  struct aegis_trace **ret)
{
	_cleanup_(aegis_trace__destroyp) struct aegis_trace *s = NULL;
	uint64_t rb_size = ringbuf_size_fixup(o->ringbuf_size);
	int r;

	s = aegis_trace__open();
	if (!s)
		return -errno;
	s->rodata->dedup_ns = o->dedup_ns;
	if (rb_size) {
		r = bpf_map__set_max_entries(s->maps.rb, rb_size);
		if (r < 0)
			return r;
	} else {
		rb_size = bpf_map__max_entries(s->maps.rb);
	}
	/* wake the consumer early only once a quarter of the buffer is pending */
	s->rodata->wakeup_bytes = rb_size / 4;
	s->rodata->jiffy_ns = tick_ns();
	set_state_rodata(s, l);
	set_autoload(s, l);
	r = aegis_trace__load(s);
	if (r < 0)
		return r;
	r = aegis_trace__attach(s);
	if (r < 0)
		return r;
	r = attach_cgroup_observers(s, l);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

static bool modes_all_baseline(const struct bpf_loader *l)
{
	if (l->indirect != INDIRECT_TRACEPOINT)
		return false;
	for (int i = 0; i < _BPF_SOURCE_MAX; i++)
		if (l->modes[i] != ATTACH_TRACEPOINT)
			return false;
	return true;
}

/*
 * Classic tracepoints are attached by the id under tracefs. systemd mounts
 * it (sys-kernel-tracing.mount); minimal containers and VMs may not.
 */
static void ensure_tracefs(void)
{
	if (access("/sys/kernel/tracing/events", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		log_debug_errno(-errno, "Failed to mount tracefs on /sys/kernel/tracing: %m");
	else
		log_debug("Mounted tracefs on /sys/kernel/tracing");
}

int bpf_loader_new(const struct bpf_loader_opts *opts, struct bpf_loader **ret)
{
	_cleanup_(bpf_loader_freep) struct bpf_loader *l = NULL;
	char buf[256];
	int r;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	libbpf_set_print(libbpf_print);
	/* RLIMIT_MEMLOCK: libbpf >= 1.0 raises it itself on kernels without memcg accounting */
	ensure_tracefs();
	if (!opts->force_tracepoints)
		probe_modes(l, opts->no_fentry);
	r = trace_open_load_attach(opts, l, &l->skel);
	if (r < 0 && l->indirect == INDIRECT_CGROUP) {
		log_debug_errno(
			r,
			"Loading or attaching the connect observer (%s) failed, using the TCP "
			"state tracepoint: %m",
			l->cgroup_root);
		l->indirect = l->state_btf ? INDIRECT_TP_BTF : INDIRECT_TRACEPOINT;
		for (int i = 0; i < _BPF_SOURCE_MAX; i++)
			if (l->modes[i] == ATTACH_CGROUP)
				l->modes[i] = ATTACH_TRACEPOINT;
		r = trace_open_load_attach(opts, l, &l->skel);
	}
	if (r < 0 && l->fast_reads) {
		log_debug_errno(r, "Loading with direct reads failed, retrying without: %m");
		l->fast_reads = false;
		r = trace_open_load_attach(opts, l, &l->skel);
	}
	if (r < 0 && !modes_all_baseline(l)) {
		log_debug_errno(r, "Loading with %s failed, falling back to tracepoints: %m",
				bpf_loader_modes_to_string(l, buf, sizeof(buf)));
		memset(l->modes, 0, sizeof(l->modes));
		l->accept_old = false;
		l->indirect = INDIRECT_TRACEPOINT;
		r = trace_open_load_attach(opts, l, &l->skel);
	}
	if (r < 0)
		return r;
	log_debug("BPF attach modes: %s%s", bpf_loader_modes_to_string(l, buf, sizeof(buf)),
		  l->fast_reads ? " (tracepoints with direct reads)" : "");
	*ret = TAKE_PTR(l);
	return 0;
}

void bpf_loader_detach(struct bpf_loader *l)
{
	aegis_trace__detach(l->skel);
}

struct bpf_loader *bpf_loader_free(struct bpf_loader *l)
{
	if (!l)
		return NULL;
	aegis_trace__destroy(l->skel);
	free(l->cgroup_root);
	free(l);
	return NULL;
}

enum attach_mode bpf_loader_mode(const struct bpf_loader *l, enum bpf_source s)
{
	return s < _BPF_SOURCE_MAX ? l->modes[s] : ATTACH_TRACEPOINT;
}

char *bpf_loader_modes_to_string(const struct bpf_loader *l, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < _BPF_SOURCE_MAX && n < size; i++)
		n += snprintf(buf + n, size - n, "%s%s=%s", i ? " " : "", source_names[i],
			      mode_names[l->modes[i]]);
	if (n < size)
		snprintf(buf + n, size - n, " connect-indirect=%s", indirect_names[l->indirect]);
	return buf;
}

enum indirect_mode bpf_loader_indirect_mode(const struct bpf_loader *l)
{
	return l->indirect;
}

int bpf_loader_ringbuf_fd(const struct bpf_loader *l)
{
	return bpf_map__fd(l->skel->maps.rb);
}

int bpf_loader_counters_fd(const struct bpf_loader *l)
{
	return bpf_map__fd(l->skel->maps.counters);
}

int bpf_loader_read_counters(const struct bpf_loader *l, uint64_t ret[AEGIS_CNT_MAX])
{
	int ncpus = libbpf_num_possible_cpus();
	_cleanup_free_ uint64_t *v = NULL;

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 i = 0; i < AEGIS_CNT_MAX; i++) {
		if (bpf_map_lookup_elem(bpf_loader_counters_fd(l), &i, v) < 0)
			return -errno;
		ret[i] = 0;
		for (int c = 0; c < ncpus; c++)
			ret[i] += v[c];
	}
	return 0;
}

uint64_t bpf_loader_missed(const struct bpf_loader *l)
{
	struct bpf_program *prog;
	uint64_t n = 0;

	bpf_object__for_each_program(prog, l->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			n += info.recursion_misses;
	}
	return n;
}

/* Mirrors struct dedup_key/dedup_val in trace.bpf.c (sizes checked against the map). */
struct dedup_key_mirror {
	uint64_t start_time;
	uint32_t tgid;
	uint8_t proto, direction, family, pad;
	uint8_t addr[16];
	uint16_t port, pad2;
	uint32_t pad3;
};
struct dedup_val_mirror {
	uint64_t last_ns;
	uint64_t suppressed;
};

int bpf_loader_dedup_pending(const struct bpf_loader *l, struct dedup_pending *ret, size_t n)
{
	const struct bpf_map *map = l->skel->maps.dedup;
	struct dedup_key_mirror k, next;
	struct dedup_val_mirror v;
	int fd = bpf_map__fd(map), r;
	size_t used = 0;
	void *prev = NULL;

	if (bpf_map__key_size(map) != sizeof(k) || bpf_map__value_size(map) != sizeof(v))
		return -EINVAL;
	while ((r = bpf_map_get_next_key(fd, prev, &next)) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v) < 0 || !v.suppressed)
			continue;
		for (size_t i = 0; i <= used && i < n; i++) {
			if (i == used) {
				ret[used++] = (struct dedup_pending){ .pid = k.tgid };
			} else if (ret[i].pid != k.tgid) {
				continue;
			}
			ret[i].folded += v.suppressed;
			break;
		}
	}
	return r == -ENOENT ? (int)used : r;
}
