/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* perfsight diagnose contention | rootcause: the verdict first, then the
 * numbers that decided it. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "perfsight/contention.h"
#include "perfsight/rootcause.h"
#include "perfsight/topology.h"

/* Lossy elements listed per host in text. */
#define MAX_TEXT_LOSSES 8

static void
print_list(const char *const *items, size_t n, const char *none)
{
    if (!n) {
        fputs(none, stdout);
    }
    for (size_t i = 0; i < n; i++) {
        printf("%s%s", i ? ", " : "", items[i]);
    }
}

static void
print_contention(const struct ps_contention *c)
{
    if (c->verdict == PS_VERDICT_NONE) {
        printf("\nhost %s: NONE: no packet loss above the noise floor\n",
               c->host);
        return;
    }

    const char *scope = (c->scope == PS_SCOPE_SHARED ? "a host-wide stage"
                         : c->scope == PS_SCOPE_SINGLE ? "one VM's path"
                         : "several VMs' paths");
    printf("\nhost %s: %s at %s%s%s (%s)\n", c->host,
           c->verdict == PS_VERDICT_CONTENTION ? "CONTENTION" : "BOTTLENECK",
           ps_element_type_name(c->location), c->reason ? "/" : "",
           c->reason ? c->reason : "", scope);
    printf("  resources: ");
    print_list(c->resources, c->n_resources, "(no rule for this location)");
    printf("\n  vms:       ");
    print_list(c->vms, c->n_vms, "-");
    printf("\n");

    const struct ps_loss *top = c->losses;
    while (top->delta->type != c->location) {
        top++;
    }
    printf("  evidence:  %llu packets lost at %s elements (the most), "
           "%llu on the host in all;\n             largest at %s: %llu",
           (unsigned long long) c->location_loss,
           ps_element_type_name(c->location),
           (unsigned long long) c->total_loss, top->delta->element,
           (unsigned long long) top->loss);
    if (top->ratio >= 0) {
        printf(" (%.2f%% of offered)", top->ratio * 100);
    }
    printf("\n");
    if (c->cpu_high != PS_EV_UNKNOWN) {
        printf("             host cpu_util %.2f (%s)\n", c->cpu_util,
               c->cpu_high ? "high" : "not high");
    }
    if (c->tx_near_capacity != PS_EV_UNKNOWN) {
        printf("             %s at %.0f%% of capacity\n", c->tx_element,
               c->tx_util * 100);
    }
    if (c->rx_near_capacity != PS_EV_UNKNOWN) {
        printf("             %s at %.0f%% of capacity\n", c->rx_element,
               c->rx_util * 100);
    }
    if (c->deduplicated) {
        printf("             %llu backlog drops also counted by devices, "
               "counted once\n", (unsigned long long) c->deduplicated);
    }
    if (c->n_rules) {
        printf("             rule book lines");
        for (size_t i = 0; i < c->n_rules; i++) {
            printf(" %d", c->rules[i]->line);
        }
        printf("\n");
    }

    printf("  %-34s %-13s %-8s %10s %8s\n", "LOSSY ELEMENT", "TYPE", "VM",
           "LOSS", "LOSS%");
    for (size_t i = 0; i < c->n_losses && i < MAX_TEXT_LOSSES; i++) {
        const struct ps_loss *l = &c->losses[i];
        char pct[16] = "-";
        if (l->ratio >= 0) {
            snprintf(pct, sizeof pct, "%.2f", l->ratio * 100);
        }
        printf("  %-34s %-13s %-8s %10llu %8s\n", l->delta->element,
               ps_element_type_name(l->delta->type),
               l->delta->vm ? l->delta->vm : "-",
               (unsigned long long) l->loss, pct);
    }
    if (c->n_losses > MAX_TEXT_LOSSES) {
        printf("  ... and %zu more lossy elements\n",
               c->n_losses - MAX_TEXT_LOSSES);
    }
}

int
cmd_diagnose_contention(const struct cli_options *opts)
{
    struct ps_rulebook *rb = cli_load_rulebook(opts);
    if (!rb) {
        return EXIT_BAD_INPUT;
    }
    struct ps_window *w = cli_load_window(opts);
    struct ps_contention_report report;

    if (!w) {
        ps_rulebook_destroy(rb);
        return EXIT_BAD_INPUT;
    }
    ps_contention_diagnose(rb, w, &report);

    bool found = !opts->host;
    if (opts->format == CLI_JSON) {
        json_t *obj = json_object();
        json_t *all = ps_contention_report_to_json(&report);
        json_t *hosts = json_array();
        size_t i;
        json_t *h;
        json_array_foreach (all, i, h) {
            const char *id = json_string_value(json_object_get(h, "host"));
            if (!opts->host || !strcmp(id, opts->host)) {
                json_array_append(hosts, h);
                found = true;
            }
        }
        json_decref(all);
        json_object_set_new(obj, "window", cli_window_json(w));
        json_object_set_new(obj, "hosts", hosts);
        if (found) {
            cli_print_json(obj);
        } else {
            json_decref(obj);
        }
    } else {
        cli_print_window(w);
        for (size_t i = 0; i < report.n_hosts; i++) {
            if (!opts->host || !strcmp(report.hosts[i].host, opts->host)) {
                print_contention(&report.hosts[i]);
                found = true;
            }
        }
    }

    ps_contention_report_destroy(&report);
    ps_window_destroy(w);
    ps_rulebook_destroy(rb);
    if (!found) {
        cli_error("--host: no host \"%s\" in %s", opts->host, opts->input);
        return EXIT_BAD_INPUT;
    }
    return 0;
}

