// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Policy matcher: app specificity and ties, every allow-rule class, v4/v6
 * and v4-mapped, whitelist, ignore, default vs app actions, hosts, detent
 * keys. Configs are built by hand (struct config/app), plus one
 * config_load()-based test through a real TOML file.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aegis.h"
#include "config.h"
#include "detent.h"
#include "hostaddr.h"
#include "macro.h"
#include "policy.h"
#include "record.h"
#include "tap.h"

/* ---- builders ---- */

static struct config *cfg_new(void)
{
	struct config *c = calloc(1, sizeof(*c));

	c->global.default_actions = ACTION_LOG | ACTION_NOTIFY;
	c->global.unconfigured_actions = ACTION_LOG;
	c->global.detent = 86400;
	return c;
}

static struct app *app_add(struct config *c, const char *exe, const char *path, const char *cmdline)
{
	struct app *a = calloc(1, sizeof(*a));

	a->exe = exe ? strdup(exe) : NULL;
	a->path = path ? strdup(path) : NULL;
	a->cmdline = cmdline ? strdup(cmdline) : NULL;
	a->uid = (uid_t)-1;
	a->local = a->remote = true;
	a->index = c->n_apps;
	a->line = (unsigned)c->n_apps + 1;
	c->apps = realloc(c->apps, (c->n_apps + 1) * sizeof(*c->apps));
	c->apps[c->n_apps++] = a;
	return a;
}

static void ports_add(struct portset *s, uint16_t lo, uint16_t hi)
{
	portset_add(s, (struct port_range){ lo, hi });
	s->set = true;
}

static void remote_add(struct app *a, const char *spec_addr, const char *host, uint16_t lo,
		       uint16_t hi)
{
	struct remote_spec *s;

	a->remotes = realloc(a->remotes, (a->n_remotes + 1) * sizeof(*a->remotes));
	s = &a->remotes[a->n_remotes++];
	*s = (struct remote_spec){ .ports = { lo, hi } };
	if (host) {
		s->kind = REMOTE_HOST;
		s->host = strdup(host);
	} else if (spec_addr) {
		s->kind = REMOTE_CIDR;
		if (cidr_parse(spec_addr, &s->cidr, NULL) < 0)
			abort();
	} else {
		s->kind = REMOTE_PORT_ONLY;
	}
	a->set |= APP_F_REMOTES;
}

static void cfg_free(struct config *c)
{
	for (size_t i = 0; i < c->n_apps; i++) {
		struct app *a = c->apps[i];

		free(a->exe);
		free(a->path);
		free(a->cmdline);
		free(a->user);
		free(a->unit);
		free(a->name);
		portset_done(&a->ports);
		portset_done(&a->locals);
		for (size_t j = 0; j < a->n_remotes; j++)
			free(a->remotes[j].host);
		free(a->remotes);
		free(a);
	}
	free(c->apps);
	addrset_done(&c->whitelist.ips);
	portset_done(&c->whitelist.ports);
	strv_free(c->whitelist.programs);
	free(c);
}

static struct proc_info proc_make(const char *exe, const char *cmdline)
{
	return (struct proc_info){
		.pid = 1234,
		.uid = 1000,
		.exe = (char *)exe,
		.cmdline = (char *)cmdline,
		.user = (char *)"alice",
	};
}

/* An outgoing v4/v6 connection from proc to addr:port. */
static struct record rec_out(const struct proc_info *p, const char *addr, uint16_t port)
{
	struct record r = { .proc = p, .direction = AEGIS_DIR_OUT, .proto = AEGIS_PROTO_TCP };

	if (inet_pton(AF_INET, addr, r.daddr) == 1) {
		r.family = AF_INET;
		inet_pton(AF_INET, "10.9.9.9", r.saddr);
	} else {
		r.family = AF_INET6;
		inet_pton(AF_INET6, addr, r.daddr);
		inet_pton(AF_INET6, "2001:db8:ffff::9", r.saddr);
	}
	r.dport = port;
	r.sport = 40000;
	return r;
}

/* An incoming connection from peer:40000 to our port. */
static struct record rec_in(const struct proc_info *p, const char *peer, uint16_t port)
{
	struct record r = rec_out(p, peer, port);

	memcpy(r.saddr, r.daddr, 16);
	memset(r.daddr, 0, 16);
	r.sport = 40000;
	r.direction = AEGIS_DIR_IN;
	return r;
}

static struct policy *pol(const struct config *c)
{
	struct policy *p = NULL;

	if (policy_new(c, &p) < 0)
		abort();
	return p;
}

#define DECIDE(p, r) policy_decide((p), NULL, &(r))

/* ---- matching ---- */

TEST(unconfigured_gets_unconfigured_actions)
{
	struct config *c = cfg_new();
	struct proc_info pi = proc_make("/usr/bin/curl", "curl http://x");
	struct policy *p;
	struct record r;

	app_add(c, "telegraf", NULL, NULL);
	p = pol(c);
	r = rec_out(&pi, "203.0.113.7", 443);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_UNCONFIGURED);
	ASSERT_EQ(r.actions, ACTION_LOG);
	ASSERT_STREQ(r.rule, "unconfigured");
	ASSERT_NULL(policy_match_app(p, &pi));
	policy_free(p);
	cfg_free(c);
}

TEST(exe_path_cmdline_specificity)
{
	struct config *c = cfg_new();
	struct app *cmd, *path, *exe, *other;
	struct proc_info pi = proc_make("/usr/bin/python3", "python3 /srv/app/worker.py --x");
	struct policy *p;

	cmd = app_add(c, NULL, NULL, "worker\\.py"); /* first: specificity beats order */
	path = app_add(c, NULL, "/usr/bin/python3", NULL);
	exe = app_add(c, "python3", NULL, NULL);
	other = app_add(c, NULL, NULL, "^nomatch$");
	p = pol(c);
	ASSERT_TRUE(policy_match_app(p, &pi) == cmd);

	pi.cmdline = (char *)"python3 other.py";
	ASSERT_TRUE(policy_match_app(p, &pi) == path);

	pi.exe = (char *)"/opt/py/bin/python3";
	ASSERT_TRUE(policy_match_app(p, &pi) == exe);

	pi.exe = (char *)"/usr/bin/perl";
	ASSERT_NULL(policy_match_app(p, &pi));
	(void)other;

	/* match_all: best first. */
	const struct app *all[8];
	pi = proc_make("/usr/bin/python3", "python3 worker.py");
	ASSERT_EQ(policy_match_all(p, &pi, all, 8), 3);
	ASSERT_TRUE(all[0] == cmd);
	ASSERT_TRUE(all[1] == path);
	ASSERT_TRUE(all[2] == exe);
	policy_free(p);
	cfg_free(c);
}

