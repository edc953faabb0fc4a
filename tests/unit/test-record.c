// SPDX-License-Identifier: GPL-2.0-or-later
/* The record field table: names, order, values, and its JSON and line renderings. */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "aegis.h"
#include "config.h"
#include "json.h"
#include "record.h"
#include "strbuf.h"
#include "tap.h"

static struct proc_info test_proc = {
	.pid = 4242,
	.ppid = 1,
	.uid = 0,
	.comm = "curl",
	.exe = (char *)"/usr/bin/curl",
	.cmdline = (char *)"curl -s \"http://x/\"",
	.user = (char *)"root",
	.cgroup = (char *)"/system.slice/foo.service",
	.unit = (char *)"foo.service",
};

static struct record out_record(void)
{
	struct record r = {
		.time_usec = 1795291317123456ull, /* 2026-11-21T20:01:57.123456Z */
		.proc = &test_proc,
		.direction = AEGIS_DIR_OUT,
		.proto = AEGIS_PROTO_TCP,
		.family = AF_INET,
		.sport = 40312,
		.dport = 8080,
		.result = -115,
		.has_result = true,
	};

	inet_pton(AF_INET, "127.0.0.1", r.saddr);
	inet_pton(AF_INET, "10.1.2.3", r.daddr);
	return r;
}

struct names {
	struct strbuf b;
};

static int collect_names(const char *name, const char *value, size_t len, void *userdata)
{
	struct names *n = userdata;

	strbuf_puts(&n->b, name);
	strbuf_putc(&n->b, ' ');
	return 0;
}

TEST(field_names_and_order)
{
	struct record r = out_record();
	struct names n;

	strbuf_init(&n.b);
	ASSERT_OK(record_foreach_field(&r, collect_names, &n));
	ASSERT_STREQ(n.b.s, "time pid ppid uid user comm exe cmdline cmdline_truncated unit "
			    "cgroup direction proto src spt dst dpt result ");

	strbuf_reset(&n.b);
	r.outcome = OUTCOME_VIOLATION;
	ASSERT_OK(record_foreach_field(&r, collect_names, &n));
	ASSERT_STREQ(n.b.s, "time pid ppid uid user comm exe cmdline cmdline_truncated unit "
			    "cgroup direction proto src spt dst dpt result outcome rule actions "
			    "suppressed reason ");
	strbuf_done(&n.b);
}

static int stop_at_three(const char *name, const char *value, size_t len, void *userdata)
{
	int *count = userdata;

	return ++*count == 3 ? -ECANCELED : 0;
}

TEST(callback_error_stops)
{
	struct record r = out_record();
	int count = 0;

	ASSERT_EQ(record_foreach_field(&r, stop_at_three, &count), -ECANCELED);
	ASSERT_EQ(count, 3);
}

TEST(json_out_record)
{
	struct record r = out_record();
	struct strbuf b;

	strbuf_init(&b);
	ASSERT_OK(record_to_json(&r, &b));
	ASSERT_STREQ(b.s, "{\"time\":\"2026-11-21T20:01:57.123456Z\",\"pid\":4242,\"ppid\":1,"
			  "\"uid\":0,\"user\":\"root\",\"comm\":\"curl\",\"exe\":\"/usr/bin/curl\","
			  "\"cmdline\":\"curl -s \\\"http://x/\\\"\",\"cmdline_truncated\":false,"
			  "\"unit\":\"foo.service\",\"cgroup\":\"/system.slice/foo.service\","
			  "\"direction\":\"out\",\"proto\":\"tcp\",\"src\":\"127.0.0.1\","
			  "\"spt\":40312,\"dst\":\"10.1.2.3\",\"dpt\":8080,"
			  "\"result\":\"EINPROGRESS\"}");
	ASSERT_NULL(strchr(b.s, '\n'));
	strbuf_done(&b);
}

