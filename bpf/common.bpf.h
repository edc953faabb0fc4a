/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * BPF-only helpers shared by trace.bpf.c and enforce.bpf.c: task identity,
 * CO-RE reads of the exe and of sockets, counters, reserve-or-count-drop.
 * Include after vmlinux.h, bpf_helpers.h and aegis.h.
 */
#pragma once

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif
#define AEGIS_S_IFMT 00170000
#define AEGIS_S_IFSOCK 0140000
#define AEGIS_TCP_LISTEN 10
#define AEGIS_PF_KTHREAD 0x00200000

/* Per-CPU counters, indexed by enum aegis_counter; userspace sums over CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AEGIS_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void cnt_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	/* per-CPU slot and programs do not preempt each other on one CPU */
	if (v)
		*v += 1;
}

/* An endpoint as it travels in records: address in network order, port in host order. */
struct endpoint {
	__u8 addr[16];
	__u16 port;
	__u8 family;
	__u8 pad;
};

static __always_inline bool is_v4_mapped(const __u8 *a)
{
	/* ::ffff:a.b.c.d */
	return !a[0] && !a[1] && !a[2] && !a[3] && !a[4] && !a[5] && !a[6] && !a[7] && !a[8] &&
	       !a[9] && a[10] == 0xff && a[11] == 0xff;
}

/* v4-mapped v6 (::ffff:a.b.c.d) becomes AF_INET with the address in the first 4 bytes. */
static __always_inline void endpoint_unmap(struct endpoint *ep)
{
	if (ep->family != AF_INET6 || !is_v4_mapped(ep->addr))
		return;
	ep->family = AF_INET;
	__builtin_memcpy(ep->addr, ep->addr + 12, 4);
	__builtin_memset(ep->addr + 4, 0, 12);
}

/* Parses a sockaddr_in/in6 (user memory when user, else kernel). 0 on success. */
static __always_inline int endpoint_from_sockaddr(struct endpoint *ep, const void *sa, __u32 len,
						  bool user)
{
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u = {};
	long r;

	if (!sa || len < sizeof(struct sockaddr_in))
		return -1;
	/* constant read sizes keep the verifier happy and never read past the caller's buffer */
	if (len >= sizeof(struct sockaddr_in6))
		r = user ? bpf_probe_read_user(&u, sizeof(struct sockaddr_in6), sa) :
			   bpf_probe_read_kernel(&u, sizeof(struct sockaddr_in6), sa);
	else
		r = user ? bpf_probe_read_user(&u, sizeof(struct sockaddr_in), sa) :
			   bpf_probe_read_kernel(&u, sizeof(struct sockaddr_in), sa);
	if (r < 0)
		return -1;
	__builtin_memset(ep, 0, sizeof(*ep));
	if (u.in.sin_family == AF_INET) {
		ep->family = AF_INET;
		ep->port = bpf_ntohs(u.in.sin_port);
		__builtin_memcpy(ep->addr, &u.in.sin_addr.s_addr, 4);
		return 0;
	}
	if (u.in6.sin6_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		ep->family = AF_INET6;
		ep->port = bpf_ntohs(u.in6.sin6_port);
		__builtin_memcpy(ep->addr, &u.in6.sin6_addr, 16);
		endpoint_unmap(ep);
		return 0;
	}
	return -1;
}

/*
 * bpf_get_current_task_btf() (5.11+) gives a BTF pointer: the task's fields
 * are then plain loads instead of one bpf_probe_read_kernel() call each,
 * which halves the cost of the hot connect/accept paths. Older kernels take
 * the probe-read branch; libbpf resolves the check at load time.
 */
#define HAVE_TASK_BTF bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)

/* The thread-group leader's start time of the current task. */
static __always_inline __u64 current_start_time(void)
{
	if (HAVE_TASK_BTF)
		return bpf_get_current_task_btf()->group_leader->start_time;
	return BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), group_leader,
			     start_time);
}

/* The struct file behind fd in the current task's file table, or NULL. */
static __always_inline struct file *current_fd_file(int fd)
{
	struct file **fds;
	struct file *f = NULL;
	unsigned int max;

	if (HAVE_TASK_BTF) {
		struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;

		max = fdt->max_fds;
		fds = fdt->fd;
	} else {
		struct fdtable *fdt =
			BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), files, fdt);

		max = BPF_CORE_READ(fdt, max_fds);
		fds = BPF_CORE_READ(fdt, fd);
	}
	if (fd < 0 || (unsigned int)fd >= max)
		return NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) < 0)
		return NULL;
	return f;
}

/* An AF_INET/AF_INET6 TCP or UDP socket found behind an fd. */
struct inet_sock_ref {
	struct sock *sk;
	struct inode *inode; /* i_ino is unique per socket, unlike sk; NULL with known_socket */
	__u16 family;
	__u16 proto;
};

/*
 * Resolves the current task's fd to its TCP/UDP inet socket: 0 and *ret, or
 * -1 for anything else. Every field read is a probe read here: keep them few.
 * known_socket skips the inode type check where the fd is a socket by
 * construction (the fd accept() just returned); an fd a caller merely passed
 * (connect, sendto) must be checked, or a crafted non-socket file could plant
 * a dedup key.
 */
