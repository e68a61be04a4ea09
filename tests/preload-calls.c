/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* preload-calls: a transcript of socket calls and what they returned, for
 * tests/preload.sh, which runs it with and without libperfsight-preload.so
 * and compares the transcripts.  It relays 100000 bytes upstream to
 * downstream (an accepted and a connected socket over loopback), and 50000
 * back, with every wrapped call, blocking and not, with errors (EAGAIN,
 * EBADF, ENOTSOCK, EPIPE) and errno set beforehand; then forks a child that
 * relays 1000 bytes more, and, with "exec", execs itself with "child" to
 * relay 777 bytes in a new image.  Prints "call = return errno" lines. */

#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void
say(const char *call, long r)
{
    printf("%s = %ld %s\n", call, r, r < 0 ? strerror(errno) : "-");
    fflush(stdout);
}

#define CALL(EXPR) do { errno = 4242; long r_ = (EXPR); say(#EXPR, r_); \
                        if (r_ >= 0 && errno != 4242) \
                            printf("  errno changed to %d\n", errno); } \
                   while (0)

static void
pair(int *up, int *down)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sin;
    if (ls < 0 || bind(ls, (struct sockaddr *) &sin, sizeof sin)
        || listen(ls, 1) || getsockname(ls, (struct sockaddr *) &sin, &len)) {
        perror("listen");
        exit(1);
    }
    *down = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(*down, (struct sockaddr *) &sin, sizeof sin)) {
        perror("connect");
        exit(1);
    }
    *up = accept4(ls, NULL, NULL, 0);
    close(ls);
}

/* Moves 'n' bytes from 'from' to 'to' in chunks, with several calls. */
static void
move(int from, int to, long n)
{
    char buf[4096];
    long moved = 0;
    for (int i = 0; moved < n; i++) {
        size_t want = n - moved < (long) sizeof buf ? n - moved : sizeof buf;
        ssize_t w;
        switch (i % 4) {
        case 0: w = write(to, buf, want); break;
        case 1: w = send(to, buf, want, 0); break;
        case 2: {
            struct iovec iov = { buf, want };
            w = writev(to, &iov, 1);
            break;
        }
        default: {
            struct iovec iov = { buf, want };
            struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
            w = sendmsg(to, &msg, 0);
            break;
        }
        }
        if (w <= 0) {
            perror("write");
            exit(1);
        }
        for (ssize_t got = 0; got < w; ) {
            ssize_t r;
            switch (i % 3) {
            case 0: r = read(from, buf, w - got); break;
            case 1: r = recv(from, buf, w - got, 0); break;
            default: r = recvfrom(from, buf, w - got, 0, NULL, NULL); break;
            }
            if (r <= 0) {
                perror("read");
                exit(1);
            }
            got += r;
        }
        moved += w;
    }
}

int
main(int argc, char *argv[])
{
    int up, down;
    signal(SIGPIPE, SIG_IGN);
    pair(&up, &down);
    if (argc > 1 && !strcmp(argv[1], "child")) {
        move(up, down, 777);
        printf("exec'd child relayed\n");
        return 0;
    }

    char buf[100];
    int flags = fcntl(up, F_GETFL);
    CALL(fcntl(up, F_SETFL, flags | O_NONBLOCK));
    CALL(recv(up, buf, sizeof buf, 0));
    CALL(read(up, buf, sizeof buf));
    CALL(recv(down, buf, sizeof buf, MSG_DONTWAIT));
    int on = 1;
    CALL(ioctl(down, FIONBIO, &on));
    CALL(recvfrom(down, buf, sizeof buf, 0, NULL, NULL));
    on = 0;
    CALL(ioctl(down, FIONBIO, &on));
    CALL(fcntl(up, F_SETFL, flags));
    CALL(read(-1, buf, 1));
    CALL(write(99999, buf, 1));
    CALL(send(0, buf, 1, 0));
    CALL(send(down, buf, 15, 0));
    struct pollfd pfd = { .fd = up, .events = POLLIN };
    CALL(poll(&pfd, 1, 1000));
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(up, &rd);
    struct timeval tv = { 1, 0 };
    CALL(select(up + 1, &rd, NULL, NULL, &tv));
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = up };
    CALL(epoll_ctl(ep, EPOLL_CTL_ADD, up, &ev));
    CALL(epoll_wait(ep, &ev, 1, 1000));
    close(ep);
    CALL(recv(up, buf, 10, 0));
    struct iovec iov = { buf, 5 };
    CALL(readv(up, &iov, 1));
    int pipefd[2];
    CALL(pipe(pipefd));
    CALL(write(pipefd[1], "hello", 5));
    CALL(splice(pipefd[0], NULL, down, NULL, 5, 0));
    CALL(recv(up, buf, 5, 0));
    char file[] = "/tmp/preload-calls.XXXXXX";
    int fd = mkstemp(file);
    CALL(write(fd, "abc", 3));
    CALL(lseek(fd, 0, SEEK_SET));
    CALL(sendfile(down, fd, NULL, 3));
    CALL(recv(up, buf, 3, 0));
    close(fd);
    unlink(file);
    close(pipefd[0]);
    close(pipefd[1]);

    move(up, down, 100000);
    move(down, up, 50000);
    printf("relayed\n");

    /* A closed peer: EPIPE (or ECONNRESET) on writes, 0 on reads. */
    int up2, down2;
    pair(&up2, &down2);
    CALL(close(up2));
    usleep(10000);
    CALL(send(down2, buf, 10, 0));
    usleep(10000);
    CALL(send(down2, buf, 10, 0));
    CALL(recv(down2, buf, 10, 0));
    CALL(close(down2));

    fflush(stdout);
    pid_t child = fork();
    if (!child) {
        move(up, down, 1000);
        printf("child relayed\n");
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    if (argc > 1 && !strcmp(argv[1], "exec")) {
        fflush(stdout);
        execl("/proc/self/exe", argv[0], "child", (char *) NULL);
        perror("exec");
        return 1;
    }
    return 0;
}
