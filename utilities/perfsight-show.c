/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* perfsight show: every element with its rates and losses. */

#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static json_t *
delta_json(const struct ps_delta *d)
{
    json_t *e = json_object();
    json_object_set_new(e, "host", json_string(d->host));
    json_object_set_new(e, "element", json_string(d->element));
    json_object_set_new(e, "type", json_string(ps_element_type_name(d->type)));
    if (d->vm) {
        json_object_set_new(e, "vm", json_string(d->vm));
    }
    if (d->tenant) {
        json_object_set_new(e, "tenant", json_string(d->tenant));
    }
    json_object_set_new(e, "seconds", json_real(d->dt));

    json_t *deltas = json_object();
    json_t *rates = json_object();
    json_t *resets = json_array();
    for (int c = 0; c < PS_N_COUNTERS; c++) {
        if (ps_delta_has(d, c)) {
            char *name = NULL;
            json_object_set_new(deltas, ps_counter_name(c),
                                json_integer(d->d[c]));
            if (asprintf(&name, "%s_per_s", ps_counter_name(c)) > 0) {
                json_object_set_new(rates, name,
                                    json_real(ps_delta_rate(d, c)));
                free(name);
            }
            if ((d->reset >> c) & 1) {
                json_array_append_new(resets,
                                      json_string(ps_counter_name(c)));
            }
        }
    }
    for (size_t i = 0; i < d->n_reasons; i++) {
        char *name = NULL;
        if (asprintf(&name, "drops.%s", d->reasons[i].name) > 0) {
            json_object_set_new(deltas, name,
                                json_integer(d->reasons[i].delta));
            free(name);
        }
    }
    json_object_set_new(e, "deltas", deltas);
    json_object_set_new(e, "rates", rates);
    json_object_set_new(e, "reset", resets);
    json_object_set_new(e, "throughput_bps",
                        json_real(ps_delta_throughput_bps(d)));
    json_object_set_new(e, "avg_packet_size",
                        json_real(ps_delta_avg_packet_size(d)));
    uint64_t loss = ps_delta_packet_loss(d);
    uint64_t offered = ps_delta_offered_packets(d);
    json_object_set_new(e, "loss", json_integer(loss));
    json_object_set_new(e, "loss_ratio", offered
                        ? json_real((double) loss / offered) : json_null());
    for (int g = 0; g < PS_N_GAUGES; g++) {
        if (ps_delta_has_gauge(d, g)) {
            json_object_set_new(e, ps_gauge_name(g), json_real(d->gauges[g]));
        }
    }
    double delay = ps_delta_queue_delay(d);
    if (delay >= 0) {
        /* JSON has no infinity: a stalled queue's delay is null. */
        json_object_set_new(e, "queue_delay_s", isinf(delay)
                            ? json_null() : json_real(delay));
        json_object_set_new(e, "queue_stalled", json_boolean(isinf(delay)));
    }
    return e;
}

static int
compare_deltas(const void *a_, const void *b_)
{
    const struct ps_delta *a = *(const struct ps_delta *const *) a_;
    const struct ps_delta *b = *(const struct ps_delta *const *) b_;
    if (a->host_idx != b->host_idx) {
        return a->host_idx < b->host_idx ? -1 : 1;
    }
    if (a->type != b->type) {
        return a->type < b->type ? -1 : 1;
    }
    return strcmp(a->element, b->element);
}

/* The window's elements by host, pipeline stage and id, so that the same
 * records in any order show the same. */
static const struct ps_delta **
sorted_deltas(const struct ps_window *w)
{
    const struct ps_delta **sorted = malloc((w->n_deltas + 1)
                                            * sizeof *sorted);
    for (size_t i = 0; i < w->n_deltas; i++) {
        sorted[i] = &w->deltas[i];
    }
    qsort(sorted, w->n_deltas, sizeof *sorted, compare_deltas);
    return sorted;
}

