/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* udpflood ADDR PORT SECONDS [SIZE]: sends UDP datagrams of SIZE bytes
 * (default 18) to ADDR:PORT as fast as it can for SECONDS, and prints how
 * many went and how many the stack refused.  The guest test's transmitter
 * (busybox's nc has no UDP): faster than the vNIC's ring drains. */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int
main(int argc, char *argv[])
{
    struct sockaddr_in to = { .sin_family = AF_INET };
    char buf[65536];

    if (argc < 4 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
        fprintf(stderr, "usage: udpflood ADDR PORT SECONDS [SIZE]\n");
        return 2;
    }
    to.sin_port = htons(atoi(argv[2]));
    size_t size = argc > 4 ? (size_t) atoi(argv[4]) : 18;
    if (size > sizeof buf) {
        size = sizeof buf;
    }
    memset(buf, 'G', size);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("udpflood: socket");
        return 1;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    time_t end = now.tv_sec + atoi(argv[3]);
    unsigned long long sent = 0, refused = 0;
    do {
        for (int i = 0; i < 256; i++) {
            if (sendto(fd, buf, size, MSG_DONTWAIT, (struct sockaddr *) &to,
                       sizeof to) >= 0) {
                sent++;
            } else {
                refused++;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec < end);
    printf("udpflood: %llu sent, %llu refused\n", sent, refused);
    return 0;
}
