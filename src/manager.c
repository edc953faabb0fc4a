// SPDX-License-Identifier: GPL-2.0-or-later
/* The daemon: one loop from kernel records to attributed output (see manager.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>

#include "actions.h"
#include "config.h"
#include "detent.h"
#include "enforce.h"
#include "event-loop.h"
#include "hostaddr.h"
#include "policy.h"
#include "resolve.h"
#include "json.h"
#include "control.h"
#include "log.h"
#include "macro.h"
#include "manager-control.h"
#include "manager.h"
#include "proc-cache.h"
#include "record.h"

int manager_new(struct manager **ret)
{
	struct manager *m;
	int r;

	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	*m = (struct manager){
		.signal_fd = -EBADF,
		.poll_usec = MANAGER_POLL_MIN_USEC,
		.started_usec = now_usec(CLOCK_MONOTONIC),
	};
	strbuf_init(&m->out);
	strbuf_init(&m->line);
	r = event_loop_new(&m->loop);
	if (r < 0) {
		free(m);
		return r;
	}
	*ret = m;
	return 0;
}

/* ---- output ------------------------------------------------------------------------- */

/*
 * stdout never blocks the loop: a pipe gets what fits (its size minus what is
 * queued, or PIPE_BUF once poll() says POLLOUT), a socket gets a MSG_DONTWAIT
 * send, and the rest waits for EPOLLOUT. Regular files and terminals take
 * everything at once. Without this, a slow reader of a pipe would stall
 * everything, including the ring buffer.
 */
static void output_setup(struct manager *m)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	m->out_kind = OUTPUT_PLAIN;
	m->trace_stdout = !m->opts.quiet;
	if (fstat(STDOUT_FILENO, &st) < 0)
		return;
	/*
	 * Under systemd stdout is the journal: the log action writes structured
	 * records there already, a line per connection would only duplicate them.
	 * --json asks for the stream explicitly and keeps it.
	 */
	if (!m->opts.json && js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    dev == (unsigned long long)st.st_dev && ino == (unsigned long long)st.st_ino)
		m->trace_stdout = false;
	if (S_ISFIFO(st.st_mode))
		m->out_kind = OUTPUT_FIFO;
	else if (S_ISSOCK(st.st_mode))
		m->out_kind = OUTPUT_SOCKET;
}

/* Bytes a write to the pipe on stdout takes now without blocking; 0 when full. */
static size_t fifo_room(size_t want)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
	int size, queued;

	if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT))
		return 0;
	/* pipes fill page by page: keep a page of slack */
	size = fcntl(STDOUT_FILENO, F_GETPIPE_SZ);
	if (size > 0 && ioctl(STDOUT_FILENO, FIONREAD, &queued) == 0 &&
	    size - queued - 4096 > PIPE_BUF)
		return MIN(want, (size_t)(size - queued - 4096));
	return MIN(want, (size_t)PIPE_BUF);
}

/* One non-blocking write attempt: bytes written, 0 when it would block, < 0 on error. */
static ssize_t output_write(struct manager *m, const char *p, size_t n)
{
	ssize_t k;

	switch (m->out_kind) {
	case OUTPUT_SOCKET:
		k = send(STDOUT_FILENO, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k < 0 && errno == ENOTSOCK) {
			m->out_kind = OUTPUT_PLAIN;
			return output_write(m, p, n);
		}
		break;
	case OUTPUT_FIFO:
		n = fifo_room(n);
		if (!n)
			return 0;
		k = write(STDOUT_FILENO, p, n);
		break;
	default:
		k = write(STDOUT_FILENO, p, n);
		break;
	}
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return k < 0 ? -errno : k;
}

static int on_stdout_writable(struct event_source *s, int fd, uint32_t revents, void *userdata);

/* Keeps pending bytes at the front of the buffer, and watches for room while some are left. */
static void output_pending(struct manager *m)
{
	size_t left = m->out.len - m->out_off;

	if (m->out_off >= MANAGER_OUT_MAX / 16 || m->out_off > left) {
		memmove(m->out.s, m->out.s + m->out_off, left);
		m->out.len = left;
		m->out.s[left] = 0;
		m->out_off = 0;
	}
	if (!m->out_source && event_loop_add_io(m->loop, STDOUT_FILENO, EPOLLOUT,
						on_stdout_writable, m, &m->out_source) < 0)
		m->out_source = NULL; /* not pollable: the next iteration or timer retries */
}

