/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* What perfsight-agent serves: Prometheus text and JSON from samples, and
 * its configuration file. */

#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>
#include "test-util.h"
#include "agent-config.h"
#include "agent-metrics.h"
#include "util.h"

static void
make_samples(struct ps_samples *samples)
{
    ps_samples_init(samples, "hv1", INT64_C(1764151200123456789));

    struct ps_sample *s = ps_samples_add(samples, PS_TAP,
                                         "tap:vnet3:to_guest");
    ps_sample_set_vm(s, "vm3");
    ps_sample_set_tenant(s, "t\"1");
    ps_sample_set(s, PS_IN_PACKETS, 120000);
    ps_sample_set(s, PS_DROPS, 500);
    ps_sample_add_reason(s, "tx_dropped", 500);

    s = ps_samples_add(samples, PS_HYPERVISOR, "hypervisor:vm3:net0:rx");
    ps_sample_set(s, PS_IN_TIME_NS, UINT64_C(2500000001));
    ps_sample_add_extra(s, "blocked_time_ns", 1500);
    ps_sample_add_extra(s, "blocked_count", 4);

    s = ps_samples_add(samples, PS_CPU, "cpu:host");
    ps_sample_set_gauge(s, PS_CPU_UTIL, 0.25);
}

static void
test_metric_names(void **state)
{
    char name[128];
    bool seconds;

    agent_metric_name("in_packets", name, sizeof name, &seconds);
    assert_string_equal(name, "perfsight_in_packets_total");
    assert_false(seconds);
    agent_metric_name("out_time_ns", name, sizeof name, &seconds);
    assert_string_equal(name, "perfsight_out_time_seconds_total");
    assert_true(seconds);
    agent_metric_name("odd-name.x", name, sizeof name, &seconds);
    assert_string_equal(name, "perfsight_odd_name_x_total");

    /* Extra counters are named the way the table names the known ones. */
    for (size_t i = 0; i < ps_attr_table_size; i++) {
        const struct ps_attr_info *a = &ps_attr_table[i];
        if (a->kind == PS_ATTR_COUNTER) {
            agent_metric_name(a->name, name, sizeof name, &seconds);
            assert_string_equal(name, a->metric);
            assert_true(seconds == (a->metric_scale != 1));
        }
    }
}

static void
test_prometheus(void **state)
{
    struct ps_samples samples;
    size_t len;

    make_samples(&samples);
    char *text = agent_render_prometheus(&samples, &len);
    assert_int_equal(strlen(text), len);
    assert_string_equal(text,
"# HELP perfsight_in_packets_total Packets that entered the element.\n"
"# TYPE perfsight_in_packets_total counter\n"
"perfsight_in_packets_total{host=\"hv1\",element=\"tap:vnet3:to_guest\","
"type=\"tap\",vm=\"vm3\",tenant=\"t\\\"1\"} 120000\n"
"# HELP perfsight_drops_total Packets lost in the element, all reasons.\n"
"# TYPE perfsight_drops_total counter\n"
"perfsight_drops_total{host=\"hv1\",element=\"tap:vnet3:to_guest\","
"type=\"tap\",vm=\"vm3\",tenant=\"t\\\"1\"} 500\n"
"# HELP perfsight_in_time_seconds_total Time spent in the element's input "
"method.\n"
"# TYPE perfsight_in_time_seconds_total counter\n"
"perfsight_in_time_seconds_total{host=\"hv1\","
"element=\"hypervisor:vm3:net0:rx\",type=\"hypervisor\"} 2.500000001\n"
"# HELP perfsight_drops_by_reason_total Packets lost in the element, by "
"reason (a breakdown of perfsight_drops_total).\n"
"# TYPE perfsight_drops_by_reason_total counter\n"
"perfsight_drops_by_reason_total{host=\"hv1\","
"element=\"tap:vnet3:to_guest\",type=\"tap\",vm=\"vm3\",tenant=\"t\\\"1\","
"reason=\"tx_dropped\"} 500\n"
"# HELP perfsight_blocked_count_total PerfSight attribute blocked_count.\n"
"# TYPE perfsight_blocked_count_total counter\n"
"perfsight_blocked_count_total{host=\"hv1\","
"element=\"hypervisor:vm3:net0:rx\",type=\"hypervisor\"} 4\n"
"# HELP perfsight_blocked_time_seconds_total PerfSight attribute "
"blocked_time_ns.\n"
"# TYPE perfsight_blocked_time_seconds_total counter\n"
"perfsight_blocked_time_seconds_total{host=\"hv1\","
"element=\"hypervisor:vm3:net0:rx\",type=\"hypervisor\"} 0.000001500\n"
"# HELP perfsight_cpu_util CPU utilisation, 0 to 1, since the previous "
"sample.\n"
"# TYPE perfsight_cpu_util gauge\n"
"perfsight_cpu_util{host=\"hv1\",element=\"cpu:host\",type=\"cpu\"} 0.25\n");
    free(text);
    ps_samples_destroy(&samples);
}

