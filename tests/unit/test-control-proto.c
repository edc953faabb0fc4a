// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket server and client over a real unix socket in a temp dir,
 * server and client in one process: the test pumps the event loop between
 * client calls. control.c and event-loop.c are daemon sources, not part of the
 * core library, so they are compiled into this test directly.
 */
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../src/control.c"
#include "../../src/event-loop.c"
#include "tap.h"

struct fake_daemon {
	int status_calls;
	int reload_result;
};

static int fake_status(void *userdata, struct strbuf *out)
{
	struct fake_daemon *d = userdata;

	d->status_calls++;
	return strbuf_printf(out, "{\"version\":\"9.9\",\n\"counters\":{\"events\":%d}}",
			     d->status_calls);
}

static int fake_reload(void *userdata, struct strbuf *out)
{
	struct fake_daemon *d = userdata;

	if (d->reload_result < 0)
		strbuf_puts(out, "/etc/aegis.d/x.toml:3:1: error: bad key");
	else
		strbuf_puts(out, "policy reloaded: 2 files, 3 apps");
	return d->reload_result;
}

static const struct control_ops fake_ops = { fake_status, fake_reload };

struct fixture {
	char dir[64];
	char path[96];
	struct event_loop *l;
	struct control *ctl;
	struct fake_daemon d;
};

static int setup(struct fixture *f)
{
	int r;

	*f = (struct fixture){};
	strcpy(f->dir, "/tmp/test-control.XXXXXX");
	if (!mkdtemp(f->dir))
		return -errno;
	snprintf(f->path, sizeof(f->path), "%s/run/aegis.sock", f->dir);
	r = event_loop_new(&f->l);
	if (r < 0)
		return r;
	return control_new(f->l, f->path, &fake_ops, &f->d, &f->ctl);
}

static void teardown(struct fixture *f)
{
	char sub[128];

	control_free(f->ctl);
	event_loop_free(f->l);
	snprintf(sub, sizeof(sub), "%s/run", f->dir);
	(void)rmdir(sub);
	(void)rmdir(f->dir);
}

static void pump(struct fixture *f)
{
	for (int i = 0; i < 5; i++)
		event_loop_run_once(f->l, 20);
}

/* Sends a request, lets the server work, reads one answer line. */
static int call(struct fixture *f, struct control_client *c, const char *req, struct jv **ret)
{
	const char *line;
	size_t len;
	int r;

	r = control_client_send(c, req);
	if (r < 0)
		return r;
	pump(f);
	r = control_client_read_line(c, 1000, &line, &len);
	if (r <= 0)
		return r < 0 ? r : -EPIPE;
	return jv_parse(line, len, ret);
}

static bool answer_ok(const struct jv *a)
{
	const struct jv *ok = jv_get(a, "ok");

	return ok && ok->type == JV_BOOL && ok->boolean;
}

TEST(jv_parse_basics)
{
	_cleanup_(jv_freep) struct jv *v = NULL;
	struct jv *bad = NULL;
	const char *s = "{\"a\":[1,-2.5e3,true,null],\"b\":\"x\\u00e9\\ud83d\\ude00\\n\",\"c\":{}}";

	ASSERT_OK(jv_parse(s, strlen(s), &v));
	ASSERT_EQ(v->type, JV_OBJECT);
	ASSERT_STREQ(jv_get_str(v, "b"), "x\xc3\xa9\xf0\x9f\x98\x80\n");
	ASSERT_EQ(jv_get(v, "a")->child->next->type, JV_NUMBER);
	ASSERT_STREQ(jv_get(v, "a")->child->next->str, "-2.5e3");
	ASSERT_EQ(jv_get(v, "c")->type, JV_OBJECT);
	ASSERT_ERR(jv_parse("{\"a\":}", 6, &bad));
	ASSERT_ERR(jv_parse("[1,]", 4, &bad));
	ASSERT_ERR(jv_parse("\"\\ud800\"", 8, &bad));
	ASSERT_ERR(jv_parse("01", 2, &bad));
	ASSERT_ERR(jv_parse("{} x", 4, &bad));
	ASSERT_ERR(jv_parse("\"a\nb\"", 5, &bad));
	ASSERT_TRUE(bad == NULL);
}