/* Counts the lines given up on (a cut first line counts as one). */
static void output_abandon(struct manager *m)
{
	const char *p = m->out.s + m->out_off, *end = m->out.s + m->out.len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);

		m->stats.output_dropped++;
		p = nl ? nl + 1 : end;
	}
}

/* Writes what stdout takes now; with block, waits up to a second per stall (shutdown). */
static void output_flush(struct manager *m, bool block)
{
	while (m->out_off < m->out.len) {
		ssize_t k = output_write(m, m->out.s + m->out_off, m->out.len - m->out_off);

		if (k < 0) {
			/* stdout is gone (EPIPE...): nothing more will be written */
			output_abandon(m);
			break;
		}
		if (k == 0) {
			struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };

			if (block && poll(&p, 1, 1000) > 0)
				continue;
			if (block) {
				output_abandon(m);
				break;
			}
			output_pending(m);
			return;
		}
		m->out_off += k;
	}
	strbuf_reset(&m->out);
	m->out_off = 0;
	m->out_source = event_source_free(m->out_source);
}

static int on_stdout_writable(struct event_source *s, int fd, uint32_t revents, void *userdata)
{
	output_flush(userdata, /* block= */ false);
	return 0;
}

static void output_record(struct manager *m, const struct record *rec)
{
	int r;

	strbuf_reset(&m->line);
	r = m->opts.json ? record_to_json(rec, &m->line) : record_to_line(rec, &m->line);
	if (r < 0 || m->line.oom) {
		m->stats.output_dropped++;
		return;
	}
	if (m->out.len - m->out_off + m->line.len + 1 > MANAGER_OUT_MAX) {
		m->stats.output_dropped++;
		return;
	}
	strbuf_append(&m->out, m->line.s, m->line.len);
	strbuf_putc(&m->out, '\n');
}

static int on_post(struct event_source *s, void *userdata)
{
	output_flush(userdata, /* block= */ false);
	return 0;
}

/* ---- records -------------------------------------------------------------------------- */

/*
 * Policy, then detent, then actions. The detent folds repeats of the same
 * (app, peer, port, direction) for log/notify/script only: block and kill
 * (and the block record's EPERM) apply every time. The stdout trace and
 * `aegis events` show every connection with its decision.
 */
static void decide(struct manager *m, struct record *rec)
{
	const unsigned quiet = ACTION_LOG | ACTION_NOTIFY | ACTION_SCRIPT;
	struct detent_key k;
	uint64_t n;

	/* the process cache entry remembers its app for this policy generation */
	(void)policy_app_cached(m->policy, (struct proc_info *)rec->proc);
	policy_decide(m->policy, m->hostaddr, rec);
	if (!(rec->actions & quiet) || !m->detent)
		return;
	policy_detent_key(m->policy, rec, &k);
	if (detent_check(m->detent, &k, now_usec(CLOCK_MONOTONIC), rec->suppressed, &n))
		rec->suppressed = n;
	else
		rec->actions &= ~quiet;
}

void manager_handle_record(struct manager *m, struct record *rec)
{
	if (m->policy) {
		decide(m, rec);
		if (m->actions && (rec->actions & ~ACTION_ALLOW))
			(void)actions_run(m->actions, rec);
	}
	if (m->trace_stdout)
		output_record(m, rec);
	if (m->control)
		manager_control_publish(m->control, rec);
}

static const struct proc_info *task_proc(struct manager *m, const struct aegis_task *t)
{
	static struct proc_info unknown;
	const struct proc_info *p = proc_cache_get(m->procs, t);

	if (p)
		return p;
	/* out of memory: still report the connection, with the kernel's identity */
	unknown = (struct proc_info){ .pid = t->pid,
				      .ppid = t->ppid,
				      .uid = t->uid,
				      .gid = t->gid,
				      .start_time = t->start_time };
	memcpy(unknown.comm, t->comm, sizeof(unknown.comm));
	unknown.comm[sizeof(unknown.comm) - 1] = 0;
	return &unknown;
}