/* The element's queue and its delay, next to its loss. */
static void
print_queue(const struct ps_delta *d)
{
    double delay = ps_delta_queue_delay(d);
    char text[32];

    if (delay < 0) {
        return;
    }
    if (isinf(delay)) {
        snprintf(text, sizeof text, "stalled");
    } else if (delay >= 1) {
        snprintf(text, sizeof text, "%.2f s", delay);
    } else if (delay >= 1e-3) {
        snprintf(text, sizeof text, "%.2f ms", delay * 1e3);
    } else {
        snprintf(text, sizeof text, "%.1f us", delay * 1e6);
    }
    printf("  %-34s queue_len %.0f  delay %s\n", "",
           d->gauges[PS_QUEUE_LEN], text);
}

static void
print_host_table(const struct ps_window *w, const struct ps_delta **sorted,
                 size_t host_idx)
{
    char b1[16], b2[16], b3[16], b4[16];

    printf("\nhost %s\n", w->hosts[host_idx]);
    printf("  %-34s %-13s %-8s %8s %8s %8s %8s %9s %7s\n", "ELEMENT", "TYPE",
           "VM", "IN pps", "OUT pps", "IN b/s", "OUT b/s", "LOSS", "LOSS%");
    for (size_t i = 0; i < w->n_deltas; i++) {
        const struct ps_delta *d = sorted[i];
        if (d->host_idx != host_idx) {
            continue;
        }
        uint64_t loss = ps_delta_packet_loss(d);
        uint64_t offered = ps_delta_offered_packets(d);
        char pct[16] = "-";
        if (offered) {
            snprintf(pct, sizeof pct, "%.2f", 100.0 * loss / offered);
        }
        printf("  %-34s %-13s %-8s %8s %8s %8s %8s %9llu %7s%s\n",
               d->element, ps_element_type_name(d->type),
               d->vm ? d->vm : "-",
               cli_human(ps_delta_rate(d, PS_IN_PACKETS), b1, sizeof b1),
               cli_human(ps_delta_rate(d, PS_OUT_PACKETS), b2, sizeof b2),
               cli_human(ps_delta_rate(d, PS_IN_BYTES) * 8, b3, sizeof b3),
               cli_human(ps_delta_rate(d, PS_OUT_BYTES) * 8, b4, sizeof b4),
               (unsigned long long) loss, pct, d->reset ? "  (reset)" : "");
        print_queue(d);
        if (ps_delta_has_gauge(d, PS_CPU_UTIL)) {
            printf("  %-34s cpu_util %.2f\n", "",
                   d->gauges[PS_CPU_UTIL]);
        }
        for (size_t r = 0; r < d->n_reasons; r++) {
            if (d->reasons[r].delta) {
                printf("  %-34s   drops.%s %llu\n", "", d->reasons[r].name,
                       (unsigned long long) d->reasons[r].delta);
            }
        }
    }
}

int
cmd_show(const struct cli_options *opts)
{
    struct ps_window *w = cli_load_window(opts);
    size_t only = SIZE_MAX;

    if (!w) {
        return EXIT_BAD_INPUT;
    }
    if (opts->host) {
        for (size_t h = 0; h < w->n_hosts; h++) {
            if (!strcmp(w->hosts[h], opts->host)) {
                only = h;
            }
        }
        if (only == SIZE_MAX) {
            cli_error("--host: no host \"%s\" in %s", opts->host,
                      opts->input);
            ps_window_destroy(w);
            return EXIT_BAD_INPUT;
        }
    }

    const struct ps_delta **sorted = sorted_deltas(w);
    if (opts->format == CLI_JSON) {
        json_t *obj = json_object();
        json_t *elements = json_array();
        json_object_set_new(obj, "window", cli_window_json(w));
        for (size_t i = 0; i < w->n_deltas; i++) {
            if (only == SIZE_MAX || sorted[i]->host_idx == only) {
                json_array_append_new(elements, delta_json(sorted[i]));
            }
        }
        json_object_set_new(obj, "elements", elements);
        cli_print_json(obj);
    } else {
        cli_print_window(w);
        for (size_t h = 0; h < w->n_hosts; h++) {
            if (only == SIZE_MAX || h == only) {
                print_host_table(w, sorted, h);
            }
        }
    }
    free(sorted);
    ps_window_destroy(w);
    return 0;
}
