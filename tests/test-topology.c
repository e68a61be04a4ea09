/*
 * Copyright (c) 2026 The PerfSight developers.
 * SPDX-License-Identifier: Apache-2.0
 */

/* Topology files: the graph, endpoints, and every kind of bad input. */

#include <config.h>
#include "test-util.h"
#include <sys/socket.h>
#include <unistd.h>
#include "perfsight/topology.h"

static struct ps_topology *
parse(const char *text, char **errp)
{
    json_error_t jerr;
    json_t *json = json_loads(text, 0, &jerr);
    assert_non_null(json);
    struct ps_topology *t = ps_topology_from_json(json, "topo.json", errp);
    json_decref(json);
    return t;
}

static void
expect_error(const char *text, const char *message)
{
    char *error = NULL;
    assert_null(parse(text, &error));
    assert_contains(error, "topo.json: ");
    assert_contains(error, message);
    free(error);
}

#define MB(ID) \
    "{\"id\": \"" ID "\", \"host\": \"hv1\", \"element\": \"middlebox:" ID \
    "\"}"

static void
test_dag(void **state)
{
    char *error = NULL;
    struct ps_topology *t = parse(
        "{\"hosts\": [{\"id\": \"hv1\", \"agent\": \"http://127.0.0.1:1\"}],"
        " \"tenants\": [{\"id\": \"t1\", \"middleboxes\": ["
        MB("lb") ", " MB("p1") ", " MB("p2") ", "
        "{\"id\": \"nfs\", \"host\": \"hv1\", \"element\": \"middlebox:n\","
        " \"capacity_bps\": 1e8}],"
        " \"links\": [[\"client\", \"lb\"], [\"lb\", \"p1\"], [\"lb\", \"p2\"],"
        " [\"p1\", \"nfs\"], [\"p2\", \"nfs\"], [\"p1\", \"server\"],"
        " [\"p1\", \"nfs\"]]}]}", &error);
    assert_non_null(t);
    assert_int_equal(t->n_hosts, 1);
    assert_string_equal(t->hosts[0].agent, "http://127.0.0.1:1");
    const struct ps_topo_tenant *tenant = ps_topology_find_tenant(t, "t1");
    assert_non_null(tenant);
    assert_int_equal(tenant->n_middleboxes, 4);
    assert_int_equal(tenant->n_nodes, 6);
    assert_string_equal(tenant->nodes[4].id, "client");
    assert_false(tenant->nodes[4].is_middlebox);
    assert_string_equal(tenant->nodes[5].id, "server");
    assert_true(tenant->nodes[3].capacity_bps == 1e8);
    /* nfs has two predecessors, the repeated link counted once. */
    assert_int_equal(tenant->nodes[3].n_pred, 2);
    assert_int_equal(tenant->nodes[1].n_succ, 2);
    /* Topological order: every link goes forward. */
    assert_int_equal(tenant->n_order, 6);
    size_t pos[6];
    for (size_t i = 0; i < 6; i++) {
        pos[tenant->order[i]] = i;
    }
    for (size_t i = 0; i < 6; i++) {
        for (size_t j = 0; j < tenant->nodes[i].n_succ; j++) {
            assert_true(pos[i] < pos[tenant->nodes[i].succ[j]]);
        }
    }
    assert_null(ps_topology_find_tenant(t, "t2"));
    ps_topology_destroy(t);
    (void) state;
}