/* A cmdline match that hits PCRE2's limits counts as no match, and is counted. */
TEST(cmdline_regex_failure_counted)
{
	struct config *c = cfg_new();
	struct proc_info pi = proc_make("/usr/bin/python3", "aaaa");
	char crafted[128];
	struct policy *p;
	struct app *a;
	uint64_t n0;

	a = app_add(c, NULL, NULL, "^(a|aa)+$"); /* backtracks exponentially before a 'b' */
	p = pol(c);
	ASSERT_TRUE(policy_match_app(p, &pi) == a);
	n0 = policy_regex_errors();
	memset(crafted, 'a', 100);
	strcpy(crafted + 100, "b");
	pi.cmdline = crafted;
	ASSERT_NULL(policy_match_app(p, &pi));
	ASSERT_TRUE(policy_regex_errors() == n0 + 1);
	pi.cmdline = (char *)"aaab";
	ASSERT_NULL(policy_match_app(p, &pi)); /* a plain no match is not a failure */
	ASSERT_TRUE(policy_regex_errors() == n0 + 1);
	policy_free(p);
	cfg_free(c);
}

TEST(all_matchers_must_match)
{
	struct config *c = cfg_new();
	struct app *a, *plain;
	struct proc_info pi = proc_make("/usr/bin/curl", "curl -s http://x");
	struct policy *p;

	plain = app_add(c, "curl", NULL, NULL);
	a = app_add(c, "curl", NULL, "--insecure");
	a->user = strdup("root");
	a->uid = 0;
	p = pol(c);
	ASSERT_TRUE(policy_match_app(p, &pi) == plain); /* cmdline and user fail */
	pi.cmdline = (char *)"curl --insecure http://x";
	ASSERT_TRUE(policy_match_app(p, &pi) == plain); /* user still fails */
	pi.uid = 0;
	ASSERT_TRUE(policy_match_app(p, &pi) == a);
	pi.exe = (char *)"/usr/bin/wget"; /* exe fails: regex alone is not enough */
	ASSERT_NULL(policy_match_app(p, &pi));
	policy_free(p);
	cfg_free(c);
}

TEST(ties_go_to_later_entry)
{
	struct config *c = cfg_new();
	struct app *a1, *a2, *u1, *u2;
	struct proc_info pi = proc_make("/usr/bin/nc", "nc -l 1");
	struct policy *p;

	a1 = app_add(c, "nc", NULL, NULL);
	a2 = app_add(c, NULL, NULL, "nc");
	u1 = app_add(c, NULL, NULL, "-l");
	(void)a1;
	(void)a2;
	p = pol(c);
	ASSERT_TRUE(policy_match_app(p, &pi) == u1); /* two cmdline-only: the later */
	policy_free(p);

	/* exe+user vs exe+unit: same rank, later wins; in the other order too. */
	u1 = app_add(c, "nc", NULL, "nc");
	u1->user = strdup("alice");
	u2 = app_add(c, "nc", NULL, "nc");
	u2->unit = strdup("x.service");
	pi.unit = (char *)"x.service";
	p = pol(c);
	ASSERT_TRUE(policy_match_app(p, &pi) == u2);
	policy_free(p);
	cfg_free(c);
}

TEST(user_and_unit_only_apps)
{
	struct config *c = cfg_new();
	struct app *byuid, *byname, *byunit;
	struct proc_info pi = proc_make("/bin/sh", "sh");
	struct policy *p;

	byuid = app_add(c, NULL, NULL, NULL);
	byuid->user = strdup("alice");
	byuid->uid = 1000;
	byname = app_add(c, NULL, NULL, NULL);
	byname->user = strdup("ghost"); /* unresolved user: by name */
	byname->uid = (uid_t)-1;
	byunit = app_add(c, NULL, NULL, NULL);
	byunit->unit = strdup("nginx.service");
	p = pol(c);
	ASSERT_TRUE(policy_match_app(p, &pi) == byuid);
	pi.uid = 2000;
	pi.user = (char *)"ghost";
	ASSERT_TRUE(policy_match_app(p, &pi) == byname);
	pi.unit = (char *)"nginx.service";
	ASSERT_TRUE(policy_match_app(p, &pi) == byunit); /* same rank, later */
	pi.user = (char *)"bob";
	pi.unit = NULL;
	ASSERT_NULL(policy_match_app(p, &pi));
	policy_free(p);
	cfg_free(c);
}

TEST(deleted_exe_still_matches)
{
	struct config *c = cfg_new();
	struct app *a, *b;
	struct proc_info pi = proc_make("/usr/sbin/sshd (deleted)", "sshd");
	struct policy *p;

	a = app_add(c, "sshd", NULL, NULL);
	b = app_add(c, NULL, "/usr/sbin/sshd", NULL);
	p = pol(c);
	ASSERT_TRUE(policy_match_app(p, &pi) == b);
	pi.exe = (char *)"/tmp/sshd (deleted)";
	ASSERT_TRUE(policy_match_app(p, &pi) == a);
	pi.exe = NULL;
	pi.cmdline = NULL;
	ASSERT_NULL(policy_match_app(p, &pi));
	policy_free(p);
	cfg_free(c);
}

TEST(generation_unique_and_cache_used)
{
	struct config *c = cfg_new();
	struct app *a, *b;
	struct proc_info pi = proc_make("/usr/bin/telegraf", "telegraf");
	struct policy *p1, *p2;
	struct record r;

	a = app_add(c, "telegraf", NULL, NULL);
	ports_add(&a->ports, 8086, 8086);
	b = app_add(c, "other", NULL, NULL);
	p1 = pol(c);
	p2 = pol(c);
	ASSERT_NE(policy_generation(p1), policy_generation(p2));
	ASSERT_NE(policy_generation(p1), 0);
	/* A valid cache entry is trusted (here: deliberately pointing at b). */
	pi.app = b;
	pi.policy_gen = policy_generation(p1);
	r = rec_out(&pi, "203.0.113.7", 6666);
	DECIDE(p1, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED); /* b has no lists */
	ASSERT_STREQ(r.rule, "exe=other");
	/* A stale one is not. */
	r = rec_out(&pi, "203.0.113.7", 6666);
	DECIDE(p2, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_STREQ(r.rule, "exe=telegraf");
	policy_free(p1);
	policy_free(p2);
	cfg_free(c);
}

TEST(app_cached_fills_proc)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "telegraf", NULL, NULL);
	struct proc_info pi = proc_make("/usr/bin/telegraf", "telegraf");
	struct proc_info pu = proc_make("/usr/bin/other", "other");
	struct policy *p = pol(c);

	ASSERT_TRUE(policy_app_cached(p, &pi) == a);
	ASSERT_EQ(pi.policy_gen, policy_generation(p));
	ASSERT_TRUE(pi.app == a);
	ASSERT_NULL(policy_app_cached(p, &pu));
	ASSERT_EQ(pu.policy_gen, policy_generation(p)); /* "no app" is cached too */
	/* the cache is trusted while the generation matches */
	pi.exe = (char *)"/usr/bin/other";
	ASSERT_TRUE(policy_app_cached(p, &pi) == a);
	policy_free(p);
	cfg_free(c);
}

