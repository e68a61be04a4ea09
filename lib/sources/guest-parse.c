/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The host's parser of a guest's answer (lib/sources/guest-proto.h,
 * docs/guest.md).  A guest is untrusted: every line is checked against
 * the protocol's grammar and bounds, the element ids are the host's
 * ("TYPE:VM:" + the guest's part, which may not hold another VM's or the
 * host's prefix), and only vnic, guest_backlog and middlebox elements get
 * in.  An answer is taken whole or not at all. */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest-proto.h"
#include "sources.h"
#include "util.h"

static bool
name_char(char c)
{
    return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-');
}

bool
ps_guest_name_valid(const char *s, size_t len)
{
    if (!len || len > PS_GUEST_MAX_NAME || s[0] == '.' || s[0] == '-') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!name_char(s[i])) {
            return false;
        }
    }
    return true;
}

/* An id of 'type' as the guest may give it:
 *   vnic           DEV:rx | DEV:tx
 *   guest_backlog  cpuN
 *   middlebox      PROG | PROG:rev */
static bool
id_valid(enum ps_element_type type, const char *id)
{
    const char *colon = strchr(id, ':');
    size_t len = colon ? (size_t) (colon - id) : strlen(id);

    if (!ps_guest_name_valid(id, len)) {
        return false;
    }
    switch (type) {
    case PS_VNIC:
        return colon && (!strcmp(colon + 1, "rx") || !strcmp(colon + 1, "tx"));
    case PS_GUEST_BACKLOG:
        if (colon || strncmp(id, "cpu", 3) || !id[3] || strlen(id) > 8
            || (id[3] == '0' && id[4])) {
            return false;
        }
        for (const char *p = id + 3; *p; p++) {
            if (*p < '0' || *p > '9') {
                return false;
            }
        }
        return true;
    case PS_MIDDLEBOX:
        return !colon || !strcmp(colon + 1, "rev");
    default:
        return false;
    }
}

/* An attribute name the host keeps as an extra: letters, digits and
 * "_.-", and for a middlebox's per-peer counters "@ADDR:PORT" with
 * "[]:" of IPv6 addresses. */
static bool
extra_name_valid(const char *name, size_t len)
{
    const char *at = memchr(name, '@', len);
    size_t base = at ? (size_t) (at - name) : len;

    if (!base || len > PS_GUEST_MAX_ATTR_NAME) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!name_char(c) && !(i > base && (c == ':' || c == '['
                                            || c == ']'))
            && !(i == base && c == '@')) {
            return false;
        }
    }
    return at == NULL || len > base + 1;
}

static int __attribute__((format(printf, 3, 4)))
fail(char **errp, int line, const char *format, ...)
{
    va_list args;
    char *msg;

    va_start(args, format);
    if (vasprintf(&msg, format, args) < 0) {
        abort();
    }
    va_end(args);
    *errp = ps_xasprintf("line %d: %s", line, msg);
    free(msg);
    return EPROTO;
}

/* Returns the non-negative integer 'json' in '*value', or false. */
static bool
get_count(const json_t *json, uint64_t *value)
{
    if (!json_is_integer(json) || json_integer_value(json) < 0) {
        return false;
    }
    *value = json_integer_value(json);
    return true;
}

/* Checks that 'obj' has exactly the keys 'keys' (NULL-terminated). */
static bool
has_only(const json_t *obj, const char *const keys[])
{
    size_t n = 0;
    for (size_t i = 0; keys[i]; i++) {
        if (!json_object_get(obj, keys[i])) {
            return false;
        }
        n++;
    }
    return json_object_size(obj) == n;
}

