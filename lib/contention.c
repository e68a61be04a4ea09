/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/contention.h"

#include <stdlib.h>
#include <string.h>
#include "util.h"

/* Algorithm 1: per host, the loss of every data-plane element over the
 * window, largest first; the location of the largest decides, through the
 * rule book, which resources may be short.  Before sorting, a drop the
 * kernel counts twice is counted once: a packet the per-CPU backlog refuses
 * also increments the receiving device's rx_dropped and, for a veth or a
 * tap, the sending device's tx_dropped. */

const char *
ps_verdict_name(enum ps_verdict v)
{
    return (v == PS_VERDICT_CONTENTION ? "contention"
            : v == PS_VERDICT_BOTTLENECK ? "bottleneck"
            : "none");
}

/* Whether a device element may count a backlog drop again, and on which
 * side. */
static enum ps_direction
backlog_echo_side(const struct ps_delta *d)
{
    if (d->type != PS_PNIC_DRIVER && d->type != PS_TAP) {
        return PS_DIR_NONE;
    }
    enum ps_direction dir = ps_element_direction(d->element);
    return dir == PS_DIR_RX || dir == PS_DIR_TX ? dir : PS_DIR_NONE;
}

static int
compare_losses(const void *a_, const void *b_)
{
    const struct ps_loss *a = a_, *b = b_;
    if (a->loss != b->loss) {
        return a->loss > b->loss ? -1 : 1;
    }
    if (a->delta->type != b->delta->type) {
        return a->delta->type < b->delta->type ? -1 : 1;
    }
    return strcmp(a->delta->element, b->delta->element);
}

static int
compare_loss_ptrs(const void *a_, const void *b_)
{
    const struct ps_loss *a = *(const struct ps_loss *const *) a_;
    const struct ps_loss *b = *(const struct ps_loss *const *) b_;
    if (a->loss != b->loss) {
        return a->loss > b->loss ? -1 : 1;
    }
    /* Ties by name, so that the input's order does not matter. */
    return strcmp(a->delta->element, b->delta->element);
}

/* Removes up to 'budget' drops from the elements of 'losses' that echo the
 * backlog on 'side', the largest first. */
static uint64_t
deduplicate(struct ps_loss *losses, size_t n, enum ps_direction side,
            uint64_t budget)
{
    struct ps_loss **echoes = ps_xmalloc((n + 1) * sizeof *echoes);
    size_t n_echoes = 0;
    for (size_t i = 0; i < n; i++) {
        if (backlog_echo_side(losses[i].delta) == side && losses[i].loss) {
            echoes[n_echoes++] = &losses[i];
        }
    }
    if (n_echoes > 1) {
        qsort(echoes, n_echoes, sizeof *echoes, compare_loss_ptrs);
    }

    uint64_t removed = 0;
    for (size_t i = 0; i < n_echoes && budget; i++) {
        uint64_t take = echoes[i]->loss < budget ? echoes[i]->loss : budget;
        echoes[i]->loss -= take;
        budget -= take;
        removed += take;
    }
    free(echoes);
    return removed;
}

static void
gather_evidence(const struct ps_rulebook *rb, const struct ps_delta *d,
                size_t n, struct ps_contention *c)
{
    c->cpu_high = c->tx_near_capacity = c->rx_near_capacity = PS_EV_UNKNOWN;
    bool have_cpu = false;

    for (size_t i = 0; i < n; i++) {
        if (d[i].type == PS_CPU && !d[i].vm
            && ps_delta_has_gauge(&d[i], PS_CPU_UTIL)
            && (!have_cpu || !strcmp(d[i].element, "cpu:host"))) {
            have_cpu = true;
            c->cpu_util = d[i].gauges[PS_CPU_UTIL];
        }
        if (d[i].type == PS_PNIC
            && ps_delta_has_gauge(&d[i], PS_CAPACITY_BPS)
            && d[i].gauges[PS_CAPACITY_BPS] > 0) {
            enum ps_direction dir = ps_element_direction(d[i].element);
            double util = (ps_delta_throughput_bps(&d[i])
                           / d[i].gauges[PS_CAPACITY_BPS]);
            if (dir == PS_DIR_TX && (c->tx_near_capacity == PS_EV_UNKNOWN
                                     || util > c->tx_util)) {
                c->tx_util = util;
                c->tx_element = d[i].element;
                c->tx_near_capacity = util >= rb->near_capacity;
            } else if (dir == PS_DIR_RX
                       && (c->rx_near_capacity == PS_EV_UNKNOWN
                           || util > c->rx_util)) {
                c->rx_util = util;
                c->rx_element = d[i].element;
                c->rx_near_capacity = util >= rb->near_capacity;
            }
        }
    }
    if (have_cpu) {
        c->cpu_high = c->cpu_util >= rb->cpu_high;
    }
}