TEST(socket_mode_and_status)
{
	_cleanup_(control_client_done) struct control_client c = { .fd = -EBADF };
	_cleanup_(jv_freep) struct jv *a = NULL;
	struct fixture f;
	struct stat st;
	char dir[128];

	ASSERT_OK(setup(&f));
	ASSERT_OK(stat(f.path, &st));
	ASSERT_TRUE(S_ISSOCK(st.st_mode));
	ASSERT_EQ(st.st_mode & 07777, 0600);
	snprintf(dir, sizeof(dir), "%s/run", f.dir);
	ASSERT_OK(stat(dir, &st));
	ASSERT_EQ(st.st_mode & 07777, 0700);

	ASSERT_OK(control_client_connect(f.path, &c));
	ASSERT_OK(call(&f, &c, "{\"cmd\":\"status\"}", &a));
	ASSERT_TRUE(answer_ok(a));
	ASSERT_STREQ(jv_get_str(jv_get(a, "status"), "version"), "9.9");
	ASSERT_EQ(f.d.status_calls, 1);
	/* a second request on the same connection */
	a = jv_free(a);
	ASSERT_OK(call(&f, &c, "{\"cmd\":\"status\"}", &a));
	ASSERT_STREQ(jv_get(jv_get(jv_get(a, "status"), "counters"), "events")->str, "2");
	a = jv_free(a);
	ASSERT_OK(call(&f, &c, "{\"cmd\":\"frobnicate\"}", &a));
	ASSERT_FALSE(answer_ok(a));
	ASSERT_STREQ(jv_get_str(a, "message"), "frobnicate");
	a = jv_free(a);
	ASSERT_OK(call(&f, &c, "not json", &a));
	ASSERT_FALSE(answer_ok(a));
	control_client_done(&c);
	teardown(&f);
	ASSERT_TRUE(access(f.path, F_OK) < 0); /* unlinked on free */
}

TEST(reload_ok_and_failure)
{
	_cleanup_(control_client_done) struct control_client c = { .fd = -EBADF };
	_cleanup_(jv_freep) struct jv *a = NULL;
	struct fixture f;

	ASSERT_OK(setup(&f));
	ASSERT_OK(control_client_connect(f.path, &c));
	ASSERT_OK(call(&f, &c, "{\"cmd\":\"reload\"}", &a));
	ASSERT_TRUE(answer_ok(a));
	ASSERT_STREQ(jv_get_str(a, "message"), "policy reloaded: 2 files, 3 apps");
	a = jv_free(a);
	f.d.reload_result = -EINVAL;
	ASSERT_OK(call(&f, &c, "{\"cmd\":\"reload\"}", &a));
	ASSERT_FALSE(answer_ok(a));
	ASSERT_STREQ(jv_get_str(a, "message"), "/etc/aegis.d/x.toml:3:1: error: bad key");
	control_client_done(&c);
	teardown(&f);
}

