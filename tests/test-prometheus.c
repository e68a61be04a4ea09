/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Records in Prometheus: the exposition text the agent serves, and the
 * window built from a Prometheus query's raw samples. */

#include <config.h>
#include "test-util.h"
#include "perfsight/prometheus.h"

static void
test_render(void **state)
{
    struct ps_record r[2];
    ps_record_init(&r[0]);
    ps_record_init(&r[1]);
    r[0].host = "hv1";
    r[0].element = "tap:vnet0:to_guest";
    r[0].type = PS_TAP;
    r[0].vm = "vm\"1";
    r[0].counters[PS_DROPS] = 42;
    r[0].counters[PS_IN_TIME_NS] = 1500000000;
    r[0].has_counters = (1u << PS_DROPS) | (1u << PS_IN_TIME_NS);
    struct ps_reason reason = { "tap_full", 40 };
    r[0].reasons = &reason;
    r[0].n_reasons = 1;
    r[1].host = "hv1";
    r[1].element = "cpu:host";
    r[1].type = PS_CPU;
    r[1].gauges[PS_CPU_UTIL] = 0.25;
    r[1].has_gauges = 1u << PS_CPU_UTIL;

    char *text = ps_prometheus_render(r, 2);
    assert_string_equal(text,
        "# HELP perfsight_drops_total Packets the element dropped.\n"
        "# TYPE perfsight_drops_total counter\n"
        "perfsight_drops_total{host=\"hv1\",element=\"tap:vnet0:to_guest\","
        "type=\"tap\",vm=\"vm\\\"1\"} 42\n"
        "# HELP perfsight_in_time_seconds_total Time spent in the element's "
        "input method.\n"
        "# TYPE perfsight_in_time_seconds_total counter\n"
        "perfsight_in_time_seconds_total{host=\"hv1\",element=\"tap:vnet0:"
        "to_guest\",type=\"tap\",vm=\"vm\\\"1\"} 1.500000000\n"
        "# HELP perfsight_drops_by_reason_total Packets the element dropped, by "
        "reason.\n"
        "# TYPE perfsight_drops_by_reason_total counter\n"
        "perfsight_drops_by_reason_total{host=\"hv1\",element=\"tap:vnet0:"
        "to_guest\",type=\"tap\",vm=\"vm\\\"1\",reason=\"tap_full\"} 40\n"
        "# HELP perfsight_cpu_util CPU utilisation, 0 to 1.\n"
        "# TYPE perfsight_cpu_util gauge\n"
        "perfsight_cpu_util{host=\"hv1\",element=\"cpu:host\","
        "type=\"cpu\"} 0.25\n");
    free(text);
    (void) state;
}

#define SERIES(NAME, EXTRA, V0, V1) \
    "{\"metric\": {\"__name__\": \"" NAME "\", \"host\": \"hv1\", " \
    "\"element\": \"tap:a:to_guest\", \"type\": \"tap\", \"vm\": \"vm1\", " \
    "\"instance\": \"127.0.0.1:9464\", \"job\": \"perfsight\"" EXTRA "}, " \
    "\"values\": [[1764151200.5, \"" V0 "\"], [1764151201.5, \"" V1 "\"]]}"

static void
test_parse_matrix(void **state)
{
    const char *answer =
        "{\"status\": \"success\", \"data\": {\"resultType\": \"matrix\", "
        "\"result\": ["
        SERIES("perfsight_in_packets_total", "", "1000", "3000") ", "
        SERIES("perfsight_drops_total", "", "10", "510") ", "
        SERIES("perfsight_drops_by_reason_total", ", \"reason\": \"full\"",
               "5", "405") ", "
        SERIES("perfsight_in_time_seconds_total", "", "1.5", "2.25") ", "
        SERIES("up", "", "1", "1")
        "]}}";
    struct ps_window_builder *b = ps_window_builder_create(NULL);
    assert_null(ps_prometheus_parse_matrix(answer, strlen(answer), b));
    char *error = NULL;
    struct ps_window *w = ps_window_builder_finish(b, &error);
    assert_non_null(w);
    assert_int_equal(w->n_deltas, 1);
    const struct ps_delta *d = &w->deltas[0];
    assert_string_equal(d->host, "hv1");
    assert_string_equal(d->vm, "vm1");
    assert_int_equal(d->type, PS_TAP);
    assert_true(d->dt == 1.0);
    assert_int_equal(d->d[PS_IN_PACKETS], 2000);
    assert_int_equal(d->d[PS_DROPS], 500);
    assert_int_equal(d->d[PS_IN_TIME_NS], 750000000);
    assert_int_equal(d->n_reasons, 1);
    assert_int_equal(d->reasons[0].delta, 400);
    ps_window_destroy(w);
    (void) state;
}

static void
test_parse_errors(void **state)
{
    static const struct {
        const char *answer;
        const char *message;
    } cases[] = {
        { "not json", "invalid JSON from Prometheus" },
        { "{\"status\": \"error\", \"error\": \"parse error\"}",
          "Prometheus query failed: parse error" },
        { "{\"status\": \"success\", \"data\": {}}", "lacks data.result" },
        { "{\"status\": \"success\", \"data\": {\"result\": ["
          "{\"metric\": {\"__name__\": \"perfsight_drops_total\", "
          "\"host\": \"h\", \"element\": \"e\"}, "
          "\"values\": [[1, 2]]}]}}", "malformed sample" },
        { "{\"status\": \"success\", \"data\": {\"result\": ["
          "{\"metric\": {\"__name__\": \"perfsight_drops_total\", "
          "\"host\": \"h\", \"element\": \"e\", \"type\": \"warp\"}, "
          "\"values\": [[1, \"2\"]]}]}}", "no valid \"type\" label" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ps_window_builder *b = ps_window_builder_create(NULL);
        char *error = ps_prometheus_parse_matrix(
            cases[i].answer, strlen(cases[i].answer), b);
        assert_contains(error, cases[i].message);
        free(error);
        ps_window_builder_destroy(b);
    }
    (void) state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_parse_matrix),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
