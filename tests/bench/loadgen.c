// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * aegis benchmark load generator (loopback only, bounded in time).
 *
 *   loadgen tcp  [-t SECONDS] [-c CLIENTS] [-p PORT]   connect+close loop against a local
 *                                                      accept+close server; both ends close
 *                                                      with RST (SO_LINGER 0) so TIME_WAIT
 *                                                      does not cap the rate
 *   loadgen udp  [-t SECONDS] [-c CLIENTS] [-p PORT] [-n DESTS]
 *                                                      sendto() on unconnected sockets to DESTS
 *                                                      distinct loopback addresses 127.x.y.z
 *   loadgen exec [-t SECONDS] [-c CLIENTS] [-p PORT]   fork+exec of `loadgen connect-once` per
 *                                                      connection (short-lived processes)
 *   loadgen connect-once PORT                          one TCP connect to 127.0.0.1:PORT
 *
 * Prints one result line:
 *   "mode=tcp ops=N seconds=S rate=R p50_us=X p99_us=Y cpu_us=C events=E pid=P".
 * ops counts operations that completed (connects, datagrams, processes); events the
 * connection events a monitor must account for (connect() calls and accepts; in udp
 * mode the first datagram of each socket to each destination); cpu_us is
 * the CPU time (user+sys, ours and our children's) per op: with a tool attached it
 * includes the tool's in-kernel cost, and it varies much less than the rate on a
 * shared machine.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES (1 << 20)

static double arg_seconds = 5;
static int arg_clients = 2;
static int arg_port = 26000;
static int arg_dests = 4096;
static const char *self_path;

static atomic_bool stop;
/* Connection events the kernel sees: connect() calls, accepts, new UDP (socket, destination). */
static atomic_ulong events;

struct client {
	pthread_t thread;
	int id;
	uint32_t *samples; /* latency in ns, reservoir */
	size_t n_samples;
	unsigned long done;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void rst_close(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static void sample(struct client *c, uint64_t ns)
{
	size_t i = c->n_samples;

	if (i >= MAX_SAMPLES / 8)
		i = (size_t)rand() % (MAX_SAMPLES / 8); /* keep a bounded reservoir */
	else
		c->n_samples++;
	c->samples[i] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static struct sockaddr_in loopback(uint32_t addr_host, int port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(addr_host),
	};
	return sa;
}

static void *tcp_server(void *arg)
{
	int lfd = *(int *)arg;

	while (!atomic_load(&stop)) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			continue;
		atomic_fetch_add(&events, 1);
		rst_close(fd);
	}
	return NULL;
}

static void *tcp_client(void *arg)
{
	struct client *c = arg;
	struct sockaddr_in sa = loopback(INADDR_LOOPBACK, arg_port);

	while (!atomic_load(&stop)) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		uint64_t t0;

		if (fd < 0)
			continue;
		t0 = now_ns();
		atomic_fetch_add(&events, 1);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			sample(c, now_ns() - t0);
			c->done++;
		}
		rst_close(fd);
	}
	return NULL;
}

