// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The policy compiler (src/policy-compile.c): prefix decomposition, and the
 * compiled maps checked by a small userspace model of the BPF lookups
 * (LPM = longest prefix of the right set wins).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "policy-compile.h"
#include "tap.h"

static int count_cb(unsigned __int128 v, unsigned plen, void *userdata)
{
	unsigned *cover = userdata;
	unsigned size = 1u << (16 - plen);

	for (unsigned i = 0; i < size; i++)
		cover[(unsigned)v + i]++;
	return 0;
}

static void check_range(unsigned lo, unsigned hi, int *ok)
{
	unsigned *cover = calloc(65536, sizeof(unsigned));

	*ok = pcompile_range_prefixes(lo, hi, 16, count_cb, cover) == 0;
	for (unsigned p = 0; p < 65536 && *ok; p++)
		if (cover[p] != (p >= lo && p <= hi ? 1u : 0u))
			*ok = 0;
	free(cover);
}

TEST(range_prefixes_cover_exactly)
{
	unsigned r[][2] = { { 80, 80 },	      { 1, 65535 },	{ 0, 65535 },  { 8000, 8100 },
			    { 24001, 24999 }, { 65535, 65535 }, { 1023, 1025 } };
	int ok;

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		check_range(r[i][0], r[i][1], &ok);
		ASSERT_TRUE(ok);
	}
}

static int n_cb(unsigned __int128 v, unsigned plen, void *userdata)
{
	(*(unsigned *)userdata)++;
	return 0;
}

TEST(range_prefixes_minimal)
{
	unsigned n = 0;

	ASSERT_EQ(pcompile_range_prefixes(0, ~(unsigned __int128)0, 128, n_cb, &n), 0);
	ASSERT_EQ(n, 1);
	n = 0;
	ASSERT_EQ(pcompile_range_prefixes(1, 65535, 16, n_cb, &n), 0);
	ASSERT_EQ(n, 16);
	ASSERT_TRUE(pcompile_range_prefixes(5, 4, 16, n_cb, &n) < 0);
}

/* ---- a model of the kernel lookups over the plan */

static uint32_t set_of(const __u8 s[4])
{
	return (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
}

static bool model_port_in(const struct pcompile_plan *p, uint32_t set, uint16_t port)
{
	for (size_t i = 0; i < p->n_ports; i++) {
		const struct aegis_enf_port_key *k = &p->ports[i];
		unsigned plen = k->prefixlen - 32;
		uint16_t kp = (uint16_t)(k->port[0] << 8 | k->port[1]);
		uint16_t mask = plen ? (uint16_t)(0xffffu << (16 - plen)) : 0;

		if (set_of(k->set) == set && (port & mask) == (kp & mask))
			return true;
	}
	return false;
}

/* longest matching v4 prefix of set: its value, or -1 */
static long long model_cidr4(const struct pcompile_plan *p, uint32_t set, const char *ip)
{
	struct in_addr a;
	int best = -1;
	long long v = -1;

	inet_pton(AF_INET, ip, &a);
	for (size_t i = 0; i < p->n_c4; i++) {
		const struct pcompile_cidr4 *e = &p->c4[i];
		int plen = (int)e->key.prefixlen - 32;
		uint32_t m = plen ? htonl(0xffffffffu << (32 - plen)) : 0, ka;

		memcpy(&ka, e->key.addr, 4);
		if (set_of(e->key.set) == set && (a.s_addr & m) == (ka & m) && plen >= best) {
			best = plen;
			v = e->val;
		}
	}
	return v;
}

static bool model_remote_ok(const struct pcompile_plan *p, uint32_t set, const char *ip,
			    uint16_t port)
{
	long long ps = model_cidr4(p, set, ip);

	if (ps < 0)
		return false;
	return ps == AEGIS_ENF_NO_SET || model_port_in(p, (uint32_t)ps, port);
}

static struct config *load(const char *text)
{
	char path[] = "/tmp/test-enforce-compile.XXXXXX";
	struct config_load_opts o = { .skip_owner_check = true };
	struct diag_list d = {};
	struct config *c = NULL;
	int fd = mkstemp(path);

	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) < 0)
		c = NULL;
	close(fd);
	o.main_path = path;
	if (config_load(&o, &c, &d) < 0) {
		diag_list_print(&d, stdout);
		c = NULL;
	}
	diag_list_done(&d);
	unlink(path);
	return c;
}

