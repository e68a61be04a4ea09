/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "agent-metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

/* The texts are written by hand into a growing buffer rather than through
 * jansson or stdio: a host of 256 devices is 800 records, polled every
 * 100 ms, and that took 5 ms of CPU per request the other way. */
struct buf {
    char *s;
    size_t len;
    size_t allocated;
};

static void
buf_grow(struct buf *b, size_t n)
{
    b->s = ps_grow(b->s, &b->allocated, b->len + n + 1 + 4096, 1);
}

/* The puts are called some 50,000 times a request at 256 devices: inline,
 * with the growth out of line. */
static inline void
buf_reserve(struct buf *b, size_t n)
{
    if (b->len + n + 1 > b->allocated) {
        buf_grow(b, n);
    }
}

static inline void
put(struct buf *b, const char *s, size_t len)
{
    buf_reserve(b, len);
    memcpy(b->s + b->len, s, len);
    b->len += len;
}

static inline void
put_str(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static inline void
put_char(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->s[b->len++] = c;
}

/* Writes the digits in place, two at a time: about 10,000 numbers a
 * request at 256 devices. */
static void
put_u64(struct buf *b, uint64_t v)
{
    static const char pairs[201] =
        "00010203040506070809101112131415161718192021222324252627282930313233"
        "34353637383940414243444546474849505152535455565758596061626364656667"
        "6869707172737475767778798081828384858687888990919293949596979899";
    int n = 1;
    for (uint64_t x = 10; n < 20 && v >= x; x *= 10) {
        n++;
    }
    buf_reserve(b, n);
    char *p = b->s + b->len + n;
    while (v >= 100) {
        p -= 2;
        memcpy(p, &pairs[2 * (v % 100)], 2);
        v /= 100;
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, &pairs[2 * v], 2);
    } else {
        *--p = '0' + v;
    }
    b->len += n;
}

/* True if "%.17g" writes 'd' as the digits of a whole number: glibc's
 * printf of a double costs 2,000 instructions, and most gauges (a link's
 * bits/s) are whole. */
static bool
is_small_whole(double d)
{
    return d >= 0 && d < 1e15 && d == (double) (uint64_t) d && !signbit(d);
}

/* Writes 'd' as "%.17g" does, then "suffix" if it has no '.', 'e' or
 * 'n' (inf, nan). */
static void
put_g17(struct buf *b, double d, const char *suffix)
{
    if (is_small_whole(d)) {
        put_u64(b, (uint64_t) d);
        put_str(b, suffix);
        return;
    }

    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%.17g", d);
    put(b, tmp, n);
    if (!strpbrk(tmp, ".eEn")) {
        put_str(b, suffix);
    }
}

static void
put_double(struct buf *b, double d)
{
    put_g17(b, d, ".0");        /* A real, as jansson wrote it. */
}

/* Writes the characters of 's' escaped for a JSON string: runs of plain
 * characters in one copy. */
static void
put_json_chars(struct buf *b, const char *s)
{
    for (const char *p = s; *p; ) {
        const char *run = p;
        while (*p && *p != '"' && *p != '\\' && (unsigned char) *p >= 0x20) {
            p++;
        }
        put(b, run, p - run);
        if (*p) {
            unsigned char c = *p++;
            if (c == '"' || c == '\\') {
                put_char(b, '\\');
                put_char(b, c);
            } else {
                char tmp[8];
                snprintf(tmp, sizeof tmp, "\\u%04x", c);
                put_str(b, tmp);
            }
        }
    }
}

/* Writes 's' as a JSON string. */
static void
put_json_string(struct buf *b, const char *s)
{
    put_char(b, '"');
    put_json_chars(b, s);
    put_char(b, '"');
}

static void
put_json_counter(struct buf *b, bool *first, const char *prefix,
                 const char *name, uint64_t value)
{
    if (!*first) {
        put_char(b, ',');
    }
    *first = false;
    /* A reason comes from the element's software: escape it. */
    put_char(b, '"');
    put_str(b, prefix);
    put_json_chars(b, name);
    put(b, "\":", 2);
    put_u64(b, value > INT64_MAX ? INT64_MAX : value);
}

/* A record's first fields, '{"ts_ns":N,"host":"H",', the same in every
 * record of a round: written once for all of them. */
struct json_head {
    struct buf text;
    int64_t ts_ns;
    const char *host;           /* NULL: 'text' is not written yet. */
};

static void
put_json_head(struct buf *b, struct json_head *h, const struct ps_record *r)
{
    if (!h->host || h->ts_ns != r->ts_ns || strcmp(h->host, r->host)) {
        h->text.len = 0;
        put_str(&h->text, "{\"ts_ns\":");
        put_u64(&h->text, r->ts_ns > 0 ? r->ts_ns : 0);
        put_str(&h->text, ",\"host\":");
        put_json_string(&h->text, r->host);
        put_char(&h->text, ',');
        h->ts_ns = r->ts_ns;
        h->host = r->host;
    }
    put(b, h->text.s, h->text.len);
}

