/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_WINDOW_H
#define PERFSIGHT_WINDOW_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "perfsight/record.h"

/* A window: two samples of each element, T apart, turned into deltas and
 * rates (the paper's Figure 6).  The diagnoses read nothing else. */

/* One "drops.<reason>" delta. */
struct ps_reason_delta {
    const char *name;
    uint64_t delta;
};

/* One "COUNTER@PEER" delta. */
struct ps_peer_delta {
    const char *peer;
    enum ps_counter counter;
    uint64_t delta;
};

/* One element over the window. */
struct ps_delta {
    const char *host;           /* Strings belong to the window. */
    const char *element;
    const char *vm;             /* May be NULL. */
    const char *tenant;         /* May be NULL. */
    enum ps_element_type type;
    size_t host_idx;            /* Index into ps_window's 'hosts'. */

    int64_t t0_ns, t1_ns;       /* The two samples' times. */
    double dt;                  /* Seconds between them, > 0. */

    uint64_t d[PS_N_COUNTERS];  /* Counter deltas. */
    unsigned int has;           /* Bit per counter present in both. */
    unsigned int reset;         /* Bit per counter that went down: the
                                 * element restarted, 'd' counts from 0. */
    double gauges[PS_N_GAUGES]; /* At the second sample. */
    unsigned int has_gauges;

    struct ps_reason_delta *reasons;    /* Sorted by name. */
    size_t n_reasons;

    struct ps_peer_delta *peers;        /* Sorted by peer, then counter;
                                         * those in the second sample. */
    size_t n_peers;
};

/* An element that has no window: it appeared during it or vanished. */
struct ps_element_ref {
    const char *host;
    const char *element;
    enum ps_element_type type;
    int64_t ts_ns;              /* Its only (or last) sample in the window. */
};

/* A host that a live window leaves out, and why. */
struct ps_host_gap {
    char *host;
    char *error;                /* "connection refused", "its clock..." */
    bool answered;              /* It answered, but its clock went back. */
};

struct ps_window_gaps {
    struct ps_host_gap *hosts;
    size_t n, allocated;
};

void ps_window_gaps_clear(struct ps_window_gaps *);

struct ps_window {
    struct ps_delta *deltas;    /* Grouped by host, in order of host. */
    size_t n_deltas;
    char **hosts;               /* In order of name. */
    size_t n_hosts;
    struct ps_element_ref *appeared;    /* One sample only. */
    size_t n_appeared;
    struct ps_element_ref *vanished;    /* Missing from the last round. */
    size_t n_vanished;
    size_t n_records;           /* Records read in all. */
    struct ps_window_gaps gaps; /* Hosts left out (live windows only). */
    void *storage_;             /* Private. */
};

/* How to pick the two samples of each element. */
struct ps_window_options {
    double seconds;             /* 0: each element's last two samples.
                                 * Otherwise: its last sample and the one
                                 * closest to 'seconds' before it. */
    int64_t end_ns;             /* If nonzero, ignore samples after it. */
};

struct ps_window_builder;

struct ps_window_builder *ps_window_builder_create(
    const struct ps_window_options *);

/* Adds 'r', taking ownership of its contents (and resetting '*r').  Returns
 * NULL, or a malloc'd error (for example a sample older than the element's
 * previous one). */
char *ps_window_builder_add(struct ps_window_builder *, struct ps_record *r);

/* Turns what was added into a window and destroys the builder.  Returns
 * NULL with '*errp' set if no element has two samples. */
struct ps_window *ps_window_builder_finish(struct ps_window_builder *,
                                           char **errp);

void ps_window_builder_destroy(struct ps_window_builder *);

/* Reads every record of 'path' into a window.  '*errp' names the file and
 * line of anything wrong. */
struct ps_window *ps_window_from_file(const char *path,
                                      const struct ps_window_options *,
                                      ps_unknown_attr_cb *, void *aux,
                                      char **errp);

void ps_window_destroy(struct ps_window *);

/* Returns the element 'element' of 'host', or NULL. */
const struct ps_delta *ps_window_find(const struct ps_window *,
                                      const char *host, const char *element);

/* The paper's utility routines over one element's window. */
static inline bool
ps_delta_has(const struct ps_delta *d, enum ps_counter c)
{
    return (d->has >> c) & 1;
}

static inline bool
ps_delta_has_gauge(const struct ps_delta *d, enum ps_gauge g)
{
    return (d->has_gauges >> g) & 1;
}

/* Counter 'c' per second, or 0 if absent. */
double ps_delta_rate(const struct ps_delta *, enum ps_counter c);

/* Packets lost in the element: its 'drops' if it counts them, otherwise
 * packets in minus packets out (never below 0), otherwise 0. */
uint64_t ps_delta_packet_loss(const struct ps_delta *);

/* Bits per second through the element: output if it counts output bytes,
 * else input. */
double ps_delta_throughput_bps(const struct ps_delta *);

/* Average packet size in bytes (input side, else output), or 0. */
double ps_delta_avg_packet_size(const struct ps_delta *);

/* The time a packet waits in the element's queue, in seconds, by Little's
 * law: its queue_len at the window's end over the rate packets leave it
 * (out_packets, else in_packets less drops).  Returns -1 if the element has
 * no queue_len or no such rate, INFINITY if packets wait while none leave
 * (a stalled reader). */
double ps_delta_queue_delay(const struct ps_delta *);

/* Packets offered to the element: 'in_packets', else 'out_packets' plus
 * loss. */
uint64_t ps_delta_offered_packets(const struct ps_delta *);

#endif /* perfsight/window.h */