static int
parse_attrs(const json_t *attrs, struct ps_sample *s, int line, char **errp)
{
    const char *name;
    json_t *value;

    if (!json_is_object(attrs)) {
        return fail(errp, line, "\"attrs\" is not an object");
    }
    if (json_object_size(attrs) > PS_GUEST_MAX_ATTRS) {
        return fail(errp, line, "more than %d attributes",
                    PS_GUEST_MAX_ATTRS);
    }
    json_object_foreach ((json_t *) attrs, name, value) {
        size_t len = strlen(name);
        uint64_t v;

        if (!get_count(value, &v)) {
            return fail(errp, line, "attribute \"%.*s\" is not a "
                        "non-negative integer",
                        (int) (len > 64 ? 64 : len), name);
        }
        const struct ps_attr_info *info = ps_attr_info_find(name, len);
        if (info && info->kind == PS_ATTR_COUNTER) {
            ps_sample_set(s, info->index, v);
        } else if (info && info->index == PS_QUEUE_LEN) {
            ps_sample_set_gauge(s, PS_QUEUE_LEN, v);
        } else if (info) {
            return fail(errp, line, "a guest may not set \"%s\"", name);
        } else if (!strncmp(name, "drops.", 6)) {
            if (!ps_guest_name_valid(name + 6, len - 6)) {
                return fail(errp, line, "bad drop reason \"%.*s\"",
                            (int) (len > 64 ? 64 : len), name);
            }
            ps_sample_add_reason(s, name + 6, v);
        } else if (extra_name_valid(name, len)) {
            ps_sample_add_extra_copy(s, name, v);
        } else {
            return fail(errp, line, "bad attribute name \"%.*s\"",
                        (int) (len > 64 ? 64 : len), name);
        }
    }
    return 0;
}

/* Parses element line 'json' into 'samples'. */
static int
parse_element(const json_t *json, const char *vm, struct ps_index *ids,
              struct ps_samples *samples, int line, char **errp)
{
    static const char *const keys[] = { "type", "id", "attrs", NULL };
    enum ps_element_type type;

    if (!json_is_object(json) || !has_only(json, keys)) {
        return fail(errp, line, "an element has exactly \"type\", \"id\" "
                    "and \"attrs\"");
    }
    const char *tname = json_string_value(json_object_get(json, "type"));
    const char *id = json_string_value(json_object_get(json, "id"));
    if (!tname || !ps_element_type_from_name(tname, &type)
        || (type != PS_VNIC && type != PS_GUEST_BACKLOG
            && type != PS_MIDDLEBOX)) {
        return fail(errp, line, "a guest may only send vnic, guest_backlog "
                    "and middlebox elements");
    }
    if (!id || strlen(id) != json_string_length(json_object_get(json, "id"))
        || !id_valid(type, id)) {
        return fail(errp, line, "bad %s id", tname);
    }
    struct ps_sample *s = ps_samples_add(samples, type, "%s:%s:%s", tname,
                                         vm, id);
    size_t len = strlen(s->record.element), dummy;
    if (ps_index_find(ids, s->record.element, len, &dummy)) {
        return fail(errp, line, "element %s twice", s->record.element);
    }
    ps_index_insert(ids, s->record.element, len, 0);
    ps_sample_set_vm(s, vm);
    return parse_attrs(json_object_get(json, "attrs"), s, line, errp);
}

