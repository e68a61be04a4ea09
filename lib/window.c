/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/window.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

/* The samples of one element that can still become one end of its window,
 * in order of 'ts_ns' whatever the order they came in. */
struct slot {
    struct ps_record *samples;  /* Oldest first. */
    size_t n, allocated;
    size_t host_idx;
    enum ps_element_type type;
};

struct host_info {
    int64_t last_ns;            /* Latest sample of any of its elements. */
};

struct ps_window_builder {
    struct ps_window_options opts;
    /* Open addressing: slot index + 1 (0 = empty), found by the hash of
     * host and element and compared against the slot's last sample, so
     * that no key is copied. */
    uint32_t *table;
    uint32_t *hashes;           /* Per slot. */
    size_t table_mask;
    struct slot *slots;
    size_t n_slots, allocated_slots;
    struct ps_index *host_index;        /* host → index into 'hosts'. */
    char **hosts;
    struct host_info *host_info;
    size_t n_hosts, allocated_hosts, allocated_host_info;
    size_t n_records;
    size_t allocated_hashes;
};

/* What a window keeps alive for the strings its deltas point to. */
struct storage {
    struct ps_record *records;
    size_t n;
};

struct ps_window_builder *
ps_window_builder_create(const struct ps_window_options *opts)
{
    struct ps_window_builder *b = ps_xcalloc(1, sizeof *b);
    if (opts) {
        b->opts = *opts;
    }
    b->table_mask = 1023;
    b->table = ps_xcalloc(b->table_mask + 1, sizeof *b->table);
    b->host_index = ps_index_create();
    return b;
}

void
ps_window_builder_destroy(struct ps_window_builder *b)
{
    if (!b) {
        return;
    }
    for (size_t i = 0; i < b->n_slots; i++) {
        for (size_t j = 0; j < b->slots[i].n; j++) {
            ps_record_destroy(&b->slots[i].samples[j]);
        }
        free(b->slots[i].samples);
    }
    free(b->slots);
    for (size_t i = 0; i < b->n_hosts; i++) {
        free(b->hosts[i]);
    }
    free(b->hosts);
    free(b->host_info);
    free(b->table);
    free(b->hashes);
    ps_index_destroy(b->host_index);
    free(b);
}

static uint32_t
hash_element(const char *host, const char *element)
{
    uint32_t h = 2166136261u;   /* FNV-1a over "host\0element". */
    for (const char *p = host; ; p++) {
        h = (h ^ (unsigned char) *p) * 16777619u;
        if (!*p) {
            break;
        }
    }
    for (const char *p = element; *p; p++) {
        h = (h ^ (unsigned char) *p) * 16777619u;
    }
    return h ^ (h >> 15);
}

/* Returns the table position of the slot of 'host'/'element' with hash
 * 'hash', or of the empty entry where it would go. */
static size_t
find_position(const struct ps_window_builder *b, uint32_t hash,
              const char *host, const char *element)
{
    size_t pos = hash & b->table_mask;
    for (;;) {
        uint32_t entry = b->table[pos];
        if (!entry) {
            return pos;
        }
        const struct slot *s = &b->slots[entry - 1];
        const struct ps_record *last = &s->samples[s->n - 1];
        if (b->hashes[entry - 1] == hash && !strcmp(last->element, element)
            && !strcmp(last->host, host)) {
            return pos;
        }
        pos = (pos + 1) & b->table_mask;
    }
}

/* Keeps the table at most half full. */
static void
expand_table(struct ps_window_builder *b)
{
    size_t mask = b->table_mask * 2 + 1;
    uint32_t *table = ps_xcalloc(mask + 1, sizeof *table);
    for (size_t i = 0; i < b->n_slots; i++) {
        size_t pos = b->hashes[i] & mask;
        while (table[pos]) {
            pos = (pos + 1) & mask;
        }
        table[pos] = i + 1;
    }
    free(b->table);
    b->table = table;
    b->table_mask = mask;
}

