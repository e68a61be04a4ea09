/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The topology reader (lib/topology.c) on arbitrary bytes, parsed as
 * ps_topology_load() parses a file. */

#include <config.h>
#include <jansson.h>
#include <stdio.h>
#include "fuzz.h"
#include "perfsight/topology.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *json = json_loadb((const char *) data, size,
                              JSON_REJECT_DUPLICATES, &jerr);
    if (!json) {
        return 0;
    }

    char *error = NULL;
    struct ps_topology *t = ps_topology_from_json(json, "fuzz", &error);
    json_decref(json);
    if (!t) {
        if (!error || !error[0]) {
            abort();            /* A failure must say why. */
        }
        free(error);
        return 0;
    }

    /* What a diagnosis relies on: every node in the order once, links
     * within the tenant. */
    for (size_t i = 0; i < t->n_tenants; i++) {
        const struct ps_topo_tenant *tenant = &t->tenants[i];
        if (ps_topology_find_tenant(t, tenant->id) != tenant
            || tenant->n_order != tenant->n_nodes
            || tenant->n_middleboxes > tenant->n_nodes) {
            abort();
        }
        for (size_t j = 0; j < tenant->n_order; j++) {
            const struct ps_topo_node *node
                = &tenant->nodes[tenant->order[j]];
            for (size_t k = 0; k < node->n_succ; k++) {
                if (node->succ[k] >= tenant->n_nodes) {
                    abort();
                }
            }
        }
    }
    ps_topology_destroy(t);
    return 0;
}
