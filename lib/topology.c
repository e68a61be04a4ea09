/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/topology.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

static void
node_destroy(struct ps_topo_node *node)
{
    free(node->id);
    free(node->host);
    free(node->element);
    free(node->succ);
    free(node->pred);
    free(node->addresses);
}

void
ps_topology_destroy(struct ps_topology *t)
{
    if (!t) {
        return;
    }
    for (size_t i = 0; i < t->n_hosts; i++) {
        free(t->hosts[i].id);
        free(t->hosts[i].agent);
    }
    free(t->hosts);
    for (size_t i = 0; i < t->n_tenants; i++) {
        struct ps_topo_tenant *tenant = &t->tenants[i];
        for (size_t j = 0; j < tenant->n_nodes; j++) {
            node_destroy(&tenant->nodes[j]);
        }
        free(tenant->nodes);
        free(tenant->order);
        free(tenant->id);
    }
    free(t->tenants);
    free(t);
}

/* Returns the non-empty string member 'key' of 'obj', or NULL with '*errp'
 * set to a message about 'where'. */
static const char *
get_string(const json_t *obj, const char *key, bool required,
           const char *where, char **errp)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required) {
            *errp = ps_xasprintf("%s: missing field \"%s\"", where, key);
        }
        return NULL;
    }
    if (!json_is_string(v) || !json_string_value(v)[0]) {
        *errp = ps_xasprintf("%s: field \"%s\" must be a non-empty string",
                             where, key);
        return NULL;
    }
    return json_string_value(v);
}

static bool
find_node(const struct ps_topo_tenant *tenant, const char *id, size_t *idx)
{
    for (size_t i = 0; i < tenant->n_nodes; i++) {
        if (!strcmp(tenant->nodes[i].id, id)) {
            *idx = i;
            return true;
        }
    }
    return false;
}

static size_t *
append_index(size_t *array, size_t *n, size_t value)
{
    for (size_t i = 0; i < *n; i++) {
        if (array[i] == value) {
            return array;
        }
    }
    array = ps_xrealloc(array, (*n + 1) * sizeof *array);
    array[(*n)++] = value;
    return array;
}

static char *
parse_hosts(const json_t *json, struct ps_topology *t)
{
    const json_t *hosts = json_object_get(json, "hosts");
    if (!hosts) {
        return NULL;
    }
    if (!json_is_array(hosts)) {
        return ps_xstrdup("field \"hosts\" must be an array");
    }
    t->hosts = ps_xcalloc(json_array_size(hosts) + 1, sizeof *t->hosts);
    size_t i;
    const json_t *h;
    json_array_foreach (hosts, i, h) {
        char *where = ps_xasprintf("hosts[%zu]", i);
        char *error = NULL;
        if (!json_is_object(h)) {
            error = ps_xasprintf("%s must be an object", where);
        } else {
            const char *id = get_string(h, "id", true, where, &error);
            const char *agent = (id ? get_string(h, "agent", false, where,
                                                 &error) : NULL);
            if (!error) {
                for (size_t j = 0; j < t->n_hosts; j++) {
                    if (!strcmp(t->hosts[j].id, id)) {
                        error = ps_xasprintf("%s: duplicate host id \"%s\"",
                                             where, id);
                    }
                }
            }
            if (!error) {
                t->hosts[t->n_hosts].id = ps_xstrdup(id);
                t->hosts[t->n_hosts].agent = agent ? ps_xstrdup(agent) : NULL;
                t->n_hosts++;
            }
        }
        free(where);
        if (error) {
            return error;
        }
    }
    return NULL;
}

/* The optional "addresses" of a middlebox or endpoint. */
static char *
parse_addresses(const json_t *obj, struct ps_topo_node *node,
                const char *where)
{
    const json_t *list = json_object_get(obj, "addresses");
    if (!list) {
        return NULL;
    }
    if (!json_is_array(list)) {
        return ps_xasprintf("%s: field \"addresses\" must be an array of "
                            "\"ADDR:PORT\" strings", where);
    }
    node->addresses = ps_xcalloc(json_array_size(list) + 1,
                                 sizeof *node->addresses);
    size_t i;
    const json_t *a;
    json_array_foreach (list, i, a) {
        if (!json_is_string(a)
            || !ps_peer_addr_parse(json_string_value(a),
                                   &node->addresses[i])) {
            return ps_xasprintf("%s: addresses[%zu] must be \"ADDR:PORT\", "
                                "\"[ADDR6]:PORT\" or an address alone",
                                where, i);
        }
        node->n_addresses++;
    }
    return NULL;
}

