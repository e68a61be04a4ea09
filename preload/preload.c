/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* libperfsight-preload.so: middlebox counters for unmodified programs
 * (docs/middlebox.md).
 *
 *   LD_PRELOAD=/usr/lib/x86_64-linux-gnu/perfsight/libperfsight-preload.so \
 *       haproxy -f haproxy.cfg
 *
 * It wraps the socket calls a proxy moves data with and adds bytes and
 * time to the process's segment (lib/perfsight/middlebox.h).  Sockets the
 * program accepted are its upstream side, sockets it connected (TCP over
 * IPv4 or IPv6) its downstream side; other descriptors pass untouched.
 * Time is counted where a program waits: inside calls on blocking sockets,
 * and in poll/select/epoll waits, which count as output time of a direction
 * while one of its output sockets has a write pending (the last write to
 * it fell short or would have blocked), and as input time otherwise.  A
 * call on a non-blocking socket does not wait and adds bytes only; a long
 * call or wait in which the thread did not sleep was not waiting either
 * (it was running, or throttled by its cgroup) and adds no time.
 *
 * A wrapper never changes what a call returns nor its errno.  The segment
 * is created at the process's first accept() or connect() of such a
 * socket, again in the child after fork(), and by the constructor's first
 * such call after exec().  Environment: PERFSIGHT_PROG (the program's name;
 * default the executable's), PERFSIGHT_DIR (default /dev/shm),
 * PERFSIGHT_CLOCK (coarse, tsc or monotonic; default coarse). */

#include <config.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#define __rdtsc() 0
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>
#include "perfsight/middlebox.h"

/* glibc's _FORTIFY_SOURCE entry points, which programs built with it call
 * instead of read(), recv(), recvfrom() and poll(). */
ssize_t __read_chk(int, void *, size_t, size_t);
ssize_t __recv_chk(int, void *, size_t, size_t, int);
ssize_t __recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *,
                       socklen_t *);
int __poll_chk(struct pollfd *, nfds_t, int, size_t);

#define EXPORT __attribute__((visibility("default")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* What the library knows of a descriptor. */
enum side { SIDE_NONE, SIDE_UP, SIDE_DOWN };
struct fdinfo {
    uint8_t side;               /* enum side. */
    uint8_t nonblock;           /* O_NONBLOCK, as far as we saw it set. */
    uint8_t pending;            /* Last write fell short or would block. */
    int8_t peer;                /* Peer index in the segment, or -1. */
    uint8_t queued;             /* In a thread's 'thread_queued'. */
};

/* Descriptors above this are not counted. */
#define MAX_FDS 65536
static struct fdinfo fds[MAX_FDS];

static struct ps_mb *mb;        /* NULL until created, or if it failed. */
static pthread_mutex_t mb_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool mb_failed;
/* The environment and the program's name as the constructor found them:
 * nginx clears its workers' environment and rewrites its argv[0]. */
static char *env_prog, *env_dir;
static unsigned int slot_gen;   /* Changes in a fork()ed child, whose
                                 * segment is a new one. */

/* Per direction: open sockets of its input side, and sockets of its output
 * side with a write pending; per peer, pending sockets to it.  Changed
 * only when a socket opens, closes or changes state (atomically), read at
 * each wait. */
static int n_input_open[PS_MB_N_DIRS];
static int n_pending[PS_MB_N_DIRS];
static int n_peer_pending[PS_MB_N_PEERS];

/* The clock.  CLOCK_MONOTONIC_COARSE by default: reading it costs a third
 * of an rdtsc here and a fifth of CLOCK_MONOTONIC, and though it ticks
 * every few ms, what it adds up is right on average: a call of d ns
 * spans a tick with probability d / tick and is then counted as one tick
 * (calls do not start in step with the kernel's tick), so the sum over a
 * window's many calls is the time they took, give or take a few ticks. */
static bool use_tsc;
static clockid_t clock_id = CLOCK_MONOTONIC_COARSE;
static uint64_t tsc_mult;       /* ns = ticks * tsc_mult >> 32. */
static uint64_t second_ticks = 1000000000; /* Ticks in a second. */

/* A thread's waits count only while it moves data: if it read or wrote a
 * counted socket since its previous wait ('thread_did_io'), or at most a
 * second before ('thread_io_wait', the start of the last wait that
 * followed I/O).  A thread that never touches a counted socket (haproxy's
 * other threads, a timer thread) adds nothing. */
