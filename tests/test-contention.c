/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Algorithm 1 with the shipped rule book: every row of Table 1, the
 * evidence that narrows a location, de-duplication, noise, and JSON. */

#include <config.h>
#include "test-util.h"
#include "perfsight/contention.h"

/* One element of a scenario: 'pps' offered, 'drops' lost per second. */
struct elem {
    const char *element;
    const char *type;
    const char *vm;
    double pps;
    double drops;
    const char *extra;          /* More attrs, or NULL. */
    const char *reason;         /* drops.<reason> counts all drops. */
};

struct diag {
    struct ps_rulebook *rb;
    struct ps_window *w;
    struct ps_contention_report report;
};

static void
add_host(struct text *t, const char *host, const struct elem *elems,
         size_t n)
{
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < n; i++) {
            const struct elem *e = &elems[i];
            long long in = 1000000 + (long long) (e->pps * s);
            long long drops = 7 + (long long) (e->drops * s);
            if (!strcmp(e->type, "cpu")) {
                add_record(t, s, host, e->element, e->type, e->vm, "%s",
                           e->extra);
            } else {
                char reason[64] = "";
                if (e->reason) {
                    snprintf(reason, sizeof reason, ", \"drops.%s\": %lld",
                             e->reason, drops);
                }
                add_record(t, s, host, e->element, e->type, e->vm,
                           "\"in_packets\": %lld, \"in_bytes\": %lld, "
                           "\"out_packets\": %lld, \"out_bytes\": %lld, "
                           "\"drops\": %lld%s%s%s", in, in * 1000,
                           in - drops, (in - drops) * 1000, drops, reason,
                           e->extra ? ", " : "", e->extra ? e->extra : "");
            }
        }
    }
}

static const struct ps_contention *
diagnose(struct diag *dg, const char *text)
{
    char *error = NULL;
    dg->rb = ps_rulebook_load_default(&error);
    assert_non_null(dg->rb);
    dg->w = window_from_text(text, NULL, &error);
    assert_non_null(dg->w);
    ps_contention_diagnose(dg->rb, dg->w, &dg->report);
    return &dg->report.hosts[0];
}

static void
diag_free(struct diag *dg)
{
    ps_contention_report_destroy(&dg->report);
    ps_window_destroy(dg->w);
    ps_rulebook_destroy(dg->rb);
}

static const struct ps_contention *
run(struct diag *dg, const struct elem *elems, size_t n)
{
    struct text t = { 0 };
    add_host(&t, "hv1", elems, n);
    const struct ps_contention *c = diagnose(dg, t.s);
    text_free(&t);
    return c;
}

#define RUN(DG, ...) \
    run((DG), (const struct elem[]) { __VA_ARGS__ }, \
        sizeof (const struct elem[]) { __VA_ARGS__ } / sizeof (struct elem))

static void
assert_resources(const struct ps_contention *c, const char *const *expected,
                 size_t n)
{
    assert_int_equal(c->n_resources, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(c->resources[i], expected[i]);
    }
}

#define ASSERT_RESOURCES(C, ...) \
    assert_resources((C), (const char *const[]) { __VA_ARGS__ }, \
                     sizeof (const char *const[]) { __VA_ARGS__ } \
                     / sizeof (const char *))

#define HEALTHY \
    { "pnic:eth0:rx", "pnic", NULL, 500000, 0, \
      "\"capacity_bps\": 10000000000" }, \
    { "pnic:eth0:tx", "pnic", NULL, 500000, 0, \
      "\"capacity_bps\": 10000000000" }, \
    { "pnic_driver:eth0:rx", "pnic_driver", NULL, 500000, 0, NULL }, \
    { "backlog:cpu0", "backlog", NULL, 250000, 0, NULL }, \
    { "backlog:cpu1", "backlog", NULL, 250000, 0, NULL }, \
    { "tap:vnet0:to_guest", "tap", "vm1", 100000, 0, NULL }, \
    { "tap:vnet1:to_guest", "tap", "vm2", 100000, 0, NULL }, \
    { "tap:vnet2:to_guest", "tap", "vm3", 100000, 0, NULL }, \
    { "middlebox:vm1:lb", "middlebox", "vm1", 100000, 0, NULL }