#define DELETED_SUFFIX " (deleted)"

static bool exe_marked_deleted(const char *exe)
{
	size_t n = strlen(exe), k = strlen(DELETED_SUFFIX);

	return n >= k && streq(exe + n - k, DELETED_SUFFIX);
}

static void handle_conn(struct manager *m, const struct aegis_rec_conn *c)
{
	struct proc_info deleted;
	char exe[PATH_MAX + sizeof(DELETED_SUFFIX)];
	struct record rec = {
		.time_usec = c->ts / 1000 + m->boot_to_real_usec,
		.proc = task_proc(m, &c->task),
		.direction = c->direction,
		.proto = c->proto,
		.family = c->family,
		.sport = c->sport,
		.dport = c->dport,
		.result = c->result,
		.has_result = (c->flags & AEGIS_CONN_RESULT_VALID) && c->direction == AEGIS_DIR_OUT,
		.suppressed = c->suppressed,
	};

	/* unlinked since its exec (a binary that deletes itself): say so, as /proc/PID/exe does */
	if ((c->flags & AEGIS_CONN_EXE_DELETED) && rec.proc->exe && rec.proc->exe[0] &&
	    !exe_marked_deleted(rec.proc->exe)) {
		deleted = *rec.proc;
		snprintf(exe, sizeof(exe), "%s%s", rec.proc->exe, DELETED_SUFFIX);
		deleted.exe = exe;
		rec.proc = &deleted;
	}
	memcpy(rec.saddr, c->saddr, sizeof(rec.saddr));
	memcpy(rec.daddr, c->daddr, sizeof(rec.daddr));
	m->stats.conns++;
	manager_handle_record(m, &rec);
}

/* Exec records end after their argv bytes (aegis.h): complete them in a zeroed copy. */
static int handle_exec(struct manager *m, const void *data, size_t size)
{
	static struct aegis_rec_exec e;
	const size_t head = offsetof(struct aegis_rec_exec, argv);

	if (size < head || size > sizeof(e))
		return -EBADMSG;
	memcpy(&e, data, size);
	memset((char *)&e + size, 0, sizeof(e) - size);
	if (e.argv_len > size - head || e.filename_len >= sizeof(e.filename) ||
	    e.path_len >= sizeof(e.path))
		return -EBADMSG;
	m->stats.execs++;
	(void)proc_cache_exec(m->procs, &e);
	return 0;
}

/* Ring buffer callback: check size, switch on type. < 0 ends this drain (batch full). */
static int on_rb_record(void *ctx, void *data, size_t size)
{
	struct manager *m = ctx;
	__u32 type;

	m->stats.records++;
	if (size < sizeof(type)) {
		m->stats.bad++;
		goto next;
	}
	memcpy(&type, data, sizeof(type));
	switch (type) {
	case AEGIS_REC_EXEC:
		if (handle_exec(m, data, size) < 0)
			goto bad;
		break;
	case AEGIS_REC_EXIT:
		if (size < sizeof(struct aegis_rec_exit))
			goto bad;
		m->stats.exits++;
		proc_cache_exit(m->procs, data);
		break;
	case AEGIS_REC_CONN:
		if (size < sizeof(struct aegis_rec_conn))
			goto bad;
		handle_conn(m, data);
		break;
	default:
		goto bad;
	}
next:
	return --m->batch_left ? 0 : -EAGAIN;
bad:
	m->stats.bad++;
	goto next;
}

/* Drains at most MANAGER_BATCH records. Returns how many, or < 0. */
static int rb_drain(struct manager *m)
{
	int r;

	m->batch_left = MANAGER_BATCH;
	m->boot_to_real_usec =
		(int64_t)now_usec(CLOCK_REALTIME) - (int64_t)now_usec(CLOCK_BOOTTIME);
	r = ring_buffer__consume(m->rb);
	if (r == -EAGAIN && !m->batch_left)
		return MANAGER_BATCH;
	return r;
}

