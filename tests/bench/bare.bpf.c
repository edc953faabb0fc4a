// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The reference point for the benchmark: the least a connect monitor
 * can do with BPF. One ring-buffer record per sys_enter_connect (pid, comm,
 * the sockaddr as the caller passed it), wakeups batched as aegis batches
 * them. No attribution, no policy, no accept, no dedup: aegis's default
 * config should cost about as much.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct bare_rec {
	__u32 pid;
	__u32 fd;
	char comm[16];
	__u8 addr[28];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} rb SEC(".maps");

/* set by the loader: wake the consumer only when this much is queued */
const volatile __u64 wakeup_bytes = 1 << 20;
__u64 drops;

SEC("tracepoint/syscalls/sys_enter_connect")
int bare_connect(struct trace_event_raw_sys_enter *ctx)
{
	struct bare_rec *r;
	__u64 flags;

	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&drops, 1);
		return 0;
	}
	r->pid = bpf_get_current_pid_tgid() >> 32;
	r->fd = ctx->args[0];
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	if (bpf_probe_read_user(r->addr, sizeof(r->addr), (void *)ctx->args[1]) < 0)
		__builtin_memset(r->addr, 0, sizeof(r->addr));
	flags = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP :
									    BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(r, flags);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
