/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Net devices: pnic, pnic_driver and tap elements from one RTM_GETSTATS
 * dump (IFLA_STATS_LINK_64) per sample.  The dump names devices only by
 * ifindex, so an RTM_GETLINK dump (names and link kinds) and a few sysfs
 * reads classify them once, at discovery, and again only when the stats
 * dump shows an ifindex the source does not know. */

#include <config.h>

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/gen_stats.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "dropreason.h"
#include "sources.h"
#include "util.h"

/* One known net device. */
struct netdev {
    uint32_t ifindex;
    char *name;
    enum ps_netclass_kind kind; /* PNIC, TAP or IGNORE. */
    char *ids[3];               /* Its element ids, or NULLs. */
    double capacity_bps;        /* 0 if unknown. */
    bool has_qlen;              /* Its root qdisc's length is known... */
    uint32_t qlen;              /* ...and is this, in packets. */
};

struct netlink_source {
    const struct ps_source_env *env;
    struct mnl_socket *nl;
    uint32_t portid;
    uint32_t seq;
    char *buf;                  /* Receive buffer. */
    size_t buf_size;

    struct netdev *devs;
    size_t n_devs;
    struct ps_index *by_ifindex; /* ifindex → index in 'devs'. */
    bool stale;                 /* Rediscover before the next dump. */
    struct ps_dropreason *dr;   /* Kernel drop reasons, or NULL. */
};

/* Reads the link speed of 'name' in bits/s from sysfs, or 0. */
static double
read_speed(const struct ps_source_env *env, const char *name)
{
    char path[512], *text;
    double bps = 0;

    snprintf(path, sizeof path, "%s/class/net/%s/speed", env->sysfs, name);
    if (!ps_read_file(path, &text, NULL)) {
        long mbps = strtol(text, NULL, 10);
        if (mbps > 0) {
            bps = mbps * 1e6;
        }
        free(text);
    }
    return bps;
}

/* Classifies device 'name' of link kind 'kind' (NULL for none): see
 * docs/agent.md, "Classification". */
static enum ps_netclass_kind
classify(const struct ps_source_env *env, const char *name, const char *kind)
{
    enum ps_netclass_kind k = ps_netclass_lookup(env->netclass, name);
    char path[512];

    if (k != PS_NETCLASS_AUTO) {
        return k;
    }
    if (kind && !strcmp(kind, "tun")) {
        char *text;
        snprintf(path, sizeof path, "%s/class/net/%s/tun_flags",
                 env->sysfs, name);
        if (!ps_read_file(path, &text, NULL)) {
            unsigned long flags = strtoul(text, NULL, 0);
            free(text);
            return flags & IFF_TAP ? PS_NETCLASS_TAP : PS_NETCLASS_IGNORE;
        }
        return PS_NETCLASS_IGNORE;
    }
    if (!kind) {
        snprintf(path, sizeof path, "%s/class/net/%s/device", env->sysfs,
                 name);
        if (!access(path, F_OK)) {
            return PS_NETCLASS_PNIC;
        }
    }
    return PS_NETCLASS_IGNORE;
}

static void
clear_devs(struct netlink_source *s)
{
    for (size_t i = 0; i < s->n_devs; i++) {
        free(s->devs[i].name);
        for (size_t j = 0; j < PS_ARRAY_SIZE(s->devs[i].ids); j++) {
            free(s->devs[i].ids[j]);
        }
    }
    free(s->devs);
    s->devs = NULL;
    s->n_devs = 0;
    ps_index_destroy(s->by_ifindex);
    s->by_ifindex = ps_index_create();
}

/* Sends a dump request of 'type' whose body is 'body' ('len' bytes). */
static int
send_dump(struct netlink_source *s, uint16_t type, const void *body,
          size_t len)
{
    char req[256];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);

    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++s->seq;
    memcpy(mnl_nlmsg_put_extra_header(nlh, len), body, len);
    if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0) {
        return errno;
    }
    return 0;
}

/* Receives a whole dump, calling 'cb' on each message. */
static int
recv_dump(struct netlink_source *s, mnl_cb_t cb, void *data)
{
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(s->nl, s->buf, s->buf_size);
        if (n < 0) {
            return errno;
        }
        int ret = mnl_cb_run(s->buf, n, s->seq, s->portid, cb, data);
        if (ret < 0) {
            return errno ? errno : EPROTO;
        } else if (ret == MNL_CB_STOP) {
            return 0;
        }
    }
}