static void
test_no_loss(void **state)
{
    struct diag dg;
    const struct ps_contention *c = RUN(&dg, HEALTHY,
        { "cpu:host", "cpu", NULL, 0, 0, "\"cpu_util\": 0.99" });
    assert_int_equal(c->verdict, PS_VERDICT_NONE);
    assert_false(c->has_location);
    assert_int_equal(c->n_resources, 0);
    assert_string_equal(c->host, "hv1");
    diag_free(&dg);
    (void) state;
}

static void
test_pnic_is_incoming_bandwidth(void **state)
{
    struct diag dg;
    const struct ps_contention *c = RUN(&dg, HEALTHY,
        { "pnic:eth1:rx", "pnic", NULL, 900000, 300000,
          "\"drops.rx_missed\": 7" });
    assert_int_equal(c->verdict, PS_VERDICT_CONTENTION);
    assert_int_equal(c->location, PS_PNIC);
    assert_int_equal(c->scope, PS_SCOPE_SHARED);
    ASSERT_RESOURCES(c, "incoming bandwidth");
    assert_int_equal(c->losses[0].loss, 300000);
    diag_free(&dg);
    (void) state;
}

static void
test_pnic_driver_is_memory_space(void **state)
{
    struct diag dg;
    const struct ps_contention *c = RUN(&dg, HEALTHY,
        { "pnic_driver:eth1:rx", "pnic_driver", NULL, 900000, 5000, NULL },
        /* A smaller loss elsewhere does not decide. */
        { "tap:vnet9:to_guest", "tap", "vm9", 100000, 1000, NULL });
    assert_int_equal(c->verdict, PS_VERDICT_CONTENTION);
    assert_int_equal(c->location, PS_PNIC_DRIVER);
    ASSERT_RESOURCES(c, "memory space");
    assert_int_equal(c->n_losses, 2);
    assert_int_equal(c->n_vms, 1);      /* vm9 loses too, at its tap. */
    diag_free(&dg);
    (void) state;
}

#define BACKLOG_DROPS \
    { "backlog:cpu2", "backlog", NULL, 300000, 40000, NULL }, \
    { "backlog:cpu3", "backlog", NULL, 300000, 40000, NULL }

static void
test_backlog_outgoing_bandwidth_or_pcpu(void **state)
{
    struct diag dg;
    /* The pNIC sends 1.2M pps x 1000 B = 9.6 Gb/s of 10: near. */
    const struct ps_contention *c = RUN(&dg, BACKLOG_DROPS,
        { "pnic:eth0:tx", "pnic", NULL, 1200000, 0,
          "\"capacity_bps\": 10000000000" });
    assert_int_equal(c->verdict, PS_VERDICT_CONTENTION);
    assert_int_equal(c->location, PS_BACKLOG);
    assert_int_equal(c->location_loss, 80000);
    ASSERT_RESOURCES(c, "outgoing bandwidth");
    assert_int_equal(c->tx_near_capacity, PS_EV_TRUE);
    diag_free(&dg);

    /* 100k pps x 1000 B = 0.8 Gb/s of 10: the backlog itself. */
    c = RUN(&dg, BACKLOG_DROPS,
        { "pnic:eth0:tx", "pnic", NULL, 100000, 0,
          "\"capacity_bps\": 10000000000" });
    ASSERT_RESOURCES(c, "pcpu backlog");
    assert_int_equal(c->tx_near_capacity, PS_EV_FALSE);
    diag_free(&dg);

    /* No capacity known: both stay possible. */
    c = RUN(&dg, BACKLOG_DROPS,
        { "pnic:eth0:tx", "pnic", NULL, 100000, 0, NULL });
    ASSERT_RESOURCES(c, "outgoing bandwidth", "pcpu backlog");
    assert_int_equal(c->tx_near_capacity, PS_EV_UNKNOWN);
    diag_free(&dg);
    (void) state;
}

static void
test_tap_single_vm_is_bottleneck(void **state)
{
    struct diag dg;
    const struct ps_contention *c = RUN(&dg, HEALTHY,
        { "tap:vnet5:to_guest", "tap", "vm5", 100000, 20000, NULL },
        /* A VM with 1% of that loss does not make it contention. */
        { "tap:vnet6:to_guest", "tap", "vm6", 100000, 200, NULL },
        { "cpu:host", "cpu", NULL, 0, 0, "\"cpu_util\": 0.99" });
    assert_int_equal(c->verdict, PS_VERDICT_BOTTLENECK);
    assert_int_equal(c->location, PS_TAP);
    assert_int_equal(c->scope, PS_SCOPE_SINGLE);
    ASSERT_RESOURCES(c, "vm bottleneck (cpu or bandwidth)");
    assert_int_equal(c->n_vms, 1);
    assert_string_equal(c->vms[0], "vm5");
    diag_free(&dg);
    (void) state;
}