TEST(json_listen_v6_with_decision)
{
	struct record r = out_record();
	struct proc_info p = { .pid = 7, .comm = "nginx" }; /* everything else unknown */
	struct strbuf b;

	r.proc = &p;
	r.direction = AEGIS_DIR_LISTEN;
	r.family = AF_INET6;
	inet_pton(AF_INET6, "::", r.daddr);
	r.dport = 443;
	r.has_result = false;
	r.outcome = OUTCOME_VIOLATION;
	r.rule = "exe=nginx";
	r.actions = ACTION_LOG | ACTION_NOTIFY | ACTION_KILL;
	r.reason = "port 443 not in ports";
	r.suppressed = 3;

	strbuf_init(&b);
	ASSERT_OK(record_to_json(&r, &b));
	ASSERT_STREQ(b.s,
		     "{\"time\":\"2026-11-21T20:01:57.123456Z\",\"pid\":7,\"ppid\":0,"
		     "\"uid\":0,\"user\":\"\",\"comm\":\"nginx\",\"exe\":\"\","
		     "\"cmdline\":\"\",\"cmdline_truncated\":false,\"unit\":\"\",\"cgroup\":\"\","
		     "\"direction\":\"listen\",\"proto\":\"tcp\",\"src\":\"\",\"spt\":null,"
		     "\"dst\":\"::\",\"dpt\":443,\"result\":\"\",\"outcome\":\"violation\","
		     "\"rule\":\"exe=nginx\",\"actions\":\"log,notify,kill\",\"suppressed\":3,"
		     "\"reason\":\"port 443 not in ports\"}");
	strbuf_done(&b);
}

TEST(json_hostile_proc_strings)
{
	struct record r = out_record();
	struct proc_info p = test_proc;
	struct strbuf b;

	p.cmdline = (char *)"sh -c \"$(id)\" `x` \\ \n\x01\xff";
	p.cmdline_truncated = true;
	p.exe = (char *)"/tmp/a b/\xc3\x28 (deleted)";
	r.proc = &p;
	strbuf_init(&b);
	ASSERT_OK(record_to_json(&r, &b));
	ASSERT_NOT_NULL(strstr(b.s,
			       "\"cmdline\":\"sh -c \\\"$(id)\\\" `x` \\\\ \\n\\u0001\\\\xff\","
			       "\"cmdline_truncated\":true,"));
	ASSERT_NOT_NULL(strstr(b.s, "\"exe\":\"/tmp/a b/\\\\xc3( (deleted)\""));
	strbuf_done(&b);
}

