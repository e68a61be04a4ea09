/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Middlebox counter segments: the writer (the C API, also compiled into
 * the preload library) and the reader (the agent).  It uses libc alone, so
 * that the preload library drags nothing else into the programs it is
 * loaded into.  docs/middlebox.md describes the layout and its rules. */

#include <config.h>
#include "perfsight/middlebox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The layout is fixed: any change is a new PS_MB_VERSION. */
_Static_assert(sizeof(struct ps_mb_header) == 96, "header layout");
_Static_assert(sizeof(struct ps_mb_peer) == 24, "peer layout");
_Static_assert(sizeof(struct ps_mb_slot) == 640, "slot layout");
_Static_assert(sizeof(struct ps_mb_segment) == 96 + 16 * 24 + 64 * 640,
               "segment layout");

/* A process's segment, as its writer holds it. */
struct ps_mb {
    char *dir;                  /* Directory of the segment. */
    char prog[PS_MB_PROG_LEN];  /* Sanitised program name. */
    char path[256];             /* The segment's file. */
    struct ps_mb_segment *seg;  /* Mapped read-write, or NULL. */
    unsigned int gen;           /* Bumped by each ps_mb_reopen(). */
};

/* Where the counts of a thread go when every slot is taken. */
static struct ps_mb_slot overflow_slot;

/* The calling thread's slot, cached.  initial-exec: the library may be
 * LD_PRELOADed, and the general TLS model costs a call per access. */
struct mb_thread {
    const struct ps_mb *mb;
    unsigned int gen;
    struct ps_mb_slot *slot;
};
static __thread struct mb_thread mb_thread
    __attribute__((tls_model("initial-exec")));

static pthread_key_t slot_key;
static pthread_once_t slot_key_once = PTHREAD_ONCE_INIT;

/* Frees the slot of a thread that exits, for a later thread to take (its
 * counters stay: they only grow, whoever adds to them). */
static void
release_slot(void *slot_)
{
    struct ps_mb_slot *slot = slot_;
    if (slot != &overflow_slot) {
        __atomic_store_n(&slot->owner, 0, __ATOMIC_RELEASE);
    }
}

static void
create_slot_key(void)
{
    if (pthread_key_create(&slot_key, release_slot)) {
        slot_key = (pthread_key_t) -1;
    }
}

static void
sanitise_prog(const char *prog, char out[PS_MB_PROG_LEN])
{
    size_t i;
    for (i = 0; prog && prog[i] && i < PS_MB_PROG_LEN - 1; i++) {
        char c = prog[i];
        bool ok = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                   || (c >= '0' && c <= '9') || c == '.' || c == '_'
                   || c == '-');
        out[i] = ok ? c : '_';
    }
    if (!i) {
        out[i++] = '_';
    }
    memset(out + i, 0, PS_MB_PROG_LEN - i);
}

/* Field 22 of /proc/self/stat (start time in clock ticks since boot), so
 * that the reader can tell this process from a later one with its pid. */
