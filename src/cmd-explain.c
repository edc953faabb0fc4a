// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * aegis explain --exe PATH [--cmdline "..."] [--user U] [--unit U]
 *               --dst HOST:PORT [--proto tcp|udp] [--direction out|in|listen] [-c FILE]
 *
 * Loads the policy as the daemon does and runs the same matcher
 * (policy_match_app/policy_decide) on a made-up process and connection:
 * prints which [[app]] matches and where it is written, the other matching
 * entries it beat, the decision and its reason, the actions and whether the
 * detent would suppress repeats. Hostnames of app remotes are resolved with
 * the daemon's resolver first (up to 5 s).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/types.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "aegis.h"
#include "commands.h"
#include "config.h"
#include "event-loop.h"
#include "hostaddr.h"
#include "log.h"
#include "macro.h"
#include "policy.h"
#include "record.h"
#include "resolve.h"

#define EXPLAIN_RESOLVE_TIMEOUT_USEC (5ULL * 1000000)
#define EXPLAIN_MATCHES_MAX 16

static const char *arg_config;
static const char *arg_exe;
static const char *arg_cmdline;
static const char *arg_user;
static const char *arg_unit;
static const char *arg_dst;
static int arg_proto = AEGIS_PROTO_TCP;
static int arg_direction = AEGIS_DIR_OUT;

static void help(void)
{
	printf("Usage: aegis explain --exe PATH --dst HOST:PORT [OPTIONS]\n\n"
	       "Show which [[app]] matches a process, and what the policy decides for one of\n"
	       "its connections, using the daemon's matcher. Nothing is sent anywhere.\n\n"
	       "  -e, --exe=PATH          executable path of the process (/usr/bin/curl)\n"
	       "      --cmdline=TEXT      its argv joined by spaces (default: PATH)\n"
	       "  -u, --user=USER         user name or uid (default: root)\n"
	       "      --unit=UNIT         systemd unit of the process (nginx.service)\n"
	       "  -d, --dst=HOST:PORT     the peer and the service port: the destination of an\n"
	       "                          outgoing connection, the peer of an incoming one (PORT\n"
	       "                          is then our local port), the listen address for listen.\n"
	       "                          HOST is an IPv4 address, [IPv6], or a name (resolved)\n"
	       "  -p, --proto=tcp|udp     default tcp\n"
	       "      --direction=out|in|listen   default out\n"
	       "  -c, --config=FILE       main file (default %s)\n"
	       "  -h, --help              show this help\n\n"
	       "Exit status: 0 explained, 2 usage error, 3 invalid configuration.\n",
	       AEGIS_DEFAULT_CONFIG);
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "aegis explain: %s%s%s. Try --help.\n", msg, arg ? ": " : "", arg ?: "");
	return -AEGIS_EXIT(EXIT_USAGE);
}

static int parse_argv(int argc, char **argv)
{
	enum { ARG_CMDLINE = 0x100, ARG_UNIT, ARG_DIRECTION };
	static const struct option options[] = {
		{ "exe", required_argument, NULL, 'e' },
		{ "cmdline", required_argument, NULL, ARG_CMDLINE },
		{ "user", required_argument, NULL, 'u' },
		{ "unit", required_argument, NULL, ARG_UNIT },
		{ "dst", required_argument, NULL, 'd' },
		{ "proto", required_argument, NULL, 'p' },
		{ "direction", required_argument, NULL, ARG_DIRECTION },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "e:u:d:p:c:h", options, NULL)) >= 0) {
		switch (c) {
		case 'e':
			arg_exe = optarg;
			break;
		case ARG_CMDLINE:
			arg_cmdline = optarg;
			break;
		case 'u':
			arg_user = optarg;
			break;
		case ARG_UNIT:
			arg_unit = optarg;
			break;
		case 'd':
			arg_dst = optarg;
			break;
		case 'p':
			if (streq(optarg, "tcp"))
				arg_proto = AEGIS_PROTO_TCP;
			else if (streq(optarg, "udp"))
				arg_proto = AEGIS_PROTO_UDP;
			else
				return usage_error("--proto must be tcp or udp", optarg);
			break;
		case ARG_DIRECTION:
			if (streq(optarg, "out"))
				arg_direction = AEGIS_DIR_OUT;
			else if (streq(optarg, "in"))
				arg_direction = AEGIS_DIR_IN;
			else if (streq(optarg, "listen"))
				arg_direction = AEGIS_DIR_LISTEN;
			else
				return usage_error("--direction must be out, in or listen", optarg);
			break;
		case 'c':
			arg_config = optarg;
			break;
		case 'h':
			help();
			return 0;
		default:
			fprintf(stderr, "Try 'aegis explain --help'.\n");
			return -AEGIS_EXIT(EXIT_USAGE);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!arg_exe || arg_exe[0] != '/')
		return usage_error("--exe with an absolute path is required", arg_exe);
	if (!arg_dst)
		return usage_error("--dst HOST:PORT is required", NULL);
	return 1;
}

