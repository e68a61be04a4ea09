/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

#include <config.h>
#include "guestd-vnic.h"

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include "sources/guest-proto.h"
#include "sources/sources.h"
#include "util.h"

/* Extras per direction at most, so that a line stays within the
 * protocol's bounds. */
#define MAX_EXTRAS 48

/* One direction's sums. */
struct vnic_dir {
    bool any;
    uint64_t counters[PS_N_COUNTERS];
    unsigned int has;
    struct {
        char name[ETH_GSTRING_LEN];
        uint64_t value;
    } extras[MAX_EXTRAS];
    size_t n_extras;
    struct {
        char name[ETH_GSTRING_LEN];
        uint64_t value;
    } reasons[MAX_EXTRAS];
    size_t n_reasons;
    uint64_t outside;           /* Drops by reason not in "drops". */
};

static void
add(uint64_t *dst, uint64_t value)
{
    *dst = *dst + value < *dst ? UINT64_MAX : *dst + value;
}

static void
add_counter(struct vnic_dir *d, enum ps_counter c, uint64_t value)
{
    add(&d->counters[c], value);
    d->has |= 1u << c;
}

/* Adds 'value' to the entry 'name' of a table of 'n' entries. */
#define TABLE_ADD(TABLE, N, NAME, VALUE)                                \
    do {                                                                \
        size_t i_;                                                      \
        for (i_ = 0; i_ < (N); i_++) {                                  \
            if (!strcmp((TABLE)[i_].name, NAME)) {                      \
                break;                                                  \
            }                                                           \
        }                                                               \
        if (i_ == (N) && (N) < MAX_EXTRAS) {                            \
            snprintf((TABLE)[i_].name, sizeof (TABLE)[i_].name, "%s",   \
                     NAME);                                             \
            (TABLE)[i_].value = 0;                                      \
            (N)++;                                                      \
        }                                                               \
        if (i_ < (N)) {                                                 \
            add(&(TABLE)[i_].value, VALUE);                             \
        }                                                               \
    } while (0)

/* Maps suffix 's' of direction 'rx' (else tx). */
static void
map_suffix(struct vnic_dir *d, bool rx, const char *s, uint64_t value)
{
    d->any = true;
    if (!strcmp(s, "packets")) {
        add_counter(d, rx ? PS_IN_PACKETS : PS_OUT_PACKETS, value);
    } else if (!strcmp(s, "bytes")) {
        add_counter(d, rx ? PS_IN_BYTES : PS_OUT_BYTES, value);
    } else if (!strcmp(s, "drops")) {
        add_counter(d, PS_DROPS, value);
    } else if ((!strncmp(s, "drops_", 6) && s[6])
               || (!strncmp(s, "drop_", 5) && s[5])) {
        const char *reason = s + (s[4] == 's' ? 6 : 5);
        if (ps_guest_name_valid(reason, strlen(reason))) {
            TABLE_ADD(d->reasons, d->n_reasons, reason, value);
        }
        if (rx && (!strcmp(reason, "short") || !strcmp(reason, "frame"))) {
            /* The patched driver's drops that its rx "drops" leaves out
             * (docs/linux.md): they are the element's too. */
            d->outside += value;
        }
    } else if (rx ? (!strcmp(s, "poll_ns") || !strcmp(s, "poll_time_ns")
                     || !strcmp(s, "time_ns"))
               : (!strcmp(s, "xmit_ns") || !strcmp(s, "xmit_time_ns")
                  || !strcmp(s, "time_ns"))) {
        add_counter(d, rx ? PS_IN_TIME_NS : PS_OUT_TIME_NS, value);
    } else if (ps_guest_name_valid(s, strlen(s))) {
        TABLE_ADD(d->extras, d->n_extras, s, value);
    }
}

