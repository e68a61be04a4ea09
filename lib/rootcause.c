/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/rootcause.h"

#include <stdlib.h>
#include <string.h>
#include "perfsight/peer.h"
#include "util.h"

/* Algorithm 2.  A middlebox is ReadBlocked if it spent longer in its input
 * method than copying its input at the vNIC's capacity takes (t_in > b_in /
 * C), WriteBlocked likewise on output.  Where the paper then strikes out
 * everything downstream of a ReadBlocked middlebox and upstream of a
 * WriteBlocked one, we ask of each busy (Normal) middlebox whether its
 * neighbours' blocking points at it; that gives the same answer on chains
 * and stays right on DAGs, where one branch's blocking must not clear a
 * middlebox that starves another.  docs/diagnoses.md has the cases. */

const char *
ps_mb_state_name(enum ps_mb_state state)
{
    return (state == PS_MB_READ_BLOCKED ? "ReadBlocked"
            : state == PS_MB_WRITE_BLOCKED ? "WriteBlocked"
            : "Normal");
}

static const struct ps_delta *
find_delta(const struct ps_window *w, const char *host, const char *element,
           char **errp, const char *tenant, const char *id)
{
    const struct ps_delta *d = ps_window_find(w, host, element);
    if (d) {
        return d;
    }
    const char *why = "is not in the recording";
    for (size_t i = 0; i < w->n_appeared; i++) {
        if (!strcmp(w->appeared[i].host, host)
            && !strcmp(w->appeared[i].element, element)) {
            why = "has only one sample in the window (it appeared)";
        }
    }
    for (size_t i = 0; i < w->n_vanished; i++) {
        if (!strcmp(w->vanished[i].host, host)
            && !strcmp(w->vanished[i].element, element)) {
            why = "vanished before the window's last sample";
        }
    }
    *errp = ps_xasprintf("tenant \"%s\": middlebox \"%s\": element \"%s\" "
                         "of host \"%s\" %s", tenant, id, element, host, why);
    return NULL;
}

static char *
measure(const struct ps_topo_tenant *tenant, const struct ps_topo_node *node,
        const struct ps_window *w, struct ps_mb_verdict *v)
{
    char *error = NULL;
    const struct ps_delta *d = find_delta(w, node->host, node->element,
                                          &error, tenant->id, node->id);
    if (!d) {
        return error;
    }
    if (d->type != PS_MIDDLEBOX) {
        return ps_xasprintf("tenant \"%s\": middlebox \"%s\": element \"%s\" "
                            "is of type %s, not middlebox", tenant->id,
                            node->id, node->element,
                            ps_element_type_name(d->type));
    }
    static const enum ps_counter needed[] = {
        PS_IN_BYTES, PS_IN_TIME_NS, PS_OUT_BYTES, PS_OUT_TIME_NS,
    };
    for (size_t i = 0; i < PS_ARRAY_SIZE(needed); i++) {
        if (!ps_delta_has(d, needed[i])) {
            return ps_xasprintf("tenant \"%s\": middlebox \"%s\": element "
                                "\"%s\" lacks attrs.%s in one of the "
                                "window's samples", tenant->id, node->id,
                                node->element, ps_counter_name(needed[i]));
        }
    }

    double capacity_bps = node->capacity_bps;
    if (!capacity_bps && ps_delta_has_gauge(d, PS_CAPACITY_BPS)) {
        capacity_bps = d->gauges[PS_CAPACITY_BPS];
    }
    if (capacity_bps <= 0) {
        return ps_xasprintf("tenant \"%s\": middlebox \"%s\": capacity "
                            "unknown (give \"capacity_bps\" in the topology "
                            "or in the element's records)", tenant->id,
                            node->id);
    }

    v->node = node;
    v->delta = d;
    v->capacity = capacity_bps / 8;
    v->b_in = d->d[PS_IN_BYTES];
    v->t_in = d->d[PS_IN_TIME_NS] / 1e9;
    v->b_out = d->d[PS_OUT_BYTES];
    v->t_out = d->d[PS_OUT_TIME_NS] / 1e9;
    v->read_blocked = v->t_in > v->b_in / v->capacity;
    v->write_blocked = v->t_out > v->b_out / v->capacity;

    if (v->read_blocked && v->write_blocked) {
        /* Waiting on both sides: report the side it waited on longer. */
        double read_wait = v->t_in - v->b_in / v->capacity;
        double write_wait = v->t_out - v->b_out / v->capacity;
        v->state = (write_wait > read_wait ? PS_MB_WRITE_BLOCKED
                    : PS_MB_READ_BLOCKED);
    } else {
        v->state = (v->read_blocked ? PS_MB_READ_BLOCKED
                    : v->write_blocked ? PS_MB_WRITE_BLOCKED
                    : PS_MB_NORMAL);
    }
    return NULL;
}

