/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* CPU utilisation: "cpu:host" from /proc/stat and "cpu:<vm>" from the
 * cgroup v2 cpu.stat of each libvirt machine scope.  A utilisation is a
 * difference of two readings, so the source keeps the previous one: the
 * gauge covers the time since the previous sample (since boot for the
 * host's first). */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sources.h"
#include "util.h"

int
ps_procstat_parse(const char *text, struct ps_cpu_times *t, int *n_cpus)
{
    uint64_t v[8] = { 0 };
    int n = 0;

    if (strncmp(text, "cpu ", 4)) {
        return EINVAL;
    }
    const char *p = text + 4;
    for (n = 0; n < 8; n++) {
        char *end;
        while (*p == ' ') {
            p++;
        }
        if (*p < '0' || *p > '9') {
            break;
        }
        v[n] = strtoull(p, &end, 10);
        p = end;
    }
    if (n < 4) {
        return EINVAL;          /* user nice system idle, at least. */
    }
    /* guest and guest_nice are already part of user and nice. */
    t->total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    t->busy = t->total - v[3] - v[4];

    if (n_cpus) {
        int cpus = 0;
        for (p = strchr(text, '\n'); p; p = strchr(p + 1, '\n')) {
            if (!strncmp(p + 1, "cpu", 3) && p[4] >= '0' && p[4] <= '9') {
                cpus++;
            }
        }
        *n_cpus = cpus ? cpus : 1;
    }
    return 0;
}

double
ps_cpu_util(const struct ps_cpu_times *prev, const struct ps_cpu_times *cur)
{
    if (cur->total <= prev->total || cur->busy < prev->busy) {
        return -1;
    }
    double util = ((double) (cur->busy - prev->busy)
                   / (double) (cur->total - prev->total));
    return util > 1 ? 1 : util;
}

int
ps_cgroup_usage_parse(const char *text, uint64_t *usage_usec)
{
    for (const char *p = text; p; p = strchr(p, '\n')) {
        if (*p == '\n') {
            p++;
        }
        if (!strncmp(p, "usage_usec ", 11)) {
            char *end;
            errno = 0;
            *usage_usec = strtoull(p + 11, &end, 10);
            return end == p + 11 || errno ? EINVAL : 0;
        }
    }
    return EINVAL;
}

char *
ps_cgroup_scope_vm(const char *scope)
{
    static const char prefix[] = "machine-qemu";
    static const char suffix[] = ".scope";
    size_t len = strlen(scope);

    if (strncmp(scope, prefix, strlen(prefix))
        || len < strlen(prefix) + strlen(suffix)
        || strcmp(scope + len - strlen(suffix), suffix)) {
        return NULL;
    }

    /* Unescape systemd's "\xNN" into a copy of what lies between. */
    const char *p = scope + strlen(prefix);
    const char *end = scope + len - strlen(suffix);
    char *name = ps_xmalloc(len + 1), *q = name;
    while (p < end) {
        unsigned int c;
        if (p[0] == '\\' && p + 4 <= end && p[1] == 'x'
            && sscanf(p + 2, "%2x", &c) == 1) {
            *q++ = c;
            p += 4;
        } else {
            *q++ = *p++;
        }
    }
    *q = '\0';

    /* "-ID-NAME": libvirt's domain id, then the name. */
    char *vm = NULL;
    if (name[0] == '-') {
        char *dash = strchr(name + 1, '-');
        if (dash && dash[1]) {
            vm = ps_xstrdup(dash + 1);
        }
    }
    free(name);
    return vm;
}

/* One VM's cgroup. */
struct vm_cgroup {
    char *vm;
    char *path;                 /* Its cpu.stat. */
    double cpus;                /* CPUs it may use (cpu.max), or 0. */
    uint64_t prev_usage_usec;
    int64_t prev_ns;            /* Monotonic time of the previous reading. */
    bool seen;                  /* Found by the last scan. */
};

struct cpu_source {
    char *stat_path;
    int stat_fd;                /* Kept open, or -1. */
    char *cgroup_root;          /* cgroup v2 root, or NULL. */
    char *buf;
    size_t allocated;
    struct ps_cpu_times prev;
    bool have_prev;
    int n_cpus;
    uint64_t ns_per_tick;

    struct vm_cgroup *vms;
    size_t n_vms;
    int64_t last_scan_ns;
};

/* Reads cpu.max next to 'stat_path': the number of CPUs the quota allows,
 * or 0 for no quota. */
static double
read_cpu_max(const char *dir)
{
    char *path = ps_xasprintf("%s/cpu.max", dir), *text;
    double cpus = 0;

    if (!ps_read_file(path, &text, NULL)) {
        unsigned long long quota, period;
        if (sscanf(text, "%llu %llu", &quota, &period) == 2 && period) {
            cpus = (double) quota / period;
        }
        free(text);
    }
    free(path);
    return cpus;
}

static void
scan_dir(struct cpu_source *s, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d) {
        return;
    }
    while ((de = readdir(d))) {
        char *vm = ps_cgroup_scope_vm(de->d_name);
        if (!vm) {
            continue;
        }
        char *scope = ps_xasprintf("%s/%s", dir, de->d_name);
        /* libvirt puts the QEMU threads in "libvirt/" below the scope on
         * recent versions; cpu.stat of the scope covers them too. */
        char *path = ps_xasprintf("%s/cpu.stat", scope);
        size_t i;
        for (i = 0; i < s->n_vms; i++) {
            if (!strcmp(s->vms[i].path, path)) {
                break;
            }
        }
        if (i == s->n_vms) {
            s->vms = ps_xrealloc(s->vms, (s->n_vms + 1) * sizeof *s->vms);
            memset(&s->vms[i], 0, sizeof s->vms[i]);
            s->vms[i].vm = vm;
            s->vms[i].path = path;
            s->vms[i].cpus = read_cpu_max(scope);
            s->n_vms++;
        } else {
            free(vm);
            free(path);
        }
        s->vms[i].seen = true;
        free(scope);
    }
    closedir(d);
}