#define TAPS_DROP \
    { "tap:vnet5:to_guest", "tap", "vm5", 100000, 20000, NULL }, \
    { "tap:vnet6:to_guest", "tap", "vm6", 100000, 15000, NULL }, \
    { "tap:vnet7:to_guest", "tap", "vm7", 100000, 12000, NULL }

static void
test_tap_aggregated_cpu_or_memory(void **state)
{
    struct diag dg;
    const struct ps_contention *c = RUN(&dg, HEALTHY, TAPS_DROP,
        { "cpu:host", "cpu", NULL, 0, 0, "\"cpu_util\": 0.97" },
        { "cpu:vm5", "cpu", "vm5", 0, 0, "\"cpu_util\": 0.2" });
    assert_int_equal(c->verdict, PS_VERDICT_CONTENTION);
    assert_int_equal(c->scope, PS_SCOPE_AGGREGATED);
    ASSERT_RESOURCES(c, "cpu");
    assert_int_equal(c->n_vms, 3);
    assert_string_equal(c->vms[0], "vm5");
    assert_string_equal(c->vms[2], "vm7");
    assert_true(c->cpu_util == 0.97);   /* The host's, not vm5's. */
    diag_free(&dg);

    c = RUN(&dg, HEALTHY, TAPS_DROP,
        { "cpu:host", "cpu", NULL, 0, 0, "\"cpu_util\": 0.5" });
    ASSERT_RESOURCES(c, "memory bandwidth");
    diag_free(&dg);

    c = RUN(&dg, HEALTHY, TAPS_DROP);
    ASSERT_RESOURCES(c, "cpu", "memory bandwidth");
    assert_int_equal(c->cpu_high, PS_EV_UNKNOWN);
    diag_free(&dg);
    (void) state;
}

static void
test_backlog_drops_counted_once(void **state)
{
    struct diag dg;
    /* 10,000 backlog drops that the sending tap counts again as its
     * rx_dropped and the pNIC driver as its rx_dropped: without
     * de-duplication the tap would look like the largest loss. */
    const struct ps_contention *c = RUN(&dg,
        { "backlog:cpu0", "backlog", NULL, 300000, 5000, NULL },
        { "backlog:cpu1", "backlog", NULL, 300000, 5000, NULL },
        { "tap:vnet2:from_guest", "tap", "vm2", 250000, 10000, NULL },
        { "pnic_driver:eth0:rx", "pnic_driver", NULL, 250000, 3000, NULL },
        { "pnic:eth0:tx", "pnic", NULL, 100000, 0,
          "\"capacity_bps\": 1000000000" });
    assert_int_equal(c->location, PS_BACKLOG);
    ASSERT_RESOURCES(c, "pcpu backlog");
    assert_int_equal(c->backlog_drops, 10000);
    assert_int_equal(c->deduplicated, 10000);
    /* The tap's echo is gone; the driver's own 3,000 drops stay. */
    assert_int_equal(c->n_losses, 3);
    assert_string_equal(c->losses[2].delta->element, "pnic_driver:eth0:rx");
    assert_int_equal(c->losses[2].loss, 3000);
    diag_free(&dg);

    /* A device that drops more than the backlog keeps the difference. */
    c = RUN(&dg,
        { "backlog:cpu0", "backlog", NULL, 300000, 1000, NULL },
        { "pnic_driver:eth0:rx", "pnic_driver", NULL, 250000, 9000, NULL });
    assert_int_equal(c->location, PS_PNIC_DRIVER);
    assert_int_equal(c->losses[0].loss, 8000);
    assert_int_equal(c->losses[0].counted, 9000);
    diag_free(&dg);
    (void) state;
}