static void
test_json(void **state)
{
    struct ps_samples samples;
    size_t len;

    make_samples(&samples);
    char *text = agent_render_json(&samples, &len);
    assert_int_equal(text[len - 1], '\n');

    /* The core's own reader takes it back. */
    json_t *array = json_loads(text, 0, NULL);
    assert_int_equal(json_array_size(array), 3);
    struct ps_record r;
    ps_record_init(&r);
    assert_null(ps_record_from_json(json_array_get(array, 0), &r, NULL,
                                    NULL));
    assert_string_equal(r.element, "tap:vnet3:to_guest");
    assert_string_equal(r.tenant, "t\"1");
    assert_int_equal(r.counters[PS_DROPS], 500);
    assert_int_equal(r.n_reasons, 1);
    ps_record_destroy(&r);
    json_t *attrs = json_object_get(json_array_get(array, 1), "attrs");
    assert_int_equal(json_integer_value(json_object_get(attrs,
                                                        "blocked_count")), 4);
    json_decref(array);
    free(text);
    ps_samples_destroy(&samples);
}

/* The numbers are written without printf: the same text as "%.17g",
 * "%" PRIu64 and "%u.%09u" for the values at the edges of each way. */
static void
test_numbers(void **state)
{
    static const double gauges[] = {
        0, -0.0, 1, 0.25, 1e10, 999999999999999.0, 1e15, 1e17, 123.5, -3,
        1e-300, 2.5e15,
    };
    static const uint64_t counters[] = {
        0, 9, 10, 99, 1000000000, UINT64_C(999999999999), INT64_MAX,
    };
    struct ps_samples samples;
    char want[64];
    size_t len;

    for (size_t i = 0; i < PS_ARRAY_SIZE(gauges); i++) {
        ps_samples_init(&samples, "hv1", 1);
        struct ps_sample *s = ps_samples_add(&samples, PS_PNIC, "pnic:a:rx");
        ps_sample_set_gauge(s, PS_CAPACITY_BPS, gauges[i]);
        char *text = agent_render_prometheus(&samples, &len);
        snprintf(want, sizeof want, "} %.17g\n", gauges[i]);
        assert_non_null(strstr(text, want));
        free(text);
        ps_samples_destroy(&samples);
    }
    for (size_t i = 0; i < PS_ARRAY_SIZE(counters); i++) {
        uint64_t v = counters[i];
        ps_samples_init(&samples, "hv1", 1);
        struct ps_sample *s = ps_samples_add(&samples, PS_PNIC, "pnic:a:rx");
        ps_sample_set(s, PS_DROPS, v);
        ps_sample_set(s, PS_IN_TIME_NS, v);
        char *text = agent_render_prometheus(&samples, &len);
        snprintf(want, sizeof want, "} %"PRIu64"\n", v);
        assert_non_null(strstr(text, want));
        snprintf(want, sizeof want, "} %"PRIu64".%09u\n", v / 1000000000,
                 (unsigned int) (v % 1000000000));
        assert_non_null(strstr(text, want));
        free(text);
        text = agent_render_json(&samples, &len);
        snprintf(want, sizeof want, "\"drops\":%"PRIu64",", v);
        assert_non_null(strstr(text, want));
        free(text);
        ps_samples_destroy(&samples);
    }
}