static int on_rb_io(struct event_source *s, int fd, uint32_t revents, void *userdata)
{
	int r = rb_drain(userdata);

	return r < 0 ? r : 0;
}

/* ---- timer: ring-buffer poll (batched wakeups), watchdog ------------------------------ */

static int on_timer(struct event_source *s, uint64_t now, void *userdata)
{
	struct manager *m = userdata;
	int n;

	n = rb_drain(m);
	if (n < 0)
		log_debug_errno(n, "Ring buffer drain failed: %m");
	/* busy: poll fast (or at once when a batch was cut); idle: back off */
	if (n >= MANAGER_BATCH)
		m->poll_usec = 0;
	else if (n > 0)
		m->poll_usec = MANAGER_POLL_MIN_USEC;
	else
		m->poll_usec =
			MIN(MAX(m->poll_usec * 2, MANAGER_POLL_MIN_USEC), MANAGER_POLL_MAX_USEC);
	if (m->watchdog_usec && now - m->watchdog_last >= m->watchdog_usec / 2) {
		(void)sd_notify(0, "WATCHDOG=1");
		m->watchdog_last = now;
	}
	if (now - m->sweep_last >= MANAGER_SWEEP_USEC) {
		/* forget exited processes whose grace period passed (record time) */
		proc_cache_sweep(m->procs, 0);
		m->sweep_last = now;
	}
	/* after busy periods, give freed heap (process cache, output) back: steady RSS */
	if (now - m->trim_last >= MANAGER_TRIM_USEC && m->stats.records != m->trim_records) {
		(void)malloc_trim(0);
		m->trim_last = now;
		m->trim_records = m->stats.records;
	}
	if (m->detent && now - m->detent_last >= MANAGER_DETENT_EXPIRE_USEC) {
		(void)detent_expire(m->detent, now);
		m->detent_last = now;
	}
	/* this host's addresses changed (rtnetlink): reclassify local/remote in the kernel too */
	if (m->enforce && m->hostaddr && m->hostaddr->generation != m->hostaddr_gen) {
		m->hostaddr_gen = m->hostaddr->generation;
		if (enforce_update_local_addrs(m->enforce) < 0)
			log_warning(
				"Failed to update local addresses of the enforcement maps, ignoring");
	}
	return event_source_set_time(s, now + m->poll_usec);
}

/* ---- configuration ---------------------------------------------------------------------- */

static void log_diags(const struct diag_list *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->d[i];
		int level = g->warning ? LOG_WARNING : LOG_ERR;

		if (g->file && g->line)
			log_full(level, "%s:%u:%u: %s: %s", g->file, g->line, g->col,
				 g->warning ? "warning" : "error", g->msg);
		else if (g->file)
			log_full(level, "%s: %s: %s", g->file, g->warning ? "warning" : "error",
				 g->msg);
		else
			log_full(level, "%s: %s", g->warning ? "warning" : "error", g->msg);
	}
}

/* The path to load, or NULL for "no policy". */
static const char *config_path(const struct manager *m)
{
	if (m->opts.no_config)
		return NULL;
	if (m->opts.config_path)
		return m->opts.config_path;
	if (access(AEGIS_DEFAULT_CONFIG, F_OK) == 0)
		return AEGIS_DEFAULT_CONFIG;
	return NULL;
}

/* Loads path, logging every diagnostic; the first error also goes to first_error (may be NULL). */
static int config_load_logged(const char *path, struct config **ret, struct strbuf *first_error)
{
	struct config_load_opts o = { .main_path = path };
	struct diag_list d = {};
	int r;

	r = config_load(&o, ret, &d);
	log_diags(&d);
	for (size_t i = 0; first_error && r < 0 && i < d.n; i++) {
		const struct diag *g = &d.d[i];

		if (g->warning)
			continue;
		if (g->file && g->line)
			strbuf_printf(first_error, "%s:%u:%u: %s", g->file, g->line, g->col,
				      g->msg);
		else
			strbuf_printf(first_error, "%s%s%s", g->file ?: "", g->file ? ": " : "",
				      g->msg);
		if (d.n_errors > 1)
			strbuf_printf(first_error, " (and %zu more error%s)", d.n_errors - 1,
				      d.n_errors > 2 ? "s" : "");
		break;
	}
	diag_list_done(&d);
	return r;
}

