// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Observation programs: exec/exit, outbound connect (TCP/UDP, v4/v6; also
 * io_uring and TCP Fast Open, through the cgroup connect observer or the TCP
 * state program), accept, listen, and UDP sends to new destinations. Records
 * go to one ring buffer (formats in aegis.h).
 *
 * Every event source has a classic-tracepoint variant (the complete baseline:
 * some kernels have no kprobes and lockdown refuses fentry) and, where the
 * kernel offers it, a cheaper variant (tp_btf, fexit). Userspace (bpf-loader.c)
 * probes at start-up and disables the losers with bpf_program__set_autoload().
 * Entry points are thin; the logic is in the always_inline helpers.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "aegis.h"
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Tunables, set by userspace before load. */
const volatile __u64 dedup_ns = 0; /* in-kernel dedup window; 0 disables */
const volatile __u64 wakeup_bytes = 0; /* force a wakeup past this much unread data; 0 = always */
const volatile __u64 jiffy_ns = 0; /* length of a jiffy (1/HZ) for the dedup clock; 0 = use ktime */
/*
 * The cgroup connect observer or the TCP state program (CLOSE -> SYN_SENT):
 * connects that bypass the connect source (io_uring, TCP Fast Open). Syscall
 * numbers of this architecture, from <sys/syscall.h>: with tracepoints,
 * connects made inside these syscalls are reported (or deduped) by their exit
 * program. fastopen_only: the connect
 * source is fexit/__sys_connect_file (it sees io_uring too), report only Fast
 * Open connects (made by tcp_sendmsg(), with tp->fastopen_req set).
 */
const volatile __s64 nr_connect = -1;
const volatile __s64 nr_sendto = -1;
const volatile __s64 nr_sendmsg = -1;
const volatile __s64 nr_sendmmsg = -1;
const volatile bool fastopen_only = false;
/*
 * hook_connect: the cgroup observer is the connect source's entry half: inside
 * the syscalls above it stashes the connect (the kernel's copy of the address)
 * for their exit programs, instead of sys_enter_connect reading the address
 * from user memory, which a racing thread can change before the kernel
 * copies it. Needs the syscall number (bpf_task_pt_regs(), 5.15+).
 */
const volatile bool hook_connect = false;
/*
 * hook_send: the same for UDP sends: the cgroup sendmsg4/6 observer is the
 * udp-send source's entry half (one run per datagram with an address, every
 * message of a sendmmsg(), io_uring sends too).
 */
const volatile bool hook_send = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* resized from config global.ringbuf_size */
} rb SEC(".maps");

/* Scratch for building the exe path backwards (2x so every masked write stays in bounds). */
struct path_buf {
	char buf[2 * AEGIS_PATH_MAX];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_buf);
} scratch SEC(".maps");

/* The exec record is built here, then copied into the ring cut after argv_len. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct aegis_rec_exec);
} exec_scratch SEC(".maps");

enum pending_kind {
	PEND_CONNECT = 1,
	PEND_SEND,
	PEND_LISTEN,
};

/* Syscall entry state, per thread, for the tracepoint variants' exit half. */
struct pending {
	__u64 sk;
	struct endpoint dst;
	__u32 suppressed;
	__u8 kind;
	__u8 proto;
	__u16 family; /* of the socket */
};
/* LRU: an entry whose exit never came (it should not happen) cannot fill the map for good. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pending);
} pending SEC(".maps");

/*
 * Entries in pending, roughly: almost always 0, since only events that pass
 * the dedup are stashed. The exit programs (every connect, and every send(),
 * TCP included) then skip the hash lookup. An entry whose exit never came
 * keeps it above 0: that only costs the lookup again.
 */
__u64 pending_n = 0;

/* In-kernel dedup: (process, proto, direction, remote addr, port) -> window state. */
struct dedup_key {
	__u64 start_time;
	__u32 tgid;
	__u8 proto;
	__u8 direction;
	__u8 family;
	__u8 pad;
	__u8 addr[16];
	__u16 port;
	__u16 pad2;
	__u32 pad3;
};
struct dedup_val {
	__u64 last_ns; /* when the last record for this key was emitted */
	__u64 suppressed; /* repeats since then */
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct dedup_key);
	__type(value, struct dedup_val);
} dedup SEC(".maps");

/*
 * UDP destinations a socket already sent to: (socket inode, addr, port); the
 * cgroup observer has the socket cookie instead of the inode (one kind per run).
 */
struct sock_dst_key {
	__u64 ino;
	struct endpoint dst;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct sock_dst_key);
	__type(value, __u8);
} udp_seen SEC(".maps");

/* Sockets already reported as listening (fexit variant), by socket inode. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} listen_seen SEC(".maps");

/* A connection event before it becomes a record. */
struct conn {
	struct endpoint src;
	struct endpoint dst;
	__s32 result;
	__u32 suppressed;
	__u8 direction;
	__u8 proto;
	__u8 flags;
};

/*
 * Batched wakeups: waking the consumer per record costs more than the
 * record itself; userspace polls on a short timer, so only wake it early when
 * a backlog builds up.
 */