/* Found by tests/fuzz/fuzz-qmp: a drop reason came from QEMU as it was and
 * the JSON kept it unescaped ("too-\bbig" gave a control character in a
 * key, a '"' would have ended it), so that perfsight's reader refused the
 * agent's whole answer. */
static void
test_json_escapes_reasons(void **state)
{
    struct ps_samples samples;
    size_t len;

    ps_samples_init(&samples, "hv1", 1764151200000000000);
    struct ps_sample *s = ps_samples_add(&samples, PS_HYPERVISOR,
                                         "hypervisor:vm1:net0:rx");
    ps_sample_add_reason(s, "too_\bbig", 5);
    ps_sample_add_reason(s, "a\"b\\c", 6);
    char *text = agent_render_json(&samples, &len);
    assert_contains(text, "\"drops.too_\\u0008big\":5");
    assert_contains(text, "\"drops.a\\\"b\\\\c\":6");

    FILE *f = fmemopen(text, len, "r");
    struct ps_reader *rd = ps_reader_from_stream(f, "agent");
    struct ps_record r;
    char *error = NULL;
    assert_int_equal(ps_reader_next(rd, &r, &error), 1);
    assert_int_equal(r.n_reasons, 2);
    assert_string_equal(r.reasons[0].name, "a\"b\\c");
    assert_string_equal(r.reasons[1].name, "too_\bbig");
    ps_record_destroy(&r);
    assert_int_equal(ps_reader_next(rd, &r, &error), 0);
    ps_reader_close(rd);
    fclose(f);
    free(text);
    ps_samples_destroy(&samples);
    (void) state;
}

static void
test_config(void **state)
{
    const char *text =
        "# perfsight-agent\n"
        "host = hv9\n"
        "listen = 127.0.0.1:19464   # a comment\n"
        "\n"
        "vm.vnet3 = vm3\n"
        "tenant.vm3 = t1\n"
        "class.veth* = pnic\n"
        "sources = netlink,softnet\n";
    char path[] = "/tmp/test-agent-config.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), strlen(text));
    close(fd);

    struct agent_config c;
    agent_config_init(&c);
    assert_null(agent_config_read(&c, path));
    assert_string_equal(c.host, "hv9");
    assert_string_equal(c.env.host, "hv9");
    assert_string_equal(c.listen, "127.0.0.1:19464");
    assert_string_equal(ps_names_vm(c.env.names, "vnet3"), "vm3");
    assert_string_equal(ps_names_tenant(c.env.names, "vm3"), "t1");
    assert_int_equal(ps_netclass_lookup(c.env.netclass, "veth0"),
                     PS_NETCLASS_PNIC);
    assert_true(agent_config_wants(&c, "softnet"));
    assert_false(agent_config_wants(&c, "soft"));
    assert_false(agent_config_wants(&c, "ovs"));

    char *error = agent_config_set(&c, "class.x", "nic");
    assert_contains(error, "not pnic, tap, ignore");
    free(error);
    error = agent_config_set(&c, "max-connections", "0");
    assert_contains(error, "integer from 1");
    free(error);
    error = agent_config_set(&c, "colour", "blue");
    assert_contains(error, "unknown setting \"colour\"");
    free(error);
    agent_config_destroy(&c);

    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "host\n", 5), 5);
    close(fd);
    agent_config_init(&c);
    error = agent_config_read(&c, path);
    assert_contains(error, ":1: expected \"key = value\"");
    free(error);
    agent_config_destroy(&c);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_names),
        cmocka_unit_test(test_prometheus),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_escapes_reasons),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
