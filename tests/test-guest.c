/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The guest protocol: the host's parser of answers (what it takes, and
 * every way a hostile guest's answer is refused whole), guestd's ethtool
 * mapping of stock and patched virtio_net names, guestd's answers read
 * back by the host, and the libvirt channel's socket. */

#include <config.h>
#include <errno.h>
#include "test-util.h"
#include "guestd-answer.h"
#include "guestd-vnic.h"
#include "sources/guest-proto.h"
#include "sources/sources.h"
#include "util.h"

static const struct ps_sample *
find(const struct ps_samples *samples, const char *element)
{
    for (size_t i = 0; i < samples->n; i++) {
        if (!strcmp(samples->s[i].record.element, element)) {
            return &samples->s[i];
        }
    }
    fail_msg("no element %s", element);
    return NULL;
}

static uint64_t
reason(const struct ps_sample *s, const char *name)
{
    for (size_t i = 0; i < s->record.n_reasons; i++) {
        if (!strcmp(s->record.reasons[i].name, name)) {
            return s->record.reasons[i].value;
        }
    }
    fail_msg("%s: no reason %s", s->record.element, name);
    return 0;
}

static uint64_t
extra(const struct ps_sample *s, const char *name)
{
    for (size_t i = 0; i < s->n_extra; i++) {
        if (!strcmp(s->extra[i].name, name)) {
            return s->extra[i].value;
        }
    }
    fail_msg("%s: no attribute %s", s->record.element, name);
    return 0;
}

static int
parse(const char *text, uint32_t seq, struct ps_samples *samples,
      char **errp)
{
    return ps_guest_parse_answer(text, strlen(text), seq, "vm3", samples,
                                 errp);
}

static void
test_answer(void **state)
{
    struct ps_samples samples;
    char *error;

    (void) state;
    ps_samples_init(&samples, "hv1", 5);
    assert_int_equal(parse(
        "{\"psg\":1,\"seq\":7}\n"
        "{\"type\":\"vnic\",\"id\":\"eth0:rx\",\"attrs\":{\"in_packets\":10,"
        "\"in_bytes\":600,\"drops\":3,\"drops.refill\":2,\"kicks\":4}}\n"
        "{\"type\":\"guest_backlog\",\"id\":\"cpu1\",\"attrs\":{"
        "\"in_packets\":5,\"drops\":1,\"drops.backlog_full\":1,"
        "\"queue_len\":2}}\n"
        "{\"type\":\"middlebox\",\"id\":\"relay:rev\",\"attrs\":{"
        "\"in_bytes\":9,\"in_bytes@10.0.0.1:7001\":9,"
        "\"in_time_ns@[fe80::1]:80\":1}}\n"
        "{\"end\":7,\"elements\":3}\n", 7, &samples, &error), 0);
    assert_null(error);
    assert_int_equal(samples.n, 3);

    const struct ps_sample *s = find(&samples, "vnic:vm3:eth0:rx");
    assert_int_equal(s->record.type, PS_VNIC);
    assert_string_equal(s->record.host, "hv1");
    assert_string_equal(s->record.vm, "vm3");
    assert_int_equal(s->record.ts_ns, 5);
    assert_int_equal(s->record.counters[PS_IN_PACKETS], 10);
    assert_int_equal(s->record.counters[PS_DROPS], 3);
    assert_int_equal(reason(s, "refill"), 2);
    assert_int_equal(extra(s, "kicks"), 4);

    s = find(&samples, "guest_backlog:vm3:cpu1");
    assert_int_equal(s->record.type, PS_GUEST_BACKLOG);
    assert_int_equal(reason(s, "backlog_full"), 1);
    assert_true(ps_record_has_gauge(&s->record, PS_QUEUE_LEN));

    s = find(&samples, "middlebox:vm3:relay:rev");
    assert_int_equal(extra(s, "in_bytes@10.0.0.1:7001"), 9);
    assert_int_equal(extra(s, "in_time_ns@[fe80::1]:80"), 1);
    ps_samples_destroy(&samples);
}

