/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy matcher: which [[app]] a process is, and what a connection of
 * that process means (allowed, violation, ...). Core module: no I/O but the
 * exe alias lookup of policy_new() (lstat/realpath of a few names in the
 * standard binary directories), no logging above debug, single-threaded (one policy object is used from one
 * thread: it keeps a PCRE2 match_data and interned reason strings inside).
 *
 * SEMANTICS (copied into aegis.toml(5))
 *
 * Terms. For every connection record:
 *   peer     the other endpoint: dst for direction "out", src for "in";
 *            "listen" has no peer.
 *   port     the service port, always dpt: the remote port of an outgoing
 *            connection, the local port an incoming connection reached, the
 *            port a socket listens on.
 *   local    the peer is this host: loopback (127.0.0.0/8, ::1), the
 *            unspecified address (0.0.0.0, ::), or any address currently
 *            configured on an interface of this host (kept current by the
 *            daemon). v4-mapped IPv6 (::ffff:a.b.c.d) is treated as IPv4.
 *   remote   any other peer.
 *
 * 1. Whitelist, first. The connection is WHITELISTED (no actions) when
 *    - the peer address is in whitelist.ips (not for "listen"), or
 *    - the port is in whitelist.ports (remote port out, local port in/listen),
 *    - the program is in whitelist.programs: an entry starting with "/" is
 *      compared with the executable's path, any other entry with its
 *      basename, also through the entry's exe aliases (2.), so "nc"
 *      whitelists nc.openbsd as well. A " (deleted)" suffix of the path is
 *      ignored.
 *
 * 2. App. The process is matched against every [[app]]. An app matches when
 *    ALL the matchers it sets match:
 *      exe      equals the basename of the executable path, or one of the
 *               exe's ALIASES (below);
 *      path     equals the executable path;
 *      cmdline  PCRE2 pattern found anywhere in argv joined by single
 *               spaces (unanchored: write ^...$ to anchor);
 *      user     the process's real uid equals the user's uid (or its name
 *               when the user did not exist at load time);
 *      unit     equals the systemd unit of the process's cgroup.
 *    When several apps match, the most specific wins: an app with cmdline
 *    beats any app without; then path beats no path; then exe beats no exe;
 *    then more of user/unit beats fewer. Equal specificity: the entry that
 *    comes later in the merged configuration (order of first appearance,
 *    main file first, then drop-ins by file name) wins.
 *    No app matches: UNCONFIGURED, actions = global.unconfigured_actions.
 *
 *    Exe aliases. The executable a process runs is the file the kernel
 *    opened, after following symlinks: "nc" on Debian is
 *    /usr/bin/nc -> /etc/alternatives/nc -> /bin/nc.openbsd, so the process's
 *    exe is ".../nc.openbsd". When the policy is compiled (on load and on
 *    every reload), NAME of every exe = NAME (and every whitelist.programs
 *    entry without a "/") is looked up in the standard binary directories
 *    /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin
 *    (root-owned); each entry there that is a symlink whose fully resolved
 *    target has a different basename adds that basename as an alias:
 *    exe = "nc" also matches nc.openbsd, exe = "python3" also matches
 *    python3.11. The same names are compiled into the kernel's exe keys.
 *    argv[0] and comm are never used (the process chooses them).
 *
 * 3. ignore = true: IGNORED, no actions.
 *
 * 4. Permissions: a local peer with local = false, or a remote peer with
 *    remote = false, is a VIOLATION. (listen is neither local nor remote.)
 *
 * 5. Allow lists: ports, locals, remotes. remotes entries are port-only
 *    ("8086": any peer on that port), address/CIDR ("10.1.0.0/16:5432",
 *    "127.0.0.1:8080", "[2001:db8::/32]:443": a peer in the CIDR on that
 *    port) or hostname ("bob.com:8086": a peer among the current addresses
 *    of bob.com, v4 and v6, resolved by the daemon off its event loop and
 *    refreshed; an unresolved name matches nothing). Ports may be ranges
 *    ("8000-8100").
 *    a. Which peer classes the lists restrict:
 *       LOCAL peers are restricted iff ports is set, or locals is set, or
 *       some remotes address/CIDR entry lies within loopback (127.0.0.0/8,
 *       ::1), or some remotes hostname entry is a loopback name
 *       ("localhost", "*.localhost", policy_host_is_loopback_name());
 *       REMOTE peers are restricted iff ports is set, or remotes has a
 *       port-only entry, a hostname entry other than a loopback name, or an
 *       address/CIDR entry outside loopback, or remotes is given as an empty
 *       list (remotes = []).
 *    b. A peer whose class is not restricted is ALLOWED.
 *    c. Otherwise the connection is ALLOWED iff
 *         the port is in ports; or
 *         the peer is local and the port is in locals; or
 *         some remotes address/CIDR/hostname entry matches the peer address
 *         and the port, whatever the peer's class; or
 *         the peer is remote and a port-only remotes entry has the port;
 *       else it is a VIOLATION.
 *    So remotes = ["127.0.0.1:8080"] allows local connections to
 *    127.0.0.1:8080 only (and leaves remote peers alone), and
 *    remotes = ["10.0.0.0/8:5432"] restricts remote peers only.
 *    "in" uses the same rules with the peer = the source and the port = our
 *    port: remotes restrict which peers may reach which local port
 *    ("10.0.0.0/8:5432": only 10/8 may connect to our port 5432).
 *    "listen" has no peer: only ports and locals apply; if neither is
 *    given it is ALLOWED, else ALLOWED iff the port is in one of them.
 *
 * 6. Actions. ALLOWED, WHITELISTED and IGNORED records have actions 0.
 *    VIOLATION: the app's actions when it sets actions, else
 *    global.default_actions. UNCONFIGURED: global.unconfigured_actions.
 *    When the resulting set contains "allow", it is exactly ACTION_ALLOW
 *    (explicit allow: no record, nothing runs).
 *    The detent (detent.h) then suppresses repeated log/notify/script; block
 *    and kill apply every time.
 *
 * Costs: app lookup is a hash lookup by executable path and basename (plus
 * unit/user for apps that only set those; exe aliases are extra keys of the
 * same index), and regexes only for apps with a cmdline (those with an exe/path too run their regex only when the exe/path
 * matched): independent of the number of apps. remotes CIDRs are compiled
 * into sorted intervals per distinct port range: O(log n) per port range.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addrset.h"