static __thread bool thread_did_io __attribute__((tls_model("initial-exec")));
static __thread uint64_t thread_io_wait
    __attribute__((tls_model("initial-exec")));

/* Sockets this thread wrote a large buffer to whole (the kernel took
 * every byte), whose bytes may still be on their way.  A slow successor
 * hides behind a deep socket buffer: the middlebox's writes return at once
 * and it then waits, with no write pending, for an answer that the
 * successor cannot send before it has taken the data.  So after a long
 * wait with no write pending, the library asks the kernel about these
 * sockets: one that still holds bytes (SIOCOUTQ) waited to write all the
 * wait; one whose last bytes were acknowledged during the wait
 * (TCP_INFO's tcpi_last_ack_recv, in ms) waited to write until then.
 * Small writes are left out: a peer's delayed acknowledgement of them
 * would look like a wait. */
#define N_QUEUED 16
#define QUEUED_MIN_WRITE 16384
static __thread int thread_queued[N_QUEUED]
    __attribute__((tls_model("initial-exec")));
static __thread int thread_n_queued
    __attribute__((tls_model("initial-exec")));

/* The real functions. */
#define REAL_FUNCTIONS                                                  \
    R(ssize_t, read, (int, void *, size_t))                             \
    R(ssize_t, __read_chk, (int, void *, size_t, size_t))               \
    R(ssize_t, readv, (int, const struct iovec *, int))                 \
    R(ssize_t, recv, (int, void *, size_t, int))                        \
    R(ssize_t, __recv_chk, (int, void *, size_t, size_t, int))          \
    R(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *,  \
                          socklen_t *))                                 \
    R(ssize_t, __recvfrom_chk, (int, void *, size_t, size_t, int,       \
                                struct sockaddr *, socklen_t *))        \
    R(ssize_t, recvmsg, (int, struct msghdr *, int))                    \
    R(ssize_t, write, (int, const void *, size_t))                      \
    R(ssize_t, writev, (int, const struct iovec *, int))                \
    R(ssize_t, send, (int, const void *, size_t, int))                  \
    R(ssize_t, sendto, (int, const void *, size_t, int,                 \
                        const struct sockaddr *, socklen_t))            \
    R(ssize_t, sendmsg, (int, const struct msghdr *, int))              \
    R(ssize_t, sendfile, (int, int, off_t *, size_t))                   \
    R(ssize_t, sendfile64, (int, int, off64_t *, size_t))               \
    R(ssize_t, splice, (int, off64_t *, int, off64_t *, size_t,         \
                        unsigned int))                                  \
    R(int, poll, (struct pollfd *, nfds_t, int))                        \
    R(int, __poll_chk, (struct pollfd *, nfds_t, int, size_t))          \
    R(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *,    \
                   const sigset_t *))                                   \
    R(int, select, (int, fd_set *, fd_set *, fd_set *,                  \
                    struct timeval *))                                  \
    R(int, pselect, (int, fd_set *, fd_set *, fd_set *,                 \
                     const struct timespec *, const sigset_t *))        \
    R(int, epoll_wait, (int, struct epoll_event *, int, int))           \
    R(int, epoll_pwait, (int, struct epoll_event *, int, int,           \
                         const sigset_t *))                             \
    R(int, epoll_pwait2, (int, struct epoll_event *, int,               \
                          const struct timespec *, const sigset_t *))   \
    R(int, accept, (int, struct sockaddr *, socklen_t *))               \
    R(int, accept4, (int, struct sockaddr *, socklen_t *, int))         \
    R(int, connect, (int, const struct sockaddr *, socklen_t))          \
    R(int, socket, (int, int, int))                                     \
    R(int, close, (int))                                                \
    R(int, close_range, (unsigned int, unsigned int, int))              \
    R(int, dup2, (int, int))                                            \
    R(int, dup3, (int, int, int))                                       \
    R(int, fcntl, (int, int, ...))                                      \
    R(int, fcntl64, (int, int, ...))                                    \
    R(int, ioctl, (int, unsigned long, ...))

#define R(RET, NAME, ARGS) static RET (*real_##NAME) ARGS;
REAL_FUNCTIONS
#undef R

