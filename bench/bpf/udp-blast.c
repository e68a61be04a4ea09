/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* udp-blast ADDR PORT COUNT [SIZE]: sends COUNT UDP datagrams of SIZE bytes
 * (64) to ADDR:PORT as fast as sendmmsg() allows and prints "SENT NS", the
 * datagrams sent and the nanoseconds it took.  For bench/bpf/bench.sh. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static long long
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
main(int argc, char *argv[])
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    static char payload[9000];
    struct mmsghdr msgs[BATCH];
    struct iovec iov;

    if (argc < 4 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
        fprintf(stderr, "usage: udp-blast ADDR PORT COUNT [SIZE]\n");
        return 2;
    }
    sin.sin_port = htons(atoi(argv[2]));
    long long count = atoll(argv[3]);
    size_t size = argc > 4 ? (size_t) atoi(argv[4]) : 64;
    if (size > sizeof payload) {
        size = sizeof payload;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sin, sizeof sin)) {
        perror("udp-blast: socket");
        return 1;
    }
    iov = (struct iovec) { payload, size };
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    long long sent = 0, t0 = now_ns();
    while (sent < count) {
        int n = count - sent < BATCH ? (int) (count - sent) : BATCH;
        int r = sendmmsg(fd, msgs, n, 0);
        if (r > 0) {
            sent += r;
        } else if (errno != ENOBUFS && errno != EAGAIN
                   && errno != ECONNREFUSED) {
            perror("udp-blast: sendmmsg");
            return 1;
        }
    }
    printf("%lld %lld\n", sent, now_ns() - t0);
    return 0;
}
