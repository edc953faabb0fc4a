/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Process cache: (pid, start_time) -> struct proc_info, fed by the kernel's
 * exec and exit records, so that PID reuse cannot mix two processes and a
 * process that execs, connects and exits within a millisecond is still
 * attributed from what the kernel captured at exec time.
 *
 * - proc_cache_exec(): exe = the kernel-resolved absolute path (aegis_rec_exec
 *   .path; .filename when the path is empty or was cut), plus " (deleted)"
 *   when the file was unlinked; cmdline = argv joined with single spaces (raw
 *   bytes, NUL -> ' '). When the kernel cut argv at AEGIS_ARGV_MAX bytes,
 *   cmdline holds what was captured (an incomplete UTF-8 sequence at the cut
 *   is dropped) and cmdline_truncated is set: outputs show that as the
 *   cmdline_truncated field, the cmdline text itself carries no marker so
 *   policy regexes see exactly the captured bytes. user = name of uid
 *   (getpwuid_r once per uid; the number as text when there is none).
 *   cgroup = the cgroup v2 path of cgroup_id (open_by_handle_at() on the
 *   cgroup2 mount found in /proc/self/mountinfo, /proc/PID/cgroup as
 *   fallback; cached per id). unit = proc_cache_unit_from_cgroup(cgroup).
 *   A repeated exec in the same process (sh -c 'exec python3 ...') replaces
 *   exe and cmdline.
 * - proc_cache_exit(): the entry is kept PROC_CACHE_EXIT_GRACE_NS (kernel
 *   time, taken from the records' ts) so records still queued behind the exit
 *   resolve; the sweep is driven by record timestamps (exit and exec records
 *   sweep as they arrive) and by proc_cache_sweep().
 * - proc_cache_get(): a hit costs a hash lookup, no syscall. On a miss (a
 *   process started before aegis, or its exec record was lost) /proc/PID is
 *   read once, after checking that /proc/PID/stat's start time (field 22,
 *   clock ticks since boot) equals t->start_time at tick precision; a reused
 *   PID or a gone process yields an entry built from the task fields alone
 *   (pid, ppid, uid, user, comm, cgroup; exe and cmdline ""). Either way the
 *   result is cached and never NULL (except out of memory). Threads (tid !=
 *   pid) resolve to their process: the key is the thread-group id and the
 *   group leader's start time. On a hit, what can change without an exec is
 *   taken from t: uid/user and gid (a daemon that drops root after start),
 *   ppid, and cgroup/unit when t->cgroup_id differs; a uid or cgroup change
 *   clears the cached policy match (app, policy_gen).
 *
 * Returned pointers stay valid until the entry is swept (at least
 * PROC_CACHE_EXIT_GRACE_NS of record time after its exit) or, for the strings
 * exe/cmdline, until the next proc_cache_exec() of the same process. Copy what
 * must outlive the handling of one record.
 *
 * Not a pure module: it reads /proc and calls getpwuid_r(); it never logs
 * above debug.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "aegis.h"
#include "record.h"

#define PROC_CACHE_EXIT_GRACE_NS (2ull * 1000 * 1000 * 1000)
/* Above this many entries, live entries are checked against /proc and dead ones dropped. */
#define PROC_CACHE_MAX_ENTRIES 131072

struct proc_cache;

int proc_cache_new(struct proc_cache **ret);
struct proc_cache *proc_cache_free(struct proc_cache *c);

/* 0, or -ENOMEM (the cache is unchanged then). */
int proc_cache_exec(struct proc_cache *c, const struct aegis_rec_exec *e);
void proc_cache_exit(struct proc_cache *c, const struct aegis_rec_exit *e);
/* Never NULL unless out of memory. */
const struct proc_info *proc_cache_get(struct proc_cache *c, const struct aegis_task *t);
/* Frees exited entries older than the grace period at now_ns (CLOCK_BOOTTIME ns, the
 * clock of the records' ts); 0 = use the newest record time seen. */
void proc_cache_sweep(struct proc_cache *c, uint64_t now_ns);
/* Entries held (live and exited-in-grace). */
size_t proc_cache_size(const struct proc_cache *c);

/*
 * The systemd unit of a cgroup v2 path, as a new string in *ret (NULL when
 * there is none): the first path component whose name ends in ".service",
 * ".scope", ".socket", ".mount" or ".swap" (systemd's "_" escape prefix
 * removed), as sd_pid_get_unit() says: "/system.slice/nginx.service" ->
 * "nginx.service", "/system.slice/foo.service/payload" -> "foo.service".
 * Whatever lies below a unit is delegated to it, so
 * "/user.slice/user-1000.slice/user@1000.service/app.slice/nginx.service" is
 * "user@1000.service" and a container's "/machine.slice/machine-c1.scope/
 * payload/system.slice/sshd.service" is "machine-c1.scope": any user can
 * start a user service named "sshd.service", and it must not pass for the
 * system's. Slices are not units a process runs in. Returns 0 or -ENOMEM.
 */
int proc_cache_unit_from_cgroup(const char *cgroup, char **ret);

/*
 * The mount point of the first cgroup2 mount in /proc/self/mountinfo (never
 * assume /sys/fs/cgroup: hybrid layouts have it at /sys/fs/cgroup/unified),
 * as a new string. 0, -ENOENT if there is none, or -errno.
 */
int cgroup2_mount_point(char **ret);

/*
 * Joins len bytes of NUL-separated argv into one string with single spaces
 * (trailing NULs dropped); with truncated, an incomplete UTF-8 sequence at
 * the end is dropped too. Returns 0 or -ENOMEM.
 */
int proc_cache_join_argv(const char *argv, size_t len, bool truncated, char **ret);
