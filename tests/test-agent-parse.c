/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The element sources' parsers on sample text: /proc/net/softnet_stat in
 * both column layouts, /proc/stat, cgroup cpu.stat and scope names, and the
 * replies of QEMU's query-perfsight and OVS's perfsight/show. */

#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "test-util.h"
#include "sources/dropreason.h"
#include "sources/sources.h"

/* Returns the sample of 'element' or fails. */
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

/* Linux 6.1: 13 columns, the CPU's number last.  CPU 1 is offline, so the
 * second line is CPU 2. */
static void
test_softnet_13_columns(void **state)
{
    const char *text =
        "0000a000 00000010 00000003 00000000 00000000 00000000 00000000 "
        "00000000 00000000 00000005 00000004 00000009 00000000\n"
        "000000ff 00000000 00000001 00000000 00000000 00000000 00000000 "
        "00000000 00000000 00000000 00000000 00000000 00000002\n";
    struct ps_samples samples;

    ps_samples_init(&samples, "h", 7);
    assert_int_equal(ps_softnet_parse(text, &samples), 0);
    assert_int_equal(samples.n, 2);

    const struct ps_sample *s = find(&samples, "backlog:cpu0");
    assert_int_equal(s->record.type, PS_BACKLOG);
    assert_int_equal(s->record.ts_ns, 7);
    assert_string_equal(s->record.host, "h");
    assert_int_equal(s->record.counters[PS_OUT_PACKETS], 0xa000);
    assert_int_equal(s->record.counters[PS_IN_PACKETS], 0xa010);
    assert_int_equal(s->record.counters[PS_DROPS], 16);
    assert_int_equal(reason(s, "flow_limit"), 4);
    assert_int_equal(reason(s, "cpu_backlog"), 12);
    assert_int_equal(extra(s, "time_squeeze"), 3);
    assert_int_equal(extra(s, "received_rps"), 5);
    assert_true(s->record.has_gauges & (1u << PS_QUEUE_LEN));
    assert_true(s->record.gauges[PS_QUEUE_LEN] == 9);

    s = find(&samples, "backlog:cpu2");
    assert_int_equal(s->record.counters[PS_OUT_PACKETS], 255);
    assert_int_equal(s->record.counters[PS_DROPS], 0);
    ps_samples_destroy(&samples);
}

/* Linux 6.8 and later: 15 columns, the CPU's number 13th. */
static void
test_softnet_15_columns(void **state)
{
    const char *text =
        "000d0ea3 00000007 00000000 00000000 00000000 00000000 00000000 "
        "00000000 00000000 00000000 00000000 00000000 00000000 00000000 "
        "00000000\n"
        "000960fd 00000000 00000000 00000000 00000000 00000000 00000000 "
        "00000000 00000000 00000000 00000000 00000000 00000001 00000000 "
        "00000000\n";
    struct ps_samples samples;

    ps_samples_init(&samples, "h", 1);
    assert_int_equal(ps_softnet_parse(text, &samples), 0);
    assert_int_equal(samples.n, 2);
    assert_int_equal(find(&samples, "backlog:cpu0")->record.counters[PS_DROPS],
                     7);
    assert_int_equal(find(&samples, "backlog:cpu1")
                     ->record.counters[PS_OUT_PACKETS], 0x960fd);
    ps_samples_destroy(&samples);
}

/* Before Linux 5.10: 11 columns, the line's position is the CPU. */
static void
test_softnet_11_columns(void **state)
{
    const char *text =
        "00000001 00000000 00000000 00000000 00000000 00000000 00000000 "
        "00000000 00000000 00000000 00000000\n"
        "00000002 00000001 00000000 00000000 00000000 00000000 00000000 "
        "00000000 00000000 00000000 00000000\n";
    struct ps_samples samples;

    ps_samples_init(&samples, "h", 1);
    assert_int_equal(ps_softnet_parse(text, &samples), 0);
    assert_int_equal(find(&samples, "backlog:cpu1")->record.counters[PS_DROPS],
                     1);
    ps_samples_destroy(&samples);
}

static void
test_softnet_bad(void **state)
{
    struct ps_samples samples;

    ps_samples_init(&samples, "h", 1);
    assert_int_equal(ps_softnet_parse("00000001 zz\n", &samples), EINVAL);
    assert_int_equal(ps_softnet_parse("1 2 3\n", &samples), EINVAL);
    assert_int_equal(ps_softnet_parse("", &samples), 0);
    ps_samples_destroy(&samples);
}