/* Attributes of RTM_NEWLINK that discovery needs. */
struct link_attrs {
    const char *name;
    const char *kind;
};

static int
linkinfo_cb(const struct nlattr *attr, void *data)
{
    const char **kind = data;
    if (mnl_attr_get_type(attr) == IFLA_INFO_KIND
        && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
        *kind = mnl_attr_get_str(attr);
    }
    return MNL_CB_OK;
}

static int
link_attr_cb(const struct nlattr *attr, void *data)
{
    struct link_attrs *la = data;

    switch (mnl_attr_get_type(attr)) {
    case IFLA_IFNAME:
        if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
            la->name = mnl_attr_get_str(attr);
        }
        break;
    case IFLA_LINKINFO:
        if (mnl_attr_validate(attr, MNL_TYPE_NESTED) >= 0) {
            mnl_attr_parse_nested(attr, linkinfo_cb, &la->kind);
        }
        break;
    }
    return MNL_CB_OK;
}

static int
link_cb(const struct nlmsghdr *nlh, void *data)
{
    struct netlink_source *s = data;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    struct link_attrs la = { NULL, NULL };

    if (nlh->nlmsg_type != RTM_NEWLINK
        || nlh->nlmsg_len < mnl_nlmsg_size(sizeof *ifi)) {
        return MNL_CB_OK;
    }
    mnl_attr_parse(nlh, sizeof *ifi, link_attr_cb, &la);
    if (!la.name) {
        return MNL_CB_OK;
    }

    struct netdev *dev;
    s->devs = ps_xrealloc(s->devs, (s->n_devs + 1) * sizeof *s->devs);
    dev = &s->devs[s->n_devs];
    dev->ifindex = ifi->ifi_index;
    dev->name = ps_xstrdup(la.name);
    dev->kind = classify(s->env, la.name, la.kind);
    dev->capacity_bps = (dev->kind == PS_NETCLASS_PNIC
                         ? read_speed(s->env, la.name) : 0);
    memset(dev->ids, 0, sizeof dev->ids);
    dev->has_qlen = false;
    if (dev->kind == PS_NETCLASS_PNIC) {
        dev->ids[0] = ps_xasprintf("pnic:%s:rx", la.name);
        dev->ids[1] = ps_xasprintf("pnic_driver:%s:rx", la.name);
        dev->ids[2] = ps_xasprintf("pnic:%s:tx", la.name);
    } else if (dev->kind == PS_NETCLASS_TAP) {
        dev->ids[0] = ps_xasprintf("tap:%s:to_guest", la.name);
        dev->ids[1] = ps_xasprintf("tap:%s:from_guest", la.name);
    }
    ps_index_insert(s->by_ifindex, (const char *) &dev->ifindex,
                    sizeof dev->ifindex, s->n_devs);
    s->n_devs++;
    return MNL_CB_OK;
}

/* Discovers every net device of the namespace and classifies it. */
static int
discover(struct netlink_source *s)
{
    struct ifinfomsg ifi;

    clear_devs(s);
    memset(&ifi, 0, sizeof ifi);
    ifi.ifi_family = AF_UNSPEC;
    int error = send_dump(s, RTM_GETLINK, &ifi, sizeof ifi);
    if (!error) {
        error = recv_dump(s, link_cb, s);
    }
    s->stale = error != 0;
    return error;
}

/* The reasons of each element, in name order. */
static const char *const pnic_rx_reasons[] = {
    "rx_fifo", "rx_missed", "rx_over",
};
static const char *const pnic_tx_reasons[] = {
    "tx_aborted", "tx_carrier", "tx_dropped", "tx_fifo",
};
static const char *const rx_dropped_reason[] = { "rx_dropped" };
static const char *const tx_dropped_reason[] = { "tx_dropped" };

static int
qdisc_stats2_cb(const struct nlattr *attr, void *data)
{
    struct gnet_stats_queue *q = data;
    if (mnl_attr_get_type(attr) == TCA_STATS_QUEUE
        && mnl_attr_get_payload_len(attr) >= sizeof *q) {
        memcpy(q, mnl_attr_get_payload(attr), sizeof *q);
        q->requeues = 1;        /* Marks it found. */
    }
    return MNL_CB_OK;
}

