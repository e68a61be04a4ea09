/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_GATHER_H
#define PERFSIGHT_GATHER_H 1

#include <stddef.h>
#include "perfsight/record.h"

/* Gathering records from many perfsight-agents at once (GET /v1/records,
 * in parallel with libcurl's multi interface).  A host that does not
 * answer is reported, and the others are still gathered. */

struct ps_gather_target {
    const char *host;           /* Id the records are filed under. */
    const char *url;            /* Agent's base URL, "http://h:9464". */
};

struct ps_gather_options {
    int timeout_ms;             /* Per request; 0 means 5000. */
    const char *token;          /* Bearer token, or NULL. */
    const char *cacert;         /* CA file for https, or NULL. */
};

/* What happened with one target in one round. */
struct ps_gather_status {
    char *error;                /* NULL if it answered with records. */
    size_t n_records;
    int64_t latest_ns;          /* Latest 'ts_ns' of its records, or 0. */
    double seconds;             /* Time to its answer. */
};

/* Called for each record gathered; takes ownership of '*r' (which it may
 * leave reset). */
typedef void ps_gather_record_cb(struct ps_record *r, void *aux);

/* Gathers one round from 'targets' into 'cb', filing every record under
 * its target's host id.  Fills 'status' (one per target; free with
 * ps_gather_status_clear()).  Returns how many targets answered. */
size_t ps_gather_round(const struct ps_gather_target *targets, size_t n,
                       const struct ps_gather_options *,
                       ps_gather_record_cb *cb, void *aux,
                       struct ps_gather_status *status);

void ps_gather_status_clear(struct ps_gather_status *, size_t n);

/* The records of one round from every target, kept whole so that a window
 * can be made of two rounds, or a round written to a recording. */
struct ps_gather_records {
    struct ps_record *records;
    size_t n, allocated;
    struct ps_gather_status *status;    /* One per target. */
    size_t n_status;
    size_t answered;
};

void ps_gather_records_run(const struct ps_gather_target *, size_t n,
                           const struct ps_gather_options *,
                           struct ps_gather_records *);
void ps_gather_records_clear(struct ps_gather_records *);

struct ps_window;

/* The window between two rounds 'r0' and 'r1' of the same 'n' targets:
 * the one gathering path of every live command.  A host that did not
 * answer either round, or whose clock went back between them (by the
 * status' 'latest_ns'), is left out
 * and listed in the window's 'gaps'.  The rounds are not changed.  Returns
 * NULL with '*errp' set (naming every host left out) if no element has two
 * samples. */
struct ps_window *ps_gather_window(const struct ps_gather_target *, size_t n,
                                   const struct ps_gather_records *r0,
                                   const struct ps_gather_records *r1,
                                   char **errp);

/* Fetches 'url' (GET) into a malloc'd, NUL-terminated buffer.  Returns
 * NULL with '*errp' set on failure or a status other than 200.  For the
 * Prometheus source. */
char *ps_http_get(const char *url, const struct ps_gather_options *,
                  size_t *lenp, char **errp);

#endif /* perfsight/gather.h */
