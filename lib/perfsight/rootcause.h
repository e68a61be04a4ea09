/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_ROOTCAUSE_H
#define PERFSIGHT_ROOTCAUSE_H 1

#include <jansson.h>
#include "perfsight/topology.h"
#include "perfsight/window.h"

/* Root cause in a chain of middleboxes (the paper's Algorithm 2, made
 * exact for DAGs and endpoints; see docs/diagnoses.md). */

enum ps_mb_state {
    PS_MB_NORMAL,
    PS_MB_READ_BLOCKED,
    PS_MB_WRITE_BLOCKED,
};

const char *ps_mb_state_name(enum ps_mb_state);

/* One middlebox over the window, with the numbers that decided. */
struct ps_mb_verdict {
    const struct ps_topo_node *node;
    const struct ps_delta *delta;
    double capacity;            /* C, bytes/s. */
    double b_in, t_in;          /* Bytes, seconds. */
    double b_out, t_out;
    bool read_blocked;          /* t_in > b_in / C. */
    bool write_blocked;         /* t_out > b_out / C. */
    enum ps_mb_state state;     /* If both, the one with the larger share
                                 * of the window spent blocked. */
    bool *waits_on;             /* Per node->succ[j]: write-blocked on it
                                 * (by its per-peer counters where the
                                 * element has them and the successor's
                                 * addresses match, else all). */
    bool by_peer;               /* The element has per-peer output. */
};

struct ps_root_cause {
    const char *id;
    bool endpoint;              /* A node without counters. */
    const char *state;          /* "Overloaded" or "Underloaded". */
    char *why;                  /* The evidence, for people. */
};

struct ps_rootcause {
    const struct ps_topo_tenant *tenant;
    struct ps_mb_verdict *mbs;  /* In the tenant's node order. */
    size_t n_mbs;
    struct ps_root_cause *causes;
    size_t n_causes;
};

/* Diagnoses 'tenant' on 'w'.  Returns NULL, or a malloc'd error if the
 * window lacks a middlebox's element or its capacity is unknown. */
char *ps_rootcause_diagnose(const struct ps_topo_tenant *,
                            const struct ps_window *, struct ps_rootcause *);

void ps_rootcause_destroy(struct ps_rootcause *);

json_t *ps_rootcause_to_json(const struct ps_rootcause *);

#endif /* perfsight/rootcause.h */
