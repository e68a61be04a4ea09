/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#ifndef PERFSIGHT_PEER_H
#define PERFSIGHT_PEER_H 1

#include <stdbool.h>
#include <stdint.h>

/* A socket address as records and topologies write it (DESIGN.md §3, §4):
 * "10.0.3.2:80", "[fd00::2]:80", or without a port ("10.0.3.2",
 * "fd00::2"), which in a topology stands for every port of the address. */
struct ps_peer_addr {
    int family;                 /* AF_INET or AF_INET6. */
    uint8_t addr[16];           /* 4 bytes for AF_INET. */
    uint16_t port;              /* 0: any port. */
};

/* Parses 's'.  An IPv4-mapped IPv6 address ("::ffff:10.0.0.1") becomes the
 * IPv4 address, as the kernel reports either for one socket.  Returns
 * false if 's' is none of the forms above. */
bool ps_peer_addr_parse(const char *s, struct ps_peer_addr *);

/* True if 'peer' (a record's peer, with a port) is 'pattern' (a
 * topology's address, whose port 0 matches any). */
bool ps_peer_addr_match(const struct ps_peer_addr *pattern,
                        const struct ps_peer_addr *peer);

#endif /* perfsight/peer.h */
