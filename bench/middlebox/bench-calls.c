/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* bench-calls: the cost of the socket calls that libperfsight-preload.so
 * wraps.  Run it with and without LD_PRELOAD (bench/middlebox/bench.sh
 * does): it connects a TCP socket to itself over loopback (so that the
 * library counts one accepted and one connected socket) and times, per
 * call, in nanoseconds (the fastest of 'runs' runs of 'n' calls: on a
 * shared machine the median moves with the neighbours' load):
 *
 *   recv-eagain   recv() on an empty non-blocking socket
 *   send-recv     send() of 1 byte and recv() of it, non-blocking, per call
 *   send-recv-blk the same on blocking sockets (the timed path)
 *   recv-poll     recv() as recv-eagain, then poll() with a zero timeout
 *                 (the library counts a thread's waits only while it moves
 *                 data), per call
 *   stamp-rdtsc   one rdtsc (x86), for comparison: what a timed call pays
 *   stamp-clock   one clock_gettime(CLOCK_MONOTONIC) (vDSO), twice per call
 *   stamp-coarse  one clock_gettime(CLOCK_MONOTONIC_COARSE), the library's
 *                 default clock
 *
 * Usage: bench-calls [N [RUNS [TEST]]]: TEST alone if given (for
 * callgrind, which counts the instructions of the whole run). */

#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#else
#define __rdtsc() 0
#endif

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
die(const char *what)
{
    perror(what);
    exit(1);
}

static void
set_nonblock(int fd, int on)
{
    int flags = fcntl(fd, F_GETFL);
    if (fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK)) {
        die("fcntl");
    }
}

static int
cmp_double(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;
    return a < b ? -1 : a > b;
}

enum test { RECV_EAGAIN, SEND_RECV, SEND_RECV_BLOCKING, POLL0, RDTSC,
            CLOCK, COARSE };

/* Returns ns per call of one run. */
static double
run(enum test test, int up, int down, long n)
{
    char c = 'x';
    int64_t t0 = now_ns();
    volatile uint64_t sink = 0;
    for (long i = 0; i < n; i++) {
        switch (test) {
        case RECV_EAGAIN:
            if (recv(up, &c, 1, 0) != -1 || errno != EAGAIN) {
                die("recv");
            }
            break;
        case SEND_RECV:
        case SEND_RECV_BLOCKING:
            if (send(down, &c, 1, 0) != 1) {
                die("send");
            }
            while (recv(up, &c, 1, 0) != 1) {
                if (errno != EAGAIN) {
                    die("recv");
                }
            }
            break;
        case RDTSC:
            sink += __rdtsc();
            break;
        case CLOCK:
            sink += now_ns();
            break;
        case COARSE:
            sink += coarse_ns();
            break;
        case POLL0: {
            struct pollfd pfd = { .fd = up, .events = POLLIN };
            if (recv(up, &c, 1, 0) != -1 || errno != EAGAIN) {
                die("recv");
            }
            if (poll(&pfd, 1, 0) < 0) {
                die("poll");
            }
            break;
        }
        }
    }
    int calls = (test == SEND_RECV || test == SEND_RECV_BLOCKING
                 || test == POLL0 ? 2 : 1);
    (void) sink;
    return (double) (now_ns() - t0) / n / calls;
}

int
main(int argc, char *argv[])
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    const char *only = argc > 3 ? argv[3] : NULL;
    if (n <= 0 || runs <= 0 || runs > 100) {
        fprintf(stderr, "usage: bench-calls [N [RUNS [TEST]]]\n");
        return 2;
    }

    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sin;
    if (ls < 0 || bind(ls, (struct sockaddr *) &sin, sizeof sin)
        || listen(ls, 1) || getsockname(ls, (struct sockaddr *) &sin, &len)) {
        die("listen");
    }
    int down = socket(AF_INET, SOCK_STREAM, 0);
    if (down < 0 || connect(down, (struct sockaddr *) &sin, sizeof sin)) {
        die("connect");
    }
    int up = accept(ls, NULL, NULL);
    if (up < 0) {
        die("accept");
    }
    int one = 1;
    setsockopt(down, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    static const struct {
        enum test test;
        const char *name;
        int nonblock;
    } tests[] = {
        { RECV_EAGAIN, "recv-eagain", 1 },
        { SEND_RECV, "send-recv", 1 },
        { SEND_RECV_BLOCKING, "send-recv-blk", 0 },
        { POLL0, "recv-poll", 1 },
        { RDTSC, "stamp-rdtsc", 1 },
        { CLOCK, "stamp-clock", 1 },
        { COARSE, "stamp-coarse", 1 },
    };
    for (size_t t = 0; t < sizeof tests / sizeof tests[0]; t++) {
        if (only && strcmp(only, tests[t].name)) {
            continue;
        }
        set_nonblock(up, tests[t].nonblock);
        set_nonblock(down, tests[t].nonblock);
        double ns[100];
        run(tests[t].test, up, down, n / 10 + 1);
        for (int r = 0; r < runs; r++) {
            ns[r] = run(tests[t].test, up, down, n);
        }
        qsort(ns, runs, sizeof ns[0], cmp_double);
        printf("%s %.1f\n", tests[t].name, ns[0]);
    }
    return 0;
}
