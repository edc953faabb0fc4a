// SPDX-License-Identifier: GPL-2.0-or-later
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "macro.h"
#include "tap.h"

static char tmpdir[64];

static const char *path_of(const char *name)
{
	static char buf[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

/* Writes name (relative to tmpdir; creates one directory level) with mode 0644. */
static void put(const char *name, const char *content)
{
	const char *p = path_of(name);
	char dir[256];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = 0;
	(void)mkdir(dir, 0755);
	f = fopen(p, "we");
	if (!f)
		abort();
	fputs(content, f);
	fclose(f);
	chmod(p, 0644);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void fresh(void)
{
	if (tmpdir[0])
		nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/aegis-test-config.XXXXXX");
	if (!mkdtemp(tmpdir))
		abort();
	chmod(tmpdir, 0755);
}

static int load(const char *main_name, char **drop_ins, struct config **ret,
		struct diag_list *diags)
{
	struct config_load_opts o = {
		.main_path = path_of(main_name),
		.drop_ins = drop_ins,
		.skip_owner_check = true,
	};
	return config_load(&o, ret, diags);
}

/* Finds an error whose file ends with `file`, at line:col, containing `msg`. */
static bool has(const struct diag_list *l, const char *file, unsigned line, unsigned col,
		const char *msg)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct diag *d = &l->d[i];
		size_t fl = d->file ? strlen(d->file) : 0, nl = strlen(file);

		if (d->line != line || d->col != col || !strstr(d->msg, msg))
			continue;
		if (fl >= nl && streq(d->file + fl - nl, file))
			return true;
	}
	printf("# no diag %s:%u:%u: %s; have:\n", file, line, col, msg);
	for (size_t i = 0; i < l->n; i++)
		printf("#   %s:%u:%u: %s\n", l->d[i].file ?: "-", l->d[i].line, l->d[i].col,
		       l->d[i].msg);
	return false;
}

/* Loads main.toml (content) alone and expects exactly n_errors errors. */
static struct diag_list load_bad(const char *content, size_t n_errors)
{
	struct diag_list d = {};
	struct config *c = NULL;
	char *main;

	fresh();
	if (asprintf(&main, "[global]\ninclude_dirs = []\nscript_dirs = []\n%s", content) < 0)
		abort();
	put("main.toml", main);
	free(main);
	if (load("main.toml", NULL, &c, &d) != -EINVAL || c || d.n_errors != n_errors) {
		printf("# expected %zu errors, got %zu:\n", n_errors, d.n_errors);
		diag_list_print(&d, stdout);
	}
	return d;
}

TEST(defaults)
{
	struct diag_list d = {};
	struct config *c = NULL;

	fresh();
	put("main.toml", "# empty\n");
	ASSERT_OK(load("main.toml", NULL, &c, &d));
	ASSERT_NOT_NULL(c);
	ASSERT_STREQ(c->global.include_dirs[0], "/etc/aegis.d");
	ASSERT_NULL(c->global.include_dirs[1]);
	ASSERT_STREQ(c->global.script_dirs[0], "/etc/aegis/scripts");
	ASSERT_EQ(c->global.detent, 86400);
	ASSERT_EQ(c->global.detent_max, 65536);
	ASSERT_EQ(c->global.default_actions, ACTION_LOG | ACTION_NOTIFY);
	ASSERT_EQ(c->global.unconfigured_actions, ACTION_LOG);
	ASSERT_FALSE(c->global.block_unconfigured_programs);
	ASSERT_EQ(c->global.ringbuf_size, 1u << 20);
	ASSERT_EQ(c->global.kernel_dedup, 60);
	ASSERT_FALSE(c->global.enforce_persist);
	ASSERT_NULL(c->global.json_log);
	ASSERT_EQ(c->global.script_timeout, 10000);
	ASSERT_EQ(c->global.script_max, 8);
	ASSERT_EQ(c->global.script_queue_max, 1024);
	ASSERT_NULL(c->notify.webhooks);
	ASSERT_EQ(c->notify.timeout, 5000);
	ASSERT_EQ(c->notify.retries, 3);
	ASSERT_EQ(c->notify.backoff, 1000);
	ASSERT_EQ(c->notify.queue_max, 1024);
	ASSERT_EQ(addrset_count(&c->whitelist.ips), 0);
	ASSERT_EQ(c->n_apps, 0);
	ASSERT_EQ(strv_length(c->files), 1);
	/* /etc/aegis.d does not exist on a build host: a warning, not an error */
	ASSERT_EQ(d.n_errors, 0);
	config_free(c);
	diag_list_done(&d);
}

TEST(full_policy)
{
	struct diag_list d = {};
	struct config *c = NULL;
	uint8_t a[16] = {};
	char buf[128];

	fresh();
	put("main.toml", "[global]\n"
			 "include_dirs = []\n"
			 "script_dirs = []\n"
			 "detent = 60\n"
			 "default_actions = [\"log\"]\n"
			 "unconfigured_actions = [\"log\", \"block\"]\n"
			 "block_unconfigured_programs = true\n"
			 "json_log = \"-\"\n"
			 "[notify]\n"
			 "webhooks = [\"https://hooks.example.com/x\"]\n"
			 "timeout = 2000\n"
			 "[whitelist]\n"
			 "ips = [\"192.168.0.0/16\", \"10.0.0.0/8\", \"2001:db8::/32\"]\n"
			 "ports = [\"80\", 443, \"8000-8100\"]\n"
			 "programs = [\"systemd\"]\n"
			 "[[app]]\n"
			 "exe = \"telegraf\"\n"
			 "cmdline = '--config\\s+/etc/telegraf'\n"
			 "user = \"root\"\n"
			 "unit = \"telegraf.service\"\n"
			 "remotes = [\"bob.com:8086\", \"10.1.0.0/16:5432\", \"8086\", "
			 "\"[2001:db8::1]:443\", \"[2001:db8::/48]:1-1024\", 53, \"10.0.0.1:*\"]\n"
			 "locals = [\"8086\"]\n"
			 "actions = [\"log\", \"script\"]\n"
			 "scripts = [\"/nonexistent/hook\"]\n");
	ASSERT_OK(load("main.toml", NULL, &c, &d));
	ASSERT_EQ(c->global.detent, 60);
	ASSERT_EQ(c->global.unconfigured_actions, ACTION_LOG | ACTION_BLOCK);
	ASSERT_STREQ(c->global.json_log, "-");
	ASSERT_STREQ(c->notify.webhooks[0], "https://hooks.example.com/x");
	ASSERT_EQ(c->notify.timeout, 2000);
	inet_pton(AF_INET, "10.2.3.4", a);
	ASSERT_TRUE(addrset_contains(&c->whitelist.ips, AF_INET, a));
	inet_pton(AF_INET, "11.2.3.4", a);
	ASSERT_FALSE(addrset_contains(&c->whitelist.ips, AF_INET, a));
	ASSERT_TRUE(portset_contains(&c->whitelist.ports, 8050));
	ASSERT_TRUE(portset_contains(&c->whitelist.ports, 443));
	ASSERT_FALSE(portset_contains(&c->whitelist.ports, 444));
	ASSERT_STREQ(c->whitelist.programs[0], "systemd");

	ASSERT_EQ(c->n_apps, 1);
	const struct app *app = c->apps[0];
	ASSERT_STREQ(app->exe, "telegraf");
	ASSERT_NOT_NULL(app->cmdline_re);
	ASSERT_EQ(app->uid, 0);
	ASSERT_EQ(app->n_remotes, 7);
	ASSERT_EQ(app->remotes[0].kind, REMOTE_HOST);
	ASSERT_STREQ(app->remotes[0].host, "bob.com");
	ASSERT_EQ(app->remotes[0].ports.lo, 8086);
	ASSERT_EQ(app->remotes[1].kind, REMOTE_CIDR);
	ASSERT_STREQ(cidr_to_string(&app->remotes[1].cidr, buf, sizeof(buf)), "10.1.0.0/16");
	ASSERT_EQ(app->remotes[2].kind, REMOTE_PORT_ONLY);
	ASSERT_EQ(app->remotes[3].cidr.family, AF_INET6);
	ASSERT_EQ(app->remotes[4].ports.hi, 1024);
	ASSERT_EQ(app->remotes[5].ports.lo, 53);
	ASSERT_EQ(app->remotes[6].ports.lo, 1);
	ASSERT_EQ(app->remotes[6].ports.hi, 65535);
	ASSERT_EQ(app->remotes[0].line, 21);
	ASSERT_TRUE(app->locals.set);
	ASSERT_FALSE(app->ports.set);
	ASSERT_TRUE(app->local);
	ASSERT_TRUE(app->remote);
	ASSERT_EQ(app->actions, ACTION_LOG | ACTION_SCRIPT);
	ASSERT_STREQ(app->scripts[0], "/nonexistent/hook");
	ASSERT_EQ(app->line, 16);
	ASSERT_STREQ(
		app_identity(app, buf, sizeof(buf)),
		"exe=telegraf cmdline=/--config\\s+/etc/telegraf/ user=root unit=telegraf.service");
	ASSERT_TRUE(app_specificity(app) > 1000);
	/* the missing script is a warning */
	ASSERT_TRUE(has(&d, "main.toml", 24, 11, "script '/nonexistent/hook' does not exist"));
	config_free(c);
	diag_list_done(&d);
}

TEST(actions_strings)
{
	char buf[64];

	ASSERT_STREQ(action_to_string(ACTION_KILL), "kill");
	ASSERT_NULL(action_to_string(ACTION_KILL | ACTION_LOG));
	ASSERT_EQ(action_from_string("notify"), ACTION_NOTIFY);
	ASSERT_EQ(action_from_string("kil"), -EINVAL);
	ASSERT_STREQ(actions_to_string(ACTION_LOG | ACTION_BLOCK | ACTION_ALLOW, buf, sizeof(buf)),
		     "log,block,allow");
	ASSERT_STREQ(actions_to_string(0, buf, sizeof(buf)), "");
}

/* Drop-ins: sorted together by file name across dirs; earlier dir wins on equal names. */
TEST(dropin_order_and_override)
{
	struct diag_list d = {};
	struct config *c = NULL;
	char main[512];

	fresh();
	snprintf(main, sizeof(main),
		 "[global]\ninclude_dirs = [\"%s\", \"%s\", \"%s\"]\nscript_dirs = []\n"
		 "[[app]]\nexe = \"sshd\"\nports = [\"22\"]\n",
		 path_of("d1"), path_of("d2"), path_of("missing"));
	put("main.toml", main);
	put("d1/telegraf.toml", "[[app]]\nexe = \"telegraf\"\nremotes = [\"8086\"]\n"
				"locals = [\"8086\"]\nactions = [\"log\"]\n");
	put("d2/nginx.toml", "[[app]]\nexe = \"nginx\"\nports = [\"80\"]\n");
	/* same name in a later dir: ignored entirely */
	put("d2/telegraf.toml", "[[app]]\nexe = \"telegraf\"\nactions = [\"kill\"]\n");
	put("d2/zz-telegraf.toml", "[[app]]\nexe = \"telegraf\"\nactions = [\"log\", \"notify\"]\n"
				   "[whitelist]\nips = [\"10.0.0.0/8\"]\n");
	put("d1/aa.toml", "[whitelist]\nips = [\"192.168.0.0/16\"]\nprograms = [\"a\"]\n"
			  "[global]\ndetent = 5\n");
	put("d1/notes.txt", "not toml at all [[[");
	put("d1/.hidden.toml", "not toml at all [[[");
	ASSERT_OK(load("main.toml", NULL, &c, &d));

	ASSERT_EQ(strv_length(c->files), 5);
	ASSERT_TRUE(strstr(c->files[0], "main.toml") != NULL);
	ASSERT_TRUE(strstr(c->files[1], "d1/aa.toml") != NULL);
	ASSERT_TRUE(strstr(c->files[2], "d2/nginx.toml") != NULL);
	ASSERT_TRUE(strstr(c->files[3], "d1/telegraf.toml") != NULL);
	ASSERT_TRUE(strstr(c->files[4], "d2/zz-telegraf.toml") != NULL);
	ASSERT_TRUE(has(&d, "missing", 0, 0, "include directory does not exist"));
	ASSERT_TRUE(d.d[0].warning);
	ASSERT_EQ(d.n_errors, 0);

	/* order of first appearance */
	ASSERT_EQ(c->n_apps, 3);
	ASSERT_STREQ(c->apps[0]->exe, "sshd");
	ASSERT_STREQ(c->apps[1]->exe, "nginx");
	ASSERT_STREQ(c->apps[2]->exe, "telegraf");
	ASSERT_EQ(c->apps[2]->index, 2);
	/* field-wise: zz-telegraf changed actions only, remotes/locals inherited */
	const struct app *t = c->apps[2];
	ASSERT_EQ(t->actions, ACTION_LOG | ACTION_NOTIFY);
	ASSERT_EQ(t->n_remotes, 1);
	ASSERT_TRUE(portset_contains(&t->locals, 8086));
	ASSERT_TRUE(strstr(t->file, "zz-telegraf.toml") != NULL);
	ASSERT_EQ(t->set, APP_F_REMOTES | APP_F_LOCALS | APP_F_ACTIONS);
	/* apps without actions get the defaults */
	ASSERT_EQ(c->apps[0]->actions, ACTION_LOG | ACTION_NOTIFY);
	ASSERT_FALSE(c->apps[0]->set & APP_F_ACTIONS);
	/* whitelist lists are joined, globals overridden */
	ASSERT_EQ(addrset_count(&c->whitelist.ips), 2);
	ASSERT_EQ(c->global.detent, 5);
	config_free(c);
	diag_list_done(&d);

	/* --drop-in replaces an installed file of the same name ... */
	put("new/telegraf.toml", "[[app]]\nexe = \"telegraf\"\nactions = [\"kill\"]\n");
	/* ... and a temp name (Ansible) is sorted by its own file name */
	put("tmp/tmpa1b2c3", "[[app]]\nexe = \"telegraf\"\nactions = [\"block\"]\n"
			     "remotes = [\"443\"]\n");
	char *extra[] = { (char *)path_of("new/telegraf.toml"), (char *)path_of("tmp/tmpa1b2c3"),
			  NULL };
	ASSERT_OK(load("main.toml", extra, &c, &d));
	ASSERT_EQ(strv_length(c->files), 6);
	ASSERT_TRUE(strstr(c->files[3], "new/telegraf.toml") != NULL);
	ASSERT_TRUE(strstr(c->files[4], "tmp/tmpa1b2c3") != NULL);
	ASSERT_TRUE(strstr(c->files[5], "zz-telegraf.toml") != NULL);
	t = c->apps[2];
	ASSERT_EQ(t->actions, ACTION_LOG | ACTION_NOTIFY);
	ASSERT_EQ(t->n_remotes, 1);
	ASSERT_EQ(t->remotes[0].ports.lo, 443);
	ASSERT_FALSE(t->locals.set);
	config_free(c);
	diag_list_done(&d);
}

TEST(identity_is_all_matchers)
{
	struct diag_list d = {};
	struct config *c = NULL;

	fresh();
	put("main.toml",
	    "[global]\ninclude_dirs = []\nscript_dirs = []\n"
	    "[[app]]\nexe = \"python3\"\nports = [\"1\"]\n"
	    "[[app]]\nexe = \"python3\"\ncmdline = \"^python3 /opt/a\"\nports = [\"2\"]\n"
	    "[[app]]\nexe = \"python3\"\nuser = \"0\"\nports = [\"3\"]\n"
	    "[[app]]\nexe = \"python3\"\nuser = 0\nports = [\"4\"]\nname = \"x\"\n"
	    "[[app]]\nexe = \"python3\"\nports = [\"5\"]\nignore = true\n");
	ASSERT_OK(load("main.toml", NULL, &c, &d));
	ASSERT_EQ(c->n_apps, 3);
	ASSERT_TRUE(portset_contains(&c->apps[0]->ports, 5));
	ASSERT_FALSE(portset_contains(&c->apps[0]->ports, 1));
	ASSERT_TRUE(c->apps[0]->ignore);
	ASSERT_TRUE(portset_contains(&c->apps[2]->ports, 4));
	ASSERT_STREQ(c->apps[2]->name, "x");
	ASSERT_EQ(c->apps[2]->uid, 0);
	ASSERT_EQ(c->apps[2]->line, 15);
	config_free(c);
	diag_list_done(&d);
}

TEST(error_unknown_keys_with_hint)
{
	struct diag_list d = load_bad("detnet = 5\n"
				      "[whitelist]\nip = []\n"
				      "[[app]]\nexe = \"x\"\nremots = []\nfoo_bar_baz = 1\n",
				      4);
	ASSERT_TRUE(has(&d, "main.toml", 4, 1,
			"unknown key 'detnet' in [global]; did you mean 'detent'?"));
	ASSERT_TRUE(
		has(&d, "main.toml", 6, 1, "unknown key 'ip' in [whitelist]; did you mean 'ips'?"));
	ASSERT_TRUE(has(&d, "main.toml", 9, 1,
			"unknown key 'remots' in [[app]]; did you mean 'remotes'?"));
	ASSERT_TRUE(has(&d, "main.toml", 10, 1, "unknown key 'foo_bar_baz' in [[app]]"));
	ASSERT_FALSE(strstr(d.d[3].msg, "did you mean"));
	diag_list_done(&d);
	d = load_bad("[notfy]\n", 1);
	ASSERT_TRUE(has(&d, "main.toml", 4, 2,
			"unknown table 'notfy' at top level; did you mean 'notify'?"));
	diag_list_done(&d);
	/* a swap ties with a deleted letter ("remote"): the same length wins */
	d = load_bad("[[app]]\nexe = \"x\"\nremotse = []\n", 1);
	ASSERT_TRUE(has(&d, "main.toml", 6, 1,
			"unknown key 'remotse' in [[app]]; did you mean 'remotes'?"));
	diag_list_done(&d);
}

TEST(error_wrong_types)
{
	struct diag_list d =
		load_bad("detent = \"1d\"\n"
			 "enforce_persist = 1\n"
			 "default_actions = \"log\"\n"
			 "[[app]]\nexe = 5\npath = \"/x\"\nports = [true]\nuser = 1.5\n",
			 6);
	ASSERT_TRUE(has(&d, "main.toml", 4, 10, "'detent' must be an integer, got string"));
	ASSERT_TRUE(has(&d, "main.toml", 5, 19,
			"'enforce_persist' must be a boolean (true or false), got integer"));
	ASSERT_TRUE(has(&d, "main.toml", 6, 19,
			"'default_actions' must be an array of action names, got string"));
	ASSERT_TRUE(has(&d, "main.toml", 8, 7, "'exe' must be a string, got integer"));
	ASSERT_TRUE(has(&d, "main.toml", 10, 10, "'ports' elements must be ports or ranges"));
	ASSERT_TRUE(has(&d, "main.toml", 11, 8,
			"'user' must be a user name or a numeric uid, got float"));
	diag_list_done(&d);
	d = load_bad("[global.x]\n", 1);
	ASSERT_TRUE(has(&d, "main.toml", 4, 9, "unknown key 'x' in [global]"));
	diag_list_done(&d);
	d = load_bad("[app]\nexe = \"x\"\n", 1);
	ASSERT_TRUE(has(&d, "main.toml", 4, 1,
			"'app' must be an array of tables (write [[app]]), got table"));
	diag_list_done(&d);
}

TEST(error_ranges)
{
	struct diag_list d =
		load_bad("detent = -1\n"
			 "ringbuf_size = 5000\n"
			 "script_timeout = 10\n"
			 "[whitelist]\n"
			 "ips = [\"10.0.0.0/33\", \"10.0.0.1/8\", \"fe80::/129\", \"300.1.1.1\"]\n"
			 "ports = [\"70000\", 0, \"8100-8000\", \"http\", 65536]\n",
			 12);
	ASSERT_TRUE(has(&d, "main.toml", 4, 10,
			"'detent' must be between 0 and 31622400 seconds, got -1"));
	ASSERT_TRUE(has(&d, "main.toml", 5, 16, "'ringbuf_size' must be a power of two"));
	ASSERT_TRUE(has(&d, "main.toml", 6, 18,
			"'script_timeout' must be between 100 and 3600000 milliseconds, got 10"));
	ASSERT_TRUE(
		has(&d, "main.toml", 8, 8,
		    "invalid address '10.0.0.0/33': prefix length out of range (0-32 for IPv4)"));
	ASSERT_TRUE(has(
		&d, "main.toml", 8, 23,
		"invalid address '10.0.0.1/8': host bits set after the prefix length (did you mean '10.0.0.0/8'?)"));
	ASSERT_TRUE(has(&d, "main.toml", 8, 37, "prefix length out of range (0-128 for IPv6)"));
	ASSERT_TRUE(has(&d, "main.toml", 8, 51, "invalid address '300.1.1.1': invalid IP address"));
	ASSERT_TRUE(has(&d, "main.toml", 9, 10,
			"invalid port '70000' in 'ports': port out of range (1-65535)"));
	ASSERT_TRUE(has(&d, "main.toml", 9, 19,
			"invalid port 0 in 'ports': port out of range (1-65535)"));
	ASSERT_TRUE(has(&d, "main.toml", 9, 22,
			"invalid port '8100-8000' in 'ports': port range is reversed"));
	ASSERT_TRUE(
		has(&d, "main.toml", 9, 35, "invalid port 'http' in 'ports': invalid port number"));
	ASSERT_TRUE(has(&d, "main.toml", 9, 43, "invalid port 65536 in 'ports'"));
	diag_list_done(&d);
}

TEST(error_actions)
{
	struct diag_list d =
		load_bad("default_actions = [\"log\", \"kil\"]\n"
			 "[[app]]\nexe = \"a\"\nactions = [\"allow\", \"block\"]\n"
			 "[[app]]\nexe = \"b\"\nactions = [\"notfy\", \"xyzzyq\", 3]\n",
			 5);
	ASSERT_TRUE(has(
		&d, "main.toml", 4, 27,
		"unknown action 'kil'; did you mean 'kill'? (valid: log, notify, script, block, kill, allow)"));
	ASSERT_TRUE(has(&d, "main.toml", 7, 11,
			"'actions' contains 'allow' together with 'block': contradictory"));
	ASSERT_TRUE(has(&d, "main.toml", 10, 12, "unknown action 'notfy'; did you mean 'notify'?"));
	ASSERT_TRUE(has(&d, "main.toml", 10, 21, "unknown action 'xyzzyq' (valid:"));
	ASSERT_TRUE(has(&d, "main.toml", 10, 31,
			"'actions' elements must be action names (strings), got integer"));
	diag_list_done(&d);
}

TEST(error_unconfigured_block_needs_confirmation)
{
	struct diag_list d = load_bad("unconfigured_actions = [\"log\", \"kill\"]\n", 1);
	ASSERT_TRUE(has(&d, "main.toml", 4, 24,
			"this would kill every program that has no [[app]] entry"));
	ASSERT_TRUE(has(&d, "main.toml", 4, 24, "block_unconfigured_programs = true"));
	diag_list_done(&d);
}

TEST(error_regex_column)
{
	/* col of the error = start of the string + 1 (quote) + offset, escapes counted in the source */
	struct diag_list d = load_bad("[[app]]\ncmdline = \"^foo(bar\"\n"
				      "[[app]]\ncmdline = \"\\u00e9\\t[a-\"\n"
				      "[[app]]\ncmdline = '^x\\d+(?<'\n",
				      3);
	ASSERT_TRUE(has(
		&d, "main.toml", 5, 20,
		"invalid regex in 'cmdline': missing closing parenthesis (at offset 8 of the pattern)"));
	ASSERT_TRUE(has(&d, "main.toml", 7, 23,
			"invalid regex in 'cmdline': missing terminating ] for character class"));
	ASSERT_TRUE(has(&d, "main.toml", 9, 20, "invalid regex in 'cmdline'"));
	diag_list_done(&d);
}

TEST(error_matchers_and_contradictions)
{
	struct diag_list d =
		load_bad("[[app]]\nports = [\"80\"]\n"
			 "[[app]]\nexe = \"a\"\nremote = false\nremotes = [\"1.2.3.4:80\"]\n"
			 "[[app]]\nexe = \"b\"\nlocal = false\nlocals = [\"80\"]\n"
			 "[[app]]\nexe = \"/usr/bin/c\"\n"
			 "[[app]]\npath = \"bin/c\"\n"
			 "[[app]]\nuser = \"no-such-user-aegis\"\n"
			 "[[app]]\nunit = \"nginx\"\n"
			 "[[app]]\nexe = \"\"\n",
			 8);
	ASSERT_TRUE(has(
		&d, "main.toml", 4, 1,
		"[[app]] entry has no matcher: set at least one of exe, path, cmdline, user, unit"));
	ASSERT_TRUE(has(&d, "main.toml", 9, 11, "'remotes' has no effect with remote = false"));
	ASSERT_TRUE(has(&d, "main.toml", 13, 10, "'locals' has no effect with local = false"));
	ASSERT_TRUE(has(
		&d, "main.toml", 15, 7,
		"'exe' is the executable's file name without directory; use path = \"/usr/bin/c\""));
	ASSERT_TRUE(has(&d, "main.toml", 17, 8, "'path' must be an absolute path, got 'bin/c'"));
	ASSERT_TRUE(has(&d, "main.toml", 19, 8, "unknown user 'no-such-user-aegis'"));
	ASSERT_TRUE(has(&d, "main.toml", 21, 8, "'unit' must be a full systemd unit name"));
	ASSERT_TRUE(has(&d, "main.toml", 23, 7, "'exe' must not be empty"));
	diag_list_done(&d);
}

/* remotes naming loopback restrict local peers (policy.h): not contradicted by remote = false. */
TEST(remote_false_with_loopback_remotes)
{
	struct diag_list d = {};
	struct config *c = NULL;

	fresh();
	put("main.toml",
	    "[[app]]\nexe = \"a\"\nremote = false\nremotes = [\"127.0.0.1:8080\"]\n"
	    "[[app]]\nexe = \"b\"\nremote = false\nremotes = [\"[::1]:80\", \"localhost:81\"]\n");
	ASSERT_EQ(load("main.toml", NULL, &c, &d), 0);
	ASSERT_EQ(d.n_errors, 0);
	c = config_free(c);
	diag_list_done(&d);
}

/* A contradiction made of two files is reported at the later setting. */
TEST(error_contradiction_across_files)
{
	struct diag_list d = {};
	struct config *c = NULL;

	fresh();
	put("main.toml", "[[app]]\nexe = \"a\"\nremote = false\n");
	put("b.toml", "\n[[app]]\nexe = \"a\"\nremotes = [\"443\"]\n");
	char *extra[] = { (char *)path_of("b.toml"), NULL };
	/* main has no [global]: include_dirs = /etc/aegis.d, which does not exist here */
	ASSERT_EQ(load("main.toml", extra, &c, &d), -EINVAL);
	ASSERT_TRUE(has(&d, "b.toml", 4, 11, "'remotes' has no effect with remote = false"));
	diag_list_done(&d);

	/* the other way round: reported at the later remote = false */
	put("main.toml", "[[app]]\nexe = \"a\"\nremotes = [\"443\"]\nlocals = []\n");
	put("b.toml", "\n[[app]]\nexe = \"a\"\nremote = false\nlocal = false\n");
	ASSERT_EQ(load("main.toml", extra, &c, &d), -EINVAL);
	ASSERT_EQ(d.n_errors, 1); /* locals = [] with local = false is consistent */
	ASSERT_TRUE(has(&d, "b.toml", 4, 10, "'remotes' has no effect with remote = false"));
	diag_list_done(&d);
}

TEST(error_remotes)
{
	struct diag_list d = load_bad("[[app]]\nexe = \"a\"\nremotes = [\"2001:db8::1:443\", "
				      "\"[2001:db8::1:443\", \"10.0.0.0/33:80\", \"host:70000\", "
				      "\"bad host!:80\", \"1.2.3:80\", \"h:\"]\n",
				      7);
	ASSERT_TRUE(has(&d, "main.toml", 6, 12, "write IPv6 addresses in brackets"));
	ASSERT_TRUE(has(&d, "main.toml", 6, 31, "expected '[IPv6]:port'"));
	ASSERT_TRUE(has(&d, "main.toml", 6, 51,
			"invalid address in remote '10.0.0.0/33': prefix length out of range"));
	ASSERT_TRUE(has(&d, "main.toml", 6, 69, "invalid port '70000' in remote 'host:70000'"));
	ASSERT_TRUE(has(&d, "main.toml", 6, 83, "is neither an address nor a hostname"));
	ASSERT_TRUE(has(&d, "main.toml", 6, 99, "invalid address in remote '1.2.3'"));
	ASSERT_TRUE(has(&d, "main.toml", 6, 111, "invalid port '' in remote 'h:'"));
	diag_list_done(&d);
}

TEST(error_toml_syntax_and_duplicate_table)
{
	struct diag_list d = load_bad("[whitelist]\nips = []\n[whitelist]\nports = []\n", 1);
	ASSERT_EQ(d.n_errors, 1);
	ASSERT_EQ(d.d[0].line, 6);
	ASSERT_TRUE(strstr(d.d[0].file, "main.toml") != NULL);
	diag_list_done(&d);

	/* every file is checked: errors of several drop-ins are all reported */
	struct config *c = NULL;
	char main[256];
	fresh();
	snprintf(main, sizeof(main), "[global]\ninclude_dirs = [\"%s\"]\nscript_dirs = []\n",
		 path_of("d"));
	put("main.toml", main);
	put("d/a.toml", "[[app]\nexe = \"x\"\n");
	put("d/b.toml", "[[app]]\nexe = \"x\"\nports = [\"0\"]\n");
	put("d/c.toml", "detent = \n");
	ASSERT_EQ(load("main.toml", NULL, &c, &d), -EINVAL);
	ASSERT_EQ(d.n_errors, 3);
	ASSERT_TRUE(has(&d, "d/b.toml", 3, 10, "port out of range"));
	ASSERT_EQ(d.d[0].line, 1);
	ASSERT_TRUE(strstr(d.d[0].file, "d/a.toml") != NULL);
	ASSERT_TRUE(strstr(d.d[2].file, "d/c.toml") != NULL);
	diag_list_done(&d);
}

TEST(error_missing_main_and_include_dirs_in_dropin)
{
	struct diag_list d = {};
	struct config *c = NULL;

	fresh();
	ASSERT_EQ(load("nope.toml", NULL, &c, &d), -EINVAL);
	ASSERT_TRUE(has(&d, "nope.toml", 0, 0, "cannot open: No such file or directory"));
	/* only that: no warnings about the default script dir of a file never read */
	ASSERT_EQ(d.n, 1);
	diag_list_done(&d);

	put("main.toml", "[global]\ninclude_dirs = []\nscript_dirs = []\n");
	put("x.toml", "[global]\ninclude_dirs = [\"/tmp\"]\n");
	char *extra[] = { (char *)path_of("x.toml"), NULL };
	ASSERT_EQ(load("main.toml", extra, &c, &d), -EINVAL);
	ASSERT_TRUE(has(&d, "x.toml", 2, 1, "'include_dirs' is only read from the main file"));
	diag_list_done(&d);
}

TEST(ownership_refused)
{
	struct config_load_opts o = {};
	struct diag_list d = {};
	struct config *c = NULL;
	char main[256];

	fresh();
	snprintf(main, sizeof(main), "[global]\ninclude_dirs = [\"%s\"]\nscript_dirs = [\"%s\"]\n",
		 path_of("d"), path_of("s"));
	put("main.toml", main);
	put("d/a.toml", "[[app]]\nexe = \"x\"\n");
	put("s/hook", "#!/bin/sh\n");
	chmod(path_of("d/a.toml"), 0666);
	chmod(path_of("s"), 0777);
	o.main_path = path_of("main.toml");
	ASSERT_EQ(config_load(&o, &c, &d), -EINVAL);
	if (getuid() == 0) {
		ASSERT_EQ(d.n_errors, 2);
		ASSERT_TRUE(
			has(&d, "d/a.toml", 0, 0, "refusing file writable by others (mode 0666)"));
	}
	char fix[512];
	snprintf(fix, sizeof(fix), "fix: chown root:root %s && chmod go-w %s", path_of("d/a.toml"),
		 path_of("d/a.toml"));
	ASSERT_TRUE(has(&d, "d/a.toml", 0, 0, fix));
	ASSERT_TRUE(has(&d, "/s", 0, 0, "refusing directory"));
	diag_list_done(&d);

	chmod(path_of("d/a.toml"), 0644);
	chmod(path_of("s"), 0755);
	if (getuid() == 0) {
		ASSERT_OK(config_load(&o, &c, &d));
		config_free(c);
		diag_list_done(&d);
		/* group-writable include dir */
		chmod(path_of("d"), 0775);
		ASSERT_EQ(config_load(&o, &c, &d), -EINVAL);
		ASSERT_TRUE(
			has(&d, "/d", 0, 0, "refusing directory writable by group (mode 0775)"));
		diag_list_done(&d);
		chmod(path_of("d"), 0755);
		/* not owned by root */
		ASSERT_OK(chown(path_of("d/a.toml"), 65534, 65534));
		ASSERT_EQ(config_load(&o, &c, &d), -EINVAL);
		ASSERT_TRUE(has(&d, "d/a.toml", 0, 0, "refusing file owned by uid 65534"));
		diag_list_done(&d);
	}
}

static char *dump_to_string(const struct config *c)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	if (!f)
		return NULL;
	if (config_dump(c, f) < 0) {
		fclose(f);
		free(s);
		return NULL;
	}
	fclose(f);
	return s;
}