/* Each answer is refused whole, and the samples before it stay. */
static void
test_refused(void **state)
{
#define HDR "{\"psg\":1,\"seq\":1}\n"
#define END0 "{\"end\":1,\"elements\":0}\n"
#define END1 "{\"end\":1,\"elements\":1}\n"
#define EL(TYPE, ID, ATTRS) \
    "{\"type\":\"" TYPE "\",\"id\":\"" ID "\",\"attrs\":{" ATTRS "}}\n"
    static const struct {
        const char *text;
        const char *error;
    } cases[] = {
        { "", "no end marker" },
        { "garbage\n", "not JSON" },
        { "\x01\xff\n", "not JSON" },
        { "{\"psg\":2,\"seq\":1}\n" END0, "not a version 1 header" },
        { "{\"psg\":1,\"seq\":2}\n" END0, "another request" },
        { "{\"psg\":1,\"seq\":1,\"x\":1}\n" END0, "header" },
        { HDR, "no end marker" },
        { HDR "{\"end\":1,\"elements\":0}", "without a newline" },
        { HDR "{\"end\":2,\"elements\":0}\n", "bad end marker" },
        { HDR END1, "bad end marker" },
        { HDR END0 END0, "after the end marker" },
        { HDR EL("tap", "vnet0:to_guest", "\"drops\":1") END1,
          "only send vnic" },
        { HDR EL("pnic", "eth0:rx", "") END1, "only send vnic" },
        { HDR EL("cpu", "host", "") END1, "only send vnic" },
        { HDR EL("vnic", "vm2:eth0:rx", "") END1, "bad vnic id" },
        { HDR EL("vnic", "eth0", "") END1, "bad vnic id" },
        { HDR EL("vnic", "../eth0:rx", "") END1, "bad vnic id" },
        { HDR EL("vnic", "eth 0:rx", "") END1, "bad vnic id" },
        { HDR EL("vnic", "eth0:rx\\u0000", "") END1, "not JSON" },
        { HDR EL("guest_backlog", "cpu01", "") END1, "bad guest_backlog" },
        { HDR EL("guest_backlog", "vm2:cpu0", "") END1, "bad guest_backlog" },
        { HDR EL("middlebox", "vm2:haproxy", "") END1, "bad middlebox id" },
        { HDR EL("middlebox", "", "") END1, "bad middlebox id" },
        { HDR "{\"type\":\"vnic\",\"id\":\"eth0:rx\",\"attrs\":{},"
          "\"host\":\"hv2\"}\n" END1, "exactly" },
        { HDR "{\"type\":\"vnic\",\"id\":\"eth0:rx\",\"attrs\":{},"
          "\"vm\":\"vm2\"}\n" END1, "exactly" },
        { HDR "{\"type\":\"vnic\",\"id\":\"eth0:rx\"}\n" END1, "exactly" },
        { HDR "[1,2]\n" END1, "not a JSON object line" },
        { HDR " {}\n" END1, "not a JSON object line" },
        { HDR EL("vnic", "eth0:rx", "\"drops\":-1") END1,
          "non-negative integer" },
        { HDR EL("vnic", "eth0:rx", "\"drops\":1.5") END1,
          "non-negative integer" },
        { HDR EL("vnic", "eth0:rx", "\"drops\":\"1\"") END1,
          "non-negative integer" },
        { HDR EL("vnic", "eth0:rx", "\"drops\":99999999999999999999") END1,
          "not JSON" },
        { HDR EL("vnic", "eth0:rx", "\"drops\":1,\"drops\":2") END1,
          "not JSON" },
        { HDR EL("vnic", "eth0:rx", "\"cpu_util\":1") END1, "may not set" },
        { HDR EL("vnic", "eth0:rx", "\"capacity_bps\":1") END1,
          "may not set" },
        { HDR EL("vnic", "eth0:rx", "\"drops.\":1") END1, "drop reason" },
        { HDR EL("vnic", "eth0:rx", "\"drops.a b\":1") END1, "drop reason" },
        { HDR EL("vnic", "eth0:rx", "\"a\\nb\":1") END1, "attribute name" },
        { HDR EL("vnic", "eth0:rx", "\"@x\":1") END1, "attribute name" },
        { HDR EL("vnic", "eth0:rx", "\"x@\":1") END1, "attribute name" },
        { HDR EL("vnic", "eth0:rx", "\"x:y\":1") END1, "attribute name" },
        { HDR EL("vnic", "eth0:rx", "") EL("vnic", "eth0:rx", "")
          "{\"end\":1,\"elements\":2}\n", "twice" },
    };
    struct ps_samples samples;

    (void) state;
    ps_samples_init(&samples, "hv1", 5);
    ps_samples_add(&samples, PS_PNIC, "pnic:eth0:rx");
    for (size_t i = 0; i < PS_ARRAY_SIZE(cases); i++) {
        char *error = NULL;
        int retval = parse(cases[i].text, 1, &samples, &error);
        if (retval != EPROTO || !error
            || !strstr(error, cases[i].error)) {
            fail_msg("case %zu: %d, \"%s\" (expected \"%s\")", i, retval,
                     error ? error : "", cases[i].error);
        }
        assert_int_equal(samples.n, 1);
        free(error);
    }
    ps_samples_destroy(&samples);
}