static void
put_json_record(struct buf *b, struct json_head *head,
                const struct ps_sample *s)
{
    const struct ps_record *r = &s->record;
    bool first = true;

    put_json_head(b, head, r);
    put_str(b, "\"element\":");
    put_json_string(b, r->element);
    put_str(b, ",\"type\":\"");
    put_str(b, ps_element_type_name(r->type));
    put_char(b, '"');
    if (r->vm) {
        put_str(b, ",\"vm\":");
        put_json_string(b, r->vm);
    }
    if (r->tenant) {
        put_str(b, ",\"tenant\":");
        put_json_string(b, r->tenant);
    }
    put_str(b, ",\"attrs\":{");
    for (int c = 0; c < PS_N_COUNTERS; c++) {
        if (ps_record_has(r, c)) {
            /* Names of DESIGN.md §3: nothing to escape. */
            put(b, &",\""[first], 2 - first);
            first = false;
            put_str(b, ps_counter_name(c));
            put(b, "\":", 2);
            put_u64(b, (r->counters[c] > INT64_MAX ? INT64_MAX
                        : r->counters[c]));
        }
    }
    for (size_t i = 0; i < r->n_reasons; i++) {
        put_json_counter(b, &first, "drops.", r->reasons[i].name,
                         r->reasons[i].value);
    }
    for (int g = 0; g < PS_N_GAUGES; g++) {
        if (ps_record_has_gauge(r, g)) {
            if (!first) {
                put_char(b, ',');
            }
            first = false;
            put_char(b, '"');
            put_str(b, ps_gauge_name(g));
            put(b, "\":", 2);
            put_double(b, r->gauges[g]);
        }
    }
    for (size_t i = 0; i < s->n_extra; i++) {
        put_json_counter(b, &first, "", s->extra[i].name, s->extra[i].value);
    }
    put_str(b, "}}");
}