static __always_inline __u64 rb_flags(void)
{
	if (!wakeup_bytes)
		return 0;
	return bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP :
									   BPF_RB_NO_WAKEUP;
}

static __always_inline void *rb_reserve(__u64 size)
{
	void *p = bpf_ringbuf_reserve(&rb, size, 0);

	if (!p)
		cnt_inc(AEGIS_CNT_DROPS);
	return p;
}

static __always_inline void rb_submit(void *p)
{
	bpf_ringbuf_submit(p, rb_flags());
	cnt_inc(AEGIS_CNT_EVENTS);
}

/*
 * True when this event repeats a key seen within dedup_ns: it is counted and
 * folded. Otherwise the window restarts and *ret_suppressed gets the repeats
 * folded since the last record.
 */
static __always_inline bool dedup_fold(__u8 proto, __u8 direction, const struct endpoint *remote,
				       __u32 *ret_suppressed)
{
	struct dedup_key k = {};
	struct dedup_val *v, nv = {};
	__u64 now;

	*ret_suppressed = 0;
	if (!dedup_ns)
		return false;
	k.start_time = current_start_time();
	k.tgid = bpf_get_current_pid_tgid() >> 32;
	k.proto = proto;
	k.direction = direction;
	k.family = remote->family;
	__builtin_memcpy(k.addr, remote->addr, 16);
	k.port = remote->port;
	/*
	 * The window is seconds long: jiffies are precise enough and cost a load
	 * instead of a clock read (~30 ns here, on every fold).
	 */
	now = jiffy_ns ? bpf_jiffies64() * jiffy_ns : bpf_ktime_get_ns();
	v = bpf_map_lookup_elem(&dedup, &k);
	if (v && now - v->last_ns < dedup_ns) {
		__sync_fetch_and_add(&v->suppressed, 1);
		cnt_inc(AEGIS_CNT_DEDUP);
		return true;
	}
	if (v) {
		/* not atomic against a concurrent repeat: at worst one count is lost */
		*ret_suppressed = v->suppressed;
		v->suppressed = 0;
		v->last_ns = now;
		return false;
	}
	nv.last_ns = now;
	bpf_map_update_elem(&dedup, &k, &nv, BPF_ANY);
	return false;
}

static __always_inline int emit_conn(const struct conn *c)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct aegis_rec_conn *r;

	r = rb_reserve(sizeof(*r));
	if (!r)
		return 0;
	r->type = AEGIS_REC_CONN;
	r->direction = c->direction;
	r->proto = c->proto;
	r->family = c->dst.family ? c->dst.family : c->src.family;
	r->flags = c->flags;
	if (dentry_unlinked(BPF_CORE_READ(task, mm, exe_file, f_path.dentry)))
		r->flags |= AEGIS_CONN_EXE_DELETED;
	r->ts = bpf_ktime_get_boot_ns();
	fill_task(&r->task, task);
	__builtin_memcpy(r->saddr, c->src.addr, 16);
	__builtin_memcpy(r->daddr, c->dst.addr, 16);
	r->sport = c->src.port;
	r->dport = c->dst.port;
	r->result = c->result;
	r->suppressed = c->suppressed;
	r->pad = 0;
	rb_submit(r);
	return 0;
}

/* ---- exec / exit ---------------------------------------------------------------------- */

/*
 * Absolute path of f, walked from the dentry up across mounts (as d_path()
 * does, without the chroot check) into rec->path.
 */
static __always_inline void exe_path(struct aegis_rec_exec *rec, struct file *f)
{
	struct path_buf *pb;
	struct dentry *d, *leaf, *root, *parent;
	struct vfsmount *vmnt;
	struct mount *mnt, *mp;
	__u32 zero = 0, pos = AEGIS_PATH_MAX - 1, len;
	bool complete = false;
	struct qstr name;

	rec->path[0] = 0;
	rec->path_len = 0;
	pb = bpf_map_lookup_elem(&scratch, &zero);
	if (!pb || !f)
		return;
	leaf = d = BPF_CORE_READ(f, f_path.dentry);
	vmnt = BPF_CORE_READ(f, f_path.mnt);
	mnt = container_of(vmnt, struct mount, mnt);
	for (int i = 0; i < AEGIS_PATH_DEPTH; i++) {
		root = BPF_CORE_READ(vmnt, mnt_root);
		parent = BPF_CORE_READ(d, d_parent);
		if (d == root || d == parent) {
			mp = BPF_CORE_READ(mnt, mnt_parent);
			if (d != root || mnt == mp) {
				complete = true;
				break;
			}
			/* crossing a mount point: continue from where it is mounted */
			d = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mp;
			vmnt = &mp->mnt;
			continue;
		}
		name = BPF_CORE_READ(d, d_name);
		len = name.len & (AEGIS_PATH_MAX - 1);
		if (len + 1 > pos)
			break;
		pos -= len + 1;
		pos &= AEGIS_PATH_MAX - 1;
		pb->buf[pos] = '/';
		bpf_probe_read_kernel(&pb->buf[pos + 1], len, name.name);
		d = parent;
	}
	if (!complete)
		rec->flags |= AEGIS_EXEC_PATH_TRUNC;
	if (dentry_unlinked(leaf))
		rec->flags |= AEGIS_EXEC_EXE_DELETED;
	len = (AEGIS_PATH_MAX - 1 - pos) & (AEGIS_PATH_MAX - 1);
	if (!len) {
		rec->path[0] = '/';
		rec->path[1] = 0;
		rec->path_len = 1;
		return;
	}
	bpf_probe_read_kernel(rec->path, len, &pb->buf[pos & (AEGIS_PATH_MAX - 1)]);
	rec->path[len] = 0;
	rec->path_len = len;
}

