/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PS_GUEST_PROTO_H
#define PS_GUEST_PROTO_H 1

/* The guest protocol, version 1 (docs/guest.md): what perfsight-guestd and
 * the agent's guest source agree on.  The host writes one request line,
 *
 *     PSG1 SAMPLE SEQ\n
 *
 * and the guest answers with JSON Lines: a header, one line per element,
 * and an end marker that repeats the request's number and counts the
 * elements:
 *
 *     {"psg":1,"seq":SEQ}
 *     {"type":"vnic","id":"eth0:rx","attrs":{"in_packets":12,...}}
 *     {"end":SEQ,"elements":N}
 *
 * Ids are the guest's part of the element id only: the host puts
 * "TYPE:VM:" in front, VM being its own name for the guest. */

#define PS_GUEST_PORT_NAME "org.perfsight.guestd.0"
#define PS_GUEST_VERSION 1
#define PS_GUEST_REQUEST_FMT "PSG1 SAMPLE %" PRIu32 "\n"
#define PS_GUEST_REQUEST_PREFIX "PSG1 SAMPLE "
#define PS_GUEST_MAX_REQUEST 64          /* Bytes of a request line. */

/* What the host accepts at most: a guest past one is cut off. */
#define PS_GUEST_MAX_ANSWER (256 * 1024) /* Bytes of one answer. */
#define PS_GUEST_MAX_LINE 8192           /* Bytes of one line. */
#define PS_GUEST_MAX_ELEMENTS 1024       /* Elements of one answer. */
#define PS_GUEST_MAX_ATTRS 96            /* Attributes of one element. */
#define PS_GUEST_MAX_NAME 64             /* Bytes of an id component. */
#define PS_GUEST_MAX_ATTR_NAME 128       /* Bytes of an attribute name. */

#endif /* guest-proto.h */