static void
test_procstat(void **state)
{
    const char *t1 =
        "cpu  100 0 50 800 50 0 0 0 0 0\n"
        "cpu0 50 0 25 400 25 0 0 0 0 0\n"
        "cpu1 50 0 25 400 25 0 0 0 0 0\n"
        "intr 12345\n";
    const char *t2 =
        "cpu  250 0 100 850 100 0 0 0 0 0\n"
        "cpu0 125 0 50 425 50 0 0 0 0 0\n"
        "cpu1 125 0 50 425 50 0 0 0 0 0\n";
    struct ps_cpu_times a, b;
    int n_cpus = 0;

    assert_int_equal(ps_procstat_parse(t1, &a, &n_cpus), 0);
    assert_int_equal(n_cpus, 2);
    assert_int_equal(a.total, 1000);
    assert_int_equal(a.busy, 150);
    assert_int_equal(ps_procstat_parse(t2, &b, NULL), 0);
    /* 200 busy ticks of 300. */
    assert_float_equal(ps_cpu_util(&a, &b), 2.0 / 3, 1e-9);
    /* No time passed, or a counter went back: no figure. */
    assert_true(ps_cpu_util(&b, &b) < 0);
    assert_true(ps_cpu_util(&b, &a) < 0);
    assert_int_equal(ps_procstat_parse("intr 1\n", &a, NULL), EINVAL);
    assert_int_equal(ps_procstat_parse("cpu  1 2\n", &a, NULL), EINVAL);
}

static void
test_cgroup(void **state)
{
    uint64_t usage = 0;

    assert_int_equal(ps_cgroup_usage_parse("usage_usec 1234\n"
                                           "user_usec 1000\n", &usage), 0);
    assert_int_equal(usage, 1234);
    assert_int_equal(ps_cgroup_usage_parse("user_usec 1\n"
                                           "usage_usec 99\n", &usage), 0);
    assert_int_equal(usage, 99);
    assert_int_equal(ps_cgroup_usage_parse("nr_periods 0\n", &usage),
                     EINVAL);

    char *vm = ps_cgroup_scope_vm("machine-qemu\\x2d3\\x2dvm3.scope");
    assert_string_equal(vm, "vm3");
    free(vm);
    vm = ps_cgroup_scope_vm("machine-qemu\\x2d12\\x2dweb\\x2d1.scope");
    assert_string_equal(vm, "web-1");
    free(vm);
    assert_null(ps_cgroup_scope_vm("system.slice"));
    assert_null(ps_cgroup_scope_vm("machine-lxc\\x2d1\\x2dc.scope"));
}

static void
test_qmp(void **state)
{
    const char *text =
        "[{\"element\": \"hypervisor:vm1:net0:rx\", \"vm\": \"vm1\","
        "  \"netdev\": \"net0\", \"direction\": \"rx\", \"backend\": \"tap\","
        "  \"nic\": \"nic0\", \"model\": \"virtio-net-pci\", \"queues\": 1,"
        "  \"in-packets\": 120000, \"in-bytes\": 180000000,"
        "  \"out-packets\": 119500, \"out-bytes\": 179250000, \"drops\": 500,"
        "  \"drops-by-reason\": [{\"reason\": \"queue-full\", \"packets\": 0},"
        "                        {\"reason\": \"too-big\", \"packets\": 500}],"
        "  \"in-time-ns\": 98, \"out-time-ns\": 310,"
        "  \"blocked-time-ns\": 2500, \"blocked-count\": 40,"
        "  \"no-buffer-time-ns\": 2490, \"queued\": 0},"
        " {\"element\": \"hypervisor:qemu-77:net0:tx\","
        "  \"netdev\": \"net0\", \"direction\": \"tx\", \"backend\": \"tap\","
        "  \"nic\": \"nic0\", \"model\": \"virtio-net-pci\", \"queues\": 1,"
        "  \"in-packets\": 4, \"in-bytes\": 264, \"out-packets\": 4,"
        "  \"out-bytes\": 264, \"drops\": 0, \"drops-by-reason\": [],"
        "  \"in-time-ns\": 3, \"out-time-ns\": 2, \"blocked-time-ns\": 0,"
        "  \"blocked-count\": 0, \"no-buffer-time-ns\": 0, \"queued\": 9}]";
    json_t *reply = json_loads(text, 0, NULL);
    struct ps_samples samples;

    assert_non_null(reply);
    ps_samples_init(&samples, "hv1", 5);
    assert_int_equal(ps_qmp_parse_perfsight(reply, "sockname", &samples), 0);
    assert_int_equal(samples.n, 2);

    const struct ps_sample *s = find(&samples, "hypervisor:vm1:net0:rx");
    assert_int_equal(s->record.type, PS_HYPERVISOR);
    assert_string_equal(s->record.vm, "vm1");
    assert_int_equal(s->record.counters[PS_IN_PACKETS], 120000);
    assert_int_equal(s->record.counters[PS_OUT_BYTES], 179250000);
    assert_int_equal(s->record.counters[PS_DROPS], 500);
    assert_int_equal(s->record.counters[PS_IN_TIME_NS], 98);
    assert_int_equal(s->record.counters[PS_OUT_TIME_NS], 310);
    assert_int_equal(reason(s, "too_big"), 500);
    assert_int_equal(reason(s, "queue_full"), 0);
    assert_int_equal(extra(s, "no_buffer_time_ns"), 2490);
    assert_int_equal(extra(s, "blocked_count"), 40);

    s = find(&samples, "hypervisor:qemu-77:net0:tx");
    assert_string_equal(s->record.vm, "sockname");
    assert_int_equal(extra(s, "queued"), 9);
    ps_samples_destroy(&samples);
    json_decref(reply);

    /* Found by tests/fuzz/fuzz-qmp: two reasons that become one name
     * ("queue-full" and "queue_full") were two "drops.queue_full"
     * attributes, a duplicate for which perfsight's reader refused the
     * agent's whole answer; their drops now add up. */
    reply = json_loads("[{\"element\": \"hypervisor:vm1:net0:rx\", "
                       "\"direction\": \"rx\", \"drops-by-reason\": ["
                       "{\"reason\": \"queue-full\", \"packets\": 2}, "
                       "{\"reason\": \"queue_full\", \"packets\": 3}]}]",
                       0, NULL);
    ps_samples_init(&samples, "hv1", 5);
    assert_int_equal(ps_qmp_parse_perfsight(reply, NULL, &samples), 0);
    s = find(&samples, "hypervisor:vm1:net0:rx");
    assert_int_equal(s->record.n_reasons, 1);
    assert_int_equal(reason(s, "queue_full"), 5);
    ps_samples_destroy(&samples);
    json_decref(reply);

    /* Not what query-perfsight returns. */
    reply = json_loads("[{\"vm\": \"x\"}]", 0, NULL);
    ps_samples_init(&samples, "hv1", 5);
    assert_int_equal(ps_qmp_parse_perfsight(reply, NULL, &samples), EINVAL);
    ps_samples_destroy(&samples);
    json_decref(reply);
}

