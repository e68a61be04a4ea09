/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli-live.h"
#include "perfsight/prometheus.h"

static void
cli_verror(const char *format, va_list args)
{
    fputs("perfsight: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
}

void
cli_fatal(int status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    cli_verror(format, args);
    va_end(args);
    exit(status);
}

void
cli_error(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    cli_verror(format, args);
    va_end(args);
}

struct ps_rulebook *
cli_load_rulebook(const struct cli_options *opts)
{
    char *error = NULL;
    struct ps_rulebook *rb = (opts->rulebook
                              ? ps_rulebook_load(opts->rulebook, &error)
                              : ps_rulebook_load_default(&error));
    if (!rb) {
        cli_error("%s", error);
        free(error);
    }
    return rb;
}

/* Unknown attribute names, each mentioned once. */
struct unknown_names {
    const char *source;
    char **names;
    size_t n;
};

static void
note_unknown_attr(const char *name, void *aux)
{
    struct unknown_names *u = aux;
    for (size_t i = 0; i < u->n; i++) {
        if (!strcmp(u->names[i], name)) {
            return;
        }
    }
    if (u->n < 64) {
        u->names = realloc(u->names, (u->n + 1) * sizeof *u->names);
        u->names[u->n++] = strdup(name);
        fprintf(stderr, "perfsight: note: %s: ignoring unknown attribute "
                "\"%s\"\n", u->source, name);
    }
}

/* Two rounds from the agents, 'seconds' apart; only hosts that answered
 * both take part. */
static struct ps_window *
live_window(const struct cli_options *opts)
{
    struct cli_agents agents;
    if (!cli_agents_open(opts, &agents)) {
        return NULL;
    }
    double seconds = opts->window.seconds > 0 ? opts->window.seconds : 1;
    struct ps_gather_records rounds[2];
    cli_round_run(&agents, &rounds[0]);
    cli_sleep(seconds);
    cli_round_run(&agents, &rounds[1]);

    char *error = NULL;
    struct ps_window *w = ps_gather_window(agents.targets, agents.n,
                                           &rounds[0], &rounds[1], &error);
    if (!w) {
        cli_error("gathering from the agents of %s: %s", opts->topology,
                  error);
        free(error);
    }
    ps_gather_records_clear(&rounds[0]);
    ps_gather_records_clear(&rounds[1]);
    cli_agents_close(&agents);
    return w;
}

struct ps_window *
cli_load_window(const struct cli_options *opts)
{
    char *error = NULL;
    struct ps_window *w;

    if (opts->input) {
        struct unknown_names unknown = { .source = opts->input };
        w = ps_window_from_file(opts->input, &opts->window,
                                note_unknown_attr, &unknown, &error);
        for (size_t i = 0; i < unknown.n; i++) {
            free(unknown.names[i]);
        }
        free(unknown.names);
    } else if (opts->prometheus) {
        struct ps_gather_options gopts = {
            .timeout_ms = opts->timeout_ms, .cacert = opts->cacert,
        };
        w = ps_prometheus_window(opts->prometheus, &opts->window, &gopts,
                                 &error);
    } else {
        return live_window(opts);
    }
    if (!w) {
        cli_error("%s", error);
        free(error);
    }
    return w;
}

static void
window_extent(const struct ps_window *w, int64_t *first, int64_t *last,
              double *min_dt, double *max_dt)
{
    *first = INT64_MAX;
    *last = INT64_MIN;
    *min_dt = 1e300;
    *max_dt = 0;
    for (size_t i = 0; i < w->n_deltas; i++) {
        const struct ps_delta *d = &w->deltas[i];
        *first = d->t0_ns < *first ? d->t0_ns : *first;
        *last = d->t1_ns > *last ? d->t1_ns : *last;
        *min_dt = d->dt < *min_dt ? d->dt : *min_dt;
        *max_dt = d->dt > *max_dt ? d->dt : *max_dt;
    }
}

static json_t *
refs_json(const struct ps_element_ref *refs, size_t n)
{
    json_t *array = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_object();
        json_object_set_new(r, "host", json_string(refs[i].host));
        json_object_set_new(r, "element", json_string(refs[i].element));
        json_object_set_new(r, "ts_ns", json_integer(refs[i].ts_ns));
        json_array_append_new(array, r);
    }
    return array;
}

