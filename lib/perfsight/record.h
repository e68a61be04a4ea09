/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_RECORD_H
#define PERFSIGHT_RECORD_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "perfsight/element.h"

/* The counters of DESIGN.md §3.  They only grow while the element lives. */
enum ps_counter {
    PS_IN_PACKETS,
    PS_IN_BYTES,
    PS_OUT_PACKETS,
    PS_OUT_BYTES,
    PS_DROPS,           /* All drops in the element. */
    PS_IN_TIME_NS,      /* Time spent in the element's input method. */
    PS_OUT_TIME_NS,     /* Time spent in the element's output method. */
    PS_N_COUNTERS
};

/* The gauges of DESIGN.md §3: values at the time of the sample. */
enum ps_gauge {
    PS_CAPACITY_BPS,    /* Bits/s the element's link is provisioned for. */
    PS_CPU_UTIL,        /* 0..1. */
    PS_QUEUE_LEN,       /* Packets waiting in the element's queue. */
    PS_N_GAUGES
};

const char *ps_counter_name(enum ps_counter);
const char *ps_gauge_name(enum ps_gauge);

/* The attributes of DESIGN.md §3 and their Prometheus names, in one table
 * that the record code, the agent's /metrics, the Prometheus source and
 * the docs share. */
enum ps_attr_kind {
    PS_ATTR_COUNTER,
    PS_ATTR_GAUGE,
};

struct ps_attr_info {
    const char *name;           /* In records: "in_time_ns". */
    size_t name_len;
    enum ps_attr_kind kind;
    int index;                  /* enum ps_counter or enum ps_gauge. */
    const char *metric;         /* "perfsight_in_time_seconds_total". */
    double metric_scale;        /* Metric value = record value * this. */
    const char *help;
};

extern const struct ps_attr_info ps_attr_table[];
extern const size_t ps_attr_table_size;

/* Returns the attribute named by the 'len' bytes at 'name', or NULL. */
const struct ps_attr_info *ps_attr_info_find(const char *name, size_t len);
/* Returns the attribute whose Prometheus name is 'metric', or NULL. */
const struct ps_attr_info *ps_attr_info_by_metric(const char *metric);
const struct ps_attr_info *ps_counter_info(enum ps_counter);
const struct ps_attr_info *ps_gauge_info(enum ps_gauge);

/* One "drops.<reason>" counter. */
struct ps_reason {
    char *name;                 /* The part after "drops.". */
    uint64_t value;
};

/* One counter broken down by peer, "out_bytes@10.0.3.2:80" (DESIGN.md §3):
 * a middlebox's bytes and time to or from one remote end. */
struct ps_peer_counter {
    char *peer;                 /* The part after '@': "ADDR:PORT". */
    enum ps_counter counter;
    uint64_t value;
};

/* One element's sample: the paper's <TimeStamp, Element, (attr, value)...>. */
struct ps_record {
    int64_t ts_ns;              /* Sampling host's CLOCK_REALTIME. */
    char *host;
    char *element;              /* Unique within 'host'. */
    enum ps_element_type type;
    char *vm;                   /* Optional, may be NULL. */
    char *tenant;               /* Optional, may be NULL. */

    uint64_t counters[PS_N_COUNTERS];
    unsigned int has_counters;  /* Bit (1u << counter) set if present. */
    double gauges[PS_N_GAUGES];
    unsigned int has_gauges;    /* Bit (1u << gauge) set if present. */

    struct ps_reason *reasons;  /* Sorted by name. */
    size_t n_reasons;

    struct ps_peer_counter *peers;      /* Sorted by peer, then counter. */
    size_t n_peers;

    int line;                   /* Line of the input it came from, or 0. */
};

void ps_record_init(struct ps_record *);
void ps_record_destroy(struct ps_record *);

/* Makes 'dst' a deep copy of 'src'. */
void ps_record_clone(struct ps_record *dst, const struct ps_record *src);

static inline bool
ps_record_has(const struct ps_record *r, enum ps_counter c)
{
    return (r->has_counters >> c) & 1;
}

static inline bool
ps_record_has_gauge(const struct ps_record *r, enum ps_gauge g)
{
    return (r->has_gauges >> g) & 1;
}

/* Reports an attribute name a reader does not know (DESIGN.md §3 says to
 * ignore them; the callback lets a program mention it once). */
typedef void ps_unknown_attr_cb(const char *name, void *aux);

/* Parses 'json' into 'r' (initialised by the caller).  Returns NULL on
 * success, otherwise a malloc'd message naming the offending field. */
char *ps_record_from_json(const json_t *json, struct ps_record *r,
                          ps_unknown_attr_cb *, void *aux);

/* Returns a new JSON object in DESIGN.md §3's format. */
json_t *ps_record_to_json(const struct ps_record *);

/* A streaming reader of records.  It accepts a JSON array of records, JSON
 * Lines, or any sequence of both, and holds one record's text at a time, so
 * that a recording larger than memory can be read. */
struct ps_reader;

/* Opens 'path' ("-" for standard input).  On error returns NULL and sets
 * '*errp' to a malloc'd message. */
struct ps_reader *ps_reader_open(const char *path, char **errp);

/* Reads from 'stream', naming it 'name' in messages.  Does not close it. */
struct ps_reader *ps_reader_from_stream(FILE *stream, const char *name);

/* Reads the 'len' bytes at 'buf', which must stay as they are until
 * ps_reader_close(), without copying them. */
struct ps_reader *ps_reader_from_buffer(const char *buf, size_t len,
                                        const char *name);

void ps_reader_set_unknown_attr_cb(struct ps_reader *, ps_unknown_attr_cb *,
                                   void *aux);

/* Reads the next record into 'r' (which it initialises).  Returns 1 if it
 * read one, 0 at the end of the input, -1 on error with '*errp' set to a
 * malloc'd message "NAME:LINE: ...". */
int ps_reader_next(struct ps_reader *, struct ps_record *r, char **errp);

void ps_reader_close(struct ps_reader *);

#endif /* perfsight/record.h */
