// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uring-connect [-u|-s] ADDR PORT [COUNT]: COUNT (default 1) TCP (-u: UDP)
 * connects through io_uring (IORING_OP_CONNECT), or (-s) UDP datagrams sent
 * with IORING_OP_SENDMSG to ADDR PORT on unconnected sockets; one socket each,
 * raw syscalls, no liburing. Prints each result and exits 0 if all
 * succeeded. Used by test-spine-evasion.sh and tests/kernels/smoke.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct io_uring_params p;
	struct sockaddr_storage ss = {};
	socklen_t sl;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	void *sq, *cq;
	int ring, fd, res = 0, count, type = SOCK_STREAM, op = IORING_OP_CONNECT;
	char byte = 'x';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (argc > 1 && (strcmp(argv[1], "-u") == 0 || strcmp(argv[1], "-s") == 0)) {
		type = SOCK_DGRAM;
		if (argv[1][1] == 's')
			op = IORING_OP_SENDMSG;
		argv++;
		argc--;
	}
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s [-u] ADDR PORT [COUNT]\n", argv[0]);
		return 2;
	}
	if (strchr(argv[1], ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(atoi(argv[2]));
		if (inet_pton(AF_INET6, argv[1], &s6->sin6_addr) != 1)
			return 2;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(atoi(argv[2]));
		if (inet_pton(AF_INET, argv[1], &s4->sin_addr) != 1)
			return 2;
		sl = sizeof(*s4);
	}
	count = argc == 4 ? atoi(argv[3]) : 1;

	memset(&p, 0, sizeof(p));
	ring = syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0) {
		perror("io_uring_setup");
		return 1;
	}
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	sq_tail = (unsigned *)((char *)sq + p.sq_off.tail);
	sq_mask = (unsigned *)((char *)sq + p.sq_off.ring_mask);
	sq_array = (unsigned *)((char *)sq + p.sq_off.array);
	cq_head = (unsigned *)((char *)cq + p.cq_off.head);
	cq_tail = (unsigned *)((char *)cq + p.cq_off.tail);
	cq_mask = (unsigned *)((char *)cq + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)((char *)cq + p.cq_off.cqes);

	for (int i = 0; i < count && res == 0; i++) {
		unsigned tail = *sq_tail, idx = tail & *sq_mask;
		struct io_uring_sqe *sqe = &sqes[idx];

		fd = socket(ss.ss_family, type, 0);
		if (fd < 0) {
			perror("socket");
			return 1;
		}
		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = op;
		sqe->fd = fd;
		if (op == IORING_OP_SENDMSG) {
			msg.msg_name = &ss;
			msg.msg_namelen = sl;
			sqe->addr = (unsigned long)&msg;
			sqe->len = 1;
		} else {
			sqe->addr = (unsigned long)&ss;
			sqe->off = sl; /* addr2: the address length */
		}
		sqe->user_data = 1;
		sq_array[idx] = idx;
		__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);

		if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
			perror("io_uring_enter");
			return 1;
		}
		if (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head) {
			fprintf(stderr, "no completion\n");
			return 1;
		}
		res = cqes[*cq_head & *cq_mask].res;
		if (op == IORING_OP_SENDMSG && res == 1)
			res = 0; /* one byte sent */
		__atomic_store_n(cq_head, *cq_head + 1, __ATOMIC_RELEASE);
		printf("%d\n", res);
		close(fd);
	}
	close(ring);
	return res == 0 ? 0 : 1;
}