/* ---- allow rules ---- */

TEST(ports_allowed_and_violation_reason)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "telegraf", NULL, NULL);
	struct proc_info pi = proc_make("/usr/bin/telegraf", "telegraf");
	struct policy *p;
	struct record r;

	ports_add(&a->ports, 8086, 8086);
	p = pol(c);
	r = rec_out(&pi, "203.0.113.7", 8086);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	ASSERT_EQ(r.actions, 0);
	r = rec_out(&pi, "203.0.113.7", 6666);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_EQ(r.actions, ACTION_LOG | ACTION_NOTIFY); /* global default */
	ASSERT_STREQ(r.reason, "remote port 6666 not in ports [8086]");
	ASSERT_STREQ(r.rule, "exe=telegraf");
	/* Interned: same pointer for the same reason. */
	const char *first = r.reason;
	r = rec_out(&pi, "203.0.113.8", 6666);
	DECIDE(p, r);
	ASSERT_TRUE(r.reason == first);
	/* ports also allow towards this host, and the local port of incoming ones. */
	r = rec_out(&pi, "127.0.0.1", 8086);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_in(&pi, "203.0.113.7", 8086);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_in(&pi, "203.0.113.7", 22);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason, "incoming port 22 from remote 203.0.113.7 not in ports [8086]");
	policy_free(p);
	cfg_free(c);
}

TEST(app_actions_override_default)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "x", NULL, NULL), *b = app_add(c, "y", NULL, NULL);
	struct proc_info pi = proc_make("/bin/x", "x");
	struct policy *p;
	struct record r;

	ports_add(&a->ports, 1, 1);
	a->actions = ACTION_KILL | ACTION_LOG;
	a->set |= APP_F_ACTIONS;
	ports_add(&b->ports, 1, 1);
	b->actions = ACTION_ALLOW | ACTION_LOG;
	b->set |= APP_F_ACTIONS;
	p = pol(c);
	r = rec_out(&pi, "203.0.113.7", 2);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_EQ(r.actions, ACTION_KILL | ACTION_LOG);
	pi.exe = (char *)"/bin/y";
	r = rec_out(&pi, "203.0.113.7", 2);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_EQ(r.actions, ACTION_ALLOW); /* explicit allow: nothing else runs */
	policy_free(p);
	c->global.unconfigured_actions = ACTION_ALLOW | ACTION_NOTIFY;
	p = pol(c);
	pi.exe = (char *)"/bin/z";
	r = rec_out(&pi, "203.0.113.7", 2);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_UNCONFIGURED);
	ASSERT_EQ(r.actions, ACTION_ALLOW);
	policy_free(p);
	cfg_free(c);
}

TEST(local_remote_permissions)
{
	struct config *c = cfg_new();
	struct app *nl = app_add(c, "nolocal", NULL, NULL);
	struct app *nr = app_add(c, "noremote", NULL, NULL);
	struct proc_info pi = proc_make("/bin/nolocal", "");
	struct policy *p;
	struct record r;

	nl->local = false;
	nr->remote = false;
	p = pol(c);
	r = rec_out(&pi, "127.0.0.53", 53);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason, "local connections forbidden (local = false)");
	r = rec_out(&pi, "::1", 53);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	r = rec_out(&pi, "::ffff:127.0.0.1", 53); /* v4-mapped loopback */
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	r = rec_out(&pi, "0.0.0.0", 53); /* the unspecified address reaches this host */
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	r = rec_out(&pi, "203.0.113.7", 53);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);

	pi.exe = (char *)"/bin/noremote";
	r = rec_out(&pi, "203.0.113.7", 53);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason, "remote connections forbidden (remote = false)");
	r = rec_out(&pi, "2001:db8::1", 53);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	r = rec_out(&pi, "127.0.0.1", 53);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	policy_free(p);
	cfg_free(c);
}

TEST(host_addresses_are_local)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "nolocal", NULL, NULL);
	struct proc_info pi = proc_make("/bin/nolocal", "");
	struct hostaddr h = { .fd = -1 };
	struct cidr own4, own6;
	struct policy *p;
	struct record r;

	a->local = false;
	ASSERT_OK(cidr_parse("192.0.2.10", &own4, NULL));
	ASSERT_OK(cidr_parse("2001:db8:1::10", &own6, NULL));
	ASSERT_OK(addrset_add(&h.addrs, &own4));
	ASSERT_OK(addrset_add(&h.addrs, &own6));
	addrset_finalize(&h.addrs);
	p = pol(c);
	r = rec_out(&pi, "192.0.2.10", 80);
	policy_decide(p, &h, &r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	r = rec_out(&pi, "192.0.2.10", 80);
	policy_decide(p, NULL, &r); /* without hostaddr: loopback only */
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_out(&pi, "2001:db8:1::10", 80);
	policy_decide(p, &h, &r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	r = rec_out(&pi, "::ffff:192.0.2.10", 80);
	policy_decide(p, &h, &r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	r = rec_out(&pi, "192.0.2.11", 80);
	policy_decide(p, &h, &r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	ASSERT_TRUE(policy_addr_is_local(&h, AF_INET, own4.addr));
	ASSERT_FALSE(policy_addr_is_local(NULL, AF_INET, own4.addr));
	policy_free(p);
	addrset_done(&h.addrs);
	cfg_free(c);
}

TEST(locals_only_for_local_peers)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "app", NULL, NULL);
	struct proc_info pi = proc_make("/bin/app", "");
	struct policy *p;
	struct record r;

	ports_add(&a->locals, 5432, 5432);
	p = pol(c);
	r = rec_out(&pi, "127.0.0.1", 5432);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_out(&pi, "127.0.0.1", 5433);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason, "local port 5433 not in locals [5432]");
	/* Remote peers are not restricted by locals (no remotes/ports given). */
	r = rec_out(&pi, "203.0.113.7", 9999);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	/* ... and locals do not allow remote peers when remotes restrict. */
	remote_add(a, NULL, NULL, 443, 443);
	policy_free(p);
	p = pol(c);
	r = rec_out(&pi, "203.0.113.7", 5432);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason, "remote 203.0.113.7 port 5432 not in remotes [443]");
	r = rec_out(&pi, "203.0.113.7", 443);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	/* incoming from a local peer: locals apply to our port */
	r = rec_in(&pi, "127.0.0.1", 5432);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	policy_free(p);
	cfg_free(c);
}