/* The bounds: attributes, elements, line and answer sizes. */
static void
test_bounds(void **state)
{
    struct ps_samples samples;
    struct text t = { 0 };
    char *error;

    (void) state;
    ps_samples_init(&samples, "hv1", 5);

    text_add(&t, HDR "{\"type\":\"vnic\",\"id\":\"eth0:rx\",\"attrs\":{");
    for (int i = 0; i <= PS_GUEST_MAX_ATTRS; i++) {
        text_add(&t, "%s\"x%d\":1", i ? "," : "", i);
    }
    text_add(&t, "}}\n" END1);
    assert_int_equal(parse(t.s, 1, &samples, &error), EPROTO);
    assert_non_null(strstr(error, "attributes"));
    free(error);
    text_free(&t);

    text_add(&t, HDR);
    for (int i = 0; i <= PS_GUEST_MAX_ELEMENTS; i++) {
        text_add(&t, EL("guest_backlog", "cpu%d", ""), i);
    }
    text_add(&t, "{\"end\":1,\"elements\":%d}\n", PS_GUEST_MAX_ELEMENTS + 1);
    assert_int_equal(parse(t.s, 1, &samples, &error), EPROTO);
    assert_non_null(strstr(error, "elements"));
    free(error);
    text_free(&t);

    text_add(&t, HDR "{\"type\":\"vnic\",\"id\":\"eth0:rx\",\"attrs\":{"
             "\"x\":1}, \"pad\":\"");
    for (int i = 0; i < PS_GUEST_MAX_LINE; i++) {
        text_add(&t, " ");
    }
    text_add(&t, "\"}\n" END1);
    assert_int_equal(parse(t.s, 1, &samples, &error), EPROTO);
    assert_non_null(strstr(error, "line of more than"));
    free(error);
    assert_int_equal(samples.n, 0);

    /* The scanner stops a stream past the bounds before it is parsed. */
    size_t off = 0, len;
    assert_int_equal(ps_guest_answer_scan(t.s, strlen(t.s), &off, &len),
                     EMSGSIZE);
    text_free(&t);
    ps_samples_destroy(&samples);
}

