// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bare: the benchmark's reference tool (bare.bpf.c): one ring-buffer record
 * per connect(), consumed on a 10 ms timer (or when a quarter of the buffer
 * fills), counted and thrown away. Prints "bare ready" on stderr once
 * attached; on SIGINT/SIGTERM "bare counters: records=N drops=N".
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "bare.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int on_record(void *ctx, void *data, size_t size)
{
	(*(unsigned long long *)ctx)++;
	return 0;
}

int main(void)
{
	unsigned long long records = 0;
	struct ring_buffer *rb = NULL;
	struct bare *skel;
	int err;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = bare__open();
	if (!skel) {
		fprintf(stderr, "bare: open: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->wakeup_bytes = bpf_map__max_entries(skel->maps.rb) / 4;
	err = bare__load(skel);
	if (!err)
		err = bare__attach(skel);
	if (!err) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), on_record, &records, NULL);
		if (!rb)
			err = -errno;
	}
	if (err) {
		fprintf(stderr, "bare: load/attach: %s\n", strerror(-err));
		bare__destroy(skel);
		return 1;
	}
	fprintf(stderr, "bare ready\n");
	while (!stop) {
		/* epoll wakes early only on a forced wakeup; the timeout is the batch */
		err = ring_buffer__poll(rb, 10);
		if (err >= 0)
			err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "bare: ring buffer: %s\n", strerror(-err));
			break;
		}
	}
	ring_buffer__consume(rb);
	fprintf(stderr, "bare counters: records=%llu drops=%llu\n", records,
		(unsigned long long)skel->bss->drops);
	ring_buffer__free(rb);
	bare__destroy(skel);
	return err < 0 && err != -EINTR;
}