char *
agent_render_json(const struct ps_samples *samples, size_t *lenp)
{
    struct buf b = { NULL, 0, 0 };
    struct json_head head = { { NULL, 0, 0 }, 0, NULL };

    buf_reserve(&b, samples->n * 256);
    put_char(&b, '[');
    for (size_t i = 0; i < samples->n; i++) {
        if (i) {
            put_char(&b, ',');
        }
        put_json_record(&b, &head, &samples->s[i]);
    }
    free(head.text.s);
    put_str(&b, "]\n");
    b.s[b.len] = '\0';
    *lenp = b.len;
    return b.s;
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
put_label_value(struct buf *b, const char *value)
{
    for (const char *p = value; *p; ) {
        size_t n = strcspn(p, "\\\"\n");
        put(b, p, n);
        p += n;
        if (*p) {
            put(b, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n", 2);
            p++;
        }
    }
}

static void
put_label(struct buf *b, const char *name, const char *value)
{
    put_str(b, name);
    put(b, "=\"", 2);
    put_label_value(b, value);
    put_char(b, '"');
}

/* The labels of every sample, written once: "{host=...,...,tenant=..."
 * without the closing brace, so that a reason label can follow. */
struct labels {
    struct buf text;
    size_t *start;              /* Of sample i's labels in 'text'. */
};

static void
labels_init(struct labels *l, const struct ps_samples *samples)
{
    memset(l, 0, sizeof *l);
    l->start = ps_xcalloc(samples->n + 1, sizeof *l->start);
    buf_reserve(&l->text, samples->n * 96);
    for (size_t i = 0; i < samples->n; i++) {
        const struct ps_record *r = &samples->s[i].record;
        l->start[i] = l->text.len;
        put_char(&l->text, '{');
        put_label(&l->text, "host", r->host);
        put_char(&l->text, ',');
        put_label(&l->text, "element", r->element);
        put_str(&l->text, ",type=\"");
        put_str(&l->text, ps_element_type_name(r->type));
        put_char(&l->text, '"');
        if (r->vm) {
            put_char(&l->text, ',');
            put_label(&l->text, "vm", r->vm);
        }
        if (r->tenant) {
            put_char(&l->text, ',');
            put_label(&l->text, "tenant", r->tenant);
        }
    }
    l->start[samples->n] = l->text.len;
}

static void
labels_destroy(struct labels *l)
{
    free(l->text.s);
    free(l->start);
}

/* Writes "NAME{LABELS} " for sample 'i'. */
static void
put_series(struct buf *b, const char *name, const struct labels *l,
           size_t i, const char *reason)
{
    put_str(b, name);
    put(b, l->text.s + l->start[i], l->start[i + 1] - l->start[i]);
    if (reason) {
        put_char(b, ',');
        put_label(b, "reason", reason);
    }
    put(b, "} ", 2);
}

static void
put_value(struct buf *b, uint64_t value, bool seconds)
{
    if (seconds) {
        char frac[10];
        uint32_t ns = value % 1000000000;
        put_u64(b, value / 1000000000);
        frac[0] = '.';
        for (int i = 9; i > 0; i--, ns /= 10) {
            frac[i] = '0' + ns % 10;
        }
        put(b, frac, sizeof frac);
    } else {
        put_u64(b, value);
    }
    put_char(b, '\n');
}

static void
put_header(struct buf *b, const char *name, const char *type,
           const char *help)
{
    put_str(b, "# HELP ");
    put_str(b, name);
    put_char(b, ' ');
    put_str(b, help);
    put_str(b, "\n# TYPE ");
    put_str(b, name);
    put_char(b, ' ');
    put_str(b, type);
    put_char(b, '\n');
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Writes the family of extra counter 'attr'. */
static void
put_extra_family(struct buf *b, const struct ps_samples *samples,
                 const struct labels *l, const char *attr)
{
    char name[256], help[300];
    bool seconds;

    agent_metric_name(attr, name, sizeof name, &seconds);
    snprintf(help, sizeof help, "PerfSight attribute %s.", attr);
    put_header(b, name, "counter", help);
    for (size_t i = 0; i < samples->n; i++) {
        const struct ps_sample *s = &samples->s[i];
        for (size_t j = 0; j < s->n_extra; j++) {
            if (!strcmp(s->extra[j].name, attr)) {
                put_series(b, name, l, i, NULL);
                put_value(b, s->extra[j].value, seconds);
            }
        }
    }
}

char *
agent_render_prometheus(const struct ps_samples *samples, size_t *lenp)
{
    struct buf b = { NULL, 0, 0 };
    struct labels l;

    labels_init(&l, samples);
    buf_reserve(&b, samples->n * 1024);
    for (int c = 0; c < PS_N_COUNTERS; c++) {
        const struct ps_attr_info *info = ps_counter_info(c);
        bool seconds = info->metric_scale != 1;
        bool any = false;
        for (size_t i = 0; i < samples->n; i++) {
            const struct ps_record *r = &samples->s[i].record;
            if (!ps_record_has(r, c)) {
                continue;
            }
            if (!any) {
                put_header(&b, info->metric, "counter", info->help);
                any = true;
            }
            put_series(&b, info->metric, &l, i, NULL);
            put_value(&b, r->counters[c], seconds);
        }
    }

    bool any = false;
    for (size_t i = 0; i < samples->n; i++) {
        const struct ps_record *r = &samples->s[i].record;
        for (size_t j = 0; j < r->n_reasons; j++) {
            if (!any) {
                put_header(&b, "perfsight_drops_by_reason_total", "counter",
                           "Packets lost in the element, by reason "
                           "(a breakdown of perfsight_drops_total).");
                any = true;
            }
            put_series(&b, "perfsight_drops_by_reason_total", &l, i,
                       r->reasons[j].name);
            put_value(&b, r->reasons[j].value, false);
        }
    }

    /* Extra counters, one family per name, in name order. */
    const char **extras = NULL;
    size_t n_extras = 0, allocated = 0;
    for (size_t i = 0; i < samples->n; i++) {
        const struct ps_sample *s = &samples->s[i];
        for (size_t j = 0; j < s->n_extra; j++) {
            /* Few names, each in many samples: sort them, not the
             * samples. */
            const char *name = s->extra[j].name;
            size_t k = 0;
            while (k < n_extras && strcmp(extras[k], name)) {
                k++;
            }
            if (k == n_extras) {
                extras = ps_grow(extras, &allocated, n_extras + 1,
                                 sizeof *extras);
                extras[n_extras++] = name;
            }
        }
    }
    if (n_extras) {
        qsort(extras, n_extras, sizeof *extras, compare_strings);
    }
    for (size_t i = 0; i < n_extras; i++) {
        put_extra_family(&b, samples, &l, extras[i]);
    }
    free(extras);

    for (int g = 0; g < PS_N_GAUGES; g++) {
        const struct ps_attr_info *info = ps_gauge_info(g);
        const char *name = info->metric;
        any = false;
        for (size_t i = 0; i < samples->n; i++) {
            const struct ps_record *r = &samples->s[i].record;
            if (!ps_record_has_gauge(r, g)) {
                continue;
            }
            if (!any) {
                put_header(&b, name, "gauge", info->help);
                any = true;
            }
            put_series(&b, name, &l, i, NULL);
            put_g17(&b, r->gauges[g], "");
            put_char(&b, '\n');
        }
    }
    labels_destroy(&l);

    buf_reserve(&b, 0);
    b.s[b.len] = '\0';
    *lenp = b.len;
    return b.s;
}
