// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The policy compiler (src/policy-compile.c): prefix decomposition, and the
 * compiled maps checked by a small userspace model of the BPF lookups
 * (LPM = longest prefix of the right set wins).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>

#include "aegis.h"
#include "config.h"
#include "policy.h"
#include "record.h"
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

/* remotes of a rule for a remote peer: address entries (cidr tries) or port-only entries */
static bool model_rule_remote_ok(const struct pcompile_plan *p, const struct aegis_enf_rule *r,
				 const char *ip, uint16_t port)
{
	if ((r->flags & AEGIS_ENF_R_REMOTES) && model_remote_ok(p, r->remotes_set, ip, port))
		return true;
	return (r->flags & AEGIS_ENF_R_RPORTS) && model_port_in(p, r->rports_set, port);
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
	ASSERT_TRUE(p->rules[0].flags & AEGIS_ENF_R_RPORTS);
	ASSERT_TRUE(p->rules[0].flags & AEGIS_ENF_R_REMOTE_RESTR);
	ASSERT_FALSE(p->rules[0].flags & AEGIS_ENF_R_LOCAL_RESTR);
	set = p->rules[0].remotes_set;
	ASSERT_TRUE(model_remote_ok(p, set, "10.1.2.3", 22));
	ASSERT_TRUE(model_remote_ok(p, set, "10.1.2.3", 443));
	ASSERT_TRUE(model_remote_ok(p, set, "10.1.2.3", 80));
	ASSERT_FALSE(model_remote_ok(p, set, "10.1.2.3", 23));
	ASSERT_TRUE(model_remote_ok(p, set, "10.1.9.9", 443));
	ASSERT_FALSE(model_remote_ok(p, set, "10.1.9.9", 22));
	ASSERT_TRUE(model_remote_ok(p, set, "10.2.0.1", 80));
	ASSERT_FALSE(model_remote_ok(p, set, "10.2.0.1", 443));
	ASSERT_TRUE(model_remote_ok(p, set, "192.168.7.7", 12345));
	/* port-only entries are not in the cidr tries (they do not match local peers) */
	ASSERT_FALSE(model_remote_ok(p, set, "10.1.2.3", 8086));
	ASSERT_FALSE(model_remote_ok(p, set, "1.2.3.4", 8086));
	ASSERT_TRUE(model_rule_remote_ok(p, &p->rules[0], "10.1.2.3", 8086));
	ASSERT_TRUE(model_rule_remote_ok(p, &p->rules[0], "1.2.3.4", 8086));
	ASSERT_FALSE(model_rule_remote_ok(p, &p->rules[0], "1.2.3.4", 80));
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

/*
 * Differential check against the daemon's matcher: for every case, the
 * kernel decision (modelled over the compiled maps the way enforce.bpf.c
 * reads them) must refuse exactly what policy_decide() calls a violation (or
 * unconfigured) with block/kill. Catches drift between policy.h semantics and
 * the compiler.
 */
static bool model_local(const char *ip)
{
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "0.0.0.0") == 0;
}