/* Finds the VMs' cgroups again, at most once a second. */
static void
scan_vms(struct cpu_source *s, int64_t now)
{
    if (!s->cgroup_root
        || (s->last_scan_ns && now - s->last_scan_ns < 1000000000)) {
        return;
    }
    s->last_scan_ns = now;
    for (size_t i = 0; i < s->n_vms; i++) {
        s->vms[i].seen = false;
    }
    char *dir = ps_xasprintf("%s/machine.slice", s->cgroup_root);
    scan_dir(s, dir);
    free(dir);

    size_t n = 0;
    for (size_t i = 0; i < s->n_vms; i++) {
        if (s->vms[i].seen) {
            s->vms[n++] = s->vms[i];
        } else {
            free(s->vms[i].vm);
            free(s->vms[i].path);
        }
    }
    s->n_vms = n;
}

static void
sample_vm(struct cpu_source *s, struct vm_cgroup *vm, int64_t now,
          struct ps_samples *samples)
{
    uint64_t usage;

    if (ps_read_file_buf(vm->path, &s->buf, &s->allocated, NULL)
        || ps_cgroup_usage_parse(s->buf, &usage)) {
        return;
    }
    struct ps_sample *e = ps_samples_add(samples, PS_CPU, "cpu:%s", vm->vm);
    ps_sample_set_vm(e, vm->vm);
    ps_sample_add_extra(e, "busy_time_ns", usage * 1000);
    if (vm->prev_ns && now > vm->prev_ns && usage >= vm->prev_usage_usec) {
        double cpus = vm->cpus > 0 ? vm->cpus : s->n_cpus;
        double util = ((usage - vm->prev_usage_usec) * 1e3
                       / ((now - vm->prev_ns) * cpus));
        ps_sample_set_gauge(e, PS_CPU_UTIL, util > 1 ? 1 : util);
    }
    vm->prev_usage_usec = usage;
    vm->prev_ns = now;
}

static int
cpu_sample(void *state, struct ps_samples *samples)
{
    struct cpu_source *s = state;
    struct ps_cpu_times cur;
    int64_t now = ps_monotonic_ns();
    int error;

    error = ps_reread_file(&s->stat_fd, s->stat_path, &s->buf,
                           &s->allocated, NULL);
    if (!error) {
        error = ps_procstat_parse(s->buf, &cur, &s->n_cpus);
    }
    if (!error) {
        struct ps_cpu_times zero = { 0, 0 };
        double util = ps_cpu_util(s->have_prev ? &s->prev : &zero, &cur);
        struct ps_sample *e = ps_samples_add(samples, PS_CPU, "cpu:host");
        if (util >= 0) {
            ps_sample_set_gauge(e, PS_CPU_UTIL, util);
        }
        ps_sample_add_extra(e, "busy_time_ns", cur.busy * s->ns_per_tick);
        ps_sample_add_extra(e, "total_time_ns", cur.total * s->ns_per_tick);
        if (util >= 0 || !s->have_prev) {
            s->prev = cur;
            s->have_prev = true;
        }
    }

    scan_vms(s, now);
    for (size_t i = 0; i < s->n_vms; i++) {
        sample_vm(s, &s->vms[i], now, samples);
    }
    return error;
}

/* Finds the cgroup v2 hierarchy: a pure v2 mount, or the "unified" one of a
 * hybrid set-up. */
static char *
find_cgroup_root(const struct ps_source_env *env)
{
    if (env->cgroupfs && env->cgroupfs[0]) {
        return ps_xstrdup(env->cgroupfs);
    }
    static const char *const candidates[] = {
        "%s/fs/cgroup", "%s/fs/cgroup/unified",
    };
    for (size_t i = 0; i < PS_ARRAY_SIZE(candidates); i++) {
        char *dir = ps_xasprintf(candidates[i], env->sysfs);
        char *probe = ps_xasprintf("%s/cgroup.controllers", dir);
        bool found = !access(probe, F_OK);
        free(probe);
        if (found) {
            return dir;
        }
        free(dir);
    }
    return NULL;
}

static int
cpu_init(const struct ps_source_env *env, void **statep)
{
    struct cpu_source *s = ps_xcalloc(1, sizeof *s);
    long hz = sysconf(_SC_CLK_TCK);

    s->stat_path = ps_xasprintf("%s/stat", env->procfs);
    s->stat_fd = -1;
    s->cgroup_root = find_cgroup_root(env);
    s->n_cpus = 1;
    s->ns_per_tick = 1000000000 / (hz > 0 ? hz : 100);
    *statep = s;
    return 0;
}

static void
cpu_destroy(void *state)
{
    struct cpu_source *s = state;
    if (s) {
        for (size_t i = 0; i < s->n_vms; i++) {
            free(s->vms[i].vm);
            free(s->vms[i].path);
        }
        free(s->vms);
        if (s->stat_fd >= 0) {
            close(s->stat_fd);
        }
        free(s->stat_path);
        free(s->cgroup_root);
        free(s->buf);
        free(s);
    }
}

const struct ps_source_class ps_cpu_class = {
    .name = "cpu",
    .init = cpu_init,
    .sample = cpu_sample,
    .destroy = cpu_destroy,
};
