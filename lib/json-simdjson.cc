/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* simdjson behind json.h's C interface: the only C++ in PerfSight.
 * docs/design.md gives the measurements that chose it over jansson and
 * json-c. */

#include <config.h>
#include "json.h"

#include <new>
#include <simdjson.h>

static_assert(PS_JSON_PADDING >= simdjson::SIMDJSON_PADDING,
              "PS_JSON_PADDING is smaller than simdjson's");

struct ps_json_parser {
    simdjson::dom::parser parser;
};

struct ps_json_parser *
ps_json_parser_create(void)
{
    return new (std::nothrow) ps_json_parser;
}

void
ps_json_parser_destroy(struct ps_json_parser *p)
{
    delete p;
}

/* simdjson's DOM parser, unlike its On-Demand API, picks the code for the
 * machine it runs on (AVX-512, AVX2, SSE4.2 or plain), so one Debian
 * binary is fast everywhere; it validates the whole text (structure,
 * UTF-8, numbers) before the walk. */
static bool
walk(simdjson::dom::element e, const char *key, size_t key_len, int depth,
     ps_json_event_cb *cb, void *aux)
{
    struct ps_json_event ev = {};
    ev.depth = depth;
    ev.key = key;
    ev.key_len = key_len;

    switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
        ev.kind = PS_JSON_OBJECT;
        if (!cb(&ev, aux)) {
            return false;
        }
        simdjson::dom::object object = e.get_object().value_unsafe();
        for (simdjson::dom::key_value_pair field : object) {
            if (!walk(field.value, field.key.data(), field.key.size(),
                      depth + 1, cb, aux)) {
                return false;
            }
        }
        ev.kind = PS_JSON_END;
        ev.key = NULL;
        ev.key_len = 0;
        return cb(&ev, aux);
    }
    case simdjson::dom::element_type::ARRAY: {
        ev.kind = PS_JSON_ARRAY;
        if (!cb(&ev, aux)) {
            return false;
        }
        simdjson::dom::array array = e.get_array().value_unsafe();
        for (simdjson::dom::element child : array) {
            if (!walk(child, NULL, 0, depth + 1, cb, aux)) {
                return false;
            }
        }
        ev.kind = PS_JSON_END;
        ev.key = NULL;
        ev.key_len = 0;
        return cb(&ev, aux);
    }
    case simdjson::dom::element_type::INT64:
        ev.kind = PS_JSON_INT;
        ev.i = e.get_int64().value_unsafe();
        break;
    case simdjson::dom::element_type::UINT64:
        ev.kind = PS_JSON_UINT;
        ev.u = e.get_uint64().value_unsafe();
        break;
    case simdjson::dom::element_type::DOUBLE:
        ev.kind = PS_JSON_REAL;
        ev.d = e.get_double().value_unsafe();
        break;
    case simdjson::dom::element_type::STRING: {
        std::string_view s = e.get_string().value_unsafe();
        ev.kind = PS_JSON_STRING;
        ev.str = s.data();
        ev.len = s.size();
        break;
    }
    case simdjson::dom::element_type::BOOL:
        ev.kind = e.get_bool().value_unsafe() ? PS_JSON_TRUE : PS_JSON_FALSE;
        break;
    case simdjson::dom::element_type::NULL_VALUE:
    default:
        ev.kind = PS_JSON_NULL;
        break;
    }
    return cb(&ev, aux);
}

const char *
ps_json_walk_text(struct ps_json_parser *p, const char *text, size_t len,
                  ps_json_event_cb *cb, void *aux)
{
    simdjson::dom::element root;
    simdjson::error_code error = p->parser.parse(text, len, false).get(root);
    if (error) {
        return simdjson::error_message(error);
    }
    walk(root, NULL, 0, 0, cb, aux);
    return NULL;
}
