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
#include "json.h"
#include "record-parse.h"
#include "util.h"

/* The reader cuts the input into top-level records by tracking brackets and
 * strings over a buffer of input, and hands one record's text at a time to
 * simdjson (json.h).  So memory stays bounded by the largest record, and
 * one scanner reads both a JSON array and JSON Lines (or a concatenation
 * of agent answers). */

/* Largest record text accepted: far above any real record, low enough that
 * a corrupt file cannot take all memory. */
#define MAX_RECORD_BYTES (16u << 20)

/* Input is read in blocks of this size. */
#define BLOCK_BYTES (256u << 10)

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
    int line;                   /* Line of 'buf[pos]', from 1. */
    int array_line;             /* Where the open array started. */
    enum outer_state state;

    /* Input not yet consumed is buf[pos, len); PS_JSON_PADDING bytes more
     * are always allocated for simdjson. */
    char *buf;
    size_t pos, len, size;
    bool eof;
    bool borrowed;              /* 'buf' is the caller's (no padding). */
    char *scratch;              /* For a borrowed buffer's last records. */
    size_t scratch_size;

    struct ps_json_parser *parser;
    ps_unknown_attr_cb *unknown_cb;
    void *unknown_aux;
    bool failed;
};

static struct ps_reader *
reader_create(const char *name)
{
    struct ps_reader *rd = ps_xcalloc(1, sizeof *rd);
    rd->name = ps_xstrdup(name);
    rd->line = 1;
    rd->state = OUTER_TOP;
    rd->parser = ps_json_parser_create();
    if (!rd->parser) {
        abort();
    }
    return rd;
}

struct ps_reader *
ps_reader_from_stream(FILE *stream, const char *name)
{
    struct ps_reader *rd = reader_create(name);
    rd->stream = stream;
    rd->size = BLOCK_BYTES;
    rd->buf = ps_xmalloc(rd->size + PS_JSON_PADDING);
    return rd;
}

struct ps_reader *
ps_reader_from_buffer(const char *buf, size_t len, const char *name)
{
    struct ps_reader *rd = reader_create(name);
    rd->buf = (char *) buf;
    rd->len = rd->size = len;
    rd->eof = true;
    rd->borrowed = true;
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
        ps_json_parser_destroy(rd->parser);
        free(rd->name);
        if (!rd->borrowed) {
            free(rd->buf);
        }
        free(rd->scratch);
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

/* Reads more input after buf[len], moving what is unconsumed to the start
 * and growing the buffer if it is full, up to 'limit' bytes unconsumed.
 * Returns the number of bytes read: 0 at the end of the input (or on a
 * read error, which ferror() tells) or when the buffer is at 'limit'. */
static size_t
refill(struct ps_reader *rd, size_t limit)
{
    if (rd->eof) {
        return 0;
    }
    if (rd->pos) {
        memmove(rd->buf, rd->buf + rd->pos, rd->len - rd->pos);
        rd->len -= rd->pos;
        rd->pos = 0;
    }
    if (rd->len == rd->size) {
        if (rd->size >= limit) {
            return 0;
        }
        rd->size = PS_MIN(rd->size * 2, limit);
        rd->buf = ps_xrealloc(rd->buf, rd->size + PS_JSON_PADDING);
    }
    size_t n = fread(rd->buf + rd->len, 1, rd->size - rd->len, rd->stream);
    if (!n) {
        rd->eof = true;
    }
    rd->len += n;
    /* What simdjson reads past a record's end must be initialised. */
    memset(rd->buf + rd->len, ' ', PS_JSON_PADDING);
    return n;
}

/* Bytes that matter to the scanner: 1 in a string, 2 outside one. */
static const unsigned char special[256] = {
    ['"'] = 3, ['\\'] = 1, ['\n'] = 3,
    ['{'] = 2, ['['] = 2, ['}'] = 2, [']'] = 2,
};

/* Finds the end of the object whose '{' is at buf[pos], reading more input
 * as needed.  Returns its length, or 0 with '*errp' set. */
static size_t
scan_object(struct ps_reader *rd, int start_line, char **errp)
{
    size_t off = 1;             /* From rd->pos. */
    int depth = 1;
    bool in_string = false;

    for (;;) {
        const unsigned char *p = (const unsigned char *) rd->buf + rd->pos;
        size_t n = rd->len - rd->pos;
        unsigned char mask = in_string ? 1 : 2;

        while (off < n) {
            unsigned char c = p[off++];
            if (PS_LIKELY(!(special[c] & mask))) {
                continue;
            }
            if (c == '\n') {
                rd->line++;
            } else if (in_string) {
                if (c == '"') {
                    in_string = false;
                    mask = 2;
                } else if (off < n) {
                    off++;      /* The character after a backslash. */
                    if (p[off - 1] == '\n') {
                        rd->line++;
                    }
                } else {
                    off--;      /* Look at the backslash again. */
                    break;
                }
            } else if (c == '"') {
                in_string = true;
                mask = 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (--depth == 0) {
                if (c != '}') {
                    fail(rd, errp, rd->line, "invalid JSON: ']' closes the "
                         "record that started at line %d", start_line);
                    return 0;
                }
                return off;
            }
        }
        if (off >= MAX_RECORD_BYTES) {
            fail(rd, errp, start_line, "record is larger than %u bytes",
                 MAX_RECORD_BYTES);
            return 0;
        }
        if (!refill(rd, MAX_RECORD_BYTES)) {
            break;
        }
    }
    if (rd->stream && ferror(rd->stream)) {
        fail(rd, errp, rd->line, "read error: %s", strerror(errno));
    } else {
        fail(rd, errp, start_line, "the record that starts here is "
             "truncated (end of file inside it)");
    }
    return 0;
}

/* Returns 'text' ('len' bytes of the buffer), or a copy of it, followed
 * by the padding simdjson reads past the end: a borrowed buffer has none
 * after its last bytes. */
static const char *
padded(struct ps_reader *rd, const char *text, size_t len)
{
    if (!rd->borrowed || text + len + PS_JSON_PADDING <= rd->buf + rd->len) {
        return text;
    }
    if (rd->scratch_size < len + PS_JSON_PADDING) {
        rd->scratch_size = len + PS_JSON_PADDING;
        rd->scratch = ps_xrealloc(rd->scratch, rd->scratch_size);
    }
    memcpy(rd->scratch, text, len);
    memset(rd->scratch + len, ' ', PS_JSON_PADDING);
    return rd->scratch;
}

static int
parse_record(struct ps_reader *rd, int start_line, size_t len,
             struct ps_record *r, char **errp)
{
    bool invalid_json;
    const char *text = padded(rd, rd->buf + rd->pos, len);
    char *error = ps_record_from_text(text, len, rd->parser, r,
                                      rd->unknown_cb, rd->unknown_aux,
                                      &invalid_json);
    rd->pos += len;
    if (error) {
        fail(rd, errp, start_line, "%s", error);
        free(error);
        return -1;
    }
    r->line = start_line;
    return 1;
}

/* JSON Lines' common case, one record a line: if the line that starts at
 * buf[pos] is one whole object (with nothing after it but whitespace or a
 * ','), parses it without scanning it first.  Returns 1 if it did, 0 if
 * the line is something else (then nothing is consumed), -1 if the record
 * breaks DESIGN.md §3. */
static int
read_line_record(struct ps_reader *rd, struct ps_record *r, char **errp)
{
    const char *start = rd->buf + rd->pos;
    const char *nl = memchr(start, '\n', rd->len - rd->pos);
    if (!nl) {
        return 0;
    }
    const char *end = nl;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'
                           || end[-1] == '\r' || end[-1] == ',')) {
        end--;
    }
    if (end - start < 2 || end[-1] != '}') {
        return 0;
    }

    bool invalid_json;
    char *error = ps_record_from_text(padded(rd, start, end - start),
                                      end - start, rd->parser, r,
                                      rd->unknown_cb, rd->unknown_aux,
                                      &invalid_json);
    if (error) {
        free(error);
        if (invalid_json) {
            return 0;           /* Not one object: let the scanner say. */
        }
        /* A valid object that is no record: parse it again to report. */
        ps_record_init(r);
        return parse_record(rd, rd->line, end - start, r, errp);
    }
    r->line = rd->line;
    rd->pos += end - start;
    return 1;
}