static void
test_scan(void **state)
{
    const char *a = HDR EL("vnic", "eth0:rx", "") END1;
    size_t off = 0, len = 0;

    (void) state;
    assert_int_equal(ps_guest_answer_scan(a, 10, &off, &len), EAGAIN);
    assert_int_equal(ps_guest_answer_scan(a, strlen(HDR) + 3, &off, &len),
                     EAGAIN);
    assert_int_equal(off, strlen(HDR));
    assert_int_equal(ps_guest_answer_scan(a, strlen(a), &off, &len), 0);
    assert_int_equal(len, strlen(a));

    char *b = ps_xasprintf("%sX", a);
    off = 0;
    assert_int_equal(ps_guest_answer_scan(b, strlen(b), &off, &len), EPROTO);
    free(b);

    /* Garbage is refused at its first line, without waiting for more. */
    off = 0;
    assert_int_equal(ps_guest_answer_scan("HELLO\n", 6, &off, &len), EPROTO);

    char *flood = ps_xcalloc(1, PS_GUEST_MAX_ANSWER + 2);
    for (size_t i = 0; i <= PS_GUEST_MAX_ANSWER; i++) {
        flood[i] = i % 100 == 99 ? '\n' : i % 100 ? 'x' : '{';
    }
    off = 0;
    assert_int_equal(ps_guest_answer_scan(flood, PS_GUEST_MAX_ANSWER + 1,
                                          &off, &len), EMSGSIZE);
    free(flood);
}

/* ethtool names as (name, value) pairs, padded as the ioctl gives them. */
static size_t
map(const char *dev, const char *const pairs[][2], size_t n,
    struct ps_samples *samples)
{
    char (*names)[32] = calloc(n, 32);
    uint64_t *values = calloc(n, sizeof *values);
    for (size_t i = 0; i < n; i++) {
        strncpy(names[i], pairs[i][0], 32);
        values[i] = strtoull(pairs[i][1], NULL, 10);
    }
    size_t retval = guestd_vnic_map(dev, &names[0][0], 32, values, n,
                                    samples);
    free(names);
    free(values);
    return retval;
}

static void
test_vnic_stock(void **state)
{
    /* Linux 6.1's virtio_net with two queue pairs. */
    static const char *const stock[][2] = {
        { "rx_queue_0_packets", "100" }, { "rx_queue_0_bytes", "6000" },
        { "rx_queue_0_drops", "3" }, { "rx_queue_0_xdp_packets", "0" },
        { "rx_queue_0_xdp_tx", "0" }, { "rx_queue_0_xdp_redirects", "0" },
        { "rx_queue_0_xdp_drops", "0" }, { "rx_queue_0_kicks", "7" },
        { "rx_queue_1_packets", "50" }, { "rx_queue_1_bytes", "3000" },
        { "rx_queue_1_drops", "1" }, { "rx_queue_1_kicks", "2" },
        { "tx_queue_0_packets", "80" }, { "tx_queue_0_bytes", "8000" },
        { "tx_queue_0_xdp_tx", "0" }, { "tx_queue_0_xdp_tx_drops", "0" },
        { "tx_queue_0_kicks", "80" }, { "tx_queue_0_tx_timeouts", "0" },
        { "tx_queue_1_packets", "20" }, { "tx_queue_1_bytes", "2000" },
    };
    struct ps_samples samples;

    (void) state;
    ps_samples_init(&samples, "guest", 0);
    assert_int_equal(map("eth0", stock, PS_ARRAY_SIZE(stock), &samples), 2);
    const struct ps_sample *rx = find(&samples, "eth0:rx");
    assert_int_equal(rx->record.type, PS_VNIC);
    assert_int_equal(rx->record.counters[PS_IN_PACKETS], 150);
    assert_int_equal(rx->record.counters[PS_IN_BYTES], 9000);
    assert_int_equal(rx->record.counters[PS_DROPS], 4);
    assert_int_equal(extra(rx, "kicks"), 9);
    assert_int_equal(extra(rx, "xdp_drops"), 0);
    const struct ps_sample *tx = find(&samples, "eth0:tx");
    assert_int_equal(tx->record.counters[PS_OUT_PACKETS], 100);
    assert_int_equal(tx->record.counters[PS_OUT_BYTES], 10000);
    /* No drop counter in the stock tx queue: the sum of no reasons. */
    assert_int_equal(tx->record.counters[PS_DROPS], 0);
    assert_int_equal(extra(tx, "tx_timeouts"), 0);

    /* A device without per-queue names has no element. */
    static const char *const veth[][2] = { { "peer_ifindex", "3" } };
    ps_samples_clear(&samples);
    assert_int_equal(map("veth0", veth, 1, &samples), 0);
    ps_samples_destroy(&samples);
}