TEST(dump_roundtrip)
{
	struct diag_list d = {};
	struct config *c = NULL, *c2 = NULL;
	_cleanup_free_ char *d1 = NULL, *d2 = NULL;
	char main[1024];

	fresh();
	snprintf(
		main, sizeof(main),
		"[global]\ninclude_dirs = [\"%s\"]\nscript_dirs = []\ndetent = 0\n"
		"json_log = \"/var/log/a \\\"b\\\".json\"\n"
		"unconfigured_actions = [\"kill\", \"log\"]\nblock_unconfigured_programs = true\n"
		"[notify]\nwebhooks = [\"http://127.0.0.1:9/x\"]\nretries = 0\n"
		"[whitelist]\nips = [\"10.0.0.0/9\", \"10.128.0.0/9\", \"::ffff:1.2.3.4\", "
		"\"2001:db8::/32\"]\nports = [80, \"81-90\"]\nprograms = [\"systemd\", \"/usr/bin/x\"]\n",
		path_of("d"));
	put("main.toml", main);
	put("d/a.toml", "[[app]]\nname = \"weird \\\"name\\\"\\n\"\nexe = \"telegraf\"\n"
			"cmdline = '^/usr/bin/telegraf\\s+--config=\\S+$'\nuser = 0\n"
			"unit = \"telegraf.service\"\nignore = false\nlocal = true\nremote = true\n"
			"ports = [\"8000-8100\", \"80\"]\nlocals = []\n"
			"remotes = [\"bob.com:8086\", \"[::ffff:10.0.0.0/104]:5432\", \"8086\", "
			"\"[2001:db8::/48]:1-1024\", \"1.2.3.4:*\"]\n"
			"actions = [\"notify\", \"log\"]\nscripts = []\n"
			"[[app]]\npath = \"/usr/sbin/sshd\"\n"
			"[[app]]\ncmdline = \"a'b\\\\d\"\n");
	ASSERT_OK(load("main.toml", NULL, &c, &d));
	diag_list_done(&d);
	d1 = dump_to_string(c);
	ASSERT_NOT_NULL(d1);

	put("dump.toml", d1);
	ASSERT_OK(load("dump.toml", NULL, &c2, &d));
	d2 = dump_to_string(c2);
	ASSERT_NOT_NULL(d2);
	if (!streq(d1, d2))
		printf("# first dump:\n%s\n# second dump:\n%s\n", d1, d2);
	ASSERT_STREQ(d1, d2);
	ASSERT_TRUE(strstr(d1, "ips = [\"1.2.3.4\", \"10.0.0.0/8\", \"2001:db8::/32\"]") != NULL);
	ASSERT_TRUE(strstr(d1, "remotes = [\"bob.com:8086\", \"10.0.0.0/8:5432\", \"8086\", "
			       "\"[2001:db8::/48]:1-1024\", \"1.2.3.4:1-65535\"]") != NULL);
	ASSERT_TRUE(strstr(d1, "cmdline = '^/usr/bin/telegraf\\s+--config=\\S+$'") != NULL);
	ASSERT_TRUE(strstr(d1, "include_dirs = []") != NULL);
	/* the reloaded policy is the same policy */
	ASSERT_EQ(c2->n_apps, 3);
	ASSERT_EQ(c2->apps[0]->set, c->apps[0]->set);
	ASSERT_EQ(c2->apps[0]->uid, 0);
	ASSERT_NOT_NULL(c2->apps[0]->scripts);
	ASSERT_NULL(c2->apps[0]->scripts[0]);
	ASSERT_NULL(c2->apps[1]->scripts);
	ASSERT_STREQ(c2->apps[0]->name, "weird \"name\"\n");
	ASSERT_STREQ(c2->apps[2]->cmdline, "a'b\\d");
	ASSERT_EQ(c2->global.unconfigured_actions, ACTION_LOG | ACTION_KILL);
	config_free(c);
	config_free(c2);
	diag_list_done(&d);
}