int
ps_guest_parse_answer(const char *text, size_t len, uint32_t seq,
                      const char *vm, struct ps_samples *samples,
                      char **errp)
{
    size_t n_before = samples->n;
    struct ps_index *ids = ps_index_create();
    const char *p = text, *end = text + len;
    int line = 0, n_elements = 0, error = 0;
    bool done = false;

    *errp = NULL;
    if (len > PS_GUEST_MAX_ANSWER) {
        error = fail(errp, 0, "answer of more than %d bytes",
                     PS_GUEST_MAX_ANSWER);
    }
    while (!error && p < end) {
        const char *nl = memchr(p, '\n', end - p);
        size_t llen = nl ? (size_t) (nl - p) : (size_t) (end - p);
        line++;
        if (done) {
            error = fail(errp, line, "data after the end marker");
            break;
        }
        if (!nl) {
            error = fail(errp, line, "line without a newline");
            break;
        }
        if (llen > PS_GUEST_MAX_LINE) {
            error = fail(errp, line, "line of more than %d bytes",
                         PS_GUEST_MAX_LINE);
            break;
        }
        json_error_t jerr;
        json_t *json = (*p == '{'
                        ? json_loadb(p, llen, JSON_REJECT_DUPLICATES, &jerr)
                        : NULL);
        if (*p != '{') {
            snprintf(jerr.text, sizeof jerr.text, "not a JSON object line");
        }
        p = nl + 1;
        if (!json) {
            error = fail(errp, line, "not JSON: %s", jerr.text);
            break;
        }
        uint64_t v, count;
        if (line == 1) {
            static const char *const keys[] = { "psg", "seq", NULL };
            if (!json_is_object(json) || !has_only(json, keys)
                || !get_count(json_object_get(json, "psg"), &v)
                || v != PS_GUEST_VERSION) {
                error = fail(errp, line, "not a version %d header",
                             PS_GUEST_VERSION);
            } else if (!get_count(json_object_get(json, "seq"), &v)
                       || v != seq) {
                error = fail(errp, line, "answer to another request (not "
                             "%"PRIu32")", seq);
            }
        } else if (json_is_object(json) && json_object_get(json, "end")) {
            static const char *const keys[] = { "end", "elements", NULL };
            if (!has_only(json, keys)
                || !get_count(json_object_get(json, "end"), &v) || v != seq
                || !get_count(json_object_get(json, "elements"), &count)
                || count != (uint64_t) n_elements) {
                error = fail(errp, line, "bad end marker (expected "
                             "{\"end\":%"PRIu32",\"elements\":%d})", seq,
                             n_elements);
            }
            done = true;
        } else if (++n_elements > PS_GUEST_MAX_ELEMENTS) {
            error = fail(errp, line, "more than %d elements",
                         PS_GUEST_MAX_ELEMENTS);
        } else {
            error = parse_element(json, vm, ids, samples, line, errp);
        }
        json_decref(json);
    }
    if (!error && !done) {
        error = fail(errp, line, "no end marker");
    }
    ps_index_destroy(ids);
    if (error) {
        ps_samples_truncate(samples, n_before);
    }
    return error;
}

int
ps_guest_answer_scan(const char *text, size_t len, size_t *offsetp,
                     size_t *answer_lenp)
{
    size_t off = *offsetp;

    while (off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t line_len = nl ? (size_t) (nl - text) - off : len - off;
        if (line_len > PS_GUEST_MAX_LINE) {
            return EMSGSIZE;
        }
        if (!nl) {
            break;
        }
        size_t next = nl - text + 1;
        if (text[off] != '{') {
            return EPROTO;      /* Not a line of the protocol. */
        }
        if (!strncmp(text + off, "{\"end\"", 6)) {
            *answer_lenp = next;
            *offsetp = next;
            return next == len ? 0 : EPROTO;
        }
        off = *offsetp = next;
    }
    return len > PS_GUEST_MAX_ANSWER ? EMSGSIZE : EAGAIN;
}

/* Returns the value of attribute 'attr' of the first 'tag' element in
 * [p, end), malloc'd, or NULL. */
static char *
xml_attr(const char *p, const char *end, const char *tag, const char *attr)
{
    size_t tlen = strlen(tag), alen = strlen(attr);

    for (; (p = memmem(p, end - p, tag, tlen)) != NULL; p += tlen) {
        const char *close = memchr(p, '>', end - p);
        if (!close) {
            return NULL;
        }
        for (const char *a = p + tlen; a + alen + 2 < close; a++) {
            if (a[-1] == ' ' && !strncmp(a, attr, alen) && a[alen] == '='
                && (a[alen + 1] == '\'' || a[alen + 1] == '"')) {
                const char *v = a + alen + 2;
                const char *q = memchr(v, a[alen + 1], close - v);
                return q ? ps_xasprintf("%.*s", (int) (q - v), v) : NULL;
            }
        }
        return NULL;
    }
    return NULL;
}

char *
ps_guest_channel_path(const char *xml, const char *port)
{
    const char *p = xml;

    while ((p = strstr(p, "<channel "))) {
        const char *end = strstr(p, "</channel>");
        if (!end) {
            return NULL;
        }
        char *name = xml_attr(p, end, "<target ", "name");
        char *path = NULL;
        if (name && !strcmp(name, port)) {
            path = xml_attr(p, end, "<source ", "path");
        }
        free(name);
        if (path) {
            return path;
        }
        p = end;
    }
    return NULL;
}