static void on_resolved(const char *host, const struct cidr *addrs, size_t n, const char *error,
			void *userdata)
{
	struct manager *m = userdata;

	if (error)
		log_warning("Cannot resolve '%s' (app remotes): %s, ignoring", host, error);
	if (m->policy)
		(void)policy_set_host_addrs(m->policy, host, addrs, n);
	if (m->enforce && enforce_set_host_addrs(m->enforce, host, addrs, n) < 0)
		log_warning("Failed to update the enforcement maps for '%s', ignoring", host);
}

/*
 * Makes c the active configuration (takes it). Everything that can fail is
 * built off to the side first; enforcement flips last. On failure c is freed
 * and the old state stays whole.
 */
static int manager_apply_config(struct manager *m, struct config *c)
{
	struct policy *p = NULL;
	uint64_t t0 = now_usec(CLOCK_MONOTONIC), t1;
	int r;

	r = policy_new(c, &p);
	if (r < 0) {
		config_free(c);
		return log_error_errno(r, "Failed to compile the policy: %m");
	}
	if (m->actions) {
		r = actions_set_config(m->actions, c);
		if (r < 0) {
			policy_free(p);
			config_free(c);
			return log_error_errno(r, "Failed to apply the actions settings: %m");
		}
	}
	t1 = now_usec(CLOCK_MONOTONIC);
	m->apply_policy_usec = t1 - t0;
	m->apply_enforce_usec = 0;
	if (m->enforce) {
		r = enforce_apply(m->enforce, c);
		m->apply_enforce_usec = now_usec(CLOCK_MONOTONIC) - t1;
		if (r < 0) {
			if (m->actions)
				(void)actions_set_config(m->actions, m->config);
			policy_free(p);
			config_free(c);
			return log_error_errno(r,
					       "Failed to apply the policy to enforcement, keeping "
					       "the current one: %m");
		}
	}
	policy_free(m->policy);
	m->policy = p;
	if (m->detent)
		detent_set_limits(m->detent, c->global.detent * 1000000ULL, c->global.detent_max);
	config_free(m->config);
	m->config = c;
	/* new policy: hand it the addresses already resolved, queue the new names */
	if (m->resolve)
		(void)resolve_set_hosts(m->resolve, policy_hosts(m->policy));
	return 0;
}

int manager_reload(struct manager *m, struct strbuf *msg)
{
	const char *path = config_path(m);
	struct config *c = NULL;
	uint64_t t0 = now_usec(CLOCK_MONOTONIC), t_load;
	struct strbuf first;
	int r;

	strbuf_init(&first);

	(void)sd_notify(0, "RELOADING=1");
	m->stats.reloads++;
	if (!path) {
		log_info("Reload: no configuration in use, nothing to do");
		if (msg)
			strbuf_puts(msg, "no configuration in use");
		r = 0;
		goto out;
	}
	r = config_load_logged(path, &c, msg ? &first : NULL);
	if (r < 0) {
		m->stats.reload_failures++;
		log_error_errno(r, "Reload of %s failed, keeping the current policy: %m", path);
		if (msg)
			strbuf_printf(msg, "reload of %s failed: %s; current policy kept", path,
				      first.len ? first.s : strerror(-r));
		goto out;
	}
	t_load = now_usec(CLOCK_MONOTONIC) - t0;
	if (m->config && (c->global.ringbuf_size != m->config->global.ringbuf_size ||
			  c->global.kernel_dedup != m->config->global.kernel_dedup))
		log_notice("ringbuf_size and kernel_dedup take effect at the next start");
	r = manager_apply_config(m, c);
	if (r < 0) {
		m->stats.reload_failures++;
		if (msg)
			strbuf_printf(msg, "reload of %s failed: %s; current policy kept", path,
				      strerror(-r));
		goto out;
	}
	/* the phases, so a slow reload shows where its time goes */
	log_info("Reloaded %s in %" PRIu64 " ms (load %" PRIu64 ", policy %" PRIu64
		 ", enforcement %" PRIu64 ")",
		 path, (now_usec(CLOCK_MONOTONIC) - t0 + 500) / 1000, (t_load + 500) / 1000,
		 (m->apply_policy_usec + 500) / 1000, (m->apply_enforce_usec + 500) / 1000);
	if (msg)
		strbuf_printf(msg, "reloaded %s", path);
out:
	strbuf_done(&first);
	/* a policy build's temporaries are freed: hand the pages back (large policies) */
	(void)malloc_trim(0);
	(void)sd_notify(0, "READY=1");
	return r;
}

