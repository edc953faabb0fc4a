// SPDX-License-Identifier: GPL-2.0-or-later
/* The daemon's side of the control socket: status JSON, reload, record publishing. */
#include <inttypes.h>
#include <unistd.h>

#include "actions.h"
#include "bpf-loader.h"
#include "config-h.h"
#include "config.h"
#include "control.h"
#include "detent.h"
#include "enforce.h"
#include "event-loop.h"
#include "json.h"
#include "log.h"
#include "macro.h"
#include "manager-control.h"
#include "manager.h"
#include "policy.h"

static void status_sources(const struct manager *m, struct json_writer *w)
{
	json_key(w, "sources");
	json_begin_object(w);
	if (m->bpf) {
		for (int s = 0; s < _BPF_SOURCE_MAX; s++)
			json_kv_string(w, bpf_source_to_string(s),
				       attach_mode_to_string(manager_attach_mode(m, s)));
		json_kv_string(w, "connect-indirect",
			       indirect_mode_to_string(bpf_loader_indirect_mode(m->bpf)));
	}
	json_end_object(w);
}

/*
 * Kernel features the preferred attach mode of a source needs and the kernel
 * lacks (or refuses): the source then runs on classic tracepoints, which is
 * complete but costs more (bpf-loader.h lists the preferred modes).
 */
static void status_missing(const struct manager *m, struct json_writer *w)
{
	json_key(w, "missing_features");
	json_begin_array(w);
	if (!m->bpf)
		json_string(w, "bpf");
	for (int s = 0; m->bpf && s < _BPF_SOURCE_MAX; s++) {
		bool btf_tp = s == BPF_SOURCE_EXEC || s == BPF_SOURCE_EXIT;
		enum attach_mode want = btf_tp ? ATTACH_TP_BTF : ATTACH_FENTRY;
		char what[64];

		if (manager_attach_mode(m, s) == want)
			continue;
		snprintf(what, sizeof(what), "%s (%s)", attach_mode_to_string(want),
			 bpf_source_to_string(s));
		json_string(w, what);
	}
	if (m->bpf && bpf_loader_indirect_mode(m->bpf) != INDIRECT_CGROUP)
		json_string(w, "cgroup2 (connect-indirect)");
	json_end_array(w);
}

static size_t apps_in_file(const struct config *c, const char *file)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_apps; i++)
		if (c->apps[i]->file == file || (c->apps[i]->file && streq(c->apps[i]->file, file)))
			n++;
	return n;
}

static void status_policy(const struct manager *m, struct json_writer *w)
{
	const struct config *c = m->config;

	json_key(w, "policy");
	json_begin_object(w);
	json_key(w, "files");
	json_begin_array(w);
	STRV_FOREACH(f, c ? c->files : NULL) {
		json_begin_object(w);
		json_kv_string(w, "path", *f);
		/* entries whose merged [[app]] was last changed by this file */
		json_kv_uint(w, "apps_last_set", apps_in_file(c, *f));
		json_end_object(w);
	}
	json_end_array(w);
	json_kv_uint(w, "apps", c ? c->n_apps : 0);
	json_kv_uint(w, "reloads", m->stats.reloads);
	json_kv_uint(w, "reload_failures", m->stats.reload_failures);
	json_end_object(w);
}

static void status_enforcement(const struct manager_status_parts *p, struct json_writer *w)
{
	struct enforce_status st = {};

	if (p->enforce)
		enforce_get_status(p->enforce, &st);
	json_key(w, "enforcement");
	json_begin_object(w);
	json_kv_bool(w, "active", st.active);
	json_kv_uint(w, "rules", st.n_kernel_rules + st.n_cmdline_rules);
	json_kv_uint(w, "kernel_rules", st.n_kernel_rules);
	json_kv_uint(w, "cmdline_rules", st.n_cmdline_rules);
	json_kv_uint(w, "userspace_only_rules", st.n_userspace_only);
	json_kv_bool(w, "pinned", st.pinned);
	json_kv_bool(w, "adopted", st.adopted);
	json_kv_uint(w, "links", st.n_links);
	json_kv_bool(w, "kill_in_kernel", st.kill_in_kernel);
	json_kv_uint(w, "blocks", st.blocks);
	json_kv_uint(w, "kills", st.kills);
	json_kv_uint(w, "policy_generation", st.generation);
	/* the last policy change: compile + map writes, and how many entries it wrote */
	json_kv_uint(w, "last_apply_us", st.apply_usec);
	json_kv_uint(w, "last_map_writes", st.map_writes);
	json_kv_string(w, "cgroup_root", st.cgroup_root ? st.cgroup_root : "");
	/* cmdline rules: exec -> verdict in the kernel map (the only window left) */
	json_kv_uint(w, "cmdline_execs_classified", st.exec_events);
	json_kv_uint(w, "cmdline_verdict_latency_avg_us", st.verdict_latency_avg_us);
	json_kv_uint(w, "cmdline_verdict_latency_max_us", st.verdict_latency_max_us);
	json_key(w, "details");
	json_begin_array(w);
	for (char *const *r = st.rules; r && *r; r++)
		json_string(w, *r);
	json_end_array(w);
	json_end_object(w);
}