static enum ps_evidence
evidence_for(const struct ps_contention *c, enum ps_condition cond)
{
    switch (cond) {
    case PS_COND_CPU_HIGH:
        return c->cpu_high;
    case PS_COND_TX_NEAR_CAPACITY:
        return c->tx_near_capacity;
    case PS_COND_RX_NEAR_CAPACITY:
        return c->rx_near_capacity;
    case PS_COND_NONE:
    case PS_N_CONDITIONS:
    default:
        return PS_EV_TRUE;
    }
}

static bool
rule_matches(const struct ps_rule *rule, const struct ps_contention *c,
             const char *reason)
{
    if ((!rule->any_location && rule->location != c->location)
        || (rule->reason && (!reason || strcmp(rule->reason, reason)))
        || (rule->scope != PS_SCOPE_ANY && rule->scope != c->scope)) {
        return false;
    }
    if (rule->condition == PS_COND_NONE) {
        return true;
    }
    enum ps_evidence ev = evidence_for(c, rule->condition);
    /* Without the evidence, both readings stay possible. */
    return ev == PS_EV_UNKNOWN || (ev == PS_EV_TRUE) != rule->negated;
}

static void
add_unique(const char ***list, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++) {
        if (!strcmp((*list)[i], s)) {
            return;
        }
    }
    *list = ps_xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = s;
}

static void
apply_rules(const struct ps_rulebook *rb, struct ps_contention *c)
{
    /* Rules for the dominant drop reason at this location first, then
     * those for the reason at any location ("*" /REASON), then the
     * location's general rules, each only if none before matched. */
    for (int pass = 0; pass < 3 && !c->n_rules; pass++) {
        for (size_t i = 0; i < rb->n_rules; i++) {
            const struct ps_rule *rule = &rb->rules[i];
            int rule_pass = (!rule->reason ? 2
                             : rule->any_location ? 1 : 0);
            if (rule_pass != pass || !rule_matches(rule, c, c->reason)) {
                continue;
            }
            c->rules = ps_xrealloc(c->rules,
                                   (c->n_rules + 1) * sizeof *c->rules);
            c->rules[c->n_rules++] = rule;
            for (size_t j = 0; j < rule->n_resources; j++) {
                add_unique(&c->resources, &c->n_resources,
                           rule->resources[j]);
            }
        }
    }
}

/* The reason with the most drops over the location's lossy elements.  Few
 * reasons exist, so a short list of sums is enough. */