/* An entry of "endpoints": a node without counters, named to give its
 * addresses. */
static char *
parse_endpoint(const json_t *e, struct ps_topo_tenant *tenant,
               const char *where)
{
    char *error = NULL;
    if (!json_is_object(e)) {
        return ps_xasprintf("%s must be an object", where);
    }
    const char *id = get_string(e, "id", true, where, &error);
    if (error) {
        return error;
    }
    size_t dummy;
    if (find_node(tenant, id, &dummy)) {
        return ps_xasprintf("%s: \"%s\" is already a middlebox or an "
                            "endpoint", where, id);
    }
    if (strchr(id, ':')) {
        return ps_xasprintf("%s: endpoint id \"%s\" looks like an element; "
                            "endpoints have no counters", where, id);
    }
    struct ps_topo_node *node = &tenant->nodes[tenant->n_nodes++];
    memset(node, 0, sizeof *node);
    node->id = ps_xstrdup(id);
    return parse_addresses(e, node, where);
}

static char *
parse_middlebox(const json_t *m, const struct ps_topology *t,
                struct ps_topo_tenant *tenant, const char *where)
{
    char *error = NULL;
    if (!json_is_object(m)) {
        return ps_xasprintf("%s must be an object", where);
    }
    const char *id = get_string(m, "id", true, where, &error);
    const char *host = id ? get_string(m, "host", true, where, &error) : NULL;
    const char *element = (host ? get_string(m, "element", true, where,
                                             &error) : NULL);
    if (error) {
        return error;
    }
    size_t dummy;
    if (find_node(tenant, id, &dummy)) {
        return ps_xasprintf("%s: duplicate middlebox id \"%s\"", where, id);
    }
    if (t->n_hosts) {
        bool known = false;
        for (size_t i = 0; i < t->n_hosts; i++) {
            known |= !strcmp(t->hosts[i].id, host);
        }
        if (!known) {
            return ps_xasprintf("%s: host \"%s\" is not listed under "
                                "\"hosts\"", where, host);
        }
    }

    double capacity = 0;
    const json_t *c = json_object_get(m, "capacity_bps");
    if (c) {
        if (!json_is_number(c) || !isfinite(json_number_value(c))
            || json_number_value(c) <= 0) {
            return ps_xasprintf("%s: field \"capacity_bps\" must be a "
                                "positive number (bits per second)", where);
        }
        capacity = json_number_value(c);
    }

    struct ps_topo_node *node = &tenant->nodes[tenant->n_nodes++];
    memset(node, 0, sizeof *node);
    node->id = ps_xstrdup(id);
    node->is_middlebox = true;
    node->host = ps_xstrdup(host);
    node->element = ps_xstrdup(element);
    node->capacity_bps = capacity;
    return parse_addresses(m, node, where);
}

/* Middlebox ids of every tenant but 'self', to catch a link that names
 * another tenant's middlebox. */
static const char *
other_tenant_of(const json_t *tenants, size_t self, const char *id)
{
    size_t i;
    const json_t *tj;
    json_array_foreach (tenants, i, tj) {
        const json_t *mbs = json_object_get(tj, "middleboxes");
        const char *tid = json_string_value(json_object_get(tj, "id"));
        size_t j;
        const json_t *m;
        if (i == self || !json_is_array(mbs) || !tid) {
            continue;
        }
        json_array_foreach (mbs, j, m) {
            const char *mid = json_string_value(json_object_get(m, "id"));
            if (mid && !strcmp(mid, id)) {
                return tid;
            }
        }
    }
    return NULL;
}

static char *
parse_links(const json_t *links, const json_t *tenants, size_t self,
            struct ps_topo_tenant *tenant, const char *where)
{
    size_t i;
    const json_t *link;

