/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The agent's parsers of Open vSwitch's replies (lib/sources/ovs.c): the
 * input is what ovs-vswitchd or ovsdb-server writes on the socket, split
 * into JSON values by ps_jsonconn_recv(); a reply whose "result" is a
 * string goes to ps_ovs_parse_show() as perfsight/show's answer, one whose
 * "result" is an array to ps_ovs_parse_interfaces() as ovsdb-server's.
 * The samples are then served as JSON and as Prometheus text. */

#include <config.h>
#include "fuzz.h"
#include "fuzz-sources.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ps_jsonconn *conn = fuzz_stream(data, size);
    if (!conn) {
        return 0;
    }
    struct ps_names *names = ps_names_create();
    ps_names_set_tenant(names, "vm1", "t1");
    struct ps_samples samples;
    ps_samples_init(&samples, "hv1", 1764151200000000000);

    json_t *reply;
    while (!ps_jsonconn_recv(conn, 1000, &reply)) {
        const json_t *result = json_object_get(reply, "result");
        if (json_is_string(result)) {
            char *error = NULL;
            if (ps_ovs_parse_show(json_string_value(result), &samples,
                                  &error)) {
                if (!error || !error[0]) {
                    abort();    /* A failure must say why. */
                }
            } else if (error) {
                abort();
            }
            free(error);
        } else if (json_is_array(result)) {
            ps_ovs_parse_interfaces(reply, names);
        }
        json_decref(reply);
    }
    ps_jsonconn_close(conn);

    fuzz_render(names, &samples);
    ps_samples_destroy(&samples);
    ps_names_destroy(names);
    return 0;
}