#include "config.h"
#include "record.h"

struct policy;
struct hostaddr;

/*
 * Compiles the matcher for c. c must stay valid (unchanged) until
 * policy_free(). Returns 0, -ENOMEM, or -EINVAL (an app's cmdline regex does
 * not compile, when the config did not compile it already).
 */
int policy_new(const struct config *c, struct policy **ret);
/* Accepts NULL; returns NULL. */
struct policy *policy_free(struct policy *p);

const struct config *policy_config(const struct policy *p);

/* Unique per policy object (never 0): validates proc_info->app caches. */
uint64_t policy_generation(const struct policy *p);
/*
 * Cmdline matches that failed (PCRE2 limits) since start: each counted as no
 * match, logged at powers of two.
 */
uint64_t policy_regex_errors(void);

/* The most specific matching app, or NULL (unconfigured). Does not use or fill proc->app. */
const struct app *policy_match_app(const struct policy *p, const struct proc_info *proc);

/*
 * The daemon's cached lookup: returns proc->app when proc->policy_gen is
 * this policy's generation, else matches and stores the result (also NULL)
 * with the generation. One regex/hash lookup per process and policy.
 */
const struct app *policy_app_cached(const struct policy *p, struct proc_info *proc);

/*
 * Every matching app, best first, up to max into ret (for explain); returns
 * how many matched (may exceed max).
 */
