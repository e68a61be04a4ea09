/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "agent-metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

char *
agent_render_json(const struct ps_samples *samples, size_t *lenp)
{
    json_t *array = json_array();

    for (size_t i = 0; i < samples->n; i++) {
        json_array_append_new(array, ps_sample_to_json(&samples->s[i]));
    }
    char *text = json_dumps(array, JSON_COMPACT);
    json_decref(array);

    /* Newline-terminated, like every text the agent serves. */
    size_t len = strlen(text);
    char *out = ps_xmalloc(len + 2);
    memcpy(out, text, len);
    out[len] = '\n';
    out[len + 1] = '\0';
    free(text);
    *lenp = len + 1;
    return out;
}

void
agent_metric_name(const char *attr, char *buf, size_t size, bool *seconds)
{
    static const char suffix_ns[] = "_time_ns";
    size_t len = strlen(attr);
    size_t slen = strlen(suffix_ns);

    *seconds = len > slen && !strcmp(attr + len - slen, suffix_ns);
    snprintf(buf, size, "perfsight_%.*s%s",
             (int) (*seconds ? len - 3 : len), attr,
             *seconds ? "_seconds_total" : "_total");
    /* Prometheus names: [a-zA-Z_:][a-zA-Z0-9_:]*. */
    for (char *p = buf; *p; p++) {
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z')
            && !(*p >= '0' && *p <= '9') && *p != '_' && *p != ':') {
            *p = '_';
        }
    }
}

/* Writes 'value' escaped as a Prometheus label value. */
static void
put_label_value(FILE *out, const char *value)
{
    for (const char *p = value; *p; p++) {
        switch (*p) {
        case '\\':
            fputs("\\\\", out);
            break;
        case '"':
            fputs("\\\"", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        default:
            fputc(*p, out);
        }
    }
}

static void
put_labels(FILE *out, const struct ps_record *r, const char *reason)
{
    fputs("{host=\"", out);
    put_label_value(out, r->host);
    fputs("\",element=\"", out);
    put_label_value(out, r->element);
    fprintf(out, "\",type=\"%s\"", ps_element_type_name(r->type));
    if (r->vm) {
        fputs(",vm=\"", out);
        put_label_value(out, r->vm);
        fputc('"', out);
    }
    if (r->tenant) {
        fputs(",tenant=\"", out);
        put_label_value(out, r->tenant);
        fputc('"', out);
    }
    if (reason) {
        fputs(",reason=\"", out);
        put_label_value(out, reason);
        fputc('"', out);
    }
    fputc('}', out);
}

static void
put_value(FILE *out, uint64_t value, bool seconds)
{
    if (seconds) {
        fprintf(out, " %" PRIu64 ".%09" PRIu64 "\n", value / 1000000000,
                value % 1000000000);
    } else {
        fprintf(out, " %" PRIu64 "\n", value);
    }
}

static void
put_header(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *
counter_help(enum ps_counter c)
{
    static const char *const help[PS_N_COUNTERS] = {
        [PS_IN_PACKETS] = "Packets that entered the element.",
        [PS_IN_BYTES] = "Bytes that entered the element.",
        [PS_OUT_PACKETS] = "Packets that left the element.",
        [PS_OUT_BYTES] = "Bytes that left the element.",
        [PS_DROPS] = "Packets lost in the element, all reasons.",
        [PS_IN_TIME_NS] = "Time spent in the element's input method.",
        [PS_OUT_TIME_NS] = "Time spent in the element's output method.",
    };
    return help[c];
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Writes the family of extra counter 'attr'. */
static void
put_extra_family(FILE *out, const struct ps_samples *samples,
                 const char *attr)
{
    char name[256];
    bool seconds;

    agent_metric_name(attr, name, sizeof name, &seconds);
    fprintf(out, "# HELP %s PerfSight attribute %s.\n", name, attr);
    fprintf(out, "# TYPE %s counter\n", name);
    for (size_t i = 0; i < samples->n; i++) {
        const struct ps_sample *s = &samples->s[i];
        for (size_t j = 0; j < s->n_extra; j++) {
            if (!strcmp(s->extra[j].name, attr)) {
                fputs(name, out);
                put_labels(out, &s->record, NULL);
                put_value(out, s->extra[j].value, seconds);
            }
        }
    }
}

char *
agent_render_prometheus(const struct ps_samples *samples, size_t *lenp)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    char name[256];
    bool seconds;

    if (!out) {
        abort();
    }
    for (int c = 0; c < PS_N_COUNTERS; c++) {
        bool any = false;
        agent_metric_name(ps_counter_name(c), name, sizeof name, &seconds);
        for (size_t i = 0; i < samples->n; i++) {
            const struct ps_record *r = &samples->s[i].record;
            if (!ps_record_has(r, c)) {
                continue;
            }
            if (!any) {
                put_header(out, name, "counter", counter_help(c));
                any = true;
            }
            fputs(name, out);
            put_labels(out, r, NULL);
            put_value(out, r->counters[c], seconds);
        }
    }

    bool any = false;
    for (size_t i = 0; i < samples->n; i++) {
        const struct ps_record *r = &samples->s[i].record;
        for (size_t j = 0; j < r->n_reasons; j++) {
            if (!any) {
                put_header(out, "perfsight_drops_by_reason_total", "counter",
                           "Packets lost in the element, by reason "
                           "(a breakdown of perfsight_drops_total).");
                any = true;
            }
            fputs("perfsight_drops_by_reason_total", out);
            put_labels(out, r, r->reasons[j].name);
            put_value(out, r->reasons[j].value, false);
        }
    }

    /* Extra counters, one family per name, in name order. */
    const char **extras = NULL;
    size_t n_extras = 0, allocated = 0;
    for (size_t i = 0; i < samples->n; i++) {
        const struct ps_sample *s = &samples->s[i];
        for (size_t j = 0; j < s->n_extra; j++) {
            extras = ps_grow(extras, &allocated, n_extras + 1,
                             sizeof *extras);
            extras[n_extras++] = s->extra[j].name;
        }
    }
    if (n_extras) {
        qsort(extras, n_extras, sizeof *extras, compare_strings);
    }
    for (size_t i = 0; i < n_extras; i++) {
        if (i && !strcmp(extras[i], extras[i - 1])) {
            continue;
        }
        put_extra_family(out, samples, extras[i]);
    }
    free(extras);

    static const char *const gauge_help[PS_N_GAUGES] = {
        [PS_CAPACITY_BPS] = "Bits per second the element's link is "
                            "provisioned for.",
        [PS_CPU_UTIL] = "CPU utilisation, 0 to 1, since the previous "
                        "sample.",
    };
    for (int g = 0; g < PS_N_GAUGES; g++) {
        any = false;
        snprintf(name, sizeof name, "perfsight_%s", ps_gauge_name(g));
        for (size_t i = 0; i < samples->n; i++) {
            const struct ps_record *r = &samples->s[i].record;
            if (!ps_record_has_gauge(r, g)) {
                continue;
            }
            if (!any) {
                put_header(out, name, "gauge", gauge_help[g]);
                any = true;
            }
            fputs(name, out);
            put_labels(out, r, NULL);
            fprintf(out, " %.17g\n", r->gauges[g]);
        }
    }

    fclose(out);
    *lenp = len;
    return text;
}
