/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Records and the streaming reader: both formats, and every kind of bad
 * input gets a message with the line and the field. */

#include <config.h>
#include "test-util.h"

/* Reads all of 'text'; returns the number of records, or -1 with the
 * error in '*errp'. */
static int
read_all(const char *text, char **errp)
{
    FILE *f = fmemopen((void *) text, strlen(text), "r");
    struct ps_reader *rd = ps_reader_from_stream(f, "in.json");
    struct ps_record r;
    int n = 0, retval;
    *errp = NULL;
    while ((retval = ps_reader_next(rd, &r, errp)) > 0) {
        n++;
        ps_record_destroy(&r);
    }
    ps_reader_close(rd);
    fclose(f);
    return retval < 0 ? -1 : n;
}

static void
expect_error(const char *text, const char *message)
{
    char *error;
    assert_int_equal(read_all(text, &error), -1);
    assert_contains(error, message);
    free(error);
}

#define REC(ATTRS) \
    "{\"ts_ns\": 5, \"host\": \"h\", \"element\": \"tap:t:to_guest\", " \
    "\"type\": \"tap\", \"attrs\": {" ATTRS "}}"

static void
test_parse_full_record(void **state)
{
    const char *text =
        "{\"ts_ns\": 1764151200123456789, \"host\": \"hv1\", "
        "\"element\": \"tap:vnet3:to_guest\", \"type\": \"tap\", "
        "\"vm\": \"vm3\", \"tenant\": \"t1\", \"attrs\": {"
        "\"in_packets\": 120000, \"in_bytes\": 180000000, "
        "\"out_packets\": 119500, \"out_bytes\": 179250000, "
        "\"drops\": 500, \"drops.full\": 400, \"drops.error\": 100, "
        "\"in_time_ns\": 7, \"out_time_ns\": 8, \"capacity_bps\": 1e9, "
        "\"cpu_util\": 0.25}}";
    FILE *f = fmemopen((void *) text, strlen(text), "r");
    struct ps_reader *rd = ps_reader_from_stream(f, "x");
    struct ps_record r;
    char *error = NULL;

    assert_int_equal(ps_reader_next(rd, &r, &error), 1);
    assert_true(r.ts_ns == 1764151200123456789LL);
    assert_string_equal(r.host, "hv1");
    assert_string_equal(r.vm, "vm3");
    assert_string_equal(r.tenant, "t1");
    assert_int_equal(r.type, PS_TAP);
    assert_int_equal(r.counters[PS_IN_PACKETS], 120000);
    assert_int_equal(r.counters[PS_OUT_BYTES], 179250000);
    assert_int_equal(r.counters[PS_DROPS], 500);
    assert_int_equal(r.counters[PS_OUT_TIME_NS], 8);
    assert_int_equal(r.has_counters, (1u << PS_N_COUNTERS) - 1);
    assert_int_equal(r.n_reasons, 2);
    assert_string_equal(r.reasons[0].name, "error");   /* Sorted. */
    assert_int_equal(r.reasons[1].value, 400);
    assert_true(r.gauges[PS_CAPACITY_BPS] == 1e9);
    assert_true(r.gauges[PS_CPU_UTIL] == 0.25);

    /* And back to JSON. */
    json_t *json = ps_record_to_json(&r);
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(json, "attrs"), "drops.full")), 400);
    assert_string_equal(json_string_value(json_object_get(json, "type")),
                        "tap");
    json_decref(json);
    ps_record_destroy(&r);

    assert_int_equal(ps_reader_next(rd, &r, &error), 0);
    ps_reader_close(rd);
    fclose(f);
    (void) state;
}

