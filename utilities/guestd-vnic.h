/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef GUESTD_VNIC_H
#define GUESTD_VNIC_H 1

/* perfsight-guestd's vNIC elements: a guest driver's ethtool counters
 * (ETHTOOL_GSTRINGS/GSTATS) turned into vnic samples, DEV:rx and DEV:tx. */

#include <stddef.h>
#include <stdint.h>
#include "perfsight/source.h"

/* Appends the rx and tx samples of device 'dev' (type PS_VNIC, ids
 * "DEV:rx" and "DEV:tx") from its 'n' ethtool counters 'names' (each
 * 'name_len' bytes, NUL-padded) and 'values'.  Only per-queue names count,
 * "rx_queue_N_SUFFIX" and "tx_queue_N_SUFFIX", summed over the queues by
 * suffix (docs/guest.md gives the mapping).  Returns the number of samples
 * appended: 0 if 'dev' has no per-queue counters. */
size_t guestd_vnic_map(const char *dev, const char *names, size_t name_len,
                       const uint64_t *values, size_t n,
                       struct ps_samples *);

/* Appends the samples of every device in 'devices' (comma-separated), or
 * of every device but lo if 'devices' is NULL, read with the ethtool
 * ioctl.  Returns 0 or a positive errno (after appending what it could). */
int guestd_vnic_sample(const char *devices, struct ps_samples *);

#endif /* guestd-vnic.h */
