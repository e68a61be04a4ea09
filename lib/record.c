/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/record.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "record-parse.h"
#include "util.h"

/* The attributes of DESIGN.md §3, in one table: the record code, the
 * agent's Prometheus names, the Prometheus source's parser and the docs
 * ("perfsight attributes") all read it. */
#define NAME(S) S, sizeof S - 1
const struct ps_attr_info ps_attr_table[] = {
    { NAME("in_packets"), PS_ATTR_COUNTER, PS_IN_PACKETS,
      "perfsight_in_packets_total", 1,
      "Packets that entered the element." },
    { NAME("in_bytes"), PS_ATTR_COUNTER, PS_IN_BYTES,
      "perfsight_in_bytes_total", 1,
      "Bytes that entered the element." },
    { NAME("out_packets"), PS_ATTR_COUNTER, PS_OUT_PACKETS,
      "perfsight_out_packets_total", 1,
      "Packets that left the element." },
    { NAME("out_bytes"), PS_ATTR_COUNTER, PS_OUT_BYTES,
      "perfsight_out_bytes_total", 1,
      "Bytes that left the element." },
    { NAME("drops"), PS_ATTR_COUNTER, PS_DROPS,
      "perfsight_drops_total", 1,
      "Packets lost in the element, all reasons." },
    { NAME("in_time_ns"), PS_ATTR_COUNTER, PS_IN_TIME_NS,
      "perfsight_in_time_seconds_total", 1e-9,
      "Time spent in the element's input method." },
    { NAME("out_time_ns"), PS_ATTR_COUNTER, PS_OUT_TIME_NS,
      "perfsight_out_time_seconds_total", 1e-9,
      "Time spent in the element's output method." },
    { NAME("capacity_bps"), PS_ATTR_GAUGE, PS_CAPACITY_BPS,
      "perfsight_capacity_bps", 1,
      "Bits per second the element's link is provisioned for." },
    { NAME("cpu_util"), PS_ATTR_GAUGE, PS_CPU_UTIL,
      "perfsight_cpu_util", 1,
      "CPU utilisation, 0 to 1, since the previous sample." },
    { NAME("queue_len"), PS_ATTR_GAUGE, PS_QUEUE_LEN,
      "perfsight_queue_len", 1,
      "Packets waiting in the element's queue at the sample." },
};
#undef NAME
const size_t ps_attr_table_size = PS_ARRAY_SIZE(ps_attr_table);

const struct ps_attr_info *
ps_attr_info_find(const char *name, size_t len)
{
    for (size_t i = 0; i < PS_ARRAY_SIZE(ps_attr_table); i++) {
        const struct ps_attr_info *a = &ps_attr_table[i];
        if (a->name_len == len && a->name[0] == name[0]
            && !memcmp(a->name, name, len)) {
            return a;
        }
    }
    return NULL;
}

const struct ps_attr_info *
ps_attr_info_by_metric(const char *metric)
{
    for (size_t i = 0; i < PS_ARRAY_SIZE(ps_attr_table); i++) {
        if (!strcmp(ps_attr_table[i].metric, metric)) {
            return &ps_attr_table[i];
        }
    }
    return NULL;
}

static const struct ps_attr_info *
find_kind(enum ps_attr_kind kind, int index)
{
    for (size_t i = 0; i < PS_ARRAY_SIZE(ps_attr_table); i++) {
        if (ps_attr_table[i].kind == kind && ps_attr_table[i].index == index) {
            return &ps_attr_table[i];
        }
    }
    return NULL;
}

const struct ps_attr_info *
ps_counter_info(enum ps_counter c)
{
    return find_kind(PS_ATTR_COUNTER, c);
}

const struct ps_attr_info *
ps_gauge_info(enum ps_gauge g)
{
    return find_kind(PS_ATTR_GAUGE, g);
}

#define DROPS_PREFIX "drops."

const char *
ps_counter_name(enum ps_counter c)
{
    const struct ps_attr_info *a = c < PS_N_COUNTERS ? ps_counter_info(c) : NULL;
    return a ? a->name : "unknown";
}

const char *
ps_gauge_name(enum ps_gauge g)
{
    const struct ps_attr_info *a = g < PS_N_GAUGES ? ps_gauge_info(g) : NULL;
    return a ? a->name : "unknown";
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
    for (size_t i = 0; i < r->n_peers; i++) {
        free(r->peers[i].peer);
    }
    free(r->peers);
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
    dst->peers = NULL;
    if (src->n_peers) {
        dst->peers = ps_xmalloc(src->n_peers * sizeof *dst->peers);
        for (size_t i = 0; i < src->n_peers; i++) {
            dst->peers[i] = src->peers[i];
            dst->peers[i].peer = ps_xstrdup(src->peers[i].peer);
        }
    }
}