static void
test_formats(void **state)
{
    char *error;
    /* JSON Lines, an array, concatenated arrays, empty arrays, blank
     * lines and CRLF all read the same. */
    assert_int_equal(read_all(REC("") "\n" REC("") "\n", &error), 2);
    assert_int_equal(read_all("[" REC("") ",\n " REC("") "]", &error), 2);
    assert_int_equal(read_all("[" REC("") "]\r\n[]\n[" REC("") "]\n"
                              REC("") "\n\n", &error), 3);
    assert_int_equal(read_all("", &error), 0);
    assert_int_equal(read_all("  \n\n", &error), 0);
    /* Strings may hold brackets and escaped quotes. */
    assert_int_equal(read_all("{\"ts_ns\": 5, \"host\": \"h{[\\\"]\", "
                              "\"element\": \"e}\", \"type\": \"cpu\", "
                              "\"attrs\": {}}", &error), 1);
    (void) state;
}

static void
test_bad_json(void **state)
{
    expect_error(REC("") "\n{\"ts_ns\": 5, \"host\"", "in.json:2: the "
                 "record that starts here is truncated");
    expect_error("[" REC("") ",\n" REC(""), "in.json:1: the array that "
                 "starts here is truncated");
    expect_error("[" REC("") "\n" REC("") "]", "in.json:2: invalid JSON: "
                 "expected ',' or ']'");
    expect_error("\n\n{\"ts_ns\": 5,, }", "in.json:3: invalid JSON");
    expect_error("[1, 2]", "expected a record object in the array");
    expect_error("\"hello\"", "expected a record '{' or an array '['");
    expect_error("{\"ts_ns\": 5]", "']' closes the record");
    expect_error("{\"a\": 1, \"a\": 2}", "invalid JSON");
    expect_error(REC("\"in_packets\": 99999999999999999999999"),
                 "invalid JSON");
    (void) state;
}

static void
test_bad_fields(void **state)
{
    expect_error("{\"host\": \"h\", \"element\": \"e\", \"type\": \"tap\", "
                 "\"attrs\": {}}", "missing field \"ts_ns\"");
    expect_error("{\"ts_ns\": \"5\", \"host\": \"h\", \"element\": \"e\", "
                 "\"type\": \"tap\", \"attrs\": {}}", "\"ts_ns\" must be a "
                 "positive integer");
    expect_error("{\"ts_ns\": -5, \"host\": \"h\", \"element\": \"e\", "
                 "\"type\": \"tap\", \"attrs\": {}}", "\"ts_ns\" must be a "
                 "positive integer");
    expect_error("{\"ts_ns\": 5, \"element\": \"e\", \"type\": \"tap\", "
                 "\"attrs\": {}}", "element \"e\": missing field \"host\"");
    expect_error("{\"ts_ns\": 5, \"host\": \"h\", \"type\": \"tap\", "
                 "\"attrs\": {}}", "missing field \"element\"");
    expect_error("{\"ts_ns\": 5, \"host\": 7, \"element\": \"e\", "
                 "\"type\": \"tap\", \"attrs\": {}}", "\"host\" must be a "
                 "string");
    expect_error("{\"ts_ns\": 5, \"host\": \"\", \"element\": \"e\", "
                 "\"type\": \"tap\", \"attrs\": {}}", "must not be empty");
    expect_error("{\"ts_ns\": 5, \"host\": \"h\", \"element\": \"e\", "
                 "\"type\": \"router\", \"attrs\": {}}",
                 "unknown element type \"router\"");
    /* Found by tests/fuzz/fuzz-reader: the type's name was compared up to
     * a NUL and then read past the end of the known name (ASan:
     * global-buffer-overflow in ps_element_type_from_name_len()). */
    expect_error("{\"ts_ns\": 5, \"host\": \"h\", \"element\": \"e\", "
                 "\"type\": \"middlebox\\u0000\", \"attrs\": {}}",
                 "in.json:1: element \"e\": field \"type\" contains a NUL "
                 "character");
    enum ps_element_type type;
    assert_false(ps_element_type_from_name_len("tap\0xyzw", 8, &type));
    assert_false(ps_element_type_from_name_len("ta", 2, &type));
    assert_true(ps_element_type_from_name_len("tapx", 3, &type));
    assert_int_equal(type, PS_TAP);
    expect_error("{\"ts_ns\": 5, \"host\": \"h\", \"element\": \"e\", "
                 "\"type\": \"tap\"}", "missing field \"attrs\"");
    expect_error("{\"ts_ns\": 5, \"host\": \"h\", \"element\": \"e\", "
                 "\"type\": \"tap\", \"attrs\": []}", "\"attrs\" must be "
                 "an object");
    expect_error("{\"ts_ns\": 5, \"host\": \"h\", \"element\": \"e\", "
                 "\"type\": \"tap\", \"vm\": 3, \"attrs\": {}}",
                 "\"vm\" must be a string");
    expect_error(REC("\"in_packets\": -1"), "attrs.in_packets: -1 is "
                 "negative");
    expect_error(REC("\"drops\": 1.5"), "attrs.drops: 1.5 is not a "
                 "non-negative integer");
    expect_error(REC("\"drops\": \"7\""), "attrs.drops must be a "
                 "non-negative integer");
    expect_error(REC("\"drops.full\": -3"), "attrs.drops.full: -3 is "
                 "negative");
    expect_error(REC("\"drops.\": 3"), "lacks a reason");
    expect_error(REC("\"cpu_util\": 1.5"), "cpu_util: 1.5 is out of range");
    expect_error(REC("\"capacity_bps\": -1"), "capacity_bps: -1 is out of "
                 "range");
    expect_error(REC("\"capacity_bps\": null"), "capacity_bps must be a "
                 "number");
    expect_error(REC("\"out_bytes@\": 3"), "lacks a peer after '@'");
    expect_error(REC("\"out_time_ns@10.0.0.1:80\": -3"),
                 "attrs.out_time_ns@10.0.0.1:80: -3 is negative");
    expect_error(REC("\"out_bytes@10.0.0.1:80\": \"3\""),
                 "attrs.out_bytes@10.0.0.1:80 must be a non-negative");
    expect_error(REC("\"out_bytes@a\": 1, \"in_bytes@a\": 2, "
                     "\"out_bytes@a\": 3"), "duplicate attribute \"out_bytes@a\"");
    /* The line of the record, not of the file's start. */
    expect_error(REC("") "\n" REC("") "\n" REC("\"in_bytes\": -2"),
                 "in.json:3: element \"tap:t:to_guest\": attrs.in_bytes");
    (void) state;
}

