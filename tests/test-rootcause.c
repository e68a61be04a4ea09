/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Algorithm 2 on chains, DAGs and endpoints, and its errors. */

#include <config.h>
#include "test-util.h"
#include "perfsight/rootcause.h"

/* Capacity of every middlebox here: 80 Mb/s = 10 MB/s, so moving B bytes
 * at capacity takes B / 1e7 seconds. */
#define CAPACITY_BPS 80000000.0

enum kind { RB, WB, BUSY, BOTH };

struct mb {
    const char *id;
    enum kind kind;
};

/* Per second: 2 MB in and out (0.2 s at capacity); blocked methods take
 * 0.6 s, unblocked ones 0.01 s. */
static void
add_mb(struct text *t, const char *id, enum kind kind, const char *extra)
{
    double t_in = kind == RB || kind == BOTH ? 0.6 : 0.01;
    double t_out = kind == WB || kind == BOTH ? 0.7 : 0.01;
    char element[64];
    snprintf(element, sizeof element, "middlebox:%s", id);
    for (int s = 0; s < 2; s++) {
        add_record(t, s, "hv1", element, "middlebox", id,
                   "\"in_bytes\": %lld, \"out_bytes\": %lld, "
                   "\"in_time_ns\": %lld, \"out_time_ns\": %lld%s",
                   5000LL + 2000000LL * s, 7000LL + 2000000LL * s,
                   11LL + (long long) (t_in * 1e9) * s,
                   13LL + (long long) (t_out * 1e9) * s, extra);
    }
}

struct rc {
    struct ps_topology *topo;
    struct ps_window *w;
    struct ps_rootcause result;
    char *error;
};

/* 'links' is the JSON text of the links array. */
static void
run(struct rc *rc, const struct mb *mbs, size_t n, const char *links)
{
    struct text topo = { 0 }, rec = { 0 };
    text_add(&topo, "{\"tenants\": [{\"id\": \"t1\", \"middleboxes\": [");
    for (size_t i = 0; i < n; i++) {
        text_add(&topo, "%s{\"id\": \"%s\", \"host\": \"hv1\", \"element\": "
                 "\"middlebox:%s\", \"capacity_bps\": %f}", i ? ", " : "",
                 mbs[i].id, mbs[i].id, CAPACITY_BPS);
        add_mb(&rec, mbs[i].id, mbs[i].kind, "");
    }
    text_add(&topo, "], \"links\": %s}]}", links);

    json_error_t jerr;
    json_t *json = json_loads(topo.s, 0, &jerr);
    assert_non_null(json);
    rc->topo = ps_topology_from_json(json, "topo", &rc->error);
    json_decref(json);
    assert_non_null(rc->topo);
    rc->w = window_from_text(rec.s, NULL, &rc->error);
    assert_non_null(rc->w);
    rc->error = ps_rootcause_diagnose(&rc->topo->tenants[0], rc->w,
                                      &rc->result);
    assert_null(rc->error);
    text_free(&topo);
    text_free(&rec);
}

#define RUN(RC, LINKS, ...) \
    run((RC), (const struct mb[]) { __VA_ARGS__ }, \
        sizeof (const struct mb[]) { __VA_ARGS__ } / sizeof (struct mb), \
        (LINKS))

static void
rc_free(struct rc *rc)
{
    ps_rootcause_destroy(&rc->result);
    ps_window_destroy(rc->w);
    ps_topology_destroy(rc->topo);
}

/* Asserts the root causes, as "id:state" strings in order. */
static void
assert_causes(const struct ps_rootcause *r, const char *const *expected,
              size_t n)
{
    for (size_t i = 0; i < r->n_causes; i++) {
        printf("# cause %s %s: %s\n", r->causes[i].id, r->causes[i].state,
               r->causes[i].why);
    }
    assert_int_equal(r->n_causes, n);
    for (size_t i = 0; i < n; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s:%s", r->causes[i].id,
                 r->causes[i].state);
        assert_string_equal(buf, expected[i]);
    }
}

#define ASSERT_CAUSES(R, ...) \
    assert_causes((R), (const char *const[]) { __VA_ARGS__ }, \
                  sizeof (const char *const[]) { __VA_ARGS__ } \
                  / sizeof (const char *))

#define CHAIN "[[\"client\", \"a\"], [\"a\", \"b\"], [\"b\", \"c\"], " \
              "[\"c\", \"server\"]]"