TEST(events_backlog_and_follow)
{
	_cleanup_(control_client_done) struct control_client c = { .fd = -EBADF };
	_cleanup_(control_client_done) struct control_client c2 = { .fd = -EBADF };
	_cleanup_(jv_freep) struct jv *a = NULL;
	struct fixture f;
	const char *line;
	size_t len;

	ASSERT_OK(setup(&f));
	ASSERT_FALSE(control_has_subscribers(f.ctl));
	control_publish(f.ctl, "{\"n\":1}", 7);
	control_publish(f.ctl, "{\"n\":2}\n", 8);
	control_publish(f.ctl, "{\"n\":3}", 7);

	/* follow with the last two */
	ASSERT_OK(control_client_connect(f.path, &c));
	ASSERT_OK(call(&f, &c, "{\"cmd\":\"events\",\"backlog\":2}", &a));
	ASSERT_TRUE(answer_ok(a));
	ASSERT_EQ(control_client_read_line(&c, 1000, &line, &len), 1);
	ASSERT_STREQ(line, "{\"n\":2}");
	ASSERT_EQ(control_client_read_line(&c, 1000, &line, &len), 1);
	ASSERT_STREQ(line, "{\"n\":3}");
	ASSERT_TRUE(control_has_subscribers(f.ctl));
	control_publish(f.ctl, "{\"n\":4}", 7);
	pump(&f);
	ASSERT_EQ(control_client_read_line(&c, 1000, &line, &len), 1);
	ASSERT_STREQ(line, "{\"n\":4}");

	/* no follow: backlog, end notice, close */
	a = jv_free(a);
	ASSERT_OK(control_client_connect(f.path, &c2));
	ASSERT_OK(call(&f, &c2, "{\"cmd\":\"events\",\"backlog\":100,\"follow\":false}", &a));
	ASSERT_TRUE(answer_ok(a));
	for (int i = 1; i <= 4; i++) {
		char want[16];

		snprintf(want, sizeof(want), "{\"n\":%d}", i);
		ASSERT_EQ(control_client_read_line(&c2, 1000, &line, &len), 1);
		ASSERT_STREQ(line, want);
	}
	ASSERT_EQ(control_client_read_line(&c2, 1000, &line, &len), 1);
	ASSERT_STREQ(line, "{\"notice\":\"end\"}");
	ASSERT_EQ(len, strlen(line)); /* no stray bytes */
	pump(&f);
	ASSERT_EQ(control_client_read_line(&c2, 1000, &line, &len), 0);

	/* the subscriber going away is noticed */
	control_client_done(&c);
	pump(&f);
	ASSERT_FALSE(control_has_subscribers(f.ctl));
	teardown(&f);
}

static void publish_big(struct fixture *f, int n)
{
	static char big[8192];

	memset(big, 'x', sizeof(big));
	memcpy(big, "{\"x\":\"", 6);
	memcpy(big + sizeof(big) - 2, "\"}", 2);
	for (int i = 0; i < n; i++)
		control_publish(f->ctl, big, sizeof(big));
}

TEST(slow_subscriber_capped_then_notice)
{
	_cleanup_(control_client_done) struct control_client c = { .fd = -EBADF };
	_cleanup_(jv_freep) struct jv *a = NULL;
	struct control_stats st;
	struct fixture f;
	const char *line;
	size_t len;
	int r, records = 0;
	bool notice = false;

	ASSERT_OK(setup(&f));
	ASSERT_OK(control_client_connect(f.path, &c));
	ASSERT_OK(call(&f, &c, "{\"cmd\":\"events\"}", &a));
	/* more than the socket buffer plus CONTROL_CLIENT_BUF_MAX, less than the drop limit */
	publish_big(&f, 600);
	control_get_stats(f.ctl, &st);
	ASSERT_TRUE(st.dropped > 0);
	ASSERT_EQ(st.subscribers, 1);
	/* the reader catches up: every queued record, then the notice */
	for (int i = 0; i < 2000 && !notice; i++) {
		pump(&f);
		while ((r = control_client_read_line(&c, 0, &line, &len)) == 1) {
			if (strstr(line, "\"notice\":\"dropped\"")) {
				notice = true;
				break;
			}
			records++;
		}
	}
	ASSERT_TRUE(notice);
	ASSERT_EQ(records + (long long)st.dropped, 600);
	teardown(&f);
}

TEST(stuck_subscriber_disconnected)
{
	_cleanup_(control_client_done) struct control_client c = { .fd = -EBADF };
	_cleanup_(jv_freep) struct jv *a = NULL;
	struct control_stats st;
	struct fixture f;

	ASSERT_OK(setup(&f));
	ASSERT_OK(control_client_connect(f.path, &c));
	ASSERT_OK(call(&f, &c, "{\"cmd\":\"events\"}", &a));
	publish_big(&f, 600 + CONTROL_DROP_LIMIT);
	control_get_stats(f.ctl, &st);
	ASSERT_EQ(st.kicked, 1);
	ASSERT_EQ(st.subscribers, 0);
	ASSERT_EQ(st.clients, 0);
	ASSERT_FALSE(control_has_subscribers(f.ctl));
	teardown(&f);
}