/* Reload as the daemon does, many times, valid and invalid: run under ASan/valgrind for leaks. */
TEST(repeated_loads)
{
	struct diag_list d = {};
	struct config *c = NULL;

	fresh();
	put("main.toml",
	    "[global]\ninclude_dirs = []\nscript_dirs = []\n[whitelist]\n"
	    "ips = [\"10.0.0.0/8\", \"::1\"]\nprograms = [\"a\"]\n"
	    "[[app]]\nexe = \"a\"\ncmdline = \"^a\"\nremotes = [\"h:1\", \"[::1]:2\"]\n"
	    "[[app]]\nexe = \"a\"\ncmdline = \"^a\"\nscripts = [\"/x\"]\nname = \"n\"\n");
	put("bad.toml", "[global]\ninclude_dirs = []\nscript_dirs = []\n"
			"[[app]]\nexe = \"a\"\ncmdline = \"(\"\nremotes = [\"h:1\", \"x:0\"]\n"
			"[[app]]\nexe = \"a\"\nports = [\"1\"]\nlocal = false\nlocals = [\"2\"]\n");
	for (int i = 0; i < 1000; i++) {
		ASSERT_OK(load("main.toml", NULL, &c, &d));
		config_free(c);
		diag_list_done(&d);
		ASSERT_EQ(load("bad.toml", NULL, &c, &d), -EINVAL);
		ASSERT_EQ(d.n_errors, 3);
		diag_list_done(&d);
	}
}