/* Validating a record as its JSON events arrive (json.h), so that the
 * reader (simdjson) and ps_record_from_json() (jansson) accept exactly the
 * same records with the same messages. */

enum record_field {
    F_TS_NS, F_HOST, F_ELEMENT, F_TYPE, F_VM, F_TENANT, F_ATTRS, N_FIELDS
};

static const char *const field_names[N_FIELDS] = {
    [F_TS_NS] = "ts_ns", [F_HOST] = "host", [F_ELEMENT] = "element",
    [F_TYPE] = "type", [F_VM] = "vm", [F_TENANT] = "tenant",
    [F_ATTRS] = "attrs",
};

struct unknown_key {
    const char *key;
    size_t len;
    bool in_attrs;
};

struct record_parse {
    struct ps_record *r;
    ps_unknown_attr_cb *unknown_cb;
    void *aux;
    char *error;                /* First problem found, or NULL. */
    unsigned int seen;          /* Bit per field. */
    bool in_attrs;              /* Between "attrs": { and its }. */
    size_t allocated_reasons;
    size_t allocated_peers;

    /* Names the record code does not know, kept for the walk to reject a
     * duplicate of one as JSON parsers that reject duplicates do (known
     * names have bits in 'seen' and 'has_counters'). */
    struct unknown_key *unknown;
    size_t n_unknown, allocated_unknown;
    struct unknown_key unknown_inline[8];
};

/* Returns an error if the member 'ev' repeats an unknown name. */
static char *
check_unknown(struct record_parse *p, const struct ps_json_event *ev)
{
    for (size_t i = 0; i < p->n_unknown; i++) {
        const struct unknown_key *k = &p->unknown[i];
        if (k->len == ev->key_len && k->in_attrs == p->in_attrs
            && !memcmp(k->key, ev->key, k->len)) {
            return ps_xasprintf("invalid JSON: duplicate %s\"%.*s\"",
                                p->in_attrs ? "attribute " : "field ",
                                (int) k->len, k->key);
        }
    }
    if (!p->unknown) {
        p->unknown = p->unknown_inline;
        p->allocated_unknown = PS_ARRAY_SIZE(p->unknown_inline);
    } else if (p->n_unknown == p->allocated_unknown) {
        size_t n = p->allocated_unknown * 2;
        struct unknown_key *u = ps_xmalloc(n * sizeof *u);
        memcpy(u, p->unknown, p->n_unknown * sizeof *u);
        if (p->unknown != p->unknown_inline) {
            free(p->unknown);
        }
        p->unknown = u;
        p->allocated_unknown = n;
    }
    p->unknown[p->n_unknown++] = (struct unknown_key) {
        .key = ev->key, .len = ev->key_len, .in_attrs = p->in_attrs,
    };
    return NULL;
}

static bool
key_is(const struct ps_json_event *ev, const char *name)
{
    return strlen(name) == ev->key_len && !memcmp(ev->key, name, ev->key_len);
}

static int
find_field(const struct ps_json_event *ev)
{
    /* Every record has these, so the lengths pick the candidate. */
    int f;
    switch (ev->key_len) {
    case 2: f = F_VM; break;
    case 4: f = ev->key[0] == 'h' ? F_HOST : F_TYPE; break;
    case 5: f = ev->key[0] == 't' ? F_TS_NS : F_ATTRS; break;
    case 6: f = F_TENANT; break;
    case 7: f = F_ELEMENT; break;
    default: return -1;
    }
    return !memcmp(ev->key, field_names[f], ev->key_len) ? f : -1;
}

static char *
get_string(const struct ps_json_event *ev, const char *key, bool required,
           char **out)
{
    if (ev->kind == PS_JSON_NULL && !required) {
        return NULL;
    }
    if (ev->kind != PS_JSON_STRING) {
        return ps_xasprintf("field \"%s\" must be a string", key);
    }
    if (required && !ev->len) {
        return ps_xasprintf("field \"%s\" must not be empty", key);
    }
    if (memchr(ev->str, '\0', ev->len)) {
        return ps_xasprintf("field \"%s\" contains a NUL character", key);
    }
    char *s = ps_xmalloc(ev->len + 1);
    memcpy(s, ev->str, ev->len);
    s[ev->len] = '\0';
    *out = s;
    return NULL;
}