/* "COUNTER@PEER" (DESIGN.md §3): stored sorted, back to JSON, and into
 * window deltas; other names with '@' are unknown. */
static void
test_peer_counters(void **state)
{
    const char *text =
        "{\"ts_ns\": 1000000000, \"host\": \"h\", \"element\": "
        "\"middlebox:vm1:p\", \"type\": \"middlebox\", \"attrs\": {"
        "\"out_bytes\": 10, \"out_time_ns@10.0.4.2:80\": 7, "
        "\"out_bytes@10.0.4.2:80\": 5, \"out_bytes@10.0.3.2:80\": 100, "
        "\"frobs@x\": 1}}\n"
        "{\"ts_ns\": 2000000000, \"host\": \"h\", \"element\": "
        "\"middlebox:vm1:p\", \"type\": \"middlebox\", \"attrs\": {"
        "\"out_bytes\": 20, \"out_time_ns@10.0.4.2:80\": 9, "
        "\"out_bytes@10.0.4.2:80\": 8, \"out_bytes@10.0.3.2:80\": 40, "
        "\"in_bytes@[fd00::1]:9\": 3}}\n";
    FILE *f = fmemopen((void *) text, strlen(text), "r");
    struct ps_reader *rd = ps_reader_from_stream(f, "x");
    struct ps_record r;
    char *error = NULL;

    assert_int_equal(ps_reader_next(rd, &r, &error), 1);
    assert_int_equal(r.n_peers, 3);
    assert_string_equal(r.peers[0].peer, "10.0.3.2:80");
    assert_string_equal(r.peers[1].peer, "10.0.4.2:80");
    assert_int_equal(r.peers[1].counter, PS_OUT_BYTES);
    assert_int_equal(r.peers[1].value, 5);
    assert_int_equal(r.peers[2].counter, PS_OUT_TIME_NS);

    struct ps_record copy;
    ps_record_clone(&copy, &r);
    json_t *json = ps_record_to_json(&copy);
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(json, "attrs"), "out_time_ns@10.0.4.2:80")), 7);
    assert_null(json_object_get(json_object_get(json, "attrs"), "frobs@x"));
    json_decref(json);
    ps_record_destroy(&copy);
    ps_record_destroy(&r);
    ps_reader_close(rd);
    fclose(f);

    struct ps_window *w = window_from_text(text, NULL, &error);
    assert_non_null(w);
    const struct ps_delta *d = ps_window_find(w, "h", "middlebox:vm1:p");
    assert_non_null(d);
    assert_int_equal(d->n_peers, 4);
    /* Went down from 100 to 40: the process restarted, count from 0. */
    assert_string_equal(d->peers[0].peer, "10.0.3.2:80");
    assert_int_equal(d->peers[0].delta, 40);
    assert_int_equal(d->peers[1].delta, 3);
    assert_int_equal(d->peers[2].delta, 2);
    assert_int_equal(d->peers[3].counter, PS_IN_BYTES);
    assert_int_equal(d->peers[3].delta, 3);     /* New: from 0. */
    ps_window_destroy(w);
    (void) state;
}

