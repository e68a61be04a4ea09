/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_CONTENTION_H
#define PERFSIGHT_CONTENTION_H 1

#include <jansson.h>
#include "perfsight/rulebook.h"
#include "perfsight/window.h"

/* Contention and bottleneck (the paper's Algorithm 1 with Table 1). */

enum ps_verdict {
    PS_VERDICT_NONE,
    PS_VERDICT_CONTENTION,
    PS_VERDICT_BOTTLENECK,
};

const char *ps_verdict_name(enum ps_verdict);

/* Three-valued evidence. */
enum ps_evidence {
    PS_EV_UNKNOWN = -1,
    PS_EV_FALSE = 0,
    PS_EV_TRUE = 1,
};

/* One element's loss over the window. */
struct ps_loss {
    const struct ps_delta *delta;
    uint64_t loss;              /* After de-duplication. */
    uint64_t counted;           /* As the element counts it. */
    double ratio;               /* loss / offered packets, or -1. */
};

/* The verdict for one host, with the evidence that decided it. */
struct ps_contention {
    const char *host;
    enum ps_verdict verdict;
    bool has_location;
    enum ps_element_type location;      /* Type of the largest loss. */
    const char *reason;         /* Its dominant drop reason, or NULL. */
    enum ps_scope scope;
    const char **resources;     /* Strings belong to the rule book. */
    size_t n_resources;
    const char **vms;           /* VMs whose paths lose packets there. */
    size_t n_vms;

    struct ps_loss *losses;     /* Significant losses, largest first. */
    size_t n_losses;
    uint64_t total_loss;
    uint64_t location_loss;     /* Sum over the location's elements. */

    uint64_t backlog_drops;     /* Sum over the host's backlogs. */
    uint64_t deduplicated;      /* Backlog drops removed from the devices
                                 * that count them again. */

    enum ps_evidence cpu_high;
    double cpu_util;            /* Host's, if known. */
    enum ps_evidence tx_near_capacity, rx_near_capacity;
    double tx_util, rx_util;    /* Highest rate/capacity of a pNIC. */
    const char *tx_element, *rx_element;

    const struct ps_rule **rules;       /* The rows that decided. */
    size_t n_rules;
};

struct ps_contention_report {
    struct ps_contention *hosts;
    size_t n_hosts;
};

/* Diagnoses every host of 'w'.  Never fails: a host without loss gets
 * PS_VERDICT_NONE. */
void ps_contention_diagnose(const struct ps_rulebook *,
                            const struct ps_window *,
                            struct ps_contention_report *);

void ps_contention_report_destroy(struct ps_contention_report *);

json_t *ps_contention_report_to_json(const struct ps_contention_report *);

#endif /* perfsight/contention.h */
