// SPDX-License-Identifier: GPL-2.0-or-later
/* Hook script environment: exactly the record, raw, nothing else (action-env.h). */
#include <arpa/inet.h>
#include <linux/types.h>
#include <sys/socket.h>

#include "action-env.h"
#include "aegis.h"
#include "config.h"
#include "json-value.h"
#include "json.h"
#include "macro.h"
#include "tap.h"

#define HOSTILE "/usr/bin/python3 -c $(touch /tmp/pwned); `id` \"q\" 'x'\nsecond line\\"

static struct proc_info proc = {
	.pid = 4242,
	.ppid = 1,
	.uid = 1000,
	.start_time = 123456789,
	.comm = "python3",
	.exe = (char *)"/usr/bin/python3.11",
	.cmdline = (char *)HOSTILE,
	.user = (char *)"alice",
	.cgroup = (char *)"/system.slice/evil.service",
	.unit = (char *)"evil.service",
};

static struct record make_record(void)
{
	struct record r = {
		.time_usec = 1700000000123456ULL,
		.proc = &proc,
		.direction = AEGIS_DIR_OUT,
		.proto = AEGIS_PROTO_TCP,
		.family = AF_INET,
		.sport = 40312,
		.dport = 6666,
		.has_result = true,
		.outcome = OUTCOME_VIOLATION,
		.actions = ACTION_LOG | ACTION_SCRIPT,
		.rule = "exe=python3",
		.reason = "port 6666 not in ports",
		.suppressed = 7,
	};

	inet_pton(AF_INET, "127.0.0.1", r.saddr);
	inet_pton(AF_INET, "10.1.2.3", r.daddr);
	return r;
}