TEST(remotes_union_of_containing_entries)
{
	struct config *c =
		load("[global]\ninclude_dirs = []\nscript_dirs = []\n"
		     "[[app]]\nexe = \"x\"\nactions = [\"block\"]\n"
		     "remotes = [\"10.0.0.0/8:80\", \"10.1.0.0/16:443\", \"10.1.2.3:22\","
		     " \"8086\", \"192.168.0.0/16:1-65535\"]\n");
	struct pcompile_plan *p = NULL;
	uint32_t set;

	ASSERT_TRUE(c);
	ASSERT_EQ(pcompile(c, NULL, &p), 0);
	ASSERT_EQ(p->n_rules, 1);
	ASSERT_TRUE(p->rules[0].flags & AEGIS_ENF_R_REMOTES);
	ASSERT_TRUE(p->rules[0].flags & AEGIS_ENF_R_BLOCK);
	set = p->rules[0].remotes_set;
	ASSERT_TRUE(model_remote_ok(p, set, "10.1.2.3", 22));
	ASSERT_TRUE(model_remote_ok(p, set, "10.1.2.3", 443));
	ASSERT_TRUE(model_remote_ok(p, set, "10.1.2.3", 80));
	ASSERT_TRUE(model_remote_ok(p, set, "10.1.2.3", 8086));
	ASSERT_FALSE(model_remote_ok(p, set, "10.1.2.3", 23));
	ASSERT_TRUE(model_remote_ok(p, set, "10.1.9.9", 443));
	ASSERT_FALSE(model_remote_ok(p, set, "10.1.9.9", 22));
	ASSERT_TRUE(model_remote_ok(p, set, "10.2.0.1", 80));
	ASSERT_FALSE(model_remote_ok(p, set, "10.2.0.1", 443));
	ASSERT_TRUE(model_remote_ok(p, set, "1.2.3.4", 8086));
	ASSERT_FALSE(model_remote_ok(p, set, "1.2.3.4", 80));
	ASSERT_TRUE(model_remote_ok(p, set, "192.168.7.7", 12345));
	pcompile_plan_free(p);
	config_free(c);
}

TEST(flags_whitelist_and_actions)
{
	struct config *c =
		load("[global]\ninclude_dirs = []\nscript_dirs = []\ndefault_actions = [\"log\"]\n"
		     "[whitelist]\nports = [\"53\"]\nips = [\"10.0.0.0/8\"]\n"
		     "programs = [\"systemd\"]\n"
		     "[[app]]\nexe = \"a\"\nports = [\"80\"]\n"
		     "[[app]]\nexe = \"b\"\nlocal = false\nactions = [\"kill\"]\n"
		     "[[app]]\nexe = \"d\"\ncmdline = \"foo\"\nactions = [\"block\"]\n"
		     "[[app]]\npath = \"/nonexistent/x\"\nactions = [\"block\"]\n");
	struct pcompile_plan *p = NULL;

	ASSERT_TRUE(c);
	ASSERT_EQ(pcompile(c, NULL, &p), 0);
	ASSERT_TRUE(p->hdr.flags & AEGIS_ENF_H_ACTIVE);
	ASSERT_TRUE(p->hdr.flags & AEGIS_ENF_H_WL_PORTS);
	ASSERT_TRUE(p->hdr.flags & AEGIS_ENF_H_WL_CIDRS);
	ASSERT_TRUE(p->hdr.flags & AEGIS_ENF_H_WL_PROGS);
	ASSERT_FALSE(p->hdr.flags & AEGIS_ENF_H_UNCONF_BLOCK);
	ASSERT_TRUE(model_port_in(p, AEGIS_ENF_SET_WL, 53));
	ASSERT_FALSE(model_port_in(p, AEGIS_ENF_SET_WL, 54));
	ASSERT_EQ(model_cidr4(p, AEGIS_ENF_SET_WL, "10.9.9.9"), AEGIS_ENF_NO_SET);
	ASSERT_EQ(model_cidr4(p, AEGIS_ENF_SET_WL, "11.0.0.1"), -1);
	/* a: log only (default) -> no block bits; ports compiled */
	ASSERT_EQ(p->rules[0].flags & (AEGIS_ENF_R_BLOCK | AEGIS_ENF_R_KILL), 0);
	ASSERT_TRUE(model_port_in(p, p->rules[0].ports_set, 80));
	/* b: kill implies block; local = false */
	ASSERT_EQ(p->rules[1].flags & (AEGIS_ENF_R_BLOCK | AEGIS_ENF_R_KILL),
		  AEGIS_ENF_R_BLOCK | AEGIS_ENF_R_KILL);
	ASSERT_TRUE(p->rules[1].flags & AEGIS_ENF_R_NO_LOCAL);
	/* "allow" wins over block/kill */
	ASSERT_EQ(pcompile_block_bits(ACTION_BLOCK | ACTION_ALLOW), 0);
	ASSERT_EQ(pcompile_block_bits(ACTION_LOG), 0);
	/* cmdline app; a path that does not exist (env NULL) -> userspace only */
	ASSERT_EQ(p->info[2].kind, PCOMPILE_CMDLINE);
	ASSERT_EQ(p->info[3].kind, PCOMPILE_USERSPACE);
	ASSERT_EQ(p->n_kernel, 1);
	ASSERT_EQ(p->n_cmdline, 1);
	ASSERT_EQ(p->n_userspace, 1);
	ASSERT_TRUE(p->has_cmdline);
	ASSERT_TRUE(p->hdr.flags & AEGIS_ENF_H_CAND);
	pcompile_plan_free(p);
	config_free(c);
}

