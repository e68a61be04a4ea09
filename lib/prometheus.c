/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/prometheus.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util.h"

/* The metric names and units are those of record.c's attribute table,
 * which perfsight-agent's /metrics also writes from. */
#define REASON_METRIC "perfsight_drops_by_reason_total"

/* One parsed sample before it is grouped into a record. */
struct sample {
    const json_t *metric;       /* The series' labels. */
    const char *element, *host;
    int64_t ts_ns;
    int attr;                   /* Counter, or PS_N_COUNTERS + gauge, or
                                 * -1 for a reason. */
    const char *reason;
    double value;
};

static int
compare_samples(const void *a_, const void *b_)
{
    const struct sample *a = a_, *b = b_;
    int c = strcmp(a->host, b->host);
    if (!c) {
        c = strcmp(a->element, b->element);
    }
    if (!c) {
        c = a->ts_ns < b->ts_ns ? -1 : a->ts_ns > b->ts_ns;
    }
    return c;
}

static int
metric_attr(const char *name)
{
    const struct ps_attr_info *a = ps_attr_info_by_metric(name);
    if (a) {
        return a->kind == PS_ATTR_COUNTER ? a->index
                                          : PS_N_COUNTERS + a->index;
    }
    return !strcmp(name, REASON_METRIC) ? -1 : -2;
}

static const char *
label_value(const json_t *metric, const char *key)
{
    return json_string_value(json_object_get(metric, key));
}

static int
compare_reasons(const void *a_, const void *b_)
{
    const struct ps_reason *a = a_, *b = b_;
    return strcmp(a->name, b->name);
}

/* Turns the samples of one (host, element, time) group into a record. */
static char *
group_to_record(const struct sample *s, size_t n, struct ps_record *r)
{
    const json_t *m = s[0].metric;
    const char *type = label_value(m, "type");

    ps_record_init(r);
    if (!type || !ps_element_type_from_name(type, &r->type)) {
        return ps_xasprintf("series of element \"%s\" has no valid \"type\" "
                            "label", s[0].element);
    }
    r->ts_ns = s[0].ts_ns;
    r->host = ps_xstrdup(s[0].host);
    r->element = ps_xstrdup(s[0].element);
    if (label_value(m, "vm")) {
        r->vm = ps_xstrdup(label_value(m, "vm"));
    }
    if (label_value(m, "tenant")) {
        r->tenant = ps_xstrdup(label_value(m, "tenant"));
    }
    for (size_t i = 0; i < n; i++) {
        double v = s[i].value;
        double scale = (s[i].attr >= 0 && s[i].attr < PS_N_COUNTERS
                        ? ps_counter_info(s[i].attr)->metric_scale : 1);
        if (!isfinite(v) || v < 0
            || (s[i].attr < PS_N_COUNTERS && v / scale >= 0x1p64)) {
            ps_record_destroy(r);
            return ps_xasprintf("element \"%s\": value %g out of range",
                                s[i].element, v);
        }
        if (s[i].attr >= PS_N_COUNTERS) {
            int g = s[i].attr - PS_N_COUNTERS;
            r->gauges[g] = v;
            r->has_gauges |= 1u << g;
        } else if (s[i].attr >= 0) {
            int c = s[i].attr;
            r->counters[c] = round(v / scale);
            r->has_counters |= 1u << c;
        } else {
            r->reasons = ps_xrealloc(r->reasons, (r->n_reasons + 1)
                                     * sizeof *r->reasons);
            r->reasons[r->n_reasons].name = ps_xstrdup(s[i].reason);
            r->reasons[r->n_reasons].value = round(v);
            r->n_reasons++;
        }
    }

    /* A record's reasons are sorted by name, each once (the window pairs
     * them by name): the series of a group come in any order, and two
     * series may give the same reason (scraped twice, or a duplicate
     * sample), of which the record keeps one, as for a counter. */
    if (r->n_reasons > 1) {
        qsort(r->reasons, r->n_reasons, sizeof *r->reasons, compare_reasons);
        size_t k = 1;
        for (size_t i = 1; i < r->n_reasons; i++) {
            if (!strcmp(r->reasons[i].name, r->reasons[k - 1].name)) {
                free(r->reasons[i].name);
            } else {
                r->reasons[k++] = r->reasons[i];
            }
        }
        r->n_reasons = k;
    }
    return NULL;
}