static void
test_vnic_patched(void **state)
{
    /* The patched driver (patches/linux, docs/linux.md), two queues. */
    static const char *const patched[][2] = {
        { "rx_queue_0_packets", "10" }, { "rx_queue_0_bytes", "600" },
        { "rx_queue_0_drops", "4" }, { "rx_queue_0_poll_ns", "500" },
        { "rx_queue_0_alloc_fail", "7" },
        { "rx_queue_0_drop_short", "1" }, { "rx_queue_0_drop_length", "2" },
        { "rx_queue_0_drop_frame", "1" }, { "rx_queue_0_drop_nomem", "1" },
        { "rx_queue_1_poll_ns", "100" }, { "rx_queue_1_drop_nomem", "1" },
        { "tx_queue_0_packets", "10" }, { "tx_queue_0_xmit_ns", "700" },
        { "tx_queue_0_stop", "6" }, { "tx_queue_0_wake", "5" },
        { "tx_queue_0_stop_ns", "900" }, { "tx_queue_0_drop_xmit", "3" },
        { "tx_queue_x_packets", "1" }, { "tx_queue_0_", "1" },
    };
    struct ps_samples samples;

    (void) state;
    ps_samples_init(&samples, "guest", 0);
    assert_int_equal(map("ens3", patched, PS_ARRAY_SIZE(patched), &samples),
                     2);
    const struct ps_sample *rx = find(&samples, "ens3:rx");
    assert_int_equal(rx->record.counters[PS_IN_TIME_NS], 600);
    assert_int_equal(reason(rx, "short"), 1);
    assert_int_equal(reason(rx, "length"), 2);
    assert_int_equal(reason(rx, "frame"), 1);
    assert_int_equal(reason(rx, "nomem"), 2);
    /* "drops" (4) leaves out the short and frame drops. */
    assert_int_equal(rx->record.counters[PS_DROPS], 6);
    assert_int_equal(extra(rx, "alloc_fail"), 7);
    const struct ps_sample *tx = find(&samples, "ens3:tx");
    assert_int_equal(tx->record.counters[PS_OUT_TIME_NS], 700);
    assert_int_equal(tx->record.counters[PS_OUT_PACKETS], 10);
    assert_int_equal(reason(tx, "xmit"), 3);
    assert_int_equal(tx->record.counters[PS_DROPS], 3);
    assert_int_equal(extra(tx, "stop"), 6);
    assert_int_equal(extra(tx, "wake"), 5);
    assert_int_equal(extra(tx, "stop_ns"), 900);
    ps_samples_destroy(&samples);
}