static void
test_bad_topologies(void **state)
{
    expect_error("[]", "must be a JSON object");
    expect_error("{}", "\"tenants\" must be an array");
    expect_error("{\"hosts\": 3, \"tenants\": []}", "\"hosts\" must be an "
                 "array");
    expect_error("{\"hosts\": [{\"id\": \"a\"}, {\"id\": \"a\"}], "
                 "\"tenants\": []}", "duplicate host id \"a\"");
    expect_error("{\"tenants\": [{\"middleboxes\": []}]}", "tenants[0]: "
                 "missing field \"id\"");
    expect_error("{\"tenants\": [{\"id\": \"t\"}]}", "\"middleboxes\" must "
                 "be an array");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [{\"id\": "
                 "\"a\", \"element\": \"e\"}]}]}", "middleboxes[0]: missing "
                 "field \"host\"");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [" MB("a")
                 ", " MB("a") "]}]}", "duplicate middlebox id \"a\"");
    expect_error("{\"hosts\": [{\"id\": \"hv2\"}], \"tenants\": [{\"id\": "
                 "\"t\", \"middleboxes\": [" MB("a") "]}]}", "host \"hv1\" "
                 "is not listed");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [{\"id\": "
                 "\"a\", \"host\": \"h\", \"element\": \"e\", "
                 "\"capacity_bps\": -5}]}]}", "\"capacity_bps\" must be a "
                 "positive number");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [" MB("a")
                 "], \"links\": [[\"a\"]]}]}", "links[0] must be a pair");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [" MB("a")
                 "], \"links\": [[\"a\", 3]]}]}", "links[0][1] must be a "
                 "non-empty string");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [" MB("a")
                 "], \"links\": [[\"a\", \"a\"]]}]}", "\"a\" links to itself");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [" MB("a")
                 ", " MB("b") ", " MB("c") "], \"links\": [[\"x\", \"a\"], "
                 "[\"a\", \"b\"], [\"b\", \"c\"], [\"c\", \"a\"]]}]}",
                 "the links form a cycle (");
    expect_error("{\"tenants\": [{\"id\": \"t1\", \"middleboxes\": ["
                 MB("a") "]}, {\"id\": \"t2\", \"middleboxes\": [" MB("b")
                 "], \"links\": [[\"b\", \"a\"]]}]}", "unknown middlebox "
                 "\"a\" (it belongs to tenant \"t1\")");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [" MB("a")
                 "], \"links\": [[\"a\", \"middlebox:vm2:proxy\"]]}]}",
                 "unknown middlebox \"middlebox:vm2:proxy\"");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": []}, "
                 "{\"id\": \"t\", \"middleboxes\": []}]}", "duplicate tenant "
                 "id \"t\"");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [{\"id\": "
                 "\"a\", \"host\": \"h\", \"element\": \"middlebox:a\", "
                 "\"addresses\": \"10.0.0.1:80\"}]}]}", "middleboxes[0]: field "
                 "\"addresses\" must be an array");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [{\"id\": "
                 "\"a\", \"host\": \"h\", \"element\": \"middlebox:a\", "
                 "\"addresses\": [\"10.0.0.1:80\", \"server:80\"]}]}]}",
                 "addresses[1] must be \"ADDR:PORT\"");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [" MB("a")
                 "], \"endpoints\": {}}]}", "\"endpoints\" must be an array");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [" MB("a")
                 "], \"endpoints\": [{\"id\": \"a\"}]}]}", "endpoints[0]: "
                 "\"a\" is already a middlebox or an endpoint");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [" MB("a")
                 "], \"endpoints\": [{\"addresses\": []}]}]}", "endpoints[0]: "
                 "missing field \"id\"");
    expect_error("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": [" MB("a")
                 "], \"endpoints\": [{\"id\": \"s\"}], \"links\": [[\"c\", "
                 "\"a\"]]}]}", "endpoint \"s\" is in no link");
    (void) state;
}

static void
test_addresses(void **state)
{
    char *error = NULL;
    struct ps_topology *t = parse(
        "{\"tenants\": [{\"id\": \"t\", \"middleboxes\": ["
        "{\"id\": \"a\", \"host\": \"hv1\", \"element\": \"middlebox:a\", "
        "\"addresses\": [\"10.0.2.2:8080\"]}], "
        "\"endpoints\": [{\"id\": \"sink\", \"addresses\": "
        "[\"[fd00::4]:2049\", \"10.0.4.2\", \"::ffff:10.0.5.2\"]}], "
        "\"links\": [[\"client\", \"a\"], [\"a\", \"sink\"], "
        "[\"a\", \"server\"]]}]}", &error);
    assert_null(error);
    assert_non_null(t);
    const struct ps_topo_tenant *tenant = &t->tenants[0];
    assert_int_equal(tenant->n_middleboxes, 1);
    assert_int_equal(tenant->n_nodes, 4);
    assert_int_equal(tenant->nodes[0].n_addresses, 1);
    assert_int_equal(tenant->nodes[0].addresses[0].port, 8080);

    /* The endpoint listed comes before those only named in links. */
    const struct ps_topo_node *sink = &tenant->nodes[1];
    assert_string_equal(sink->id, "sink");
    assert_false(sink->is_middlebox);
    assert_int_equal(sink->n_addresses, 3);
    assert_int_equal(sink->addresses[0].family, AF_INET6);
    assert_int_equal(sink->addresses[1].port, 0);
    assert_int_equal(sink->addresses[2].family, AF_INET);

    struct ps_peer_addr peer;
    assert_true(ps_peer_addr_parse("10.0.4.2:45000", &peer));
    assert_true(ps_peer_addr_match(&sink->addresses[1], &peer));
    assert_false(ps_peer_addr_match(&sink->addresses[0], &peer));
    assert_true(ps_peer_addr_parse("[::ffff:10.0.4.2]:1", &peer));
    assert_true(ps_peer_addr_match(&sink->addresses[1], &peer));
    assert_true(ps_peer_addr_parse("[fd00:0::4]:2049", &peer));
    assert_true(ps_peer_addr_match(&sink->addresses[0], &peer));
    assert_true(ps_peer_addr_parse("[fd00::4]:2048", &peer));
    assert_false(ps_peer_addr_match(&sink->addresses[0], &peer));
    ps_topology_destroy(t);

    static const char *const bad[] = {
        "", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:8x",
        "[fd00::1", "[fd00::1]8", "[10.0.0.1:80", "host:80", "1.2.3:4",
        "[]:80", ":80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_false(ps_peer_addr_parse(bad[i], &peer));
    }
    (void) state;
}

static void
test_cycle_names_its_path(void **state)
{
    char *error = NULL;
    assert_null(parse("{\"tenants\": [{\"id\": \"t\", \"middleboxes\": ["
                      MB("a") ", " MB("b") "], \"links\": [[\"a\", \"b\"], "
                      "[\"b\", \"a\"], [\"b\", \"server\"]]}]}", &error));
    assert_true(strstr(error, "a <- b <- a") || strstr(error, "b <- a <- b"));
    free(error);
    (void) state;
}

static void
test_load_file_errors(void **state)
{
    char *error = NULL;
    assert_null(ps_topology_load("/nonexistent/topo.json", &error));
    assert_contains(error, "/nonexistent/topo.json");
    free(error);

    char path[] = "/tmp/ps-topo-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"tenants\": [\n  {\"id\": }]}", 26), 26);
    close(fd);
    assert_null(ps_topology_load(path, &error));
    assert_contains(error, ":2: invalid JSON");
    free(error);
    unlink(path);
    (void) state;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dag),
        cmocka_unit_test(test_bad_topologies),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_cycle_names_its_path),
        cmocka_unit_test(test_load_file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