TEST(ports_and_locals_combined_reason)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "app", NULL, NULL);
	struct proc_info pi = proc_make("/bin/app", "");
	struct policy *p;
	struct record r;

	ports_add(&a->ports, 443, 443);
	ports_add(&a->ports, 8000, 8100);
	ports_add(&a->locals, 5432, 5432);
	p = pol(c);
	r = rec_out(&pi, "127.0.0.1", 22);
	DECIDE(p, r);
	ASSERT_STREQ(r.reason, "local port 22 not in ports [443, 8000-8100] or locals [5432]");
	r = rec_out(&pi, "127.0.0.1", 8050);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_out(&pi, "203.0.113.1", 5432);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason, "remote port 5432 not in ports [443, 8000-8100]");
	policy_free(p);
	cfg_free(c);
}

TEST(remotes_cidr_port_v4_v6)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "app", NULL, NULL);
	struct proc_info pi = proc_make("/bin/app", "");
	struct policy *p;
	struct record r;

	remote_add(a, "10.1.0.0/16", NULL, 5432, 5432);
	remote_add(a, "10.2.0.0/16", NULL, 6000, 6010);
	remote_add(a, "2001:db8::/32", NULL, 443, 443);
	remote_add(a, NULL, NULL, 8086, 8086);
	p = pol(c);
	struct {
		const char *addr;
		uint16_t port;
		enum outcome o;
	} cases[] = {
		{ "10.1.2.3", 5432, OUTCOME_ALLOWED },
		{ "10.1.2.3", 5433, OUTCOME_VIOLATION },
		{ "10.3.2.3", 5432, OUTCOME_VIOLATION },
		{ "10.2.0.1", 6005, OUTCOME_ALLOWED },
		{ "10.2.0.1", 6011, OUTCOME_VIOLATION },
		{ "10.1.0.1", 6005, OUTCOME_VIOLATION },
		{ "2001:db8:5::1", 443, OUTCOME_ALLOWED },
		{ "2001:db9::1", 443, OUTCOME_VIOLATION },
		{ "::ffff:10.1.9.9", 5432, OUTCOME_ALLOWED },
		{ "198.51.100.1", 8086, OUTCOME_ALLOWED },
		{ "2001:db9::1", 8086, OUTCOME_ALLOWED },
		{ "127.0.0.1", 1, OUTCOME_ALLOWED }, /* local: remotes do not apply */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		r = rec_out(&pi, cases[i].addr, cases[i].port);
		DECIDE(p, r);
		if (r.outcome != cases[i].o)
			TAP_FAIL("%s port %u: outcome %d, expected %d", cases[i].addr,
				 cases[i].port, r.outcome, cases[i].o);
	}
	r = rec_out(&pi, "10.3.0.1", 1);
	DECIDE(p, r);
	ASSERT_STREQ(r.reason, "remote 10.3.0.1 port 1 not in remotes [10.1.0.0/16:5432, "
			       "10.2.0.0/16:6000-6010, [2001:db8::/32]:443, 8086]");
	/* incoming: remotes restrict which peers reach our port */
	r = rec_in(&pi, "10.1.7.7", 5432);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_in(&pi, "10.9.7.7", 5432);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	policy_free(p);
	cfg_free(c);
}

TEST(remotes_empty_list_forbids_remote)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "app", NULL, NULL);
	struct proc_info pi = proc_make("/bin/app", "");
	struct policy *p;
	struct record r;

	a->set |= APP_F_REMOTES; /* remotes = [] */
	p = pol(c);
	r = rec_out(&pi, "198.51.100.1", 80);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	r = rec_out(&pi, "127.0.0.1", 80);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	policy_free(p);
	cfg_free(c);
}

TEST(remotes_many_cidrs)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "app", NULL, NULL);
	struct proc_info pi = proc_make("/bin/app", "");
	struct policy *p;
	struct record r;
	char buf[32];

	/* 50,000 disjoint /30s in 10.0.0.0/8, all on port 443, plus a few on 80. */
	for (unsigned i = 0; i < 50000; i++) {
		snprintf(buf, sizeof(buf), "10.%u.%u.%u/30", (i * 8) >> 16, ((i * 8) >> 8) & 255,
			 (i * 8) & 255);
		remote_add(a, buf, NULL, 443, 443);
	}
	remote_add(a, "192.0.2.0/24", NULL, 80, 80);
	p = pol(c);
	r = rec_out(&pi, "10.0.0.2", 443);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_out(&pi, "10.0.0.5", 443); /* in the gap between /30s */
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	r = rec_out(&pi, "10.6.26.121", 443); /* i = 49999: 399992 = 10.6.26.120 */
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_out(&pi, "10.0.0.2", 80);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_TRUE(strstr(r.reason, "… 49993 more]") != NULL);
	r = rec_out(&pi, "192.0.2.77", 80);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	policy_free(p);
	cfg_free(c);
}

TEST(remotes_hostnames)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "app", NULL, NULL), *b = app_add(c, "other", NULL, NULL);
	struct proc_info pi = proc_make("/bin/app", "");
	struct policy *p;
	struct record r;
	struct cidr addrs[2];
	const struct cidr *got;
	size_t n;

	remote_add(a, NULL, "bob.example", 8086, 8086);
	remote_add(b, NULL, "bob.example", 9000, 9000);
	remote_add(b, NULL, "alice.example", 9000, 9000);
	p = pol(c);
	ASSERT_EQ(strv_length(policy_hosts(p)), 2);
	/* Unresolved: matches nothing. */
	r = rec_out(&pi, "198.51.100.5", 8086);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason, "remote 198.51.100.5 port 8086 not in remotes [bob.example:8086]");
	ASSERT_OK(cidr_parse("198.51.100.5", &addrs[0], NULL));
	ASSERT_OK(cidr_parse("2001:db8::5", &addrs[1], NULL));
	ASSERT_OK(policy_set_host_addrs(p, "bob.example", addrs, 2));
	ASSERT_EQ(policy_set_host_addrs(p, "nobody.example", addrs, 2), -ENOENT);
	ASSERT_OK(policy_get_host_addrs(p, "bob.example", &got, &n));
	ASSERT_EQ(n, 2);
	r = rec_out(&pi, "198.51.100.5", 8086);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_out(&pi, "2001:db8::5", 8086);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_out(&pi, "198.51.100.5", 8087);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	/* Shared host entry: the other app sees the same addresses. */
	pi.exe = (char *)"/bin/other";
	r = rec_out(&pi, "2001:db8::5", 9000);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	/* Addresses change: the old one no longer matches. */
	ASSERT_OK(policy_set_host_addrs(p, "bob.example", &addrs[1], 1));
	r = rec_out(&pi, "198.51.100.5", 9000);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	policy_free(p);
	cfg_free(c);
}