static bool model_block(const struct pcompile_plan *p, const char *exe, uint32_t uid,
			const char *ip, uint16_t port)
{
	const struct aegis_enf_rule *r;
	uint32_t best = AEGIS_ENF_NO_RULE, rank = 0;
	bool local = model_local(ip);

	if ((p->hdr.flags & AEGIS_ENF_H_WL_PORTS) && model_port_in(p, AEGIS_ENF_SET_WL, port))
		return false;
	if ((p->hdr.flags & AEGIS_ENF_H_WL_CIDRS) && model_cidr4(p, AEGIS_ENF_SET_WL, ip) >= 0)
		return false;
	for (size_t i = 0; i < p->n_ids; i++) {
		const struct aegis_enf_id_key *k = &p->ids[i].key;
		bool name_ok = strncmp(k->name, exe, sizeof(k->name)) == 0;
		bool uid_ok = k->uid == AEGIS_ENF_ANY_UID || k->uid == uid;

		if (k->kind == AEGIS_ENF_ID_WL_EXE && name_ok)
			return false;
		if (!uid_ok || k->cgid)
			continue;
		if ((k->kind == AEGIS_ENF_ID_EXE && name_ok) || k->kind == AEGIS_ENF_ID_NONE) {
			if (best == AEGIS_ENF_NO_RULE || p->ids[i].val.rank > rank) {
				best = p->ids[i].val.rule;
				rank = p->ids[i].val.rank;
			}
		}
	}
	if (best == AEGIS_ENF_NO_RULE)
		return p->hdr.flags & AEGIS_ENF_H_UNCONF_BLOCK;
	r = &p->rules[best];
	if (!(r->flags & AEGIS_ENF_R_BLOCK) || (r->flags & AEGIS_ENF_R_IGNORE))
		return false;
	if (local && (r->flags & AEGIS_ENF_R_NO_LOCAL))
		return true;
	if (!local && (r->flags & AEGIS_ENF_R_NO_REMOTE))
		return true;
	/* as rule_allows() in enforce.bpf.c */
	if (!(r->flags & (local ? AEGIS_ENF_R_LOCAL_RESTR : AEGIS_ENF_R_REMOTE_RESTR)))
		return false;
	if ((r->flags & AEGIS_ENF_R_PORTS) && model_port_in(p, r->ports_set, port))
		return false;
	if (local && (r->flags & AEGIS_ENF_R_LOCALS) && model_port_in(p, r->locals_set, port))
		return false;
	if ((r->flags & AEGIS_ENF_R_REMOTES) && model_remote_ok(p, r->remotes_set, ip, port))
		return false;
	if (!local && (r->flags & AEGIS_ENF_R_RPORTS) && model_port_in(p, r->rports_set, port))
		return false;
	return true;
}

static bool policy_blocks(const struct policy *pol, const char *exe, uint32_t uid, const char *ip,
			  uint16_t port)
{
	char path[256];
	struct proc_info pi = { .pid = 4242, .uid = uid, .exe = path, .cmdline = path };
	struct record r = { .proc = &pi,
			    .direction = AEGIS_DIR_OUT,
			    .proto = AEGIS_PROTO_TCP,
			    .family = AF_INET,
			    .dport = port };

	snprintf(path, sizeof(path), "/usr/bin/%s", exe);
	inet_pton(AF_INET, ip, r.daddr);
	policy_decide(pol, NULL, &r);
	if (r.outcome != OUTCOME_VIOLATION && r.outcome != OUTCOME_UNCONFIGURED)
		return false;
	return pcompile_block_bits(r.actions) != 0;
}

static const char km_config[] =

	"[global]\ninclude_dirs = []\nscript_dirs = []\ndefault_actions = [\"log\"]\n"
	"unconfigured_actions = [\"block\"]\nblock_unconfigured_programs = true\n"
	"[whitelist]\nports = [\"53\"]\nips = [\"10.9.0.0/16\"]\nprograms = [\"wl\"]\n"
	"[[app]]\nexe = \"a\"\nports = [\"80\", \"8000-8100\"]\nactions = [\"block\"]\n"
	"[[app]]\nexe = \"b\"\nremotes = [\"10.1.0.0/16:443\", \"5432\"]\n"
	"locals = [\"6379\"]\nactions = [\"block\"]\n"
	"[[app]]\nexe = \"c\"\nlocal = false\nactions = [\"kill\"]\n"
	"[[app]]\nexe = \"d\"\nremote = false\nports = [\"22\"]\nactions = [\"block\"]\n"
	"[[app]]\nexe = \"e\"\nports = [\"1\"]\nactions = [\"log\"]\n"
	"[[app]]\nexe = \"e\"\nuser = \"1000\"\nports = [\"1\"]\nactions = [\"block\"]\n"
	"[[app]]\nexe = \"f\"\nignore = true\nports = [\"1\"]\nactions = [\"block\"]\n"
	"[[app]]\nuser = \"2000\"\nports = [\"1\"]\nactions = [\"block\"]\n"
	"[[app]]\nexe = \"g\"\nremotes = [\"127.0.0.1:8080\"]\nactions = [\"block\"]\n"
	"[[app]]\nexe = \"h\"\nremotes = [\"10.0.0.0/8:5432\"]\nactions = [\"block\"]\n"
	"[[app]]\nexe = \"i\"\nremotes = [\"127.0.0.0/8:80\", \"10.1.0.0/16:443\", \"6379\"]\n"
	"locals = [\"53\"]\nactions = [\"block\"]\n"
	"[[app]]\nexe = \"j\"\nremotes = [\"0.0.0.0/0:443\"]\nactions = [\"block\"]\n"
	"[[app]]\nexe = \"k\"\nremotes = []\nactions = [\"block\"]\n";