static __always_inline void exec_argv(struct aegis_rec_exec *rec, struct mm_struct *mm)
{
	unsigned long start = BPF_CORE_READ(mm, arg_start), end = BPF_CORE_READ(mm, arg_end);
	__u64 len = end > start ? end - start : 0;

	if (len > AEGIS_ARGV_MAX) {
		len = AEGIS_ARGV_MAX;
		rec->flags |= AEGIS_EXEC_ARGV_TRUNC;
	}
	rec->argv_len = 0;
	if (!len || bpf_probe_read_user(rec->argv, len, (void *)start) < 0)
		return;
	rec->argv_len = len;
	/* a cut argument still ends in NUL */
	if (rec->flags & AEGIS_EXEC_ARGV_TRUNC)
		rec->argv[AEGIS_ARGV_MAX - 1] = 0;
}

static __always_inline int handle_exec(const char *filename)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	struct aegis_rec_exec *rec;
	__u32 zero = 0;
	__u64 size;
	long n;

	rec = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!rec)
		return 0;
	rec->type = AEGIS_REC_EXEC;
	rec->flags = 0;
	rec->ts = bpf_ktime_get_boot_ns();
	fill_task(&rec->task, task);
	rec->pad = 0;
	n = bpf_probe_read_kernel_str(rec->filename, sizeof(rec->filename), filename);
	rec->filename_len = n > 0 ? n - 1 : 0;
	if (n <= 0)
		rec->filename[0] = 0;
	exe_path(rec, BPF_CORE_READ(mm, exe_file));
	exec_argv(rec, mm);
	/* only the argv bytes used travel: most records are ~1.2 KiB, not 5 KiB */
	size = offsetof(struct aegis_rec_exec, argv) + ((rec->argv_len + 7) & ~7U);
	if (size > sizeof(*rec))
		size = sizeof(*rec);
	if (bpf_ringbuf_output(&rb, rec, size, rb_flags()) < 0) {
		cnt_inc(AEGIS_CNT_DROPS);
		return 0;
	}
	cnt_inc(AEGIS_CNT_EVENTS);
	return 0;
}

