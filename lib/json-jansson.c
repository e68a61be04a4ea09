/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "json.h"

#include <string.h>

static bool
walk(const json_t *v, const char *key, size_t key_len, int depth,
     ps_json_event_cb *cb, void *aux)
{
    struct ps_json_event ev = {
        .depth = depth, .key = key, .key_len = key_len,
    };

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *child;

        ev.kind = PS_JSON_OBJECT;
        if (!cb(&ev, aux)) {
            return false;
        }
        json_object_foreach ((json_t *) v, k, child) {
            if (!walk(child, k, strlen(k), depth + 1, cb, aux)) {
                return false;
            }
        }
        ev.kind = PS_JSON_END;
        return cb(&ev, aux);
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *child;

        ev.kind = PS_JSON_ARRAY;
        if (!cb(&ev, aux)) {
            return false;
        }
        json_array_foreach (v, i, child) {
            if (!walk(child, NULL, 0, depth + 1, cb, aux)) {
                return false;
            }
        }
        ev.kind = PS_JSON_END;
        return cb(&ev, aux);
    }
    case JSON_STRING:
        ev.kind = PS_JSON_STRING;
        ev.str = json_string_value(v);
        ev.len = json_string_length(v);
        break;
    case JSON_INTEGER:
        ev.kind = PS_JSON_INT;
        ev.i = json_integer_value(v);
        break;
    case JSON_REAL:
        ev.kind = PS_JSON_REAL;
        ev.d = json_real_value(v);
        break;
    case JSON_TRUE:
        ev.kind = PS_JSON_TRUE;
        break;
    case JSON_FALSE:
        ev.kind = PS_JSON_FALSE;
        break;
    case JSON_NULL:
    default:
        ev.kind = PS_JSON_NULL;
        break;
    }
    return cb(&ev, aux);
}

void
ps_json_walk_jansson(const json_t *v, ps_json_event_cb *cb, void *aux)
{
    walk(v, NULL, 0, 0, cb, aux);
}