TEST(kernel_model_agrees_with_policy_decide)
{
	struct config *c = load(km_config);
	static const char *exes[] = { "a", "b", "c", "d", "e",	"f",	"g",
				      "h", "i", "j", "k", "wl", "other" };
	static const char *ips[] = { "127.0.0.1", "127.1.2.3", "0.0.0.0",  "10.1.2.3",
				     "10.2.0.1",  "10.9.1.1",  "192.0.2.7" };
	static const uint16_t ports[] = { 1, 22, 53, 80, 443, 5432, 6379, 8050, 8080, 9999 };
	static const uint32_t uids[] = { 0, 1000, 2000 };
	struct pcompile_plan *p = NULL;
	struct policy *pol = NULL;
	unsigned n = 0, blocked = 0;

	ASSERT_TRUE(c);
	ASSERT_EQ(pcompile(c, NULL, &p), 0);
	ASSERT_EQ(policy_new(c, &pol), 0);
	for (size_t e = 0; e < sizeof(exes) / sizeof(*exes); e++)
		for (size_t i = 0; i < sizeof(ips) / sizeof(*ips); i++)
			for (size_t k = 0; k < sizeof(ports) / sizeof(*ports); k++)
				for (size_t u = 0; u < sizeof(uids) / sizeof(*uids); u++) {
					bool want = policy_blocks(pol, exes[e], uids[u], ips[i],
								  ports[k]);
					bool got =
						model_block(p, exes[e], uids[u], ips[i], ports[k]);

					if (want != got)
						TAP_FAIL(
							"exe=%s uid=%u %s:%u: policy %s, kernel %s",
							exes[e], uids[u], ips[i], ports[k],
							want ? "blocks" : "allows",
							got ? "blocks" : "allows");
					n++;
					blocked += got;
				}
	printf("# %u cases agree, %u blocked\n", n, blocked);
	ASSERT_TRUE(blocked > 0 && blocked < n);
	policy_free(pol);
	pcompile_plan_free(p);
	config_free(c);
}

static bool has_c4(const struct pcompile_plan *p, const struct pcompile_cidr4 *e)
{
	for (size_t i = 0; i < p->n_c4; i++)
		if (memcmp(&p->c4[i], e, sizeof(*e)) == 0)
			return true;
	return false;
}

static bool has_port(const struct pcompile_plan *p, const struct aegis_enf_port_key *k)
{
	for (size_t i = 0; i < p->n_ports; i++)
		if (memcmp(&p->ports[i], k, sizeof(*k)) == 0)
			return true;
	return false;
}

/* Entries of a that b lacks (what a reload from a to b would delete). */
static unsigned n_gone(const struct pcompile_plan *a, const struct pcompile_plan *b)
{
	unsigned n = 0;

	for (size_t i = 0; i < a->n_c4; i++)
		n += !has_c4(b, &a->c4[i]);
	for (size_t i = 0; i < a->n_ports; i++)
		n += !has_port(b, &a->ports[i]);
	return n;
}

