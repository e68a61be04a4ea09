/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Windows: deltas and rates, resets, elements that appear or vanish, the
 * choice of samples, and the paper's utility routines. */

#include <config.h>
#include "test-util.h"

static void
test_deltas_and_rates(void **state)
{
    struct text t = { 0 };
    add_record(&t, 0, "h", "tap:a:to_guest", "tap", "vm1",
               "\"in_packets\": 1000, \"in_bytes\": 1000000, "
               "\"out_packets\": 900, \"out_bytes\": 900000, "
               "\"drops\": 100, \"drops.full\": 100");
    add_record(&t, 2, "h", "tap:a:to_guest", "tap", "vm1",
               "\"in_packets\": 3000, \"in_bytes\": 3000000, "
               "\"out_packets\": 2700, \"out_bytes\": 2700000, "
               "\"drops\": 300, \"drops.full\": 250, \"drops.err\": 50");
    char *error = NULL;
    struct ps_window *w = window_from_text(t.s, NULL, &error);
    assert_non_null(w);
    assert_int_equal(w->n_deltas, 1);
    assert_int_equal(w->n_hosts, 1);

    const struct ps_delta *d = ps_window_find(w, "h", "tap:a:to_guest");
    assert_non_null(d);
    assert_true(d->dt > 1.999 && d->dt < 2.001);
    assert_int_equal(d->d[PS_IN_PACKETS], 2000);
    assert_int_equal(d->d[PS_DROPS], 200);
    assert_int_equal(d->reset, 0);
    assert_true(ps_delta_rate(d, PS_IN_PACKETS) > 999.9
                && ps_delta_rate(d, PS_IN_PACKETS) < 1000.1);
    assert_int_equal(ps_delta_packet_loss(d), 200);
    assert_true(ps_delta_avg_packet_size(d) == 1000.0);
    /* Output bytes: 1,800,000 B in 2 s = 7.2 Mb/s. */
    assert_true(ps_delta_throughput_bps(d) > 7.19e6
                && ps_delta_throughput_bps(d) < 7.21e6);
    /* A reason that appears counts from zero. */
    assert_int_equal(d->n_reasons, 2);
    assert_string_equal(d->reasons[0].name, "err");
    assert_int_equal(d->reasons[0].delta, 50);
    assert_int_equal(d->reasons[1].delta, 150);
    assert_null(ps_window_find(w, "other", "tap:a:to_guest"));

    ps_window_destroy(w);
    text_free(&t);
    (void) state;
}

static void
test_loss_without_drops_counter(void **state)
{
    struct text t = { 0 };
    add_record(&t, 0, "h", "e", "vnic", NULL,
               "\"in_packets\": 10, \"out_packets\": 10");
    add_record(&t, 1, "h", "e", "vnic", NULL,
               "\"in_packets\": 110, \"out_packets\": 80");
    add_record(&t, 0, "h", "f", "vnic", NULL,
               "\"in_packets\": 10, \"out_packets\": 10");
    /* More out than in (a queue draining) is no loss. */
    add_record(&t, 1, "h", "f", "vnic", NULL,
               "\"in_packets\": 20, \"out_packets\": 40");
    char *error = NULL;
    struct ps_window *w = window_from_text(t.s, NULL, &error);
    assert_int_equal(ps_delta_packet_loss(ps_window_find(w, "h", "e")), 30);
    assert_int_equal(ps_delta_packet_loss(ps_window_find(w, "h", "f")), 0);
    ps_window_destroy(w);
    text_free(&t);
    (void) state;
}

static void
test_reset_is_not_negative(void **state)
{
    struct text t = { 0 };
    add_record(&t, 0, "h", "e", "tap", NULL,
               "\"in_packets\": 5000000, \"drops\": 40, \"drops.x\": 9");
    add_record(&t, 1, "h", "e", "tap", NULL,
               "\"in_packets\": 700, \"drops\": 3, \"drops.x\": 2");
    char *error = NULL;
    struct ps_window *w = window_from_text(t.s, NULL, &error);
    const struct ps_delta *d = ps_window_find(w, "h", "e");
    assert_int_equal(d->d[PS_IN_PACKETS], 700);
    assert_int_equal(d->d[PS_DROPS], 3);
    assert_int_equal(d->reasons[0].delta, 2);
    assert_true(d->reset & (1u << PS_IN_PACKETS));
    assert_true(d->reset & (1u << PS_DROPS));
    ps_window_destroy(w);
    text_free(&t);
    (void) state;
}

