/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* perfsight-guestd: inside a VM, answers the host's perfsight-agent over a
 * virtio-serial port with the guest's vNIC counters (ethtool), its
 * per-CPU backlogs (/proc/net/softnet_stat) and its middleboxes' counters
 * (the preload library's segments): docs/guest.md, perfsight-guestd(8).
 * It is built static, so that it runs in any guest. */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "guestd-answer.h"
#include "guestd-vnic.h"
#include "sources/guest-proto.h"
#include "sources/sources.h"
#include "util.h"

struct guestd {
    const char *devices;        /* --interfaces, or NULL for all. */
    struct ps_source *softnet;
    struct ps_source *middlebox;
    struct ps_samples samples;
    bool verbose;
};

static void
warn_cb(const char *message)
{
    fprintf(stderr, "perfsight-guestd: %s\n", message);
}

static void
sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Samples every source and returns the answer to 'seq'. */
static void
answer(struct guestd *g, uint32_t seq, char **textp, size_t *lenp)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ps_samples_clear(&g->samples);
    g->samples.ts_ns = ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
    guestd_vnic_sample(g->devices, &g->samples);
    ps_source_sample(g->softnet, &g->samples);
    ps_source_sample(g->middlebox, &g->samples);
    guestd_answer(&g->samples, seq, textp, lenp);
}

/* Writes all of 'text' to 'fd' (non-blocking), giving up after a few
 * seconds of the host not reading.  Returns 0 or an errno. */
static int
write_all(int fd, const char *text, size_t len)
{
    for (size_t done = 0; done < len; ) {
        ssize_t n = write(fd, text + done, len - done);
        if (n > 0) {
            done += n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            if (poll(&pfd, 1, 5000) <= 0 || pfd.revents & POLLHUP) {
                return EPIPE;
            }
        } else {
            return n < 0 ? errno : EPIPE;
        }
    }
    return 0;
}

/* Serves requests on 'fd' until the peer goes.  On a virtio-serial port
 * ('is_port') the host's side closing is not the end: the port stays, and
 * the next agent connects to it. */
static void
serve(struct guestd *g, int fd, bool is_port)
{
    char in[PS_GUEST_MAX_REQUEST * 4];
    size_t in_len = 0;

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if ((pfd.revents & (POLLHUP | POLLERR)) && !(pfd.revents & POLLIN)) {
            if (!is_port) {
                return;
            }
            in_len = 0;         /* No host: what came before is stale. */
            sleep_ms(100);
            continue;
        }
        ssize_t n = read(fd, in + in_len, sizeof in - in_len);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                continue;
            }
            if (!is_port) {
                return;
            }
            in_len = 0;
            sleep_ms(100);
            continue;
        }
        in_len += n;

        /* Answer the last whole request only: older ones are stale. */
        uint32_t seq = 0;
        bool asked = false;
        char *p = in, *nl;
        while ((nl = memchr(p, '\n', in + in_len - p))) {
            uint32_t s;
            if (guestd_parse_request(p, nl - p, &s)) {
                seq = s;
                asked = true;
            } else if (g->verbose) {
                fprintf(stderr, "perfsight-guestd: ignoring a line that is "
                        "not a request\n");
            }
            p = nl + 1;
        }
        in_len -= p - in;
        memmove(in, p, in_len);
        if (in_len == sizeof in) {
            in_len = 0;         /* A line too long for a request. */
        }
        if (asked) {
            char *text;
            size_t len;
            answer(g, seq, &text, &len);
            int error = write_all(fd, text, len);
            free(text);
            if (error && !is_port) {
                return;
            }
        }
    }
}

/* Finds the character device of virtio-serial port 'name' in '*pathp'. */
static bool
find_port(const char *name, char **pathp)
{
    DIR *dir = opendir("/sys/class/virtio-ports");
    bool found = false;

    for (struct dirent *de; dir && !found && (de = readdir(dir)); ) {
        char *path, *text = NULL;
        if (de->d_name[0] == '.') {
            continue;
        }
        path = ps_xasprintf("/sys/class/virtio-ports/%s/name", de->d_name);
        if (!ps_read_file(path, &text, NULL)) {
            text[strcspn(text, "\n")] = '\0';
            if (!strcmp(text, name)) {
                *pathp = ps_xasprintf("/dev/%s", de->d_name);
                found = true;
            }
        }
        free(text);
        free(path);
    }
    if (dir) {
        closedir(dir);
    }
    return found;
}

/* Serves the virtio-serial port 'name' or the device 'device', for ever. */
static int __attribute__((noreturn))
run_port(struct guestd *g, const char *name, const char *device)
{
    bool said = false;

    for (;;) {
        char *path = device ? ps_xstrdup(device) : NULL;
        if (path || find_port(name, &path)) {
            int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
            if (fd >= 0) {
                fprintf(stderr, "perfsight-guestd: serving %s\n", path);
                said = false;
                serve(g, fd, true);
                close(fd);
            } else if (!said) {
                fprintf(stderr, "perfsight-guestd: %s: %s\n", path,
                        strerror(errno));
                said = true;
            }
        } else if (!said) {
            fprintf(stderr, "perfsight-guestd: waiting for port %s\n", name);
            said = true;
        }
        free(path);
        sleep_ms(1000);
    }
}

