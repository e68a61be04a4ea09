/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/record.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

/* The attribute names of DESIGN.md §3, in one place: the code, the
 * Prometheus names and the docs come from these tables. */
static const char *const counter_names[PS_N_COUNTERS] = {
    [PS_IN_PACKETS] = "in_packets",
    [PS_IN_BYTES] = "in_bytes",
    [PS_OUT_PACKETS] = "out_packets",
    [PS_OUT_BYTES] = "out_bytes",
    [PS_DROPS] = "drops",
    [PS_IN_TIME_NS] = "in_time_ns",
    [PS_OUT_TIME_NS] = "out_time_ns",
};

static const char *const gauge_names[PS_N_GAUGES] = {
    [PS_CAPACITY_BPS] = "capacity_bps",
    [PS_CPU_UTIL] = "cpu_util",
};

#define DROPS_PREFIX "drops."

const char *
ps_counter_name(enum ps_counter c)
{
    return c < PS_N_COUNTERS ? counter_names[c] : "unknown";
}

const char *
ps_gauge_name(enum ps_gauge g)
{
    return g < PS_N_GAUGES ? gauge_names[g] : "unknown";
}

void
ps_record_init(struct ps_record *r)
{
    memset(r, 0, sizeof *r);
}

void
ps_record_destroy(struct ps_record *r)
{
    if (!r) {
        return;
    }
    free(r->host);
    free(r->element);
    free(r->vm);
    free(r->tenant);
    for (size_t i = 0; i < r->n_reasons; i++) {
        free(r->reasons[i].name);
    }
    free(r->reasons);
    ps_record_init(r);
}

void
ps_record_clone(struct ps_record *dst, const struct ps_record *src)
{
    *dst = *src;
    dst->host = ps_xstrdup(src->host);
    dst->element = ps_xstrdup(src->element);
    dst->vm = src->vm ? ps_xstrdup(src->vm) : NULL;
    dst->tenant = src->tenant ? ps_xstrdup(src->tenant) : NULL;
    dst->reasons = NULL;
    if (src->n_reasons) {
        dst->reasons = ps_xmalloc(src->n_reasons * sizeof *dst->reasons);
        for (size_t i = 0; i < src->n_reasons; i++) {
            dst->reasons[i].name = ps_xstrdup(src->reasons[i].name);
            dst->reasons[i].value = src->reasons[i].value;
        }
    }
}

/* Returns the string member 'key' of 'obj' in '*out' (copied), or an
 * error.  A missing optional member leaves '*out' NULL. */
static char *
get_string(const json_t *obj, const char *key, bool required, char **out)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || (json_is_null(v) && !required)) {
        return required ? ps_xasprintf("missing field \"%s\"", key) : NULL;
    }
    if (!json_is_string(v)) {
        return ps_xasprintf("field \"%s\" must be a string", key);
    }
    const char *s = json_string_value(v);
    if (required && !s[0]) {
        return ps_xasprintf("field \"%s\" must not be empty", key);
    }
    if (strlen(s) != json_string_length(v)) {
        return ps_xasprintf("field \"%s\" contains a NUL character", key);
    }
    *out = ps_xstrdup(s);
    return NULL;
}

static char *
get_counter(const json_t *v, const char *name, uint64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0) {
            return ps_xasprintf("attrs.%s: %lld is negative; counters are "
                                "non-negative integers", name,
                                (long long) i);
        }
        *out = i;
        return NULL;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        /* "1e3" is a real to jansson: take it if it is a whole number. */
        if (d >= 0 && d < 9223372036854775808.0 && d == floor(d)) {
            *out = d;
            return NULL;
        }
        return ps_xasprintf("attrs.%s: %g is not a non-negative integer "
                            "that fits in 63 bits", name, d);
    }
    return ps_xasprintf("attrs.%s must be a non-negative integer", name);
}

static char *
get_gauge(const json_t *v, enum ps_gauge g, double *out)
{
    const char *name = gauge_names[g];
    if (!json_is_number(v)) {
        return ps_xasprintf("attrs.%s must be a number", name);
    }
    double d = json_number_value(v);
    if (!isfinite(d) || d < 0) {
        return ps_xasprintf("attrs.%s: %g is out of range (must be >= 0)",
                            name, d);
    }
    if (g == PS_CPU_UTIL && d > 1.0) {
        return ps_xasprintf("attrs.cpu_util: %g is out of range (0..1)", d);
    }
    *out = d;
    return NULL;
}

static int
compare_reasons(const void *a_, const void *b_)
{
    const struct ps_reason *a = a_, *b = b_;
    return strcmp(a->name, b->name);
}

