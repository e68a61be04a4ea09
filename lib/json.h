/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PS_JSON_H
#define PS_JSON_H 1

/* A JSON value as a sequence of events, in document order, whichever
 * parser produced it: simdjson for the record reader, which is where the
 * time goes (json-simdjson.cc), and jansson for records that are already
 * a json_t (json-jansson.c).  One consumer (record.c) then validates a
 * record once, whichever way it came. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ps_json_kind {
    PS_JSON_NULL,
    PS_JSON_FALSE,
    PS_JSON_TRUE,
    PS_JSON_INT,                /* Fits in int64_t: 'i'. */
    PS_JSON_UINT,               /* Above INT64_MAX: 'u'. */
    PS_JSON_REAL,               /* 'd'. */
    PS_JSON_STRING,             /* 'str', 'len' (may contain NUL). */
    PS_JSON_OBJECT,             /* Start of an object: its members follow
                                 * at 'depth' + 1, then a PS_JSON_END. */
    PS_JSON_ARRAY,              /* Start of an array: likewise. */
    PS_JSON_END,                /* End of the object or array at 'depth'. */
};

struct ps_json_event {
    enum ps_json_kind kind;
    int depth;                  /* 0 for the root value. */
    const char *key;            /* Member name in an object, else NULL. */
    size_t key_len;
    union {
        int64_t i;
        uint64_t u;
        double d;
        struct {
            const char *str;
            size_t len;
        };
    };
};

/* Called for each event.  Returns false to stop the walk. */
typedef bool ps_json_event_cb(const struct ps_json_event *, void *aux);

/* Bytes that must be readable after the text given to ps_json_walk_text()
 * (simdjson reads in blocks of 64 bytes; what they hold does not matter). */
#define PS_JSON_PADDING 64

struct ps_json_parser;
struct ps_json_parser *ps_json_parser_create(void);
void ps_json_parser_destroy(struct ps_json_parser *);

/* Parses the 'len' bytes at 'text' as one JSON value and walks it.  Returns
 * NULL if it parsed (whether or not 'cb' stopped the walk), otherwise a
 * static message saying what is wrong with the text.  The event's strings
 * live until the next call with the same parser. */
const char *ps_json_walk_text(struct ps_json_parser *, const char *text,
                              size_t len, ps_json_event_cb *, void *aux);

/* Walks a jansson value. */
void ps_json_walk_jansson(const json_t *, ps_json_event_cb *, void *aux);

#ifdef __cplusplus
}
#endif

#endif /* json.h */