static void
test_chain_overloaded_middle(void **state)
{
    struct rc rc;
    RUN(&rc, CHAIN, { "a", WB }, { "b", BUSY }, { "c", RB });
    assert_int_equal(rc.result.mbs[0].state, PS_MB_WRITE_BLOCKED);
    assert_int_equal(rc.result.mbs[1].state, PS_MB_NORMAL);
    assert_int_equal(rc.result.mbs[2].state, PS_MB_READ_BLOCKED);
    /* The numbers behind the state. */
    assert_true(rc.result.mbs[0].b_out == 2000000.0);
    assert_true(rc.result.mbs[0].t_out > 0.69 && rc.result.mbs[0].t_out < 0.71);
    assert_true(rc.result.mbs[0].capacity == 1e7);
    ASSERT_CAUSES(&rc.result, "b:Overloaded");
    rc_free(&rc);
    (void) state;
}

static void
test_chain_endpoints(void **state)
{
    struct rc rc;
    RUN(&rc, CHAIN, { "a", RB }, { "b", RB }, { "c", RB });
    ASSERT_CAUSES(&rc.result, "client:Underloaded");
    assert_true(rc.result.causes[0].endpoint);
    rc_free(&rc);

    RUN(&rc, CHAIN, { "a", WB }, { "b", WB }, { "c", WB });
    ASSERT_CAUSES(&rc.result, "server:Overloaded");
    rc_free(&rc);

    /* A lone busy middlebox between endpoints is the root cause. */
    RUN(&rc, "[[\"client\", \"a\"], [\"a\", \"server\"]]", { "a", BUSY });
    ASSERT_CAUSES(&rc.result, "a:Overloaded");
    rc_free(&rc);
    (void) state;
}

static void
test_busy_but_starved_is_not_root(void **state)
{
    struct rc rc;
    /* b keeps up with what a, starved by the client, gives it: the paper
     * strikes b as a successor of ReadBlocked a, and so do we. */
    RUN(&rc, CHAIN, { "a", RB }, { "b", BUSY }, { "c", RB });
    ASSERT_CAUSES(&rc.result, "client:Underloaded");
    rc_free(&rc);

    /* Starvation passes through busy middleboxes: c keeps up too. */
    RUN(&rc, "[[\"client\", \"a\"], [\"a\", \"b\"], [\"b\", \"c\"], "
        "[\"c\", \"d\"]]", { "a", RB }, { "b", BUSY }, { "c", BUSY },
        { "d", RB });
    ASSERT_CAUSES(&rc.result, "client:Underloaded");
    rc_free(&rc);

    /* a and b wait on nothing, but c waits to write downstream: the
     * problem is past c. */
    RUN(&rc, CHAIN, { "a", BUSY }, { "b", BUSY }, { "c", WB });
    ASSERT_CAUSES(&rc.result, "server:Overloaded");
    rc_free(&rc);
    (void) state;
}

static void
test_join_where_the_paper_errs(void **state)
{
    struct rc rc;
    /* x is starved by its client; y waits to write to j; j is busy.  The
     * paper strikes j as a successor of ReadBlocked x and finds nothing;
     * y's blocking points at j, and x's at its client. */
    RUN(&rc, "[[\"c1\", \"x\"], [\"c2\", \"y\"], [\"x\", \"j\"], "
        "[\"y\", \"j\"], [\"j\", \"server\"]]",
        { "x", RB }, { "y", WB }, { "j", BUSY });
    ASSERT_CAUSES(&rc.result, "j:Overloaded", "c1:Underloaded");
    rc_free(&rc);
    (void) state;
}

static void
test_figure_12_shapes(void **state)
{
    static const char *links =
        "[[\"client\", \"lb\"], [\"lb\", \"p1\"], [\"lb\", \"p2\"], "
        "[\"p1\", \"server1\"], [\"p2\", \"server2\"], [\"p1\", \"nfs\"], "
        "[\"p2\", \"nfs\"]]";
    struct rc rc;

    /* (b): server1 overloaded. */
    RUN(&rc, links, { "lb", WB }, { "p1", WB }, { "p2", RB }, { "nfs", RB });
    ASSERT_CAUSES(&rc.result, "server1:Overloaded");
    rc_free(&rc);

    /* (c): the client is slow. */
    RUN(&rc, links, { "lb", RB }, { "p1", RB }, { "p2", RB }, { "nfs", RB });
    ASSERT_CAUSES(&rc.result, "client:Underloaded");
    rc_free(&rc);

    /* (d): the NFS server is overloaded. */
    RUN(&rc, links, { "lb", WB }, { "p1", WB }, { "p2", WB },
        { "nfs", BUSY });
    ASSERT_CAUSES(&rc.result, "nfs:Overloaded");
    rc_free(&rc);

    /* Two independent problems in one tenant. */
    RUN(&rc, "[[\"c1\", \"a\"], [\"a\", \"s1\"], [\"c2\", \"b\"], "
        "[\"b\", \"s2\"]]", { "a", RB }, { "b", BUSY });
    ASSERT_CAUSES(&rc.result, "b:Overloaded", "c1:Underloaded");
    rc_free(&rc);
    (void) state;
}