static const char *
dominant_reason(const struct ps_contention *c)
{
    struct reason_sum {
        const char *name;
        uint64_t sum;
    } *sums = NULL;
    size_t n_sums = 0, allocated = 0;

    for (size_t i = 0; i < c->n_losses; i++) {
        const struct ps_delta *d = c->losses[i].delta;
        if (d->type != c->location) {
            continue;
        }
        for (size_t r = 0; r < d->n_reasons; r++) {
            size_t j;
            for (j = 0; j < n_sums; j++) {
                if (!strcmp(sums[j].name, d->reasons[r].name)) {
                    break;
                }
            }
            if (j == n_sums) {
                sums = ps_grow(sums, &allocated, n_sums + 1, sizeof *sums);
                sums[n_sums++] = (struct reason_sum) { d->reasons[r].name,
                                                       0 };
            }
            sums[j].sum += d->reasons[r].delta;
        }
    }

    const char *best = NULL;
    uint64_t best_sum = 0;
    for (size_t j = 0; j < n_sums; j++) {
        if (sums[j].sum > best_sum
            || (sums[j].sum == best_sum && best_sum
                && strcmp(sums[j].name, best) < 0)) {
            best = sums[j].name;
            best_sum = sums[j].sum;
        }
    }
    free(sums);
    return best;
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static void
decide_scope(const struct ps_rulebook *rb, struct ps_contention *c)
{
    uint64_t top = 0;
    size_t n_elements = 0;

    for (size_t i = 0; i < c->n_losses; i++) {
        if (c->losses[i].delta->type == c->location) {
            top = c->losses[i].loss;
            break;
        }
    }
    bool attributed = false;

    for (size_t i = 0; i < c->n_losses; i++) {
        const struct ps_loss *l = &c->losses[i];
        if (l->delta->type != c->location
            || l->loss < rb->vm_share * top) {
            continue;
        }
        n_elements++;
        if (l->delta->vm) {
            attributed = true;
            add_unique(&c->vms, &c->n_vms, l->delta->vm);
        }
    }

    if (ps_element_type_is_shared(c->location)
        || (!attributed && c->location == PS_VSWITCH)) {
        c->scope = PS_SCOPE_SHARED;
        /* The VMs whose paths lose packets anywhere on the host. */
        free(c->vms);
        c->vms = NULL;
        c->n_vms = 0;
        for (size_t i = 0; i < c->n_losses; i++) {
            if (c->losses[i].delta->vm) {
                add_unique(&c->vms, &c->n_vms, c->losses[i].delta->vm);
            }
        }
    } else {
        size_t n = attributed ? c->n_vms : n_elements;
        c->scope = n >= 2 ? PS_SCOPE_AGGREGATED : PS_SCOPE_SINGLE;
    }
    if (c->n_vms > 1) {
        qsort(c->vms, c->n_vms, sizeof *c->vms, compare_strings);
    }
}

static void
diagnose_host(const struct ps_rulebook *rb, const struct ps_delta *d,
              size_t n, struct ps_contention *c)
{
    c->host = d[0].host;
    gather_evidence(rb, d, n, c);

    struct ps_loss *all = ps_xcalloc(n + 1, sizeof *all);
    size_t n_all = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ps_element_type_in_stack(d[i].type)) {
            continue;
        }
        uint64_t loss = ps_delta_packet_loss(&d[i]);
        uint64_t offered = ps_delta_offered_packets(&d[i]);
        if (d[i].type == PS_BACKLOG) {
            c->backlog_drops += loss;
        }
        if (loss) {
            all[n_all++] = (struct ps_loss) {
                .delta = &d[i], .loss = loss, .counted = loss,
                .ratio = offered ? (double) loss / offered : -1.0,
            };
        }
    }
    c->deduplicated = (deduplicate(all, n_all, PS_DIR_RX, c->backlog_drops)
                       + deduplicate(all, n_all, PS_DIR_TX,
                                     c->backlog_drops));

    /* Keep what is above the noise floor. */
    c->losses = all;
    c->n_losses = 0;
    for (size_t i = 0; i < n_all; i++) {
        struct ps_loss *l = &all[i];
        uint64_t offered = ps_delta_offered_packets(l->delta);
        if (offered) {
            l->ratio = (double) l->loss / offered;
        }
        if (l->loss >= rb->min_drops && l->loss > 0
            && (!offered || l->ratio >= rb->min_loss_ratio)) {
            all[c->n_losses++] = *l;
            c->total_loss += l->loss;
        }
    }
    if (!c->n_losses) {
        c->verdict = PS_VERDICT_NONE;
        return;
    }
    qsort(c->losses, c->n_losses, sizeof *c->losses, compare_losses);

    /* The location is the stage that loses most: a per-CPU backlog or a
     * set of taps is one stage split over several elements. */
    uint64_t by_type[PS_N_ELEMENT_TYPES] = { 0 };
    for (size_t i = 0; i < c->n_losses; i++) {
        by_type[c->losses[i].delta->type] += c->losses[i].loss;
    }
    c->has_location = true;
    c->location = c->losses[0].delta->type;
    for (int t = 0; t < PS_N_ELEMENT_TYPES; t++) {
        if (by_type[t] > by_type[c->location]) {
            c->location = t;
        }
    }
    c->location_loss = by_type[c->location];
    c->reason = dominant_reason(c);
    decide_scope(rb, c);
    c->verdict = (c->scope == PS_SCOPE_SINGLE ? PS_VERDICT_BOTTLENECK
                  : PS_VERDICT_CONTENTION);
    apply_rules(rb, c);
}

void
ps_contention_diagnose(const struct ps_rulebook *rb,
                       const struct ps_window *w,
                       struct ps_contention_report *report)
{
    report->hosts = ps_xcalloc(w->n_hosts + 1, sizeof *report->hosts);
    report->n_hosts = 0;

    /* The window groups deltas by host. */
    for (size_t start = 0; start < w->n_deltas; ) {
        size_t end = start + 1;
        while (end < w->n_deltas
               && w->deltas[end].host_idx == w->deltas[start].host_idx) {
            end++;
        }
        diagnose_host(rb, &w->deltas[start], end - start,
                      &report->hosts[report->n_hosts++]);
        start = end;
    }
}

