/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_TOPOLOGY_H
#define PERFSIGHT_TOPOLOGY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "perfsight/peer.h"

/* A tenant's virtual network, where it runs and how to reach the agents
 * (DESIGN.md §4). */

struct ps_topo_host {
    char *id;
    char *agent;                /* URL, may be NULL. */
};

/* A node of a tenant's graph: a measured middlebox or an endpoint (a client
 * or a server without counters). */
struct ps_topo_node {
    char *id;
    bool is_middlebox;
    char *host;                 /* Middleboxes only. */
    char *element;              /* Middleboxes only. */
    double capacity_bps;        /* Middleboxes only; 0 if not given. */
    struct ps_peer_addr *addresses;     /* Where it is reached (§4), to
                                         * map per-peer counters. */
    size_t n_addresses;
    size_t *succ, n_succ;       /* Node indexes data flows to. */
    size_t *pred, n_pred;       /* Node indexes data flows from. */
};

struct ps_topo_tenant {
    char *id;
    struct ps_topo_node *nodes; /* Middleboxes first, in file order, then
                                 * endpoints in order of appearance. */
    size_t n_nodes;
    size_t n_middleboxes;
    size_t *order, n_order;     /* Nodes in topological order. */
};

struct ps_topology {
    struct ps_topo_host *hosts;
    size_t n_hosts;
    struct ps_topo_tenant *tenants;
    size_t n_tenants;
};

/* Reads a topology file.  Returns NULL with '*errp' set to a malloc'd
 * message naming the file and the field on error. */
struct ps_topology *ps_topology_load(const char *path, char **errp);

/* Same, from parsed JSON; 'name' is used in messages. */
struct ps_topology *ps_topology_from_json(const json_t *, const char *name,
                                          char **errp);

void ps_topology_destroy(struct ps_topology *);

const struct ps_topo_tenant *ps_topology_find_tenant(
    const struct ps_topology *, const char *id);

#endif /* perfsight/topology.h */
