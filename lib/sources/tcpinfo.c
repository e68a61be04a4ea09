/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* TCP_INFO: middlebox elements for programs that cannot be preloaded,
 * from their sockets' TCP_INFO as sock_diag reports it (docs/middlebox.md,
 * "Without the preload library").
 *
 * The processes named by the setting tcpinfo-programs are found in /proc,
 * their sockets by the inodes of their descriptors, and every TCP socket
 * of each process's network namespace is dumped through NETLINK_SOCK_DIAG
 * with its tcp_info.  A socket whose local port one of the program's
 * listening sockets has is on its upstream side, any other on its
 * downstream side (DESIGN.md §2).  Per element:
 *
 *   out_bytes    tcpi_bytes_acked of its output side's sockets
 *   in_bytes     tcpi_bytes_received of its input side's sockets
 *   out_time_ns  tcpi_busy_time of its output side's sockets: time with
 *                bytes not yet acknowledged, which is time waiting for the
 *                peer to take them (a sender at capacity is busy as long
 *                as its bytes take at capacity, a blocked one longer)
 *   in_time_ns   what a process that moved data in the round did not
 *                spend on the CPU (utime + stime), runnable but not running
 *                (schedstat's run delay), throttled (its CPU cgroup's
 *                throttled time), or busy writing: time it waited for
 *                input
 *
 * and out_bytes@PEER, out_time_ns@PEER and in_bytes@PEER per downstream
 * peer.  Counters only grow: the source adds each socket's and process's
 * change since the previous round, a new socket counting from its start. */

#include <config.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <libmnl/libmnl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "sources.h"
#include "util.h"

enum { TI_FWD, TI_REV, TI_N_DIRS };

/* The kernel's TCP_LISTEN (include/net/tcp_states.h), which no header
 * that can be included with <linux/tcp.h> defines. */
#define TI_TCP_LISTEN 10

struct ti_io {
    uint64_t in_bytes, out_bytes, in_time_ns, out_time_ns;
};

struct ti_peer {
    char *name;                 /* "ADDR:PORT". */
    char *attrs[3];             /* out_bytes@, out_time_ns@, in_bytes@. */
    uint64_t out_bytes, out_time_ns, in_bytes;
};

struct ti_prog {
    char *name;
    char *ids[TI_N_DIRS];
    struct ti_io io[TI_N_DIRS];
    struct ti_peer *peers;
    size_t n_peers;
    bool live;                  /* Has a process this round. */
};

/* A process of a program, and what it had used at the last round. */
struct ti_proc {
    int pid;
    uint64_t start_time;
    uint64_t netns;
    size_t prog;
    int64_t t_ns;               /* CLOCK_MONOTONIC of the last reading. */
    uint64_t busy_ns;           /* CPU time + run delay, then. */
    uint64_t busy_now;          /* The same, this round. */
    bool seen, fresh;           /* Seen this round; first seen now. */
    uint64_t moved;             /* Bytes its sockets moved this round. */
    uint64_t out_ns[TI_N_DIRS]; /* Busy time of its sockets this round. */
};

/* A socket, and its counters at the last round. */
struct ti_sock {
    uint64_t netns, inode;
    uint64_t acked, received, busy_us;
    bool seen;
};

/* A listening port of a program, in a namespace. */
struct ti_listen {
    uint64_t netns;
    size_t prog;
    uint16_t port;
};

/* One network namespace's sock_diag socket. */
struct ti_netns {
    uint64_t ino;
    struct mnl_socket *nl;
};

struct ti_source {
    char *procfs;
    char *cgroupfs;             /* cgroup v2's mount. */
    char *vm;
    struct ti_prog *progs;
    size_t n_progs;
    struct ti_proc *procs;
    size_t n_procs;
    struct ti_sock *socks;
    size_t n_socks;
    struct ti_netns *netns;
    size_t n_netns;
    void (*warn)(const char *);
    bool warned;
    long clk_tck;

    /* This round's scratch. */
    struct ps_index *inodes;    /* "NETNS:INODE" -> proc index. */
    struct ti_listen *listens;
    size_t n_listens, allocated_listens;
    uint32_t seq;
};

