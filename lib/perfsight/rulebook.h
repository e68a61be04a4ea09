/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_RULEBOOK_H
#define PERFSIGHT_RULEBOOK_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "perfsight/element.h"

/* The rule book of the paper's Table 1: where packets are lost → which
 * resources may be short.  It is data (see rulebook(5) in docs/), so that
 * operators can extend it. */

/* How many VMs' paths lose packets at the location. */
enum ps_scope {
    PS_SCOPE_ANY,               /* Rules only: matches every scope. */
    PS_SCOPE_SHARED,            /* A host-wide stage (pnic, backlog...). */
    PS_SCOPE_SINGLE,            /* One VM's path only. */
    PS_SCOPE_AGGREGATED,        /* Several VMs' paths. */
};

const char *ps_scope_name(enum ps_scope);

/* Evidence a rule may require, besides the drop location. */
enum ps_condition {
    PS_COND_NONE,
    PS_COND_CPU_HIGH,           /* Host CPU utilisation >= cpu_high. */
    PS_COND_TX_NEAR_CAPACITY,   /* A pNIC's tx rate >= near_capacity. */
    PS_COND_RX_NEAR_CAPACITY,   /* A pNIC's rx rate >= near_capacity. */
    PS_N_CONDITIONS
};

const char *ps_condition_name(enum ps_condition);

struct ps_rule {
    enum ps_element_type location;
    bool any_location;          /* "*" /REASON: the reason wherever it
                                 * dominates ('location' is unused). */
    char *reason;               /* "drops.<reason>" that must dominate, or
                                 * NULL for any. */
    enum ps_scope scope;
    enum ps_condition condition;
    bool negated;               /* "!condition". */
    char **resources;
    size_t n_resources;
    int line;                   /* In the rule book file. */
};

struct ps_rulebook {
    struct ps_rule *rules;
    size_t n_rules;
    char *name;                 /* File it came from. */

    /* Settings ("set NAME VALUE" lines). */
    double cpu_high;            /* Default 0.9. */
    double near_capacity;       /* Default 0.9. */
    uint64_t min_drops;         /* Loss below this is noise.  Default 1. */
    double min_loss_ratio;      /* Loss/offered below this is noise.
                                 * Default 0.0001. */
    double vm_share;            /* A VM counts as losing at the location if
                                 * its loss there is at least this share
                                 * of the largest one.  Default 0.05. */
};

/* Parses rule book text; 'name' is used in messages.  Returns NULL with
 * '*errp' set on error. */
struct ps_rulebook *ps_rulebook_parse(const char *text, const char *name,
                                      char **errp);
struct ps_rulebook *ps_rulebook_load(const char *path, char **errp);
void ps_rulebook_destroy(struct ps_rulebook *);

/* The rule book installed with PerfSight. */
const char *ps_rulebook_default_path(void);

/* Loads the installed rule book or, if it is not installed (a build tree),
 * the same text compiled into the library. */
struct ps_rulebook *ps_rulebook_load_default(char **errp);

#endif /* perfsight/rulebook.h */