static void
resolve(void)
{
#define R(RET, NAME, ARGS) \
    real_##NAME = (RET (*) ARGS) dlsym(RTLD_NEXT, #NAME);
    REAL_FUNCTIONS
#undef R
}

/* Each wrapper calls REAL(name) to get the real function, which may be
 * needed before the constructor ran (another library's constructor). */
#define REAL(NAME) \
    (LIKELY(real_##NAME) ? real_##NAME : (resolve(), real_##NAME))

static inline uint64_t
now_ticks(void)
{
    if (LIKELY(use_tsc)) {
        return __rdtsc();
    }
    struct timespec ts;
    clock_gettime(clock_id, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline uint64_t
ticks_to_ns(uint64_t ticks)
{
    return (use_tsc
            ? (uint64_t) (((unsigned __int128) ticks * tsc_mult) >> 32)
            : ticks);
}

static uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* PERFSIGHT_CLOCK=tsc uses the TSC if the CPU says it is invariant,
 * calibrating it against CLOCK_MONOTONIC for half a millisecond;
 * "monotonic" is CLOCK_MONOTONIC; anything else the coarse clock. */
static void
init_clock(void)
{
    const char *clock = getenv("PERFSIGHT_CLOCK");
    if (!clock || strcmp(clock, "tsc")) {
        use_tsc = false;
        clock_id = (clock && !strcmp(clock, "monotonic")
                    ? CLOCK_MONOTONIC : CLOCK_MONOTONIC_COARSE);
        return;
    }
#if HAVE_TSC
    unsigned int a, b, c, d;
    bool invariant = (__get_cpuid(0x80000007, &a, &b, &c, &d)
                      && (d & (1u << 8)));
#else
    bool invariant = false;
#endif
    if (!invariant) {
        use_tsc = false;
        clock_id = CLOCK_MONOTONIC;
        return;
    }
    uint64_t ns0 = mono_ns(), t0 = __rdtsc(), ns1, t1;
    do {
        ns1 = mono_ns();
        t1 = __rdtsc();
    } while (ns1 - ns0 < 500000);
    if (t1 <= t0) {
        use_tsc = false;
        clock_id = CLOCK_MONOTONIC;
        return;
    }
    tsc_mult = (uint64_t) (((unsigned __int128) (ns1 - ns0) << 32)
                           / (t1 - t0));
    use_tsc = tsc_mult > 0;
    if (use_tsc) {
        second_ticks = (uint64_t) ((1000000000ull << 32) / tsc_mult);
    }
}

static void
capture_env(void)
{
    const char *prog = getenv("PERFSIGHT_PROG");
    const char *dir = getenv("PERFSIGHT_DIR");
    env_prog = strdup(prog && *prog ? prog : program_invocation_short_name);
    env_dir = dir && *dir ? strdup(dir) : NULL;
}

/* Creates the segment at the first socket worth counting. */
static bool
ensure_mb(void)
{
    if (LIKELY(__atomic_load_n(&mb, __ATOMIC_ACQUIRE) != NULL)) {
        return true;
    }
    int saved = errno;
    pthread_mutex_lock(&mb_mutex);
    if (!mb && !mb_failed) {
        struct ps_mb *m;
        if (!env_prog) {
            capture_env();
        }
        if (ps_mb_create(env_dir, env_prog, &m)) {
            mb_failed = true;
        } else {
            __atomic_store_n(&mb, m, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&mb_mutex);
    errno = saved;
    return mb != NULL;
}

static void
atfork_child(void)
{
    pthread_mutex_init(&mb_mutex, NULL);
    slot_gen++;
    if (mb && ps_mb_reopen(mb)) {
        mb = NULL;
        mb_failed = true;
    }
}

__attribute__((constructor)) static void
preload_init(void)
{
    resolve();
    capture_env();
    init_clock();
    pthread_atfork(NULL, NULL, atfork_child);
}

static inline struct fdinfo *
fd_info(int fd)
{
    return (LIKELY((unsigned int) fd < MAX_FDS) && fds[fd].side
            && LIKELY(mb != NULL) ? &fds[fd] : NULL);
}

static inline enum ps_mb_dir
in_dir(const struct fdinfo *fi)
{
    return fi->side == SIDE_UP ? PS_MB_FWD : PS_MB_REV;
}

static inline enum ps_mb_dir
out_dir(const struct fdinfo *fi)
{
    return fi->side == SIDE_DOWN ? PS_MB_FWD : PS_MB_REV;
}

/* Forgets 'fd' (closed, or replaced by dup2). */
static void
fd_forget(int fd)
{
    if ((unsigned int) fd >= MAX_FDS) {
        return;
    }
    struct fdinfo *fi = &fds[fd];
    if (fi->side) {
        __atomic_sub_fetch(&n_input_open[in_dir(fi)], 1, __ATOMIC_RELAXED);
        if (fi->pending) {
            __atomic_sub_fetch(&n_pending[out_dir(fi)], 1, __ATOMIC_RELAXED);
            if (fi->peer >= 0) {
                __atomic_sub_fetch(&n_peer_pending[fi->peer], 1,
                                   __ATOMIC_RELAXED);
            }
        }
    }
    memset(fi, 0, sizeof *fi);
}

static void
fd_classify(int fd, enum side side, bool nonblock, int peer)
{
    if ((unsigned int) fd >= MAX_FDS) {
        return;
    }
    fd_forget(fd);
    fds[fd] = (struct fdinfo) {
        .side = side, .nonblock = nonblock, .peer = peer,
    };
    __atomic_add_fetch(&n_input_open[in_dir(&fds[fd])], 1, __ATOMIC_RELAXED);
}

/* Starts timing a call on 'fi': 0 for a non-blocking socket, whose calls
 * do not wait. */
static inline uint64_t
call_start(const struct fdinfo *fi, int flags)
{
    return fi && !fi->nonblock && !(flags & MSG_DONTWAIT) ? now_ticks() : 0;
}

/* A call or a wait longer than this is asked whether it slept. */
#define LONG_CALL_NS 50000

/* The calling thread's voluntary context switches, as last read. */
static __thread long thread_nvcsw __attribute__((tls_model("initial-exec")));

/* The calling thread's time runnable but not running (the second field of
 * /proc/thread-self/schedstat), as last read, in ns. */
static __thread uint64_t thread_run_delay
    __attribute__((tls_model("initial-exec")));

static uint64_t
read_run_delay(void)
{
    char buf[96];
    int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    ssize_t n = REAL(read)(fd, buf, sizeof buf - 1);
    REAL(close)(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    char *p = strchr(buf, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* Nanoseconds since 't0' that the thread waited.  A call that took long
 * without the thread going to sleep (no voluntary context switch) was
 * running, or preempted, or throttled by its cgroup's CPU quota, which is
 * processing and not waiting: it counts 0.  From one that slept, the time
 * the thread spent runnable but not running (its run delay, which holds
 * the time its cgroup was throttled) since the last long call is taken
 * off.  Only long calls pay for the getrusage() and the schedstat read
 * that tell; what happened between two long calls is charged to the
 * second. */
static uint64_t __attribute__((noinline))
long_call_ns(uint64_t ns)
{
    {
        struct rusage ru;
        if (!getrusage(RUSAGE_THREAD, &ru)) {
            bool slept = ru.ru_nvcsw != thread_nvcsw;
            thread_nvcsw = ru.ru_nvcsw;
            uint64_t run_delay = read_run_delay();
            uint64_t delay = (thread_run_delay && run_delay > thread_run_delay
                              ? run_delay - thread_run_delay : 0);
            thread_run_delay = run_delay;
            if (!slept) {
                return 0;
            }
            ns = ns > delay ? ns - delay : 0;
        }
    }
    return ns;
}

static inline uint64_t
waited_ns(uint64_t t0)
{
    uint64_t ns = ticks_to_ns(now_ticks() - t0);
    return UNLIKELY(ns > LONG_CALL_NS) ? long_call_ns(ns) : ns;
}

static inline uint64_t
call_ns(uint64_t t0)
{
    return t0 ? waited_ns(t0) : 0;
}

/* The calling thread's slot, cached (below); 'slot_gen' is declared with
 * the segment. */
struct thread_slot {
    struct ps_mb_slot *slot;
    unsigned int gen;
};
static __thread struct thread_slot thread_slot
    __attribute__((tls_model("initial-exec")));

static inline struct ps_mb_slot *
my_slot(void)
{
    if (UNLIKELY(!thread_slot.slot || thread_slot.gen != slot_gen)) {
        thread_slot.slot = ps_mb_slot(mb);
        thread_slot.gen = slot_gen;
    }
    return thread_slot.slot;
}

/* Adds to a counter that only this thread writes: no atomic
 * read-modify-write (see lib/middlebox.c). */
static inline void
add(uint64_t *counter, uint64_t x)
{
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + x,
                     __ATOMIC_RELAXED);
}

static inline __attribute__((always_inline)) void
count_in(struct fdinfo *fi, ssize_t r, uint64_t t0)
{
    uint64_t ns = call_ns(t0);
    uint64_t bytes = r > 0 ? (uint64_t) r : 0;
    struct ps_mb_slot *slot = my_slot();
    struct ps_mb_io *io = &slot->dir[in_dir(fi)];
    thread_did_io = true;
    add(&io->in_bytes, bytes);
    if (ns) {
        add(&io->in_time_ns, ns);
    }
    if (fi->side == SIDE_DOWN && fi->peer >= 0) {
        add(&slot->peer[fi->peer].in_bytes, bytes);
        if (ns) {
            add(&slot->peer[fi->peer].in_time_ns, ns);
        }
    }
}

static inline __attribute__((always_inline)) void
count_out(struct fdinfo *fi, ssize_t r, size_t want, int error, uint64_t t0)
{
    uint64_t ns = call_ns(t0);
    uint64_t bytes = r > 0 ? (uint64_t) r : 0;
    enum ps_mb_dir dir = out_dir(fi);
    int peer = fi->side == SIDE_DOWN ? fi->peer : -1;
    struct ps_mb_slot *slot = my_slot();
    struct ps_mb_io *io = &slot->dir[dir];
    thread_did_io = true;
    add(&io->out_bytes, bytes);
    if (ns) {
        add(&io->out_time_ns, ns);
    }
    if (peer >= 0) {
        add(&slot->peer[peer].out_bytes, bytes);
        if (ns) {
            add(&slot->peer[peer].out_time_ns, ns);
        }
    }

    bool pending = (r < 0 ? error == EAGAIN || error == EWOULDBLOCK
                    : (size_t) r < want);
    if (!pending && bytes >= QUEUED_MIN_WRITE && !fi->queued
        && thread_n_queued < N_QUEUED) {
        fi->queued = 1;
        thread_queued[thread_n_queued++] = fi - fds;
    }
    if (UNLIKELY(pending != fi->pending)) {
        int delta = pending ? 1 : -1;
        fi->pending = pending;
        __atomic_add_fetch(&n_pending[dir], delta, __ATOMIC_RELAXED);
        if (peer >= 0) {
            __atomic_add_fetch(&n_peer_pending[peer], delta,
                               __ATOMIC_RELAXED);
        }
    }
}

/* Of a wait of 'ns' that just ended, how long each direction's output
 * side (and each downstream peer) waited for its peers to take what this
 * thread wrote to its queued sockets, into 'out_ns' and 'peer_ns'.
 * Forgets the sockets whose bytes are all delivered. */
static void
check_queued(uint64_t ns, uint64_t out_ns[PS_MB_N_DIRS],
             uint64_t peer_ns[PS_MB_N_PEERS])
{
    int kept = 0;
    for (int i = 0; i < thread_n_queued; i++) {
        int fd = thread_queued[i];
        struct fdinfo *fi = &fds[fd];
        if (!fi->side || !fi->queued) {
            continue;
        }
        int queued = 0;
        uint64_t part = 0;
        if (ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0) {
            part = ns;
            thread_queued[kept++] = fd;
        } else {
            struct tcp_info info;
            socklen_t len = sizeof info;
            if (!getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len)
                && len >= offsetof(struct tcp_info, tcpi_last_ack_recv)
                          + sizeof info.tcpi_last_ack_recv) {
                uint64_t since = info.tcpi_last_ack_recv * UINT64_C(1000000);
                part = since < ns ? ns - since : 0;
            }
            fi->queued = 0;
        }
        enum ps_mb_dir dir = out_dir(fi);
        out_ns[dir] = part > out_ns[dir] ? part : out_ns[dir];
        if (fi->side == SIDE_DOWN && fi->peer >= 0
            && part > peer_ns[fi->peer]) {
            peer_ns[fi->peer] = part;
        }
    }
    thread_n_queued = kept;
}

/* Adds a wait of 'ns' in poll/select/epoll to each direction: to its
 * output (and the pending peers') if a write of it is pending, else the
 * part its peers took to receive what it wrote to its output and the rest
 * to its input, if it has an input socket open. */
static void
count_wait(uint64_t ns)
{
    if (!ns) {
        return;
    }
    uint64_t out_ns[PS_MB_N_DIRS] = { 0, 0 };
    uint64_t peer_ns[PS_MB_N_PEERS] = { 0 };
    if (thread_n_queued && ns > LONG_CALL_NS) {
        check_queued(ns, out_ns, peer_ns);
    }

    struct ps_mb_slot *slot = my_slot();
    for (int d = 0; d < PS_MB_N_DIRS; d++) {
        bool pending = __atomic_load_n(&n_pending[d], __ATOMIC_RELAXED) > 0;
        uint64_t out = pending ? ns : out_ns[d];
        if (out) {
            add(&slot->dir[d].out_time_ns, out);
        }
        if (d == PS_MB_FWD) {
            for (int p = 0; p < PS_MB_N_PEERS; p++) {
                uint64_t peer_out
                    = (__atomic_load_n(&n_peer_pending[p], __ATOMIC_RELAXED)
                       > 0 ? ns : peer_ns[p]);
                if (peer_out) {
                    add(&slot->peer[p].out_time_ns, peer_out);
                }
            }
        }
        if (out < ns
            && __atomic_load_n(&n_input_open[d], __ATOMIC_RELAXED) > 0) {
            add(&slot->dir[d].in_time_ns, ns - out);
        }
    }
}

static size_t
iov_bytes(const struct iovec *iov, int n)
{
    size_t sum = 0;
    for (int i = 0; iov && i < n; i++) {
        sum += iov[i].iov_len;
    }
    return sum;
}

/* The wrappers.  Each saves errno after the real call and restores it last,
 * so that counting cannot change it. */

#define WRAP_IN(FLAGS, CALL)                                    \
    struct fdinfo *fi = fd_info(fd);                            \
    if (LIKELY(!fi)) {                                          \
        return CALL;                                            \
    }                                                           \
    uint64_t t0 = call_start(fi, FLAGS);                        \
    ssize_t r = CALL;                                           \
    int error = errno;                                          \
    count_in(fi, r, t0);                                        \
    errno = error;                                              \
    return r;

#define WRAP_OUT(FLAGS, WANT, CALL)                             \
    struct fdinfo *fi = fd_info(fd);                            \
    if (LIKELY(!fi)) {                                          \
        return CALL;                                            \
    }                                                           \
    uint64_t t0 = call_start(fi, FLAGS);                        \
    ssize_t r = CALL;                                           \
    int error = errno;                                          \
    count_out(fi, r, WANT, error, t0);                          \
    errno = error;                                              \
    return r;

EXPORT ssize_t
read(int fd, void *buf, size_t n)
{
    WRAP_IN(0, REAL(read)(fd, buf, n));
}

EXPORT ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    WRAP_IN(0, REAL(__read_chk)(fd, buf, n, buflen));
}

EXPORT ssize_t
readv(int fd, const struct iovec *iov, int iovcnt)
{
    WRAP_IN(0, REAL(readv)(fd, iov, iovcnt));
}

EXPORT ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
    WRAP_IN(flags, REAL(recv)(fd, buf, n, flags));
}

EXPORT ssize_t
__recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    WRAP_IN(flags, REAL(__recv_chk)(fd, buf, n, buflen, flags));
}

EXPORT ssize_t
recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
         socklen_t *addrlen)
{
    WRAP_IN(flags, REAL(recvfrom)(fd, buf, n, flags, addr, addrlen));
}

EXPORT ssize_t
__recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
               struct sockaddr *addr, socklen_t *addrlen)
{
    WRAP_IN(flags, REAL(__recvfrom_chk)(fd, buf, n, buflen, flags, addr,
                                        addrlen));
}

EXPORT ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
    WRAP_IN(flags, REAL(recvmsg)(fd, msg, flags));
}

EXPORT ssize_t
write(int fd, const void *buf, size_t n)
{
    WRAP_OUT(0, n, REAL(write)(fd, buf, n));
}

EXPORT ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
    WRAP_OUT(0, iov_bytes(iov, iovcnt), REAL(writev)(fd, iov, iovcnt));
}