/* ---- signals ------------------------------------------------------------------------- */

static int on_signal(struct event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct manager *m = userdata;
	struct signalfd_siginfo si;

	for (int i = 0; i < 16; i++) {
		ssize_t n = read(fd, &si, sizeof(si));

		if (n != sizeof(si))
			return n < 0 && errno != EAGAIN ? -errno : 0;
		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
			log_info("Received %s, exiting", strsignal(si.ssi_signo));
			event_loop_exit(m->loop, 0);
			break;
		case SIGHUP:
			(void)manager_reload(m, NULL);
			break;
		case SIGCHLD:
			/* SEAM(actions): reap hook scripts (waitpid WNOHANG / pidfds). */
			break;
		}
	}
	return 0;
}

static int setup_signals(struct manager *m)
{
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	/* a closed stdout or control client must be an error return, not death */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -errno;
	m->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m->signal_fd < 0)
		return -errno;
	r = event_loop_add_io(m->loop, m->signal_fd, EPOLLIN, on_signal, m, &m->signal_source);
	return r;
}

/* ---- startup / run / shutdown ---------------------------------------------------------- */

static int setup_bpf(struct manager *m)
{
	struct bpf_loader_opts o = {
		.ringbuf_size = MANAGER_DEFAULT_RINGBUF_SIZE,
		.dedup_ns = MANAGER_DEFAULT_KERNEL_DEDUP_SEC * 1000000000ULL,
	};
	const char *force = getenv("AEGIS_ATTACH_MODE");
	int r;

	if (m->config) {
		o.ringbuf_size = m->config->global.ringbuf_size;
		o.dedup_ns = m->config->global.kernel_dedup * 1000000000ULL;
	}
	o.force_tracepoints = force && streq(force, "tracepoint");
	o.no_fentry = force && streq(force, "no-fentry");
	r = bpf_loader_new(&o, &m->bpf);
	if (r == -EPERM)
		return log_error_errno(r, "Failed to load BPF programs: %m (aegis run needs root)");
	if (r < 0)
		return log_error_errno(r, "Failed to load BPF programs: %m");
	m->rb = ring_buffer__new(bpf_loader_ringbuf_fd(m->bpf), on_rb_record, m, NULL);
	if (!m->rb)
		return log_error_errno(-errno, "Failed to set up the ring buffer: %m");
	r = event_loop_add_io(m->loop, ring_buffer__epoll_fd(m->rb), EPOLLIN, on_rb_io, m,
			      &m->rb_source);
	if (r < 0)
		return log_error_errno(r, "Failed to watch the ring buffer: %m");
	return 0;
}

static int setup_config(struct manager *m)
{
	const char *path = config_path(m);
	struct config *c = NULL;
	uint64_t t0;
	int r;

	if (!path) {
		if (!m->opts.no_config)
			log_notice(
				"No configuration (%s does not exist): logging every connection, "
				"no policy",
				AEGIS_DEFAULT_CONFIG);
		return 0;
	}
	t0 = now_usec(CLOCK_MONOTONIC);
	r = config_load_logged(path, &c, /* first_error= */ NULL);
	if (r < 0)
		return log_error_errno(r, "Failed to load %s: %m", path);
	m->start_load_usec = now_usec(CLOCK_MONOTONIC) - t0;
	return manager_apply_config(m, c);
}

