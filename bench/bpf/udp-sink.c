/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* udp-sink PORT read|hold: binds UDP PORT on every address and either reads
 * every datagram (the kernel consumes them: consume_skb) or never reads
 * with the smallest receive buffer (the kernel drops them:
 * kfree_skb, SOCKET_RCVBUFF).  Prints "ready", then on SIGTERM the
 * datagrams it read.  For bench/bpf/bench.sh. */

#define _GNU_SOURCE
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
    (void) sig;
    stop = 1;
}

int
main(int argc, char *argv[])
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    struct sigaction sa;

    if (argc != 3 || (strcmp(argv[2], "read") && strcmp(argv[2], "hold"))) {
        fprintf(stderr, "usage: udp-sink PORT read|hold\n");
        return 2;
    }
    sin.sin_port = htons(atoi(argv[1]));
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *) &sin, sizeof sin)) {
        perror("udp-sink: bind");
        return 1;
    }
    int hold = !strcmp(argv[2], "hold");
    if (hold) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof one);
    } else {
        int big = 8 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    printf("ready\n");
    fflush(stdout);

    static char bufs[BATCH][2048];
    struct iovec iovs[BATCH];
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        iovs[i] = (struct iovec) { bufs[i], sizeof bufs[i] };
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    long long got = 0;
    while (!stop) {
        if (hold) {
            pause();
            continue;
        }
        int n = recvmmsg(fd, msgs, BATCH, 0, NULL);
        if (n > 0) {
            got += n;
        }
    }
    printf("%lld\n", got);
    return 0;
}
