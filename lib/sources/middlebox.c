/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Middleboxes: middlebox elements from the counter segments that the
 * preload library and the C API keep in /dev/shm (lib/perfsight/middlebox.h,
 * docs/middlebox.md).
 *
 * The processes of one program (nginx's workers, tinyproxy's children)
 * make one pair of elements, middlebox:VM:PROG and middlebox:VM:PROG:rev,
 * their counters summed.  So that these only grow while processes come and
 * go, the source keeps each segment's last reading and, when the segment's
 * process is gone (or it exec'd, which makes a new segment), adds that
 * reading to the program's base.  A segment whose process is dead is
 * removed.  A program without a live process has no element: it vanishes
 * from the window. */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "perfsight/middlebox.h"
#include "sources.h"
#include "util.h"

/* A peer's counters under a program, and its attribute names. */
struct mb_peer {
    char *name;                 /* "ADDR:PORT". */
    char *attr_names[4];        /* out_bytes@, out_time_ns@, in_bytes@,
                                 * in_time_ns@ + name. */
    struct ps_mb_peer_io base;  /* Of processes that are gone. */
    struct ps_mb_peer_io live;  /* Sum of this round's live segments. */
};

/* A program: one pair of elements. */
struct mb_prog {
    char *name;
    char *ids[PS_MB_N_DIRS];    /* Element ids, fwd and rev. */
    struct ps_mb_io base[PS_MB_N_DIRS];
    struct ps_mb_io live[PS_MB_N_DIRS];
    size_t n_live;              /* Live segments this round. */
    struct mb_peer *peers;
    size_t n_peers;
};

/* A segment seen before, and its last reading. */
struct mb_seg {
    int pid;
    bool seen;                  /* In this round's directory listing. */
    struct ps_mb_counts last;
};

/* A message given once, until the segment it is about goes away. */
struct mb_warned {
    char *text;
    bool seen;
};

struct mb_source {
    char *dir;
    char *procfs;
    char *vm;
    void (*warn)(const char *message);
    struct mb_seg *segs;
    size_t n_segs;
    struct mb_prog *progs;
    size_t n_progs;
    struct mb_warned *warned;
    size_t n_warned;
};

static int
mb_init(const struct ps_source_env *env, void **statep)
{
    struct mb_source *s = ps_xcalloc(1, sizeof *s);
    s->dir = ps_xstrdup(env->middlebox_dir && *env->middlebox_dir
                        ? env->middlebox_dir : "/dev/shm");
    s->procfs = ps_xstrdup(env->procfs ? env->procfs : "/proc");
    const char *vm = env->names ? ps_names_vm(env->names, env->host) : NULL;
    if (!vm) {
        vm = (env->middlebox_vm && *env->middlebox_vm ? env->middlebox_vm
              : env->host ? env->host : "localhost");
    }
    s->vm = ps_xstrdup(vm);
    s->warn = env->warn;
    *statep = s;
    return 0;
}

static void
mb_destroy(void *state)
{
    struct mb_source *s = state;
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->n_progs; i++) {
        struct mb_prog *p = &s->progs[i];
        for (size_t j = 0; j < p->n_peers; j++) {
            free(p->peers[j].name);
            for (size_t k = 0; k < 4; k++) {
                free(p->peers[j].attr_names[k]);
            }
        }
        free(p->peers);
        free(p->name);
        free(p->ids[0]);
        free(p->ids[1]);
    }
    for (size_t i = 0; i < s->n_warned; i++) {
        free(s->warned[i].text);
    }
    free(s->warned);
    free(s->progs);
    free(s->segs);
    free(s->dir);
    free(s->procfs);
    free(s->vm);
    free(s);
}

static void
warn_once(struct mb_source *s, char *text)
{
    for (size_t i = 0; i < s->n_warned; i++) {
        if (!strcmp(s->warned[i].text, text)) {
            s->warned[i].seen = true;
            free(text);
            return;
        }
    }
    if (s->warn) {
        s->warn(text);
    }
    s->warned = ps_xrealloc(s->warned, (s->n_warned + 1) * sizeof *s->warned);
    s->warned[s->n_warned++] = (struct mb_warned) { text, true };
}

static struct mb_prog *
find_prog(struct mb_source *s, const char *name)
{
    for (size_t i = 0; i < s->n_progs; i++) {
        if (!strcmp(s->progs[i].name, name)) {
            return &s->progs[i];
        }
    }
    s->progs = ps_xrealloc(s->progs, (s->n_progs + 1) * sizeof *s->progs);
    struct mb_prog *p = &s->progs[s->n_progs++];
    memset(p, 0, sizeof *p);
    p->name = ps_xstrdup(name);
    p->ids[PS_MB_FWD] = ps_xasprintf("middlebox:%s:%s", s->vm, name);
    p->ids[PS_MB_REV] = ps_xasprintf("middlebox:%s:%s:rev", s->vm, name);
    return p;
}