static void
print_rootcause(const struct ps_rootcause *rc)
{
    printf("\ntenant %s: ", rc->tenant->id);
    if (!rc->n_causes) {
        printf("no root cause found\n");
    }
    for (size_t i = 0; i < rc->n_causes; i++) {
        printf("%s%s %s%s", i ? ", " : "ROOT CAUSE ", rc->causes[i].id,
               rc->causes[i].state, rc->causes[i].endpoint
               ? " (endpoint)" : "");
    }
    if (rc->n_causes) {
        printf("\n");
    }
    for (size_t i = 0; i < rc->n_causes; i++) {
        printf("  %s: %s\n", rc->causes[i].id, rc->causes[i].why);
    }

    printf("  %-12s %-12s %10s %10s %10s %10s %10s %10s\n", "MIDDLEBOX",
           "STATE", "C Mb/s", "in MB", "t_in s", "b_in/C s", "t_out s",
           "b_out/C s");
    for (size_t i = 0; i < rc->n_mbs; i++) {
        const struct ps_mb_verdict *v = &rc->mbs[i];
        const char *state = ps_mb_state_name(v->state);
        char both[32];
        if (v->read_blocked && v->write_blocked) {
            snprintf(both, sizeof both, "%s+", state);
            state = both;
        }
        printf("  %-12s %-12s %10.1f %10.2f %10.3f %10.3f %10.3f %10.3f\n",
               v->node->id, state, v->capacity * 8 / 1e6, v->b_in / 1e6,
               v->t_in, v->b_in / v->capacity, v->t_out,
               v->b_out / v->capacity);
    }
    for (size_t i = 0; i < rc->n_mbs; i++) {
        const struct ps_mb_verdict *v = &rc->mbs[i];
        if (!v->write_blocked || !v->by_peer) {
            continue;
        }
        printf("  %s waits on (by its per-peer counters):", v->node->id);
        size_t n = 0;
        for (size_t j = 0; j < v->node->n_succ; j++) {
            if (v->waits_on[j]) {
                printf(" %s", rc->tenant->nodes[v->node->succ[j]].id);
                n++;
            }
        }
        printf("%s\n", n ? "" : " none of its successors");
    }
}

int
cmd_diagnose_rootcause(const struct cli_options *opts)
{
    if (!opts->topology) {
        cli_fatal(EXIT_USAGE, "diagnose rootcause needs --topology FILE");
    }
    char *error = NULL;
    struct ps_topology *topo = ps_topology_load(opts->topology, &error);
    if (!topo) {
        cli_fatal(EXIT_BAD_INPUT, "%s", error);
    }
    if (opts->tenant && !ps_topology_find_tenant(topo, opts->tenant)) {
        cli_error("--tenant: no tenant \"%s\" in %s", opts->tenant,
                  opts->topology);
        ps_topology_destroy(topo);
        return EXIT_BAD_INPUT;
    }
    if (!topo->n_tenants) {
        cli_error("%s: no tenants", opts->topology);
        ps_topology_destroy(topo);
        return EXIT_BAD_INPUT;
    }

    struct ps_window *w = cli_load_window(opts);
    if (!w) {
        ps_topology_destroy(topo);
        return EXIT_BAD_INPUT;
    }
    struct ps_rootcause *results = calloc(topo->n_tenants,
                                          sizeof *results);
    size_t n = 0;
    for (size_t i = 0; i < topo->n_tenants && !error; i++) {
        const struct ps_topo_tenant *t = &topo->tenants[i];
        if (opts->tenant && strcmp(t->id, opts->tenant)) {
            continue;
        }
        error = ps_rootcause_diagnose(t, w, &results[n]);
        if (!error) {
            n++;
        }
    }

    int status = error ? EXIT_BAD_INPUT : 0;
    if (error) {
        cli_error("%s and %s: %s", opts->topology, opts->input, error);
        free(error);
    } else if (opts->format == CLI_JSON) {
        json_t *obj = json_object();
        json_t *tenants = json_array();
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(tenants, ps_rootcause_to_json(&results[i]));
        }
        json_object_set_new(obj, "window", cli_window_json(w));
        json_object_set_new(obj, "tenants", tenants);
        cli_print_json(obj);
    } else {
        cli_print_window(w);
        for (size_t i = 0; i < n; i++) {
            print_rootcause(&results[i]);
        }
    }

    for (size_t i = 0; i < n; i++) {
        ps_rootcause_destroy(&results[i]);
    }
    free(results);
    ps_window_destroy(w);
    ps_topology_destroy(topo);
    return status;
}
