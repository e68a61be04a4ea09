/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Guests: vnic, guest_backlog and middlebox elements that perfsight-guestd
 * reads inside each VM and sends over a virtio-serial port, whose host end
 * is a unix socket (QEMU's "chardev socket"): one VM.sock per VM in
 * 'guest_dir', and the <channel> of each libvirt domain.
 *
 * Each round asks every guest at once and waits for all of them together
 * for at most the daemon timeout, so that a slow guest costs the agent one
 * timeout, however many there are.  A guest is untrusted: a guest that
 * does not answer in time, sends more than the protocol allows, sends
 * anything unasked or anything that does not parse is reported and cut
 * off (disconnected, and left alone for a while); its answer counts only
 * whole (guest-parse.c). */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#endif
#include "guest-proto.h"
#include "sources.h"
#include "util.h"

/* How long a guest that was cut off is left alone. */
#define CUTOFF_NS INT64_C(10000000000)

/* One guest's port. */
struct guest_conn {
    char *vm;                   /* The host's name for it. */
    char *path;                 /* Its unix socket. */
    bool from_libvirt;
    unsigned int dom_id;        /* libvirt's domain id, if from_libvirt. */
    bool seen;                  /* In this round's discovery. */
    int fd;                     /* Connected socket, or -1. */
    int64_t retry_ns;           /* Leave it alone before this time. */
    bool asked;                 /* Waiting for an answer this round. */
    char *buf;                  /* What it sent of this answer. */
    size_t len, allocated;
    size_t scan_offset;         /* For ps_guest_answer_scan(). */
    bool warned_connect;        /* Said that it could not be reached. */
};

struct guest_source {
    const struct ps_source_env *env;
    const char *port;
    struct guest_conn *conns;
    size_t n_conns;
    uint32_t seq;
#ifdef HAVE_LIBVIRT
    virConnectPtr virt;
    int64_t virt_retry_ns;
#endif
};

/* Tells the operator (struct ps_source_env's 'warn'). */
static void
say(struct guest_source *s, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(struct guest_source *s, const char *format, ...)
{
    va_list args;
    char *msg;

    if (!s->env->warn) {
        return;
    }
    va_start(args, format);
    if (vasprintf(&msg, format, args) >= 0) {
        s->env->warn(msg);
        free(msg);
    }
    va_end(args);
}

/* Disconnects 'c' and forgets what it sent. */
static void
conn_close(struct guest_conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->asked = false;
    c->len = c->scan_offset = 0;
}

/* Reports guest 'c' for 'why' and cuts it off. */
static void
cut_off(struct guest_source *s, struct guest_conn *c, int64_t now,
        const char *why)
{
    say(s, "guest %s: %s; cut off for %d s", c->vm, why,
        (int) (CUTOFF_NS / 1000000000));
    conn_close(c);
    c->retry_ns = now + CUTOFF_NS;
}

/* The port of VM 'vm', or NULL. */
static struct guest_conn *
find_conn(struct guest_source *s, const char *vm)
{
    for (size_t i = 0; i < s->n_conns; i++) {
        if (!strcmp(s->conns[i].vm, vm)) {
            return &s->conns[i];
        }
    }
    return NULL;
}

/* Notes that VM 'vm' has its port at 'path'. */
static void
discovered(struct guest_source *s, const char *vm, const char *path,
           bool from_libvirt)
{
    struct guest_conn *c = find_conn(s, vm);

    if (c && strcmp(c->path, path)) {
        conn_close(c);
        free(c->path);
        c->path = ps_xstrdup(path);
        c->retry_ns = 0;
    }
    if (!c) {
        s->conns = ps_xrealloc(s->conns, (s->n_conns + 1) * sizeof *s->conns);
        c = &s->conns[s->n_conns++];
        memset(c, 0, sizeof *c);
        c->vm = ps_xstrdup(vm);
        c->path = ps_xstrdup(path);
        c->fd = -1;
    }
    c->from_libvirt = from_libvirt;
    c->seen = true;
}

/* Finds the VM.sock ports in 'guest_dir'. */
static void
discover_dir(struct guest_source *s)
{
    DIR *dir = s->env->guest_dir ? opendir(s->env->guest_dir) : NULL;
    if (!dir) {
        return;
    }
    for (struct dirent *de; (de = readdir(dir)) != NULL; ) {
        size_t len = strlen(de->d_name);
        if (len > 5 && !strcmp(de->d_name + len - 5, ".sock")
            && ps_guest_name_valid(de->d_name, len - 5)) {
            char *vm = ps_xasprintf("%.*s", (int) (len - 5), de->d_name);
            char *path = ps_xasprintf("%s/%s", s->env->guest_dir,
                                      de->d_name);
            if (!find_conn(s, vm) || !find_conn(s, vm)->from_libvirt) {
                discovered(s, vm, path, false);
            }
            free(vm);
            free(path);
        }
    }
    closedir(dir);
}

#ifdef HAVE_LIBVIRT
/* Finds the ports of the running libvirt domains from their <channel>;
 * a domain's XML is read again only when its id changes (a restart gives
 * it a new channel path). */
static void
discover_libvirt(struct guest_source *s, int64_t now)
{
    if (!s->env->libvirt_uri) {
        return;
    }
    if (!s->virt) {
        if (now < s->virt_retry_ns) {
            return;
        }
        s->virt = virConnectOpen(s->env->libvirt_uri);
        if (!s->virt) {
            s->virt_retry_ns = now + INT64_C(10000000000);
            return;
        }
    }
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(s->virt, &doms,
                                     VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) {
        virConnectClose(s->virt);
        s->virt = NULL;
        s->virt_retry_ns = now + INT64_C(10000000000);
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *vm = virDomainGetName(doms[i]);
        unsigned int id = virDomainGetID(doms[i]);
        struct guest_conn *c = vm ? find_conn(s, vm) : NULL;
        if (c && c->from_libvirt && c->dom_id == id) {
            c->seen = true;     /* Its XML was read before. */
        } else if (vm && ps_guest_name_valid(vm, strlen(vm))) {
            char *xml = virDomainGetXMLDesc(doms[i], 0);
            char *path = xml ? ps_guest_channel_path(xml, s->port) : NULL;
            if (path) {
                discovered(s, vm, path, true);
                find_conn(s, vm)->dom_id = id;
            }
            free(path);
            free(xml);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
}
#endif

/* Finds every guest's port; forgets those that are gone. */
static void
discover(struct guest_source *s, int64_t now)
{
    for (size_t i = 0; i < s->n_conns; i++) {
        s->conns[i].seen = false;
    }
#ifdef HAVE_LIBVIRT
    discover_libvirt(s, now);
#else
    (void) now;
#endif
    discover_dir(s);
    for (size_t i = 0; i < s->n_conns; ) {
        struct guest_conn *c = &s->conns[i];
        if (c->seen) {
            i++;
            continue;
        }
        conn_close(c);
        free(c->vm);
        free(c->path);
        free(c->buf);
        *c = s->conns[--s->n_conns];
    }
}

/* Connects 'c' if it is not, and sends it request 's->seq'. */
static void
ask(struct guest_source *s, struct guest_conn *c, int64_t now)
{
    char req[PS_GUEST_MAX_REQUEST];

    if (now < c->retry_ns) {
        return;
    }
    if (c->fd >= 0) {
        /* Nothing may come between an answer and the next request. */
        char byte;
        ssize_t n = recv(c->fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
        if (n > 0) {
            cut_off(s, c, now, "sent data it was not asked for");
            return;
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            conn_close(c);      /* Gone (QEMU restarted): reconnect. */
        }
    }
    if (c->fd < 0) {
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        if (strlen(c->path) >= sizeof sun.sun_path) {
            if (!c->warned_connect) {
                say(s, "guest %s: socket path too long", c->vm);
                c->warned_connect = true;
            }
            return;
        }
        strcpy(sun.sun_path, c->path);
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                       0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *) &sun,
                                 sizeof sun)) {
            if (!c->warned_connect) {
                say(s, "guest %s: %s: %s", c->vm, c->path, strerror(errno));
                c->warned_connect = true;
            }
            conn_close(c);
            return;
        }
        if (c->warned_connect) {
            say(s, "guest %s: connected", c->vm);
            c->warned_connect = false;
        }
    }
    int len = snprintf(req, sizeof req, PS_GUEST_REQUEST_FMT, s->seq);
    if (send(c->fd, req, len, MSG_DONTWAIT | MSG_NOSIGNAL) != len) {
        cut_off(s, c, now, "does not take requests");
        return;
    }
    c->asked = true;
    c->len = c->scan_offset = 0;
}

/* Reads what 'c' sent; parses its answer when it is whole. */
static void
receive(struct guest_source *s, struct guest_conn *c, int64_t now,
        struct ps_samples *samples, int *retval)
{
    /* One byte more than an answer may have tells an oversized one. */
    c->buf = ps_grow(c->buf, &c->allocated, PS_GUEST_MAX_ANSWER + 1, 1);
    ssize_t n = recv(c->fd, c->buf + c->len,
                     PS_GUEST_MAX_ANSWER + 1 - c->len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK
                  || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        say(s, "guest %s: closed while answering", c->vm);
        conn_close(c);
        *retval = *retval ? *retval : EPIPE;
        return;
    }
    c->len += n;

    size_t answer_len;
    int error = ps_guest_answer_scan(c->buf, c->len, &c->scan_offset,
                                     &answer_len);
    if (error == EAGAIN) {
        return;
    }
    c->asked = false;
    char *why = NULL;
    if (error == EMSGSIZE) {
        why = ps_xasprintf("answer or line over the bounds (%d bytes, "
                           "lines of %d)", PS_GUEST_MAX_ANSWER,
                           PS_GUEST_MAX_LINE);
    } else if (ps_guest_parse_answer(c->buf, error ? c->len : answer_len,
                                     s->seq, c->vm, samples, &why)) {
        /* The parser says what is wrong, where the scan stopped. */
        char *full = ps_xasprintf("bad answer: %s", why);
        free(why);
        why = full;
    } else if (error) {
        why = ps_xstrdup("bad answer");     /* Not reached: a safety net. */
    }
    if (why) {
        cut_off(s, c, now, why);
        free(why);
        *retval = *retval ? *retval : EPROTO;
    }
    c->len = c->scan_offset = 0;
}

static int
guest_sample(void *state, struct ps_samples *samples)
{
    struct guest_source *s = state;
    int64_t now = ps_monotonic_ns();
    int retval = 0;

    discover(s, now);
    s->seq++;
    for (size_t i = 0; i < s->n_conns; i++) {
        ask(s, &s->conns[i], now);
    }

    int64_t deadline = now + (int64_t) s->env->timeout_ms * 1000000;
    struct pollfd *pfds = ps_xcalloc(s->n_conns + 1, sizeof *pfds);
    size_t *which = ps_xcalloc(s->n_conns + 1, sizeof *which);
    for (;;) {
        size_t n = 0;
        for (size_t i = 0; i < s->n_conns; i++) {
            if (s->conns[i].asked) {
                pfds[n] = (struct pollfd) { .fd = s->conns[i].fd,
                                            .events = POLLIN };
                which[n++] = i;
            }
        }
        now = ps_monotonic_ns();
        if (!n || now >= deadline) {
            break;
        }
        int timeout = (deadline - now + 999999) / 1000000;
        if (poll(pfds, n, timeout) < 0 && errno != EINTR) {
            retval = errno;
            break;
        }
        for (size_t j = 0; j < n; j++) {
            if (pfds[j].revents) {
                receive(s, &s->conns[which[j]], now, samples, &retval);
            }
        }
    }
    for (size_t i = 0; i < s->n_conns; i++) {
        if (s->conns[i].asked) {
            char *why = ps_xasprintf("no answer within %d ms",
                                     s->env->timeout_ms);
            cut_off(s, &s->conns[i], now, why);
            free(why);
            retval = retval ? retval : ETIMEDOUT;
        }
    }
    free(pfds);
    free(which);
    return retval;
}

static int
guest_init(const struct ps_source_env *env, void **statep)
{
    struct guest_source *s = ps_xcalloc(1, sizeof *s);

    s->env = env;
    s->port = env->guest_port && *env->guest_port ? env->guest_port
              : PS_GUEST_PORT_NAME;
    *statep = s;
    return 0;
}

static void
guest_destroy(void *state)
{
    struct guest_source *s = state;
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n_conns; i++) {
        conn_close(&s->conns[i]);
        free(s->conns[i].vm);
        free(s->conns[i].path);
        free(s->conns[i].buf);
    }
    free(s->conns);
#ifdef HAVE_LIBVIRT
    if (s->virt) {
        virConnectClose(s->virt);
    }
#endif
    free(s);
}

const struct ps_source_class ps_guest_class = {
    .name = "guest",
    .init = guest_init,
    .sample = guest_sample,
    .destroy = guest_destroy,
};
