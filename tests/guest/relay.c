/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* relay PORT ADDR DPORT: a minimal TCP middlebox for the guest test.  It
 * accepts on PORT, connects each client to ADDR:DPORT and copies both
 * ways with read() and write(), one client at a time.  Dynamically
 * linked on purpose: the preload library counts its calls. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int
copy(int from, int to)
{
    char buf[16384];
    ssize_t n = read(from, buf, sizeof buf);
    for (ssize_t done = 0; n > 0 && done < n; ) {
        ssize_t m = write(to, buf + done, n - done);
        if (m <= 0) {
            return -1;
        }
        done += m;
    }
    return n > 0 ? 0 : -1;
}

int
main(int argc, char *argv[])
{
    struct sockaddr_in in = { .sin_family = AF_INET }, out = in;
    int one = 1;

    if (argc != 4 || inet_pton(AF_INET, argv[2], &out.sin_addr) != 1) {
        fprintf(stderr, "usage: relay PORT ADDR DPORT\n");
        return 2;
    }
    in.sin_port = htons(atoi(argv[1]));
    out.sin_port = htons(atoi(argv[3]));
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *) &in, sizeof in) || listen(lfd, 4)) {
        perror("relay: listen");
        return 1;
    }
    for (;;) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        int d = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(d, (struct sockaddr *) &out, sizeof out)) {
            perror("relay: connect");
            close(c);
            close(d);
            continue;
        }
        struct pollfd p[2] = { { .fd = c, .events = POLLIN },
                               { .fd = d, .events = POLLIN } };
        while (poll(p, 2, -1) > 0) {
            if ((p[0].revents && copy(c, d))
                || (p[1].revents && copy(d, c))) {
                break;
            }
        }
        close(c);
        close(d);
    }
}