/* Output bytes and time to one successor, from per-peer counters. */
struct peer_out {
    double bytes, time;         /* Bytes, seconds. */
    bool matched;
};

/* Sums the per-peer output counters of 'd' that go to 'node', marking in
 * 'used' (one flag per peer counter) those it takes. */
static struct peer_out
out_to(const struct ps_delta *d, const struct ps_topo_node *node, bool *used)
{
    struct peer_out out = { 0, 0, false };
    for (size_t i = 0; i < d->n_peers; i++) {
        const struct ps_peer_delta *p = &d->peers[i];
        struct ps_peer_addr addr;
        if ((p->counter != PS_OUT_BYTES && p->counter != PS_OUT_TIME_NS)
            || !ps_peer_addr_parse(p->peer, &addr)) {
            continue;
        }
        for (size_t k = 0; k < node->n_addresses; k++) {
            if (ps_peer_addr_match(&node->addresses[k], &addr)) {
                if (p->counter == PS_OUT_BYTES) {
                    out.bytes += p->delta;
                } else {
                    out.time += p->delta / 1e9;
                }
                out.matched = true;
                used[i] = true;
                break;
            }
        }
    }
    return out;
}

/* Which successors a write-blocked middlebox waits on.  With per-peer
 * output counters, a successor whose addresses the topology gives is
 * waited on if the middlebox spent longer writing to it than its bytes
 * take at capacity; the successors without addresses share what is left
 * of the aggregate.  Without per-peer counters, every successor is, as
 * in the paper. */
static void
find_waits(const struct ps_topo_tenant *t, struct ps_mb_verdict *v)
{
    const struct ps_topo_node *node = v->node;
    const struct ps_delta *d = v->delta;

    v->waits_on = ps_xcalloc(node->n_succ + 1, sizeof *v->waits_on);
    for (size_t i = 0; i < d->n_peers; i++) {
        v->by_peer |= (d->peers[i].counter == PS_OUT_BYTES
                       || d->peers[i].counter == PS_OUT_TIME_NS);
    }
    if (!v->write_blocked || !v->by_peer) {
        for (size_t j = 0; j < node->n_succ; j++) {
            v->waits_on[j] = v->write_blocked;
        }
        return;
    }

    bool *used = ps_xcalloc(d->n_peers + 1, sizeof *used);
    for (size_t j = 0; j < node->n_succ; j++) {
        const struct ps_topo_node *s = &t->nodes[node->succ[j]];
        if (s->n_addresses) {
            struct peer_out out = out_to(d, s, used);
            v->waits_on[j] = (out.matched
                              && out.time > out.bytes / v->capacity);
        }
    }
    double rest_bytes = v->b_out, rest_time = v->t_out;
    for (size_t i = 0; i < d->n_peers; i++) {
        if (used[i]) {
            if (d->peers[i].counter == PS_OUT_BYTES) {
                rest_bytes -= d->peers[i].delta;
            } else {
                rest_time -= d->peers[i].delta / 1e9;
            }
        }
    }
    bool rest_waits = (rest_time > 0 && rest_time > rest_bytes / v->capacity);
    for (size_t j = 0; j < node->n_succ; j++) {
        if (!t->nodes[node->succ[j]].n_addresses) {
            v->waits_on[j] = rest_waits;
        }
    }
    free(used);
}