static void
test_ovs(void **state)
{
    const char *text =
        "[{\"attrs\":{\"drops\":3,\"drops.port_rx\":1,\"drops.upcall\":2,"
        "\"in_bytes\":600,\"in_packets\":10,\"in_time_ns\":70,"
        "\"out_packets\":8},\"element\":\"vswitch:br0:vnet3:rx\","
        "\"host\":\"other\",\"ts_ns\":99,\"type\":\"vswitch\"}]\n";
    struct ps_samples samples;
    char *error;

    ps_samples_init(&samples, "hv1", 5);
    assert_int_equal(ps_ovs_parse_show(text, &samples, &error), 0);
    assert_null(error);
    const struct ps_sample *s = find(&samples, "vswitch:br0:vnet3:rx");
    assert_string_equal(s->record.host, "hv1");
    assert_int_equal(s->record.ts_ns, 5);
    assert_int_equal(s->record.counters[PS_DROPS], 3);
    assert_int_equal(reason(s, "upcall"), 2);

    assert_int_equal(ps_ovs_parse_show("{}", &samples, &error), EINVAL);
    assert_contains(error, "not a JSON array");
    free(error);
    assert_int_equal(ps_ovs_parse_show("[{\"ts_ns\": 1}]", &samples, &error),
                     EINVAL);
    assert_contains(error, "missing field");
    free(error);
    assert_int_equal(samples.n, 1);
    ps_samples_destroy(&samples);
}

/* ovsdb-server's answer to a select of Interface name and external_ids. */
static void
test_ovs_interfaces(void **state)
{
    const char *text =
        "{\"id\":1,\"error\":null,\"result\":[{\"rows\":["
        "{\"name\":\"vnet3\",\"external_ids\":[\"map\",["
        "[\"attached-mac\",\"52:54:00:00:00:03\"],"
        "[\"iface-id\",\"p3\"],[\"vm-uuid\",\"uuid-3\"]]]},"
        "{\"name\":\"vnet4\",\"external_ids\":[\"map\",["
        "[\"vm-id\",\"uuid-4\"]]]},"
        "{\"name\":\"br0\",\"external_ids\":[\"map\",[]]}]}]}";
    json_t *reply = json_loads(text, 0, NULL);
    struct ps_names *names = ps_names_create();

    assert_int_equal(ps_ovs_parse_interfaces(reply, names), 0);
    assert_string_equal(ps_names_vm(names, "vnet3"), "uuid-3");
    assert_string_equal(ps_names_vm(names, "vnet4"), "uuid-4");
    assert_null(ps_names_vm(names, "br0"));
    json_decref(reply);

    reply = json_loads("{\"id\":1,\"error\":\"x\",\"result\":null}", 0,
                       NULL);
    assert_int_equal(ps_ovs_parse_interfaces(reply, names), EPROTO);
    json_decref(reply);
    ps_names_destroy(names);
}