static void
ti_destroy(void *state)
{
    struct ti_source *s = state;
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n_progs; i++) {
        struct ti_prog *p = &s->progs[i];
        for (size_t j = 0; j < p->n_peers; j++) {
            free(p->peers[j].name);
            for (int k = 0; k < 3; k++) {
                free(p->peers[j].attrs[k]);
            }
        }
        free(p->peers);
        free(p->name);
        free(p->ids[0]);
        free(p->ids[1]);
    }
    for (size_t i = 0; i < s->n_netns; i++) {
        mnl_socket_close(s->netns[i].nl);
    }
    free(s->netns);
    free(s->progs);
    free(s->procs);
    free(s->socks);
    free(s->listens);
    free(s->procfs);
    free(s->cgroupfs);
    free(s->vm);
    free(s);
}

static int
ti_init(const struct ps_source_env *env, void **statep)
{
    struct ti_source *s = ps_xcalloc(1, sizeof *s);
    s->procfs = ps_xstrdup(env->procfs ? env->procfs : "/proc");
    s->cgroupfs = ps_xstrdup(env->cgroupfs && *env->cgroupfs
                             ? env->cgroupfs : "/sys/fs/cgroup");
    const char *vm = env->names ? ps_names_vm(env->names, env->host) : NULL;
    if (!vm) {
        vm = (env->middlebox_vm && *env->middlebox_vm ? env->middlebox_vm
              : env->host ? env->host : "localhost");
    }
    s->vm = ps_xstrdup(vm);
    s->warn = env->warn;
    s->clk_tck = sysconf(_SC_CLK_TCK);

    const char *list = env->tcpinfo_programs ? env->tcpinfo_programs : "";
    while (*list) {
        size_t len = strcspn(list, ",");
        if (len) {
            s->progs = ps_xrealloc(s->progs,
                                   (s->n_progs + 1) * sizeof *s->progs);
            struct ti_prog *p = &s->progs[s->n_progs++];
            memset(p, 0, sizeof *p);
            p->name = ps_xasprintf("%.*s", (int) len, list);
            p->ids[TI_FWD] = ps_xasprintf("middlebox:%s:%s", s->vm, p->name);
            p->ids[TI_REV] = ps_xasprintf("middlebox:%s:%s:rev", s->vm,
                                          p->name);
        }
        list += len + (list[len] == ',');
    }
    *statep = s;
    return 0;
}

static void
say_once(struct ti_source *s, const char *message)
{
    if (!s->warned && s->warn) {
        s->warn(message);
    }
    s->warned = true;
}

/* Field 'n' (from 1) of /proc/PID/stat, or 0. */
static uint64_t
stat_field(const char *text, int n)
{
    const char *p = strrchr(text, ')');
    for (int field = 2; p && field < n; field++) {
        p = strchr(p + 1, ' ');
    }
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* The time the CPU controller's cgroup of process 'pid' was throttled
 * for, in ns, or 0: a throttled process is not waiting for input, and
 * schedstat's run delay does not hold its throttled time on every
 * kernel. */
static uint64_t
proc_throttled_ns(const struct ti_source *s, int pid)
{
    char path[512], *text = NULL, *stat = NULL;
    uint64_t ns = 0;

    snprintf(path, sizeof path, "%s/%d/cgroup", s->procfs, pid);
    if (ps_read_file(path, &text, NULL)) {
        return 0;
    }
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *controllers = strchr(line, ':');
        char *cgroup = controllers ? strchr(controllers + 1, ':') : NULL;
        if (!cgroup) {
            continue;
        }
        *cgroup++ = '\0';
        controllers++;
        const char *key;
        uint64_t scale;
        if (!*controllers) {
            snprintf(path, sizeof path, "%s%s/cpu.stat", s->cgroupfs, cgroup);
            key = "throttled_usec ";
            scale = 1000;
        } else if (strstr(controllers, "cpu")
                   && !strstr(controllers, "cpuset")) {
            snprintf(path, sizeof path, "/sys/fs/cgroup/%s%s/cpu.stat",
                     controllers, cgroup);
            key = "throttled_time ";
            scale = 1;
        } else {
            continue;
        }
        if (!ps_read_file(path, &stat, NULL)) {
            const char *p = strstr(stat, key);
            ns += p ? strtoull(p + strlen(key), NULL, 10) * scale : 0;
        }
        free(stat);
        stat = NULL;
    }
    free(text);
    return ns;
}

