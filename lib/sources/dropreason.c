/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The drop-reason counts of the BPF program dropreason.bpf.c: loading it,
 * naming the kernel's reasons from its BTF, and reading its per-CPU map
 * (docs/dropreason.md). */

#include <config.h>
#include "dropreason.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "perfsight/source.h"
#include "util.h"

#define REASON_PREFIX "SKB_DROP_REASON_"

bool
ps_dropreason_name(const char *enum_name, char *buf, size_t size)
{
    size_t prefix = strlen(REASON_PREFIX);
    size_t i;

    if (strncmp(enum_name, REASON_PREFIX, prefix)
        || !strcmp(enum_name + prefix, "MAX")
        || !enum_name[prefix] || size == 0) {
        return false;
    }
    enum_name += prefix;
    for (i = 0; enum_name[i] && i + 1 < size; i++) {
        buf[i] = tolower((unsigned char) enum_name[i]);
    }
    buf[i] = '\0';
    return true;
}

bool
ps_dropreason_is_tx(const char *reason)
{
    /* Only tun_net_xmit() gives these, and it counts them in tx_dropped.
     * dev_ready, skb_ucopy_fault and socket_filter come from the receive
     * path too (tun_get_user(), a host socket's filter), and a qdisc's
     * drops are the qdisc's, not tx_dropped: they stay in the rest. */
    static const char *const tx_reasons[] = {
        "full_ring", "tap_filter", "tap_txfilter",
    };
    for (size_t i = 0; i < PS_ARRAY_SIZE(tx_reasons); i++) {
        if (!strcmp(reason, tx_reasons[i])) {
            return true;
        }
    }
    return false;
}

#ifdef HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "dropreason-key.h"
#include "dropreason.skel.h"

/* A reason's value and name. */
struct reason_name {
    uint32_t value;
    char *name;
};

struct ps_dropreason {
    int refcount;
    struct dropreason_bpf *skel;
    int map_fd;
    int n_cpus;                 /* Possible CPUs: a value's slots. */
    uint32_t netns;             /* The agent's network namespace. */

    struct reason_name *names;  /* Sorted by value. */
    size_t n_names;
    char **unknown;             /* Names made for values the BTF lacks. */
    size_t n_unknown;

    struct ps_dropcount *counts; /* Sorted by ifindex, then reason. */
    size_t n_counts;
    size_t allocated_counts;
    int64_t read_ts_ns;         /* Round of the last read, or 0. */
};

static struct ps_dropreason *the_dropreason;
static bool tried;              /* Failed once: do not try again. */

static int
libbpf_quiet(enum libbpf_print_level level, const char *format, va_list args)
{
    (void) level;
    (void) format;
    (void) args;
    return 0;
}

static int
compare_names(const void *a_, const void *b_)
{
    const struct reason_name *a = a_, *b = b_;
    return a->value < b->value ? -1 : a->value > b->value;
}

/* Reads enum skb_drop_reason from the running kernel's BTF. */
static int
load_names(struct ps_dropreason *dr, char **errp)
{
    struct btf *btf = btf__load_vmlinux_btf();
    if (!btf) {
        *errp = ps_xasprintf("cannot read the kernel's BTF (%s)",
                             strerror(errno));
        return errno ? errno : ENOENT;
    }
    int id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
    if (id < 0) {
        btf__free(btf);
        *errp = ps_xstrdup("the kernel has no enum skb_drop_reason "
                           "(drop reasons came in Linux 5.17)");
        return ENOTSUP;
    }
    const struct btf_type *t = btf__type_by_id(btf, id);
    const struct btf_enum *e = btf_enum(t);
    dr->names = ps_xcalloc(btf_vlen(t), sizeof *dr->names);
    for (int i = 0; i < btf_vlen(t); i++) {
        char buf[128];
        if (ps_dropreason_name(btf__name_by_offset(btf, e[i].name_off),
                               buf, sizeof buf)) {
            dr->names[dr->n_names].value = e[i].val;
            dr->names[dr->n_names].name = ps_xstrdup(buf);
            dr->n_names++;
        }
    }
    btf__free(btf);
    qsort(dr->names, dr->n_names, sizeof *dr->names, compare_names);
    return 0;
}