int
ps_netlink_parse_qdisc(const struct nlmsghdr *nlh, uint32_t *ifindex,
                       uint32_t *qlen)
{
    const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *attr;
    int error = ENOENT;

    if (nlh->nlmsg_type != RTM_NEWQDISC
        || nlh->nlmsg_len < mnl_nlmsg_size(sizeof *tcm)
        || tcm->tcm_parent != TC_H_ROOT) {
        return ENOENT;
    }
    mnl_attr_for_each (attr, nlh, sizeof *tcm) {
        struct gnet_stats_queue q = { 0 };
        if (mnl_attr_get_type(attr) == TCA_STATS2
            && mnl_attr_validate(attr, MNL_TYPE_NESTED) >= 0) {
            mnl_attr_parse_nested(attr, qdisc_stats2_cb, &q);
            if (q.requeues) {
                *ifindex = tcm->tcm_ifindex;
                *qlen = q.qlen;
                error = 0;
            }
        }
    }
    return error;
}

static int
qdisc_cb(const struct nlmsghdr *nlh, void *data)
{
    struct netlink_source *s = data;
    uint32_t ifindex, qlen;
    size_t i;

    if (!ps_netlink_parse_qdisc(nlh, &ifindex, &qlen)
        && ps_index_find(s->by_ifindex, (const char *) &ifindex,
                         sizeof ifindex, &i)) {
        s->devs[i].qlen = qlen;
        s->devs[i].has_qlen = true;
    }
    return MNL_CB_OK;
}

/* Reads the length of every device's root qdisc (what "tc -s qdisc" shows
 * as backlog ...p): the device's transmit queue. */
static int
dump_qdiscs(struct netlink_source *s)
{
    struct tcmsg tcm;

    for (size_t i = 0; i < s->n_devs; i++) {
        s->devs[i].has_qlen = false;
    }
    memset(&tcm, 0, sizeof tcm);
    tcm.tcm_family = AF_UNSPEC;
    int error = send_dump(s, RTM_GETQDISC, &tcm, sizeof tcm);
    return error ? error : recv_dump(s, qdisc_cb, s);
}

/* Breaks the tap's 'tx_dropped' down by the kernel's reasons for the drops
 * on the way out of 'dev' when they are counted ('dr'), the rest (drops
 * before the counting began) staying "tx_dropped". */
static void
add_tx_reasons(struct ps_sample *e, const struct ps_dropreason *dr,
               const struct netdev *dev, uint64_t tx_dropped)
{
    const struct ps_dropcount *c;
    size_t n = dr ? ps_dropreason_device(dr, dev->ifindex, &c) : 0;
    uint64_t rest = tx_dropped;

    for (size_t i = 0; i < n; i++) {
        if (ps_dropreason_is_tx(c[i].reason)) {
            ps_sample_add_reason(e, c[i].reason, c[i].count);
            rest = rest > c[i].count ? rest - c[i].count : 0;
        }
    }
    if (!n) {
        ps_sample_set_reasons(e, tx_dropped_reason, &tx_dropped, 1);
    } else if (rest) {
        ps_sample_add_reason(e, "tx_dropped", rest);
    }
}