static size_t
find_or_add_host(struct ps_window_builder *b, const char *host)
{
    size_t idx;
    size_t len = strlen(host);
    if (ps_index_find(b->host_index, host, len, &idx)) {
        return idx;
    }
    idx = b->n_hosts++;
    b->hosts = ps_grow(b->hosts, &b->allocated_hosts, b->n_hosts,
                       sizeof *b->hosts);
    b->host_info = ps_grow(b->host_info, &b->allocated_host_info,
                           b->n_hosts, sizeof *b->host_info);
    b->hosts[idx] = ps_xstrdup(host);
    b->host_info[idx].last_ns = INT64_MIN;
    ps_index_insert(b->host_index, host, len, idx);
    return idx;
}

/* Drops the samples that can no longer be either end of the window: with
 * the last two samples, all but the two latest; with a window of W
 * seconds, every sample older than the newest one at least W before the
 * latest, since the end only moves forward and a newer candidate is always
 * closer.  Samples come in any order, so one older than all that are kept
 * is dropped at once. */
static void
prune(struct ps_window_builder *b, struct slot *s)
{
    size_t drop = 0;
    if (b->opts.seconds <= 0) {
        drop = s->n > 2 ? s->n - 2 : 0;
    } else {
        int64_t w_ns = llround(b->opts.seconds * 1e9);
        int64_t limit = s->samples[s->n - 1].ts_ns - w_ns;
        size_t newest_old = SIZE_MAX;
        for (size_t i = 0; i + 1 < s->n; i++) {
            if (s->samples[i].ts_ns <= limit) {
                newest_old = i;
            }
        }
        drop = newest_old == SIZE_MAX ? 0 : newest_old;
    }
    if (drop) {
        for (size_t i = 0; i < drop; i++) {
            ps_record_destroy(&s->samples[i]);
        }
        memmove(s->samples, s->samples + drop,
                (s->n - drop) * sizeof *s->samples);
        s->n -= drop;
    }
}