static const char *env_get(char **env, const char *key)
{
	size_t n = strlen(key);

	STRV_FOREACH(e, env)
		if (strncmp(*e, key, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

TEST(entry_upper_cases_and_keeps_bytes)
{
	_cleanup_free_ char *s = NULL;
	static const char v[] = "a\nb$(x);`y`\0z";

	ASSERT_OK(action_env_entry("cmdline_truncated", v, sizeof(v) - 1, &s));
	ASSERT_STREQ(s, "AEGIS_CMDLINE_TRUNCATED=a\nb$(x);`y` z");
}

TEST(env_has_fixed_path_lang_and_only_aegis_vars)
{
	struct record r = make_record();
	_cleanup_strv_free_ char **env = NULL;

	setenv("AEGIS_LEAK_TEST", "secret", 1);
	setenv("LD_PRELOAD", "/tmp/evil.so", 1);
	ASSERT_OK(action_env_build(&r, "{}", &env));
	ASSERT_STREQ(env[0], "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	ASSERT_STREQ(env[1], "LANG=C.UTF-8");
	for (size_t i = 2; env[i]; i++) {
		const char *eq = strchr(env[i], '=');

		ASSERT_TRUE(strneq(env[i], "AEGIS_", 6));
		ASSERT_NOT_NULL(eq);
		for (const char *c = env[i]; c < eq; c++)
			ASSERT_TRUE((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
				    *c == '_');
	}
	ASSERT_NULL(env_get(env, "AEGIS_LEAK_TEST"));
	ASSERT_NULL(env_get(env, "LD_PRELOAD"));
	ASSERT_NULL(env_get(env, "HOME"));
}

TEST(env_fields_are_raw_record_values)
{
	struct record r = make_record();
	_cleanup_strv_free_ char **env = NULL;

	ASSERT_OK(action_env_build(&r, NULL, &env));
	ASSERT_STREQ(env_get(env, "AEGIS_PID"), "4242");
	ASSERT_STREQ(env_get(env, "AEGIS_PPID"), "1");
	ASSERT_STREQ(env_get(env, "AEGIS_UID"), "1000");
	ASSERT_STREQ(env_get(env, "AEGIS_USER"), "alice");
	ASSERT_STREQ(env_get(env, "AEGIS_EXE"), "/usr/bin/python3.11");
	ASSERT_STREQ(env_get(env, "AEGIS_CMDLINE"), HOSTILE);
	ASSERT_STREQ(env_get(env, "AEGIS_UNIT"), "evil.service");
	ASSERT_STREQ(env_get(env, "AEGIS_SRC"), "127.0.0.1");
	ASSERT_STREQ(env_get(env, "AEGIS_SPT"), "40312");
	ASSERT_STREQ(env_get(env, "AEGIS_DST"), "10.1.2.3");
	ASSERT_STREQ(env_get(env, "AEGIS_DPT"), "6666");
	ASSERT_STREQ(env_get(env, "AEGIS_PROTO"), "tcp");
	ASSERT_STREQ(env_get(env, "AEGIS_DIRECTION"), "out");
	ASSERT_STREQ(env_get(env, "AEGIS_OUTCOME"), "violation");
	ASSERT_STREQ(env_get(env, "AEGIS_RULE"), "exe=python3");
	ASSERT_STREQ(env_get(env, "AEGIS_ACTIONS"), "log,script");
	ASSERT_STREQ(env_get(env, "AEGIS_SUPPRESSED"), "7");
	ASSERT_STREQ(env_get(env, "AEGIS_REASON"), "port 6666 not in ports");
	ASSERT_NULL(env_get(env, "AEGIS_EVENT_JSON"));
}

/* Every field of record_foreach_field() appears once, in order, after PATH and LANG. */
static int count_cb(const char *name, const char *value, size_t len, void *userdata)
{
	(*(size_t *)userdata)++;
	return 0;
}

TEST(env_has_one_entry_per_field_plus_json)
{
	struct record r = make_record();
	_cleanup_strv_free_ char **env = NULL;
	size_t n = 0;

	ASSERT_OK(record_foreach_field(&r, count_cb, &n));
	ASSERT_OK(action_env_build(&r, "{\"a\":1}", &env));
	ASSERT_EQ(strv_length(env), 2 + n + 1);
	ASSERT_STREQ(env[2 + n], "AEGIS_EVENT_JSON={\"a\":1}");
}

TEST(event_json_round_trips_hostile_cmdline)
{
	struct record r = make_record();
	_cleanup_strv_free_ char **env = NULL;
	_cleanup_(jv_freep) struct jv *v = NULL;
	struct strbuf b;
	const char *json;

	strbuf_init(&b);
	ASSERT_OK(record_to_json(&r, &b));
	ASSERT_OK(action_env_build(&r, b.s, &env));
	strbuf_done(&b);
	json = env_get(env, "AEGIS_EVENT_JSON");
	ASSERT_NOT_NULL(json);
	ASSERT_NULL(strchr(json, '\n')); /* one line: the newline is escaped */
	ASSERT_OK(jv_parse(json, strlen(json), &v));
	ASSERT_STREQ(jv_get_str(v, "cmdline"), HOSTILE);
	ASSERT_STREQ(jv_get_str(v, "exe"), "/usr/bin/python3.11");
	ASSERT_STREQ(jv_get_str(v, "dst"), "10.1.2.3");
	ASSERT_STREQ(jv_scalar_text(jv_get(v, "dpt")), "6666");
}

TEST(empty_record_still_has_every_name)
{
	static const struct proc_info empty = {};
	struct record r = { .proc = &empty };
	_cleanup_strv_free_ char **env = NULL;

	ASSERT_OK(action_env_build(&r, NULL, &env));
	ASSERT_STREQ(env_get(env, "AEGIS_CMDLINE"), "");
	ASSERT_STREQ(env_get(env, "AEGIS_EXE"), "");
	ASSERT_STREQ(env_get(env, "AEGIS_UNIT"), "");
	/* no decision attached: the decision fields are absent */
	ASSERT_NULL(env_get(env, "AEGIS_OUTCOME"));
}

TAP_MAIN()