static uint64_t
self_start_time(void)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p) {
        return 0;
    }
    /* The space after ')' starts field 3; field 22 is 19 fields later. */
    for (int field = 2; field < 22 && p; field++) {
        p = strchr(p + 1, ' ');
    }
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* Creates the segment of the calling process.  A file left by a dead
 * process of the same pid (or by this process before it exec'd) is
 * replaced if this user owns it. */
static int
mb_open(struct ps_mb *mb)
{
    int pid = getpid();
    int n = snprintf(mb->path, sizeof mb->path, "%s/" PS_MB_PREFIX "%d",
                     mb->dir, pid);
    if (n < 0 || (size_t) n >= sizeof mb->path) {
        return ENAMETOOLONG;
    }

    int fd = -1;
    for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
        fd = open(mb->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW
                  | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST && !attempt) {
            struct stat st;
            if (lstat(mb->path, &st) || st.st_uid != geteuid()
                || unlink(mb->path)) {
                return EEXIST;
            }
        } else if (fd < 0) {
            return errno;
        }
    }
    if (fd < 0) {
        return EEXIST;
    }

    struct ps_mb_segment *seg = MAP_FAILED;
    if (fchmod(fd, 0644) || ftruncate(fd, sizeof *seg)
        || (seg = mmap(NULL, sizeof *seg, PROT_READ | PROT_WRITE,
                       MAP_SHARED, fd, 0)) == MAP_FAILED) {
        int error = errno;
        close(fd);
        unlink(mb->path);
        return error;
    }
    close(fd);

    struct ps_mb_header *h = &seg->header;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h->version = PS_MB_VERSION;
    h->header_size = sizeof *h;
    h->total_size = sizeof *seg;
    h->n_peers = PS_MB_N_PEERS;
    h->peer_size = sizeof seg->peers[0];
    h->peers_offset = offsetof(struct ps_mb_segment, peers);
    h->n_slots = PS_MB_N_SLOTS;
    h->slot_size = sizeof seg->slots[0];
    h->slots_offset = offsetof(struct ps_mb_segment, slots);
    h->pid = pid;
    h->start_time = self_start_time();
    h->created_ns = (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
    memcpy(h->prog, mb->prog, sizeof h->prog);
    __atomic_store_n(&h->magic, PS_MB_MAGIC, __ATOMIC_RELEASE);

    mb->seg = seg;
    return 0;
}

int
ps_mb_create(const char *dir, const char *prog, struct ps_mb **mbp)
{
    struct ps_mb *mb = calloc(1, sizeof *mb);
    if (!mb || !(mb->dir = strdup(dir ? dir : "/dev/shm"))) {
        free(mb);
        *mbp = NULL;
        return ENOMEM;
    }
    pthread_once(&slot_key_once, create_slot_key);
    sanitise_prog(prog, mb->prog);
    int error = mb_open(mb);
    if (error) {
        free(mb->dir);
        free(mb);
        mb = NULL;
    }
    *mbp = mb;
    return error;
}

void
ps_mb_destroy(struct ps_mb *mb, bool remove)
{
    if (mb) {
        if (mb->seg) {
            munmap(mb->seg, sizeof *mb->seg);
            if (remove) {
                unlink(mb->path);
            }
        }
        if (mb_thread.mb == mb) {
            mb_thread.mb = NULL;
        }
        free(mb->dir);
        free(mb);
    }
}

int
ps_mb_reopen(struct ps_mb *mb)
{
    if (mb->seg) {
        munmap(mb->seg, sizeof *mb->seg);
        mb->seg = NULL;
    }
    __atomic_add_fetch(&mb->gen, 1, __ATOMIC_RELAXED);
    mb_thread.mb = NULL;
    return mb_open(mb);
}

/* Takes a free slot for the calling thread (once per thread and segment:
 * the only atomic read-modify-write the counting does). */
static struct ps_mb_slot *
claim_slot(struct ps_mb *mb)
{
    struct ps_mb_slot *slot = &overflow_slot;
    if (mb->seg) {
        uint64_t tid = (uint64_t) syscall(SYS_gettid) + 1;
        for (size_t i = 0; i < PS_MB_N_SLOTS; i++) {
            uint64_t free_owner = 0;
            struct ps_mb_slot *s = &mb->seg->slots[i];
            if (__atomic_compare_exchange_n(&s->owner, &free_owner, tid,
                                            false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_RELAXED)) {
                slot = s;
                break;
            }
        }
    }
    if (slot_key != (pthread_key_t) -1) {
        pthread_setspecific(slot_key, slot);
    }
    mb_thread.mb = mb;
    mb_thread.gen = mb->gen;
    mb_thread.slot = slot;
    return slot;
}

static inline struct ps_mb_slot *
thread_slot(struct ps_mb *mb)
{
    if (mb_thread.mb == mb && mb_thread.gen == mb->gen) {
        return mb_thread.slot;
    }
    return claim_slot(mb);
}

struct ps_mb_slot *
ps_mb_slot(struct ps_mb *mb)
{
    return thread_slot(mb);
}

/* Adds 'x' to a counter only this thread writes: a plain load and store,
 * single-copy atomic for the reader on every 64-bit target we build on. */
static inline void
counter_add(uint64_t *counter, uint64_t x)
{
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + x,
                     __ATOMIC_RELAXED);
}

void
ps_mb_add_in(struct ps_mb *mb, enum ps_mb_dir dir, int peer, uint64_t bytes,
             uint64_t ns)
{
    struct ps_mb_slot *slot = thread_slot(mb);
    counter_add(&slot->dir[dir].in_bytes, bytes);
    counter_add(&slot->dir[dir].in_time_ns, ns);
    if (peer >= 0 && peer < PS_MB_N_PEERS) {
        counter_add(&slot->peer[peer].in_bytes, bytes);
        counter_add(&slot->peer[peer].in_time_ns, ns);
    }
}

void
ps_mb_add_out(struct ps_mb *mb, enum ps_mb_dir dir, int peer, uint64_t bytes,
              uint64_t ns)
{
    struct ps_mb_slot *slot = thread_slot(mb);
    counter_add(&slot->dir[dir].out_bytes, bytes);
    counter_add(&slot->dir[dir].out_time_ns, ns);
    if (peer >= 0 && peer < PS_MB_N_PEERS) {
        counter_add(&slot->peer[peer].out_bytes, bytes);
        counter_add(&slot->peer[peer].out_time_ns, ns);
    }
}