TEST(too_many_clients_and_long_line)
{
	struct control_client cs[CONTROL_MAX_CLIENTS + 1];
	_cleanup_(control_client_done) struct control_client c = { .fd = -EBADF };
	_cleanup_(jv_freep) struct jv *a = NULL;
	char longreq[CONTROL_LINE_MAX + 100];
	struct control_stats st;
	struct fixture f;
	const char *line;
	size_t len;

	ASSERT_OK(setup(&f));
	for (int i = 0; i <= CONTROL_MAX_CLIENTS; i++) {
		ASSERT_OK(control_client_connect(f.path, &cs[i]));
		pump(&f);
	}
	ASSERT_EQ(control_client_read_line(&cs[CONTROL_MAX_CLIENTS], 1000, &line, &len), 1);
	ASSERT_TRUE(strstr(line, "too many clients") != NULL);
	control_get_stats(f.ctl, &st);
	ASSERT_EQ(st.clients, CONTROL_MAX_CLIENTS);
	ASSERT_EQ(st.refused, 1);
	for (int i = 0; i <= CONTROL_MAX_CLIENTS; i++)
		control_client_done(&cs[i]);
	pump(&f);

	memset(longreq, 'a', sizeof(longreq) - 1);
	longreq[sizeof(longreq) - 1] = 0;
	ASSERT_OK(control_client_connect(f.path, &c));
	ASSERT_OK(call(&f, &c, longreq, &a));
	ASSERT_FALSE(answer_ok(a));
	ASSERT_STREQ(jv_get_str(a, "error"), "request line too long");
	teardown(&f);
}

TEST(stale_socket_replaced_live_one_kept)
{
	struct fixture f;
	struct control *second = NULL;
	struct sockaddr_un sa;
	socklen_t salen;
	int fd;

	ASSERT_OK(setup(&f));
	ASSERT_EQ(control_new(f.l, f.path, &fake_ops, &f.d, &second), -EADDRINUSE);
	control_free(f.ctl);
	/* a stale socket file left by a crashed daemon */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_OK(sockaddr_un_set(&sa, f.path, &salen));
	ASSERT_OK(bind(fd, (struct sockaddr *)&sa, salen));
	close(fd);
	ASSERT_OK(control_new(f.l, f.path, &fake_ops, &f.d, &f.ctl));
	teardown(&f);
}

TEST(non_root_peer_refused)
{
	struct fixture f;
	char dir[128];
	int status = -1;
	pid_t pid;

	if (geteuid() != 0) {
		printf("# skipped: needs root to switch to another uid\n");
		return;
	}
	ASSERT_OK(setup(&f));
	/* open the file system path so only SO_PEERCRED stands in the way */
	snprintf(dir, sizeof(dir), "%s/run", f.dir);
	ASSERT_OK(chmod(f.dir, 0755));
	ASSERT_OK(chmod(dir, 0755));
	ASSERT_OK(chmod(f.path, 0666));
	pid = fork();
	if (pid == 0) {
		struct control_client c;
		const char *line;
		size_t len;

		if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		if (control_client_connect(f.path, &c) < 0)
			_exit(11);
		/* may fail: the server answers and closes as soon as it accepted */
		(void)control_client_send(&c, "{\"cmd\":\"status\"}");
		if (control_client_read_line(&c, 5000, &line, &len) != 1)
			_exit(13);
		_exit(strstr(line, "permission denied") ? 0 : 14);
	}
	for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
		pump(&f);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	ASSERT_EQ(f.d.status_calls, 0);
	teardown(&f);
}

TAP_MAIN()