TEST(listen_uses_ports_and_locals)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "nginx", NULL, NULL);
	struct proc_info pi = proc_make("/usr/sbin/nginx", "");
	struct policy *p;
	struct record r;

	ports_add(&a->ports, 80, 80);
	ports_add(&a->locals, 8080, 8080);
	a->local = false; /* listen is neither local nor remote */
	p = pol(c);
	r = rec_out(&pi, "0.0.0.0", 80);
	r.direction = AEGIS_DIR_LISTEN;
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r.dport = 8080;
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r.dport = 9090;
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason, "listen port 9090 not in ports [80] or locals [8080]");
	policy_free(p);
	cfg_free(c);
}

/* ---- issue 5 semantics (policy.h 5): which classes the lists restrict ---- */

/* rec_out + DECIDE, returning the outcome. */
static enum outcome decide_out(const struct policy *p, const struct proc_info *pi, const char *addr,
			       uint16_t port, struct record *r)
{
	*r = rec_out(pi, addr, port);
	DECIDE(p, *r);
	return r->outcome;
}

TEST(loopback_remotes_restrict_local_peers)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "nc", NULL, NULL);
	struct proc_info pi = proc_make("/usr/bin/nc", "nc 127.0.0.1 9090");
	bool lr, rr;
	struct policy *p;
	struct record r;

	remote_add(a, "127.0.0.1", NULL, 8080, 8080);
	a->actions = ACTION_BLOCK | ACTION_LOG;
	a->set |= APP_F_ACTIONS;
	policy_app_restricts(a, &lr, &rr);
	ASSERT_TRUE(lr);
	ASSERT_FALSE(rr);
	p = pol(c);
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.1", 8080, &r), OUTCOME_ALLOWED);
	ASSERT_STREQ(r.reason, "peer in remotes");
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.1", 9090, &r), OUTCOME_VIOLATION);
	ASSERT_EQ(r.actions, ACTION_BLOCK | ACTION_LOG);
	ASSERT_STREQ(r.reason, "local 127.0.0.1 port 9090 not in remotes [127.0.0.1:8080]");
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.2", 8080, &r), OUTCOME_VIOLATION);
	ASSERT_EQ(decide_out(p, &pi, "::1", 8080, &r), OUTCOME_VIOLATION);
	/* remote peers: no list restricts them */
	ASSERT_EQ(decide_out(p, &pi, "198.51.100.1", 9090, &r), OUTCOME_ALLOWED);
	/* incoming from a local peer to our port 9090: restricted the same way */
	r = rec_in(&pi, "127.0.0.1", 9090);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	r = rec_in(&pi, "127.0.0.1", 8080);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	/* listen: only ports and locals apply */
	r = rec_out(&pi, "0.0.0.0", 9090);
	r.direction = AEGIS_DIR_LISTEN;
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	policy_free(p);
	/* v6 loopback entry: restricts local peers as well */
	remote_add(a, "::1", NULL, 8081, 8081);
	p = pol(c);
	ASSERT_EQ(decide_out(p, &pi, "::1", 8081, &r), OUTCOME_ALLOWED);
	ASSERT_EQ(decide_out(p, &pi, "::1", 8080, &r), OUTCOME_VIOLATION);
	ASSERT_EQ(decide_out(p, &pi, "2001:db8::1", 8080, &r), OUTCOME_ALLOWED);
	policy_free(p);
	/*
	 * A port-only entry does not allow a local peer: the reason for a local
	 * peer lists only the entries that could have allowed it, and says where
	 * the port belongs (not "port 9090 not in remotes [..., 9090]").
	 */
	remote_add(a, NULL, NULL, 9090, 9090);
	p = pol(c);
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.1", 9090, &r), OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason,
		     "local 127.0.0.1 port 9090 not in remotes [127.0.0.1:8080, [::1]:8081] "
		     "(port-only remotes apply to remote peers; ports on this host go in "
		     "locals)");
	ASSERT_EQ(decide_out(p, &pi, "198.51.100.1", 9090, &r), OUTCOME_ALLOWED);
	ASSERT_EQ(decide_out(p, &pi, "198.51.100.1", 9091, &r), OUTCOME_VIOLATION);
	ASSERT_STREQ(
		r.reason,
		"remote 198.51.100.1 port 9091 not in remotes [127.0.0.1:8080, [::1]:8081, 9090]");
	policy_free(p);
	cfg_free(c);
}

/* remotes = ["localhost:8080"] restricts local peers like "127.0.0.1:8080". */
TEST(localhost_name_restricts_local_peers)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "nc", NULL, NULL);
	struct proc_info pi = proc_make("/usr/bin/nc", "");
	struct cidr addrs[2];
	struct policy *p;
	struct record r;
	bool lr, rr;

	ASSERT_TRUE(policy_host_is_loopback_name("localhost"));
	ASSERT_TRUE(policy_host_is_loopback_name("LocalHost."));
	ASSERT_TRUE(policy_host_is_loopback_name("ip6-localhost"));
	ASSERT_TRUE(policy_host_is_loopback_name("app.localhost"));
	ASSERT_FALSE(policy_host_is_loopback_name("localhost.example.com"));
	ASSERT_FALSE(policy_host_is_loopback_name("notlocalhost"));
	ASSERT_FALSE(policy_host_is_loopback_name(".localhost"));
	ASSERT_FALSE(policy_host_is_loopback_name(""));

	remote_add(a, NULL, "localhost", 8080, 8080);
	policy_app_restricts(a, &lr, &rr);
	ASSERT_TRUE(lr);
	ASSERT_FALSE(rr);
	p = pol(c);
	ASSERT_OK(cidr_parse("127.0.0.1", &addrs[0], NULL));
	ASSERT_OK(cidr_parse("::1", &addrs[1], NULL));
	ASSERT_OK(policy_set_host_addrs(p, "localhost", addrs, 2));
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.1", 8080, &r), OUTCOME_ALLOWED);
	ASSERT_EQ(decide_out(p, &pi, "::1", 8080, &r), OUTCOME_ALLOWED);
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.1", 9090, &r), OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason, "local 127.0.0.1 port 9090 not in remotes [localhost:8080]");
	/* remote peers: not restricted by a loopback name */
	ASSERT_EQ(decide_out(p, &pi, "198.51.100.1", 9090, &r), OUTCOME_ALLOWED);
	policy_free(p);
	/* any other name restricts remote peers only, as before */
	free(a->remotes[0].host);
	a->remotes[0].host = strdup("bob.example");
	policy_app_restricts(a, &lr, &rr);
	ASSERT_FALSE(lr);
	ASSERT_TRUE(rr);
	cfg_free(c);
}

