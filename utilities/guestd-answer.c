/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "guestd-answer.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sources/guest-proto.h"
#include "sources/sources.h"
#include "util.h"

bool
guestd_parse_request(const char *line, size_t len, uint32_t *seqp)
{
    size_t plen = strlen(PS_GUEST_REQUEST_PREFIX);
    uint64_t seq = 0;

    if (len <= plen || len > plen + 10
        || memcmp(line, PS_GUEST_REQUEST_PREFIX, plen)) {
        return false;
    }
    for (size_t i = plen; i < len; i++) {
        if (line[i] < '0' || line[i] > '9') {
            return false;
        }
        seq = seq * 10 + (line[i] - '0');
    }
    if (seq > UINT32_MAX) {
        return false;
    }
    *seqp = seq;
    return true;
}

/* A growing text. */
struct text {
    char *s;
    size_t len, allocated;
};

static void __attribute__((format(printf, 2, 3)))
put(struct text *t, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    int n = vsnprintf(NULL, 0, format, args);
    va_end(args);
    t->s = ps_grow(t->s, &t->allocated, t->len + n + 1, 1);
    va_start(args, format);
    vsnprintf(t->s + t->len, n + 1, format, args);
    va_end(args);
    t->len += n;
}

/* The wire type and id of 's', or false to leave it out. */
static bool
wire_id(const struct ps_sample *s, const char **typep, const char **idp)
{
    const char *id = s->record.element;

    switch (s->record.type) {
    case PS_VNIC:
        *typep = "vnic";
        break;
    case PS_BACKLOG:
        *typep = "guest_backlog";
        id = strncmp(id, "backlog:", 8) ? NULL : id + 8;
        break;
    case PS_MIDDLEBOX:
        *typep = "middlebox";
        id = strchr(id, ':');
        id = id ? strchr(id + 1, ':') : NULL;
        id = id ? id + 1 : NULL;
        break;
    default:
        return false;
    }
    *idp = id;
    return id != NULL;
}

/* Appends one attribute if the line (from 'line_start') keeps room for
 * the closing braces. */
static bool
put_attr(struct text *t, size_t line_start, int *n_attrs, const char *prefix,
         const char *name, uint64_t value)
{
    size_t before = t->len;

    if (*n_attrs >= PS_GUEST_MAX_ATTRS
        || strlen(name) + strlen(prefix) > PS_GUEST_MAX_ATTR_NAME) {
        return false;
    }
    put(t, "%s\"%s%s\":%"PRIu64, *n_attrs ? "," : "", prefix, name,
        value & INT64_MAX);
    if (t->len - line_start > PS_GUEST_MAX_LINE - 4) {
        t->len = before;
        return false;
    }
    (*n_attrs)++;
    return true;
}

void
guestd_answer(const struct ps_samples *samples, uint32_t seq, char **textp,
              size_t *lenp)
{
    struct text t = { NULL, 0, 0 };
    int n_elements = 0;

    put(&t, "{\"psg\":%d,\"seq\":%"PRIu32"}\n", PS_GUEST_VERSION, seq);
    for (size_t i = 0; i < samples->n; i++) {
        const struct ps_sample *s = &samples->s[i];
        const struct ps_record *r = &s->record;
        const char *type, *id;
        size_t start = t.len;
        int n_attrs = 0;

        if (n_elements >= PS_GUEST_MAX_ELEMENTS || !wire_id(s, &type, &id)) {
            continue;
        }
        put(&t, "{\"type\":\"%s\",\"id\":\"%s\",\"attrs\":{", type, id);
        for (int c = 0; c < PS_N_COUNTERS; c++) {
            if (ps_record_has(r, c)) {
                put_attr(&t, start, &n_attrs, "", ps_counter_name(c),
                         r->counters[c]);
            }
        }
        if (ps_record_has_gauge(r, PS_QUEUE_LEN)) {
            put_attr(&t, start, &n_attrs, "", "queue_len",
                     r->gauges[PS_QUEUE_LEN]);
        }
        for (size_t j = 0; j < r->n_reasons; j++) {
            put_attr(&t, start, &n_attrs, "drops.", r->reasons[j].name,
                     r->reasons[j].value);
        }
        for (size_t j = 0; j < s->n_extra; j++) {
            put_attr(&t, start, &n_attrs, "", s->extra[j].name,
                     s->extra[j].value);
        }
        put(&t, "}}\n");
        if (t.len > PS_GUEST_MAX_ANSWER - 64) {
            t.len = start;      /* No room left for it and the end. */
            break;
        }
        n_elements++;
    }
    put(&t, "{\"end\":%"PRIu32",\"elements\":%d}\n", seq, n_elements);
    *textp = t.s;
    *lenp = t.len;
}