/* Appends the elements of 'dev' with counters 'st'. */
static void
add_elements(const struct netdev *dev, const struct rtnl_link_stats64 *st,
             const struct ps_dropreason *dr, struct ps_samples *samples)
{
    struct ps_sample *e;

    if (dev->kind == PS_NETCLASS_PNIC) {
        uint64_t nic_drops = (st->rx_missed_errors + st->rx_fifo_errors
                              + st->rx_over_errors);
        uint64_t tx_drops = (st->tx_dropped + st->tx_fifo_errors
                             + st->tx_carrier_errors
                             + st->tx_aborted_errors);

        e = ps_samples_add_static(samples, PS_PNIC, dev->ids[0]);
        ps_sample_set(e, PS_IN_PACKETS, st->rx_packets + st->rx_dropped
                      + nic_drops);
        ps_sample_set(e, PS_IN_BYTES, st->rx_bytes);
        ps_sample_set(e, PS_OUT_PACKETS, st->rx_packets + st->rx_dropped);
        ps_sample_set(e, PS_OUT_BYTES, st->rx_bytes);
        ps_sample_set(e, PS_DROPS, nic_drops);
        uint64_t rx_values[] = {
            st->rx_fifo_errors, st->rx_missed_errors, st->rx_over_errors,
        };
        ps_sample_set_reasons(e, pnic_rx_reasons, rx_values,
                              PS_ARRAY_SIZE(rx_values));
        if (dev->capacity_bps) {
            ps_sample_set_gauge(e, PS_CAPACITY_BPS, dev->capacity_bps);
        }

        e = ps_samples_add_static(samples, PS_PNIC_DRIVER, dev->ids[1]);
        ps_sample_set(e, PS_IN_PACKETS, st->rx_packets + st->rx_dropped);
        ps_sample_set(e, PS_IN_BYTES, st->rx_bytes);
        ps_sample_set(e, PS_OUT_PACKETS, st->rx_packets);
        ps_sample_set(e, PS_OUT_BYTES, st->rx_bytes);
        ps_sample_set(e, PS_DROPS, st->rx_dropped);
        uint64_t rx_dropped = st->rx_dropped;
        ps_sample_set_reasons(e, rx_dropped_reason, &rx_dropped, 1);
        ps_sample_add_extra(e, "rx_nohandler", st->rx_nohandler);

        e = ps_samples_add_static(samples, PS_PNIC, dev->ids[2]);
        ps_sample_set(e, PS_IN_PACKETS, st->tx_packets + tx_drops);
        ps_sample_set(e, PS_IN_BYTES, st->tx_bytes);
        ps_sample_set(e, PS_OUT_PACKETS, st->tx_packets);
        ps_sample_set(e, PS_OUT_BYTES, st->tx_bytes);
        ps_sample_set(e, PS_DROPS, tx_drops);
        uint64_t tx_values[] = {
            st->tx_aborted_errors, st->tx_carrier_errors, st->tx_dropped,
            st->tx_fifo_errors,
        };
        ps_sample_set_reasons(e, pnic_tx_reasons, tx_values,
                              PS_ARRAY_SIZE(tx_values));
        if (dev->capacity_bps) {
            ps_sample_set_gauge(e, PS_CAPACITY_BPS, dev->capacity_bps);
        }
        if (dev->has_qlen) {
            ps_sample_set_gauge(e, PS_QUEUE_LEN, dev->qlen);
        }
    } else if (dev->kind == PS_NETCLASS_TAP) {
        /* The host transmits toward the guest: the tap's queue to its
         * reader (QEMU) overflows into tx_dropped. */
        e = ps_samples_add_static(samples, PS_TAP, dev->ids[0]);
        ps_sample_set(e, PS_IN_PACKETS, st->tx_packets + st->tx_dropped);
        ps_sample_set(e, PS_IN_BYTES, st->tx_bytes);
        ps_sample_set(e, PS_OUT_PACKETS, st->tx_packets);
        ps_sample_set(e, PS_OUT_BYTES, st->tx_bytes);
        ps_sample_set(e, PS_DROPS, st->tx_dropped);
        add_tx_reasons(e, dr, dev, st->tx_dropped);
        if (dev->has_qlen) {
            ps_sample_set_gauge(e, PS_QUEUE_LEN, dev->qlen);
        }

        e = ps_samples_add_static(samples, PS_TAP, dev->ids[1]);
        ps_sample_set(e, PS_IN_PACKETS, st->rx_packets + st->rx_dropped);
        ps_sample_set(e, PS_IN_BYTES, st->rx_bytes);
        ps_sample_set(e, PS_OUT_PACKETS, st->rx_packets);
        ps_sample_set(e, PS_OUT_BYTES, st->rx_bytes);
        ps_sample_set(e, PS_DROPS, st->rx_dropped);
        uint64_t rx_dropped = st->rx_dropped;
        ps_sample_set_reasons(e, rx_dropped_reason, &rx_dropped, 1);
    }
}

/* State of one stats dump. */
struct stats_walk {
    struct netlink_source *s;
    struct ps_samples *samples;
    size_t n_seen;
    bool unknown;               /* An ifindex not discovered. */
};