TEST(telegraf_locals_and_cidr_remotes)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "telegraf", NULL, NULL);
	struct proc_info pi = proc_make("/usr/bin/telegraf", "");
	struct policy *p;
	struct record r;

	remote_add(a, "10.0.0.0/8", NULL, 8086, 8086);
	ports_add(&a->locals, 8086, 8086);
	ports_add(&a->locals, 80, 80);
	ports_add(&a->locals, 5432, 5432);
	ports_add(&a->locals, 53, 53);
	p = pol(c);
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.1", 53, &r), OUTCOME_ALLOWED);
	ASSERT_STREQ(r.reason, "port in locals");
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.1", 6666, &r), OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason, "local 127.0.0.1 port 6666 not in locals [53, 80, 5432, 8086] "
			       "or remotes [10.0.0.0/8:8086]");
	ASSERT_EQ(decide_out(p, &pi, "10.1.2.3", 8086, &r), OUTCOME_ALLOWED);
	ASSERT_EQ(decide_out(p, &pi, "10.1.2.3", 22, &r), OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason, "remote 10.1.2.3 port 22 not in remotes [10.0.0.0/8:8086]");
	ASSERT_EQ(decide_out(p, &pi, "203.0.113.7", 8086, &r), OUTCOME_VIOLATION);
	/* locals never allow a remote peer */
	ASSERT_EQ(decide_out(p, &pi, "203.0.113.7", 53, &r), OUTCOME_VIOLATION);
	policy_free(p);
	cfg_free(c);
}

TEST(cidr_remotes_match_local_peers_too)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "app", NULL, NULL);
	struct proc_info pi = proc_make("/bin/app", "");
	struct hostaddr h = { .fd = -1 };
	struct cidr own;
	struct policy *p;
	struct record r;

	/* 192.0.2.5 is this host's address: a local peer, matched by the CIDR entry */
	ASSERT_OK(cidr_parse("192.0.2.5", &own, NULL));
	ASSERT_OK(addrset_add(&h.addrs, &own));
	addrset_finalize(&h.addrs);
	remote_add(a, "192.0.2.0/24", NULL, 443, 443);
	remote_add(a, NULL, NULL, 8086, 8086);
	ports_add(&a->locals, 53, 53);
	p = pol(c);
	r = rec_out(&pi, "192.0.2.5", 443);
	policy_decide(p, &h, &r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	ASSERT_STREQ(r.reason, "peer in remotes");
	/* port-only remotes entries are for remote peers only */
	r = rec_out(&pi, "192.0.2.5", 8086);
	policy_decide(p, &h, &r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	r = rec_out(&pi, "192.0.2.9", 8086);
	policy_decide(p, &h, &r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	ASSERT_STREQ(r.reason, "port in remotes");
	policy_free(p);
	addrset_done(&h.addrs);
	cfg_free(c);
}

TEST(cidr_remotes_leave_local_class_alone)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "pgc", NULL, NULL);
	struct proc_info pi = proc_make("/bin/pgc", "");
	bool lr, rr;
	struct policy *p;
	struct record r;

	remote_add(a, "10.0.0.0/8", NULL, 5432, 5432);
	policy_app_restricts(a, &lr, &rr);
	ASSERT_FALSE(lr);
	ASSERT_TRUE(rr);
	p = pol(c);
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.1", 53, &r), OUTCOME_ALLOWED);
	ASSERT_STREQ(r.reason, "no allow list restricts local peers");
	ASSERT_EQ(decide_out(p, &pi, "8.8.8.8", 53, &r), OUTCOME_VIOLATION);
	ASSERT_EQ(decide_out(p, &pi, "10.0.0.1", 5432, &r), OUTCOME_ALLOWED);
	policy_free(p);
	/* 0.0.0.0/0 contains loopback but does not lie within it */
	remote_add(a, "0.0.0.0/0", NULL, 443, 443);
	policy_app_restricts(a, &lr, &rr);
	ASSERT_FALSE(lr);
	/* a hostname restricts remote peers only (even one that resolves to
	 * loopback), unless it is a loopback name (localhost_name_restricts_local_peers) */
	a = app_add(c, "h", NULL, NULL);
	remote_add(a, NULL, "lo.example", 80, 80);
	policy_app_restricts(a, &lr, &rr);
	ASSERT_FALSE(lr);
	ASSERT_TRUE(rr);
	/* ports restrict both */
	a = app_add(c, "q", NULL, NULL);
	ports_add(&a->ports, 1, 1);
	policy_app_restricts(a, &lr, &rr);
	ASSERT_TRUE(lr && rr);
	cfg_free(c);
}

/* ---- exe aliases ---- */

struct bindir {
	char dir[64];
};

/* dir/name -> target (relative or absolute symlink; target "" = regular file name) */
static void bindir_link(const struct bindir *b, const char *name, const char *target)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", b->dir, name);
	if (target[0]) {
		if (symlink(target, path) < 0)
			abort();
	} else {
		FILE *f = fopen(path, "we");

		if (!f)
			abort();
		fclose(f);
	}
}

static void bindir_rm(struct bindir *b)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
	if (system(cmd) != 0)
		abort();
}

TEST(exe_aliases_lookup)
{
	struct bindir b = { "/tmp/test-policy-bin.XXXXXX" }, b2 = { "/tmp/test-policy-bin.XXXXXX" };
	char alt[256];
	const char *dirs[3];
	char **al = NULL;

	ASSERT_NOT_NULL(mkdtemp(b.dir));
	ASSERT_NOT_NULL(mkdtemp(b2.dir));
	dirs[0] = b.dir;
	dirs[1] = b2.dir;
	dirs[2] = NULL;
	/* nc -> alt/nc -> nc.openbsd (the alternatives chain) */
	bindir_link(&b, "nc.openbsd", "");
	snprintf(alt, sizeof(alt), "%s/nc.openbsd", b.dir);
	bindir_link(&b2, "nc", alt);
	bindir_link(&b, "nc", "nc.openbsd");
	bindir_link(&b, "python3", "python3.11");
	bindir_link(&b, "python3.11", "");
	snprintf(alt, sizeof(alt), "%s/sub", b.dir);
	ASSERT_OK(mkdir(alt, 0755));
	bindir_link(&b, "sub/same", "");
	bindir_link(&b, "same", "sub/same");
	bindir_link(&b, "dangling", "nowhere");
	bindir_link(&b, "plain", "");
	ASSERT_OK(policy_exe_aliases(dirs, "nc", &al));
	ASSERT_EQ(strv_length(al), 1); /* found twice, listed once */
	ASSERT_STREQ(al[0], "nc.openbsd");
	al = strv_free(al);
	ASSERT_OK(policy_exe_aliases(dirs, "python3", &al));
	ASSERT_EQ(strv_length(al), 1);
	ASSERT_STREQ(al[0], "python3.11");
	al = strv_free(al);
	/* no alias: target with the same basename, dangling, not a symlink, absent, a path */
	const char *none[] = {
		"same", "dangling", "plain", "absent", "b/nc", "", "..", "python3.11"
	};
	for (size_t i = 0; i < ARRAY_SIZE(none); i++) {
		ASSERT_OK(policy_exe_aliases(dirs, none[i], &al));
		if (strv_length(al) != 0)
			TAP_FAIL("%s: unexpected alias %s", none[i], al[0]);
		al = strv_free(al);
	}
	bindir_rm(&b);
	bindir_rm(&b2);
}