size_t
guestd_vnic_map(const char *dev, const char *names, size_t name_len,
                const uint64_t *values, size_t n, struct ps_samples *samples)
{
    struct vnic_dir *dirs = ps_xcalloc(2, sizeof *dirs);
    size_t n_samples = 0;

    for (size_t i = 0; i < n; i++) {
        char name[ETH_GSTRING_LEN + 1];
        size_t len = strnlen(names + i * name_len, name_len);
        if (len > ETH_GSTRING_LEN) {
            len = ETH_GSTRING_LEN;
        }
        memcpy(name, names + i * name_len, len);
        name[len] = '\0';

        bool rx = !strncmp(name, "rx_queue_", 9);
        if (!rx && strncmp(name, "tx_queue_", 9)) {
            continue;
        }
        const char *p = name + 9;
        if (*p < '0' || *p > '9') {
            continue;
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
        if (*p == '_' && p[1]) {
            map_suffix(&dirs[rx ? 0 : 1], rx, p + 1, values[i]);
        }
    }
    for (int k = 0; k < 2; k++) {
        struct vnic_dir *d = &dirs[k];
        if (!d->any) {
            continue;
        }
        struct ps_sample *s = ps_samples_add(samples, PS_VNIC, "%s:%s", dev,
                                             k ? "tx" : "rx");
        uint64_t reason_sum = 0;
        for (size_t i = 0; i < d->n_reasons; i++) {
            ps_sample_add_reason(s, d->reasons[i].name, d->reasons[i].value);
            add(&reason_sum, d->reasons[i].value);
        }
        if (!(d->has & (1u << PS_DROPS))) {
            /* Drops by reason alone: their sum is the element's. */
            add_counter(d, PS_DROPS, reason_sum);
        } else {
            add_counter(d, PS_DROPS, d->outside);
        }
        for (int c = 0; c < PS_N_COUNTERS; c++) {
            if (d->has & (1u << c)) {
                ps_sample_set(s, c, d->counters[c]);
            }
        }
        for (size_t i = 0; i < d->n_extras; i++) {
            ps_sample_add_extra_copy(s, d->extras[i].name,
                                     d->extras[i].value);
        }
        n_samples++;
    }
    free(dirs);
    return n_samples;
}

/* Reads device 'dev''s ethtool counters into 'samples' through socket
 * 'fd'. */
static int
sample_dev(int fd, const char *dev, struct ps_samples *samples)
{
    struct ifreq ifr;
    int error = 0;

    if (strlen(dev) >= sizeof ifr.ifr_name) {
        return ENODEV;
    }
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, dev);
    /* One string set asked: one length back. */
    struct ethtool_sset_info *sset = ps_xcalloc(1, sizeof *sset
                                                + sizeof(uint32_t));
    sset->cmd = ETHTOOL_GSSET_INFO;
    sset->sset_mask = UINT64_C(1) << ETH_SS_STATS;
    ifr.ifr_data = (void *) sset;
    if (ioctl(fd, SIOCETHTOOL, &ifr)) {
        error = errno;
        free(sset);
        return error;
    }
    uint32_t n = sset->sset_mask ? sset->data[0] : 0;
    free(sset);
    if (!n || n > 65536) {
        return 0;
    }

    struct ethtool_gstrings *strings = ps_xcalloc(1, sizeof *strings
                                                  + n * ETH_GSTRING_LEN);
    struct ethtool_stats *stats = ps_xcalloc(1, sizeof *stats
                                             + n * sizeof(uint64_t));
    strings->cmd = ETHTOOL_GSTRINGS;
    strings->string_set = ETH_SS_STATS;
    strings->len = n;
    ifr.ifr_data = (void *) strings;
    if (ioctl(fd, SIOCETHTOOL, &ifr)) {
        error = errno;
        goto out;
    }
    stats->cmd = ETHTOOL_GSTATS;
    stats->n_stats = n;
    ifr.ifr_data = (void *) stats;
    if (ioctl(fd, SIOCETHTOOL, &ifr)) {
        error = errno;
        goto out;
    }
    /* The device may have changed between the calls: take the fewer. */
    n = strings->len < stats->n_stats ? strings->len : stats->n_stats;
    guestd_vnic_map(dev, (const char *) strings->data, ETH_GSTRING_LEN,
                    (const uint64_t *) stats->data, n, samples);
out:
    free(strings);
    free(stats);
    return error;
}

int
guestd_vnic_sample(const char *devices, struct ps_samples *samples)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int retval = 0;

    if (fd < 0) {
        return errno;
    }
    if (devices) {
        for (const char *p = devices; *p; ) {
            size_t len = strcspn(p, ",");
            char *dev = ps_xasprintf("%.*s", (int) len, p);
            int error = (ps_guest_name_valid(dev, len)
                         ? sample_dev(fd, dev, samples) : ENODEV);
            retval = retval ? retval : error;
            free(dev);
            p += len + (p[len] == ',');
        }
    } else {
        struct if_nameindex *ifs = if_nameindex();
        for (size_t i = 0; ifs && ifs[i].if_index; i++) {
            const char *dev = ifs[i].if_name;
            if (strcmp(dev, "lo") && ps_guest_name_valid(dev, strlen(dev))) {
                /* A device without ethtool counters has no element. */
                sample_dev(fd, dev, samples);
            }
        }
        if (ifs) {
            if_freenameindex(ifs);
        }
    }
    close(fd);
    return retval;
}