/* Figure 12(d) with per-peer counters: "filter" writes to a server and to
 * a log sink; the per-peer counters say which one it waits on. */
struct peer_case {
    double server_time, sink_time;      /* Seconds writing to each. */
    bool per_peer;                      /* The element has them. */
    bool sink_addressed;                /* The topology gives its address. */
    double in_time;                     /* Seconds the filter waits to read. */
};

static void
run_peer_case(struct rc *rc, const struct peer_case *pc)
{
    struct text topo = { 0 }, rec = { 0 };
    text_add(&topo,
             "{\"tenants\": [{\"id\": \"t1\", \"middleboxes\": ["
             "{\"id\": \"lb\", \"host\": \"hv1\", \"element\": "
             "\"middlebox:lb\", \"capacity_bps\": %f}, "
             "{\"id\": \"filter\", \"host\": \"hv1\", \"element\": "
             "\"middlebox:filter\", \"capacity_bps\": %f, "
             "\"addresses\": [\"10.0.2.2:8080\"]}], "
             "\"endpoints\": [{\"id\": \"server\", \"addresses\": "
             "[\"10.0.3.2:80\", \"[fd00::3]:80\"]}%s], "
             "\"links\": [[\"client\", \"lb\"], [\"lb\", \"filter\"], "
             "[\"filter\", \"server\"], [\"filter\", \"sink\"]]}]}",
             CAPACITY_BPS, CAPACITY_BPS,
             pc->sink_addressed
             ? ", {\"id\": \"sink\", \"addresses\": [\"10.0.4.2\"]}" : "");
    /* lb waits on filter; filter moves 2 MB to the server and 0.5 MB to
     * the sink a second (0.2 s and 0.05 s at capacity). */
    add_mb(&rec, "lb", pc->in_time ? RB : WB, "");
    for (int s = 0; s < 2; s++) {
        struct text peers = { 0 };
        if (pc->per_peer) {
            text_add(&peers,
                     ", \"out_bytes@10.0.3.2:80\": %lld, "
                     "\"out_time_ns@10.0.3.2:80\": %lld, "
                     "\"out_bytes@[::ffff:10.0.4.2]:2049\": %lld, "
                     "\"out_time_ns@[::ffff:10.0.4.2]:2049\": %lld, "
                     "\"in_bytes@10.0.3.2:80\": 5",
                     1000LL + 2000000LL * s,
                     (long long) (pc->server_time * 1e9) * s,
                     300LL + 500000LL * s,
                     (long long) (pc->sink_time * 1e9) * s);
        }
        add_record(&rec, s, "hv1", "middlebox:filter", "middlebox", "filter",
                   "\"in_bytes\": %lld, \"out_bytes\": %lld, "
                   "\"in_time_ns\": %lld, \"out_time_ns\": %lld%s",
                   2500000LL * s, 1300LL + 2500000LL * s,
                   (long long) (pc->in_time * 1e9) * s,
                   (long long) ((pc->server_time + pc->sink_time) * 1e9) * s,
                   peers.s ? peers.s : "");
        text_free(&peers);
    }
    json_error_t jerr;
    json_t *json = json_loads(topo.s, 0, &jerr);
    assert_non_null(json);
    rc->topo = ps_topology_from_json(json, "topo", &rc->error);
    json_decref(json);
    assert_non_null(rc->topo);
    rc->w = window_from_text(rec.s, NULL, &rc->error);
    assert_non_null(rc->w);
    rc->error = ps_rootcause_diagnose(&rc->topo->tenants[0], rc->w,
                                      &rc->result);
    assert_null(rc->error);
    assert_int_equal(rc->result.mbs[1].state, (pc->in_time
                                               ? PS_MB_READ_BLOCKED
                                               : PS_MB_WRITE_BLOCKED));
    text_free(&topo);
    text_free(&rec);
}

