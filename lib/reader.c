/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

/* The reader cuts the input into top-level records by tracking brackets and
 * strings, and hands one record's text at a time to jansson.  So memory
 * stays bounded by the largest record, and one scanner reads both a JSON
 * array and JSON Lines (or a concatenation of agent answers). */

/* Largest record text accepted: far above any real record, low enough that
 * a corrupt file cannot take all memory. */
#define MAX_RECORD_BYTES (16u << 20)

enum outer_state {
    OUTER_TOP,                  /* Between top-level values. */
    OUTER_ARRAY_FIRST,          /* After '[': a record or ']'. */
    OUTER_ARRAY_VALUE,          /* After ',': a record. */
    OUTER_ARRAY_NEXT,           /* After a record: ',' or ']'. */
};

struct ps_reader {
    FILE *stream;
    bool close_stream;
    char *name;
    int line;                   /* Current line, from 1. */
    int array_line;             /* Where the open array started. */
    enum outer_state state;
    char *buf;                  /* Current record's text. */
    size_t len, allocated;
    ps_unknown_attr_cb *unknown_cb;
    void *unknown_aux;
    bool failed;
};

struct ps_reader *
ps_reader_from_stream(FILE *stream, const char *name)
{
    struct ps_reader *rd = ps_xcalloc(1, sizeof *rd);
    rd->stream = stream;
    rd->name = ps_xstrdup(name);
    rd->line = 1;
    rd->state = OUTER_TOP;
    return rd;
}

struct ps_reader *
ps_reader_open(const char *path, char **errp)
{
    if (!strcmp(path, "-")) {
        return ps_reader_from_stream(stdin, "<stdin>");
    }
    FILE *stream = fopen(path, "r");
    if (!stream) {
        *errp = ps_xasprintf("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct ps_reader *rd = ps_reader_from_stream(stream, path);
    rd->close_stream = true;
    return rd;
}

void
ps_reader_set_unknown_attr_cb(struct ps_reader *rd, ps_unknown_attr_cb *cb,
                              void *aux)
{
    rd->unknown_cb = cb;
    rd->unknown_aux = aux;
}

void
ps_reader_close(struct ps_reader *rd)
{
    if (rd) {
        if (rd->close_stream) {
            fclose(rd->stream);
        }
        free(rd->name);
        free(rd->buf);
        free(rd);
    }
}

static int
fail(struct ps_reader *rd, char **errp, int line, const char *format, ...)
    PS_PRINTF_FORMAT(4, 5);

static int
fail(struct ps_reader *rd, char **errp, int line, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *msg = ps_xvasprintf(format, args);
    va_end(args);
    *errp = ps_xasprintf("%s:%d: %s", rd->name, line, msg);
    free(msg);
    rd->failed = true;
    return -1;
}

static void
append(struct ps_reader *rd, int c)
{
    rd->buf = ps_grow(rd->buf, &rd->allocated, rd->len + 1, 1);
    rd->buf[rd->len++] = c;
}

/* Reads one object's text, whose '{' was just consumed, into 'rd->buf'.
 * Returns 0, or -1 with '*errp' set. */
static int
scan_object(struct ps_reader *rd, int start_line, char **errp)
{
    int depth = 1;
    bool in_string = false, escaped = false;
    int c;

    rd->len = 0;
    append(rd, '{');
    while ((c = getc_unlocked(rd->stream)) != EOF) {
        if (c == '\n') {
            rd->line++;
        }
        if (rd->len >= MAX_RECORD_BYTES) {
            return fail(rd, errp, start_line, "record is larger than %u "
                        "bytes", MAX_RECORD_BYTES);
        }
        append(rd, c);
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                if (c != '}') {
                    return fail(rd, errp, rd->line, "invalid JSON: ']' "
                                "closes the record that started at line %d",
                                start_line);
                }
                return 0;
            }
        }
    }
    if (ferror(rd->stream)) {
        return fail(rd, errp, rd->line, "read error: %s", strerror(errno));
    }
    return fail(rd, errp, start_line, "the record that starts here is "
                "truncated (end of file inside it)");
}

static int
parse_record(struct ps_reader *rd, int start_line, struct ps_record *r,
             char **errp)
{
    json_error_t jerr;
    json_t *json = json_loadb(rd->buf, rd->len, JSON_REJECT_DUPLICATES,
                              &jerr);
    if (!json) {
        return fail(rd, errp, start_line + (jerr.line > 0 ? jerr.line - 1 : 0),
                    "invalid JSON: %s", jerr.text);
    }
    char *error = ps_record_from_json(json, r, rd->unknown_cb,
                                      rd->unknown_aux);
    json_decref(json);
    if (error) {
        fail(rd, errp, start_line, "%s", error);
        free(error);
        return -1;
    }
    r->line = start_line;
    return 1;
}

static const char *
describe(int c)
{
    static char buf[32];
    if (c >= 0x21 && c < 0x7f) {
        snprintf(buf, sizeof buf, "'%c'", c);
    } else {
        snprintf(buf, sizeof buf, "byte 0x%02x", (unsigned int) c);
    }
    return buf;
}

int
ps_reader_next(struct ps_reader *rd, struct ps_record *r, char **errp)
{
    int c;

    ps_record_init(r);
    if (rd->failed) {
        *errp = ps_xasprintf("%s: reader already failed", rd->name);
        return -1;
    }
    while ((c = getc_unlocked(rd->stream)) != EOF) {
        if (c == '\n') {
            rd->line++;
            continue;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            continue;
        }

        switch (rd->state) {
        case OUTER_TOP:
            if (c == '[') {
                rd->state = OUTER_ARRAY_FIRST;
                rd->array_line = rd->line;
                continue;
            } else if (c == '{') {
                int start = rd->line;
                if (scan_object(rd, start, errp)) {
                    return -1;
                }
                return parse_record(rd, start, r, errp);
            }
            return fail(rd, errp, rd->line, "invalid JSON: expected a "
                        "record '{' or an array '[', found %s",
                        describe(c));

        case OUTER_ARRAY_FIRST:
        case OUTER_ARRAY_VALUE:
            if (c == ']' && rd->state == OUTER_ARRAY_FIRST) {
                rd->state = OUTER_TOP;
                continue;
            } else if (c == '{') {
                int start = rd->line;
                if (scan_object(rd, start, errp)) {
                    return -1;
                }
                rd->state = OUTER_ARRAY_NEXT;
                return parse_record(rd, start, r, errp);
            }
            return fail(rd, errp, rd->line, "invalid JSON: expected a "
                        "record object in the array, found %s",
                        describe(c));

        case OUTER_ARRAY_NEXT:
            if (c == ',') {
                rd->state = OUTER_ARRAY_VALUE;
                continue;
            } else if (c == ']') {
                rd->state = OUTER_TOP;
                continue;
            }
            return fail(rd, errp, rd->line, "invalid JSON: expected ',' or "
                        "']' after a record, found %s", describe(c));
        }
    }
    if (ferror(rd->stream)) {
        return fail(rd, errp, rd->line, "read error: %s", strerror(errno));
    }
    if (rd->state != OUTER_TOP) {
        return fail(rd, errp, rd->array_line, "the array that starts here "
                    "is truncated (no closing ']')");
    }
    return 0;
}