TEST(renumber_keeps_meaning_and_set_ids)
{
	/* B: A with one more app first, so every set is compiled in another order */
	const char *apps = strstr(km_config, "[[app]]");
	char text[8192];
	struct config *ca, *cb;
	struct pcompile_plan *pa = NULL, *pb = NULL, *pr = NULL, *ps = NULL, *pt = NULL;
	static const char *exes[] = { "a", "b", "d", "g", "h", "i", "j", "k", "z", "other" };
	static const char *ips[] = { "127.0.0.1", "10.1.2.3", "10.7.1.1", "10.2.0.1", "192.0.2.7" };
	static const uint16_t ports[] = { 1, 22, 80, 443, 5432, 6379, 7000, 8050, 8080 };
	unsigned n = 0;

	ASSERT_TRUE(apps);
	snprintf(text, sizeof(text),
		 "%.*s[[app]]\nexe = \"z\"\nremotes = [\"10.7.0.0/16:7000\", \"10.8.0.0/16:81\"]\n"
		 "ports = [\"9000-9100\"]\nactions = [\"block\"]\n%s",
		 (int)(apps - km_config), km_config, apps);
	ca = load(km_config);
	cb = load(text);
	ASSERT_TRUE(ca && cb);
	ASSERT_EQ(pcompile(ca, NULL, &pa), 0);
	ASSERT_EQ(pcompile(cb, NULL, &pb), 0);
	ASSERT_EQ(pcompile(cb, NULL, &pr), 0);
	ASSERT_EQ(pcompile_renumber(pr, pa), 0);
	/* same decisions as the plain compile */
	for (size_t e = 0; e < sizeof(exes) / sizeof(*exes); e++)
		for (size_t i = 0; i < sizeof(ips) / sizeof(*ips); i++)
			for (size_t k = 0; k < sizeof(ports) / sizeof(*ports); k++, n++)
				if (model_block(pb, exes[e], 0, ips[i], ports[k]) !=
				    model_block(pr, exes[e], 0, ips[i], ports[k]))
					TAP_FAIL("exe=%s %s:%u: renumbered plan decides otherwise",
						 exes[e], ips[i], ports[k]);
	/* the plain compile shifts A's sets; renumbered, every entry of A stays */
	ASSERT_TRUE(n_gone(pa, pb) > 0);
	ASSERT_EQ(n_gone(pa, pr), 0u);
	printf("# %u decisions agree; %u of A's entries move without renumbering, none with\n", n,
	       n_gone(pa, pb));
	/* and back: B -> A renumbered against B keeps B's ids for A's sets */
	ASSERT_EQ(pcompile(ca, NULL, &ps), 0);
	ASSERT_EQ(pcompile_renumber(ps, pr), 0);
	ASSERT_EQ(n_gone(ps, pr), 0u);
	/* the same config again (a SIGHUP): the very same entries */
	ASSERT_EQ(pcompile(cb, NULL, &pt), 0);
	ASSERT_EQ(pcompile_renumber(pt, pr), 0);
	ASSERT_EQ(n_gone(pt, pr) + n_gone(pr, pt), 0u);
	pcompile_plan_free(pt);
	pcompile_plan_free(pa);
	pcompile_plan_free(pb);
	pcompile_plan_free(pr);
	pcompile_plan_free(ps);
	config_free(ca);
	config_free(cb);
}

/* A directory standing in for /usr/bin: nc -> nc.openbsd (as via /etc/alternatives). */
static char *alias_dir(void)
{
	char *d = strdup("/tmp/test-enforce-compile-bin.XXXXXX"), path[256], target[256];
	int fd;

	if (!d || !mkdtemp(d))
		return NULL;
	snprintf(target, sizeof(target), "%s/nc.openbsd", d);
	fd = open(target, O_CREAT | O_WRONLY, 0755);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/nc", d);
	if (symlink("nc.openbsd", path) < 0)
		return NULL;
	return d;
}

static void alias_dir_rm(char *d)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/nc", d);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nc.openbsd", d);
	unlink(path);
	rmdir(d);
	free(d);
}

/*
 * The examples of issue 5 and policy.h 5, in the kernel model and in
 * policy_decide(): loopback remotes restrict local peers; CIDR remotes match
 * local peers too; a class no list restricts is left alone; exe aliases
 * (exe = "nc" is the kernel's "nc.openbsd").
 */
