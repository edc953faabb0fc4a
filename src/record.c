// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one field table every output is made from (see record.h). A field's
 * getter returns its raw text, either a string owned by the record/proc_info
 * or one formatted into the caller's scratch buffer.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/types.h>

#include "aegis.h"
#include "config.h"
#include "macro.h"
#include "record.h"

#define FIELD_BUF 64 /* >= INET6_ADDRSTRLEN, a u64 in decimal, a time stamp */

struct record_field {
	const char *name;
	enum field_kind kind;
	bool decision; /* only present once a decision is attached */
	const char *(*get)(const struct record *r, char *buf);
};

static const char *const outcome_table[_OUTCOME_MAX] = {
	[OUTCOME_NONE] = "none",
	[OUTCOME_ALLOWED] = "allowed",
	[OUTCOME_WHITELISTED] = "whitelisted",
	[OUTCOME_IGNORED] = "ignored",
	[OUTCOME_VIOLATION] = "violation",
	[OUTCOME_UNCONFIGURED] = "unconfigured",
};

const char *outcome_to_string(enum outcome o)
{
	if ((unsigned)o >= _OUTCOME_MAX)
		return NULL;
	return outcome_table[o];
}

const char *direction_to_string(int direction)
{
	switch (direction) {
	case AEGIS_DIR_OUT:
		return "out";
	case AEGIS_DIR_IN:
		return "in";
	case AEGIS_DIR_LISTEN:
		return "listen";
	}
	return NULL;
}

const char *proto_to_string(int proto)
{
	switch (proto) {
	case AEGIS_PROTO_TCP:
		return "tcp";
	case AEGIS_PROTO_UDP:
		return "udp";
	}
	return NULL;
}

void record_addr_to_string(int family, const uint8_t addr[16], char *buf, size_t size)
{
	if (size == 0)
		return;
	buf[0] = 0;
	if (family != AF_INET && family != AF_INET6)
		return;
	if (!inet_ntop(family, addr, buf, size))
		buf[0] = 0;
}

void record_remote(const struct record *r, const uint8_t **ret_addr, uint16_t *ret_port)
{
	if (r->direction == AEGIS_DIR_IN) {
		*ret_addr = r->saddr;
		*ret_port = r->sport;
	} else {
		*ret_addr = r->daddr;
		*ret_port = r->dport;
	}
}

char *record_time_to_string(uint64_t time_usec, char *buf, size_t size)
{
	time_t sec = (time_t)(time_usec / 1000000);
	struct tm tm;

	if (!gmtime_r(&sec, &tm) ||
	    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRIu64 "Z", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     time_usec % 1000000) < 0)
		snprintf(buf, size, "%s", "");
	return buf;
}

char *record_result_to_string(const struct record *r, char *buf, size_t size)
{
	const char *name;

	if (!r->has_result)
		snprintf(buf, size, "%s", "");
	else if (r->result >= 0)
		snprintf(buf, size, "%" PRIi32, r->result);
	else if ((name = strerrorname_np(-r->result)))
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "%" PRIi32, r->result);
	return buf;
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

static const char *fmt_u64(uint64_t v, char *buf)
{
	snprintf(buf, FIELD_BUF, "%" PRIu64, v);
	return buf;
}

static const char *get_time(const struct record *r, char *buf)
{
	return record_time_to_string(r->time_usec, buf, FIELD_BUF);
}

static const char *get_pid(const struct record *r, char *buf)
{
	return fmt_u64((uint64_t)r->proc->pid, buf);
}

static const char *get_ppid(const struct record *r, char *buf)
{
	return fmt_u64((uint64_t)r->proc->ppid, buf);
}

static const char *get_uid(const struct record *r, char *buf)
{
	return fmt_u64((uint64_t)r->proc->uid, buf);
}

static const char *get_user(const struct record *r, char *buf)
{
	return str_or_empty(r->proc->user);
}

static const char *get_comm(const struct record *r, char *buf)
{
	/* comm may fill all 16 bytes without a NUL when it came from the kernel raw */
	snprintf(buf, FIELD_BUF, "%.*s", (int)sizeof(r->proc->comm), r->proc->comm);
	return buf;
}

static const char *get_exe(const struct record *r, char *buf)
{
	return str_or_empty(r->proc->exe);
}

static const char *get_cmdline(const struct record *r, char *buf)
{
	return str_or_empty(r->proc->cmdline);
}

static const char *get_cmdline_truncated(const struct record *r, char *buf)
{
	return r->proc->cmdline_truncated ? "true" : "false";
}

static const char *get_unit(const struct record *r, char *buf)
{
	return str_or_empty(r->proc->unit);
}

static const char *get_cgroup(const struct record *r, char *buf)
{
	return str_or_empty(r->proc->cgroup);
}