static void
test_appeared_and_vanished(void **state)
{
    struct text t = { 0 };
    for (int s = 0; s < 3; s++) {
        add_record(&t, s, "h", "stays", "tap", NULL, "\"drops\": %d", s);
        add_record(&t, s, "h", "also", "tap", NULL, "\"drops\": %d", s);
        if (s < 2) {
            add_record(&t, s, "h", "gone", "tap", NULL, "\"drops\": %d", s);
        }
    }
    add_record(&t, 2, "h", "new", "tap", NULL, "\"drops\": 1");
    char *error = NULL;
    struct ps_window *w = window_from_text(t.s, NULL, &error);
    assert_non_null(w);
    assert_int_equal(w->n_deltas, 2);
    assert_int_equal(w->n_appeared, 1);
    assert_string_equal(w->appeared[0].element, "new");
    assert_int_equal(w->n_vanished, 1);
    assert_string_equal(w->vanished[0].element, "gone");
    assert_int_equal(w->n_records, 9);
    ps_window_destroy(w);
    text_free(&t);
    (void) state;
}

static void
test_window_seconds(void **state)
{
    struct text t = { 0 };
    /* Samples every second with jitter; counter = 100 * second. */
    for (int s = 0; s <= 10; s++) {
        double jitter = (s % 2 ? 0.003 : -0.002);
        add_record(&t, s + jitter, "h", "e", "backlog", NULL,
                   "\"drops\": %d", 100 * s);
    }
    char *error = NULL;
    struct ps_window_options opts = { .seconds = 5 };
    struct ps_window *w = window_from_text(t.s, &opts, &error);
    const struct ps_delta *d = ps_window_find(w, "h", "e");
    assert_int_equal(d->d[PS_DROPS], 500);
    ps_window_destroy(w);

    /* Default: the last two samples. */
    w = window_from_text(t.s, NULL, &error);
    assert_int_equal(ps_window_find(w, "h", "e")->d[PS_DROPS], 100);
    ps_window_destroy(w);

    /* A window longer than the recording has no start sample. */
    opts.seconds = 60;
    assert_null(window_from_text(t.s, &opts, &error));
    assert_contains(error, "no element has two samples");
    free(error);

    /* --end picks an earlier window. */
    opts = (struct ps_window_options) {
        .seconds = 2, .end_ns = (long long) ((T0 + 6.5) * 1e9),
    };
    w = window_from_text(t.s, &opts, &error);
    d = ps_window_find(w, "h", "e");
    assert_int_equal(d->d[PS_DROPS], 200);
    assert_true(d->t1_ns < (long long) ((T0 + 6.5) * 1e9));
    ps_window_destroy(w);
    text_free(&t);
    (void) state;
}

static void
test_vm_from_element_id(void **state)
{
    struct text t = { 0 };
    for (int s = 0; s < 2; s++) {
        add_record(&t, s, "h", "hypervisor:vm3:net0:rx", "hypervisor", NULL,
                   "\"drops\": %d", s);
        add_record(&t, s, "h", "cpu:host", "cpu", NULL, "\"cpu_util\": 0.5");
        add_record(&t, s, "h", "cpu:vm4", "cpu", NULL, "\"cpu_util\": 0.5");
        add_record(&t, s, "h", "tap:vnet0:to_guest", "tap", NULL,
                   "\"drops\": %d", s);
        add_record(&t, s, "h", "vnic:vm5:eth0:rx", "vnic", "named",
                   "\"drops\": %d", s);
    }
    char *error = NULL;
    struct ps_window *w = window_from_text(t.s, NULL, &error);
    assert_string_equal(ps_window_find(w, "h", "hypervisor:vm3:net0:rx")->vm,
                        "vm3");
    assert_null(ps_window_find(w, "h", "cpu:host")->vm);
    assert_string_equal(ps_window_find(w, "h", "cpu:vm4")->vm, "vm4");
    assert_null(ps_window_find(w, "h", "tap:vnet0:to_guest")->vm);
    assert_string_equal(ps_window_find(w, "h", "vnic:vm5:eth0:rx")->vm,
                        "named");
    ps_window_destroy(w);
    text_free(&t);
    (void) state;
}