static void *udp_client(void *arg)
{
	struct client *c = arg;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned i = c->id * 7919;
	unsigned long sent = 0;
	char byte = 'x';

	while (fd >= 0 && !atomic_load(&stop)) {
		/* 127.1.x.y: distinct loopback destinations, one receiving socket on 0.0.0.0 */
		uint32_t d = (127u << 24) | (1u << 16) | (i++ % (unsigned)arg_dests);
		struct sockaddr_in sa = loopback(d, arg_port);
		uint64_t t0 = now_ns();

		/* only the first datagram to each destination is an event (per socket) */
		if (sent++ < (unsigned long)arg_dests)
			atomic_fetch_add(&events, 1);
		if (sendto(fd, &byte, 1, 0, (struct sockaddr *)&sa, sizeof(sa)) == 1) {
			sample(c, now_ns() - t0);
			c->done++;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void *udp_sink(void *arg)
{
	int fd = *(int *)arg;
	char buf[64];

	while (!atomic_load(&stop))
		(void)recv(fd, buf, sizeof(buf), 0);
	return NULL;
}

static void *exec_client(void *arg)
{
	struct client *c = arg;
	char port[16];

	snprintf(port, sizeof(port), "%d", arg_port);
	while (!atomic_load(&stop)) {
		uint64_t t0 = now_ns();
		int status;
		pid_t pid = fork();

		if (pid < 0)
			continue;
		if (pid == 0) {
			execl(self_path, "loadgen", "connect-once", port, (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			continue;
		/* its connect() call (made even when refused: exit 1); the accept counts itself */
		if (WEXITSTATUS(status) <= 1)
			atomic_fetch_add(&events, 1);
		if (WEXITSTATUS(status) == 0) {
			sample(c, now_ns() - t0);
			c->done++;
		}
	}
	return NULL;
}

static int connect_once(int port)
{
	struct sockaddr_in sa = loopback(INADDR_LOOPBACK, port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 2;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return 1;
	rst_close(fd);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int listen_socket(int type)
{
	struct sockaddr_in sa =
		loopback(type == SOCK_DGRAM ? INADDR_ANY : INADDR_LOOPBACK, arg_port);
	int one = 1, fd;
	struct timeval tv = { .tv_usec = 100000 };

	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Let blocked accept()/recv() notice `stop`. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4096) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: loadgen tcp|udp|exec [-t SECONDS] [-c CLIENTS] [-p PORT] "
			"[-n DESTS]\n       loadgen connect-once PORT\n");
}

int main(int argc, char **argv)
{
	void *(*client_fn)(void *);
	pthread_t servers[2];
	int n_servers = 0, lfd = -1, opt;
	struct client *clients;
	uint32_t *all;
	size_t n_all = 0;
	unsigned long total = 0;
	uint64_t t0, t1;
	struct rusage ru_self, ru_child;
	double cpu_us;
	const char *mode;

	self_path = "/proc/self/exe";
	if (argc < 2) {
		usage();
		return 2;
	}
	mode = argv[1];
	if (!strcmp(mode, "connect-once"))
		return argc == 3 ? connect_once(atoi(argv[2])) : 2;
	optind = 2;
	while ((opt = getopt(argc, argv, "t:c:p:n:")) != -1) {
		switch (opt) {
		case 't':
			arg_seconds = atof(optarg);
			break;
		case 'c':
			arg_clients = atoi(optarg);
			break;
		case 'p':
			arg_port = atoi(optarg);
			break;
		case 'n':
			arg_dests = atoi(optarg);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (arg_seconds <= 0 || arg_seconds > 600 || arg_clients < 1 || arg_clients > 64 ||
	    arg_dests < 1 || arg_dests > 65536) {
		fprintf(stderr, "loadgen: bounds: 0 < seconds <= 600, 1 <= clients <= 64\n");
		return 2;
	}
	/* Resolve our own path once: children exec it after we might be replaced. */
	{
		static char buf[4096];
		ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

		if (n > 0) {
			buf[n] = 0;
			self_path = buf;
		}
	}

	if (!strcmp(mode, "tcp") || !strcmp(mode, "exec")) {
		lfd = listen_socket(SOCK_STREAM);
		client_fn = !strcmp(mode, "tcp") ? tcp_client : exec_client;
		if (lfd < 0) {
			perror("loadgen: listen");
			return 1;
		}
		pthread_create(&servers[n_servers++], NULL, tcp_server, &lfd);
	} else if (!strcmp(mode, "udp")) {
		lfd = listen_socket(SOCK_DGRAM);
		client_fn = udp_client;
		if (lfd < 0) {
			perror("loadgen: bind");
			return 1;
		}
		pthread_create(&servers[n_servers++], NULL, udp_sink, &lfd);
	} else {
		usage();
		return 2;
	}

	clients = calloc(arg_clients, sizeof(*clients));
	for (int i = 0; i < arg_clients; i++) {
		clients[i].id = i;
		clients[i].samples = calloc(MAX_SAMPLES / 8, sizeof(uint32_t));
		if (!clients[i].samples)
			return 1;
	}
	t0 = now_ns();
	for (int i = 0; i < arg_clients; i++)
		pthread_create(&clients[i].thread, NULL, client_fn, &clients[i]);
	usleep((useconds_t)(arg_seconds * 1e6));
	atomic_store(&stop, true);
	for (int i = 0; i < arg_clients; i++)
		pthread_join(clients[i].thread, NULL);
	t1 = now_ns();
	for (int i = 0; i < n_servers; i++)
		pthread_join(servers[i], NULL);
	close(lfd);

	all = calloc((size_t)arg_clients * (MAX_SAMPLES / 8), sizeof(uint32_t));
	for (int i = 0; i < arg_clients; i++) {
		memcpy(all + n_all, clients[i].samples, clients[i].n_samples * sizeof(uint32_t));
		n_all += clients[i].n_samples;
		total += clients[i].done;
	}
	qsort(all, n_all, sizeof(uint32_t), cmp_u32);
	getrusage(RUSAGE_SELF, &ru_self);
	getrusage(RUSAGE_CHILDREN, &ru_child);
	cpu_us = (ru_self.ru_utime.tv_sec + ru_self.ru_stime.tv_sec + ru_child.ru_utime.tv_sec +
		  ru_child.ru_stime.tv_sec) *
			 1e6 +
		 ru_self.ru_utime.tv_usec + ru_self.ru_stime.tv_usec + ru_child.ru_utime.tv_usec +
		 ru_child.ru_stime.tv_usec;
	printf("mode=%s ops=%lu seconds=%.3f rate=%.1f p50_us=%.2f p99_us=%.2f cpu_us=%.3f "
	       "events=%lu pid=%d\n",
	       mode, total, (t1 - t0) / 1e9, total / ((t1 - t0) / 1e9),
	       n_all ? all[n_all / 2] / 1000.0 : 0.0,
	       n_all ? all[(size_t)(n_all * 0.99)] / 1000.0 : 0.0, total ? cpu_us / total : 0.0,
	       atomic_load(&events), (int)getpid());
	return total ? 0 : 1;
}