EXPORT ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
    WRAP_OUT(flags, n, REAL(send)(fd, buf, n, flags));
}

EXPORT ssize_t
sendto(int fd, const void *buf, size_t n, int flags,
       const struct sockaddr *addr, socklen_t addrlen)
{
    WRAP_OUT(flags, n, REAL(sendto)(fd, buf, n, flags, addr, addrlen));
}

EXPORT ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
    WRAP_OUT(flags, msg ? iov_bytes(msg->msg_iov, msg->msg_iovlen) : 0,
             REAL(sendmsg)(fd, msg, flags));
}

EXPORT ssize_t
sendfile(int fd, int in_fd, off_t *offset, size_t count)
{
    WRAP_OUT(0, count, REAL(sendfile)(fd, in_fd, offset, count));
}

EXPORT ssize_t
sendfile64(int fd, int in_fd, off64_t *offset, size_t count)
{
    WRAP_OUT(0, count, REAL(sendfile64)(fd, in_fd, offset, count));
}

EXPORT ssize_t
splice(int fd_in, off64_t *off_in, int fd_out, off64_t *off_out, size_t len,
       unsigned int flags)
{
    struct fdinfo *in = fd_info(fd_in), *out = fd_info(fd_out);
    if (LIKELY(!in && !out)) {
        return REAL(splice)(fd_in, off_in, fd_out, off_out, len, flags);
    }
    int nb = flags & SPLICE_F_NONBLOCK ? MSG_DONTWAIT : 0;
    uint64_t t0 = call_start(in ? in : out, nb);
    ssize_t r = REAL(splice)(fd_in, off_in, fd_out, off_out, len, flags);
    int error = errno;
    if (in) {
        count_in(in, r, t0);
    }
    if (out) {
        count_out(out, r, len, error, in ? 0 : t0);
    }
    errno = error;
    return r;
}