static __always_inline int current_fd_inet_sock(int fd, bool known_socket,
						struct inet_sock_ref *ret)
{
	/* locals only inside BPF_CORE_READ(): a field of our own struct has no kernel relocation */
	struct file *f = current_fd_file(fd);
	struct inode *inode;
	struct socket *sock;
	struct sock *sk;
	__u16 family, proto;

	if (!f)
		return -1;
	inode = NULL;
	if (!known_socket) {
		inode = BPF_CORE_READ(f, f_inode);
		if ((BPF_CORE_READ(inode, i_mode) & AEGIS_S_IFMT) != AEGIS_S_IFSOCK)
			return -1;
	}
	/*
	 * A socket's inode is embedded in its struct socket_alloc next to the
	 * struct socket (SOCKET_I()): no read needed. offsetof() in
	 * bpf_helpers.h is CO-RE-relocated, so the layout may vary.
	 */
	if (inode)
		sock = &container_of(inode, struct socket_alloc, vfs_inode)->socket;
	else
		sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return -1;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return -1;
	proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return -1;
	ret->sk = sk;
	ret->inode = inode;
	ret->family = family;
	ret->proto = proto;
	return 0;
}

/*
 * Fast variants (kernels >= 6.2): bpf_rdonly_cast() turns a kernel address
 * into a read-only BTF pointer, so field reads are direct loads (the JIT
 * makes them fault-safe) instead of one bpf_probe_read_kernel() call (~28 ns
 * here) each. The weak extern lets the object load on kernels without the
 * kfunc; the loader only loads programs using it where it exists.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#define CAST(type, p) ((type *)bpf_rdonly_cast((void *)(p), bpf_core_type_id_kernel(type)))

static __always_inline int current_fd_inet_sock_fast(int fd, bool known_socket,
						     struct inet_sock_ref *ret)
{
	struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;
	struct file **fds = fdt->fd;
	struct socket *sock;
	struct inode *inode;
	struct file *f;
	struct sock *sk;
	__u16 family, proto;
	void *p = NULL;

	if (fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return -1;
	if (bpf_probe_read_kernel(&p, sizeof(p), &fds[fd]) < 0 || !p)
		return -1;
	f = CAST(struct file, p);
	inode = NULL;
	if (!known_socket) {
		inode = f->f_inode;
		/* an fd a caller merely passed must be a socket (see current_fd_inet_sock()) */
		if (!inode || (inode->i_mode & AEGIS_S_IFMT) != AEGIS_S_IFSOCK)
			return -1;
	}
	sock = CAST(struct socket, f->private_data);
	sk = sock->sk;
	if (!sk)
		return -1;
	family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return -1;
	proto = sk->sk_protocol;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return -1;
	ret->sk = sk;
	ret->inode = inode;
	ret->family = family;
	ret->proto = proto;
	return 0;
}

/*
 * The local port. inet_sport, not skc_num: when a connection is reset before
 * we look (a refused connect, a peer that already sent RST before accept()
 * returned), inet_put_port() has zeroed skc_num but inet_sport stays.
 */
static __always_inline __u16 sock_local_port(struct sock *sk)
{
	struct inet_sock *inet = (struct inet_sock *)sk;
	__u16 port = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));

	return port ? port : BPF_CORE_READ(sk, __sk_common.skc_num);
}

/*
 * Local and remote endpoints of sk (of the given skc_family). A v6 socket talking to a v4(-mapped)
 * peer is reported as AF_INET on both sides.
 */
static __always_inline void sock_endpoints(struct sock *sk, __u16 family, struct endpoint *local,
					   struct endpoint *remote)
{
	__builtin_memset(local, 0, sizeof(*local));
	__builtin_memset(remote, 0, sizeof(*remote));
	local->port = sock_local_port(sk);
	remote->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&local->addr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&remote->addr, sk, __sk_common.skc_v6_daddr);
		local->family = remote->family = AF_INET6;
		endpoint_unmap(local);
		endpoint_unmap(remote);
		return;
	}
	local->family = remote->family = AF_INET;
	BPF_CORE_READ_INTO((__u32 *)local->addr, sk, __sk_common.skc_rcv_saddr);
	BPF_CORE_READ_INTO((__u32 *)remote->addr, sk, __sk_common.skc_daddr);
}

/* d_unlinked(): the dentry was removed from its directory (d_path() adds " (deleted)"). */
static __always_inline bool dentry_unlinked(struct dentry *d)
{
	return d && !BPF_CORE_READ(d, d_hash.pprev) && d != BPF_CORE_READ(d, d_parent);
}

/* Identity of the current task (the one in the syscall/tracepoint). */
static __always_inline void fill_task(struct aegis_task *t, struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ug = bpf_get_current_uid_gid();
	struct file *exe;

	t->pid = id >> 32;
	t->tid = (__u32)id;
	t->ppid = BPF_CORE_READ(task, real_parent, tgid);
	t->uid = (__u32)ug;
	t->gid = ug >> 32;
	t->pad = 0;
	t->start_time = BPF_CORE_READ(task, group_leader, start_time);
	t->cgroup_id = bpf_get_current_cgroup_id();
	exe = BPF_CORE_READ(task, mm, exe_file);
	t->exe_ino = exe ? BPF_CORE_READ(exe, f_inode, i_ino) : 0;
	t->exe_dev = exe ? BPF_CORE_READ(exe, f_inode, i_sb, s_dev) : 0;
	t->pad2 = 0;
	bpf_get_current_comm(t->comm, sizeof(t->comm));
}