static int
stats_cb(const struct nlmsghdr *nlh, void *data)
{
    struct stats_walk *w = data;
    const struct if_stats_msg *ifsm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *attr;
    size_t i;

    if (nlh->nlmsg_type != RTM_NEWSTATS
        || nlh->nlmsg_len < mnl_nlmsg_size(sizeof *ifsm)) {
        return MNL_CB_OK;
    }
    if (!ps_index_find(w->s->by_ifindex, (const char *) &ifsm->ifindex,
                       sizeof ifsm->ifindex, &i)) {
        w->unknown = true;
        return MNL_CB_OK;
    }
    w->n_seen++;
    if (w->s->devs[i].kind == PS_NETCLASS_IGNORE || !w->samples) {
        return MNL_CB_OK;
    }
    mnl_attr_for_each (attr, nlh, sizeof *ifsm) {
        if (mnl_attr_get_type(attr) == IFLA_STATS_LINK_64
            && mnl_attr_get_payload_len(attr)
               >= sizeof(struct rtnl_link_stats64)) {
            struct rtnl_link_stats64 st;
            memcpy(&st, mnl_attr_get_payload(attr), sizeof st);
            add_elements(&w->s->devs[i], &st, w->s->dr, w->samples);
        }
    }
    return MNL_CB_OK;
}

static int
dump_stats(struct netlink_source *s, struct ps_samples *samples,
           struct stats_walk *w)
{
    struct if_stats_msg ifsm;

    memset(&ifsm, 0, sizeof ifsm);
    ifsm.family = AF_UNSPEC;
    ifsm.filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
    memset(w, 0, sizeof *w);
    w->s = s;
    w->samples = samples;

    int error = send_dump(s, RTM_GETSTATS, &ifsm, sizeof ifsm);
    return error ? error : recv_dump(s, stats_cb, w);
}

/* The element ids in the samples point into 'devs' (no copy): the devices
 * are discovered again only here, before this round's samples are made,
 * and the agent has finished with the previous round by then. */
static int
netlink_sample(void *state, struct ps_samples *samples)
{
    struct netlink_source *s = state;
    struct stats_walk w;
    size_t n_before = samples->n;
    int error;

    if (s->stale && (error = discover(s))) {
        return error;
    }
    if (s->dr && ps_dropreason_refresh(s->dr, samples->ts_ns)) {
        /* A map that cannot be read will not be later: the elements go on
         * without the breakdown. */
        ps_dropreason_put(s->dr);
        s->dr = NULL;
    }
    if (!s->stale && dump_qdiscs(s)) {
        /* No queue lengths this round; the counters do not depend on
         * them. */
        for (size_t i = 0; i < s->n_devs; i++) {
            s->devs[i].has_qlen = false;
        }
    }
    error = dump_stats(s, samples, &w);
    if (!error && w.unknown) {
        /* A device came: classify again and take the dump again, so that
         * the sample has every device. */
        ps_samples_truncate(samples, n_before);
        error = discover(s);
        if (!error) {
            error = dump_stats(s, samples, &w);
        }
    }
    if (!error && w.n_seen < s->n_devs) {
        /* A device went; forget it at the next sample. */
        s->stale = true;
    }
    return error;
}

static int
netlink_init(const struct ps_source_env *env, void **statep)
{
    struct netlink_source *s = ps_xcalloc(1, sizeof *s);

    s->env = env;
    s->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!s->nl || mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        int error = errno;
        if (s->nl) {
            mnl_socket_close(s->nl);
        }
        free(s);
        return error;
    }
    s->portid = mnl_socket_get_portid(s->nl);
    s->seq = time(NULL);
    s->buf_size = 32768;          /* What libmnl calls MNL_SOCKET_DUMP_SIZE. */
    s->buf = ps_xmalloc(s->buf_size);
    s->by_ifindex = ps_index_create();
    s->stale = true;
    s->dr = ps_dropreason_get(env);
    *statep = s;
    return 0;
}

static void
netlink_destroy(void *state)
{
    struct netlink_source *s = state;
    if (s) {
        clear_devs(s);
        ps_index_destroy(s->by_ifindex);
        ps_dropreason_put(s->dr);
        mnl_socket_close(s->nl);
        free(s->buf);
        free(s);
    }
}

const struct ps_source_class ps_netlink_class = {
    .name = "netlink",
    .init = netlink_init,
    .sample = netlink_sample,
    .destroy = netlink_destroy,
};