static void
test_dag_per_peer(void **state)
{
    struct rc rc;

    /* The slow sink alone. */
    run_peer_case(&rc, &(struct peer_case) { 0.05, 0.8, true, true });
    ASSERT_CAUSES(&rc.result, "sink:Overloaded");
    assert_true(rc.result.mbs[1].by_peer);
    rc_free(&rc);

    /* The slow server alone. */
    run_peer_case(&rc, &(struct peer_case) { 0.8, 0.01, true, true });
    ASSERT_CAUSES(&rc.result, "server:Overloaded");
    rc_free(&rc);

    /* The sink's address unknown: it gets what the server's peers leave
     * of the aggregate. */
    run_peer_case(&rc, &(struct peer_case) { 0.05, 0.8, true, false });
    ASSERT_CAUSES(&rc.result, "sink:Overloaded");
    rc_free(&rc);
    run_peer_case(&rc, &(struct peer_case) { 0.8, 0.01, true, false });
    ASSERT_CAUSES(&rc.result, "server:Overloaded");
    rc_free(&rc);

    /* Without per-peer counters the two look the same: both named. */
    run_peer_case(&rc, &(struct peer_case) { 0.05, 0.8, false, true });
    ASSERT_CAUSES(&rc.result, "server:Overloaded", "sink:Overloaded");
    assert_false(rc.result.mbs[1].by_peer);
    rc_free(&rc);

    /* A filter starved of input (0.9 s reading 2.5 MB) that also writes
     * to the server slowly at times (0.3 s for 0.2 s at capacity) waited
     * longer to read: the client is the cause, not the server (the lab's
     * Figure 12(c)). */
    run_peer_case(&rc, &(struct peer_case) { 0.3, 0.05, true, true, 0.9 });
    assert_true(rc.result.mbs[1].write_blocked);
    ASSERT_CAUSES(&rc.result, "client:Underloaded");
    rc_free(&rc);
    (void) state;
}

static void
test_both_blocked(void **state)
{
    struct rc rc;
    /* b waits on both sides (0.6 s reading, 0.7 s writing): it reports the
     * longer, and is no root cause; the client starves a, c overloads. */
    RUN(&rc, CHAIN, { "a", RB }, { "b", BOTH }, { "c", BUSY });
    assert_true(rc.result.mbs[1].read_blocked);
    assert_true(rc.result.mbs[1].write_blocked);
    assert_int_equal(rc.result.mbs[1].state, PS_MB_WRITE_BLOCKED);
    ASSERT_CAUSES(&rc.result, "c:Overloaded", "client:Underloaded");

    json_t *json = ps_rootcause_to_json(&rc.result);
    assert_string_equal(json_string_value(json_object_get(json, "tenant")),
                        "t1");
    json_t *states = json_object_get(json, "states");
    assert_string_equal(json_string_value(json_object_get(states, "a")),
                        "ReadBlocked");
    assert_string_equal(json_string_value(json_object_get(states, "c")),
                        "Normal");
    json_t *causes = json_object_get(json, "root_causes");
    assert_int_equal(json_array_size(causes), 2);
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(causes, 0), "id")), "c");
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(causes, 1), "state")), "Underloaded");
    json_decref(json);
    rc_free(&rc);
    (void) state;
}

/* Runs with a hand-written topology and records; returns the error. */
static char *
run_error(const char *topology, const char *records)
{
    char *error = NULL;
    json_error_t jerr;
    json_t *json = json_loads(topology, 0, &jerr);
    assert_non_null(json);
    struct ps_topology *topo = ps_topology_from_json(json, "topo", &error);
    json_decref(json);
    assert_non_null(topo);
    struct ps_window *w = window_from_text(records, NULL, &error);
    assert_non_null(w);
    struct ps_rootcause r;
    error = ps_rootcause_diagnose(&topo->tenants[0], w, &r);
    if (!error) {
        ps_rootcause_destroy(&r);
    }
    ps_window_destroy(w);
    ps_topology_destroy(topo);
    return error;
}