/* Waits. */

/* Whether a wait starting at 't0' counts (see 'thread_did_io'). */
static inline bool
wait_counts(uint64_t t0)
{
    if (thread_did_io) {
        thread_did_io = false;
        thread_io_wait = t0;
        return true;
    }
    return thread_io_wait && t0 - thread_io_wait < second_ticks;
}

#define WRAP_WAIT(CALL)                                         \
    if (LIKELY(!mb)) {                                          \
        return CALL;                                            \
    }                                                           \
    uint64_t t0 = now_ticks();                                  \
    int r = CALL;                                               \
    int error = errno;                                          \
    if (wait_counts(t0)) {                                      \
        count_wait(waited_ns(t0));                              \
    }                                                           \
    errno = error;                                              \
    return r;

EXPORT int
poll(struct pollfd *pfds, nfds_t n, int timeout)
{
    WRAP_WAIT(REAL(poll)(pfds, n, timeout));
}

EXPORT int
__poll_chk(struct pollfd *pfds, nfds_t n, int timeout, size_t len)
{
    WRAP_WAIT(REAL(__poll_chk)(pfds, n, timeout, len));
}

EXPORT int
ppoll(struct pollfd *pfds, nfds_t n, const struct timespec *timeout,
      const sigset_t *sigmask)
{
    WRAP_WAIT(REAL(ppoll)(pfds, n, timeout, sigmask));
}

