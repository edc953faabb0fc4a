/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * aegis wire format: every struct, enum and constant that crosses the
 * kernel/user boundary. Included by the bpf/ programs (after vmlinux.h) and by
 * src/ (after <linux/types.h>). Only __u8..__u64, explicit padding, and
 * `__u32 type` first in every ring-buffer record (retsnoop style), so
 * userspace can switch on *(__u32 *)data after checking the size.
 *
 * Semantics:
 * - pid is the thread-group id (what users call the PID), tid the thread.
 * - start_time is the thread-group leader's task->start_time (ns since boot,
 *   CLOCK_MONOTONIC); (pid, start_time) identifies a process across PID reuse.
 *   Userspace converts /proc/PID/stat starttime (clock ticks) to compare only
 *   at tick precision.
 * - Addresses are in network byte order in 16 bytes; for AF_INET the first 4
 *   bytes hold the address. v4-mapped v6 (::ffff:a.b.c.d) is reported as
 *   AF_INET by the kernel side already. Ports are in host byte order.
 * - Endpoint naming (shared with JSON keys, journald fields, hook env):
 *   src/spt is the side that initiated the connection, dst/dpt the side that
 *   accepted it. direction "out": src = this host (local), dst = remote.
 *   direction "in": src = the remote peer, dst = the local address/port that
 *   accepted. direction "listen": dst/dpt = the address/port listened on,
 *   src empty. The "remote" endpoint for policy is dst for out, src for in.
 */
#pragma once

#define AEGIS_COMM_LEN 16
#define AEGIS_PATH_MAX 512 /* exe path, resolved in the kernel from mm->exe_file */
#define AEGIS_ARGV_MAX 4096 /* argv bytes (NUL-separated) captured at exec */
#define AEGIS_PATH_DEPTH 32 /* dentry components walked for the exe path */

enum aegis_rec_type {
	AEGIS_REC_EXEC = 1,
	AEGIS_REC_EXIT = 2,
	AEGIS_REC_CONN = 3,
};

enum aegis_direction {
	AEGIS_DIR_OUT = 1,
	AEGIS_DIR_IN = 2,
	AEGIS_DIR_LISTEN = 3,
};

enum aegis_proto {
	AEGIS_PROTO_TCP = 6,
	AEGIS_PROTO_UDP = 17,
};

/* aegis_rec_exec.flags */
#define AEGIS_EXEC_ARGV_TRUNC (1u << 0) /* argv longer than AEGIS_ARGV_MAX */
#define AEGIS_EXEC_PATH_TRUNC (1u << 1) /* exe path deeper/longer than captured */
#define AEGIS_EXEC_EXE_DELETED (1u << 2) /* exe_file is unlinked */

/* aegis_rec_conn.flags */
#define AEGIS_CONN_RESULT_VALID (1u << 0) /* result holds the syscall's return */
#define AEGIS_CONN_EXE_DELETED (1u << 1) /* the process's exe_file was unlinked by now */

/* Identity of the acting task, common to all records. */
struct aegis_task {
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 ppid; /* real_parent's tgid */
	__u32 uid;
	__u32 gid;
	__u32 pad;
	__u64 start_time; /* group leader start_time, ns since boot */
	__u64 cgroup_id; /* cgroup v2 id (bpf_get_current_cgroup_id) */
	__u64 exe_ino; /* mm->exe_file inode number (0 if none) */
	__u32 exe_dev; /* mm->exe_file superblock s_dev (kernel dev_t encoding) */
	__u32 pad2;
	char comm[AEGIS_COMM_LEN];
};

/*
 * Emitted at sched_process_exec. filename is the path as passed to execve
 * (bprm->filename); path is the absolute exe path resolved from
 * mm->exe_file by walking dentries (mount-aware, up to AEGIS_PATH_DEPTH).
 * argv holds argv_len bytes of NUL-separated arguments (last NUL included);
 * the record in the ring buffer ends after argv_len rounded up to 8 bytes
 * (data_sz < sizeof(struct aegis_rec_exec) is normal: copy it into a zeroed
 * full-size struct before use);
 * with AEGIS_EXEC_ARGV_TRUNC it holds the first AEGIS_ARGV_MAX - 1 bytes and a
 * NUL. With AEGIS_EXEC_PATH_TRUNC (deeper than AEGIS_PATH_DEPTH components or
 * longer than AEGIS_PATH_MAX) path holds the tail of the path without its head:
 * use filename then.
 */
struct aegis_rec_exec {
	__u32 type; /* AEGIS_REC_EXEC */
	__u32 flags;
	__u64 ts; /* bpf_ktime_get_boot_ns() */
	struct aegis_task task;
	__u32 filename_len;
	__u32 path_len;
	__u32 argv_len;
	__u32 pad;
	char filename[AEGIS_PATH_MAX];
	char path[AEGIS_PATH_MAX];
	char argv[AEGIS_ARGV_MAX];
};