/* Device → VM from the configuration and from discovery, VM → tenant. */
static void
test_names(void **state)
{
    struct ps_names *names = ps_names_create();
    struct ps_samples samples;
    char *devs[] = { "vnet3", "vnet4" }, *vms[] = { "vm3", "vm4" };

    ps_names_set_static_vm(names, "vnet4", "configured");
    ps_names_set_dynamic(names, "libvirt", devs, vms, 2);
    ps_names_set_tenant(names, "vm3", "t1");

    ps_samples_init(&samples, "h", 1);
    ps_samples_add(&samples, PS_TAP, "tap:vnet3:to_guest");
    ps_samples_add(&samples, PS_VSWITCH, "vswitch:br0:vnet4:tx");
    ps_samples_add(&samples, PS_PNIC, "pnic:vnet3:rx");
    ps_names_apply(names, &samples);
    assert_string_equal(samples.s[0].record.vm, "vm3");
    assert_string_equal(samples.s[0].record.tenant, "t1");
    assert_string_equal(samples.s[1].record.vm, "configured");
    assert_null(samples.s[1].record.tenant);
    assert_null(samples.s[2].record.vm);

    /* A new discovery replaces the old one. */
    ps_names_set_dynamic(names, "libvirt", devs, vms, 1);
    assert_null(ps_names_vm(names, "vnet5"));
    assert_string_equal(ps_names_vm(names, "vnet4"), "configured");
    ps_samples_destroy(&samples);
    ps_names_destroy(names);
}

static void
test_netclass(void **state)
{
    struct ps_netclass *nc = ps_netclass_create();
    enum ps_netclass_kind kind;

    assert_true(ps_netclass_kind_from_name("pnic", &kind));
    ps_netclass_add(nc, "veth-ps0", PS_NETCLASS_IGNORE);
    ps_netclass_add(nc, "veth*", kind);
    assert_int_equal(ps_netclass_lookup(nc, "veth-ps0"), PS_NETCLASS_IGNORE);
    assert_int_equal(ps_netclass_lookup(nc, "veth-ps1"), PS_NETCLASS_PNIC);
    assert_int_equal(ps_netclass_lookup(nc, "eth0"), PS_NETCLASS_AUTO);
    assert_false(ps_netclass_kind_from_name("nic", &kind));
    ps_netclass_destroy(nc);
}

/* The kernel's reason names as attribute names, and which reasons are the
 * tap's transmit drops (docs/dropreason.md). */
static void
test_dropreason_names(void **state)
{
    char buf[32];

    assert_true(ps_dropreason_name("SKB_DROP_REASON_FULL_RING", buf,
                                   sizeof buf));
    assert_string_equal(buf, "full_ring");
    assert_true(ps_dropreason_name("SKB_DROP_REASON_TAP_TXFILTER", buf,
                                   sizeof buf));
    assert_string_equal(buf, "tap_txfilter");
    assert_false(ps_dropreason_name("SKB_NOT_DROPPED_YET", buf, sizeof buf));
    assert_false(ps_dropreason_name("SKB_CONSUMED", buf, sizeof buf));
    assert_false(ps_dropreason_name("SKB_DROP_REASON_MAX", buf, sizeof buf));
    assert_false(ps_dropreason_name("SKB_DROP_REASON_", buf, sizeof buf));
    /* Truncated to the buffer, still terminated. */
    assert_true(ps_dropreason_name("SKB_DROP_REASON_CPU_BACKLOG", buf, 4));
    assert_string_equal(buf, "cpu");

    assert_true(ps_dropreason_is_tx("full_ring"));
    assert_true(ps_dropreason_is_tx("tap_txfilter"));
    assert_false(ps_dropreason_is_tx("dev_ready"));
    assert_false(ps_dropreason_is_tx("cpu_backlog"));
    (void) state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softnet_13_columns),
        cmocka_unit_test(test_softnet_15_columns),
        cmocka_unit_test(test_softnet_11_columns),
        cmocka_unit_test(test_softnet_bad),
        cmocka_unit_test(test_dropreason_names),
        cmocka_unit_test(test_procstat),
        cmocka_unit_test(test_cgroup),
        cmocka_unit_test(test_qmp),
        cmocka_unit_test(test_ovs),
        cmocka_unit_test(test_ovs_interfaces),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_netclass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
