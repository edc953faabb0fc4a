// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * race-connect [-u] PORT_A PORT_B COUNT: COUNT TCP connects (-u: UDP
 * sendto()s, a new socket each) to 127.0.0.1 from one thread while a second
 * thread keeps flipping the port in the very sockaddr being passed between
 * PORT_A and PORT_B: the address the kernel copies is a race. After each
 * connect getpeername() says where it went, after each datagram the receiving
 * socket does; that port is printed, one line each. Listens on both ports
 * itself (and accepts or receives), so nothing else is needed. Exit 0 if all
 * went through. Used by test-spine-evasion.sh: a monitor that reads the
 * address from user memory at syscall entry records the wrong port for some.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in target;
static atomic_int stop;
static unsigned short port_a, port_b;

static void *flipper(void *arg)
{
	volatile unsigned short *p = &target.sin_port;

	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		*p = htons(port_a);
		*p = htons(port_b);
	}
	return NULL;
}

static int listener(int type, unsigned short port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, type, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		perror("listen");
		exit(1);
	}
	return fd;
}

/* One datagram from a new socket; the port of the socket that received it, or 0. */
static unsigned short send_one(int ra, int rb)
{
	struct pollfd p[2] = { { .fd = ra, .events = POLLIN }, { .fd = rb, .events = POLLIN } };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned short port = 0;
	char b;

	if (fd < 0 || sendto(fd, "x", 1, 0, (struct sockaddr *)&target, sizeof(target)) != 1) {
		perror("sendto");
		if (fd >= 0)
			close(fd);
		return 0;
	}
	close(fd);
	if (poll(p, 2, 5000) <= 0)
		return 0;
	for (int i = 0; i < 2; i++)
		if ((p[i].revents & POLLIN) && recv(p[i].fd, &b, 1, 0) == 1 && !port)
			port = i ? port_b : port_a;
	return port;
}

int main(int argc, char **argv)
{
	int la, lb, count, fails = 0, type = SOCK_STREAM;
	pthread_t t;

	if (argc > 1 && strcmp(argv[1], "-u") == 0) {
		type = SOCK_DGRAM;
		argv++;
		argc--;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: %s [-u] PORT_A PORT_B COUNT\n", argv[0]);
		return 2;
	}
	port_a = atoi(argv[1]);
	port_b = atoi(argv[2]);
	count = atoi(argv[3]);
	la = listener(type, port_a);
	lb = listener(type, port_b);
	target.sin_family = AF_INET;
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	target.sin_port = htons(port_a);
	if (pthread_create(&t, NULL, flipper, NULL) != 0)
		return 1;
	for (int i = 0; i < count && type == SOCK_DGRAM; i++) {
		unsigned short port = send_one(la, lb);

		if (port)
			printf("%u\n", port);
		else
			fails++;
	}
	for (int i = 0; i < count && type == SOCK_STREAM; i++) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		int fd = socket(AF_INET, SOCK_STREAM, 0), a;

		if (fd < 0 || connect(fd, (struct sockaddr *)&target, sizeof(target)) < 0 ||
		    getpeername(fd, (struct sockaddr *)&peer, &pl) < 0) {
			perror("connect");
			fails++;
			if (fd >= 0)
				close(fd);
			continue;
		}
		printf("%u\n", ntohs(peer.sin_port));
		a = accept(ntohs(peer.sin_port) == port_a ? la : lb, NULL, NULL);
		if (a >= 0)
			close(a);
		/* RST: no TIME_WAIT left behind */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	return fails ? 1 : 0;
}