static char *
get_counter(const struct ps_json_event *ev, const char *name, int name_len,
            uint64_t *out)
{
    switch (ev->kind) {
    case PS_JSON_INT:
        if (ev->i < 0) {
            return ps_xasprintf("attrs.%.*s: %lld is negative; counters are "
                                "non-negative integers", name_len, name,
                                (long long) ev->i);
        }
        *out = ev->i;
        return NULL;
    case PS_JSON_UINT:
        return ps_xasprintf("attrs.%.*s: %llu does not fit in 63 bits",
                            name_len, name, (unsigned long long) ev->u);
    case PS_JSON_REAL:
        /* "1e3" is a real to JSON parsers: take it if it is whole. */
        if (ev->d >= 0 && ev->d < 9223372036854775808.0
            && ev->d == floor(ev->d)) {
            *out = ev->d;
            return NULL;
        }
        return ps_xasprintf("attrs.%.*s: %g is not a non-negative integer "
                            "that fits in 63 bits", name_len, name, ev->d);
    default:
        return ps_xasprintf("attrs.%.*s must be a non-negative integer",
                            name_len, name);
    }
}

static char *
get_gauge(const struct ps_json_event *ev, enum ps_gauge g, double *out)
{
    const char *name = ps_gauge_name(g);
    double d;

    switch (ev->kind) {
    case PS_JSON_INT:
        d = ev->i;
        break;
    case PS_JSON_UINT:
        d = ev->u;
        break;
    case PS_JSON_REAL:
        d = ev->d;
        break;
    default:
        return ps_xasprintf("attrs.%s must be a number", name);
    }
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

static int
compare_peers(const void *a_, const void *b_)
{
    const struct ps_peer_counter *a = a_, *b = b_;
    int cmp = strcmp(a->peer, b->peer);
    return cmp ? cmp : (int) a->counter - (int) b->counter;
}

/* "COUNTER@PEER", a known counter broken down by peer.  Sets '*matched'
 * if the member is of that form, and returns NULL once it is stored or a
 * malloc'd message if it is wrong.  Other names with '@' stay unknown. */
static char *
parse_peer_attr(struct record_parse *p, const struct ps_json_event *ev,
                bool *matched)
{
    const char *name = ev->key;
    int len = ev->key_len;
    const char *at = memchr(name, '@', len);

    *matched = false;
    if (!at) {
        return NULL;
    }
    const struct ps_attr_info *a = ps_attr_info_find(name, at - name);
    if (!a || a->kind != PS_ATTR_COUNTER) {
        return NULL;
    }
    *matched = true;

    const char *peer = at + 1;
    size_t peer_len = name + len - peer;
    if (!peer_len) {
        return ps_xasprintf("attrs: \"%.*s\" lacks a peer after '@'", len,
                            name);
    }
    if (memchr(peer, '\0', peer_len)) {
        return ps_xstrdup("attrs: a peer name contains a NUL character");
    }
    uint64_t value;
    char *error = get_counter(ev, name, len, &value);
    if (error) {
        return error;
    }
    struct ps_record *r = p->r;
    r->peers = ps_grow(r->peers, &p->allocated_peers, r->n_peers + 1,
                       sizeof *r->peers);
    char *copy = ps_xmalloc(peer_len + 1);
    memcpy(copy, peer, peer_len);
    copy[peer_len] = '\0';
    r->peers[r->n_peers++] = (struct ps_peer_counter) {
        .peer = copy, .counter = a->index, .value = value,
    };
    return NULL;
}

/* One member of "attrs". */
static char *
parse_attr(struct record_parse *p, const struct ps_json_event *ev)
{
    struct ps_record *r = p->r;
    const char *name = ev->key;
    int len = ev->key_len;

    if (ev->kind == PS_JSON_OBJECT || ev->kind == PS_JSON_ARRAY) {
        return ps_xasprintf("attrs.%.*s must be a number", len, name);
    }
    const struct ps_attr_info *a = ps_attr_info_find(name, len);
    if (a && a->kind == PS_ATTR_COUNTER) {
        if (ps_record_has(r, a->index)) {
            return ps_xasprintf("attrs: duplicate attribute \"%s\"",
                                a->name);
        }
        r->has_counters |= 1u << a->index;
        return get_counter(ev, name, len, &r->counters[a->index]);
    } else if (a) {
        if (ps_record_has_gauge(r, a->index)) {
            return ps_xasprintf("attrs: duplicate attribute \"%s\"",
                                a->name);
        }
        r->has_gauges |= 1u << a->index;
        return get_gauge(ev, a->index, &r->gauges[a->index]);
    }
    if (ev->key_len >= strlen(DROPS_PREFIX)
        && !memcmp(name, DROPS_PREFIX, strlen(DROPS_PREFIX))) {
        const char *reason = name + strlen(DROPS_PREFIX);
        size_t reason_len = len - strlen(DROPS_PREFIX);
        uint64_t value;
        if (!reason_len) {
            return ps_xstrdup("attrs: \"drops.\" lacks a reason");
        }
        if (memchr(reason, '\0', reason_len)) {
            return ps_xstrdup("attrs: a drop reason contains a NUL "
                              "character");
        }
        char *error = get_counter(ev, name, len, &value);
        if (error) {
            return error;
        }
        r->reasons = ps_grow(r->reasons, &p->allocated_reasons,
                             r->n_reasons + 1, sizeof *r->reasons);
        char *copy = ps_xmalloc(reason_len + 1);
        memcpy(copy, reason, reason_len);
        copy[reason_len] = '\0';
        r->reasons[r->n_reasons].name = copy;
        r->reasons[r->n_reasons].value = value;
        r->n_reasons++;
        return NULL;
    }
    bool matched;
    char *error = parse_peer_attr(p, ev, &matched);
    if (matched || error) {
        return error;
    }
    error = check_unknown(p, ev);
    if (error) {
        return error;
    }
    if (p->unknown_cb) {
        char *copy = ps_xmalloc(len + 1);
        memcpy(copy, name, len);
        copy[len] = '\0';
        p->unknown_cb(copy, p->aux);
        free(copy);
    }
    return NULL;
}

/* One member of the record object. */
static char *
parse_field(struct record_parse *p, const struct ps_json_event *ev)
{
    struct ps_record *r = p->r;
    int f = find_field(ev);

    if (f < 0) {
        /* Readers ignore what they do not know. */
        return check_unknown(p, ev);
    }
    if (p->seen & (1u << f)) {
        return ps_xasprintf("invalid JSON: duplicate field \"%s\"",
                            field_names[f]);
    }
    p->seen |= 1u << f;

    switch ((enum record_field) f) {
    case F_TS_NS:
        if (ev->kind != PS_JSON_INT || ev->i <= 0) {
            return ps_xstrdup("field \"ts_ns\" must be a positive integer "
                              "(nanoseconds since the epoch)");
        }
        r->ts_ns = ev->i;
        return NULL;
    case F_HOST:
        return get_string(ev, "host", true, &r->host);
    case F_ELEMENT:
        return get_string(ev, "element", true, &r->element);
    case F_TYPE:
        if (ev->kind != PS_JSON_STRING) {
            return ps_xstrdup("field \"type\" must be a string");
        } else if (!ev->len) {
            return ps_xstrdup("field \"type\" must not be empty");
        } else if (memchr(ev->str, '\0', ev->len)) {
            return ps_xstrdup("field \"type\" contains a NUL character");
        } else if (!ps_element_type_from_name_len(ev->str, ev->len,
                                                  &r->type)) {
            return ps_xasprintf("unknown element type \"%.*s\" (known: "
                                "pnic, pnic_driver, backlog, vswitch, tap, "
                                "hypervisor, vnic, guest_backlog, "
                                "middlebox, cpu)",
                                (int) ev->len, ev->str);
        }
        return NULL;
    case F_VM:
        return get_string(ev, "vm", false, &r->vm);
    case F_TENANT:
        return get_string(ev, "tenant", false, &r->tenant);
    case F_ATTRS:
        if (ev->kind != PS_JSON_OBJECT) {
            return ps_xstrdup("field \"attrs\" must be an object");
        }
        p->in_attrs = true;
        return NULL;
    case N_FIELDS:
    default:
        return NULL;
    }
}

static bool
record_event(const struct ps_json_event *ev, void *p_)
{
    struct record_parse *p = p_;

    if (p->error) {
        /* Keep looking for the element's id, to name it in the message. */
        if (ev->depth == 1 && !p->r->element && ev->kind == PS_JSON_STRING
            && key_is(ev, "element") && ev->len
            && !memchr(ev->str, '\0', ev->len)) {
            get_string(ev, "element", true, &p->r->element);
        }
        return true;
    }
    if (ev->depth == 0) {
        if (ev->kind != PS_JSON_OBJECT && ev->kind != PS_JSON_END) {
            p->error = ps_xstrdup("a record must be a JSON object");
            return false;
        }
    } else if (ev->depth == 1) {
        if (ev->kind == PS_JSON_END) {
            p->in_attrs = false;
        } else {
            p->error = parse_field(p, ev);
        }
    } else if (ev->depth == 2 && p->in_attrs && ev->kind != PS_JSON_END) {
        p->error = parse_attr(p, ev);
    }
    return true;
}

/* Checks what the events could not: required fields, duplicate reasons. */
static char *
record_finish(struct record_parse *p)
{
    struct ps_record *r = p->r;
    static const enum record_field required[] = {
        F_TS_NS, F_ELEMENT, F_HOST, F_TYPE, F_ATTRS,
    };

    if (!p->error) {
        for (size_t i = 0; i < PS_ARRAY_SIZE(required); i++) {
            if (!(p->seen & (1u << required[i]))) {
                p->error = ps_xasprintf("missing field \"%s\"",
                                        field_names[required[i]]);
                break;
            }
        }
    }
    if (!p->error && r->n_reasons > 1) {
        qsort(r->reasons, r->n_reasons, sizeof *r->reasons, compare_reasons);
        for (size_t i = 1; i < r->n_reasons; i++) {
            if (!strcmp(r->reasons[i - 1].name, r->reasons[i].name)) {
                p->error = ps_xasprintf("attrs: duplicate attribute "
                                        "\"drops.%s\"", r->reasons[i].name);
                break;
            }
        }
    }
    if (!p->error && r->n_peers > 1) {
        qsort(r->peers, r->n_peers, sizeof *r->peers, compare_peers);
        for (size_t i = 1; i < r->n_peers; i++) {
            if (!compare_peers(&r->peers[i - 1], &r->peers[i])) {
                p->error = ps_xasprintf("attrs: duplicate attribute "
                                        "\"%s@%s\"",
                                        ps_counter_name(r->peers[i].counter),
                                        r->peers[i].peer);
                break;
            }
        }
    }
    if (p->unknown != p->unknown_inline) {
        free(p->unknown);
    }
    char *error = p->error;
    if (error && r->element) {
        error = ps_xasprintf("element \"%s\": %s", r->element, p->error);
        free(p->error);
    }
    if (error) {
        ps_record_destroy(r);
    }
    return error;
}

char *
ps_record_from_text(const char *text, size_t len,
                    struct ps_json_parser *parser, struct ps_record *r,
                    ps_unknown_attr_cb *unknown_cb, void *aux,
                    bool *invalid_json)
{
    struct record_parse p = {
        .r = r, .unknown_cb = unknown_cb, .aux = aux,
    };
    const char *json_error = ps_json_walk_text(parser, text, len,
                                               record_event, &p);
    *invalid_json = json_error != NULL;
    if (json_error) {
        free(p.error);
        ps_record_destroy(r);
        return ps_xasprintf("invalid JSON: %s", json_error);
    }
    return record_finish(&p);
}

char *
ps_record_from_json(const json_t *json, struct ps_record *r,
                    ps_unknown_attr_cb *unknown_cb, void *aux)
{
    struct record_parse p = {
        .r = r, .unknown_cb = unknown_cb, .aux = aux,
    };
    ps_json_walk_jansson(json, record_event, &p);
    return record_finish(&p);
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
            json_object_set_new(attrs, ps_counter_name(i),
                                json_integer(r->counters[i]));
        }
    }
    for (size_t i = 0; i < r->n_reasons; i++) {
        char *name = ps_xasprintf(DROPS_PREFIX "%s", r->reasons[i].name);
        json_object_set_new(attrs, name, json_integer(r->reasons[i].value));
        free(name);
    }
    for (size_t i = 0; i < r->n_peers; i++) {
        char *name = ps_xasprintf("%s@%s", ps_counter_name(r->peers[i].counter),
                                  r->peers[i].peer);
        json_object_set_new(attrs, name, json_integer(r->peers[i].value));
        free(name);
    }
    for (int i = 0; i < PS_N_GAUGES; i++) {
        if (ps_record_has_gauge(r, i)) {
            json_object_set_new(attrs, ps_gauge_name(i),
                                json_real(r->gauges[i]));
        }
    }
    json_object_set_new(obj, "attrs", attrs);
    return obj;
}