    json_array_foreach (links, i, link) {
        size_t ends[2];
        if (!json_is_array(link) || json_array_size(link) != 2) {
            return ps_xasprintf("%s.links[%zu] must be a pair [\"from\", "
                                "\"to\"]", where, i);
        }
        for (int k = 0; k < 2; k++) {
            const json_t *v = json_array_get(link, k);
            if (!json_is_string(v) || !json_string_value(v)[0]) {
                return ps_xasprintf("%s.links[%zu][%d] must be a non-empty "
                                    "string", where, i, k);
            }
            const char *id = json_string_value(v);
            if (find_node(tenant, id, &ends[k])) {
                continue;
            }
            const char *other = other_tenant_of(tenants, self, id);
            if (other) {
                return ps_xasprintf("%s.links[%zu]: unknown middlebox \"%s\" "
                                    "(it belongs to tenant \"%s\")", where,
                                    i, id, other);
            }
            if (strchr(id, ':')) {
                return ps_xasprintf("%s.links[%zu]: unknown middlebox \"%s\" "
                                    "(links name middlebox ids, not "
                                    "elements)", where, i, id);
            }
            /* Not a middlebox: an endpoint without counters. */
            struct ps_topo_node *node = &tenant->nodes[tenant->n_nodes];
            memset(node, 0, sizeof *node);
            node->id = ps_xstrdup(id);
            ends[k] = tenant->n_nodes++;
        }
        if (ends[0] == ends[1]) {
            return ps_xasprintf("%s.links[%zu]: \"%s\" links to itself",
                                where, i, tenant->nodes[ends[0]].id);
        }
        struct ps_topo_node *from = &tenant->nodes[ends[0]];
        struct ps_topo_node *to = &tenant->nodes[ends[1]];
        from->succ = append_index(from->succ, &from->n_succ, ends[1]);
        to->pred = append_index(to->pred, &to->n_pred, ends[0]);
    }
    return NULL;
}

/* Orders the nodes topologically (Kahn), or reports a cycle by its path. */
static char *
sort_nodes(struct ps_topo_tenant *tenant, const char *where)
{
    size_t n = tenant->n_nodes;
    size_t *indegree = ps_xcalloc(n + 1, sizeof *indegree);
    tenant->order = ps_xmalloc((n + 1) * sizeof *tenant->order);
    tenant->n_order = 0;

    for (size_t i = 0; i < n; i++) {
        indegree[i] = tenant->nodes[i].n_pred;
    }
    for (size_t i = 0; i < n; i++) {
        if (!indegree[i]) {
            tenant->order[tenant->n_order++] = i;
        }
    }
    for (size_t head = 0; head < tenant->n_order; head++) {
        const struct ps_topo_node *node = &tenant->nodes[tenant->order[head]];
        for (size_t j = 0; j < node->n_succ; j++) {
            if (!--indegree[node->succ[j]]) {
                tenant->order[tenant->n_order++] = node->succ[j];
            }
        }
    }
    if (tenant->n_order == n) {
        free(indegree);
        return NULL;
    }

    /* Every node left has a predecessor that is left: walk back until one
     * repeats, which closes the cycle. */
    size_t start = 0;
    while (!indegree[start]) {
        start++;
    }
    size_t *seen = ps_xcalloc(n + 1, sizeof *seen);
    size_t cur = start, step = 1;
    while (!seen[cur]) {
        seen[cur] = step++;
        const struct ps_topo_node *node = &tenant->nodes[cur];
        for (size_t j = 0; j < node->n_pred; j++) {
            if (indegree[node->pred[j]]) {
                cur = node->pred[j];
                break;
            }
        }
    }
    /* 'cur' is on the cycle: follow predecessors around it once. */
    char *path = ps_xstrdup(tenant->nodes[cur].id);
    size_t first = cur;
    do {
        const struct ps_topo_node *node = &tenant->nodes[cur];
        for (size_t j = 0; j < node->n_pred; j++) {
            if (indegree[node->pred[j]] && seen[node->pred[j]]) {
                cur = node->pred[j];
                break;
            }
        }
        char *longer = ps_xasprintf("%s <- %s", path,
                                    tenant->nodes[cur].id);
        free(path);
        path = longer;
    } while (cur != first);

    char *error = ps_xasprintf("%s.links: the links form a cycle (%s); "
                               "data must flow one way", where, path);
    free(path);
    free(seen);
    free(indegree);
    return error;
}