static __always_inline int handle_exit(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct aegis_rec_exit *rec;

	/* only when the last thread of the group exits (signal->live dropped to 0) */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	rec = rb_reserve(sizeof(*rec));
	if (!rec)
		return 0;
	rec->type = AEGIS_REC_EXIT;
	rec->exit_code = BPF_CORE_READ(task, exit_code);
	rec->ts = bpf_ktime_get_boot_ns();
	fill_task(&rec->task, task);
	rb_submit(rec);
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int tp_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	return handle_exec((const char *)ctx + (ctx->__data_loc_filename & 0xFFFF));
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(btf_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	return handle_exec(BPF_CORE_READ(bprm, filename));
}

SEC("tracepoint/sched/sched_process_exit")
int tp_exit(void *ctx)
{
	return handle_exit();
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(btf_exit, struct task_struct *p)
{
	return handle_exit();
}

/* ---- connect / UDP send / listen: tracepoint variants (enter stashes, exit emits) ---- */

/*
 * fast: the _fast program variants, loaded where bpf_rdonly_cast() exists
 * (common.bpf.h); a compile-time constant in each program.
 */
static __always_inline int fd_inet_sock(int fd, bool known_socket, bool fast,
					struct inet_sock_ref *ret)
{
	if (fast)
		return current_fd_inet_sock_fast(fd, known_socket, ret);
	return current_fd_inet_sock(fd, known_socket, ret);
}

static __always_inline int stash(__u8 kind, const struct inet_sock_ref *ref,
				 const struct endpoint *dst, __u32 suppressed)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending p = {};

	p.sk = (__u64)ref->sk;
	p.dst = *dst;
	p.suppressed = suppressed;
	p.kind = kind;
	p.proto = ref->proto;
	p.family = ref->family;
	if (bpf_map_update_elem(&pending, &tid, &p, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&pending_n, 1);
	else
		bpf_map_update_elem(&pending, &tid, &p, BPF_ANY);
	return 0;
}

static __always_inline int connect_enter(int fd, const void *uaddr, __u32 addrlen, bool fast)
{
	struct inet_sock_ref ref;
	struct endpoint dst;
	__u32 suppressed;

	if (endpoint_from_sockaddr(&dst, uaddr, addrlen, true) < 0)
		return 0;
	if (fd_inet_sock(fd, /* known_socket= */ false, fast, &ref) < 0)
		return 0;
	if (dedup_fold(ref.proto, AEGIS_DIR_OUT, &dst, &suppressed))
		return 0;
	return stash(PEND_CONNECT, &ref, &dst, suppressed);
}

#define AEGIS_MSG_FASTOPEN 0x20000000

/*
 * Unconnected-socket sends: one record per (socket, destination), then process
 * dedup. A TCP send with an address and MSG_FASTOPEN connects (TCP Fast Open):
 * reported as a connect, with the send's result.
 */
static __always_inline int send_enter(int fd, const void *uaddr, __u32 addrlen, __u32 flags,
				      bool fast)
{
	struct inet_sock_ref ref;
	struct sock_dst_key k = {};
	struct inode *inode;
	__u32 suppressed;
	__u8 one = 1;

	if (!uaddr || endpoint_from_sockaddr(&k.dst, uaddr, addrlen, true) < 0)
		return 0;
	if (fd_inet_sock(fd, /* known_socket= */ false, fast, &ref) < 0)
		return 0;
	if (ref.proto == IPPROTO_TCP && (flags & AEGIS_MSG_FASTOPEN)) {
		if (hook_connect)
			return 0; /* the cgroup observer stashes the connect, if one happens */
		if (dedup_fold(IPPROTO_TCP, AEGIS_DIR_OUT, &k.dst, &suppressed))
			return 0;
		return stash(PEND_CONNECT, &ref, &k.dst, suppressed);
	}
	if (ref.proto != IPPROTO_UDP)
		return 0;
	inode = ref.inode;
	if (fast)
		k.ino = inode->i_ino;
	else
		k.ino = BPF_CORE_READ(inode, i_ino);
	if (bpf_map_lookup_elem(&udp_seen, &k))
		return 0;
	bpf_map_update_elem(&udp_seen, &k, &one, BPF_ANY);
	if (dedup_fold(IPPROTO_UDP, AEGIS_DIR_OUT, &k.dst, &suppressed))
		return 0;
	return stash(PEND_SEND, &ref, &k.dst, suppressed);
}

static __always_inline int sendmsg_enter(int fd, const struct user_msghdr *umsg, __u32 flags,
					 bool fast)
{
	struct user_msghdr m;

	if (!umsg || bpf_probe_read_user(&m, sizeof(m), umsg) < 0)
		return 0;
	return send_enter(fd, m.msg_name, m.msg_namelen, flags, fast);
}

static __always_inline int listen_enter(int fd)
{
	struct inet_sock_ref ref;
	struct endpoint none = {};
	struct sock *sk;

	if (current_fd_inet_sock(fd, /* known_socket= */ false, &ref) < 0 ||
	    ref.proto != IPPROTO_TCP)
		return 0;
	/* listen() on a listening socket only changes the backlog */
	sk = ref.sk;
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == AEGIS_TCP_LISTEN)
		return 0;
	return stash(PEND_LISTEN, &ref, &none, 0);
}

static __always_inline int pending_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct endpoint remote;
	struct pending *p;
	struct conn c = {};

	if (!pending_n)
		return 0;
	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return 0;
	c.proto = p->proto;
	c.suppressed = p->suppressed;
	c.flags = AEGIS_CONN_RESULT_VALID;
	c.result = ret < 0 ? ret : 0;
	sock_endpoints((struct sock *)p->sk, p->family, &c.src, &remote);
	if (p->kind == PEND_LISTEN) {
		if (ret < 0)
			goto end;
		c.direction = AEGIS_DIR_LISTEN;
		c.dst = c.src;
		__builtin_memset(&c.src, 0, sizeof(c.src));
	} else {
		c.direction = AEGIS_DIR_OUT;
		c.dst = p->dst;
		/* a v6 socket bound to :: sending to a v4-mapped peer: report the source as v4 */
		if (c.src.family != c.dst.family)
			c.src.family = c.dst.family;
	}
	emit_conn(&c);
end:
	if (bpf_map_delete_elem(&pending, &tid) == 0)
		__sync_fetch_and_sub(&pending_n, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int tp_connect_enter(struct trace_event_raw_sys_enter *ctx)
{
	return connect_enter(ctx->args[0], (const void *)ctx->args[1], ctx->args[2], false);
}

SEC("tracepoint/syscalls/sys_enter_connect")
int tp_connect_enter_fast(struct trace_event_raw_sys_enter *ctx)
{
	return connect_enter(ctx->args[0], (const void *)ctx->args[1], ctx->args[2], true);
}

SEC("tracepoint/syscalls/sys_exit_connect")
int tp_connect_exit(struct trace_event_raw_sys_exit *ctx)
{
	return pending_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int tp_sendto_enter(struct trace_event_raw_sys_enter *ctx)
{
	return send_enter(ctx->args[0], (const void *)ctx->args[4], ctx->args[5], ctx->args[3],
			  false);
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int tp_sendto_enter_fast(struct trace_event_raw_sys_enter *ctx)
{
	return send_enter(ctx->args[0], (const void *)ctx->args[4], ctx->args[5], ctx->args[3],
			  true);
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int tp_sendto_exit(struct trace_event_raw_sys_exit *ctx)
{
	return pending_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int tp_sendmsg_enter(struct trace_event_raw_sys_enter *ctx)
{
	return sendmsg_enter(ctx->args[0], (const struct user_msghdr *)ctx->args[1], ctx->args[2],
			     false);
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int tp_sendmsg_enter_fast(struct trace_event_raw_sys_enter *ctx)
{
	return sendmsg_enter(ctx->args[0], (const struct user_msghdr *)ctx->args[1], ctx->args[2],
			     true);
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int tp_sendmsg_exit(struct trace_event_raw_sys_exit *ctx)
{
	return pending_exit(ctx->ret);
}

/* sendmmsg: the first message's destination only (documented in aegis.h). */
SEC("tracepoint/syscalls/sys_enter_sendmmsg")
int tp_sendmmsg_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (!ctx->args[2])
		return 0;
	return sendmsg_enter(ctx->args[0], (const struct user_msghdr *)ctx->args[1], ctx->args[3],
			     false);
}

SEC("tracepoint/syscalls/sys_enter_sendmmsg")
int tp_sendmmsg_enter_fast(struct trace_event_raw_sys_enter *ctx)
{
	if (!ctx->args[2])
		return 0;
	return sendmsg_enter(ctx->args[0], (const struct user_msghdr *)ctx->args[1], ctx->args[3],
			     true);
}

SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int tp_sendmmsg_exit(struct trace_event_raw_sys_exit *ctx)
{
	return pending_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_listen")
int tp_listen_enter(struct trace_event_raw_sys_enter *ctx)
{
	return listen_enter(ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_exit_listen")
int tp_listen_exit(struct trace_event_raw_sys_exit *ctx)
{
	return pending_exit(ctx->ret);
}

/* ---- accept ------------------------------------------------------------------------- */

/*
 * A new connection on sk, accepted by the current task. Deduped by (peer
 * address, local port): the key is read first (2 reads), the rest only when a
 * record is emitted.
 */
static __always_inline int accepted(struct sock *sk, __u16 family, bool fast)
{
	struct endpoint key = {};
	struct conn c = {};

	key.family = family;
	if (fast) {
		/* direct loads: sk is a BTF pointer (fexit argument or bpf_rdonly_cast()) */
		struct inet_sock *inet = CAST(struct inet_sock, sk);

		key.port = bpf_ntohs(inet->inet_sport);
		if (!key.port)
			key.port = sk->__sk_common.skc_num;
		if (family == AF_INET6) {
			__builtin_memcpy(key.addr, &sk->__sk_common.skc_v6_daddr, 16);
			endpoint_unmap(&key);
		} else {
			*(__u32 *)key.addr = sk->__sk_common.skc_daddr;
		}
	} else {
		key.port = sock_local_port(sk);
		if (family == AF_INET6) {
			BPF_CORE_READ_INTO(&key.addr, sk, __sk_common.skc_v6_daddr);
			endpoint_unmap(&key);
		} else {
			BPF_CORE_READ_INTO((__u32 *)key.addr, sk, __sk_common.skc_daddr);
		}
	}
	if (dedup_fold(IPPROTO_TCP, AEGIS_DIR_IN, &key, &c.suppressed))
		return 0;
	c.direction = AEGIS_DIR_IN;
	c.proto = IPPROTO_TCP;
	/* src = the remote peer, dst = our local endpoint */
	sock_endpoints(sk, family, &c.dst, &c.src);
	return emit_conn(&c);
}

static __always_inline int accept_exit(long ret, bool fast)
{
	struct inet_sock_ref ref;

	if (ret < 0)
		return 0;
	if (fd_inet_sock(ret, /* known_socket= */ true, fast, &ref) < 0 || ref.proto != IPPROTO_TCP)
		return 0;
	return accepted(ref.sk, ref.family, fast);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return accept_exit(ctx->ret, false);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return accept_exit(ctx->ret, false);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_accept_exit_fast(struct trace_event_raw_sys_exit *ctx)
{
	return accept_exit(ctx->ret, true);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_accept4_exit_fast(struct trace_event_raw_sys_exit *ctx)
{
	return accept_exit(ctx->ret, true);
}

/* ---- fexit variants (kernels with trampolines and no lockdown) ------------------------ */

/* The socket inode number: unique per socket (SOCK_INODE()). */
static __always_inline __u64 socket_ino(struct socket *sock)
{
	struct socket_alloc *sa = container_of(sock, struct socket_alloc, socket);

	return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

/* sk's family when it is an AF_INET/AF_INET6 socket of protocol proto, else 0. */
static __always_inline __u16 inet_l4_family(struct sock *sk, __u16 proto)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family != AF_INET && family != AF_INET6)
		return 0;
	return BPF_CORE_READ(sk, sk_protocol) == proto ? family : 0;
}

static __always_inline int out_done(struct sock *sk, __u16 family, __u8 proto,
				    const struct endpoint *dst, long ret, __u32 suppressed)
{
	struct endpoint remote;
	struct conn c = {};

	c.direction = AEGIS_DIR_OUT;
	c.proto = proto;
	c.flags = AEGIS_CONN_RESULT_VALID;
	c.result = ret < 0 ? ret : 0;
	c.suppressed = suppressed;
	sock_endpoints(sk, family, &c.src, &remote);
	c.dst = *dst;
	if (c.src.family != c.dst.family)
		c.src.family = c.dst.family;
	return emit_conn(&c);
}

/*
 * connect(2) and io_uring connects both end in __sys_connect_file() with the
 * address already copied into the kernel: one program instead of enter+exit.
 */
SEC("fexit/__sys_connect_file")
int BPF_PROG(fexit_connect, struct file *file, void *address, int addrlen, int file_flags, int ret)
{
	struct endpoint dst;
	struct socket *sock;
	struct sock *sk;
	__u32 suppressed;
	__u16 family;
	__u8 proto = IPPROTO_TCP;

	if ((BPF_CORE_READ(file, f_inode, i_mode) & AEGIS_S_IFMT) != AEGIS_S_IFSOCK)
		return 0;
	if (endpoint_from_sockaddr(&dst, address, addrlen, false) < 0)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	family = inet_l4_family(sk, proto);
	if (!family)
		family = inet_l4_family(sk, proto = IPPROTO_UDP);
	if (!family)
		return 0;
	if (dedup_fold(proto, AEGIS_DIR_OUT, &dst, &suppressed))
		return 0;
	return out_done(sk, family, proto, &dst, ret, suppressed);
}

static __always_inline int fexit_accepted(struct sock *newsk)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	/* in-kernel servers (nfsd, ksmbd) accept from kthreads: not a process */
	__u16 family;

	if (!newsk || (BPF_CORE_READ(task, flags) & AEGIS_PF_KTHREAD))
		return 0;
	family = inet_l4_family(newsk, IPPROTO_TCP);
	if (!family)
		return 0;
	return accepted(newsk, family, false);
}

/* inet_csk_accept() returns the new sock; its arity changed in 6.10 (proto_accept_arg). */
SEC("fexit/inet_csk_accept")
int BPF_PROG(fexit_accept, struct sock *sk, struct proto_accept_arg *arg, struct sock *ret)
{
	return fexit_accepted(ret);
}

SEC("fexit/inet_csk_accept")
int BPF_PROG(fexit_accept_old, struct sock *sk, int flags, int *err, bool kern, struct sock *ret)
{
	return fexit_accepted(ret);
}

SEC("fexit/inet_listen")
int BPF_PROG(fexit_listen, struct socket *sock, int backlog, int ret)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	struct endpoint remote;
	struct conn c = {};
	__u16 family;
	__u64 ino;
	__u8 one = 1;

	if (ret < 0 || !sk)
		return 0;
	family = inet_l4_family(sk, IPPROTO_TCP);
	if (!family)
		return 0;
	/* listen() again on a listening socket only changes the backlog */
	ino = socket_ino(sock);
	if (bpf_map_lookup_elem(&listen_seen, &ino))
		return 0;
	bpf_map_update_elem(&listen_seen, &ino, &one, BPF_ANY);
	c.direction = AEGIS_DIR_LISTEN;
	c.proto = IPPROTO_TCP;
	c.flags = AEGIS_CONN_RESULT_VALID;
	sock_endpoints(sk, family, &c.dst, &remote);
	return emit_conn(&c);
}

/* udp_sendmsg()/udpv6_sendmsg() see every datagram with its (kernel copy of the) address. */
static __always_inline int udp_sent(struct sock *sk, struct msghdr *msg, int ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sock_dst_key k = {};
	__u32 suppressed;
	__u16 family;
	__u8 one = 1;

	if (endpoint_from_sockaddr(&k.dst, BPF_CORE_READ(msg, msg_name),
				   BPF_CORE_READ(msg, msg_namelen), false) < 0)
		return 0;
	family = inet_l4_family(sk, IPPROTO_UDP);
	if (!family || (BPF_CORE_READ(task, flags) & AEGIS_PF_KTHREAD))
		return 0;
	k.ino = socket_ino(BPF_CORE_READ(sk, sk_socket));
	if (bpf_map_lookup_elem(&udp_seen, &k))
		return 0;
	bpf_map_update_elem(&udp_seen, &k, &one, BPF_ANY);
	if (dedup_fold(IPPROTO_UDP, AEGIS_DIR_OUT, &k.dst, &suppressed))
		return 0;
	return out_done(sk, family, IPPROTO_UDP, &k.dst, ret, suppressed);
}

SEC("fexit/udp_sendmsg")
int BPF_PROG(fexit_udp_send, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	return udp_sent(sk, msg, ret);
}

SEC("fexit/udpv6_sendmsg")
int BPF_PROG(fexit_udp6_send, struct sock *sk, struct msghdr *msg, size_t len, int ret)
{
	return udp_sent(sk, msg, ret);
}

/* ---- connects that bypass connect(2): io_uring, TCP Fast Open ----------------------- */

#define AEGIS_TCP_SYN_SENT 2
#define AEGIS_TCP_CLOSE 7

struct pt_regs___x86 {
	unsigned long orig_ax;
} __attribute__((preserve_access_index));

struct pt_regs___arm64 {
	int syscallno;
} __attribute__((preserve_access_index));

/*
 * The syscall the current task is in (orig_ax); -1 if unknown: before 5.15
 * (no bpf_task_pt_regs(), resolved at load time) or another architecture.
 */
static __always_inline long current_syscall_nr(void)
{
	struct pt_regs *regs;

	if (!bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs))
		return -1;
	/* a BTF pointer: plain loads */
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (bpf_core_field_exists(struct pt_regs___x86, orig_ax))
		return ((struct pt_regs___x86 *)regs)->orig_ax;
	if (bpf_core_field_exists(struct pt_regs___arm64, syscallno))
		return ((struct pt_regs___arm64 *)regs)->syscallno;
	return -1;
}

/*
 * The syscall the current task is in, if the connect source's exit programs
 * report connects made inside it (tracepoints: connect(2); sendto/sendmsg/
 * sendmmsg with MSG_FASTOPEN), else -1; -2 when the syscall is unknown
 * (before 5.15, other architectures).
 */
static __always_inline long tracked_syscall(void)
{
	long nr = current_syscall_nr();

	if (nr < 0)
		return -2;
	if (nr == nr_connect || nr == nr_sendto || nr == nr_sendmsg || nr == nr_sendmmsg)
		return nr;
	return -1;
}

/*
 * Whether the connect source reports (or has deduped) the connect the current
 * task is making. With fastopen_only (fexit on __sys_connect_file sees
 * connect(2) and io_uring), everything but Fast Open. Syscall unknown:
 * whatever has a pending entry (deduped ones then get a second record).
 */
static __always_inline bool connect_seen_elsewhere(long tracked, bool fastopen)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (fastopen_only && !fastopen)
		return true;
	if (tracked >= 0)
		return true;
	return tracked == -2 && pending_n && bpf_map_lookup_elem(&pending, &tid);
}

static __always_inline bool current_is_kthread(void)
{
	if (HAVE_TASK_BTF)
		return bpf_get_current_task_btf()->flags & AEGIS_PF_KTHREAD;
	return BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), flags) &
	       AEGIS_PF_KTHREAD;
}

/* An outbound record without a result (no syscall exit reports it). */
static __always_inline int emit_out_unseen(__u8 proto, const struct endpoint *src,
					   const struct endpoint *dst, __u32 suppressed)
{
	struct conn c = {};

	c.direction = AEGIS_DIR_OUT;
	c.proto = proto;
	c.suppressed = suppressed;
	c.src = *src;
	c.dst = *dst;
	if (c.src.family != c.dst.family)
		c.src.family = c.dst.family;
	return emit_conn(&c);
}

/* A connect the connect source does not see: a record without a result. */
static __always_inline int connect_unseen(__u8 proto, const struct endpoint *src,
					  const struct endpoint *dst)
{
	__u32 suppressed;

	if (dedup_fold(proto, AEGIS_DIR_OUT, dst, &suppressed))
		return 0;
	return emit_out_unseen(proto, src, dst, suppressed);
}

/*
 * The destination a cgroup sock_addr program sees (the kernel's copy) and the
 * socket's bound source. Context fields: one aligned 4-byte load each (no
 * pointer arithmetic on ctx or the socket).
 */
static __always_inline void hook_dst(struct bpf_sock_addr *ctx, bool v6, struct endpoint *dst)
{
	__u32 *d = (__u32 *)dst->addr;

	dst->port = bpf_ntohs((__u16)ctx->user_port);
	if (v6) {
		dst->family = AF_INET6;
		d[0] = ctx->user_ip6[0];
		d[1] = ctx->user_ip6[1];
		d[2] = ctx->user_ip6[2];
		d[3] = ctx->user_ip6[3];
		endpoint_unmap(dst);
	} else {
		dst->family = AF_INET;
		d[0] = ctx->user_ip4;
	}
}

static __always_inline void hook_src(struct bpf_sock *sk, bool v6, struct endpoint *src)
{
	__u32 *l = (__u32 *)src->addr;

	src->port = sk->src_port;
	if (v6) {
		src->family = AF_INET6;
		l[0] = sk->src_ip6[0];
		l[1] = sk->src_ip6[1];
		l[2] = sk->src_ip6[2];
		l[3] = sk->src_ip6[3];
		endpoint_unmap(src);
	} else {
		src->family = AF_INET;
		l[0] = sk->src_ip4;
	}
}

/* A cgroup observer's event inside a tracked syscall: for its exit program. */
static __always_inline void hook_stash(__u8 kind, struct bpf_sock *sk, __u8 proto,
				       const struct endpoint *dst, __u32 suppressed)
{
	struct inet_sock_ref ref = {};

	ref.sk = (struct sock *)sk;
	ref.family = sk->family;
	ref.proto = proto;
	stash(kind, &ref, dst, suppressed);
}

/*
 * The observer on the cgroup2 root's connect4/connect6 hooks: every TCP and UDP
 * connect made in a process's context passes here (inet stream and datagram
 * pre_connect), whatever entered it: connect(2), io_uring (submitter or io-wq
 * thread), tcp_sendmsg() for Fast Open, a kernel socket connected inside a
 * syscall. One run per connect, where the TCP state program runs six times
 * per TCP connection. The destination is the kernel's copy of the address,
 * which a racing thread cannot change any more. Connects inside a tracked
 * syscall are stashed for its exit program (hook_connect) or left to it;
 * the others get a record now, with a source only when the socket is bound
 * (the hook runs before the kernel picks one). Always allows: enforcement is
 * a separate program.
 */
static __always_inline int cg_connect(struct bpf_sock_addr *ctx, bool v6)
{
	struct endpoint src = {}, dst = {};
	struct bpf_sock *sk = ctx->sk;
	bool fastopen = false;
	__u32 suppressed;
	__u8 proto = ctx->protocol;
	long tracked;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 1;
	tracked = tracked_syscall();
	if (hook_connect && tracked >= 0) {
		hook_dst(ctx, v6, &dst);
		if (!dedup_fold(proto, AEGIS_DIR_OUT, &dst, &suppressed))
			hook_stash(PEND_CONNECT, sk, proto, &dst, suppressed);
		return 1;
	}
	if (fastopen_only && proto == IPPROTO_TCP) {
		struct tcp_sock *t = bpf_skc_to_tcp_sock(sk);

		fastopen = t && t->fastopen_req;
	}
	if (connect_seen_elsewhere(tracked, fastopen) || current_is_kthread())
		return 1;
	hook_dst(ctx, v6, &dst);
	hook_src(sk, v6, &src);
	connect_unseen(proto, &src, &dst);
	return 1;
}

/*
 * The UDP send observer (cgroup sendmsg4/6 on the cgroup2 root: datagrams
 * with an address on unconnected sockets): one record per (socket,
 * destination), then process dedup, like send_enter(), but with the kernel's
 * copy of the address and for every way a datagram is sent. Inside a tracked
 * syscall the first new destination is stashed for its exit program (the
 * send's result); others (io_uring, a second one in one sendmmsg()) get a
 * record now. The socket is bound by now: the source port is known.
 */
static __always_inline int cg_sendmsg(struct bpf_sock_addr *ctx, bool v6)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct bpf_sock *sk = ctx->sk;
	struct sock_dst_key k = {};
	struct endpoint src = {};
	__u32 suppressed;
	__u8 one = 1;

	if (ctx->protocol != IPPROTO_UDP)
		return 1;
	hook_dst(ctx, v6, &k.dst);
	/* the socket cookie: unique per socket for the kernel's lifetime */
	k.ino = bpf_get_socket_cookie(ctx);
	if (bpf_map_lookup_elem(&udp_seen, &k))
		return 1;
	bpf_map_update_elem(&udp_seen, &k, &one, BPF_ANY);
	if (dedup_fold(IPPROTO_UDP, AEGIS_DIR_OUT, &k.dst, &suppressed))
		return 1;
	if (tracked_syscall() >= 0 && !(pending_n && bpf_map_lookup_elem(&pending, &tid))) {
		hook_stash(PEND_SEND, sk, IPPROTO_UDP, &k.dst, suppressed);
		return 1;
	}
	if (current_is_kthread())
		return 1;
	hook_src(sk, v6, &src);
	emit_out_unseen(IPPROTO_UDP, &src, &k.dst, suppressed);
	return 1;
}

SEC("cgroup/sendmsg4")
int cg_sendmsg4(struct bpf_sock_addr *ctx)
{
	return cg_sendmsg(ctx, false);
}

SEC("cgroup/sendmsg6")
int cg_sendmsg6(struct bpf_sock_addr *ctx)
{
	return cg_sendmsg(ctx, true);
}

SEC("cgroup/connect4")
int cg_connect4(struct bpf_sock_addr *ctx)
{
	return cg_connect(ctx, false);
}

SEC("cgroup/connect6")
int cg_connect6(struct bpf_sock_addr *ctx)
{
	return cg_connect(ctx, true);
}

/*
 * Where the cgroup observer cannot attach (no cgroup2 mount): sk (TCP) went
 * CLOSE -> SYN_SENT in the current task, which covers the same TCP connects
 * (not UDP ones). The source port is not chosen yet (inet_hash_connect() runs
 * after the state change): 0 unless the socket was bound.
 */
static __always_inline int syn_sent(struct sock *sk)
{
	struct endpoint src, remote;
	__u16 family;

	if (connect_seen_elsewhere(tracked_syscall(),
				   fastopen_only &&
					   BPF_CORE_READ((struct tcp_sock *)sk, fastopen_req)) ||
	    current_is_kthread())
		return 0;
	family = inet_l4_family(sk, IPPROTO_TCP);
	if (!family)
		return 0;
	sock_endpoints(sk, family, &src, &remote);
	return connect_unseen(IPPROTO_TCP, &src, &remote);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(btf_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (oldstate != AEGIS_TCP_CLOSE || newstate != AEGIS_TCP_SYN_SENT)
		return 0;
	return syn_sent((struct sock *)sk);
}

SEC("tracepoint/sock/inet_sock_set_state")
int tp_tcp_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->oldstate != AEGIS_TCP_CLOSE || ctx->newstate != AEGIS_TCP_SYN_SENT ||
	    ctx->protocol != IPPROTO_TCP)
		return 0;
	return syn_sent((struct sock *)ctx->skaddr);
}