/* Emitted when the last thread of a process exits (signal->live reached 0). */
struct aegis_rec_exit {
	__u32 type; /* AEGIS_REC_EXIT */
	__u32 exit_code;
	__u64 ts;
	struct aegis_task task;
};

/*
 * A connection event: outbound connect, accept, listen, or new UDP destination.
 *
 * What is emitted (trace.bpf.c):
 * - out/tcp, out/udp: connect(2) on an AF_INET/AF_INET6 TCP or UDP socket
 *   (also io_uring connects where the fentry variant is in use), with
 *   result = the syscall's return (0, -EINPROGRESS, -ECONNREFUSED, ...) and
 *   AEGIS_CONN_RESULT_VALID. dst is the address given to connect() (v4-mapped
 *   unmapped; the kernel's copy, except with connect=tracepoint, which reads
 *   it from user memory at syscall entry), src/sport are read from the socket
 *   after the call: sport is 0 when the kernel already released the port
 *   (e.g. a refused loopback connect).
 * - out/tcp, out/udp without a result (no AEGIS_CONN_RESULT_VALID): connects
 *   that bypass connect(2), attributed to the connecting task (for io_uring
 *   the submitter or an io-wq/sqpoll thread of the same process): io_uring
 *   IORING_OP_CONNECT except with fexit/__sys_connect_file (which sees those
 *   itself, with a result), and TCP Fast Open sends not seen by a send
 *   program. Seen by the cgroup connect observer (TCP and UDP; dst is the
 *   kernel's copy of the address; src/sport are empty unless the socket was
 *   bound) or, without cgroup2, at the TCP state change CLOSE -> SYN_SENT
 *   (inet_sock_set_state; TCP only; src/dst read from the socket, sport 0
 *   unless bound: the port is chosen after the state change).
 * - out/tcp from sendto/sendmsg/sendmmsg with a destination address and
 *   MSG_FASTOPEN on a TCP socket (TCP Fast Open): reported like a connect,
 *   result = 0 or the send's -errno.
 * - out/udp from sendto/sendmsg/sendmmsg with a destination address: one record
 *   per (socket, destination) the first time the socket sends there (LRU
 *   "udp_seen", keyed by socket inode: 1,000 datagrams to one destination = 1
 *   record; the cgroup send observer keys by socket cookie); result = 0 or the
 *   send's -errno. With udp-send=cgroup every message of a sendmmsg counts,
 *   and io_uring sends are seen too (without a result); with tracepoints
 *   only the first message of a sendmmsg. Sends without an address
 *   (connected sockets) are covered by the connect record.
 * - in/tcp: accept/accept4 (or inet_csk_accept with fentry) returning a new
 *   AF_INET/AF_INET6 TCP socket; src = peer, dst = local. result not valid.
 * - listen/tcp: the first successful listen() on a socket; dst = bound address
 *   and port, src empty. Never deduped.
 * - aegis's own connections (webhooks) are reported like any other.
 *
 * In-kernel dedup (rodata dedup_ns from global.kernel_dedup, 0 = off): out and
 * in records are keyed by (tgid, start_time, proto, direction, remote address,
 * port) where port is dport for out and the LOCAL port for in (the peer's
 * ephemeral port is ignored, so a client reconnecting to a server is one key).
 * Within dedup_ns of the last record for a key, repeats are only counted
 * (AEGIS_CNT_DEDUP) and reported in `suppressed` of the next record for that
 * key, emitted once the window has passed. UDP sends go through the per-socket
 * filter first; only new (socket, destination) pairs count as repeats.
 */
struct aegis_rec_conn {
	__u32 type; /* AEGIS_REC_CONN */
	__u8 direction; /* enum aegis_direction */
	__u8 proto; /* enum aegis_proto */
	__u8 family; /* AF_INET (2) or AF_INET6 (10) */
	__u8 flags; /* AEGIS_CONN_* */
	__u64 ts;
	struct aegis_task task;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__s32 result; /* 0, -EINPROGRESS, -ECONNREFUSED, ...; -EPERM when blocked */
	__u32 suppressed; /* repeats folded into this record by in-kernel dedup */
	__u32 pad;
};

/*
 * Per-CPU counters (array map "counters", one __u64 per index, per CPU).
 * Userspace sums over CPUs.
 */
enum aegis_counter {
	AEGIS_CNT_EVENTS = 0, /* records submitted */
	AEGIS_CNT_DROPS, /* bpf_ringbuf_reserve failures: records lost */
	AEGIS_CNT_DEDUP, /* repeats folded by in-kernel dedup */
	AEGIS_CNT_BLOCKS, /* connects/sends refused by enforce programs */
	AEGIS_CNT_KILLS, /* bpf_send_signal(SIGKILL) issued */
	AEGIS_CNT_MAX,
};