/* Serves connections to unix socket 'path', one at a time (for tests and
 * for guests that relay the port themselves). */
static int
run_listen(struct guestd *g, const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (strlen(path) >= sizeof sun.sun_path) {
        fprintf(stderr, "perfsight-guestd: %s: path too long\n", path);
        return EXIT_FAILURE;
    }
    strcpy(sun.sun_path, path);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *) &sun, sizeof sun)
        || listen(fd, 4)) {
        fprintf(stderr, "perfsight-guestd: %s: %s\n", path, strerror(errno));
        return EXIT_FAILURE;
    }
    for (;;) {
        int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (conn >= 0) {
            serve(g, conn, false);
            close(conn);
        } else if (errno != EINTR) {
            fprintf(stderr, "perfsight-guestd: accept: %s\n",
                    strerror(errno));
            return EXIT_FAILURE;
        }
    }
}

static void
usage(void)
{
    printf("\
perfsight-guestd: serves a guest's PerfSight counters to the host's agent\n\
usage: perfsight-guestd [OPTION]...\n\
\n\
  -p, --port=NAME          virtio-serial port name (default "
           PS_GUEST_PORT_NAME ")\n\
  -d, --device=PATH        serve this character device instead\n\
      --listen=PATH        serve a unix socket instead (tests)\n\
  -i, --interfaces=LIST    comma-separated devices (default: all but lo)\n\
      --middlebox-dir=DIR  middlebox segments (default /dev/shm)\n\
      --procfs=DIR         /proc (default /proc)\n\
      --once               print one answer on standard output and exit\n\
  -v, --verbose            say what is ignored\n\
  -h, --help               show this help and exit\n\
  -V, --version            show the version and exit\n\
\n\
See perfsight-guestd(8) and docs/guest.md.\n");
}

int
main(int argc, char *argv[])
{
    enum { OPT_LISTEN = 256, OPT_MIDDLEBOX_DIR, OPT_PROCFS, OPT_ONCE };
    static const struct option options[] = {
        { "port", required_argument, NULL, 'p' },
        { "device", required_argument, NULL, 'd' },
        { "listen", required_argument, NULL, OPT_LISTEN },
        { "interfaces", required_argument, NULL, 'i' },
        { "middlebox-dir", required_argument, NULL, OPT_MIDDLEBOX_DIR },
        { "procfs", required_argument, NULL, OPT_PROCFS },
        { "once", no_argument, NULL, OPT_ONCE },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *port = PS_GUEST_PORT_NAME, *device = NULL, *listen_path = NULL;
    struct ps_source_env env = {
        .host = "guest",
        .procfs = "/proc",
        .middlebox_vm = "guest",
        .timeout_ms = 1000,
        .warn = warn_cb,
    };
    struct guestd g = { .devices = NULL };
    bool once = false;
    int opt;

    while ((opt = getopt_long(argc, argv, "p:d:i:vhV", options, NULL))
           != -1) {
        switch (opt) {
        case 'p':
            port = optarg;
            break;
        case 'd':
            device = optarg;
            break;
        case OPT_LISTEN:
            listen_path = optarg;
            break;
        case 'i':
            g.devices = optarg;
            break;
        case OPT_MIDDLEBOX_DIR:
            env.middlebox_dir = optarg;
            break;
        case OPT_PROCFS:
            env.procfs = optarg;
            break;
        case OPT_ONCE:
            once = true;
            break;
        case 'v':
            g.verbose = true;
            break;
        case 'h':
            usage();
            return EXIT_SUCCESS;
        case 'V':
            printf("perfsight-guestd %s (protocol %d)\n", PACKAGE_VERSION,
                   PS_GUEST_VERSION);
            return EXIT_SUCCESS;
        default:
            fprintf(stderr, "Try 'perfsight-guestd --help'.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "perfsight-guestd: unexpected argument \"%s\"\n",
                argv[optind]);
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);
    ps_samples_init(&g.samples, env.host, 0);
    if (ps_source_create(&ps_softnet_class, &env, &g.softnet)
        || ps_source_create(&ps_middlebox_class, &env, &g.middlebox)) {
        fprintf(stderr, "perfsight-guestd: cannot set up its sources\n");
        return EXIT_FAILURE;
    }
    if (once) {
        char *text;
        size_t len;
        answer(&g, 0, &text, &len);
        fwrite(text, 1, len, stdout);
        free(text);
        return fflush(stdout) ? EXIT_FAILURE : EXIT_SUCCESS;
    }
    return (listen_path ? run_listen(&g, listen_path)
            : run_port(&g, port, device));
}
