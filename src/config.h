/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The validated, merged, immutable policy: everything from bytes on disk
 * (main file + drop-ins) to the object the daemon uses. Semantics are written
 * for users in man/aegis.toml.5.scd; in short:
 *
 * - Main file (default /etc/aegis.toml), then every *.toml in each of
 *   global.include_dirs, all files sorted together by file name (lexical,
 *   bytewise); a later file of the same name in a later dir is ignored
 *   (modprobe.d rule). Names starting with "." and names not ending in
 *   ".toml" are skipped. A drop-in that is a symlink to /dev/null masks that
 *   name. A missing include dir is a warning, not an error.
 * - --drop-in files (config_load_opts.drop_ins, check-config) are extra
 *   drop-ins sorted by their own file name (basename); one whose name equals
 *   an installed drop-in replaces it. Ansible validates a temp file
 *   (".../tmpXXXX" or ".../source"), not the final name: such a file is
 *   validated with everything installed, in the position of its temp name.
 * - include_dirs is read from the main file only. [global] and [notify] keys
 *   in drop-ins override earlier values; [whitelist] lists of all files are
 *   joined.
 * - An [[app]] is identified by its matchers (exe, path, cmdline, user, unit:
 *   exact strings as written, so user = "0" and user = "root" differ).
 *   A later entry with the same identity overrides field by field: fields
 *   it sets replace the earlier values, fields it does not set are
 *   inherited. config->apps holds the merged entries in order of first
 *   appearance; app->file/line name the entry that last changed it.
 * - local/remote are permissions (default true). ports/locals/remotes are
 *   allow lists: absent = unrestricted, present = only these.
 * - After a successful load app->actions is always filled: the entry's own
 *   actions (APP_F_ACTIONS) or else global.default_actions.
 * - Every file, include dir and script dir (and script named in scripts)
 *   must be owned by root and not writable by group/other.
 * - Durations: detent and kernel_dedup in seconds; script_timeout,
 *   notify.timeout and notify.backoff in milliseconds.
 * - Core module: no logging; all errors go to the diag list.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "addrset.h"

#define AEGIS_DEFAULT_CONFIG "/etc/aegis.toml"

/* Actions, as a bitmask. Order is the display order. */
enum action {
	ACTION_LOG = 1u << 0,
	ACTION_NOTIFY = 1u << 1,
	ACTION_SCRIPT = 1u << 2,
	ACTION_BLOCK = 1u << 3,
	ACTION_KILL = 1u << 4,
	ACTION_ALLOW = 1u << 5,
	_ACTION_ALL = (1u << 6) - 1,
};
/* "log", "notify", ...; NULL for anything that is not exactly one action bit. */
const char *action_to_string(unsigned action);
/* Single action from its name; -EINVAL if unknown. */
int action_from_string(const char *s);
/* Comma-separated names ("log,notify") into buf; returns buf. "" for 0. */
char *actions_to_string(unsigned actions, char *buf, size_t size);

/* One entry of app.remotes: "8086", "host:8086", "ip:port", "cidr:port", "[v6]:port". */
enum remote_kind {
	REMOTE_PORT_ONLY, /* any address, given ports */
	REMOTE_CIDR, /* an address or CIDR (an address is a /32 or /128) */
	REMOTE_HOST, /* a hostname, resolved at run time by the daemon */
};
struct remote_spec {
	enum remote_kind kind;
	struct cidr cidr; /* REMOTE_CIDR */
	char *host; /* REMOTE_HOST */
	struct port_range ports; /* always set; a single port is lo == hi */
	unsigned line, col;
};

/* Which fields of an [[app]] the files set (for field-wise override and --dump). */
enum app_field {
	APP_F_IGNORE = 1u << 0,
	APP_F_REMOTES = 1u << 1,
	APP_F_LOCALS = 1u << 2,
	APP_F_PORTS = 1u << 3,
	APP_F_LOCAL = 1u << 4,
	APP_F_REMOTE = 1u << 5,
	APP_F_ACTIONS = 1u << 6,
	APP_F_SCRIPTS = 1u << 7,
	APP_F_NAME = 1u << 8,
};

struct app {
	/* identity (matchers); at least one of exe/path/cmdline/user/unit is set */
	char *exe; /* basename of the executable */
	char *path; /* absolute path of the executable */
	char *cmdline; /* PCRE2 source, matched against argv joined by spaces */
	void *cmdline_re; /* pcre2_code *, compiled once with JIT; byte mode (no UTF), unanchored */
	char *user; /* user name or numeric uid as written */
	uid_t uid; /* resolved (user given); (uid_t)-1 otherwise */
	char *unit; /* systemd unit name, e.g. "nginx.service" */