static void
test_errors(void **state)
{
    struct text t = { 0 };
    char *error = NULL;

    assert_null(window_from_text("", NULL, &error));
    assert_contains(error, "no records (empty input)");
    free(error);

    add_record(&t, 0, "h", "e", "tap", NULL, "\"drops\": 1");
    add_record(&t, 0, "h", "f", "tap", NULL, "\"drops\": 1");
    assert_null(window_from_text(t.s, NULL, &error));
    assert_contains(error, "no element has two samples in the window "
                    "(2 records read)");
    free(error);

    /* Two samples at one time that say different things. */
    add_record(&t, 0, "h", "e", "tap", NULL, "\"drops\": 2");
    assert_null(window_from_text(t.s, NULL, &error));
    assert_contains(error, "element \"e\" of host \"h\": two samples at "
                    "ts_ns");
    assert_contains(error, "differ (this one and the one at line 1)");
    free(error);
    text_free(&t);

    /* Found by tests/fuzz/fuzz-reader: two samples at one time with the
     * same counters but another VM were one sample, whose VM was the one
     * that came first, so that the window depended on the records'
     * order. */
    add_record(&t, 0, "h", "e", "tap", "vm0", "\"drops\": 1");
    add_record(&t, 1, "h", "e", "tap", "vm0", "\"drops\": 1");
    add_record(&t, 1, "h", "e", "tap", "vm1", "\"drops\": 1");
    assert_null(window_from_text(t.s, NULL, &error));
    assert_contains(error, "element \"e\" of host \"h\": two "
                    "samples at ts_ns");
    assert_contains(error, "differ (this one and the one at line 2); "
                    "samples with the same time must have the same "
                    "counters, vm and tenant");
    free(error);
    text_free(&t);

    /* An element may not change type. */
    add_record(&t, 0, "h", "e", "tap", NULL, "\"drops\": 1");
    add_record(&t, 1, "h", "e", "vnic", NULL, "\"drops\": 1");
    assert_null(window_from_text(t.s, NULL, &error));
    assert_contains(error, "changed type from tap to vnic");
    free(error);
    text_free(&t);
    (void) state;
}

/* Records come in any order: a window is made of each element's samples in
 * time order. */
static void
test_any_order(void **state)
{
    struct text t = { 0 };
    char *error = NULL;

    /* Newest first, with an older sample in between, and a sample that
     * comes twice. */
    add_record(&t, 3, "h", "e", "tap", NULL, "\"drops\": 30");
    add_record(&t, 1, "h", "e", "tap", NULL, "\"drops\": 10");
    add_record(&t, 2, "h", "e", "tap", NULL, "\"drops\": 20");
    add_record(&t, 3, "h", "e", "tap", NULL, "\"drops\": 30");
    add_record(&t, 0, "h", "e", "tap", NULL, "\"drops\": 0");
    struct ps_window *w = window_from_text(t.s, NULL, &error);
    assert_non_null(w);
    const struct ps_delta *d = ps_window_find(w, "h", "e");
    assert_non_null(d);
    assert_true(d->dt > 0.999 && d->dt < 1.001);
    assert_int_equal(d->d[PS_DROPS], 10);
    assert_int_equal(d->reset, 0);
    assert_int_equal(w->n_records, 5);
    ps_window_destroy(w);

    /* With a window of 2 s, from the sample 2 s before the last. */
    struct ps_window_options opts = { .seconds = 2 };
    w = window_from_text(t.s, &opts, &error);
    assert_non_null(w);
    d = ps_window_find(w, "h", "e");
    assert_int_equal(d->d[PS_DROPS], 20);
    assert_true(d->dt > 1.999 && d->dt < 2.001);
    ps_window_destroy(w);
    text_free(&t);

    /* A counter that is smaller at a later time is a restart, whichever
     * order the two came in. */
    add_record(&t, 1, "h", "e", "tap", NULL, "\"drops\": 5");
    add_record(&t, 0, "h", "e", "tap", NULL, "\"drops\": 100");
    w = window_from_text(t.s, NULL, &error);
    assert_non_null(w);
    d = ps_window_find(w, "h", "e");
    assert_int_equal(d->reset, 1u << PS_DROPS);
    assert_int_equal(d->d[PS_DROPS], 5);
    ps_window_destroy(w);
    text_free(&t);
    (void) state;
}