static void status_counters(const struct manager *m, const struct manager_status_parts *p,
			    struct json_writer *w)
{
	uint64_t k[AEGIS_CNT_MAX] = {};
	struct actions_stats a = {};
	struct detent_stats d = {};

	(void)manager_counters(m, k);
	if (p->actions)
		actions_get_stats(p->actions, &a);
	if (p->detent)
		detent_get_stats(p->detent, &d);
	json_key(w, "counters");
	json_begin_object(w);
	json_kv_uint(w, "events", k[AEGIS_CNT_EVENTS]);
	json_kv_uint(w, "records", m->stats.records);
	json_kv_uint(w, "connections", m->stats.conns);
	json_kv_uint(w, "suppressed", d.suppressed);
	json_kv_uint(w, "kernel_dedup", k[AEGIS_CNT_DEDUP]);
	json_kv_uint(w, "kernel_dropped", k[AEGIS_CNT_DROPS]);
	json_kv_uint(w, "blocked", k[AEGIS_CNT_BLOCKS]);
	json_kv_uint(w, "killed", a.kills + k[AEGIS_CNT_KILLS]);
	json_kv_uint(w, "logged", a.logged);
	json_kv_uint(w, "notify_queue", a.notify_queued);
	json_kv_uint(w, "notify_sent", a.notify_sent);
	json_kv_uint(w, "notify_failed", a.notify_failed);
	json_kv_uint(w, "notify_dropped", a.notify_dropped);
	json_kv_uint(w, "scripts_running", a.scripts_running);
	json_kv_uint(w, "scripts_run", a.scripts_run);
	json_kv_uint(w, "scripts_dropped", a.scripts_dropped);
	json_kv_uint(w, "output_dropped", m->stats.output_dropped);
	json_kv_uint(w, "cmdline_regex_failed", policy_regex_errors());
	json_end_object(w);
}

int manager_status_json(const struct manager *m, const struct manager_status_parts *p,
			struct strbuf *out)
{
	static const struct manager_status_parts none = {};
	struct json_writer w;

	if (!p)
		p = &none;
	json_init(&w, out);
	json_begin_object(&w);
	json_kv_string(&w, "version", AEGIS_VERSION);
	json_kv_int(&w, "pid", getpid());
	json_kv_uint(&w, "uptime_sec", (now_usec(CLOCK_MONOTONIC) - m->started_usec) / 1000000);
	status_sources(m, &w);
	status_missing(m, &w);
	status_policy(m, &w);
	status_enforcement(p, &w);
	status_counters(m, p, &w);
	json_end_object(&w);
	return json_finish(&w);
}

/* The control object holds one pointer of userdata: the manager plus how to find its parts. */
struct manager_control {
	struct manager *m;
	manager_status_parts_fn get_parts;
};

static int on_status(void *userdata, struct strbuf *out)
{
	struct manager_control *mc = userdata;
	struct manager_status_parts p = {};

	if (mc->get_parts)
		mc->get_parts(mc->m, &p);
	return manager_status_json(mc->m, &p, out);
}

static int on_reload(void *userdata, struct strbuf *out)
{
	struct manager_control *mc = userdata;

	return manager_reload(mc->m, out);
}

static const struct control_ops manager_control_ops = {
	.status = on_status,
	.reload = on_reload,
};

/* One daemon per process: the glue lives as long as the process. */
static struct manager_control glue;

int manager_control_new(struct manager *m, manager_status_parts_fn get_parts, struct control **ret)
{
	glue = (struct manager_control){ .m = m, .get_parts = get_parts };
	return control_new(m->loop, NULL, &manager_control_ops, &glue, ret);
}

void manager_control_publish(struct control *c, const struct record *rec)
{
	_cleanup_(strbuf_done) struct strbuf b = {};

	if (!c || record_to_json(rec, &b) < 0 || !b.s)
		return;
	control_publish(c, b.s, b.len);
}