json_t *
cli_window_json(const struct ps_window *w)
{
    int64_t first, last;
    double min_dt, max_dt;
    window_extent(w, &first, &last, &min_dt, &max_dt);

    json_t *obj = json_object();
    json_object_set_new(obj, "start_ns", json_integer(first));
    json_object_set_new(obj, "end_ns", json_integer(last));
    json_object_set_new(obj, "min_seconds", json_real(min_dt));
    json_object_set_new(obj, "max_seconds", json_real(max_dt));
    json_object_set_new(obj, "elements", json_integer(w->n_deltas));
    json_object_set_new(obj, "hosts", json_integer(w->n_hosts));
    json_object_set_new(obj, "records", json_integer(w->n_records));
    json_object_set_new(obj, "appeared",
                        refs_json(w->appeared, w->n_appeared));
    json_object_set_new(obj, "vanished",
                        refs_json(w->vanished, w->n_vanished));
    json_t *down = json_array();
    for (size_t i = 0; i < w->gaps.n; i++) {
        json_t *u = json_object();
        json_object_set_new(u, "host", json_string(w->gaps.hosts[i].host));
        json_object_set_new(u, "error",
                            json_string(w->gaps.hosts[i].error));
        json_array_append_new(down, u);
    }
    json_object_set_new(obj, "unreachable", down);
    return obj;
}

static void
print_refs(const char *what, const struct ps_element_ref *refs, size_t n)
{
    if (!n) {
        return;
    }
    printf("%zu element%s %s (no window): ", n, n == 1 ? "" : "s", what);
    for (size_t i = 0; i < n && i < 8; i++) {
        printf("%s%s/%s", i ? ", " : "", refs[i].host, refs[i].element);
    }
    printf("%s\n", n > 8 ? ", ..." : "");
}

void
cli_print_window(const struct ps_window *w)
{
    int64_t first, last;
    double min_dt, max_dt;
    window_extent(w, &first, &last, &min_dt, &max_dt);

    time_t t = last / 1000000000;
    struct tm tm;
    char when[64];
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);

    if (max_dt - min_dt < 0.001) {
        printf("window: %.3f s ending %s; %zu elements on %zu host%s\n",
               max_dt, when, w->n_deltas, w->n_hosts,
               w->n_hosts == 1 ? "" : "s");
    } else {
        printf("window: %.3f-%.3f s ending %s; %zu elements on %zu "
               "host%s\n", min_dt, max_dt, when, w->n_deltas, w->n_hosts,
               w->n_hosts == 1 ? "" : "s");
    }
    print_refs("appeared", w->appeared, w->n_appeared);
    print_refs("vanished", w->vanished, w->n_vanished);
    for (size_t i = 0; i < w->gaps.n; i++) {
        const struct ps_host_gap *gap = &w->gaps.hosts[i];
        printf("host %s %s: %s\n", gap->host,
               gap->answered ? "left out" : "did not answer", gap->error);
    }
}

void
cli_print_json(json_t *json)
{
    json_dumpf(json, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    putchar('\n');
    json_decref(json);
}

const char *
cli_human(double x, char *buf, size_t size)
{
    static const char suffixes[] = " kMGTP";
    int i = 0;
    while (x >= 1000 && i < 5) {
        x /= 1000;
        i++;
    }
    if (!i) {
        snprintf(buf, size, "%.0f", x);
    } else {
        snprintf(buf, size, "%.*f%c", x < 10 ? 2 : x < 100 ? 1 : 0, x,
                 suffixes[i]);
    }
    return buf;
}
