/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* perfsight attributes: the attribute names a record may carry, their
 * Prometheus names and what they mean, from the one table the record
 * code and the agent use (docs/formats.md shows this output). */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include "cli.h"

static const char *
unit(const struct ps_attr_info *a)
{
    return a->metric_scale != 1 ? "ns (Prometheus: s)" : "";
}

int
cmd_attributes(const struct cli_options *opts)
{
    if (opts->format == CLI_JSON) {
        json_t *array = json_array();
        for (size_t i = 0; i < ps_attr_table_size; i++) {
            const struct ps_attr_info *a = &ps_attr_table[i];
            json_array_append_new(array, json_pack(
                "{s:s, s:s, s:s, s:f, s:s}", "name", a->name,
                "kind", a->kind == PS_ATTR_COUNTER ? "counter" : "gauge",
                "metric", a->metric, "metric_scale", a->metric_scale,
                "help", a->help));
        }
        cli_print_json(array);
        return 0;
    }

    printf("| attribute | kind | Prometheus | unit | meaning |\n"
           "|---|---|---|---|---|\n");
    for (size_t i = 0; i < ps_attr_table_size; i++) {
        const struct ps_attr_info *a = &ps_attr_table[i];
        printf("| `%s` | %s | `%s` | %s | %s |\n", a->name,
               a->kind == PS_ATTR_COUNTER ? "counter" : "gauge", a->metric,
               unit(a), a->help);
    }
    printf("| `drops.REASON` | counter | "
           "`perfsight_drops_by_reason_total{reason=\"REASON\"}` |  | "
           "Packets lost in the element for REASON (a breakdown of "
           "`drops`). |\n");
    return 0;
}
