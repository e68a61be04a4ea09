/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef GUESTD_ANSWER_H
#define GUESTD_ANSWER_H 1

/* perfsight-guestd's side of the guest protocol (lib/sources/guest-proto.h,
 * docs/guest.md). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "perfsight/source.h"

/* Parses request line 'line' ('len' bytes, without its newline).  Returns
 * true and its number in '*seqp' if it is a version 1 sample request. */
bool guestd_parse_request(const char *line, size_t len, uint32_t *seqp);

/* Writes the answer to request 'seq' with the guest's 'samples' into a
 * malloc'd '*textp' of '*lenp' bytes.  Samples of vnic type go as they
 * are; backlog samples ("backlog:cpuN") as guest_backlog "cpuN"; middlebox
 * samples ("middlebox:ANY:PROG[:rev]") as "PROG[:rev]".  Other samples,
 * and what would overrun the host's bounds, are left out. */
void guestd_answer(const struct ps_samples *, uint32_t seq, char **textp,
                   size_t *lenp);

#endif /* guestd-answer.h */
