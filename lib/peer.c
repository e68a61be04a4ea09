/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "perfsight/peer.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static bool
parse_port(const char *s, uint16_t *port)
{
    char *end;
    if (!*s || *s < '0' || *s > '9') {
        return false;
    }
    unsigned long p = strtoul(s, &end, 10);
    if (*end || p == 0 || p > 65535) {
        return false;
    }
    *port = p;
    return true;
}

bool
ps_peer_addr_parse(const char *s, struct ps_peer_addr *a)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port = NULL;
    size_t len;

    memset(a, 0, sizeof *a);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || (close[1] && close[1] != ':')) {
            return false;
        }
        len = close - s - 1;
        s++;
        port = close[1] ? close + 2 : NULL;
    } else {
        const char *colon = strchr(s, ':');
        if (colon && !strchr(colon + 1, ':')) {
            len = colon - s;            /* "10.0.3.2:80" */
            port = colon + 1;
        } else {
            len = strlen(s);            /* "10.0.3.2" or "fd00::2" */
        }
    }
    if (!len || len >= sizeof host) {
        return false;
    }
    memcpy(host, s, len);
    host[len] = '\0';
    if (port && !parse_port(port, &a->port)) {
        return false;
    }

    if (inet_pton(AF_INET, host, a->addr) == 1) {
        a->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, host, a->addr) != 1) {
        return false;
    }
    static const uint8_t v4_mapped[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
    };
    if (!memcmp(a->addr, v4_mapped, sizeof v4_mapped)) {
        memmove(a->addr, a->addr + 12, 4);
        memset(a->addr + 4, 0, 12);
        a->family = AF_INET;
    } else {
        a->family = AF_INET6;
    }
    return true;
}

bool
ps_peer_addr_match(const struct ps_peer_addr *pattern,
                   const struct ps_peer_addr *peer)
{
    size_t len = pattern->family == AF_INET ? 4 : 16;
    return (pattern->family == peer->family
            && !memcmp(pattern->addr, peer->addr, len)
            && (!pattern->port || pattern->port == peer->port));
}