TEST(kernel_model_issue5_examples)
{
	struct config *c = load(
		"[global]\ninclude_dirs = []\nscript_dirs = []\n"
		"unconfigured_actions = [\"log\"]\n"
		"[[app]]\nexe = \"nc\"\nremotes = [\"127.0.0.1:8080\"]\n"
		"actions = [\"block\", \"log\"]\n"
		"[[app]]\nexe = \"telegraf\"\nremotes = [\"10.0.0.0/8:8086\"]\n"
		"locals = [\"8086\", \"80\", \"5432\", \"53\"]\nactions = [\"block\"]\n"
		"[[app]]\nexe = \"pgc\"\nremotes = [\"10.0.0.0/8:5432\"]\nactions = [\"block\"]\n");
	struct {
		const char *exe, *ip;
		uint16_t port;
		bool block;
	} cases[] = {
		{ "nc.openbsd", "127.0.0.1", 8080, false },
		{ "nc.openbsd", "127.0.0.1", 9090, true },
		{ "nc", "127.0.0.1", 9090, true },
		{ "nc.openbsd", "127.0.0.2", 8080, true },
		{ "nc.openbsd", "192.0.2.1", 9090, false }, /* remote class not restricted */
		{ "telegraf", "127.0.0.1", 53, false },
		{ "telegraf", "127.0.0.1", 6666, true },
		{ "telegraf", "10.1.2.3", 8086, false },
		{ "telegraf", "10.1.2.3", 22, true },
		{ "telegraf", "203.0.113.7", 8086, true },
		{ "pgc", "127.0.0.1", 53, false }, /* local class not restricted */
		{ "pgc", "8.8.8.8", 53, true },
		{ "pgc", "10.9.9.9", 5432, false },
		{ "nc.traditional", "127.0.0.1", 9090, false }, /* unconfigured: log only */
	};
	char *dir = alias_dir();
	const char *dirs[] = { dir, NULL };
	struct pcompile_env env = { .exe_dirs = dirs };
	struct pcompile_plan *p = NULL;
	struct policy *pol = NULL;

	ASSERT_TRUE(c);
	ASSERT_TRUE(dir);
	ASSERT_EQ(pcompile(c, &env, &p), 0);
	ASSERT_EQ(policy_new_with_exe_dirs(c, dirs, &pol), 0);
	/* nc: one key for "nc", one for its alias */
	ASSERT_EQ(p->n_ids, 4);
	ASSERT_STREQ(p->ids[1].key.name, "nc.openbsd");
	ASSERT_EQ(p->ids[1].val.rule, 0);
	ASSERT_EQ(p->rules[0].flags & (AEGIS_ENF_R_LOCAL_RESTR | AEGIS_ENF_R_REMOTE_RESTR),
		  AEGIS_ENF_R_LOCAL_RESTR);
	ASSERT_EQ(p->rules[1].flags & (AEGIS_ENF_R_LOCAL_RESTR | AEGIS_ENF_R_REMOTE_RESTR),
		  AEGIS_ENF_R_LOCAL_RESTR | AEGIS_ENF_R_REMOTE_RESTR);
	ASSERT_EQ(p->rules[2].flags & (AEGIS_ENF_R_LOCAL_RESTR | AEGIS_ENF_R_REMOTE_RESTR),
		  AEGIS_ENF_R_REMOTE_RESTR);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		bool want = policy_blocks(pol, cases[i].exe, 0, cases[i].ip, cases[i].port);
		bool got = model_block(p, cases[i].exe, 0, cases[i].ip, cases[i].port);

		if (want != cases[i].block || got != cases[i].block)
			TAP_FAIL("%s %s:%u: expected %s, policy %s, kernel %s", cases[i].exe,
				 cases[i].ip, cases[i].port, cases[i].block ? "block" : "allow",
				 want ? "blocks" : "allows", got ? "blocks" : "allows");
	}
	policy_free(pol);
	pcompile_plan_free(p);
	config_free(c);
	alias_dir_rm(dir);
}

TEST(whitelist_program_aliases)
{
	struct config *c = load("[global]\ninclude_dirs = []\nscript_dirs = []\n"
				"[whitelist]\nprograms = [\"nc\"]\n");
	char *dir = alias_dir();
	const char *dirs[] = { dir, NULL };
	struct pcompile_env env = { .exe_dirs = dirs };
	struct pcompile_plan *p = NULL;

	ASSERT_TRUE(c);
	ASSERT_TRUE(dir);
	ASSERT_EQ(pcompile(c, &env, &p), 0);
	ASSERT_EQ(p->n_ids, 2);
	ASSERT_EQ(p->ids[0].key.kind, AEGIS_ENF_ID_WL_EXE);
	ASSERT_STREQ(p->ids[0].key.name, "nc");
	ASSERT_EQ(p->ids[1].key.kind, AEGIS_ENF_ID_WL_EXE);
	ASSERT_STREQ(p->ids[1].key.name, "nc.openbsd");
	pcompile_plan_free(p);
	config_free(c);
	alias_dir_rm(dir);
}

TAP_MAIN()