TEST(unconfigured_block_needs_the_setting)
{
	struct config *c = load("[global]\ninclude_dirs = []\nscript_dirs = []\n"
				"unconfigured_actions = [\"log\", \"block\"]\n"
				"block_unconfigured_programs = true\n");
	struct pcompile_plan *p = NULL;

	ASSERT_TRUE(c);
	ASSERT_EQ(pcompile(c, NULL, &p), 0);
	ASSERT_TRUE(p->hdr.flags & AEGIS_ENF_H_UNCONF_BLOCK);
	ASSERT_TRUE(p->hdr.flags & AEGIS_ENF_H_ACTIVE);
	ASSERT_FALSE(p->hdr.flags & AEGIS_ENF_H_UNCONF_KILL);
	pcompile_plan_free(p);
	config_free(c);
}

static int host_cb(const char *host, const struct cidr **ret, size_t *ret_n, void *userdata)
{
	static struct cidr addrs[2] = {
		{ .family = AF_INET, .prefix = 32, .addr = { 192, 0, 2, 10 } },
		{ .family = AF_INET, .prefix = 32, .addr = { 192, 0, 2, 11 } },
	};

	if (strcmp(host, "db.example") != 0) {
		*ret_n = 0; /* unresolved: matches nothing */
		return 0;
	}
	*ret = addrs;
	*ret_n = 2;
	return 0;
}

TEST(remotes_hostnames_use_resolved_addresses)
{
	struct config *c = load("[global]\ninclude_dirs = []\nscript_dirs = []\n"
				"[[app]]\nexe = \"x\"\nactions = [\"block\"]\n"
				"remotes = [\"db.example:5432\", \"nowhere.example:80\"]\n");
	struct pcompile_env env = { .host_addrs = host_cb };
	struct pcompile_plan *p = NULL;
	uint32_t set;

	ASSERT_TRUE(c);
	ASSERT_EQ(pcompile(c, &env, &p), 0);
	set = p->rules[0].remotes_set;
	ASSERT_TRUE(model_remote_ok(p, set, "192.0.2.10", 5432));
	ASSERT_TRUE(model_remote_ok(p, set, "192.0.2.11", 5432));
	ASSERT_FALSE(model_remote_ok(p, set, "192.0.2.11", 80));
	ASSERT_FALSE(model_remote_ok(p, set, "192.0.2.12", 5432));
	ASSERT_FALSE(model_remote_ok(p, set, "1.1.1.1", 80));
	pcompile_plan_free(p);
	config_free(c);
}

TEST(rank_prefers_specific_apps)
{
	struct config *c = load("[global]\ninclude_dirs = []\nscript_dirs = []\n"
				"[[app]]\nexe = \"x\"\nactions = [\"block\"]\n"
				"[[app]]\nexe = \"x\"\nuser = \"0\"\nactions = [\"log\"]\n");
	struct pcompile_plan *p = NULL;

	ASSERT_TRUE(c);
	ASSERT_EQ(pcompile(c, NULL, &p), 0);
	ASSERT_EQ(p->n_ids, 2);
	/* exe+user outranks exe alone */
	ASSERT_TRUE(p->ids[1].val.rank > p->ids[0].val.rank);
	ASSERT_EQ(p->ids[1].key.uid, 0);
	ASSERT_EQ(p->ids[0].key.uid, AEGIS_ENF_ANY_UID);
	pcompile_plan_free(p);
	config_free(c);
}

TAP_MAIN()