void
ps_contention_report_destroy(struct ps_contention_report *report)
{
    for (size_t i = 0; i < report->n_hosts; i++) {
        struct ps_contention *c = &report->hosts[i];
        free(c->resources);
        free(c->vms);
        free(c->losses);
        free(c->rules);
    }
    free(report->hosts);
    report->hosts = NULL;
    report->n_hosts = 0;
}

static json_t *
evidence_json(enum ps_evidence ev)
{
    return ev == PS_EV_UNKNOWN ? json_null() : json_boolean(ev);
}

/* Losses listed in JSON: enough to see the pattern, bounded for hosts with
 * thousands of lossy elements. */
#define MAX_JSON_LOSSES 20

static json_t *
contention_to_json(const struct ps_contention *c)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "host", json_string(c->host));
    json_object_set_new(obj, "verdict",
                        json_string(ps_verdict_name(c->verdict)));
    json_object_set_new(obj, "location", c->has_location
                        ? json_string(ps_element_type_name(c->location))
                        : json_null());
    json_object_set_new(obj, "reason",
                        c->reason ? json_string(c->reason) : json_null());
    json_object_set_new(obj, "scope", c->has_location
                        ? json_string(ps_scope_name(c->scope))
                        : json_null());

    json_t *resources = json_array();
    for (size_t i = 0; i < c->n_resources; i++) {
        json_array_append_new(resources, json_string(c->resources[i]));
    }
    json_object_set_new(obj, "resources", resources);
    json_t *vms = json_array();
    for (size_t i = 0; i < c->n_vms; i++) {
        json_array_append_new(vms, json_string(c->vms[i]));
    }
    json_object_set_new(obj, "vms", vms);

    json_t *ev = json_object();
    json_object_set_new(ev, "total_loss", json_integer(c->total_loss));
    json_object_set_new(ev, "location_loss", json_integer(c->location_loss));
    json_t *losses = json_array();
    for (size_t i = 0; i < c->n_losses && i < MAX_JSON_LOSSES; i++) {
        const struct ps_loss *l = &c->losses[i];
        json_t *lj = json_object();
        json_object_set_new(lj, "element", json_string(l->delta->element));
        json_object_set_new(lj, "type", json_string(
                                ps_element_type_name(l->delta->type)));
        if (l->delta->vm) {
            json_object_set_new(lj, "vm", json_string(l->delta->vm));
        }
        json_object_set_new(lj, "loss", json_integer(l->loss));
        if (l->counted != l->loss) {
            json_object_set_new(lj, "counted", json_integer(l->counted));
        }
        json_object_set_new(lj, "loss_ratio", l->ratio >= 0
                            ? json_real(l->ratio) : json_null());
        json_array_append_new(losses, lj);
    }
    json_object_set_new(ev, "losses", losses);
    json_object_set_new(ev, "lossy_elements", json_integer(c->n_losses));
    json_object_set_new(ev, "backlog_drops", json_integer(c->backlog_drops));
    json_object_set_new(ev, "deduplicated", json_integer(c->deduplicated));
    json_object_set_new(ev, "cpu_util", c->cpu_high != PS_EV_UNKNOWN
                        ? json_real(c->cpu_util) : json_null());
    json_object_set_new(ev, "cpu_high", evidence_json(c->cpu_high));
    json_object_set_new(ev, "tx_utilisation",
                        c->tx_near_capacity != PS_EV_UNKNOWN
                        ? json_real(c->tx_util) : json_null());
    json_object_set_new(ev, "tx_near_capacity",
                        evidence_json(c->tx_near_capacity));
    json_object_set_new(ev, "rx_utilisation",
                        c->rx_near_capacity != PS_EV_UNKNOWN
                        ? json_real(c->rx_util) : json_null());
    json_object_set_new(ev, "rx_near_capacity",
                        evidence_json(c->rx_near_capacity));
    json_t *rules = json_array();
    for (size_t i = 0; i < c->n_rules; i++) {
        json_array_append_new(rules, json_integer(c->rules[i]->line));
    }
    json_object_set_new(ev, "rulebook_lines", rules);
    json_object_set_new(obj, "evidence", ev);
    return obj;
}

json_t *
ps_contention_report_to_json(const struct ps_contention_report *report)
{
    json_t *hosts = json_array();
    for (size_t i = 0; i < report->n_hosts; i++) {
        json_array_append_new(hosts, contention_to_json(&report->hosts[i]));
    }
    return hosts;
}