static char *
parse_attrs(const json_t *attrs, struct ps_record *r,
            ps_unknown_attr_cb *unknown_cb, void *aux)
{
    const char *name;
    const json_t *v;
    size_t allocated = 0;

    json_object_foreach ((json_t *) attrs, name, v) {
        char *error = NULL;
        int i;

        for (i = 0; i < PS_N_COUNTERS; i++) {
            if (!strcmp(name, counter_names[i])) {
                error = get_counter(v, name, &r->counters[i]);
                r->has_counters |= 1u << i;
                break;
            }
        }
        if (i < PS_N_COUNTERS) {
            if (error) {
                return error;
            }
            continue;
        }
        for (i = 0; i < PS_N_GAUGES; i++) {
            if (!strcmp(name, gauge_names[i])) {
                error = get_gauge(v, i, &r->gauges[i]);
                r->has_gauges |= 1u << i;
                break;
            }
        }
        if (i < PS_N_GAUGES) {
            if (error) {
                return error;
            }
            continue;
        }
        if (!strncmp(name, DROPS_PREFIX, strlen(DROPS_PREFIX))) {
            const char *reason = name + strlen(DROPS_PREFIX);
            uint64_t value;
            if (!reason[0]) {
                return ps_xstrdup("attrs: \"drops.\" lacks a reason");
            }
            error = get_counter(v, name, &value);
            if (error) {
                return error;
            }
            r->reasons = ps_grow(r->reasons, &allocated, r->n_reasons + 1,
                                 sizeof *r->reasons);
            r->reasons[r->n_reasons].name = ps_xstrdup(reason);
            r->reasons[r->n_reasons].value = value;
            r->n_reasons++;
            continue;
        }
        if (unknown_cb) {
            unknown_cb(name, aux);
        }
    }
    if (r->n_reasons > 1) {
        qsort(r->reasons, r->n_reasons, sizeof *r->reasons, compare_reasons);
    }
    return NULL;
}

char *
ps_record_from_json(const json_t *json, struct ps_record *r,
                    ps_unknown_attr_cb *unknown_cb, void *aux)
{
    char *error;

    if (!json_is_object(json)) {
        return ps_xstrdup("a record must be a JSON object");
    }

    const json_t *ts = json_object_get(json, "ts_ns");
    if (!ts) {
        return ps_xstrdup("missing field \"ts_ns\"");
    } else if (!json_is_integer(ts) || json_integer_value(ts) <= 0) {
        return ps_xstrdup("field \"ts_ns\" must be a positive integer "
                          "(nanoseconds since the epoch)");
    }
    r->ts_ns = json_integer_value(ts);

    if ((error = get_string(json, "element", true, &r->element))
        || (error = get_string(json, "host", true, &r->host))) {
        goto error;
    }

    char *type = NULL;
    if ((error = get_string(json, "type", true, &type))) {
        goto error;
    }
    if (!ps_element_type_from_name(type, &r->type)) {
        error = ps_xasprintf("unknown element type \"%s\" (known: pnic, "
                             "pnic_driver, backlog, vswitch, tap, "
                             "hypervisor, vnic, guest_backlog, middlebox, "
                             "cpu)", type);
        free(type);
        goto error;
    }
    free(type);

    if ((error = get_string(json, "vm", false, &r->vm))
        || (error = get_string(json, "tenant", false, &r->tenant))) {
        goto error;
    }

    const json_t *attrs = json_object_get(json, "attrs");
    if (!attrs) {
        error = ps_xstrdup("missing field \"attrs\"");
        goto error;
    } else if (!json_is_object(attrs)) {
        error = ps_xstrdup("field \"attrs\" must be an object");
        goto error;
    }
    error = parse_attrs(attrs, r, unknown_cb, aux);
    if (error) {
        goto error;
    }
    return NULL;

error:
    if (r->element) {
        char *full = ps_xasprintf("element \"%s\": %s", r->element, error);
        free(error);
        error = full;
    }
    ps_record_destroy(r);
    return error;
}

json_t *
ps_record_to_json(const struct ps_record *r)
{
    json_t *obj = json_object();
    json_t *attrs = json_object();

    json_object_set_new(obj, "ts_ns", json_integer(r->ts_ns));
    json_object_set_new(obj, "host", json_string(r->host));
    json_object_set_new(obj, "element", json_string(r->element));
    json_object_set_new(obj, "type",
                        json_string(ps_element_type_name(r->type)));
    if (r->vm) {
        json_object_set_new(obj, "vm", json_string(r->vm));
    }
    if (r->tenant) {
        json_object_set_new(obj, "tenant", json_string(r->tenant));
    }
    for (int i = 0; i < PS_N_COUNTERS; i++) {
        if (ps_record_has(r, i)) {
            json_object_set_new(attrs, counter_names[i],
                                json_integer(r->counters[i]));
        }
    }
    for (size_t i = 0; i < r->n_reasons; i++) {
        char *name = ps_xasprintf(DROPS_PREFIX "%s", r->reasons[i].name);
        json_object_set_new(attrs, name, json_integer(r->reasons[i].value));
        free(name);
    }
    for (int i = 0; i < PS_N_GAUGES; i++) {
        if (ps_record_has_gauge(r, i)) {
            json_object_set_new(attrs, gauge_names[i],
                                json_real(r->gauges[i]));
        }
    }
    json_object_set_new(obj, "attrs", attrs);
    return obj;
}
