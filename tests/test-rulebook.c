/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* The rule book's format, the shipped rule book, and errors. */

#include <config.h>
#include "test-util.h"
#include "perfsight/rulebook.h"

static void
test_parse(void **state)
{
    char *error = NULL;
    struct ps_rulebook *rb = ps_rulebook_parse(
        "# comment\n"
        "\n"
        "set cpu_high 0.8   # trailing comment\n"
        "set min_drops 5\n"
        "tap  aggregated  !cpu_high  Memory Bandwidth, numa\n"
        "vswitch/meter any - meter rate limit\n"
        "*/qdisc_drop any - qdisc limit\n", "rb", &error);
    assert_non_null(rb);
    assert_true(rb->cpu_high == 0.8);
    assert_int_equal(rb->min_drops, 5);
    assert_true(rb->near_capacity == 0.9);      /* Default kept. */
    assert_int_equal(rb->n_rules, 3);

    const struct ps_rule *r = &rb->rules[0];
    assert_int_equal(r->location, PS_TAP);
    assert_null(r->reason);
    assert_int_equal(r->scope, PS_SCOPE_AGGREGATED);
    assert_int_equal(r->condition, PS_COND_CPU_HIGH);
    assert_true(r->negated);
    assert_int_equal(r->n_resources, 2);
    assert_string_equal(r->resources[0], "memory bandwidth");
    assert_string_equal(r->resources[1], "numa");
    assert_int_equal(r->line, 5);

    r = &rb->rules[1];
    assert_int_equal(r->location, PS_VSWITCH);
    assert_string_equal(r->reason, "meter");
    assert_int_equal(r->condition, PS_COND_NONE);
    assert_string_equal(r->resources[0], "meter rate limit");
    assert_false(r->any_location);

    r = &rb->rules[2];
    assert_true(r->any_location);
    assert_string_equal(r->reason, "qdisc_drop");
    ps_rulebook_destroy(rb);
    (void) state;
}

static void
expect_error(const char *text, const char *message)
{
    char *error = NULL;
    assert_null(ps_rulebook_parse(text, "rb", &error));
    assert_contains(error, message);
    free(error);
}

static void
test_errors(void **state)
{
    expect_error("", "rb: no rules");
    expect_error("# only a comment\n", "rb: no rules");
    expect_error("tap any - cpu\nrouter any - cpu\n",
                 "rb:2: unknown location \"router\"");
    expect_error("middlebox any - cpu\n", "not a data-plane location");
    expect_error("tap/ any - cpu\n", "lacks a drop reason");
    expect_error("* any - cpu\n", "\"*\" needs a drop reason");
    expect_error("*/ any - cpu\n", "lacks a drop reason");
    expect_error("tap sometimes - cpu\n", "unknown scope \"sometimes\"");
    expect_error("tap any hot cpu\n", "unknown condition \"hot\"");
    expect_error("tap any !- cpu\n", "unknown condition");
    expect_error("tap any -\n", "a rule is LOCATION");
    expect_error("tap any - , ,\n", "at least one resource");
    expect_error("set cpu_high\n", "takes a name and a value");
    expect_error("set cpu_high 2\n", "between 0 and 1");
    expect_error("set cpu_high high\n", "not a non-negative number");
    expect_error("set min_drops 1.5\n", "whole number");
    expect_error("set colour blue\n", "unknown setting \"colour\"");
    (void) state;
}

static void
test_shipped_rulebook(void **state)
{
    char *error = NULL;
    struct ps_rulebook *rb = ps_rulebook_load_default(&error);
    assert_non_null(rb);
    /* Every row of Table 1 is there. */
    static const struct {
        enum ps_element_type location;
        const char *resource;
    } table1[] = {
        { PS_TAP, "cpu" },
        { PS_PNIC_DRIVER, "memory space" },
        { PS_TAP, "memory bandwidth" },
        { PS_PNIC, "incoming bandwidth" },
        { PS_BACKLOG, "outgoing bandwidth" },
        { PS_BACKLOG, "pcpu backlog" },
        { PS_TAP, "vm bottleneck (cpu or bandwidth)" },
    };
    for (size_t i = 0; i < sizeof table1 / sizeof table1[0]; i++) {
        bool found = false;
        for (size_t j = 0; j < rb->n_rules; j++) {
            const struct ps_rule *r = &rb->rules[j];
            for (size_t k = 0; k < r->n_resources; k++) {
                found |= (r->location == table1[i].location && !r->reason
                          && !strcmp(r->resources[k], table1[i].resource));
            }
        }
        assert_true(found);
    }

    /* The kernel's reasons at the tap, named as the kernel spells them. */
    bool txfilter = false;
    for (size_t j = 0; j < rb->n_rules; j++) {
        const struct ps_rule *r = &rb->rules[j];
        txfilter |= (r->location == PS_TAP && r->reason
                     && !strcmp(r->reason, "tap_txfilter")
                     && !strcmp(r->resources[0], "guest mac filter"));
    }
    assert_true(txfilter);
    ps_rulebook_destroy(rb);

    assert_null(ps_rulebook_load("/nonexistent/rulebook", &error));
    assert_contains(error, "/nonexistent/rulebook: cannot open");
    free(error);
    (void) state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_shipped_rulebook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