void
ps_mb_add_peer_out(struct ps_mb *mb, int peer, uint64_t bytes, uint64_t ns)
{
    if (peer >= 0 && peer < PS_MB_N_PEERS) {
        struct ps_mb_slot *slot = thread_slot(mb);
        counter_add(&slot->peer[peer].out_bytes, bytes);
        counter_add(&slot->peer[peer].out_time_ns, ns);
    }
}

int
ps_mb_peer(struct ps_mb *mb, const struct sockaddr *sa, socklen_t len)
{
    struct ps_mb_peer want = { .state = 2 };
    if (!mb->seg || !sa) {
        return -1;
    }
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *sin = (const void *) sa;
        want.family = AF_INET;
        want.port = ntohs(sin->sin_port);
        memcpy(want.addr, &sin->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6
               && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *sin6 = (const void *) sa;
        want.family = AF_INET6;
        want.port = ntohs(sin6->sin6_port);
        memcpy(want.addr, &sin6->sin6_addr, 16);
    } else {
        return -1;
    }

    struct ps_mb_peer *peers = mb->seg->peers;
    for (int i = 0; i < PS_MB_N_PEERS; i++) {
        uint32_t state = __atomic_load_n(&peers[i].state, __ATOMIC_ACQUIRE);
        if (state == 2 && peers[i].family == want.family
            && peers[i].port == want.port
            && !memcmp(peers[i].addr, want.addr, sizeof want.addr)) {
            return i;
        }
    }
    for (int i = 0; i < PS_MB_N_PEERS; i++) {
        uint32_t free_state = 0;
        if (__atomic_compare_exchange_n(&peers[i].state, &free_state, 1,
                                        false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            peers[i].family = want.family;
            peers[i].port = want.port;
            memcpy(peers[i].addr, want.addr, sizeof want.addr);
            __atomic_store_n(&peers[i].state, 2, __ATOMIC_RELEASE);
            return i;
        }
    }
    return -1;
}

uint64_t
ps_mb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reader. */

static int __attribute__((format(printf, 3, 4)))
fail(char **errp, int error, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    if (vasprintf(errp, format, args) < 0) {
        *errp = NULL;
    }
    va_end(args);
    return error;
}

static bool
prog_valid(const char prog[PS_MB_PROG_LEN])
{
    size_t i;
    for (i = 0; i < PS_MB_PROG_LEN && prog[i]; i++) {
        char c = prog[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_'
              || c == '-')) {
            return false;
        }
    }
    return i > 0 && i < PS_MB_PROG_LEN;
}

/* Checks the header's fields against this reader's layout. */
static int
check_header(const char *path, const struct ps_mb_header *h, int pid,
             char **errp)
{
    if (h->magic != PS_MB_MAGIC) {
        return fail(errp, EPROTO, "%s: bad magic 0x%08x (not a PerfSight "
                    "middlebox segment)", path, h->magic);
    }
    if (h->version != PS_MB_VERSION) {
        return fail(errp, EPROTO, "%s: layout version %u, but this reader "
                    "reads version %u only", path, h->version,
                    PS_MB_VERSION);
    }
    static const struct {
        const char *name;
        size_t offset;
        uint32_t expected;
    } fields[] = {
#define F(NAME, VALUE) { #NAME, offsetof(struct ps_mb_header, NAME), VALUE }
        F(header_size, sizeof(struct ps_mb_header)),
        F(total_size, sizeof(struct ps_mb_segment)),
        F(n_peers, PS_MB_N_PEERS),
        F(peer_size, sizeof(struct ps_mb_peer)),
        F(peers_offset, offsetof(struct ps_mb_segment, peers)),
        F(n_slots, PS_MB_N_SLOTS),
        F(slot_size, sizeof(struct ps_mb_slot)),
        F(slots_offset, offsetof(struct ps_mb_segment, slots)),
#undef F
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint32_t value;
        memcpy(&value, (const char *) h + fields[i].offset, sizeof value);
        if (value != fields[i].expected) {
            return fail(errp, EPROTO, "%s: %s is %u, but layout version %u "
                        "has %u", path, fields[i].name, value,
                        PS_MB_VERSION, fields[i].expected);
        }
    }
    if (h->pid != pid) {
        return fail(errp, EPROTO, "%s: written by pid %d, not %d", path,
                    h->pid, pid);
    }
    if (!prog_valid(h->prog)) {
        return fail(errp, EPROTO, "%s: bad program name", path);
    }
    return 0;
}

static void
peer_name(const struct ps_mb_peer *p, char *buf, size_t size)
{
    char addr[INET6_ADDRSTRLEN];
    inet_ntop(p->family, p->addr, addr, sizeof addr);
    snprintf(buf, size, p->family == AF_INET6 ? "[%s]:%u" : "%s:%u", addr,
             p->port);
}