/* CPU time plus run delay of process 'pid', in ns; 0 if unreadable. */
static uint64_t
proc_busy_ns(const struct ti_source *s, int pid, uint64_t *start_time)
{
    char path[256], *text = NULL;
    uint64_t busy = 0;

    snprintf(path, sizeof path, "%s/%d/stat", s->procfs, pid);
    if (ps_read_file(path, &text, NULL)) {
        return 0;
    }
    uint64_t ticks = stat_field(text, 14) + stat_field(text, 15);
    *start_time = stat_field(text, 22);
    busy = ticks * (1000000000 / (s->clk_tck > 0 ? s->clk_tck : 100));
    free(text);

    snprintf(path, sizeof path, "%s/%d/schedstat", s->procfs, pid);
    if (!ps_read_file(path, &text, NULL)) {
        const char *sp = strchr(text, ' ');
        busy += sp ? strtoull(sp + 1, NULL, 10) : 0;
    }
    free(text);
    return busy;
}

static struct ti_proc *
find_proc(struct ti_source *s, int pid, uint64_t start_time)
{
    for (size_t i = 0; i < s->n_procs; i++) {
        if (s->procs[i].pid == pid && s->procs[i].start_time == start_time) {
            return &s->procs[i];
        }
    }
    return NULL;
}

static void
index_inode(struct ti_source *s, uint64_t netns, uint64_t inode, size_t proc)
{
    char key[48];
    int len = snprintf(key, sizeof key, "%llx:%llx",
                       (unsigned long long) netns,
                       (unsigned long long) inode);
    size_t dummy;
    if (!ps_index_find(s->inodes, key, len, &dummy)) {
        ps_index_insert(s->inodes, key, len, proc);
    }
}

/* Finds this round's processes of the programs and their sockets. */
static void
scan_procs(struct ti_source *s)
{
    DIR *dir = opendir(s->procfs);
    if (!dir) {
        return;
    }
    for (struct dirent *de; (de = readdir(dir)) != NULL; ) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0) {
            continue;
        }
        char path[256], *comm = NULL;
        snprintf(path, sizeof path, "%s/%ld/comm", s->procfs, pid);
        if (ps_read_file(path, &comm, NULL)) {
            continue;
        }
        comm[strcspn(comm, "\n")] = '\0';
        size_t prog = SIZE_MAX;
        for (size_t i = 0; i < s->n_progs; i++) {
            if (!strcmp(comm, s->progs[i].name)) {
                prog = i;
            }
        }
        free(comm);
        struct stat st;
        snprintf(path, sizeof path, "%s/%ld/ns/net", s->procfs, pid);
        if (prog == SIZE_MAX || stat(path, &st)) {
            continue;
        }

        uint64_t start_time = 0;
        uint64_t busy = (proc_busy_ns(s, pid, &start_time)
                         + proc_throttled_ns(s, pid));
        struct ti_proc *p = find_proc(s, pid, start_time);
        if (!p) {
            s->procs = ps_xrealloc(s->procs,
                                   (s->n_procs + 1) * sizeof *s->procs);
            p = &s->procs[s->n_procs++];
            memset(p, 0, sizeof *p);
            p->pid = pid;
            p->start_time = start_time;
            p->fresh = true;
        } else {
            p->fresh = false;
        }
        p->seen = true;
        p->prog = prog;
        p->netns = st.st_ino;
        p->moved = 0;
        memset(p->out_ns, 0, sizeof p->out_ns);
        p->busy_now = busy;
        s->progs[prog].live = true;

        snprintf(path, sizeof path, "%s/%ld/fd", s->procfs, pid);
        DIR *fds = opendir(path);
        for (struct dirent *fe; fds && (fe = readdir(fds)) != NULL; ) {
            char link[512], target[64];
            snprintf(link, sizeof link, "%s/%ld/fd/%s", s->procfs, pid,
                     fe->d_name);
            ssize_t n = readlink(link, target, sizeof target - 1);
            unsigned long long inode;
            if (n > 0) {
                target[n] = '\0';
                if (sscanf(target, "socket:[%llu]", &inode) == 1) {
                    index_inode(s, p->netns, inode, p - s->procs);
                }
            }
        }
        if (fds) {
            closedir(fds);
        }
    }
    closedir(dir);
}

/* The sock_diag socket of the namespace of process 'pid', opened inside it
 * (a netlink socket stays in the namespace it was made in). */