/* Reads the record that starts at buf[pos]. */
static int
read_record(struct ps_reader *rd, struct ps_record *r, char **errp)
{
    int retval = read_line_record(rd, r, errp);
    if (retval) {
        return retval;
    }
    int start = rd->line;
    size_t len = scan_object(rd, start, errp);
    return len ? parse_record(rd, start, len, r, errp) : -1;
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
    ps_record_init(r);
    if (rd->failed) {
        *errp = ps_xasprintf("%s: reader already failed", rd->name);
        return -1;
    }
    for (;;) {
        if (rd->pos == rd->len && !refill(rd, BLOCK_BYTES)) {
            break;
        }
        int c = (unsigned char) rd->buf[rd->pos];
        if (c == '\n') {
            rd->line++;
            rd->pos++;
            continue;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            rd->pos++;
            continue;
        }

        switch (rd->state) {
        case OUTER_TOP:
            if (c == '[') {
                rd->state = OUTER_ARRAY_FIRST;
                rd->array_line = rd->line;
                rd->pos++;
                continue;
            } else if (c == '{') {
                return read_record(rd, r, errp);
            }
            return fail(rd, errp, rd->line, "invalid JSON: expected a "
                        "record '{' or an array '[', found %s",
                        describe(c));

        case OUTER_ARRAY_FIRST:
        case OUTER_ARRAY_VALUE:
            if (c == ']' && rd->state == OUTER_ARRAY_FIRST) {
                rd->state = OUTER_TOP;
                rd->pos++;
                continue;
            } else if (c == '{') {
                rd->state = OUTER_ARRAY_NEXT;
                return read_record(rd, r, errp);
            }
            return fail(rd, errp, rd->line, "invalid JSON: expected a "
                        "record object in the array, found %s",
                        describe(c));

        case OUTER_ARRAY_NEXT:
            rd->pos++;
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
    if (rd->stream && ferror(rd->stream)) {
        return fail(rd, errp, rd->line, "read error: %s", strerror(errno));
    }
    if (rd->state != OUTER_TOP) {
        return fail(rd, errp, rd->array_line, "the array that starts here "
                    "is truncated (no closing ']')");
    }
    return 0;
}