/* The name of reason 'value': the kernel's, or "reason_N" for a value its
 * enum lacks (a subsystem's reasons, such as Open vSwitch's). */
static const char *
reason_name(struct ps_dropreason *dr, uint32_t value)
{
    struct reason_name key = { .value = value };
    const struct reason_name *rn = bsearch(&key, dr->names, dr->n_names,
                                           sizeof *dr->names, compare_names);
    if (rn) {
        return rn->name;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "reason_%"PRIu32, value);
    for (size_t i = 0; i < dr->n_unknown; i++) {
        if (!strcmp(dr->unknown[i], buf)) {
            return dr->unknown[i];
        }
    }
    dr->unknown = ps_xrealloc(dr->unknown,
                              (dr->n_unknown + 1) * sizeof *dr->unknown);
    return dr->unknown[dr->n_unknown++] = ps_xstrdup(buf);
}

static void
dropreason_free(struct ps_dropreason *dr)
{
    if (!dr) {
        return;
    }
    dropreason_bpf__destroy(dr->skel);
    for (size_t i = 0; i < dr->n_names; i++) {
        free(dr->names[i].name);
    }
    free(dr->names);
    for (size_t i = 0; i < dr->n_unknown; i++) {
        free(dr->unknown[i]);
    }
    free(dr->unknown);
    free(dr->counts);
    free(dr);
}

/* Loads and attaches the program.  Returns 0, or a positive errno value
 * with '*errp' saying why. */
static int
dropreason_open(struct ps_dropreason **drp, char **errp)
{
    struct ps_dropreason *dr = ps_xcalloc(1, sizeof *dr);
    struct stat st;
    int error;

    *drp = NULL;
    if (stat("/proc/self/ns/net", &st)) {
        error = errno;
        *errp = ps_xasprintf("/proc/self/ns/net: %s", strerror(error));
        goto err;
    }
    dr->netns = st.st_ino;
    error = load_names(dr, errp);
    if (error) {
        goto err;
    }
    libbpf_set_print(libbpf_quiet);
    dr->skel = dropreason_bpf__open();
    if (dr->skel) {
        dr->skel->rodata->ps_netns = dr->netns;
        if (dropreason_bpf__load(dr->skel)) {
            dropreason_bpf__destroy(dr->skel);
            dr->skel = NULL;
        }
    }
    if (!dr->skel) {
        error = errno ? errno : EINVAL;
        *errp = ps_xasprintf("cannot load the BPF program (%s)",
                             strerror(error));
        goto err;
    }
    if (dropreason_bpf__attach(dr->skel)) {
        error = errno ? errno : EINVAL;
        *errp = ps_xasprintf("cannot attach to the kfree_skb tracepoint "
                             "(%s)", strerror(error));
        goto err;
    }
    dr->map_fd = bpf_map__fd(dr->skel->maps.drops);
    dr->n_cpus = libbpf_num_possible_cpus();
    if (dr->n_cpus <= 0) {
        error = EINVAL;
        *errp = ps_xstrdup("cannot count the possible CPUs");
        goto err;
    }
    dr->refcount = 1;
    *drp = dr;
    return 0;

err:
    dropreason_free(dr);
    return error;
}

struct ps_dropreason *
ps_dropreason_get(const struct ps_source_env *env)
{
    if (the_dropreason) {
        the_dropreason->refcount++;
        return the_dropreason;
    }
    if (tried) {
        return NULL;
    }
    tried = true;

    const char *setting = getenv("PERFSIGHT_DROPREASON");
    if (setting && !strcmp(setting, "off")) {
        return NULL;
    }
    char *error_msg = NULL;
    if (dropreason_open(&the_dropreason, &error_msg)) {
        if (env->warn) {
            char *msg = ps_xasprintf("drop reasons: %s; elements count "
                                     "their drops without them",
                                     error_msg);
            env->warn(msg);
            free(msg);
        }
        free(error_msg);
        return NULL;
    }
    return the_dropreason;
}