static struct mnl_socket *
netns_socket(struct ti_source *s, uint64_t ino, int pid)
{
    for (size_t i = 0; i < s->n_netns; i++) {
        if (s->netns[i].ino == ino) {
            return s->netns[i].nl;
        }
    }
    char path[256];
    snprintf(path, sizeof path, "%s/%d/ns/net", s->procfs, pid);
    int target = open(path, O_RDONLY | O_CLOEXEC);
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    struct mnl_socket *nl = NULL;
    if (target >= 0 && self >= 0 && !setns(target, CLONE_NEWNET)) {
        nl = mnl_socket_open(NETLINK_SOCK_DIAG);
        if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
            mnl_socket_close(nl);
            nl = NULL;
        }
        if (setns(self, CLONE_NEWNET)) {
            abort();            /* Sampling in the wrong namespace. */
        }
    }
    if (target >= 0) {
        close(target);
    }
    if (self >= 0) {
        close(self);
    }
    if (!nl) {
        say_once(s, "tcpinfo: cannot open sock_diag in a middlebox's "
                 "network namespace (needs CAP_SYS_ADMIN): its elements "
                 "are missing");
        return NULL;
    }
    s->netns = ps_xrealloc(s->netns, (s->n_netns + 1) * sizeof *s->netns);
    s->netns[s->n_netns++] = (struct ti_netns) { .ino = ino, .nl = nl };
    return nl;
}

/* One socket of the dump, kept until the whole namespace is read. */
struct ti_entry {
    size_t proc;
    uint64_t inode;
    uint16_t local_port;
    char peer[64];
    bool has_info;
    uint64_t acked, received, busy_us;
};

struct ti_dump {
    struct ti_source *s;
    uint64_t netns;
    struct ti_entry *entries;
    size_t n, allocated;
};

static void
format_peer(const struct inet_diag_msg *m, char *buf, size_t size)
{
    char addr[INET6_ADDRSTRLEN];
    int port = ntohs(m->id.idiag_dport);
    if (m->idiag_family == AF_INET) {
        inet_ntop(AF_INET, m->id.idiag_dst, addr, sizeof addr);
        snprintf(buf, size, "%s:%d", addr, port);
    } else {
        static const uint8_t v4_mapped[12] = {
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
        };
        const uint8_t *a = (const uint8_t *) m->id.idiag_dst;
        if (!memcmp(a, v4_mapped, sizeof v4_mapped)) {
            inet_ntop(AF_INET, a + 12, addr, sizeof addr);
            snprintf(buf, size, "%s:%d", addr, port);
        } else {
            inet_ntop(AF_INET6, a, addr, sizeof addr);
            snprintf(buf, size, "[%s]:%d", addr, port);
        }
    }
}

static int
dump_cb(const struct nlmsghdr *nlh, void *data)
{
    struct ti_dump *d = data;
    struct ti_source *s = d->s;
    const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
    if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY
        || nlh->nlmsg_len < mnl_nlmsg_size(sizeof *m)) {
        return MNL_CB_OK;
    }
    char key[48];
    int len = snprintf(key, sizeof key, "%llx:%llx",
                       (unsigned long long) d->netns,
                       (unsigned long long) m->idiag_inode);
    size_t proc;
    if (!m->idiag_inode || !ps_index_find(s->inodes, key, len, &proc)) {
        return MNL_CB_OK;
    }
    if (m->idiag_state == TI_TCP_LISTEN) {
        s->listens = ps_grow(s->listens, &s->allocated_listens,
                             s->n_listens + 1, sizeof *s->listens);
        s->listens[s->n_listens++] = (struct ti_listen) {
            .netns = d->netns, .prog = s->procs[proc].prog,
            .port = ntohs(m->id.idiag_sport),
        };
        return MNL_CB_OK;
    }

    d->entries = ps_grow(d->entries, &d->allocated, d->n + 1,
                         sizeof *d->entries);
    struct ti_entry *e = &d->entries[d->n++];
    memset(e, 0, sizeof *e);
    e->proc = proc;
    e->inode = m->idiag_inode;
    e->local_port = ntohs(m->id.idiag_sport);
    format_peer(m, e->peer, sizeof e->peer);

    const struct nlattr *attr;
    mnl_attr_for_each (attr, nlh, sizeof *m) {
        if (mnl_attr_get_type(attr) != INET_DIAG_INFO) {
            continue;
        }
        const struct tcp_info *ti = mnl_attr_get_payload(attr);
        size_t have = mnl_attr_get_payload_len(attr);
        if (have >= offsetof(struct tcp_info, tcpi_busy_time)
                    + sizeof ti->tcpi_busy_time) {
            e->has_info = true;
            e->acked = ti->tcpi_bytes_acked;
            e->received = ti->tcpi_bytes_received;
            e->busy_us = ti->tcpi_busy_time;
        }
    }
    return MNL_CB_OK;
}

