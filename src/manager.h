/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon: owns the event loop, the configuration, the BPF programs, the
 * ring buffer consumer and the process cache; turns kernel records into
 * attributed struct records and hands each to manager_handle_record().
 *
 * Life cycle (cmd-run.c):
 *   manager_new(&m);                 everything empty, fds -EBADF
 *   manager_startup(m, &opts);       config, BPF load+attach, loop sources,
 *                                    "aegis ready: ..." + READY=1
 *   manager_run(m);                  until SIGINT/SIGTERM
 *   manager_free(m);                 detach, drain, flush, counters to stderr
 *
 * Seams for the later modules are marked "SEAM(<module>)" in manager.c: the
 * policy decision and detent in manager_handle_record(), actions after it,
 * enforcement map updates in manager_apply_config(), the control socket in
 * manager_startup() (status via manager_attach_mode()/manager_counters()),
 * SIGCHLD in on_signal().
 *
 * Signals: SIGINT, SIGTERM, SIGHUP and SIGCHLD are blocked and read from a
 * signalfd; SIGPIPE is ignored. Blocked masks are inherited across exec:
 * whoever spawns children (hook scripts) must reset the mask
 * (posix_spawnattr_setsigmask + POSIX_SPAWN_SETSIGMASK, SETSIGDEF for SIGPIPE).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "aegis.h"
#include "bpf-loader.h"
#include "strbuf.h"

struct config;
struct control;
struct event_loop;
struct event_source;
struct proc_cache;
struct record;
struct ring_buffer;

#define MANAGER_DEFAULT_RINGBUF_SIZE (1ULL << 20)
#define MANAGER_DEFAULT_KERNEL_DEDUP_SEC 60
/* Ring buffer poll period bounds (wakeups are batched in the kernel). */
#define MANAGER_POLL_MIN_USEC (10ULL * 1000)
#define MANAGER_POLL_MAX_USEC (80ULL * 1000)
/* Detent expiry period. */
#define MANAGER_DETENT_EXPIRE_USEC (60ULL * 1000 * 1000)
/* Process cache sweep period. */
#define MANAGER_SWEEP_USEC (1000ULL * 1000)
/* Returning freed heap to the kernel (malloc_trim), at most this often and only after records. */
#define MANAGER_TRIM_USEC (10ULL * 1000 * 1000)
/* Records handled per ring-buffer drain before the loop serves other sources. */
#define MANAGER_BATCH 4096
/* Pending stdout bytes beyond this are dropped (counted) rather than blocking. */
#define MANAGER_OUT_MAX (16U << 20)

struct manager_opts {
	const char *config_path; /* -c; NULL = AEGIS_DEFAULT_CONFIG if it exists */
	bool quiet; /* -q: no per-connection lines on stdout */
	bool no_config; /* run without policy */
	bool json; /* JSON lines on stdout instead of text lines */
};

/* Userspace counters since start. */
struct manager_stats {
	uint64_t records; /* ring-buffer records consumed */
	uint64_t execs, exits, conns;
	uint64_t bad; /* records with an unknown type or a short size */
	uint64_t output_dropped; /* lines not written: stdout backlog full */
	uint64_t reloads, reload_failures;
};

struct manager {
	struct manager_opts opts;
	struct event_loop *loop;
	struct config *config; /* NULL: no policy (log every connection) */

	struct bpf_loader *bpf;
	struct ring_buffer *rb;
	struct proc_cache *procs;

	int signal_fd;
	struct event_source *rb_source, *signal_source, *timer_source, *post_source;
	uint64_t poll_usec; /* current ring-buffer poll period */
	unsigned batch_left; /* records left in the current drain */
	int64_t boot_to_real_usec; /* CLOCK_REALTIME - CLOCK_BOOTTIME, per drain */

	struct strbuf out; /* pending stdout bytes */
	size_t out_off; /* written prefix of out */
	enum { OUTPUT_PLAIN, OUTPUT_FIFO, OUTPUT_SOCKET } out_kind; /* what stdout is */
	struct event_source *out_source; /* EPOLLOUT on stdout while bytes wait */
	struct strbuf line; /* scratch for one rendered record */

	uint64_t watchdog_usec; /* WATCHDOG_USEC, 0 = off */
	uint64_t watchdog_last;
	uint64_t sweep_last;
	uint64_t trim_last, trim_records; /* last malloc_trim(): time, stats.records then */
	uint64_t started_usec; /* CLOCK_MONOTONIC */
	struct manager_stats stats;

	/* With a policy (all NULL with --no-config): */
	struct policy *policy; /* the matcher compiled from config, swapped on reload */
	struct detent *detent; /* suppression of repeated log/notify/script */
	struct hostaddr *hostaddr; /* this host's addresses (local/remote), kept current */
	uint64_t hostaddr_gen; /* generation last pushed to enforce */
	struct resolve *resolve; /* hostnames of app remotes, off the loop */
	struct actions *actions; /* log/notify/script/kill on the loop */
	struct enforce *enforce; /* cgroup programs + policy maps (block, kill) */
	uint64_t detent_last; /* CLOCK_MONOTONIC of the last detent expiry */
	uint64_t apply_policy_usec, apply_enforce_usec; /* last manager_apply_config() phases */
	uint64_t start_load_usec; /* the configuration's load at start */
	bool trace_stdout; /* per-connection lines on stdout (off when stdout is the journal) */
	struct control *control; /* status/events/reload socket (manager-control.c) */
};

int manager_new(struct manager **ret);
/* Detaches BPF, drains what is left, flushes stdout, prints counters. Accepts NULL. */
struct manager *manager_free(struct manager *m);

int manager_startup(struct manager *m, const struct manager_opts *opts);
/* Runs the loop until SIGINT/SIGTERM; returns 0 or a negative errno. */
int manager_run(struct manager *m);

/*
 * Loads the configuration off to the side and swaps it in when valid; on
 * failure the old one stays and every diagnostic is logged. msg (may be
 * NULL) gets one human line. Used for SIGHUP and by the control socket.
 */
int manager_reload(struct manager *m, struct strbuf *msg);

/* The one place every attributed connection record goes through. */
void manager_handle_record(struct manager *m, struct record *rec);

/* For `aegis status`. */
enum attach_mode manager_attach_mode(const struct manager *m, enum bpf_source s);
int manager_counters(const struct manager *m, uint64_t ret[AEGIS_CNT_MAX]);