static char *
parse_tenant(const json_t *tj, const json_t *tenants, size_t self,
             const struct ps_topology *t, struct ps_topo_tenant *tenant)
{
    char *where = ps_xasprintf("tenants[%zu]", self);
    char *error = NULL;

    if (!json_is_object(tj)) {
        error = ps_xasprintf("%s must be an object", where);
        goto out;
    }
    const char *id = get_string(tj, "id", true, where, &error);
    if (!id) {
        goto out;
    }
    tenant->id = ps_xstrdup(id);
    free(where);
    where = ps_xasprintf("tenant \"%s\"", id);

    const json_t *mbs = json_object_get(tj, "middleboxes");
    const json_t *links = json_object_get(tj, "links");
    const json_t *endpoints = json_object_get(tj, "endpoints");
    if (!mbs || !json_is_array(mbs)) {
        error = ps_xasprintf("%s: field \"middleboxes\" must be an array",
                             where);
        goto out;
    }
    if (links && !json_is_array(links)) {
        error = ps_xasprintf("%s: field \"links\" must be an array", where);
        goto out;
    }
    if (endpoints && !json_is_array(endpoints)) {
        error = ps_xasprintf("%s: field \"endpoints\" must be an array",
                             where);
        goto out;
    }
    size_t max_nodes = json_array_size(mbs) + json_array_size(endpoints)
                       + 2 * (links ? json_array_size(links) : 0);
    tenant->nodes = ps_xcalloc(max_nodes + 1, sizeof *tenant->nodes);

    size_t i;
    const json_t *m;
    json_array_foreach (mbs, i, m) {
        char *mwhere = ps_xasprintf("%s: middleboxes[%zu]", where, i);
        error = parse_middlebox(m, t, tenant, mwhere);
        free(mwhere);
        if (error) {
            goto out;
        }
    }
    tenant->n_middleboxes = tenant->n_nodes;
    json_array_foreach (endpoints, i, m) {
        char *ewhere = ps_xasprintf("%s: endpoints[%zu]", where, i);
        error = parse_endpoint(m, tenant, ewhere);
        free(ewhere);
        if (error) {
            goto out;
        }
    }
    if (links) {
        error = parse_links(links, tenants, self, tenant, where);
    }
    for (size_t e = tenant->n_middleboxes; !error && e < tenant->n_nodes;
         e++) {
        const struct ps_topo_node *node = &tenant->nodes[e];
        if (!node->n_succ && !node->n_pred) {
            error = ps_xasprintf("%s: endpoint \"%s\" is in no link", where,
                                 node->id);
        }
    }
    if (!error) {
        error = sort_nodes(tenant, where);
    }

out:
    free(where);
    return error;
}

struct ps_topology *
ps_topology_from_json(const json_t *json, const char *name, char **errp)
{
    struct ps_topology *t = ps_xcalloc(1, sizeof *t);
    char *error = NULL;

    if (!json_is_object(json)) {
        error = ps_xstrdup("a topology must be a JSON object");
        goto error;
    }
    error = parse_hosts(json, t);
    if (error) {
        goto error;
    }

    const json_t *tenants = json_object_get(json, "tenants");
    if (!tenants || !json_is_array(tenants)) {
        error = ps_xstrdup("field \"tenants\" must be an array");
        goto error;
    }
    t->tenants = ps_xcalloc(json_array_size(tenants) + 1,
                            sizeof *t->tenants);
    size_t i;
    const json_t *tj;
    json_array_foreach (tenants, i, tj) {
        struct ps_topo_tenant *tenant = &t->tenants[t->n_tenants++];
        error = parse_tenant(tj, tenants, i, t, tenant);
        if (error) {
            goto error;
        }
        for (size_t j = 0; j + 1 < t->n_tenants; j++) {
            if (!strcmp(t->tenants[j].id, tenant->id)) {
                error = ps_xasprintf("tenants[%zu]: duplicate tenant id "
                                     "\"%s\"", i, tenant->id);
                goto error;
            }
        }
    }
    return t;

error:
    *errp = ps_xasprintf("%s: %s", name, error);
    free(error);
    ps_topology_destroy(t);
    return NULL;
}

struct ps_topology *
ps_topology_load(const char *path, char **errp)
{
    json_error_t jerr;
    json_t *json = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!json) {
        if (jerr.line <= 0) {
            *errp = ps_xasprintf("%s: %s", path, jerr.text);
        } else {
            *errp = ps_xasprintf("%s:%d: invalid JSON: %s", path, jerr.line,
                                 jerr.text);
        }
        return NULL;
    }
    struct ps_topology *t = ps_topology_from_json(json, path, errp);
    json_decref(json);
    return t;
}

const struct ps_topo_tenant *
ps_topology_find_tenant(const struct ps_topology *t, const char *id)
{
    for (size_t i = 0; i < t->n_tenants; i++) {
        if (!strcmp(t->tenants[i].id, id)) {
            return &t->tenants[i];
        }
    }
    return NULL;
}