EXPORT int
select(int n, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *timeout)
{
    WRAP_WAIT(REAL(select)(n, rd, wr, ex, timeout));
}

EXPORT int
pselect(int n, fd_set *rd, fd_set *wr, fd_set *ex,
        const struct timespec *timeout, const sigset_t *sigmask)
{
    WRAP_WAIT(REAL(pselect)(n, rd, wr, ex, timeout, sigmask));
}

EXPORT int
epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    WRAP_WAIT(REAL(epoll_wait)(epfd, events, max, timeout));
}

EXPORT int
epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout,
            const sigset_t *sigmask)
{
    WRAP_WAIT(REAL(epoll_pwait)(epfd, events, max, timeout, sigmask));
}

EXPORT int
epoll_pwait2(int epfd, struct epoll_event *events, int max,
             const struct timespec *timeout, const sigset_t *sigmask)
{
    WRAP_WAIT(REAL(epoll_pwait2)(epfd, events, max, timeout, sigmask));
}

/* Sockets: which side a descriptor is on, and whether it blocks. */

static bool
is_inet_stream(int fd)
{
    int domain = 0, type = 0;
    socklen_t len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len)
        || (domain != AF_INET && domain != AF_INET6)) {
        return false;
    }
    len = sizeof type;
    return !getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len)
           && type == SOCK_STREAM;
}

