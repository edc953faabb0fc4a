// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * match-bench: microbenchmark of the pure policy matcher (not a test: no
 * timing asserts). For configs of 1, 100 and 2,000 [[app]] entries, with
 * and without 50,000 CIDRs (whitelist ips + the remotes of one app), it
 * writes the config as TOML, loads it with config_load() (as the daemon
 * does), compiles it with policy_new() and measures:
 *   load ms     config_load + policy_new
 *   match+decide  events/s of policy_match_app + policy_decide (uncached)
 *   decide      events/s of policy_decide with the app cached in proc_info
 *               (the daemon's steady state: one match per process)
 * over the same mix of processes and destinations for every row, so the
 * columns show whether cost grows with the number of apps.
 *
 *   build/tests/bench/match-bench [SECONDS_PER_ROW]   (default 0.3)
 */
#include <errno.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aegis.h"
#include "config.h"
#include "macro.h"
#include "policy.h"
#include "record.h"

#define N_PROCS 512
#define N_RECORDS 4096

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/*
 * Apps: app0..appN-1 by exe (every 4th by path instead, every 10th with an
 * added cmdline qualifier), plus 2 cmdline-only apps when N >= 100. app0
 * carries the big remotes list when cidrs > 0.
 */
static int write_config(const char *dir, size_t n_apps, size_t n_cidrs, char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/aegis.toml", dir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "[global]\ninclude_dirs = []\nscript_dirs = []\ndetent = 60\n"
		   "default_actions = [\"log\"]\nunconfigured_actions = [\"log\"]\n\n"
		   "[whitelist]\nports = [\"53\"]\nips = [");
	for (size_t i = 0; i < n_cidrs; i++) /* 172.16.0.0/12 in /30 steps */
		fprintf(f, "%s\"172.%zu.%zu.%zu/30\"", i ? ", " : "", 16 + ((i * 4) >> 16),
			((i * 4) >> 8) & 255, (i * 4) & 255);
	fprintf(f, "]\n\n");
	for (size_t i = 0; i < n_apps; i++) {
		fprintf(f, "[[app]]\n");
		if (i % 4 == 3)
			fprintf(f, "path = \"/usr/bin/app%zu\"\n", i);
		else
			fprintf(f, "exe = \"app%zu\"\n", i);
		if (i % 10 == 9)
			fprintf(f, "cmdline = \"--mode[= ]fast\"\n");
		fprintf(f, "ports = [\"%zu\"]\n", 1000 + i % 50000);
		if (i == 0 && n_cidrs) {
			fprintf(f, "remotes = [");
			for (size_t j = 0; j < n_cidrs; j++) /* 10.0.0.0/8 in /30 steps */
				fprintf(f, "%s\"10.%zu.%zu.%zu/30:443\"", j ? ", " : "",
					(j * 8) >> 16, ((j * 8) >> 8) & 255, (j * 8) & 255);
			fprintf(f, "]\n");
		}
		fprintf(f, "\n");
	}
	if (n_apps >= 100)
		fprintf(f, "[[app]]\ncmdline = \"^java .*kafka\"\n\n"
			   "[[app]]\ncmdline = \"celery worker\"\nremote = false\n");
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

struct workload {
	struct proc_info procs[N_PROCS];
	char exes[N_PROCS][64];
	struct record recs[N_RECORDS];
};

/* 80 % of processes are configured apps (spread over the first min(N,100)), 20 % not. */
static void workload_init(struct workload *w, size_t n_apps)
{
	static const char *cmdlines[] = { "app --mode fast", "app -v", "java -jar kafka.jar",
					  "python3 x.py" };

	rnd_state = 12345;
	for (size_t i = 0; i < N_PROCS; i++) {
		size_t k = rnd() % 100;

		if (k < 80 && n_apps)
			snprintf(w->exes[i], sizeof(w->exes[i]), "/usr/bin/app%zu",
				 (size_t)rnd() % MIN(n_apps, (size_t)100));
		else
			snprintf(w->exes[i], sizeof(w->exes[i]), "/usr/bin/other%zu", k);
		w->procs[i] = (struct proc_info){
			.pid = (pid_t)(1000 + i),
			.exe = w->exes[i],
			.cmdline = (char *)cmdlines[rnd() % ARRAY_SIZE(cmdlines)],
			.user = (char *)"root",
		};
	}
	for (size_t i = 0; i < N_RECORDS; i++) {
		struct record *r = &w->recs[i];
		uint32_t a = rnd();

		*r = (struct record){
			.proc = &w->procs[rnd() % N_PROCS],
			.direction = AEGIS_DIR_OUT,
			.proto = AEGIS_PROTO_TCP,
			.family = AF_INET,
			.dport = (uint16_t)(rnd() % 3 == 0 ? 443 : 1000 + rnd() % 200),
		};
		/* mostly 10/8 (the remotes), some 172.16/12 (whitelist), some public */
		r->daddr[0] = (uint8_t)(a % 10 < 6 ? 10 : a % 10 < 8 ? 172 : 203);
		r->daddr[1] = (uint8_t)(r->daddr[0] == 172 ? 16 + (a >> 8) % 4 : (a >> 8));
		r->daddr[2] = (uint8_t)(a >> 16);
		r->daddr[3] = (uint8_t)(a >> 24);
	}
}

static double run(const struct policy *p, struct workload *w, bool cached, double secs,
		  double *ret_violations)
{
	uint64_t start = now_ns(), n = 0, viol = 0, end = start + (uint64_t)(secs * 1e9);

	for (size_t i = 0; i < N_PROCS; i++) {
		w->procs[i].policy_gen = cached ? policy_generation(p) : 0;
		w->procs[i].app = cached ? policy_match_app(p, &w->procs[i]) : NULL;
	}
	do {
		for (size_t i = 0; i < N_RECORDS; i++) {
			struct record *r = &w->recs[i];

			if (!cached)
				(void)policy_match_app(p, r->proc);
			policy_decide(p, NULL, r);
			viol += r->outcome == OUTCOME_VIOLATION;
		}
		n += N_RECORDS;
	} while (now_ns() < end);
	*ret_violations = (double)viol / (double)n;
	return (double)n / ((double)(now_ns() - start) / 1e9);
}

static int bench_row(const char *dir, size_t n_apps, size_t n_cidrs, double secs,
		     struct workload *w)
{
	struct config_load_opts opts = { .skip_owner_check = true };
	struct diag_list diags = {};
	struct config *c = NULL;
	struct policy *p = NULL;
	char path[512];
	uint64_t t0, t1, t2;
	double uncached, cached, viol;
	int r;

	r = write_config(dir, n_apps, n_cidrs, path, sizeof(path));
	if (r < 0)
		return r;
	opts.main_path = path;
	t0 = now_ns();
	r = config_load(&opts, &c, &diags);
	t1 = now_ns();
	if (r < 0) {
		diag_list_print(&diags, stderr);
		diag_list_done(&diags);
		return r;
	}
	diag_list_done(&diags);
	r = policy_new(c, &p);
	t2 = now_ns();
	if (r < 0) {
		config_free(c);
		return r;
	}
	workload_init(w, n_apps);
	uncached = run(p, w, false, secs, &viol);
	cached = run(p, w, true, secs, &viol);
	printf("%6zu %7zu %9.1f %9.1f %12.0f %8.0f %12.0f %8.0f %6.1f%%\n", c->n_apps, n_cidrs,
	       (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, uncached, 1e9 / uncached, cached,
	       1e9 / cached, 100.0 * viol);
	policy_free(p);
	config_free(c);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		size_t apps, cidrs;
	} rows[] = { { 1, 0 }, { 100, 0 }, { 2000, 0 }, { 1, 50000 }, { 2000, 50000 } };
	char dir[] = "/tmp/aegis-match-bench.XXXXXX";
	double secs = argc > 1 ? strtod(argv[1], NULL) : 0.3;
	struct workload *w;
	int r = 0;

	if (secs <= 0 || secs > 60) {
		fprintf(stderr, "usage: match-bench [SECONDS_PER_ROW (0-60]]\n");
		return 2;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !mkdtemp(dir)) {
		perror("match-bench");
		return 1;
	}
	printf("policy matcher, %d processes x %d records, %.2f s per column\n", N_PROCS, N_RECORDS,
	       secs);
	printf("%6s %7s %9s %9s %12s %8s %12s %8s %7s\n", "apps", "cidrs", "load ms", "compile",
	       "match+dec/s", "ns/ev", "decide/s", "ns/ev", "viol");
	for (size_t i = 0; i < ARRAY_SIZE(rows) && r >= 0; i++) {
		r = bench_row(dir, rows[i].apps, rows[i].cidrs, secs, w);
		if (r < 0)
			fprintf(stderr, "row %zu apps: %s\n", rows[i].apps, strerror(-r));
	}
	{
		char path[600];

		snprintf(path, sizeof(path), "%s/aegis.toml", dir);
		(void)unlink(path);
		(void)rmdir(dir);
	}
	free(w);
	return r < 0 ? 1 : 0;
}