static void
test_noise_floor(void **state)
{
    struct diag dg;
    /* 5 drops in 2M packets is below 0.01%. */
    const struct ps_contention *c = RUN(&dg, HEALTHY,
        { "pnic_driver:eth1:rx", "pnic_driver", NULL, 2000000, 5, NULL });
    assert_int_equal(c->verdict, PS_VERDICT_NONE);
    diag_free(&dg);
    (void) state;
}

static void
test_drop_reason_rules(void **state)
{
    struct diag dg;
    const struct ps_contention *c = RUN(&dg, HEALTHY,
        { "vswitch:br0:vnet1:tx", "vswitch", "vm2", 100000, 30000,
          "\"drops.mtu\": 7", "meter" },
        { "cpu:host", "cpu", NULL, 0, 0, "\"cpu_util\": 0.3" });
    assert_int_equal(c->location, PS_VSWITCH);
    assert_string_equal(c->reason, "meter");
    ASSERT_RESOURCES(c, "meter rate limit");
    diag_free(&dg);

    /* A reason without a rule falls back to the location's rules. */
    c = RUN(&dg, HEALTHY,
        { "vswitch:br0:vnet1:tx", "vswitch", "vm2", 100000, 30000, NULL,
          "cosmic_rays" },
        { "cpu:host", "cpu", NULL, 0, 0, "\"cpu_util\": 0.3" });
    assert_string_equal(c->reason, "cosmic_rays");
    ASSERT_RESOURCES(c, "vswitch datapath");
    diag_free(&dg);
    (void) state;
}

/* The tap's kernel drop reasons (docs/dropreason.md): one VM's tap losing
 * packets is a VM bottleneck by its location alone, but the kernel's
 * reason tells a MAC filter from a full ring. */
static void
test_kernel_drop_reasons(void **state)
{
    struct diag dg;
    const struct ps_contention *c = RUN(&dg, HEALTHY,
        { "tap:vnet5:to_guest", "tap", "vm5", 100000, 30000, NULL,
          "tap_txfilter" },
        { "cpu:host", "cpu", NULL, 0, 0, "\"cpu_util\": 0.3" });
    assert_int_equal(c->verdict, PS_VERDICT_BOTTLENECK);
    assert_int_equal(c->location, PS_TAP);
    assert_string_equal(c->reason, "tap_txfilter");
    ASSERT_RESOURCES(c, "guest mac filter");
    diag_free(&dg);

    c = RUN(&dg, HEALTHY,
        { "tap:vnet5:to_guest", "tap", "vm5", 100000, 30000, NULL,
          "full_ring" },
        { "cpu:host", "cpu", NULL, 0, 0, "\"cpu_util\": 0.3" });
    assert_string_equal(c->reason, "full_ring");
    ASSERT_RESOURCES(c, "vm bottleneck (cpu or bandwidth)");
    diag_free(&dg);

    /* A reason for any location ("*" /REASON) where the location has no
     * row of its own for it. */
    c = RUN(&dg, HEALTHY,
        { "pnic:eth7:tx", "pnic", NULL, 100000, 30000, NULL,
          "qdisc_drop" },
        { "cpu:host", "cpu", NULL, 0, 0, "\"cpu_util\": 0.3" });
    assert_int_equal(c->location, PS_PNIC);
    ASSERT_RESOURCES(c, "qdisc limit (tc configuration)");
    diag_free(&dg);

    /* The backlog's reason, as softnet_stat gives it, keeps Table 1's
     * rows. */
    c = RUN(&dg, HEALTHY,
        { "backlog:cpu3", "backlog", NULL, 100000, 30000, NULL,
          "cpu_backlog" },
        { "cpu:host", "cpu", NULL, 0, 0, "\"cpu_util\": 0.3" });
    assert_int_equal(c->location, PS_BACKLOG);
    assert_string_equal(c->reason, "cpu_backlog");
    ASSERT_RESOURCES(c, "pcpu backlog");
    diag_free(&dg);
    (void) state;
}

/* The passes of the rule book: the location's reason rows, then the
 * reason's rows for any location, then the location's general rows. */