/* True if middlebox 'v' waits to write to the node with index 'idx'. */
static bool
waits_on(const struct ps_mb_verdict *v, size_t idx)
{
    for (size_t j = 0; j < v->node->n_succ; j++) {
        if (v->node->succ[j] == idx) {
            return v->waits_on[j];
        }
    }
    return false;
}

static void
add_cause(struct ps_rootcause *rc, const char *id, bool endpoint,
          const char *state, char *why)
{
    for (size_t i = 0; i < rc->n_causes; i++) {
        if (!strcmp(rc->causes[i].id, id)) {
            char *both = ps_xasprintf("%s; %s", rc->causes[i].why, why);
            free(rc->causes[i].why);
            free(why);
            rc->causes[i].why = both;
            return;
        }
    }
    rc->causes = ps_xrealloc(rc->causes,
                             (rc->n_causes + 1) * sizeof *rc->causes);
    rc->causes[rc->n_causes++] = (struct ps_root_cause) {
        .id = id, .endpoint = endpoint, .state = state, .why = why,
    };
}

/* Middleboxes come first in the node array, so a node index below
 * 'n_mbs' is measured. */
static const struct ps_mb_verdict *
measured(const struct ps_rootcause *rc, size_t node_idx)
{
    return node_idx < rc->n_mbs ? &rc->mbs[node_idx] : NULL;
}

static bool
is_overloaded_mb(const struct ps_rootcause *rc, size_t node_idx)
{
    for (size_t i = 0; i < rc->n_causes; i++) {
        if (!rc->causes[i].endpoint
            && !strcmp(rc->causes[i].id,
                       rc->tenant->nodes[node_idx].id)) {
            return true;
        }
    }
    return false;
}

/* A busy (Normal) middlebox M is a root cause if a predecessor waits to
 * write to it; otherwise only if nothing upstream starves it ('starved':
 * a read-blocked predecessor, or a busy one that is itself starved) and
 * either a successor waits for its output or nothing downstream is backed
 * up ('backed_up': a write-blocked successor, or a busy one that is itself
 * backed up).  On a chain this is the paper's pruning; on a DAG one
 * branch's blocking no longer clears a middlebox another branch points
 * at. */
static void
find_overloaded(struct ps_rootcause *rc)
{
    const struct ps_topo_tenant *t = rc->tenant;
    bool *starved = ps_xcalloc(t->n_nodes + 1, sizeof *starved);
    bool *backed_up = ps_xcalloc(t->n_nodes + 1, sizeof *backed_up);

    for (size_t o = 0; o < t->n_order; o++) {
        size_t i = t->order[o];
        for (size_t j = 0; j < t->nodes[i].n_pred; j++) {
            size_t p = t->nodes[i].pred[j];
            const struct ps_mb_verdict *v = measured(rc, p);
            if (v && (v->read_blocked
                      || (!v->write_blocked && starved[p]))) {
                starved[i] = true;
            }
        }
    }
    for (size_t o = t->n_order; o-- > 0; ) {
        size_t i = t->order[o];
        for (size_t j = 0; j < t->nodes[i].n_succ; j++) {
            size_t s = t->nodes[i].succ[j];
            const struct ps_mb_verdict *v = measured(rc, s);
            if (v && (v->write_blocked
                      || (!v->read_blocked && backed_up[s]))) {
                backed_up[i] = true;
            }
        }
    }

    for (size_t o = 0; o < t->n_order; o++) {
        size_t i = t->order[o];
        const struct ps_mb_verdict *v = measured(rc, i);
        if (!v || v->read_blocked || v->write_blocked) {
            continue;
        }
        const struct ps_topo_node *node = v->node;
        const char *writer = NULL, *reader = NULL;
        for (size_t j = 0; j < node->n_pred; j++) {
            const struct ps_mb_verdict *p = measured(rc, node->pred[j]);
            if (p && waits_on(p, i) && !writer) {
                writer = p->node->id;
            }
        }
        for (size_t j = 0; j < node->n_succ; j++) {
            const struct ps_mb_verdict *s = measured(rc, node->succ[j]);
            if (s && s->read_blocked && !reader) {
                reader = s->node->id;
            }
        }

        char *why = NULL;
        if (writer) {
            why = ps_xasprintf("busy (neither read- nor write-blocked) while "
                               "%s waits to write to it", writer);
        } else if (!starved[i] && reader) {
            why = ps_xasprintf("busy (neither read- nor write-blocked) while "
                               "%s waits for its output", reader);
        } else if (!starved[i] && !backed_up[i]) {
            why = ps_xstrdup("busy (neither read- nor write-blocked), and "
                             "nothing upstream starves it nor is anything "
                             "downstream backed up");
        }
        if (why) {
            add_cause(rc, node->id, false, "Overloaded", why);
        }
    }
    free(starved);
    free(backed_up);
}