static void
accepted(int fd, int flags)
{
    if (fd >= 0 && fd < MAX_FDS) {
        int saved = errno;
        if (is_inet_stream(fd) && ensure_mb()) {
            fd_classify(fd, SIDE_UP, flags & SOCK_NONBLOCK, -1);
        } else {
            fd_forget(fd);
        }
        errno = saved;
    }
}

EXPORT int
accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    int r = REAL(accept)(fd, addr, len);
    accepted(r, 0);
    return r;
}

EXPORT int
accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    int r = REAL(accept4)(fd, addr, len, flags);
    accepted(r, flags);
    return r;
}

EXPORT int
connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    int r = REAL(connect)(fd, addr, len);
    int error = errno;
    if ((!r || error == EINPROGRESS) && (unsigned int) fd < MAX_FDS && addr
        && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)
        && is_inet_stream(fd) && ensure_mb()) {
        fd_classify(fd, SIDE_DOWN, fds[fd].nonblock,
                    ps_mb_peer(mb, addr, len));
    }
    errno = error;
    return r;
}

EXPORT int
socket(int domain, int type, int protocol)
{
    int r = REAL(socket)(domain, type, protocol);
    if (r >= 0 && r < MAX_FDS) {
        int error = errno;
        fd_forget(r);
        fds[r].nonblock = (type & SOCK_NONBLOCK) != 0;
        errno = error;
    }
    return r;
}

