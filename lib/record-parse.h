/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PS_RECORD_PARSE_H
#define PS_RECORD_PARSE_H 1

/* Between the reader and record.c: one record's text to a record. */

#include <stdbool.h>
#include <stddef.h>
#include "json.h"
#include "perfsight/record.h"

/* Parses the 'len' bytes at 'text' (followed by PS_JSON_PADDING readable
 * bytes) into 'r', which the caller initialised.  Returns NULL, or a
 * malloc'd message with '*invalid_json' telling whether the text is not
 * JSON at all or a record that breaks DESIGN.md §3. */
char *ps_record_from_text(const char *text, size_t len,
                          struct ps_json_parser *, struct ps_record *r,
                          ps_unknown_attr_cb *, void *aux,
                          bool *invalid_json);

#endif /* record-parse.h */
