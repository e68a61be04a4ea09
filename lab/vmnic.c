/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* vmnic: the lab's stand-in for a VM's hypervisor process.  It opens a
 * tap in the host's network namespace (the device Open vSwitch switches
 * to, as QEMU's tap backend opens vnetN) and a tap in the VM's namespace
 * (the VM's eth0), and copies frames between their file descriptors.  Like
 * QEMU, it is one process whose CPU is the VM's: when it is starved, the
 * host tap's queue to it fills and the kernel drops there (tx_dropped),
 * which is the paper's "tap" location.
 *
 * usage: vmnic HOST-NETNS HOST-TAP VM-NETNS VM-DEV
 * (names of /run/netns/ entries).  Prints "ready" once both exist; runs
 * until killed, and the taps go with it. */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void
fail(const char *what, const char *arg)
{
    fprintf(stderr, "vmnic: %s %s: %s\n", what, arg, strerror(errno));
    exit(1);
}

/* Opens tap 'name' in network namespace 'netns'. */
static int
open_tap(const char *netns, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", netns);
    int ns = open(path, O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET)) {
        fail("entering", path);
    }
    close(ns);

    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        fail("opening", "/dev/net/tun");
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr)) {
        fail("creating tap", name);
    }
    return fd;
}

/* Copies the frames waiting on 'from' to 'to'.  A frame the other side
 * cannot take is dropped there, by its kernel, as with a real vNIC. */
static void
relay(int from, int to)
{
    char frame[65536];
    for (int i = 0; i < 64; i++) {
        ssize_t n = read(from, frame, sizeof frame);
        if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                fail("reading", "a tap");
            }
            return;
        }
        if (write(to, frame, n) < 0 && errno != EAGAIN && errno != EIO) {
            fail("writing", "a tap");
        }
    }
}

int
main(int argc, char *argv[])
{
    if (argc != 5) {
        fprintf(stderr, "usage: vmnic HOST-NETNS HOST-TAP VM-NETNS VM-DEV\n");
        return 2;
    }
    int host = open_tap(argv[1], argv[2]);
    int vm = open_tap(argv[3], argv[4]);
    printf("ready\n");
    fflush(stdout);

    struct pollfd fds[2] = {
        { .fd = host, .events = POLLIN },
        { .fd = vm, .events = POLLIN },
    };
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            fail("polling", "the taps");
        }
        if (fds[0].revents & POLLIN) {
            relay(host, vm);
        }
        if (fds[1].revents & POLLIN) {
            relay(vm, host);
        }
    }
}