static void
add_gathered(struct ps_gather_records *round, const char *host,
             int64_t ts_ns, uint64_t drops)
{
    round->records = realloc(round->records,
                             (round->n + 1) * sizeof *round->records);
    struct ps_record *r = &round->records[round->n++];
    ps_record_init(r);
    r->ts_ns = ts_ns;
    r->host = strdup(host);
    r->element = strdup("tap:a:to_guest");
    r->type = PS_TAP;
    r->counters[PS_DROPS] = drops;
    r->has_counters = 1u << PS_DROPS;
}

/* The live window: a host that did not answer a round, or whose clock went
 * back between rounds, is left out and named. */
static void
test_gather_window(void **state)
{
    static const struct ps_gather_target targets[] = {
        { "h1", "http://127.0.0.1:1" },
        { "h2", "http://127.0.0.1:2" },
        { "h3", "http://127.0.0.1:3" },
    };
    struct ps_gather_records r[2];
    char *error = NULL;

    for (int k = 0; k < 2; k++) {
        memset(&r[k], 0, sizeof r[k]);
        r[k].status = calloc(3, sizeof *r[k].status);
        r[k].n_status = 3;
        add_gathered(&r[k], "h1", 1000000000LL * (k + 1), 10 * k);
        add_gathered(&r[k], "h2", 5000000000LL - 2000000000LL * k, 10 * k);
        r[k].status[0].latest_ns = 1000000000LL * (k + 1);
        r[k].status[1].latest_ns = 5000000000LL - 2000000000LL * k;
    }
    r[1].status[2].error = strdup("Connection refused");

    struct ps_window *w = ps_gather_window(targets, 3, &r[0], &r[1], &error);
    assert_non_null(w);
    assert_int_equal(w->n_deltas, 1);
    assert_string_equal(w->deltas[0].host, "h1");
    assert_int_equal(w->deltas[0].d[PS_DROPS], 10);
    assert_int_equal(w->gaps.n, 2);
    assert_string_equal(w->gaps.hosts[0].host, "h2");
    assert_true(w->gaps.hosts[0].answered);
    assert_contains(w->gaps.hosts[0].error, "clock went back 2.000 s");
    assert_string_equal(w->gaps.hosts[1].host, "h3");
    assert_false(w->gaps.hosts[1].answered);
    assert_string_equal(w->gaps.hosts[1].error, "Connection refused");
    ps_window_destroy(w);

    /* The rounds are left as they were, for the next window. */
    assert_int_equal(r[0].n, 2);
    assert_non_null(r[0].records[0].host);

    /* With every host left out, the message names them all. */
    r[0].status[0].error = strdup("timed out");
    assert_null(ps_gather_window(targets, 3, &r[0], &r[1], &error));
    assert_contains(error, "every host was left out");
    assert_contains(error, "h1: timed out");
    assert_contains(error, "h3: Connection refused");
    free(error);
    ps_gather_records_clear(&r[0]);
    ps_gather_records_clear(&r[1]);
    (void) state;
}

static void
test_hosts_grouped(void **state)
{
    struct text t = { 0 };
    for (int s = 0; s < 2; s++) {
        add_record(&t, s, "a", "x", "tap", NULL, "\"drops\": %d", s);
        add_record(&t, s, "b", "x", "tap", NULL, "\"drops\": %d", 2 * s);
        add_record(&t, s, "a", "y", "tap", NULL, "\"drops\": %d", 3 * s);
    }
    char *error = NULL;
    struct ps_window *w = window_from_text(t.s, NULL, &error);
    assert_int_equal(w->n_hosts, 2);
    assert_int_equal(w->n_deltas, 3);
    assert_string_equal(w->deltas[0].host, "a");
    assert_string_equal(w->deltas[1].host, "a");
    assert_string_equal(w->deltas[1].element, "y");
    assert_string_equal(w->deltas[2].host, "b");
    assert_int_equal(w->deltas[2].host_idx, 1);
    assert_int_equal(ps_window_find(w, "b", "x")->d[PS_DROPS], 2);
    ps_window_destroy(w);
    text_free(&t);
    (void) state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deltas_and_rates),
        cmocka_unit_test(test_loss_without_drops_counter),
        cmocka_unit_test(test_reset_is_not_negative),
        cmocka_unit_test(test_appeared_and_vanished),
        cmocka_unit_test(test_window_seconds),
        cmocka_unit_test(test_vm_from_element_id),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_hosts_grouped),
        cmocka_unit_test(test_any_order),
        cmocka_unit_test(test_gather_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