static bool
same_name(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* True if 'a' and 'b' (of one element, at one time) say the same. */
static bool
same_sample(const struct ps_record *a, const struct ps_record *b)
{
    if (!same_name(a->vm, b->vm) || !same_name(a->tenant, b->tenant)
        || a->has_counters != b->has_counters
        || a->has_gauges != b->has_gauges
        || a->n_reasons != b->n_reasons
        || a->n_peers != b->n_peers
        || memcmp(a->counters, b->counters, sizeof a->counters)) {
        return false;
    }
    for (int g = 0; g < PS_N_GAUGES; g++) {
        if (ps_record_has_gauge(a, g) && a->gauges[g] != b->gauges[g]) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_reasons; i++) {
        if (a->reasons[i].value != b->reasons[i].value
            || strcmp(a->reasons[i].name, b->reasons[i].name)) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_peers; i++) {
        if (a->peers[i].value != b->peers[i].value
            || a->peers[i].counter != b->peers[i].counter
            || strcmp(a->peers[i].peer, b->peers[i].peer)) {
            return false;
        }
    }
    return true;
}

char *
ps_window_builder_add(struct ps_window_builder *b, struct ps_record *r)
{
    if (b->opts.end_ns && r->ts_ns > b->opts.end_ns) {
        ps_record_destroy(r);
        return NULL;
    }
    b->n_records++;

    if ((b->n_slots + 1) * 2 > b->table_mask) {
        expand_table(b);
    }
    uint32_t hash = hash_element(r->host, r->element);
    size_t pos = find_position(b, hash, r->host, r->element);
    struct slot *s;
    if (b->table[pos]) {
        s = &b->slots[b->table[pos] - 1];
        if (s->type != r->type) {
            char *error = ps_xasprintf(
                "element \"%s\" of host \"%s\" changed type from %s to %s",
                r->element, r->host, ps_element_type_name(s->type),
                ps_element_type_name(r->type));
            ps_record_destroy(r);
            return error;
        }
    } else {
        if (b->n_slots >= UINT32_MAX - 1) {
            ps_record_destroy(r);
            return ps_xstrdup("too many elements");
        }
        size_t idx = b->n_slots++;
        b->slots = ps_grow(b->slots, &b->allocated_slots, b->n_slots,
                           sizeof *b->slots);
        b->hashes = ps_grow(b->hashes, &b->allocated_hashes, b->n_slots,
                            sizeof *b->hashes);
        b->hashes[idx] = hash;
        s = &b->slots[idx];
        memset(s, 0, sizeof *s);
        s->host_idx = find_or_add_host(b, r->host);
        s->type = r->type;
        /* The slot's strings come from its samples, added below. */
        b->table[pos] = idx + 1;
    }

    struct host_info *hi = &b->host_info[s->host_idx];
    if (r->ts_ns > hi->last_ns) {
        hi->last_ns = r->ts_ns;
    }

    /* Where 'r' goes in time order: nearly always at the end. */
    size_t at = s->n;
    while (at > 0 && s->samples[at - 1].ts_ns > r->ts_ns) {
        at--;
    }
    if (at > 0 && s->samples[at - 1].ts_ns == r->ts_ns) {
        const struct ps_record *twin = &s->samples[at - 1];
        char *error = NULL;
        if (!same_sample(twin, r)) {
            error = ps_xasprintf(
                "element \"%s\" of host \"%s\": two samples at ts_ns %lld "
                "differ (this one and the one at line %d); samples with "
                "the same time must have the same counters, vm and tenant",
                r->element,
                r->host, (long long) r->ts_ns, twin->line);
        }
        ps_record_destroy(r);   /* The same sample twice is one. */
        return error;
    }
    if (b->opts.seconds <= 0 && s->n == 2) {
        /* The last two samples: 'r' replaces the older unless it is older
         * still, so that an element never holds more than two. */
        if (at == 0) {
            ps_record_destroy(r);
        } else {
            ps_record_destroy(&s->samples[0]);
            if (at == 2) {
                s->samples[0] = s->samples[1];
            }
            s->samples[at - 1] = *r;
            ps_record_init(r);
        }
        return NULL;
    }
    if (s->n == s->allocated) {
        /* Most elements never hold more than two samples. */
        s->allocated = s->allocated ? 2 * s->allocated : 2;
        s->samples = ps_xrealloc(s->samples,
                                 s->allocated * sizeof *s->samples);
    }
    memmove(&s->samples[at + 1], &s->samples[at],
            (s->n - at) * sizeof *s->samples);
    s->samples[at] = *r;
    s->n++;
    ps_record_init(r);
    prune(b, s);
    return NULL;
}

static int
compare_int64(const void *a_, const void *b_)
{
    int64_t a = *(const int64_t *) a_, b = *(const int64_t *) b_;
    return a < b ? -1 : a > b;
}

/* The sampling interval of each host: the median gap between its
 * elements' last two samples (pruning always keeps those two).  0 if no
 * element of the host has two samples. */
static int64_t *
host_intervals(const struct ps_window_builder *b)
{
    int64_t *interval = ps_xcalloc(b->n_hosts + 1, sizeof *interval);
    size_t *counts = ps_xcalloc(b->n_hosts, sizeof *counts);
    size_t *offsets = ps_xcalloc(b->n_hosts + 1, sizeof *offsets);
    for (size_t i = 0; i < b->n_slots; i++) {
        if (b->slots[i].n >= 2) {
            counts[b->slots[i].host_idx]++;
        }
    }
    for (size_t h = 0; h < b->n_hosts; h++) {
        offsets[h + 1] = offsets[h] + counts[h];
        counts[h] = 0;
    }
    int64_t *gaps = ps_xmalloc((offsets[b->n_hosts] + 1) * sizeof *gaps);
    for (size_t i = 0; i < b->n_slots; i++) {
        const struct slot *s = &b->slots[i];
        if (s->n >= 2) {
            size_t h = s->host_idx;
            gaps[offsets[h] + counts[h]++] = (s->samples[s->n - 1].ts_ns
                                              - s->samples[s->n - 2].ts_ns);
        }
    }
    for (size_t h = 0; h < b->n_hosts; h++) {
        if (counts[h]) {
            qsort(gaps + offsets[h], counts[h], sizeof *gaps, compare_int64);
            interval[h] = gaps[offsets[h] + counts[h] / 2];
        }
    }
    free(gaps);
    free(offsets);
    free(counts);
    return interval;
}

/* Picks the start sample of 's' (whose end is its last sample), or returns
 * SIZE_MAX if none is near enough to the window's start. */
static size_t
pick_start(const struct ps_window_builder *b, const struct slot *s)
{
    if (s->n < 2) {
        return SIZE_MAX;
    }
    if (b->opts.seconds <= 0) {
        return s->n - 2;
    }
    int64_t w_ns = llround(b->opts.seconds * 1e9);
    int64_t target = s->samples[s->n - 1].ts_ns - w_ns;
    size_t best = SIZE_MAX;
    int64_t best_dist = INT64_MAX;
    for (size_t i = 0; i + 1 < s->n; i++) {
        int64_t dist = llabs(s->samples[i].ts_ns - target);
        if (dist < best_dist) {
            best_dist = dist;
            best = i;
        }
    }
    return best_dist <= w_ns / 2 ? best : SIZE_MAX;
}

/* Per-peer deltas, merged like the reasons: a peer new in the second
 * sample, or one whose counter went down (its process restarted), counts
 * from zero. */
static void
compute_peer_deltas(const struct ps_record *r0, const struct ps_record *r1,
                    struct ps_delta *d)
{
    d->n_peers = 0;
    d->peers = r1->n_peers ? ps_xmalloc(r1->n_peers * sizeof *d->peers)
                           : NULL;
    size_t j = 0;
    for (size_t i = 0; i < r1->n_peers; i++) {
        const struct ps_peer_counter *end = &r1->peers[i];
        int cmp = 1;
        while (j < r0->n_peers) {
            const struct ps_peer_counter *start = &r0->peers[j];
            cmp = strcmp(start->peer, end->peer);
            if (!cmp) {
                cmp = (int) start->counter - (int) end->counter;
            }
            if (cmp >= 0) {
                break;
            }
            j++;
        }
        uint64_t delta = end->value;
        if (j < r0->n_peers && !cmp && r0->peers[j].value <= end->value) {
            delta = end->value - r0->peers[j].value;
        }
        d->peers[d->n_peers++] = (struct ps_peer_delta) {
            .peer = end->peer, .counter = end->counter, .delta = delta,
        };
    }
}

static void
compute_delta(const struct ps_record *r0, const struct ps_record *r1,
              struct ps_delta *d)
{
    d->host = r1->host;
    d->element = r1->element;
    d->vm = r1->vm;
    d->tenant = r1->tenant;
    d->type = r1->type;
    d->t0_ns = r0->ts_ns;
    d->t1_ns = r1->ts_ns;
    d->dt = (r1->ts_ns - r0->ts_ns) / 1e9;

    d->has = r0->has_counters & r1->has_counters;
    d->reset = 0;
    for (int c = 0; c < PS_N_COUNTERS; c++) {
        if (ps_delta_has(d, c)) {
            if (r1->counters[c] >= r0->counters[c]) {
                d->d[c] = r1->counters[c] - r0->counters[c];
            } else {
                /* The element restarted: count from its new zero. */
                d->d[c] = r1->counters[c];
                d->reset |= 1u << c;
            }
        }
    }
    memcpy(d->gauges, r1->gauges, sizeof d->gauges);
    d->has_gauges = r1->has_gauges;

    d->n_reasons = 0;
    d->reasons = r1->n_reasons ? ps_xmalloc(r1->n_reasons
                                            * sizeof *d->reasons) : NULL;
    size_t j = 0;
    for (size_t i = 0; i < r1->n_reasons; i++) {
        const struct ps_reason *end = &r1->reasons[i];
        while (j < r0->n_reasons && strcmp(r0->reasons[j].name,
                                           end->name) < 0) {
            j++;
        }
        uint64_t delta = end->value;
        if (j < r0->n_reasons && !strcmp(r0->reasons[j].name, end->name)
            && r0->reasons[j].value <= end->value) {
            delta = end->value - r0->reasons[j].value;
        }
        d->reasons[d->n_reasons].name = end->name;
        d->reasons[d->n_reasons].delta = delta;
        d->n_reasons++;
    }
    compute_peer_deltas(r0, r1, d);
}

/* The VM of an element that has none, from its id where DESIGN.md's naming
 * puts it second ("hypervisor:vm3:net0:rx", "cpu:vm3"), or NULL. */
static char *
infer_vm(const struct ps_record *r)
{
    if (r->type != PS_HYPERVISOR && r->type != PS_VNIC
        && r->type != PS_GUEST_BACKLOG && r->type != PS_MIDDLEBOX
        && r->type != PS_CPU) {
        return NULL;
    }
    const char *start = strchr(r->element, ':');
    if (!start || !*++start) {
        return NULL;
    }
    size_t len = strcspn(start, ":");
    if (r->type == PS_CPU && len == 4 && !strncmp(start, "host", 4)) {
        return NULL;
    }
    char *vm = ps_xmalloc(len + 1);
    memcpy(vm, start, len);
    vm[len] = '\0';
    return vm;
}

static struct ps_element_ref *
add_ref(struct ps_element_ref *refs, size_t *n, size_t *allocated,
        const struct ps_record *r)
{
    refs = ps_grow(refs, allocated, *n + 1, sizeof *refs);
    refs[*n] = (struct ps_element_ref) {
        .host = r->host, .element = r->element, .type = r->type,
        .ts_ns = r->ts_ns,
    };
    (*n)++;
    return refs;
}

static int
compare_host_idx(const void *a_, const void *b_, void *hosts_)
{
    size_t a = *(const size_t *) a_, b = *(const size_t *) b_;
    char **hosts = hosts_;
    return strcmp(hosts[a], hosts[b]);
}

/* Returns each host's place in the order of host names. */
static size_t *
host_ranks(const struct ps_window_builder *b)
{
    size_t *order = ps_xmalloc((b->n_hosts + 1) * sizeof *order);
    size_t *rank = ps_xmalloc((b->n_hosts + 1) * sizeof *rank);
    for (size_t h = 0; h < b->n_hosts; h++) {
        order[h] = h;
    }
    qsort_r(order, b->n_hosts, sizeof *order, compare_host_idx, b->hosts);
    for (size_t i = 0; i < b->n_hosts; i++) {
        rank[order[i]] = i;
    }
    free(order);
    return rank;
}

static int
compare_refs(const void *a_, const void *b_)
{
    const struct ps_element_ref *a = a_, *b = b_;
    int c = strcmp(a->host, b->host);
    return c ? c : strcmp(a->element, b->element);
}

static void
sort_refs(struct ps_element_ref *refs, size_t n)
{
    if (n > 1) {
        qsort(refs, n, sizeof *refs, compare_refs);
    }
}

struct ps_window *
ps_window_builder_finish(struct ps_window_builder *b, char **errp)
{
    struct ps_window *w = ps_xcalloc(1, sizeof *w);
    struct storage *st = ps_xcalloc(1, sizeof *st);
    size_t allocated_appeared = 0, allocated_vanished = 0;
    int64_t *interval = host_intervals(b);

    w->storage_ = st;
    w->n_records = b->n_records;
    st->records = ps_xmalloc((b->n_slots + 1) * sizeof *st->records);

    /* Deltas grouped by host, hosts in order of name (records come in any
     * order), each host's elements in order of first appearance. */
    size_t *rank = host_ranks(b);
    size_t *per_host = ps_xcalloc(b->n_hosts + 1, sizeof *per_host);
    for (size_t i = 0; i < b->n_slots; i++) {
        per_host[rank[b->slots[i].host_idx] + 1]++;
    }
    for (size_t h = 0; h < b->n_hosts; h++) {
        per_host[h + 1] += per_host[h];
    }
    w->deltas = ps_xcalloc(b->n_slots + 1, sizeof *w->deltas);
    size_t *fill = ps_xcalloc(b->n_hosts + 1, sizeof *fill);

    for (size_t i = 0; i < b->n_slots; i++) {
        struct slot *s = &b->slots[i];
        size_t h = rank[s->host_idx];
        struct ps_record *end = &s->samples[s->n - 1];
        bool vanished = (interval[s->host_idx]
                         && end->ts_ns < (b->host_info[s->host_idx].last_ns
                                          - interval[s->host_idx] / 2));
        size_t start = vanished ? SIZE_MAX : pick_start(b, s);

        /* The window keeps the last sample for its strings. */
        struct ps_record *kept = &st->records[st->n++];
        *kept = *end;
        ps_record_init(end);
        if (!kept->vm) {
            kept->vm = infer_vm(kept);
        }

        if (vanished) {
            w->vanished = add_ref(w->vanished, &w->n_vanished,
                                  &allocated_vanished, kept);
        } else if (start == SIZE_MAX) {
            w->appeared = add_ref(w->appeared, &w->n_appeared,
                                  &allocated_appeared, kept);
        } else {
            struct ps_delta *d = &w->deltas[per_host[h] + fill[h]++];
            compute_delta(&s->samples[start], kept, d);
            d->host_idx = h;
        }
    }

    /* Close the gaps left by elements without a window. */
    size_t n = 0;
    for (size_t h = 0; h < b->n_hosts; h++) {
        memmove(&w->deltas[n], &w->deltas[per_host[h]],
                fill[h] * sizeof *w->deltas);
        n += fill[h];
    }
    w->n_deltas = n;

    w->hosts = ps_xmalloc((b->n_hosts + 1) * sizeof *w->hosts);
    for (size_t h = 0; h < b->n_hosts; h++) {
        w->hosts[rank[h]] = b->hosts[h];
    }
    w->n_hosts = b->n_hosts;
    free(b->hosts);
    b->hosts = NULL;
    b->n_hosts = 0;
    sort_refs(w->appeared, w->n_appeared);
    sort_refs(w->vanished, w->n_vanished);

    free(rank);
    free(fill);
    free(per_host);
    free(interval);
    size_t n_records = b->n_records;
    double seconds = b->opts.seconds;
    ps_window_builder_destroy(b);

    if (!w->n_deltas) {
        *errp = (!n_records
                 ? ps_xstrdup("no records (empty input)")
                 : seconds > 0
                 ? ps_xasprintf("no element has two samples in the window "
                                "(%zu records read): none has a sample "
                                "within %g s of %g s before its last one",
                                n_records, seconds / 2, seconds)
                 : ps_xasprintf("no element has two samples in the window "
                                "(%zu records read); a diagnosis needs two "
                                "samples of each element, T apart",
                                n_records));
        ps_window_destroy(w);
        return NULL;
    }
    return w;
}

struct ps_window *
ps_window_from_file(const char *path, const struct ps_window_options *opts,
                    ps_unknown_attr_cb *cb, void *aux, char **errp)
{
    struct ps_reader *rd = ps_reader_open(path, errp);
    if (!rd) {
        return NULL;
    }
    ps_reader_set_unknown_attr_cb(rd, cb, aux);

    struct ps_window_builder *b = ps_window_builder_create(opts);
    struct ps_record r;
    int retval;
    while ((retval = ps_reader_next(rd, &r, errp)) > 0) {
        int line = r.line;
        char *error = ps_window_builder_add(b, &r);
        if (error) {
            *errp = ps_xasprintf("%s:%d: %s", path, line, error);
            free(error);
            retval = -1;
            break;
        }
    }
    ps_reader_close(rd);
    if (retval < 0) {
        ps_window_builder_destroy(b);
        return NULL;
    }

    char *error = NULL;
    struct ps_window *w = ps_window_builder_finish(b, &error);
    if (!w) {
        *errp = ps_xasprintf("%s: %s", path, error);
        free(error);
    }
    return w;
}

void
ps_window_gaps_clear(struct ps_window_gaps *gaps)
{
    for (size_t i = 0; i < gaps->n; i++) {
        free(gaps->hosts[i].host);
        free(gaps->hosts[i].error);
    }
    free(gaps->hosts);
    memset(gaps, 0, sizeof *gaps);
}

void
ps_window_destroy(struct ps_window *w)
{
    if (!w) {
        return;
    }
    ps_window_gaps_clear(&w->gaps);
    struct storage *st = w->storage_;
    for (size_t i = 0; i < w->n_deltas; i++) {
        free(w->deltas[i].reasons);
        free(w->deltas[i].peers);
    }
    free(w->deltas);
    for (size_t i = 0; i < st->n; i++) {
        ps_record_destroy(&st->records[i]);
    }
    free(st->records);
    free(st);
    for (size_t i = 0; i < w->n_hosts; i++) {
        free(w->hosts[i]);
    }
    free(w->hosts);
    free(w->appeared);
    free(w->vanished);
    free(w);
}

const struct ps_delta *
ps_window_find(const struct ps_window *w, const char *host,
               const char *element)
{
    for (size_t i = 0; i < w->n_deltas; i++) {
        const struct ps_delta *d = &w->deltas[i];
        if (!strcmp(d->element, element) && !strcmp(d->host, host)) {
            return d;
        }
    }
    return NULL;
}

double
ps_delta_rate(const struct ps_delta *d, enum ps_counter c)
{
    return ps_delta_has(d, c) ? d->d[c] / d->dt : 0.0;
}

uint64_t
ps_delta_packet_loss(const struct ps_delta *d)
{
    if (ps_delta_has(d, PS_DROPS)) {
        return d->d[PS_DROPS];
    }
    if (ps_delta_has(d, PS_IN_PACKETS) && ps_delta_has(d, PS_OUT_PACKETS)
        && d->d[PS_IN_PACKETS] > d->d[PS_OUT_PACKETS]) {
        return d->d[PS_IN_PACKETS] - d->d[PS_OUT_PACKETS];
    }
    return 0;
}

double
ps_delta_throughput_bps(const struct ps_delta *d)
{
    if (ps_delta_has(d, PS_OUT_BYTES)) {
        return ps_delta_rate(d, PS_OUT_BYTES) * 8;
    }
    return ps_delta_rate(d, PS_IN_BYTES) * 8;
}

double
ps_delta_queue_delay(const struct ps_delta *d)
{
    double rate;

    if (!ps_delta_has_gauge(d, PS_QUEUE_LEN) || d->dt <= 0) {
        return -1;
    }
    if (ps_delta_has(d, PS_OUT_PACKETS)) {
        rate = ps_delta_rate(d, PS_OUT_PACKETS);
    } else if (ps_delta_has(d, PS_IN_PACKETS)) {
        uint64_t drops = ps_delta_has(d, PS_DROPS) ? d->d[PS_DROPS] : 0;
        uint64_t in = d->d[PS_IN_PACKETS];
        rate = (in > drops ? in - drops : 0) / d->dt;
    } else {
        return -1;
    }
    if (d->gauges[PS_QUEUE_LEN] <= 0) {
        return 0;
    }
    return rate > 0 ? d->gauges[PS_QUEUE_LEN] / rate : INFINITY;
}

double
ps_delta_avg_packet_size(const struct ps_delta *d)
{
    if (ps_delta_has(d, PS_IN_PACKETS) && d->d[PS_IN_PACKETS]
        && ps_delta_has(d, PS_IN_BYTES)) {
        return (double) d->d[PS_IN_BYTES] / d->d[PS_IN_PACKETS];
    }
    if (ps_delta_has(d, PS_OUT_PACKETS) && d->d[PS_OUT_PACKETS]
        && ps_delta_has(d, PS_OUT_BYTES)) {
        return (double) d->d[PS_OUT_BYTES] / d->d[PS_OUT_PACKETS];
    }
    return 0.0;
}

uint64_t
ps_delta_offered_packets(const struct ps_delta *d)
{
    if (ps_delta_has(d, PS_IN_PACKETS)) {
        return d->d[PS_IN_PACKETS];
    }
    if (ps_delta_has(d, PS_OUT_PACKETS)) {
        return d->d[PS_OUT_PACKETS] + ps_delta_packet_loss(d);
    }
    return 0;
}