static void
test_errors(void **state)
{
    struct text rec = { 0 };
    add_mb(&rec, "a", RB, "");
    add_record(&rec, 0, "hv1", "tap:x:to_guest", "tap", NULL, "\"drops\": 1");
    add_record(&rec, 1, "hv1", "tap:x:to_guest", "tap", NULL, "\"drops\": 1");
    add_record(&rec, 0, "hv1", "middlebox:half", "middlebox", NULL,
               "\"in_bytes\": 1, \"out_bytes\": 1, \"in_time_ns\": 1");
    add_record(&rec, 1, "hv1", "middlebox:half", "middlebox", NULL,
               "\"in_bytes\": 2, \"out_bytes\": 2, \"in_time_ns\": 2");
    add_record(&rec, 1, "hv1", "middlebox:new", "middlebox", NULL,
               "\"in_bytes\": 2");

    char *error = run_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": "
                            "[{\"id\": \"m\", \"host\": \"hv1\", \"element\": "
                            "\"middlebox:zz\", \"capacity_bps\": 1}]}]}",
                            rec.s);
    assert_contains(error, "tenant \"t\": middlebox \"m\": element "
                    "\"middlebox:zz\" of host \"hv1\" is not in the "
                    "recording");
    free(error);

    error = run_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": "
                      "[{\"id\": \"m\", \"host\": \"hv2\", \"element\": "
                      "\"middlebox:a\", \"capacity_bps\": 1}]}]}", rec.s);
    assert_contains(error, "of host \"hv2\" is not in the recording");
    free(error);

    error = run_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": "
                      "[{\"id\": \"m\", \"host\": \"hv1\", \"element\": "
                      "\"middlebox:new\", \"capacity_bps\": 1}]}]}", rec.s);
    assert_contains(error, "has only one sample in the window");
    free(error);

    error = run_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": "
                      "[{\"id\": \"m\", \"host\": \"hv1\", \"element\": "
                      "\"tap:x:to_guest\", \"capacity_bps\": 1}]}]}", rec.s);
    assert_contains(error, "is of type tap, not middlebox");
    free(error);

    error = run_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": "
                      "[{\"id\": \"m\", \"host\": \"hv1\", \"element\": "
                      "\"middlebox:a\"}]}]}", rec.s);
    assert_contains(error, "capacity unknown");
    free(error);

    error = run_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": "
                      "[{\"id\": \"m\", \"host\": \"hv1\", \"element\": "
                      "\"middlebox:half\", \"capacity_bps\": 1}]}]}", rec.s);
    assert_contains(error, "lacks attrs.out_time_ns");
    free(error);
    text_free(&rec);
    (void) state;
}

static void
test_capacity_from_record_and_override(void **state)
{
    struct text rec = { 0 };
    /* 2 MB in 0.6 s: ReadBlocked at 80 Mb/s (0.2 s), not at 8 Mb/s (2 s). */
    add_mb(&rec, "a", RB, ", \"capacity_bps\": 8000000");
    const char *topo_record = "{\"tenants\": [{\"id\": \"t\", "
        "\"middleboxes\": [{\"id\": \"a\", \"host\": \"hv1\", "
        "\"element\": \"middlebox:a\"}]}]}";
    const char *topo_override = "{\"tenants\": [{\"id\": \"t\", "
        "\"middleboxes\": [{\"id\": \"a\", \"host\": \"hv1\", "
        "\"element\": \"middlebox:a\", \"capacity_bps\": 80000000}]}]}";
    char *error = NULL;
    struct ps_window *w = window_from_text(rec.s, NULL, &error);

    for (int i = 0; i < 2; i++) {
        json_error_t jerr;
        json_t *json = json_loads(i ? topo_override : topo_record, 0, &jerr);
        struct ps_topology *topo = ps_topology_from_json(json, "t", &error);
        json_decref(json);
        struct ps_rootcause r;
        assert_null(ps_rootcause_diagnose(&topo->tenants[0], w, &r));
        assert_int_equal(r.mbs[0].state,
                         i ? PS_MB_READ_BLOCKED : PS_MB_NORMAL);
        assert_true(r.mbs[0].capacity == (i ? 1e7 : 1e6));
        ps_rootcause_destroy(&r);
        ps_topology_destroy(topo);
    }
    ps_window_destroy(w);
    text_free(&rec);
    (void) state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_overloaded_middle),
        cmocka_unit_test(test_chain_endpoints),
        cmocka_unit_test(test_busy_but_starved_is_not_root),
        cmocka_unit_test(test_join_where_the_paper_errs),
        cmocka_unit_test(test_figure_12_shapes),
        cmocka_unit_test(test_dag_per_peer),
        cmocka_unit_test(test_both_blocked),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_capacity_from_record_and_override),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