/* Endpoints have no counters: name one only where the measured middleboxes
 * around it are blocked on it and no measured middlebox explains that. */
static void
find_endpoints(struct ps_rootcause *rc)
{
    const struct ps_topo_tenant *t = rc->tenant;

    /* A sink: a middlebox waits to write to it, and either its per-peer
     * counters say so, or every measured successor it waits on waits for
     * input (so no measured successor explains the wait).  A middlebox
     * blocked on both sides names its sinks only if it waited longer to
     * write than to read: one mostly starved of input that also writes
     * slowly at times is its source's problem, not its sinks'. */
    for (size_t o = 0; o < t->n_order; o++) {
        const struct ps_mb_verdict *v = measured(rc, t->order[o]);
        if (!v || v->state != PS_MB_WRITE_BLOCKED) {
            continue;
        }
        bool all_read_blocked = true;
        for (size_t j = 0; j < v->node->n_succ; j++) {
            const struct ps_mb_verdict *s = measured(rc, v->node->succ[j]);
            if (s && v->waits_on[j] && !s->read_blocked) {
                all_read_blocked = false;
            }
        }
        for (size_t j = 0; j < v->node->n_succ; j++) {
            size_t s = v->node->succ[j];
            bool by_peer = v->by_peer && t->nodes[s].n_addresses;
            if (measured(rc, s) || !v->waits_on[j]
                || !(by_peer || all_read_blocked)) {
                continue;
            }
            char *why;
            if (by_peer) {
                bool *used = ps_xcalloc(v->delta->n_peers + 1, sizeof *used);
                struct peer_out out = out_to(v->delta, &t->nodes[s], used);
                free(used);
                why = ps_xasprintf("%s is write-blocked on it: %.3f s "
                                   "writing %.0f bytes to it (%.3f s at "
                                   "capacity)", v->node->id, out.time,
                                   out.bytes, out.bytes / v->capacity);
            } else {
                why = ps_xasprintf("%s is write-blocked (%.3f s writing "
                                   "%.0f bytes, %.3f s at capacity) and no "
                                   "measured successor of it takes the "
                                   "blame", v->node->id, v->t_out, v->b_out,
                                   v->b_out / v->capacity);
            }
            add_cause(rc, t->nodes[s].id, true, "Overloaded", why);
        }
    }

    /* A source: every measured middlebox it feeds waits for input, and for
     * one of them no measured predecessor is the overloaded culprit. */
    for (size_t o = 0; o < t->n_order; o++) {
        size_t e = t->order[o];
        const struct ps_topo_node *node = &t->nodes[e];
        if (measured(rc, e)) {
            continue;
        }
        size_t n_measured = 0;
        bool all_read_blocked = true, unexplained = false;
        const char *example = NULL;
        for (size_t j = 0; j < node->n_succ; j++) {
            const struct ps_mb_verdict *s = measured(rc, node->succ[j]);
            if (!s) {
                continue;
            }
            n_measured++;
            if (s->state != PS_MB_READ_BLOCKED) {
                all_read_blocked = false;
                continue;
            }
            bool explained = false;
            for (size_t k = 0; k < s->node->n_pred; k++) {
                explained |= (measured(rc, s->node->pred[k])
                              && is_overloaded_mb(rc, s->node->pred[k]));
            }
            if (!explained) {
                unexplained = true;
                example = s->node->id;
            }
        }
        if (n_measured && all_read_blocked && unexplained) {
            add_cause(rc, node->id, true, "Underloaded",
                      ps_xasprintf("every measured middlebox it feeds is "
                                   "read-blocked (%s waits for input that "
                                   "no overloaded middlebox withholds)",
                                   example));
        }
    }
}