static int
dump_family(struct ti_source *s, struct mnl_socket *nl, int family,
            struct ti_dump *d)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++s->seq;
    struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh,
                                                              sizeof *req);
    memset(req, 0, sizeof *req);
    req->sdiag_family = family;
    req->sdiag_protocol = IPPROTO_TCP;
    req->idiag_states = ~0u;
    req->idiag_ext = 1u << (INET_DIAG_INFO - 1);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        return errno;
    }
    unsigned int portid = mnl_socket_get_portid(nl);
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (n < 0) {
            return errno;
        }
        int ret = mnl_cb_run(buf, n, s->seq, portid, dump_cb, d);
        if (ret <= MNL_CB_STOP) {
            return ret < 0 ? errno : 0;
        }
    }
}

static bool
is_upstream(const struct ti_source *s, uint64_t netns, size_t prog,
            uint16_t port)
{
    for (size_t i = 0; i < s->n_listens; i++) {
        const struct ti_listen *l = &s->listens[i];
        if (l->netns == netns && l->prog == prog && l->port == port) {
            return true;
        }
    }
    return false;
}

static struct ti_sock *
find_sock(struct ti_source *s, uint64_t netns, uint64_t inode)
{
    for (size_t i = 0; i < s->n_socks; i++) {
        if (s->socks[i].netns == netns && s->socks[i].inode == inode) {
            return &s->socks[i];
        }
    }
    s->socks = ps_xrealloc(s->socks, (s->n_socks + 1) * sizeof *s->socks);
    struct ti_sock *k = &s->socks[s->n_socks++];
    memset(k, 0, sizeof *k);
    k->netns = netns;
    k->inode = inode;
    return k;
}

static struct ti_peer *
find_peer(struct ti_prog *p, const char *name)
{
    for (size_t i = 0; i < p->n_peers; i++) {
        if (!strcmp(p->peers[i].name, name)) {
            return &p->peers[i];
        }
    }
    p->peers = ps_xrealloc(p->peers, (p->n_peers + 1) * sizeof *p->peers);
    struct ti_peer *peer = &p->peers[p->n_peers++];
    memset(peer, 0, sizeof *peer);
    peer->name = ps_xstrdup(name);
    peer->attrs[0] = ps_xasprintf("out_bytes@%s", name);
    peer->attrs[1] = ps_xasprintf("out_time_ns@%s", name);
    peer->attrs[2] = ps_xasprintf("in_bytes@%s", name);
    return peer;
}

static uint64_t
grew(uint64_t now, uint64_t before)
{
    return now >= before ? now - before : now;
}

/* Adds one socket's change since the last round to its program. */
static void
account_sock(struct ti_source *s, uint64_t netns, const struct ti_entry *e)
{
    struct ti_proc *proc = &s->procs[e->proc];
    struct ti_prog *p = &s->progs[proc->prog];
    struct ti_sock *k = find_sock(s, netns, e->inode);
    uint64_t acked = grew(e->acked, k->acked);
    uint64_t received = grew(e->received, k->received);
    uint64_t busy_ns = grew(e->busy_us, k->busy_us) * 1000;
    k->acked = e->acked;
    k->received = e->received;
    k->busy_us = e->busy_us;
    k->seen = true;

    if (is_upstream(s, netns, proc->prog, e->local_port)) {
        p->io[TI_FWD].in_bytes += received;
        p->io[TI_REV].out_bytes += acked;
        p->io[TI_REV].out_time_ns += busy_ns;
        proc->out_ns[TI_REV] += busy_ns;
    } else {
        struct ti_peer *peer = find_peer(p, e->peer);
        p->io[TI_FWD].out_bytes += acked;
        p->io[TI_FWD].out_time_ns += busy_ns;
        p->io[TI_REV].in_bytes += received;
        peer->out_bytes += acked;
        peer->out_time_ns += busy_ns;
        peer->in_bytes += received;
        proc->out_ns[TI_FWD] += busy_ns;
    }
    proc->moved += acked + received;
}

/* The time a process that moved data waited for input: what it did not
 * spend on the CPU, waiting for it, or waiting to write. */