static void
count_unknown(const char *name, void *aux)
{
    int *n = aux;
    assert_string_equal(name, "frobs");
    (*n)++;
}

/* A buffer read in place: the last record ends at the buffer's last byte
 * (ASan catches a read past it). */
static void
test_read_buffer(void **state)
{
    const char *records[] = {
        "[" REC("\"drops\": 1") ",\n" REC("\"drops\": 2") "]",
        REC("\"drops\": 1") "\n" REC("\"drops\": 2"),
        REC("\"drops\": 1") "\n" REC("\"drops\": 2") "\n",
    };
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
        size_t len = strlen(records[i]);
        char *buf = malloc(len);
        memcpy(buf, records[i], len);

        struct ps_reader *rd = ps_reader_from_buffer(buf, len, "mem");
        struct ps_record r;
        char *error = NULL;
        for (int k = 1; k <= 2; k++) {
            assert_int_equal(ps_reader_next(rd, &r, &error), 1);
            assert_int_equal(r.counters[PS_DROPS], k);
            ps_record_destroy(&r);
        }
        assert_int_equal(ps_reader_next(rd, &r, &error), 0);
        ps_reader_close(rd);
        free(buf);
    }

    /* Truncated, and its message names the buffer. */
    const char *cut = REC("\"drops\": 1");
    char *buf = malloc(strlen(cut) - 3);
    memcpy(buf, cut, strlen(cut) - 3);
    struct ps_reader *rd = ps_reader_from_buffer(buf, strlen(cut) - 3, "mem");
    struct ps_record r;
    char *error = NULL;
    assert_int_equal(ps_reader_next(rd, &r, &error), -1);
    assert_contains(error, "mem:1: the record that starts here is truncated");
    free(error);
    ps_reader_close(rd);
    free(buf);
    (void) state;
}

static void
test_unknown_attributes_ignored(void **state)
{
    const char *text = REC("\"frobs\": 3, \"in_packets\": 4");
    FILE *f = fmemopen((void *) text, strlen(text), "r");
    struct ps_reader *rd = ps_reader_from_stream(f, "x");
    struct ps_record r;
    char *error = NULL;
    int n = 0;

    ps_reader_set_unknown_attr_cb(rd, count_unknown, &n);
    assert_int_equal(ps_reader_next(rd, &r, &error), 1);
    assert_int_equal(n, 1);
    assert_int_equal(r.counters[PS_IN_PACKETS], 4);
    assert_int_equal(r.has_counters, 1u << PS_IN_PACKETS);
    ps_record_destroy(&r);
    ps_reader_close(rd);
    fclose(f);
    (void) state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full_record),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_peer_counters),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_unknown_attributes_ignored),
        cmocka_unit_test(test_read_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