size_t policy_match_all(const struct policy *p, const struct proc_info *proc,
			const struct app **ret, size_t max);

/*
 * Decides r (r->proc must be set; proc->app is used when proc->policy_gen
 * equals policy_generation(p), else the app is matched). Fills r->outcome,
 * r->actions, r->rule, r->reason; the strings are static or owned by p and
 * valid until policy_free(p). h: this host's addresses, NULL = loopback
 * (and unspecified) only.
 */
void policy_decide(const struct policy *p, const struct hostaddr *h, struct record *r);

/* Display name of an app: its name, else "exe=x path=/y ...". Owned by p. */
const char *policy_app_name(const struct policy *p, const struct app *a);
/* The exe aliases of an app (policy.h 2), NULL-terminated, or NULL if none. Owned by p. */
char *const *policy_app_exe_aliases(const struct policy *p, const struct app *a);
/* Specificity rank as described above (higher wins). */
int policy_app_rank(const struct app *a);
/* Stable 64-bit hash of an app's identity (survives reloads): detent keys. */
uint64_t policy_app_hash(const struct app *a);

/*
 * Which peer classes an app's allow lists restrict (policy.h 5a). Shared by
 * the matcher and the kernel policy compiler so both agree.
 */
void policy_app_restricts(const struct app *a, bool *ret_local, bool *ret_remote);
/* A remotes entry that speaks about local peers: within 127.0.0.0/8 or ::1, or a loopback name. */
bool policy_remote_is_loopback(const struct remote_spec *s);
/* "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "*.localhost" (any case). */
bool policy_host_is_loopback_name(const char *host);

/* The standard binary directories exe aliases are looked up in, NULL-terminated. */
extern const char *const policy_std_exe_dirs[];

/*
 * Aliases of exe name (2. "Exe aliases"): for each directory of dirs
 * (NULL-terminated; NULL = policy_std_exe_dirs), if dir/name is a symlink
 * whose fully resolved target's basename differs from name, that basename.
 * *ret: NULL-terminated, each once, never name itself (strv_free() it); an
 * empty list when there is none. Returns 0 or -ENOMEM.
 */
int policy_exe_aliases(const char *const *dirs, const char *name, char ***ret);

/*
 * The same answers from one scan of the directories' symlinks (for many
 * names: a policy build). The index is a snapshot: build one per policy.
 */
struct policy_exe_index;
int policy_exe_index_new(const char *const *dirs, struct policy_exe_index **ret);
int policy_exe_index_aliases(const struct policy_exe_index *x, const char *name, char ***ret);
struct policy_exe_index *policy_exe_index_free(struct policy_exe_index *x);

/*
 * policy_new() with the directories exe aliases are looked up in (NULL =
 * policy_std_exe_dirs; an empty list = no aliases). For tests.
 */
int policy_new_with_exe_dirs(const struct config *c, const char *const *exe_dirs,
			     struct policy **ret);

/* Whether the peer is local (loopback, unspecified, or in h). */
bool policy_addr_is_local(const struct hostaddr *h, int family, const uint8_t addr[16]);

/*
 * Hostnames used in app remotes, NULL-terminated, each once; owned by p.
 * The daemon resolves them and hands the results over with
 * policy_set_host_addrs() (from the thread that uses p).
 */
char *const *policy_hosts(const struct policy *p);
/* Replaces host's addresses (host routes or CIDRs). -ENOENT if p has no such host. */
int policy_set_host_addrs(struct policy *p, const char *host, const struct cidr *addrs, size_t n);
/* Current addresses of host (NULL/0 when unresolved); -ENOENT if unknown. */
int policy_get_host_addrs(const struct policy *p, const char *host, const struct cidr **ret,
			  size_t *ret_n);

/* Detent key of a decided record: app identity (or the exe when unconfigured), peer, port, dir. */
struct detent_key;
void policy_detent_key(const struct policy *p, const struct record *r, struct detent_key *ret);