/* "1.2.3.4:80", "[::1]:80", "name:80" into family/addr/port. */
static int parse_dst(const char *s, int *ret_family, uint8_t ret_addr[16], uint16_t *ret_port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	const char *colon, *host_start = s;
	struct port_range pr;
	char host[256];
	size_t len;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		host_start = s + 1;
		len = (size_t)(end - host_start);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		len = (size_t)(colon - s);
		/* "2001:db8::1:80" is ambiguous: IPv6 only in brackets, as in the config */
		if (memchr(s, ':', len))
			return -EINVAL;
	}
	if (len == 0 || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, host_start, len);
	host[len] = 0;
	if (port_range_parse(colon + 1, &pr, NULL) < 0 || pr.lo != pr.hi)
		return -EINVAL;
	*ret_port = pr.lo;
	memset(ret_addr, 0, 16);
	if (inet_pton(AF_INET, host, ret_addr) == 1) {
		*ret_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, host, ret_addr) == 1) {
		static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

		*ret_family = AF_INET6;
		/* a v4-mapped peer is an IPv4 peer, as the daemon reports it (compared
		 * as bytes, not with IN6_IS_ADDR_V4MAPPED(): ret_addr need not be aligned) */
		if (memcmp(ret_addr, v4mapped, sizeof(v4mapped)) == 0) {
			memmove(ret_addr, ret_addr + 12, 4);
			memset(ret_addr + 4, 0, 12);
			*ret_family = AF_INET;
		}
		return 0;
	}
	if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai)
		return -EADDRNOTAVAIL;
	*ret_family = ai->ai_family;
	if (ai->ai_family == AF_INET)
		memcpy(ret_addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
	else
		memcpy(ret_addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
	freeaddrinfo(ai);
	return 0;
}

/* Fills uid/user from --user (name or number); default root. */
static int proc_set_user(struct proc_info *p, char **ret_user)
{
	const char *u = arg_user ?: "root";
	struct passwd *pw = getpwnam(u);
	char *end;

	if (pw) {
		p->uid = pw->pw_uid;
		*ret_user = strdup(pw->pw_name);
	} else {
		unsigned long v = strtoul(u, &end, 10);

		if (!*u || *end || v >= (unsigned long)(uid_t)-1)
			return usage_error("unknown user", u);
		p->uid = (uid_t)v;
		pw = getpwuid(p->uid);
		*ret_user = strdup(pw ? pw->pw_name : u);
	}
	if (!*ret_user)
		return log_error_errno(-ENOMEM, "Out of memory");
	p->user = *ret_user;
	return 0;
}

struct resolve_ctx {
	struct policy *p;
};

static void on_resolved(const char *host, const struct cidr *addrs, size_t n, const char *error,
			void *userdata)
{
	struct resolve_ctx *ctx = userdata;

	if (error)
		log_warning("Cannot resolve '%s': %s, ignoring", host, error);
	(void)policy_set_host_addrs(ctx->p, host, addrs, n);
}

/* Resolves the policy's hostnames with the daemon's resolver (bounded wait). */
static void resolve_hosts(struct policy *p)
{
	struct resolve_ctx ctx = { .p = p };
	struct event_loop *l = NULL;
	struct resolve *res = NULL;
	uint64_t deadline;

	if (!policy_hosts(p) || !policy_hosts(p)[0])
		return;
	if (event_loop_new(&l) < 0 ||
	    resolve_new(l, /* refresh_usec= */ 0, on_resolved, &ctx, &res) < 0 ||
	    resolve_set_hosts(res, policy_hosts(p)) < 0) {
		log_warning("Cannot start the resolver, hostnames in remotes match nothing");
		goto out;
	}
	deadline = now_usec(CLOCK_MONOTONIC) + EXPLAIN_RESOLVE_TIMEOUT_USEC;
	while (resolve_pending(res) > 0 && now_usec(CLOCK_MONOTONIC) < deadline)
		(void)event_loop_run_once(l, 100);
	if (resolve_pending(res) > 0)
		log_warning("Name resolution timed out, unresolved names match nothing");
out:
	resolve_free(res);
	event_loop_free(l);
}

static void print_hosts(const struct policy *p)
{
	char *const *hosts = policy_hosts(p);

	for (char *const *h = hosts; h && *h; h++) {
		const struct cidr *a;
		char buf[64];
		size_t n;

		if (policy_get_host_addrs(p, *h, &a, &n) < 0)
			continue;
		printf("host:        %s ->", *h);
		if (n == 0)
			printf(" (unresolved: matches nothing)");
		for (size_t i = 0; i < n; i++)
			printf(" %s", cidr_to_string(&a[i], buf, sizeof(buf)));
		printf("\n");
	}
}

static void print_app(const char *label, const struct policy *p, const struct app *a)
{
	printf("%-13s%s (%s:%u)\n", label, policy_app_name(p, a), a->file ? a->file : "?", a->line);
}

/* exe = NAME also matches the resolved names of NAME's symlinks (policy.h 2). */
static void print_aliases(const struct policy *p, const struct app *a)
{
	char *const *al = policy_app_exe_aliases(p, a);

	if (!al)
		return;
	printf("exe aliases: exe = \"%s\" also matches", a->exe);
	for (size_t i = 0; al[i]; i++)
		printf("%s %s", i ? "," : "", al[i]);
	printf(" (symlinks in the standard binary directories)\n");
}

static void print_matches(const struct policy *p, const struct proc_info *pi)
{
	const struct app *all[EXPLAIN_MATCHES_MAX];
	size_t n = policy_match_all(p, pi, all, ARRAY_SIZE(all));

	if (n == 0) {
		printf("app:         none matches (unconfigured)\n");
		return;
	}
	print_app("app:", p, all[0]);
	print_aliases(p, all[0]);
	for (size_t i = 1; i < n && i < ARRAY_SIZE(all); i++)
		print_app(policy_app_rank(all[i]) < policy_app_rank(all[0]) ? "  beats:" :
									      "  beats (tie):",
			  p, all[i]);
	if (n > ARRAY_SIZE(all))
		printf("  ... and %zu more matching entries\n", n - ARRAY_SIZE(all));
}

static void print_detent(const struct config *c, const struct record *r)
{
	unsigned suppressible = r->actions & (ACTION_LOG | ACTION_NOTIFY | ACTION_SCRIPT);
	char buf[128];

	if (!r->actions || r->actions == ACTION_ALLOW) {
		printf("detent:      not applicable (no actions)\n");
		return;
	}
	if (c->global.detent == 0 || !suppressible) {
		printf("detent:      off: every repeat runs %s\n",
		       actions_to_string(r->actions, buf, sizeof(buf)));
		return;
	}
	printf("detent:      repeats of the same (app, peer, port %u, %s) within %" PRIu64
	       " s run no %s",
	       r->dport, direction_to_string(r->direction), c->global.detent,
	       actions_to_string(suppressible, buf, sizeof(buf)));
	if (r->actions & (ACTION_BLOCK | ACTION_KILL))
		printf("; %s: every time",
		       actions_to_string(r->actions & (ACTION_BLOCK | ACTION_KILL), buf,
					 sizeof(buf)));
	printf("\n");
}

static void print_decision(const struct policy *p, const struct hostaddr *h, struct record *r)
{
	const struct config *c = policy_config(p);
	const uint8_t *peer = r->direction == AEGIS_DIR_IN ? r->saddr : r->daddr;
	char addr[64], buf[128];

	record_addr_to_string(r->family, peer, addr, sizeof(addr));
	printf("connection:  %s %s %s%s%s port %u", direction_to_string(r->direction),
	       proto_to_string(r->proto), r->family == AF_INET6 ? "[" : "", addr,
	       r->family == AF_INET6 ? "]" : "", r->dport);
	if (r->direction != AEGIS_DIR_LISTEN)
		printf(" (peer is %s)",
		       policy_addr_is_local(h, r->family, peer) ? "local: this host" : "remote");
	printf("\n");
	print_hosts(p);
	print_matches(p, r->proc);
	policy_decide(p, h, r);
	printf("rule:        %s\n", r->rule);
	printf("outcome:     %s\n", outcome_to_string(r->outcome));
	printf("reason:      %s\n", r->reason);
	actions_to_string(r->actions, buf, sizeof(buf));
	printf("actions:     %s\n", buf[0] ? buf : "none");
	print_detent(c, r);
}

static int load(struct config **ret)
{
	struct config_load_opts opts = { .main_path = arg_config };
	struct diag_list diags = {};
	int r;

	r = config_load(&opts, ret, &diags);
	diag_list_print(&diags, stderr);
	diag_list_done(&diags);
	if (r == -EINVAL)
		return -AEGIS_EXIT(EXIT_CONFIG);
	if (r < 0)
		return log_error_errno(r, "Failed to load %s: %m",
				       arg_config ?: AEGIS_DEFAULT_CONFIG);
	return 0;
}

static int run(struct record *rec)
{
	struct config *c = NULL;
	struct policy *p = NULL;
	struct hostaddr *h = NULL;
	const struct proc_info *pi = rec->proc;
	int r;

	r = load(&c);
	if (r < 0)
		return r;
	r = policy_new(c, &p);
	if (r < 0) {
		log_error_errno(r, "Failed to compile the policy: %m");
		goto out;
	}
	r = hostaddr_new(/* l= */ NULL, &h);
	if (r < 0)
		log_warning_errno(r,
				  "Cannot read this host's addresses, only loopback is local: %m");
	resolve_hosts(p);

	printf("config:      %s (%zu file%s, %zu app%s)\n",
	       c->files && c->files[0] ? c->files[0] : "", strv_length(c->files),
	       strv_length(c->files) == 1 ? "" : "s", c->n_apps, c->n_apps == 1 ? "" : "s");
	printf("process:     exe=%s cmdline=\"%s\" user=%s (uid %u) unit=%s\n", pi->exe,
	       pi->cmdline, pi->user, (unsigned)pi->uid, pi->unit ?: "-");
	print_decision(p, h, rec);
	r = 0;
out:
	hostaddr_free(h);
	policy_free(p);
	config_free(c);
	return r;
}

int cmd_explain(int argc, char **argv)
{
	_cleanup_free_ char *user = NULL;
	struct proc_info pi = {};
	struct record rec = { .proc = &pi };
	int family = 0, r;

	r = parse_argv(argc, argv);
	if (r <= 0)
		return r;
	r = proc_set_user(&pi, &user);
	if (r < 0)
		return r;
	if (parse_dst(arg_dst, &family, rec.daddr, &rec.dport) < 0)
		return usage_error("--dst must be HOST:PORT (IPv4, [IPv6] or a resolvable name)",
				   arg_dst);
	pi.pid = 0;
	pi.exe = (char *)arg_exe;
	pi.cmdline = (char *)(arg_cmdline ?: arg_exe);
	pi.unit = (char *)arg_unit;
	rec.family = (uint8_t)family;
	rec.proto = (uint8_t)arg_proto;
	rec.direction = (uint8_t)arg_direction;
	if (arg_direction == AEGIS_DIR_IN) {
		/* The peer initiated: it is src; dst is our (unknown) address and port. */
		memcpy(rec.saddr, rec.daddr, sizeof(rec.saddr));
		memset(rec.daddr, 0, sizeof(rec.daddr));
	}
	return run(&rec);
}
