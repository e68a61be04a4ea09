/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Windows built from a Prometheus query's raw samples.  That the names
 * match what the agent serves, tests/prometheus-source.sh checks against
 * a real Prometheus. */

#include <config.h>
#include "test-util.h"
#include "perfsight/prometheus.h"

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

/* Found by tests/fuzz/fuzz-prometheus: the reasons of a record came in the
 * order of the series, and one reason given by two series came twice,
 * where the window pairs a record's reasons, sorted by name, with the
 * previous sample's ("aa" counted 2 dropped packets from 0 instead of 1). */
static void
test_parse_reasons_order(void **state)
{
    const char *answer =
        "{\"status\": \"success\", \"data\": {\"resultType\": \"matrix\", "
        "\"result\": ["
        SERIES("perfsight_drops_by_reason_total", ", \"reason\": \"zz\"",
               "5", "405") ", "
        SERIES("perfsight_drops_by_reason_total", ", \"reason\": \"aa\"",
               "1", "2") ", "
        SERIES("perfsight_drops_by_reason_total",
               ", \"reason\": \"aa\", \"replica\": \"b\"", "1", "2")
        "]}}";
    struct ps_window_builder *b = ps_window_builder_create(NULL);
    assert_null(ps_prometheus_parse_matrix(answer, strlen(answer), b));
    char *error = NULL;
    struct ps_window *w = ps_window_builder_finish(b, &error);
    assert_non_null(w);
    assert_int_equal(w->n_deltas, 1);
    const struct ps_delta *d = &w->deltas[0];
    assert_int_equal(d->n_reasons, 2);
    assert_string_equal(d->reasons[0].name, "aa");
    assert_int_equal(d->reasons[0].delta, 1);
    assert_string_equal(d->reasons[1].name, "zz");
    assert_int_equal(d->reasons[1].delta, 400);
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
        /* Found by tests/fuzz/fuzz-prometheus: a time beyond the int64_t
         * nanoseconds of a record wrapped around and overflowed the window
         * builder's arithmetic; a value that is not a number read as 0. */
        { "{\"status\": \"success\", \"data\": {\"result\": ["
          "{\"metric\": {\"__name__\": \"perfsight_drops_total\", "
          "\"host\": \"h\", \"element\": \"e\", \"type\": \"tap\"}, "
          "\"values\": [[1, \"2\"], [176415151200.5, \"3\"]]}]}}",
          "series perfsight_drops_total: sample time 176415151200.5 is out "
          "of range" },
        { "{\"status\": \"success\", \"data\": {\"result\": ["
          "{\"metric\": {\"__name__\": \"perfsight_drops_total\", "
          "\"host\": \"h\", \"element\": \"e\", \"type\": \"tap\"}, "
          "\"values\": [[-1, \"2\"]]}]}}",
          "series perfsight_drops_total: sample time -1 is out of range" },
        { "{\"status\": \"success\", \"data\": {\"result\": ["
          "{\"metric\": {\"__name__\": \"perfsight_drops_total\", "
          "\"host\": \"h\", \"element\": \"e\", \"type\": \"tap\"}, "
          "\"values\": [[1, \"Nf\"]]}]}}",
          "malformed sample in series perfsight_drops_total" },
        { "{\"status\": \"success\", \"data\": {\"result\": ["
          "{\"metric\": {\"__name__\": \"perfsight_drops_total\", "
          "\"host\": \"h\", \"element\": \"e\", \"type\": \"tap\"}, "
          "\"values\": [[1, \"2e19\"]]}]}}",
          "element \"e\": value 2e+19 out of range" },
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
        cmocka_unit_test(test_parse_matrix),
        cmocka_unit_test(test_parse_reasons_order),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