TEST(time_format)
{
	char buf[40];

	ASSERT_STREQ(record_time_to_string(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000000Z");
	ASSERT_STREQ(record_time_to_string(1795291317000001ull, buf, sizeof(buf)),
		     "2026-11-21T20:01:57.000001Z");
	ASSERT_STREQ(record_time_to_string(951782400999999ull, buf, sizeof(buf)),
		     "2000-02-29T00:00:00.999999Z");
}

TEST(result_names)
{
	struct record r = out_record();
	char buf[32];

	r.result = 0;
	ASSERT_STREQ(record_result_to_string(&r, buf, sizeof(buf)), "0");
	r.result = -ECONNREFUSED;
	ASSERT_STREQ(record_result_to_string(&r, buf, sizeof(buf)), "ECONNREFUSED");
	r.result = -EPERM;
	ASSERT_STREQ(record_result_to_string(&r, buf, sizeof(buf)), "EPERM");
	r.result = -ENETUNREACH;
	ASSERT_STREQ(record_result_to_string(&r, buf, sizeof(buf)), "ENETUNREACH");
	r.result = -4000;
	ASSERT_STREQ(record_result_to_string(&r, buf, sizeof(buf)), "-4000");
	r.has_result = false;
	ASSERT_STREQ(record_result_to_string(&r, buf, sizeof(buf)), "");
}

TEST(enum_strings)
{
	ASSERT_STREQ(direction_to_string(AEGIS_DIR_OUT), "out");
	ASSERT_STREQ(direction_to_string(AEGIS_DIR_IN), "in");
	ASSERT_STREQ(direction_to_string(AEGIS_DIR_LISTEN), "listen");
	ASSERT_NULL(direction_to_string(0));
	ASSERT_STREQ(proto_to_string(AEGIS_PROTO_TCP), "tcp");
	ASSERT_STREQ(proto_to_string(AEGIS_PROTO_UDP), "udp");
	ASSERT_NULL(proto_to_string(1));
	ASSERT_STREQ(outcome_to_string(OUTCOME_NONE), "none");
	ASSERT_STREQ(outcome_to_string(OUTCOME_ALLOWED), "allowed");
	ASSERT_STREQ(outcome_to_string(OUTCOME_WHITELISTED), "whitelisted");
	ASSERT_STREQ(outcome_to_string(OUTCOME_IGNORED), "ignored");
	ASSERT_STREQ(outcome_to_string(OUTCOME_VIOLATION), "violation");
	ASSERT_STREQ(outcome_to_string(OUTCOME_UNCONFIGURED), "unconfigured");
	ASSERT_NULL(outcome_to_string(_OUTCOME_MAX));
}

TEST(addresses_and_remote)
{
	struct record r = out_record();
	const uint8_t *a;
	uint16_t port;
	char buf[64];
	uint8_t v6[16];

	record_addr_to_string(AF_INET, r.daddr, buf, sizeof(buf));
	ASSERT_STREQ(buf, "10.1.2.3");
	inet_pton(AF_INET6, "2001:db8::1", v6);
	record_addr_to_string(AF_INET6, v6, buf, sizeof(buf));
	ASSERT_STREQ(buf, "2001:db8::1");
	record_addr_to_string(0, v6, buf, sizeof(buf));
	ASSERT_STREQ(buf, "");

	record_remote(&r, &a, &port);
	ASSERT_TRUE(a == r.daddr);
	ASSERT_EQ(port, 8080);
	r.direction = AEGIS_DIR_IN;
	record_remote(&r, &a, &port);
	ASSERT_TRUE(a == r.saddr);
	ASSERT_EQ(port, 40312);
	r.direction = AEGIS_DIR_LISTEN;
	record_remote(&r, &a, &port);
	ASSERT_TRUE(a == r.daddr);
	ASSERT_EQ(port, 8080);
}

TEST(human_line)
{
	struct record r = out_record();
	struct proc_info p = test_proc;
	struct strbuf b;

	strbuf_init(&b);
	ASSERT_OK(record_to_line(&r, &b));
	ASSERT_STREQ(b.s,
		     "2026-11-21T20:01:57.123456Z out tcp 127.0.0.1:40312 -> 10.1.2.3:8080 "
		     "pid=4242 user=root exe=/usr/bin/curl cmdline=\"curl -s \\\"http://x/\\\"\" "
		     "unit=foo.service result=EINPROGRESS");

	p.cmdline = (char *)"evil\nline\x1b[2J\xff";
	p.cmdline_truncated = true;
	p.unit = NULL;
	r.proc = &p;
	r.direction = AEGIS_DIR_IN;
	r.family = AF_INET6;
	inet_pton(AF_INET6, "::1", r.saddr);
	inet_pton(AF_INET6, "::1", r.daddr);
	r.has_result = false;
	r.outcome = OUTCOME_UNCONFIGURED;
	r.rule = "unconfigured";
	r.actions = ACTION_LOG;
	strbuf_reset(&b);
	ASSERT_OK(record_to_line(&r, &b));
	ASSERT_STREQ(b.s, "2026-11-21T20:01:57.123456Z in tcp [::1]:40312 -> [::1]:8080 "
			  "pid=4242 user=root exe=/usr/bin/curl "
			  "cmdline=\"evil\\nline\\x1b[2J\\xff\"[truncated] unit=- result=- "
			  "outcome=unconfigured rule=unconfigured actions=log");
	ASSERT_NULL(strchr(b.s, '\n'));
	strbuf_done(&b);
}

TAP_MAIN()