static double now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* 2,000 [[app]] + 50,000 CIDRs: about 25 ms CPU on the dev VM; bound loosely here. */
TEST(load_2000_apps_50000_cidrs)
{
	struct diag_list d = {};
	struct config *c = NULL;
	uint64_t x = 88172645463325252ull;
	FILE *f;

	fresh();
	f = fopen(path_of("big.toml"), "we");
	ASSERT_NOT_NULL(f);
	fputs("[global]\ninclude_dirs = []\nscript_dirs = []\n[whitelist]\nips = [\n", f);
	for (int i = 0; i < 50000; i++) {
		unsigned p = 16 + i % 17;
		uint32_t a;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		a = (uint32_t)x & (~0u << (32 - p));
		fprintf(f, "\"%u.%u.%u.%u/%u\",\n", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
			a & 255, p);
	}
	fputs("]\n", f);
	for (int i = 0; i < 2000; i++) {
		fprintf(f, "[[app]]\nexe = \"app%d\"\n", i);
		if (i % 10 == 0)
			fprintf(f, "cmdline = '^/usr/bin/app%d --config=\\S+$'\n", i);
		fprintf(f,
			"remotes = [\"10.%d.0.0/16:5432\", \"h%d.example.com:443\", \"8086\"]\n"
			"ports = [\"80\", \"8000-8100\"]\nactions = [\"log\", \"notify\"]\n",
			i % 256, i);
	}
	fclose(f);

	double t0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
	ASSERT_OK(load("big.toml", NULL, &c, &d));
	double t1 = now_ms(CLOCK_MONOTONIC), c1 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
	printf("# loaded 2000 apps (200 cmdline regexes) + 50000 CIDRs: %.1f ms wall, %.1f ms CPU\n",
	       t1 - t0, c1 - c0);
	ASSERT_EQ(c->n_apps, 2000);
	ASSERT_TRUE(addrset_count(&c->whitelist.ips) > 40000);
	/* CPU time, so a loaded CI host does not flake; quadratic behaviour takes seconds */
	ASSERT_TRUE(c1 - c0 < 1000);
	config_free(c);
	diag_list_done(&d);
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = 0;
}

TAP_MAIN()
