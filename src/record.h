/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The attributed connection record: one kernel event plus the identity of the
 * process behind it and, once the policy ran, the decision. This is what every
 * output (stdout line, JSON lines, journald, webhook, hook env, control socket)
 * is made from, through ONE field table (record_fields[] in record.c), so the
 * names agree everywhere:
 *
 *   JSON key "dst"  ==  hook env AEGIS_DST  ==  journald field AEGIS_DST
 *
 * Fields, in order: time pid ppid uid user comm exe cmdline cmdline_truncated
 * unit cgroup direction proto src spt dst dpt result | outcome rule actions
 * suppressed reason (the last group only once a decision is attached).
 * Unknown/empty values are emitted as "" (strings) and are still present in
 * JSON (as "" for strings, null for numbers).
 *
 * Values (text, as hook env and journald get them):
 *   time       RFC 3339 UTC with microseconds: "2026-11-21T20:01:57.123456Z"
 *   pid ppid uid spt dpt suppressed   decimal; spt is "" for listen
 *   cmdline    argv joined by single spaces, raw bytes (writers escape)
 *   cmdline_truncated  "true" when the kernel cut argv at AEGIS_ARGV_MAX
 *              bytes (cmdline then holds the first ~4 KiB), else "false"
 *   unit       "" when the cgroup is not a systemd unit
 *   result     "0" on success, else the errno name of the syscall result:
 *              "EINPROGRESS", "ECONNREFUSED", "EPERM" (blocked), ...; "-N" for
 *              an errno without a name; "" when the event has no result
 *              (accept, listen, UDP send)
 *   actions    comma list in display order, "log,notify"; "" for none
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct app;

/* What userspace knows about a process (from exec events, /proc as fallback). */
struct proc_info {
	pid_t pid;
	pid_t ppid;
	uid_t uid;
	gid_t gid;
	uint64_t start_time; /* ns since boot (group leader), as in the kernel */
	uint64_t cgroup_id;
	uint64_t exe_ino;
	uint32_t exe_dev;
	char comm[16];
	char *exe; /* absolute path; " (deleted)" suffix when unlinked */
	char *cmdline; /* argv joined by spaces; raw bytes, escaping is the writer's job */
	bool cmdline_truncated; /* argv was cut at AEGIS_ARGV_MAX */
	char *user; /* name from uid, or the number as text */
	char *cgroup; /* cgroup v2 path, e.g. "/system.slice/nginx.service" */
	char *unit; /* systemd unit from the cgroup path, or NULL */
	/* policy cache: the app this process matched, valid for policy_gen */
	const struct app *app;
	uint64_t policy_gen;
};

enum outcome {
	OUTCOME_NONE = 0, /* not evaluated (plain `aegis run` without policy) */
	OUTCOME_ALLOWED, /* matched an app and its allow rules */
	OUTCOME_WHITELISTED, /* whitelist ips/ports/programs */
	OUTCOME_IGNORED, /* app has ignore = true */
	OUTCOME_VIOLATION, /* configured app broke its rules */
	OUTCOME_UNCONFIGURED, /* no app matched */
	_OUTCOME_MAX,
};
/* "none", "allowed", "whitelisted", "ignored", "violation", "unconfigured"; NULL if out of range. */
const char *outcome_to_string(enum outcome o);

struct record {
	uint64_t time_usec; /* CLOCK_REALTIME of the kernel event */
	const struct proc_info *proc; /* never NULL; fields may be empty */
	uint8_t direction; /* enum aegis_direction */
	uint8_t proto; /* enum aegis_proto */
	uint8_t family; /* AF_INET / AF_INET6 */
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	int32_t result; /* 0 or -errno */
	bool has_result;
	/* decision */
	enum outcome outcome;
	unsigned actions; /* enum action bits that apply */
	const char *rule; /* app identity or "whitelist:..." / "unconfigured" */
	const char *reason; /* short human reason, e.g. "port 6666 not in ports" */
	uint64_t suppressed; /* repeats suppressed (kernel dedup + detent) since last record */
};

/* Callback per field: name is lower case ("dst"); value is raw (unescaped) text. */
typedef int (*record_field_cb)(const char *name, const char *value, size_t len, void *userdata);
/* Calls cb for every field in the documented order; stops on cb < 0 and returns it. */
int record_foreach_field(const struct record *r, record_field_cb cb, void *userdata);

/* The JSON type of a field. A NUMBER with len 0 is unknown (JSON null). */
enum field_kind {
	FIELD_KIND_STRING,
	FIELD_KIND_NUMBER,
	FIELD_KIND_BOOL, /* value "true" / "false" */
};
typedef int (*record_field_typed_cb)(const char *name, enum field_kind kind, const char *value,
				     size_t len, void *userdata);
/* record_foreach_field() with the kind of each value (JSON writer, journald);
 * cb > 0 stops early and returns 0 (a lookup found its field). */
int record_foreach_field_typed(const struct record *r, record_field_typed_cb cb, void *userdata);
/* RFC 3339 UTC with microseconds into buf (>= 28 bytes); returns buf. */
char *record_time_to_string(uint64_t time_usec, char *buf, size_t size);
/* "0", "EINPROGRESS", ... as described above, into buf (>= 16 bytes); returns buf. */
char *record_result_to_string(const struct record *r, char *buf, size_t size);

/* Endpoint text: "203.0.113.7", "2001:db8::1"; "" when unset. */
void record_addr_to_string(int family, const uint8_t addr[16], char *buf, size_t size);
const char *direction_to_string(int direction); /* "out", "in", "listen"; NULL if unknown */
const char *proto_to_string(int proto); /* "tcp", "udp"; NULL if unknown */
/* The remote endpoint for policy: dst for out/listen, src for in. */
void record_remote(const struct record *r, const uint8_t **ret_addr, uint16_t *ret_port);