static void
account_proc(struct ti_source *s, struct ti_proc *proc, int64_t now_ns)
{
    if (!proc->fresh && proc->moved) {
        struct ti_prog *p = &s->progs[proc->prog];
        uint64_t elapsed = now_ns > proc->t_ns ? now_ns - proc->t_ns : 0;
        uint64_t used = grew(proc->busy_now, proc->busy_ns);
        uint64_t idle = elapsed > used ? elapsed - used : 0;
        for (int d = 0; d < TI_N_DIRS; d++) {
            if (idle > proc->out_ns[d]) {
                p->io[d].in_time_ns += idle - proc->out_ns[d];
            }
        }
    }
    proc->t_ns = now_ns;
    proc->busy_ns = proc->busy_now;
}

static void
emit(const struct ti_source *s, const struct ti_prog *p,
     struct ps_samples *samples)
{
    for (int d = 0; d < TI_N_DIRS; d++) {
        struct ps_sample *e = ps_samples_add_static(samples, PS_MIDDLEBOX,
                                                    p->ids[d]);
        ps_sample_set(e, PS_IN_BYTES, p->io[d].in_bytes);
        ps_sample_set(e, PS_OUT_BYTES, p->io[d].out_bytes);
        ps_sample_set(e, PS_IN_TIME_NS, p->io[d].in_time_ns);
        ps_sample_set(e, PS_OUT_TIME_NS, p->io[d].out_time_ns);
        ps_sample_set_vm(e, s->vm);
        for (size_t i = 0; i < p->n_peers; i++) {
            const struct ti_peer *peer = &p->peers[i];
            if (d == TI_FWD) {
                ps_sample_add_extra(e, peer->attrs[0], peer->out_bytes);
                ps_sample_add_extra(e, peer->attrs[1], peer->out_time_ns);
            } else {
                ps_sample_add_extra(e, peer->attrs[2], peer->in_bytes);
            }
        }
    }
}

static int
ti_sample(void *state, struct ps_samples *samples)
{
    struct ti_source *s = state;
    if (!s->n_progs) {
        return 0;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now_ns = ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;

    for (size_t i = 0; i < s->n_procs; i++) {
        s->procs[i].seen = false;
    }
    for (size_t i = 0; i < s->n_socks; i++) {
        s->socks[i].seen = false;
    }
    for (size_t i = 0; i < s->n_progs; i++) {
        s->progs[i].live = false;
    }
    s->inodes = ps_index_create();
    s->n_listens = 0;

    scan_procs(s);

    int error = 0;
    for (size_t i = 0; i < s->n_procs; i++) {
        const struct ti_proc *proc = &s->procs[i];
        bool done = false;
        for (size_t j = 0; j < i; j++) {
            done |= s->procs[j].seen && s->procs[j].netns == proc->netns;
        }
        if (!proc->seen || done) {
            continue;
        }
        struct mnl_socket *nl = netns_socket(s, proc->netns, proc->pid);
        if (!nl) {
            continue;
        }
        struct ti_dump d = { .s = s, .netns = proc->netns };
        int retval = dump_family(s, nl, AF_INET, &d);
        if (!retval) {
            retval = dump_family(s, nl, AF_INET6, &d);
        }
        error = error ? error : retval;
        for (size_t k = 0; k < d.n; k++) {
            if (d.entries[k].has_info) {
                account_sock(s, proc->netns, &d.entries[k]);
            }
        }
        free(d.entries);
    }
    ps_index_destroy(s->inodes);
    s->inodes = NULL;

    /* Processes: their input waits; the gone ones are forgotten. */
    for (size_t i = 0; i < s->n_procs; ) {
        struct ti_proc *proc = &s->procs[i];
        if (!proc->seen) {
            s->procs[i] = s->procs[--s->n_procs];
            continue;
        }
        account_proc(s, proc, now_ns);
        i++;
    }
    for (size_t i = 0; i < s->n_socks; ) {
        if (s->socks[i].seen) {
            i++;
        } else {
            s->socks[i] = s->socks[--s->n_socks];
        }
    }

    for (size_t i = 0; i < s->n_progs; i++) {
        struct ti_prog *p = &s->progs[i];
        if (p->live) {
            emit(s, p, samples);
        }
    }
    return error;
}

const struct ps_source_class ps_tcpinfo_class = {
    .name = "tcpinfo",
    .init = ti_init,
    .sample = ti_sample,
    .destroy = ti_destroy,
};