	char *name; /* optional display name (key "name"); else derived by app_identity() */
	unsigned set; /* enum app_field bits set by some file */

	bool ignore;
	bool local; /* default true */
	bool remote; /* default true */
	struct portset ports; /* allowed either way (remote ports out, local ports in) */
	struct portset locals; /* ports allowed towards this host */
	struct remote_spec *remotes;
	size_t n_remotes;
	unsigned actions; /* APP_F_ACTIONS set: these; else global.default_actions */
	char **scripts; /* NULL-terminated; absolute paths; NULL = global.script_dirs */

	/* provenance of the entry that last changed it */
	const char *file; /* points into config->files */
	unsigned line;
	size_t index; /* position in config->apps */
};

/* "exe=telegraf path=/usr/bin/x cmdline=/re/ user=u unit=x.service" into buf; returns buf. */
char *app_identity(const struct app *a, char *buf, size_t size);
/* Specificity rank used to pick among matches: cmdline > path > exe (user/unit add). */
int app_specificity(const struct app *a);

struct config_global {
	char **include_dirs; /* default {"/etc/aegis.d"} */
	char **script_dirs; /* default {"/etc/aegis/scripts"} */
	uint64_t detent; /* seconds; 0 disables; default 86400 */
	uint64_t detent_max; /* LRU cap of the detent cache; default 65536 */
	unsigned default_actions; /* default log,notify */
	unsigned unconfigured_actions; /* default log */
	/* required to accept block/kill in unconfigured_actions */
	bool block_unconfigured_programs;
	uint64_t ringbuf_size; /* bytes, power of two; default 1 MiB */
	uint64_t kernel_dedup; /* seconds a (process, dst, dir) repeat is folded in-kernel; default 60 */
	bool enforce_persist; /* pin enforcement in bpffs; default false */
	char *json_log; /* path of a JSON-lines record log, "-" for stdout; NULL = none */
	uint64_t script_timeout; /* ms; default 10000 */
	uint64_t script_max; /* concurrent hook scripts; default 8 */
	uint64_t script_queue_max; /* pending hook runs beyond script_max; default 1024 */
};

struct config_notify {
	char **webhooks; /* http(s) URLs; NULL = none */
	uint64_t timeout; /* ms per attempt; default 5000 */
	uint64_t retries; /* default 3 */
	uint64_t backoff; /* ms, doubled per retry; default 1000 */
	uint64_t queue_max; /* pending notifications; default 1024 */
};

struct config_whitelist {
	struct addrset ips; /* addresses and CIDRs, v4 and v6 */
	struct portset ports;
	char **programs; /* exe basenames, or absolute paths */
};

struct config {
	char **files; /* every file read, in order (main first) */
	struct config_global global;
	struct config_notify notify;
	struct config_whitelist whitelist;
	struct app **apps; /* merged entries, in order of first appearance */
	size_t n_apps;
};

/* Diagnostics collected while loading: every error, not just the first. */
struct diag {
	char *file; /* NULL for errors not tied to a file */
	unsigned line, col; /* 0 when unknown */
	char *msg;
	bool warning; /* warnings do not fail the load */
};
struct diag_list {
	struct diag *d;
	size_t n;
	size_t n_errors;
};
void diag_list_done(struct diag_list *l);
/* "file:line:col: error: msg" per line. */
void diag_list_print(const struct diag_list *l, FILE *f);

struct config_load_opts {
	const char *main_path; /* NULL = AEGIS_DEFAULT_CONFIG */
	char **drop_ins; /* extra drop-in files (check-config --drop-in), NULL-terminated */
	/*
	 * Unit tests only: do not require root-owned, non-writable files. Never
	 * set by the daemon or check-config.
	 */
	bool skip_owner_check;
};

/*
 * Loads, merges and validates. Returns 0 and *ret on success (warnings may be
 * in diags); -EINVAL when any error was found (all are in diags, *ret
 * untouched); -ENOMEM etc. on resource failure.
 */
int config_load(const struct config_load_opts *opts, struct config **ret, struct diag_list *diags);
struct config *config_free(struct config *c);

/* Writes the effective merged policy as TOML that itself passes check-config. */
int config_dump(const struct config *c, FILE *f);
