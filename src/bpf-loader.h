/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The observation programs (bpf/trace.bpf.c): open, configure, pick the attach
 * mode per event source, load, attach, read counters, detach.
 *
 * Attach modes, cheapest first, chosen by probing at start-up:
 *   exec, exit        tp_btf      > tracepoint
 *   connect           fentry      > cgroup > tracepoint
 *   accept            fentry      > tracepoint   (fexit inet_csk_accept)
 *   listen            fentry      > tracepoint   (fexit inet_listen)
 *   udp-send          fentry      > cgroup > tracepoint
 *   connect-indirect  cgroup      > tp_btf > tracepoint
 * connect: fexit on __sys_connect_file (connect(2) and io_uring, the address
 * already in the kernel); else the cgroup observer (below) as the entry half
 * and sys_exit_connect for the result (needs the syscall number in the hook:
 * bpf_task_pt_regs(), 5.15+, x86-64/arm64); else sys_enter/sys_exit_connect,
 * where the entry reads the address from user memory (a racing thread can
 * change it before the kernel copies it: the record could then name another
 * destination than the connect's).
 * udp-send: the same three ways: fexit on udp_sendmsg/udpv6_sendmsg; the
 * cgroup sendmsg4/6 observer with the send syscalls' exits (every message of
 * a sendmmsg(), io_uring sends too); sys_enter/exit of sendto, sendmsg and
 * sendmmsg (user memory again, and only the first message of a sendmmsg()).
 * connect-indirect: connects made outside connect(2) (io_uring, TCP Fast
 * Open, kernel sockets connected in a process's context): an observer on the
 * cgroup2 root's connect4/connect6 hooks (one run per connect, the kernel's
 * copy of the address; TCP and UDP), else the TCP state program
 * (inet_sock_set_state, CLOSE -> SYN_SENT: six runs per TCP connection, TCP
 * only). Either skips what the connect source reports; with fexit on
 * __sys_connect_file (which sees io_uring) that leaves only Fast Open.
 * The tracepoint set alone is complete. If loading or attaching the chosen
 * set fails, everything falls back to tracepoints. AEGIS_ATTACH_MODE=tracepoint
 * in the environment forces the baseline, =no-fentry the choice a kernel
 * without trampolines gets (tests, debugging).
 *
 * Kernels with bpf_rdonly_cast() (6.2+) get the tracepoints' _fast program
 * variants: socket fields are direct loads instead of one probe-read helper
 * call each (connect 535 -> 330 ns, accept 444 -> 251 ns per run measured).
 * The forced baseline keeps the probe-read variants.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "aegis.h"

enum bpf_source {
	BPF_SOURCE_EXEC,
	BPF_SOURCE_EXIT,
	BPF_SOURCE_CONNECT,
	BPF_SOURCE_ACCEPT,
	BPF_SOURCE_LISTEN,
	BPF_SOURCE_UDP_SEND,
	_BPF_SOURCE_MAX,
};

enum attach_mode {
	ATTACH_TRACEPOINT,
	ATTACH_TP_BTF,
	ATTACH_FENTRY,
	ATTACH_CGROUP,
	_ATTACH_MODE_MAX,
};

enum indirect_mode {
	INDIRECT_TRACEPOINT,
	INDIRECT_TP_BTF,
	INDIRECT_CGROUP,
	_INDIRECT_MODE_MAX,
};

const char *bpf_source_to_string(enum bpf_source s); /* "exec", "connect", "udp-send", ... */
const char *
attach_mode_to_string(enum attach_mode m); /* "tracepoint", "tp_btf", "fentry", "cgroup" */
const char *indirect_mode_to_string(enum indirect_mode m); /* "tracepoint", "tp_btf", "cgroup" */

struct bpf_loader_opts {
	uint64_t ringbuf_size; /* bytes, power of two >= page size; 0 = the BPF object's built-in size */
	uint64_t dedup_ns; /* in-kernel dedup window; 0 disables */
	bool force_tracepoints; /* skip probing, use the baseline */
	bool no_fentry; /* probe as if the kernel refused trampolines (lockdown) */
};

struct bpf_loader;

/* Opens, configures, loads and attaches. Logs the chosen modes at debug only. */
int bpf_loader_new(const struct bpf_loader_opts *opts, struct bpf_loader **ret);
/* Detaches every program (no new records); maps stay readable until bpf_loader_free(). */
void bpf_loader_detach(struct bpf_loader *l);
/* Detaches and unloads. Accepts NULL, returns NULL. */
struct bpf_loader *bpf_loader_free(struct bpf_loader *l);

enum attach_mode bpf_loader_mode(const struct bpf_loader *l, enum bpf_source s);
enum indirect_mode bpf_loader_indirect_mode(const struct bpf_loader *l);
/* "exec=tp_btf exit=tp_btf connect=tracepoint ... connect-indirect=cgroup" into buf; returns buf. */
char *bpf_loader_modes_to_string(const struct bpf_loader *l, char *buf, size_t size);

/* The ring buffer map fd (for ring_buffer__new()). */
int bpf_loader_ringbuf_fd(const struct bpf_loader *l);
/* The per-CPU counters map fd (enforce programs share it with bpf_map__reuse_fd()). */
int bpf_loader_counters_fd(const struct bpf_loader *l);
/* Sums the per-CPU counters into ret[AEGIS_CNT_MAX]. */
int bpf_loader_read_counters(const struct bpf_loader *l, uint64_t ret[AEGIS_CNT_MAX]);
/*
 * Runs of our programs the kernel skipped because another BPF program was
 * running on that CPU (bpf_prog_info.recursion_misses, 5.12+): events lost
 * before any of our code ran. 0 when the kernel does not count them.
 */
uint64_t bpf_loader_missed(const struct bpf_loader *l);

/* In-kernel folds not yet reported in a record's `suppressed`, per process. */
struct dedup_pending {
	uint32_t pid;
	uint64_t folded;
};
/*
 * Walks the dedup map: up to n processes with pending folds (the first n met)
 * into ret. Returns how many, or < 0. For the exit summary (one map walk).
 */
int bpf_loader_dedup_pending(const struct bpf_loader *l, struct dedup_pending *ret, size_t n);