static struct mb_peer *
find_peer(struct mb_prog *p, const char *name)
{
    for (size_t i = 0; i < p->n_peers; i++) {
        if (!strcmp(p->peers[i].name, name)) {
            return &p->peers[i];
        }
    }
    p->peers = ps_xrealloc(p->peers, (p->n_peers + 1) * sizeof *p->peers);
    struct mb_peer *peer = &p->peers[p->n_peers++];
    memset(peer, 0, sizeof *peer);
    peer->name = ps_xstrdup(name);
    peer->attr_names[0] = ps_xasprintf("out_bytes@%s", name);
    peer->attr_names[1] = ps_xasprintf("out_time_ns@%s", name);
    peer->attr_names[2] = ps_xasprintf("in_bytes@%s", name);
    peer->attr_names[3] = ps_xasprintf("in_time_ns@%s", name);
    return peer;
}

static void
io_add(struct ps_mb_io *dst, const struct ps_mb_io *src)
{
    dst->in_bytes += src->in_bytes;
    dst->out_bytes += src->out_bytes;
    dst->in_time_ns += src->in_time_ns;
    dst->out_time_ns += src->out_time_ns;
}

static void
peer_io_add(struct ps_mb_peer_io *dst, const struct ps_mb_peer_io *src)
{
    dst->out_bytes += src->out_bytes;
    dst->out_time_ns += src->out_time_ns;
    dst->in_bytes += src->in_bytes;
    dst->in_time_ns += src->in_time_ns;
}

/* Adds reading 'c' to its program's base (the process is gone) or to this
 * round's live sums. */
static void
account(struct mb_source *s, const struct ps_mb_counts *c, bool live)
{
    struct mb_prog *p = find_prog(s, c->prog);
    for (int d = 0; d < PS_MB_N_DIRS; d++) {
        io_add(live ? &p->live[d] : &p->base[d], &c->dir[d]);
    }
    for (size_t i = 0; i < c->n_peers; i++) {
        struct mb_peer *peer = find_peer(p, c->peers[i].name);
        peer_io_add(live ? &peer->live : &peer->base, &c->peers[i].io);
    }
    p->n_live += live;
}

static struct mb_seg *
find_seg(struct mb_source *s, int pid)
{
    for (size_t i = 0; i < s->n_segs; i++) {
        if (s->segs[i].pid == pid) {
            return &s->segs[i];
        }
    }
    return NULL;
}

static void
retire_seg(struct mb_source *s, struct mb_seg *seg)
{
    account(s, &seg->last, false);
    *seg = s->segs[--s->n_segs];
}

/* Field 22 of /proc/PID/stat, or 0 if it cannot be read. */
static uint64_t
proc_start_time(const char *procfs, int pid)
{
    char path[256], *text = NULL;
    uint64_t start = 0;
    snprintf(path, sizeof path, "%s/%d/stat", procfs, pid);
    if (!ps_read_file(path, &text, NULL)) {
        char *p = strrchr(text, ')');
        for (int field = 2; p && field < 22; field++) {
            p = strchr(p + 1, ' ');
        }
        start = p ? strtoull(p + 1, NULL, 10) : 0;
    }
    free(text);
    return start;
}

/* Reads the segment of 'pid' at 'path'. */
static void
read_seg(struct mb_source *s, const char *path, int pid)
{
    char proc[256];
    struct stat st;
    snprintf(proc, sizeof proc, "%s/%d", s->procfs, pid);
    if (stat(proc, &st) && errno == ENOENT) {
        /* Dead: its last reading (if any) goes to the base in the sweep
         * after the listing, and the file goes now. */
        unlink(path);
        return;
    }

    struct ps_mb_counts c;
    char *error = NULL;
    int retval = ps_mb_read(path, pid, st.st_uid, &c, &error);
    if (retval) {
        if (error) {
            warn_once(s, error);
        }
        return;
    }
    if (c.start_time && c.start_time != proc_start_time(s->procfs, pid)) {
        /* Left by an earlier process of this pid. */
        unlink(path);
        return;
    }

    struct mb_seg *seg = find_seg(s, pid);
    if (seg && (seg->last.created_ns != c.created_ns
                || strcmp(seg->last.prog, c.prog))) {
        retire_seg(s, seg);     /* The process exec'd: a new segment. */
        seg = NULL;
    }
    if (!seg) {
        s->segs = ps_xrealloc(s->segs, (s->n_segs + 1) * sizeof *s->segs);
        seg = &s->segs[s->n_segs++];
        seg->pid = pid;
    }
    seg->last = c;
    seg->seen = true;
}