/* What guestd writes, the host reads back, under its own names. */
static void
test_round_trip(void **state)
{
    struct ps_samples guest, host;
    char *text, *error;
    size_t len;

    (void) state;
    ps_samples_init(&guest, "guest", 0);
    struct ps_sample *s = ps_samples_add(&guest, PS_VNIC, "eth0:rx");
    ps_sample_set(s, PS_IN_PACKETS, 12);
    ps_sample_add_reason(s, "no_buffer", 2);
    ps_sample_add_extra(s, "kicks", 3);
    s = ps_samples_add(&guest, PS_BACKLOG, "backlog:cpu0");
    ps_sample_set(s, PS_DROPS, 1);
    s = ps_samples_add(&guest, PS_MIDDLEBOX, "middlebox:guest:relay:rev");
    ps_sample_set(s, PS_IN_BYTES, 99);
    ps_sample_add_extra(s, "in_bytes@10.0.0.1:7001", 99);
    ps_samples_add(&guest, PS_CPU, "cpu:guest");      /* Left out. */

    guestd_answer(&guest, 42, &text, &len);
    ps_samples_init(&host, "hv1", 1);
    assert_int_equal(ps_guest_parse_answer(text, len, 42, "web1", &host,
                                           &error), 0);
    assert_int_equal(host.n, 3);
    s = (struct ps_sample *) find(&host, "vnic:web1:eth0:rx");
    assert_int_equal(s->record.counters[PS_IN_PACKETS], 12);
    assert_int_equal(reason(s, "no_buffer"), 2);
    assert_int_equal(extra(s, "kicks"), 3);
    s = (struct ps_sample *) find(&host, "guest_backlog:web1:cpu0");
    assert_int_equal(s->record.counters[PS_DROPS], 1);
    s = (struct ps_sample *) find(&host, "middlebox:web1:relay:rev");
    assert_int_equal(extra(s, "in_bytes@10.0.0.1:7001"), 99);

    /* The same answer to another request is refused. */
    ps_samples_clear(&host);
    assert_int_equal(ps_guest_parse_answer(text, len, 43, "web1", &host,
                                           &error), EPROTO);
    free(error);
    free(text);

    /* Too many elements for one answer: guestd leaves the rest out. */
    ps_samples_clear(&guest);
    for (int i = 0; i < PS_GUEST_MAX_ELEMENTS + 10; i++) {
        s = ps_samples_add(&guest, PS_BACKLOG, "backlog:cpu%d", i);
        for (int j = 0; j < 200; j++) {
            char name[32];
            snprintf(name, sizeof name, "attribute_%d", j);
            ps_sample_add_extra_copy(s, name, j);
        }
    }
    guestd_answer(&guest, 1, &text, &len);
    ps_samples_clear(&host);
    assert_int_equal(ps_guest_parse_answer(text, len, 1, "web1", &host,
                                           &error), 0);
    assert_true(host.n > 0 && host.n <= PS_GUEST_MAX_ELEMENTS);
    free(text);
    ps_samples_destroy(&guest);
    ps_samples_destroy(&host);
}

static void
test_request(void **state)
{
    uint32_t seq;

    (void) state;
    assert_true(guestd_parse_request("PSG1 SAMPLE 17", 14, &seq));
    assert_int_equal(seq, 17);
    assert_true(guestd_parse_request("PSG1 SAMPLE 4294967295", 22, &seq));
    assert_false(guestd_parse_request("PSG1 SAMPLE 4294967296", 22, &seq));
    assert_false(guestd_parse_request("PSG1 SAMPLE ", 12, &seq));
    assert_false(guestd_parse_request("PSG1 SAMPLE 1x", 14, &seq));
    assert_false(guestd_parse_request("PSG2 SAMPLE 1", 13, &seq));
}

static void
test_channel(void **state)
{
    const char *xml =
        "<domain><devices>"
        "<channel type='unix'><source mode='bind' path='/x/other'/>"
        "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
        "<channel type=\"unix\">\n  <source mode=\"bind\" "
        "path=\"/var/lib/libvirt/qemu/channel/target/domain-3-vm3/"
        "org.perfsight.guestd.0\"/>\n  <target type=\"virtio\" "
        "name=\"org.perfsight.guestd.0\" state=\"connected\"/>\n"
        "</channel></devices></domain>";
    char *path;

    (void) state;
    path = ps_guest_channel_path(xml, PS_GUEST_PORT_NAME);
    assert_string_equal(path, "/var/lib/libvirt/qemu/channel/target/"
                        "domain-3-vm3/org.perfsight.guestd.0");
    free(path);
    assert_null(ps_guest_channel_path(xml, "org.example.none"));
    assert_null(ps_guest_channel_path("<channel ", PS_GUEST_PORT_NAME));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_vnic_stock),
        cmocka_unit_test(test_vnic_patched),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_channel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