/* The policy's helpers on the loop: host addresses, resolver, detent, actions, enforcement. */
static int setup_policy(struct manager *m)
{
	int r;

	if (!m->config)
		return 0;
	r = hostaddr_new(m->loop, &m->hostaddr);
	if (r < 0)
		return log_error_errno(r, "Failed to read this host's addresses: %m");
	m->hostaddr_gen = m->hostaddr->generation;
	r = detent_new(m->config->global.detent * 1000000ULL, m->config->global.detent_max,
		       &m->detent);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the detent cache: %m");
	r = resolve_new(m->loop, /* refresh_usec= */ 0, on_resolved, m, &m->resolve);
	if (r < 0)
		return log_error_errno(r, "Failed to start the resolver: %m");
	(void)resolve_set_hosts(m->resolve, policy_hosts(m->policy));
	r = actions_new(m->loop, m->config, &m->actions);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the actions: %m");
	r = enforce_new(m->config, &m->enforce);
	if (r < 0)
		return log_error_errno(r, "Failed to set up in-kernel enforcement: %m");
	r = enforce_attach_event_loop(m->enforce, m->loop);
	if (r < 0)
		return log_error_errno(r, "Failed to watch the enforcement exec feed: %m");
	return 0;
}

static void get_parts(const struct manager *m, struct manager_status_parts *ret)
{
	*ret = (struct manager_status_parts){
		.actions = m->actions,
		.detent = m->detent,
		.enforce = m->enforce,
	};
}

static void notify_ready(struct manager *m)
{
	char modes[256];

	if (m->config) {
		struct enforce_status es;

		/* as "Reloaded": what loading the policy took, BPF programs aside */
		enforce_get_status(m->enforce, &es);
		log_info("Loaded %s in %" PRIu64 " ms (load %" PRIu64 ", policy %" PRIu64
			 ", enforcement %" PRIu64 ")",
			 config_path(m),
			 (m->start_load_usec + m->apply_policy_usec + es.apply_usec + 500) / 1000,
			 (m->start_load_usec + 500) / 1000, (m->apply_policy_usec + 500) / 1000,
			 (es.apply_usec + 500) / 1000);
	}

	bpf_loader_modes_to_string(m->bpf, modes, sizeof(modes));
	log_info("aegis ready: pid %d, %s, policy %s, attach modes: %s", (int)getpid(),
		 m->opts.json ? "json output" : "text output", m->config ? config_path(m) : "none",
		 modes);
	(void)malloc_trim(0);
	if (sd_watchdog_enabled(0, &m->watchdog_usec) <= 0)
		m->watchdog_usec = 0;
	(void)sd_notify(0, "READY=1");
}

int manager_startup(struct manager *m, const struct manager_opts *opts)
{
	int r;

	m->opts = *opts;
	output_setup(m);
	r = setup_config(m);
	if (r < 0)
		return r;
	r = proc_cache_new(&m->procs);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the process cache: %m");
	r = setup_signals(m);
	if (r < 0)
		return log_error_errno(r, "Failed to set up signal handling: %m");
	r = setup_bpf(m);
	if (r < 0)
		return r;
	r = event_loop_add_timer(m->loop, now_usec(CLOCK_MONOTONIC) + m->poll_usec, on_timer, m,
				 &m->timer_source);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the poll timer: %m");
	r = event_loop_add_post(m->loop, on_post, m, &m->post_source);
	if (r < 0)
		return log_error_errno(r, "Failed to set up output flushing: %m");
	r = setup_policy(m);
	if (r < 0)
		return r;
	r = manager_control_new(m, get_parts, &m->control);
	if (r < 0)
		log_warning_errno(r, "Failed to set up the control socket, continuing without: %m");
	notify_ready(m);
	return 0;
}

int manager_run(struct manager *m)
{
	return event_loop_run(m->loop);
}

enum attach_mode manager_attach_mode(const struct manager *m, enum bpf_source s)
{
	return m->bpf ? bpf_loader_mode(m->bpf, s) : ATTACH_TRACEPOINT;
}