static void
emit(struct mb_source *s, struct mb_prog *p, struct ps_samples *samples)
{
    for (int d = 0; d < PS_MB_N_DIRS; d++) {
        struct ps_sample *e = ps_samples_add_static(samples, PS_MIDDLEBOX,
                                                    p->ids[d]);
        ps_sample_set(e, PS_IN_BYTES, p->base[d].in_bytes
                      + p->live[d].in_bytes);
        ps_sample_set(e, PS_OUT_BYTES, p->base[d].out_bytes
                      + p->live[d].out_bytes);
        ps_sample_set(e, PS_IN_TIME_NS, p->base[d].in_time_ns
                      + p->live[d].in_time_ns);
        ps_sample_set(e, PS_OUT_TIME_NS, p->base[d].out_time_ns
                      + p->live[d].out_time_ns);
        ps_sample_set_vm(e, s->vm);
        for (size_t i = 0; i < p->n_peers; i++) {
            const struct mb_peer *peer = &p->peers[i];
            if (d == PS_MB_FWD) {
                ps_sample_add_extra(e, peer->attr_names[0],
                                    peer->base.out_bytes
                                    + peer->live.out_bytes);
                ps_sample_add_extra(e, peer->attr_names[1],
                                    peer->base.out_time_ns
                                    + peer->live.out_time_ns);
            } else {
                ps_sample_add_extra(e, peer->attr_names[2],
                                    peer->base.in_bytes
                                    + peer->live.in_bytes);
                ps_sample_add_extra(e, peer->attr_names[3],
                                    peer->base.in_time_ns
                                    + peer->live.in_time_ns);
            }
        }
    }
}

static int
mb_sample(void *state, struct ps_samples *samples)
{
    struct mb_source *s = state;
    DIR *dir = opendir(s->dir);
    if (!dir) {
        return errno == ENOENT ? 0 : errno;
    }
    for (size_t i = 0; i < s->n_segs; i++) {
        s->segs[i].seen = false;
    }
    for (size_t i = 0; i < s->n_warned; i++) {
        s->warned[i].seen = false;
    }

    size_t prefix_len = strlen(PS_MB_PREFIX);
    for (struct dirent *de; (de = readdir(dir)) != NULL; ) {
        const char *digits = de->d_name + prefix_len;
        char *end;
        if (strncmp(de->d_name, PS_MB_PREFIX, prefix_len)
            || *digits < '1' || *digits > '9') {
            continue;
        }
        long pid = strtol(digits, &end, 10);
        if (*end || pid <= 0 || pid > 0x7fffffff) {
            continue;
        }
        char *path = ps_xasprintf("%s/%s", s->dir, de->d_name);
        read_seg(s, path, pid);
        free(path);
    }
    closedir(dir);

    /* Segments gone from the listing, or not read this round (dead,
     * replaced, or no longer valid), are retired. */
    for (size_t i = 0; i < s->n_segs; ) {
        if (s->segs[i].seen) {
            i++;
        } else {
            retire_seg(s, &s->segs[i]);
        }
    }
    for (size_t i = 0; i < s->n_warned; ) {
        if (s->warned[i].seen) {
            i++;
        } else {
            free(s->warned[i].text);
            s->warned[i] = s->warned[--s->n_warned];
        }
    }

    for (size_t i = 0; i < s->n_progs; i++) {
        struct mb_prog *p = &s->progs[i];
        memset(p->live, 0, sizeof p->live);
        for (size_t j = 0; j < p->n_peers; j++) {
            memset(&p->peers[j].live, 0, sizeof p->peers[j].live);
        }
        p->n_live = 0;
    }
    for (size_t i = 0; i < s->n_segs; i++) {
        account(s, &s->segs[i].last, true);
    }
    for (size_t i = 0; i < s->n_progs; i++) {
        struct mb_prog *p = &s->progs[i];
        if (p->n_live) {
            emit(s, p, samples);
        } else {
            /* No process left: the element vanishes, and a program
             * started again counts from zero. */
            memset(p->base, 0, sizeof p->base);
            for (size_t j = 0; j < p->n_peers; j++) {
                memset(&p->peers[j].base, 0, sizeof p->peers[j].base);
            }
        }
    }
    return 0;
}

const struct ps_source_class ps_middlebox_class = {
    .name = "middlebox",
    .init = mb_init,
    .sample = mb_sample,
    .destroy = mb_destroy,
};