char *
ps_rootcause_diagnose(const struct ps_topo_tenant *tenant,
                      const struct ps_window *w, struct ps_rootcause *rc)
{
    memset(rc, 0, sizeof *rc);
    rc->tenant = tenant;
    rc->mbs = ps_xcalloc(tenant->n_middleboxes + 1, sizeof *rc->mbs);
    rc->n_mbs = tenant->n_middleboxes;

    for (size_t i = 0; i < tenant->n_middleboxes; i++) {
        char *error = measure(tenant, &tenant->nodes[i], w, &rc->mbs[i]);
        if (error) {
            ps_rootcause_destroy(rc);
            return error;
        }
        find_waits(tenant, &rc->mbs[i]);
    }
    find_overloaded(rc);
    find_endpoints(rc);
    return NULL;
}

void
ps_rootcause_destroy(struct ps_rootcause *rc)
{
    for (size_t i = 0; i < rc->n_causes; i++) {
        free(rc->causes[i].why);
    }
    free(rc->causes);
    for (size_t i = 0; i < rc->n_mbs; i++) {
        free(rc->mbs[i].waits_on);
    }
    free(rc->mbs);
    memset(rc, 0, sizeof *rc);
}

json_t *
ps_rootcause_to_json(const struct ps_rootcause *rc)
{
    json_t *obj = json_object();
    json_t *states = json_object();
    json_t *mbs = json_array();

    json_object_set_new(obj, "tenant", json_string(rc->tenant->id));
    for (size_t i = 0; i < rc->n_mbs; i++) {
        const struct ps_mb_verdict *v = &rc->mbs[i];
        json_object_set_new(states, v->node->id,
                            json_string(ps_mb_state_name(v->state)));

        json_t *m = json_object();
        json_object_set_new(m, "id", json_string(v->node->id));
        json_object_set_new(m, "host", json_string(v->node->host));
        json_object_set_new(m, "element", json_string(v->node->element));
        json_object_set_new(m, "state",
                            json_string(ps_mb_state_name(v->state)));
        json_object_set_new(m, "read_blocked",
                            json_boolean(v->read_blocked));
        json_object_set_new(m, "write_blocked",
                            json_boolean(v->write_blocked));
        json_object_set_new(m, "capacity_bps", json_real(v->capacity * 8));
        json_object_set_new(m, "window_s", json_real(v->delta->dt));
        json_object_set_new(m, "in_bytes", json_real(v->b_in));
        json_object_set_new(m, "in_time_s", json_real(v->t_in));
        json_object_set_new(m, "in_time_at_capacity_s",
                            json_real(v->b_in / v->capacity));
        json_object_set_new(m, "out_bytes", json_real(v->b_out));
        json_object_set_new(m, "out_time_s", json_real(v->t_out));
        json_object_set_new(m, "out_time_at_capacity_s",
                            json_real(v->b_out / v->capacity));
        json_t *waits = json_array();
        for (size_t j = 0; j < v->node->n_succ; j++) {
            if (v->waits_on[j]) {
                const struct ps_topo_node *s
                    = &rc->tenant->nodes[v->node->succ[j]];
                json_array_append_new(waits, json_string(s->id));
            }
        }
        json_object_set_new(m, "waits_on", waits);
        json_object_set_new(m, "waits_by_peer",
                            json_boolean(v->by_peer && v->write_blocked));
        json_array_append_new(mbs, m);
    }
    json_object_set_new(obj, "states", states);

    json_t *causes = json_array();
    for (size_t i = 0; i < rc->n_causes; i++) {
        const struct ps_root_cause *c = &rc->causes[i];
        json_t *cj = json_object();
        json_object_set_new(cj, "id", json_string(c->id));
        json_object_set_new(cj, "state", json_string(c->state));
        json_object_set_new(cj, "endpoint", json_boolean(c->endpoint));
        json_object_set_new(cj, "why", json_string(c->why));
        json_array_append_new(causes, cj);
    }
    json_object_set_new(obj, "root_causes", causes);
    json_object_set_new(obj, "middleboxes", mbs);
    return obj;
}
