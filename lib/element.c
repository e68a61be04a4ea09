/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/element.h"

#include <string.h>
#include "util.h"

static const char *const type_names[PS_N_ELEMENT_TYPES] = {
    [PS_PNIC] = "pnic",
    [PS_PNIC_DRIVER] = "pnic_driver",
    [PS_BACKLOG] = "backlog",
    [PS_VSWITCH] = "vswitch",
    [PS_TAP] = "tap",
    [PS_HYPERVISOR] = "hypervisor",
    [PS_VNIC] = "vnic",
    [PS_GUEST_BACKLOG] = "guest_backlog",
    [PS_MIDDLEBOX] = "middlebox",
    [PS_CPU] = "cpu",
};

const char *
ps_element_type_name(enum ps_element_type type)
{
    return type < PS_N_ELEMENT_TYPES ? type_names[type] : "unknown";
}

bool
ps_element_type_from_name(const char *name, enum ps_element_type *type)
{
    return ps_element_type_from_name_len(name, strlen(name), type);
}

bool
ps_element_type_from_name_len(const char *name, size_t len,
                              enum ps_element_type *type)
{
    for (int i = 0; i < PS_N_ELEMENT_TYPES; i++) {
        const char *t = type_names[i];
        if (t[0] == name[0] && strlen(t) == len && !memcmp(name, t, len)) {
            *type = i;
            return true;
        }
    }
    return false;
}

bool
ps_element_type_in_stack(enum ps_element_type type)
{
    return type != PS_MIDDLEBOX && type != PS_CPU;
}

bool
ps_element_type_is_shared(enum ps_element_type type)
{
    return type == PS_PNIC || type == PS_PNIC_DRIVER || type == PS_BACKLOG;
}

enum ps_direction
ps_element_direction(const char *element_id)
{
    const char *colon = strrchr(element_id, ':');
    const char *last = colon ? colon + 1 : element_id;

    if (!strcmp(last, "rx") || !strcmp(last, "from_guest")) {
        return PS_DIR_RX;
    } else if (!strcmp(last, "tx")) {
        return PS_DIR_TX;
    } else if (!strcmp(last, "to_guest")) {
        return PS_DIR_TO_GUEST;
    }
    return PS_DIR_NONE;
}