int
ps_mb_read(const char *path, int pid, uid_t owner, struct ps_mb_counts *c,
           char **errp)
{
    *errp = NULL;
    memset(c, 0, sizeof *c);

    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return fail(errp, errno, "%s: %s", path, strerror(errno));
    }
    struct stat st;
    int error = 0;
    struct ps_mb_segment *seg = NULL;
    if (fstat(fd, &st)) {
        error = fail(errp, errno, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        error = fail(errp, EPROTO, "%s: not a regular file", path);
        goto out;
    }
    if (st.st_uid != owner) {
        error = fail(errp, EPERM, "%s: owned by uid %u, but process %d runs "
                     "as uid %u", path, (unsigned) st.st_uid, pid,
                     (unsigned) owner);
        goto out;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        error = fail(errp, EPERM, "%s: writable by others (mode %04o)",
                     path, (unsigned) (st.st_mode & 07777));
        goto out;
    }

    struct ps_mb_header h;
    memset(&h, 0, sizeof h);
    ssize_t n = pread(fd, &h, sizeof h, 0);
    if (n < 0) {
        error = fail(errp, errno, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (n < (ssize_t) (2 * sizeof(uint32_t))) {
        /* Not even a version: the writer may be between open() and
         * ftruncate(). */
        error = n == 0 || !h.magic ? EAGAIN
                : fail(errp, EPROTO, "%s: truncated (%zd bytes)", path, n);
        goto out;
    }
    if (!h.magic) {
        error = EAGAIN;
        goto out;
    }
    if (h.magic == PS_MB_MAGIC && h.version == PS_MB_VERSION
        && n < (ssize_t) sizeof h) {
        error = fail(errp, EPROTO, "%s: truncated (%zd bytes, the header "
                     "alone is %zu)", path, n, sizeof h);
        goto out;
    }
    error = check_header(path, &h, pid, errp);
    if (error) {
        goto out;
    }
    if (st.st_size != (off_t) sizeof *seg) {
        error = fail(errp, EPROTO, "%s: %s (%lld bytes, layout version %u "
                     "has %zu)", path,
                     st.st_size < (off_t) sizeof *seg ? "truncated"
                     : "too long", (long long) st.st_size, PS_MB_VERSION,
                     sizeof *seg);
        goto out;
    }

    /* Into our own memory: a mapping would fault if the writer truncated
     * the file under it. */
    seg = malloc(sizeof *seg);
    if (!seg) {
        error = fail(errp, ENOMEM, "%s: out of memory", path);
        goto out;
    }
    n = pread(fd, seg, sizeof *seg, 0);
    if (n != (ssize_t) sizeof *seg) {
        error = fail(errp, n < 0 ? errno : EPROTO, "%s: truncated while "
                     "read", path);
        goto out;
    }

    c->pid = pid;
    c->start_time = h.start_time;
    c->created_ns = h.created_ns;
    memcpy(c->prog, h.prog, sizeof c->prog);
    uint64_t peer_sums[PS_MB_N_PEERS][4];
    memset(peer_sums, 0, sizeof peer_sums);
    for (size_t i = 0; i < PS_MB_N_SLOTS; i++) {
        const struct ps_mb_slot *s = &seg->slots[i];
        for (int d = 0; d < PS_MB_N_DIRS; d++) {
            c->dir[d].in_bytes += s->dir[d].in_bytes;
            c->dir[d].out_bytes += s->dir[d].out_bytes;
            c->dir[d].in_time_ns += s->dir[d].in_time_ns;
            c->dir[d].out_time_ns += s->dir[d].out_time_ns;
        }
        for (size_t p = 0; p < PS_MB_N_PEERS; p++) {
            peer_sums[p][0] += s->peer[p].out_bytes;
            peer_sums[p][1] += s->peer[p].out_time_ns;
            peer_sums[p][2] += s->peer[p].in_bytes;
            peer_sums[p][3] += s->peer[p].in_time_ns;
        }
    }
    for (size_t p = 0; p < PS_MB_N_PEERS; p++) {
        const struct ps_mb_peer *peer = &seg->peers[p];
        if (peer->state != 2
            || (peer->family != AF_INET && peer->family != AF_INET6)) {
            continue;
        }
        size_t k = c->n_peers++;
        peer_name(peer, c->peers[k].name, sizeof c->peers[k].name);
        c->peers[k].io.out_bytes = peer_sums[p][0];
        c->peers[k].io.out_time_ns = peer_sums[p][1];
        c->peers[k].io.in_bytes = peer_sums[p][2];
        c->peers[k].io.in_time_ns = peer_sums[p][3];
    }

out:
    free(seg);
    close(fd);
    return error;
}