TEST(exe_alias_matches_app_and_whitelist)
{
	struct bindir b = { "/tmp/test-policy-bin.XXXXXX" };
	const char *dirs[2] = { NULL, NULL }, *none[] = { NULL };
	struct config *c = cfg_new();
	struct app *a = app_add(c, "nc", NULL, NULL), *other = app_add(c, "curl", NULL, NULL);
	struct proc_info pi = proc_make("/usr/bin/nc.openbsd", "nc 127.0.0.1 9090");
	const struct app *all[4];
	struct policy *p;
	struct record r;

	ASSERT_NOT_NULL(mkdtemp(b.dir));
	dirs[0] = b.dir;
	bindir_link(&b, "nc.openbsd", "");
	bindir_link(&b, "nc", "nc.openbsd");
	bindir_link(&b, "curl.real", "");
	bindir_link(&b, "curl", "curl.real");
	remote_add(a, "127.0.0.1", NULL, 8080, 8080);
	(void)other;
	ASSERT_OK(policy_new_with_exe_dirs(c, dirs, &p));
	ASSERT_TRUE(policy_match_app(p, &pi) == a);
	ASSERT_EQ(policy_match_all(p, &pi, all, ARRAY_SIZE(all)), 1);
	pi.exe = (char *)"/usr/bin/nc";
	ASSERT_TRUE(policy_match_app(p, &pi) == a);
	/* argv[0] is never used */
	pi.exe = (char *)"/usr/bin/nc.traditional";
	pi.cmdline = (char *)"nc -l 1";
	ASSERT_NULL(policy_match_app(p, &pi));
	pi.exe = (char *)"/usr/bin/nc.openbsd";
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.1", 9090, &r), OUTCOME_VIOLATION);
	policy_free(p);
	/* without the alias directory: no alias */
	ASSERT_OK(policy_new_with_exe_dirs(c, none, &p));
	ASSERT_NULL(policy_match_app(p, &pi));
	policy_free(p);
	/* whitelist.programs by name: aliases too */
	c->whitelist.programs = calloc(3, sizeof(char *));
	c->whitelist.programs[0] = strdup("curl");
	c->whitelist.programs[1] = strdup("nc");
	ASSERT_OK(policy_new_with_exe_dirs(c, dirs, &p));
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.1", 9090, &r), OUTCOME_WHITELISTED);
	pi.exe = (char *)"/usr/bin/curl.real";
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.1", 9090, &r), OUTCOME_WHITELISTED);
	pi.exe = (char *)"/usr/bin/nc.traditional";
	ASSERT_EQ(decide_out(p, &pi, "127.0.0.1", 9090, &r), OUTCOME_UNCONFIGURED);
	policy_free(p);
	cfg_free(c);
	bindir_rm(&b);
}

TEST(exe_aliases_in_the_standard_dirs)
{
	/* on Debian with netcat-openbsd: nc -> /etc/alternatives/nc -> nc.openbsd */
	char real[PATH_MAX], **al = NULL;
	const char *base;

	ASSERT_OK(policy_exe_aliases(NULL, "nc", &al));
	if (realpath("/usr/bin/nc", real)) {
		base = strrchr(real, '/') + 1;
		if (strcmp(base, "nc") != 0) {
			ASSERT_EQ(strv_length(al), 1);
			ASSERT_STREQ(al[0], base);
		}
	}
	strv_free(al);
}

/* ---- whitelist, ignore ---- */

TEST(whitelist_first)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "app", NULL, NULL);
	struct proc_info pi = proc_make("/bin/app", "");
	struct cidr net;
	struct policy *p;
	struct record r;

	a->remote = false;
	ASSERT_OK(cidr_parse("10.0.0.0/8", &net, NULL));
	ASSERT_OK(addrset_add(&c->whitelist.ips, &net));
	ASSERT_OK(cidr_parse("fd00::/8", &net, NULL));
	ASSERT_OK(addrset_add(&c->whitelist.ips, &net));
	addrset_finalize(&c->whitelist.ips);
	ports_add(&c->whitelist.ports, 443, 443);
	c->whitelist.programs = calloc(3, sizeof(char *));
	c->whitelist.programs[0] = strdup("systemd-resolved");
	c->whitelist.programs[1] = strdup("/usr/lib/apt/methods/http");
	p = pol(c);

	r = rec_out(&pi, "10.1.1.1", 9);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_WHITELISTED);
	ASSERT_EQ(r.actions, 0);
	ASSERT_STREQ(r.rule, "whitelist:ips");
	r = rec_out(&pi, "fd12::1", 9);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_WHITELISTED);
	r = rec_out(&pi, "::ffff:10.1.1.1", 9);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_WHITELISTED);
	r = rec_out(&pi, "198.51.100.1", 443);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_WHITELISTED);
	ASSERT_STREQ(r.rule, "whitelist:ports");
	r = rec_in(&pi, "198.51.100.1", 443); /* our port 443 */
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_WHITELISTED);
	r = rec_out(&pi, "198.51.100.1", 9);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);

	pi.exe = (char *)"/usr/lib/systemd/systemd-resolved";
	r = rec_out(&pi, "198.51.100.1", 53);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_WHITELISTED);
	ASSERT_STREQ(r.rule, "whitelist:programs");
	pi.exe = (char *)"/usr/lib/apt/methods/http";
	r = rec_out(&pi, "198.51.100.1", 80);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_WHITELISTED);
	pi.exe = (char *)"/tmp/http"; /* path entries compare the whole path */
	r = rec_out(&pi, "198.51.100.1", 80);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_UNCONFIGURED);
	policy_free(p);
	cfg_free(c);
}

TEST(ignore_silences)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "chatty", NULL, NULL);
	struct proc_info pi = proc_make("/bin/chatty", "");
	struct policy *p;
	struct record r;

	a->ignore = true;
	a->remote = false;
	ports_add(&a->ports, 1, 1);
	p = pol(c);
	r = rec_out(&pi, "198.51.100.1", 80);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_IGNORED);
	ASSERT_EQ(r.actions, 0);
	ASSERT_STREQ(r.reason, "ignore = true");
	policy_free(p);
	cfg_free(c);
}

TEST(names_and_hashes)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "x", "/bin/x", "^x -v"), *b = app_add(c, "x", NULL, NULL);
	struct app *n = app_add(c, "y", NULL, NULL);
	struct policy *p;

	n->name = strdup("the y service");
	p = pol(c);
	ASSERT_STREQ(policy_app_name(p, a), "exe=x path=/bin/x cmdline=/^x -v/");
	ASSERT_STREQ(policy_app_name(p, n), "the y service");
	ASSERT_NE(policy_app_hash(a), policy_app_hash(b));
	ASSERT_TRUE(policy_app_rank(a) > policy_app_rank(b));
	policy_free(p);
	cfg_free(c);
}