static const char *get_direction(const struct record *r, char *buf)
{
	return str_or_empty(direction_to_string(r->direction));
}

static const char *get_proto(const struct record *r, char *buf)
{
	return str_or_empty(proto_to_string(r->proto));
}

static const char *get_src(const struct record *r, char *buf)
{
	if (r->direction == AEGIS_DIR_LISTEN)
		return "";
	record_addr_to_string(r->family, r->saddr, buf, FIELD_BUF);
	return buf;
}

static const char *get_spt(const struct record *r, char *buf)
{
	if (r->direction == AEGIS_DIR_LISTEN)
		return "";
	return fmt_u64(r->sport, buf);
}

static const char *get_dst(const struct record *r, char *buf)
{
	record_addr_to_string(r->family, r->daddr, buf, FIELD_BUF);
	return buf;
}

static const char *get_dpt(const struct record *r, char *buf)
{
	return fmt_u64(r->dport, buf);
}

static const char *get_result(const struct record *r, char *buf)
{
	return record_result_to_string(r, buf, FIELD_BUF);
}

static const char *get_outcome(const struct record *r, char *buf)
{
	return str_or_empty(outcome_to_string(r->outcome));
}

static const char *get_rule(const struct record *r, char *buf)
{
	return str_or_empty(r->rule);
}

static const char *get_actions(const struct record *r, char *buf)
{
	return actions_to_string(r->actions, buf, FIELD_BUF);
}

static const char *get_suppressed(const struct record *r, char *buf)
{
	return fmt_u64(r->suppressed, buf);
}

static const char *get_reason(const struct record *r, char *buf)
{
	return str_or_empty(r->reason);
}

static const struct record_field record_fields[] = {
	{ "time", FIELD_KIND_STRING, false, get_time },
	{ "pid", FIELD_KIND_NUMBER, false, get_pid },
	{ "ppid", FIELD_KIND_NUMBER, false, get_ppid },
	{ "uid", FIELD_KIND_NUMBER, false, get_uid },
	{ "user", FIELD_KIND_STRING, false, get_user },
	{ "comm", FIELD_KIND_STRING, false, get_comm },
	{ "exe", FIELD_KIND_STRING, false, get_exe },
	{ "cmdline", FIELD_KIND_STRING, false, get_cmdline },
	{ "cmdline_truncated", FIELD_KIND_BOOL, false, get_cmdline_truncated },
	{ "unit", FIELD_KIND_STRING, false, get_unit },
	{ "cgroup", FIELD_KIND_STRING, false, get_cgroup },
	{ "direction", FIELD_KIND_STRING, false, get_direction },
	{ "proto", FIELD_KIND_STRING, false, get_proto },
	{ "src", FIELD_KIND_STRING, false, get_src },
	{ "spt", FIELD_KIND_NUMBER, false, get_spt },
	{ "dst", FIELD_KIND_STRING, false, get_dst },
	{ "dpt", FIELD_KIND_NUMBER, false, get_dpt },
	{ "result", FIELD_KIND_STRING, false, get_result },
	{ "outcome", FIELD_KIND_STRING, true, get_outcome },
	{ "rule", FIELD_KIND_STRING, true, get_rule },
	{ "actions", FIELD_KIND_STRING, true, get_actions },
	{ "suppressed", FIELD_KIND_NUMBER, true, get_suppressed },
	{ "reason", FIELD_KIND_STRING, true, get_reason },
};

int record_foreach_field_typed(const struct record *r, record_field_typed_cb cb, void *userdata)
{
	static const struct proc_info empty_proc = {};
	struct record rr = *r;
	char buf[FIELD_BUF];

	/* the contract says proc is never NULL; do not crash if a caller slips */
	if (!rr.proc)
		rr.proc = &empty_proc;

	for (size_t i = 0; i < ARRAY_SIZE(record_fields); i++) {
		const struct record_field *f = &record_fields[i];
		const char *v;
		int k;

		if (f->decision && r->outcome == OUTCOME_NONE)
			continue;
		buf[0] = 0;
		v = f->get(&rr, buf);
		k = cb(f->name, f->kind, v, strlen(v), userdata);
		if (k != 0)
			return k < 0 ? k : 0;
	}
	return 0;
}

struct untyped_ctx {
	record_field_cb cb;
	void *userdata;
};

static int untyped_cb(const char *name, enum field_kind kind, const char *value, size_t len,
		      void *userdata)
{
	struct untyped_ctx *ctx = userdata;

	return ctx->cb(name, value, len, ctx->userdata);
}

int record_foreach_field(const struct record *r, record_field_cb cb, void *userdata)
{
	struct untyped_ctx ctx = { cb, userdata };

	return record_foreach_field_typed(r, untyped_cb, &ctx);
}