EXPORT int
close(int fd)
{
    if ((unsigned int) fd < MAX_FDS && (fds[fd].side || fds[fd].nonblock)) {
        fd_forget(fd);
    }
    return REAL(close)(fd);
}

EXPORT int
close_range(unsigned int first, unsigned int last, int flags)
{
    int r = REAL(close_range)(first, last, flags);
    if (!r && !(flags & CLOSE_RANGE_CLOEXEC)) {
        int error = errno;
        for (unsigned int fd = first; fd <= last && fd < MAX_FDS; fd++) {
            if (fds[fd].side || fds[fd].nonblock) {
                fd_forget(fd);
            }
        }
        errno = error;
    }
    return r;
}

EXPORT int
dup2(int oldfd, int newfd)
{
    int r = REAL(dup2)(oldfd, newfd);
    if (r >= 0 && oldfd != newfd) {
        int error = errno;
        fd_forget(newfd);
        errno = error;
    }
    return r;
}

EXPORT int
dup3(int oldfd, int newfd, int flags)
{
    int r = REAL(dup3)(oldfd, newfd, flags);
    if (r >= 0) {
        int error = errno;
        fd_forget(newfd);
        errno = error;
    }
    return r;
}

/* fcntl() and ioctl() take an int or a pointer; on x86-64 both travel in
 * a register, so passing the argument on as a pointer keeps either. */
static void
note_setfl(int fd, int cmd, void *arg, int r)
{
    if (!r && cmd == F_SETFL && (unsigned int) fd < MAX_FDS) {
        fds[fd].nonblock = ((int) (intptr_t) arg & O_NONBLOCK) != 0;
    }
}

EXPORT int
fcntl(int fd, int cmd, ...)
{
    va_list args;
    va_start(args, cmd);
    void *arg = va_arg(args, void *);
    va_end(args);
    int r = REAL(fcntl)(fd, cmd, arg);
    note_setfl(fd, cmd, arg, r);
    return r;
}

EXPORT int
fcntl64(int fd, int cmd, ...)
{
    va_list args;
    va_start(args, cmd);
    void *arg = va_arg(args, void *);
    va_end(args);
    int r = REAL(fcntl64)(fd, cmd, arg);
    note_setfl(fd, cmd, arg, r);
    return r;
}

EXPORT int
ioctl(int fd, unsigned long request, ...)
{
    va_list args;
    va_start(args, request);
    void *arg = va_arg(args, void *);
    va_end(args);
    int r = REAL(ioctl)(fd, request, arg);
    if (!r && request == FIONBIO && arg && (unsigned int) fd < MAX_FDS) {
        fds[fd].nonblock = *(const int *) arg != 0;
    }
    return r;
}