TEST(bad_regex_refused)
{
	struct config *c = cfg_new();
	struct policy *p = NULL;

	app_add(c, NULL, NULL, "([unclosed");
	ASSERT_EQ(policy_new(c, &p), -EINVAL);
	ASSERT_NULL(p);
	cfg_free(c);
}

/* ---- detent keys ---- */

TEST(detent_key_from_record)
{
	struct config *c = cfg_new();
	struct app *a = app_add(c, "app", NULL, NULL);
	struct proc_info pi = proc_make("/bin/app", ""), pj = proc_make("/bin/app", "other");
	struct proc_info u1 = proc_make("/bin/u1", ""), u2 = proc_make("/bin/u2", "");
	struct detent_key k1, k2;
	struct policy *p;
	struct record r;

	ports_add(&a->ports, 1, 1);
	p = pol(c);
	/* Two processes of one app, same peer/port: one key. */
	r = rec_out(&pi, "198.51.100.1", 80);
	policy_detent_key(p, &r, &k1);
	r = rec_out(&pj, "198.51.100.1", 80);
	r.sport = 50000;
	policy_detent_key(p, &r, &k2);
	ASSERT_TRUE(memcmp(&k1, &k2, sizeof(k1)) == 0);
	ASSERT_EQ(k1.app, policy_app_hash(a));
	ASSERT_EQ(k1.port, 80);
	/* Different port, direction, peer: different keys. */
	r = rec_out(&pi, "198.51.100.1", 81);
	policy_detent_key(p, &r, &k2);
	ASSERT_TRUE(memcmp(&k1, &k2, sizeof(k1)) != 0);
	r = rec_in(&pi, "198.51.100.1", 80);
	policy_detent_key(p, &r, &k2);
	ASSERT_TRUE(memcmp(&k1, &k2, sizeof(k1)) != 0);
	/* Incoming connections differ only by ephemeral source port: one key. */
	r.sport = 1111;
	policy_detent_key(p, &r, &k1);
	r.sport = 2222;
	policy_detent_key(p, &r, &k2);
	ASSERT_TRUE(memcmp(&k1, &k2, sizeof(k1)) == 0);
	/* Unconfigured programs are told apart by exe. */
	r = rec_out(&u1, "198.51.100.1", 80);
	policy_detent_key(p, &r, &k1);
	r = rec_out(&u2, "198.51.100.1", 80);
	policy_detent_key(p, &r, &k2);
	ASSERT_NE(k1.app, k2.app);
	policy_free(p);
	cfg_free(c);
}

/* ---- through config_load() ---- */

static const char loaded_toml[] =
	"[global]\n"
	"include_dirs = []\n"
	"script_dirs = []\n"
	"default_actions = [\"log\", \"notify\"]\n"
	"unconfigured_actions = [\"log\"]\n"
	"[whitelist]\n"
	"ips = [\"192.168.0.0/16\"]\n"
	"ports = [\"53\"]\n"
	"programs = [\"systemd-resolved\"]\n"
	"[[app]]\n"
	"exe = \"telegraf\"\n"
	"ports = [\"8086\"]\n"
	"[[app]]\n"
	"exe = \"closed\"\n"
	"ports = []\n"
	"[[app]]\n"
	"exe = \"db\"\n"
	"remotes = [\"10.1.0.0/16:5432\", \"[2001:db8::/32]:443\", \"bob.example:8086\", \"9000-9010\"]\n"
	"locals = [\"6379\"]\n"
	"actions = [\"log\", \"kill\"]\n"
	"[[app]]\n"
	"exe = \"python3\"\n"
	"cmdline = \"worker\\\\.py\"\n"
	"user = \"root\"\n"
	"local = false\n";

static struct config *load_toml(const char *text)
{
	struct config_load_opts opts = { .skip_owner_check = true };
	struct diag_list diags = {};
	char dir[] = "/tmp/test-policy.XXXXXX", path[64];
	struct config *c = NULL;
	FILE *f;

	if (!mkdtemp(dir))
		return NULL;
	snprintf(path, sizeof(path), "%s/aegis.toml", dir);
	f = fopen(path, "we");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	opts.main_path = path;
	if (config_load(&opts, &c, &diags) < 0) {
		diag_list_print(&diags, stdout);
		c = NULL;
	}
	diag_list_done(&diags);
	unlink(path);
	rmdir(dir);
	return c;
}

TEST(config_load_end_to_end)
{
	struct config *c = load_toml(loaded_toml);
	struct proc_info pi = proc_make("/usr/bin/telegraf", "telegraf --config x");
	struct cidr bob;
	struct policy *p;
	struct record r;

	ASSERT_NOT_NULL(c);
	ASSERT_OK(policy_new(c, &p));
	r = rec_out(&pi, "203.0.113.7", 8086);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_out(&pi, "203.0.113.7", 6666);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_EQ(r.actions, ACTION_LOG | ACTION_NOTIFY);
	ASSERT_STREQ(r.reason, "remote port 6666 not in ports [8086]");
	r = rec_out(&pi, "192.168.3.3", 6666);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_WHITELISTED);

	/* ports = [] is given-and-empty: nothing allowed */
	pi.exe = (char *)"/usr/bin/closed";
	r = rec_out(&pi, "203.0.113.7", 80);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_STREQ(r.reason, "remote port 80 not in ports []");

	pi.exe = (char *)"/usr/bin/db";
	r = rec_out(&pi, "10.1.4.4", 5432);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_out(&pi, "2001:db8::7", 443);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_out(&pi, "198.51.100.9", 9005);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_out(&pi, "198.51.100.9", 8086);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_EQ(r.actions, ACTION_LOG | ACTION_KILL);
	ASSERT_STREQ(policy_hosts(p)[0], "bob.example");
	ASSERT_NULL(policy_hosts(p)[1]);
	ASSERT_OK(cidr_parse("198.51.100.9", &bob, NULL));
	ASSERT_OK(policy_set_host_addrs(p, "bob.example", &bob, 1));
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);
	r = rec_out(&pi, "127.0.0.1", 6379);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_ALLOWED);

	/* cmdline + exe + user (config compiled the regex and resolved root) */
	pi = proc_make("/usr/bin/python3", "python3 /srv/worker.py");
	pi.uid = 0;
	r = rec_out(&pi, "127.0.0.1", 80);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_VIOLATION);
	ASSERT_STREQ(r.rule, "exe=python3 cmdline=/worker\\.py/ user=root");
	pi.uid = 1000;
	r = rec_out(&pi, "127.0.0.1", 80);
	DECIDE(p, r);
	ASSERT_EQ(r.outcome, OUTCOME_UNCONFIGURED);
	policy_free(p);
	config_free(c);
}

TAP_MAIN()