int manager_counters(const struct manager *m, uint64_t ret[AEGIS_CNT_MAX])
{
	if (!m->bpf)
		return -ENODEV;
	return bpf_loader_read_counters(m->bpf, ret);
}

static void print_counters(struct manager *m)
{
	uint64_t c[AEGIS_CNT_MAX] = {}, missed;
	char buf[512];

	if (manager_counters(m, c) < 0)
		return;
	missed = bpf_loader_missed(m->bpf);
	snprintf(buf, sizeof(buf),
		 "aegis counters: events=%" PRIu64 " drops=%" PRIu64 " dedup=%" PRIu64
		 " records=%" PRIu64 " conns=%" PRIu64 " execs=%" PRIu64 " exits=%" PRIu64
		 " bad=%" PRIu64 " output_dropped=%" PRIu64 " missed=%" PRIu64,
		 c[AEGIS_CNT_EVENTS], c[AEGIS_CNT_DROPS], c[AEGIS_CNT_DEDUP], m->stats.records,
		 m->stats.conns, m->stats.execs, m->stats.exits, m->stats.bad,
		 m->stats.output_dropped, missed);
	fprintf(stderr, "%s\n", buf);
	if (log_is_journal())
		log_info("%s", buf);
	if (c[AEGIS_CNT_DROPS])
		log_warning("%" PRIu64 " records were lost: the ring buffer was full "
			    "(raise global.ringbuf_size)",
			    c[AEGIS_CNT_DROPS]);
	if (missed)
		log_warning("%" PRIu64 " events were not seen: the kernel skipped aegis's "
			    "programs while another BPF program ran on the same CPU",
			    missed);
}

static int pending_cmp(const void *a, const void *b)
{
	const struct dedup_pending *x = a, *y = b;

	return x->folded < y->folded ? 1 : x->folded > y->folded ? -1 : 0;
}

/*
 * Folds still waiting in the kernel for their next record, per process (top
 * 8): with the counters they account for every connection seen (benchmarks
 * compare them with what a load generator made).
 */
static void print_dedup_pending(struct manager *m)
{
	struct dedup_pending p[256];
	char buf[512];
	size_t len = 0;
	int n;

	n = bpf_loader_dedup_pending(m->bpf, p, ARRAY_SIZE(p));
	if (n <= 0)
		return;
	qsort(p, n, sizeof(p[0]), pending_cmp);
	for (int i = 0; i < n && i < 8 && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, " %" PRIu32 "=%" PRIu64, p[i].pid,
				p[i].folded);
	fprintf(stderr, "aegis folds pending at exit (pid=count):%s\n", buf);
}

/* Stop the producers, then take what they left in the ring buffer. */
static void shutdown_bpf(struct manager *m)
{
	if (!m->bpf)
		return;
	bpf_loader_detach(m->bpf);
	if (m->rb) {
		for (int i = 0; i < 64 && rb_drain(m) >= MANAGER_BATCH; i++)
			;
		output_flush(m, /* block= */ true);
	}
	print_counters(m);
	print_dedup_pending(m);
	m->rb_source = event_source_free(m->rb_source);
	ring_buffer__free(m->rb);
	m->rb = NULL;
	m->bpf = bpf_loader_free(m->bpf);
}

struct manager *manager_free(struct manager *m)
{
	if (!m)
		return NULL;
	shutdown_bpf(m);
	m->enforce = enforce_free(m->enforce);
	m->actions = actions_free(m->actions);
	m->resolve = resolve_free(m->resolve);
	m->hostaddr = hostaddr_free(m->hostaddr);
	m->detent = detent_free(m->detent);
	m->policy = policy_free(m->policy);
	output_flush(m, /* block= */ true);
	m->out_source = event_source_free(m->out_source);
	m->timer_source = event_source_free(m->timer_source);
	m->post_source = event_source_free(m->post_source);
	m->signal_source = event_source_free(m->signal_source);
	m->signal_fd = safe_close(m->signal_fd);
	m->control = control_free(m->control);
	event_loop_free(m->loop);
	proc_cache_free(m->procs);
	config_free(m->config);
	strbuf_done(&m->out);
	strbuf_done(&m->line);
	free(m);
	return NULL;
}