static void
test_reason_rule_order(void **state)
{
    static const char *const book =
        "tap any - general\n"
        "*/qdisc_drop any - anywhere\n"
        "tap/qdisc_drop any - at the tap\n"
        "pnic any - pnic general\n";
    struct text t = { 0 };
    char *error = NULL;
    struct ps_rulebook *rb = ps_rulebook_parse(book, "rb", &error);
    assert_non_null(rb);

    add_host(&t, "hv1", (const struct elem[]) {
        { "tap:vnet0:to_guest", "tap", "vm1", 1000, 500, NULL,
          "qdisc_drop" } }, 1);
    add_host(&t, "hv2", (const struct elem[]) {
        { "pnic:eth0:tx", "pnic", NULL, 1000, 500, NULL, "qdisc_drop" } },
        1);
    add_host(&t, "hv3", (const struct elem[]) {
        { "pnic:eth0:tx", "pnic", NULL, 1000, 500, NULL, "other" } }, 1);
    struct ps_window *w = window_from_text(t.s, NULL, &error);
    assert_non_null(w);
    struct ps_contention_report report;
    ps_contention_diagnose(rb, w, &report);
    assert_int_equal(report.n_hosts, 3);
    assert_string_equal(report.hosts[0].resources[0], "at the tap");
    assert_int_equal(report.hosts[0].n_resources, 1);
    assert_string_equal(report.hosts[1].resources[0], "anywhere");
    assert_int_equal(report.hosts[1].n_resources, 1);
    assert_string_equal(report.hosts[2].resources[0], "pnic general");
    ps_contention_report_destroy(&report);
    ps_window_destroy(w);
    ps_rulebook_destroy(rb);
    text_free(&t);
    (void) state;
}

static void
test_hosts_independent_and_json(void **state)
{
    struct text t = { 0 };
    add_host(&t, "hv1", (const struct elem[]) {
        { "pnic:eth0:rx", "pnic", NULL, 900000, 300000, NULL } }, 1);
    add_host(&t, "hv2", (const struct elem[]) {
        { "tap:vnet0:to_guest", "tap", "vm1", 1000, 100, NULL },
        { "tap:vnet1:to_guest", "tap", "vm2", 1000, 0, NULL } }, 2);
    add_host(&t, "hv3", (const struct elem[]) {
        { "tap:vnet0:to_guest", "tap", "vm1", 1000, 0, NULL } }, 1);
    struct diag dg;
    diagnose(&dg, t.s);
    text_free(&t);

    assert_int_equal(dg.report.n_hosts, 3);
    assert_int_equal(dg.report.hosts[0].verdict, PS_VERDICT_CONTENTION);
    assert_int_equal(dg.report.hosts[1].verdict, PS_VERDICT_BOTTLENECK);
    assert_int_equal(dg.report.hosts[2].verdict, PS_VERDICT_NONE);

    json_t *json = ps_contention_report_to_json(&dg.report);
    assert_int_equal(json_array_size(json), 3);
    json_t *h = json_array_get(json, 1);
    assert_string_equal(json_string_value(json_object_get(h, "host")), "hv2");
    assert_string_equal(json_string_value(json_object_get(h, "verdict")),
                        "bottleneck");
    assert_string_equal(json_string_value(json_object_get(h, "location")),
                        "tap");
    assert_string_equal(json_string_value(json_array_get(
        json_object_get(h, "resources"), 0)),
        "vm bottleneck (cpu or bandwidth)");
    assert_string_equal(json_string_value(json_array_get(
        json_object_get(h, "vms"), 0)), "vm1");
    h = json_array_get(json, 2);
    assert_string_equal(json_string_value(json_object_get(h, "verdict")),
                        "none");
    assert_true(json_is_null(json_object_get(h, "location")));
    assert_int_equal(json_array_size(json_object_get(h, "resources")), 0);
    json_decref(json);
    diag_free(&dg);
    (void) state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_loss),
        cmocka_unit_test(test_pnic_is_incoming_bandwidth),
        cmocka_unit_test(test_pnic_driver_is_memory_space),
        cmocka_unit_test(test_backlog_outgoing_bandwidth_or_pcpu),
        cmocka_unit_test(test_tap_single_vm_is_bottleneck),
        cmocka_unit_test(test_tap_aggregated_cpu_or_memory),
        cmocka_unit_test(test_backlog_drops_counted_once),
        cmocka_unit_test(test_noise_floor),
        cmocka_unit_test(test_drop_reason_rules),
        cmocka_unit_test(test_kernel_drop_reasons),
        cmocka_unit_test(test_reason_rule_order),
        cmocka_unit_test(test_hosts_independent_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