void
ps_dropreason_put(struct ps_dropreason *dr)
{
    if (dr && !--dr->refcount) {
        dropreason_free(dr);
        the_dropreason = NULL;
        tried = false;
    }
}

static int
compare_counts(const void *a_, const void *b_)
{
    const struct ps_dropcount *a = a_, *b = b_;
    if (a->ifindex != b->ifindex) {
        return a->ifindex < b->ifindex ? -1 : 1;
    }
    return strcmp(a->reason, b->reason);
}

int
ps_dropreason_refresh(struct ps_dropreason *dr, int64_t ts_ns)
{
    if (ts_ns && ts_ns == dr->read_ts_ns) {
        return 0;
    }

    uint64_t values[dr->n_cpus];
    struct ps_dropreason_key key, next;
    void *prev = NULL;

    dr->n_counts = 0;
    int ret;
    while (!(ret = bpf_map_get_next_key(dr->map_fd, prev, &next))) {
        key = next;
        prev = &key;
        if (key.netns != dr->netns || !key.ifindex
            || bpf_map_lookup_elem(dr->map_fd, &key, values)) {
            continue;
        }
        uint64_t sum = 0;
        for (int i = 0; i < dr->n_cpus; i++) {
            sum += values[i];
        }
        if (dr->n_counts >= dr->allocated_counts) {
            dr->allocated_counts = dr->allocated_counts * 2 + 16;
            dr->counts = ps_xrealloc(dr->counts, dr->allocated_counts
                                     * sizeof *dr->counts);
        }
        dr->counts[dr->n_counts++] = (struct ps_dropcount) {
            .ifindex = key.ifindex,
            .reason = reason_name(dr, key.reason),
            .count = sum,
        };
    }
    if (dr->n_counts > 1) {
        qsort(dr->counts, dr->n_counts, sizeof *dr->counts, compare_counts);
    }
    dr->read_ts_ns = ts_ns;
    return ret == -ENOENT ? 0 : -ret;
}

size_t
ps_dropreason_device(const struct ps_dropreason *dr, uint32_t ifindex,
                     const struct ps_dropcount **countsp)
{
    size_t lo = 0, hi = dr->n_counts;

    /* The first count of 'ifindex', then those after it. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dr->counts[mid].ifindex < ifindex) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    size_t n = 0;
    while (lo + n < dr->n_counts && dr->counts[lo + n].ifindex == ifindex) {
        n++;
    }
    *countsp = n ? &dr->counts[lo] : NULL;
    return n;
}

#else  /* !HAVE_BPF */

struct ps_dropreason *
ps_dropreason_get(const struct ps_source_env *env)
{
    static bool said;
    const char *setting = getenv("PERFSIGHT_DROPREASON");

    if (!said && env->warn && !(setting && !strcmp(setting, "off"))) {
        env->warn("drop reasons: this agent was built without BPF "
                  "(libbpf, clang, bpftool); elements count their drops "
                  "without them");
    }
    said = true;
    return NULL;
}

void
ps_dropreason_put(struct ps_dropreason *dr)
{
    (void) dr;
}

int
ps_dropreason_refresh(struct ps_dropreason *dr, int64_t ts_ns)
{
    (void) dr;
    (void) ts_ns;
    return ENOTSUP;
}

size_t
ps_dropreason_device(const struct ps_dropreason *dr, uint32_t ifindex,
                     const struct ps_dropcount **countsp)
{
    (void) dr;
    (void) ifindex;
    *countsp = NULL;
    return 0;
}
#endif /* HAVE_BPF */
