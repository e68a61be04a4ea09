/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_ELEMENT_H
#define PERFSIGHT_ELEMENT_H 1

#include <stdbool.h>
#include <stddef.h>

/* The stages of a host's software data plane (DESIGN.md §2).  The order is
 * the order a received packet meets them, which is also the order in which
 * tables list them. */
enum ps_element_type {
    PS_PNIC,            /* Physical NIC: drops when it has no room. */
    PS_PNIC_DRIVER,     /* NIC driver: drops when it cannot allocate. */
    PS_BACKLOG,         /* Per-CPU backlog queue (softnet_data). */
    PS_VSWITCH,         /* A virtual switch port, one direction. */
    PS_TAP,             /* Host tap device, one direction. */
    PS_HYPERVISOR,      /* QEMU's tap backend and virtio-net device. */
    PS_VNIC,            /* The guest's virtio-net driver. */
    PS_GUEST_BACKLOG,   /* The guest's per-CPU backlog. */
    PS_MIDDLEBOX,       /* Middlebox software inside a VM. */
    PS_CPU,             /* CPU utilisation of a host or a VM. */
    PS_N_ELEMENT_TYPES
};

const char *ps_element_type_name(enum ps_element_type);
bool ps_element_type_from_name(const char *name, enum ps_element_type *);
bool ps_element_type_from_name_len(const char *name, size_t len,
                                   enum ps_element_type *);

/* True for the elements Algorithm 1 examines: every stage that forwards
 * packets below the middlebox software. */
bool ps_element_type_in_stack(enum ps_element_type);

/* True for stages that every VM on the host shares (a loss there is
 * contention whichever VM's packets it hits). */
bool ps_element_type_is_shared(enum ps_element_type);

/* Direction of an element, taken from the last ':' component of its id. */
enum ps_direction {
    PS_DIR_NONE,        /* No direction (backlog:cpu0, cpu:host). */
    PS_DIR_RX,          /* "rx", "from_guest": into the host stack. */
    PS_DIR_TX,          /* "tx": out of the host stack. */
    PS_DIR_TO_GUEST,    /* "to_guest": towards a VM. */
};

enum ps_direction ps_element_direction(const char *element_id);

#endif /* perfsight/element.h */