char *
ps_prometheus_parse_matrix(const char *text, size_t len,
                           struct ps_window_builder *b)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root) {
        return ps_xasprintf("invalid JSON from Prometheus: %s", jerr.text);
    }

    char *error = NULL;
    const json_t *data = json_object_get(root, "data");
    const json_t *result = json_object_get(data, "result");
    const char *status = json_string_value(json_object_get(root, "status"));
    if (!status || strcmp(status, "success")) {
        const char *e = json_string_value(json_object_get(root, "error"));
        error = ps_xasprintf("Prometheus query failed: %s", e ? e : "?");
        goto out;
    }
    if (!json_is_array(result)) {
        error = ps_xstrdup("Prometheus answer lacks data.result");
        goto out;
    }

    struct sample *samples = NULL;
    size_t n = 0, allocated = 0;
    size_t i;
    const json_t *series;
    json_array_foreach (result, i, series) {
        const json_t *metric = json_object_get(series, "metric");
        const json_t *values = json_object_get(series, "values");
        const char *name = label_value(metric, "__name__");
        const char *host = label_value(metric, "host");
        const char *element = label_value(metric, "element");
        int attr = name ? metric_attr(name) : -2;
        const char *reason = label_value(metric, "reason");
        if (attr == -2 || !host || !element || (attr == -1 && !reason)
            || !json_is_array(values)) {
            continue;           /* Not one of ours. */
        }
        size_t j;
        const json_t *pair;
        json_array_foreach (values, j, pair) {
            const json_t *t = json_array_get(pair, 0);
            const char *v = json_string_value(json_array_get(pair, 1));
            char *end = NULL;
            double value = v ? strtod(v, &end) : 0;
            if (!json_is_number(t) || !v || end == v || *end) {
                error = ps_xasprintf("malformed sample in series %s", name);
                free(samples);
                goto out;
            }
            /* A record's time is positive nanoseconds in an int64_t. */
            double ts = json_number_value(t);
            if (!(ts > 0 && ts < (double) INT64_MAX / 1e9)) {
                error = ps_xasprintf("series %s: sample time %.17g is out "
                                     "of range", name, ts);
                free(samples);
                goto out;
            }
            samples = ps_grow(samples, &allocated, n + 1, sizeof *samples);
            samples[n++] = (struct sample) {
                .metric = metric, .host = host, .element = element,
                .ts_ns = llround(ts * 1e9),
                .attr = attr, .reason = reason, .value = value,
            };
        }
    }
    if (n) {
        qsort(samples, n, sizeof *samples, compare_samples);
    }

    for (size_t start = 0; start < n && !error; ) {
        size_t end = start + 1;
        while (end < n && !compare_samples(&samples[start], &samples[end])) {
            end++;
        }
        struct ps_record r;
        error = group_to_record(&samples[start], end - start, &r);
        if (!error) {
            error = ps_window_builder_add(b, &r);
        }
        start = end;
    }
    free(samples);

out:
    json_decref(root);
    return error;
}

struct ps_window *
ps_prometheus_window(const char *base_url,
                     const struct ps_window_options *wopts,
                     const struct ps_gather_options *gopts, char **errp)
{
    struct ps_window_options opts = *wopts;
    if (opts.seconds <= 0) {
        opts.seconds = 1;
    }
    double end;
    if (opts.end_ns) {
        end = opts.end_ns / 1e9;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        end = ts.tv_sec + ts.tv_nsec / 1e9;
    }

    /* A range selector returns raw samples with their scrape times. */
    long range_ms = (long) ceil(opts.seconds * 2000) + 1000;
    char *query = ps_xasprintf("{__name__=~\"perfsight_.+\"}[%ldms]",
                               range_ms);
    char *escaped = curl_easy_escape(NULL, query, 0);
    char *url = ps_xasprintf("%s/api/v1/query?query=%s&time=%.3f", base_url,
                             escaped, end);
    curl_free(escaped);
    free(query);

    size_t len;
    char *body = ps_http_get(url, gopts, &len, errp);
    free(url);
    if (!body) {
        return NULL;
    }
    struct ps_window_builder *b = ps_window_builder_create(&opts);
    char *error = ps_prometheus_parse_matrix(body, len, b);
    free(body);
    if (error) {
        *errp = ps_xasprintf("%s: %s", base_url, error);
        free(error);
        ps_window_builder_destroy(b);
        return NULL;
    }
    struct ps_window *w = ps_window_builder_finish(b, &error);
    if (!w) {
        *errp = ps_xasprintf("%s: %s", base_url, error);
        free(error);
    }
    return w;
}
