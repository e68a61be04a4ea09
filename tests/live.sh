#!/bin/bash
# perfsight live: several real perfsight-agents on loopback ports standing
# for several hosts, one of them down; show, diagnose and watch
# gather from them in parallel.  (perfsight record: tests/record.sh.)
. "${top_srcdir:-.}/tests/lib.sh"
AGENT=${PERFSIGHT_AGENT:-$(dirname "$PERFSIGHT")/perfsight-agent}
[ -x "$AGENT" ] || skip_test "no perfsight-agent at $AGENT (configure found" \
    "no libmnl, libmicrohttpd or libvirt?)"

p1=$(free_port); p2=$(free_port); p3=$(free_port)
start_agent hv1 "$p1"
start_agent hv2 "$p2"
agent2=${pids[1]}
# hv3's agent is down: nothing listens on p3.
cat > "$TMP/topo.json" <<TOPO
{"hosts": [{"id": "hv1", "agent": "http://127.0.0.1:$p1"},
           {"id": "hv2", "agent": "http://127.0.0.1:$p2"},
           {"id": "hv3", "agent": "http://127.0.0.1:$p3"}],
 "tenants": []}
TOPO

run 0 show --topology "$TMP/topo.json" --window 0.5 --format json
expect_json '[.elements[].host] | unique' '["hv1","hv2"]'
expect_json '.window.unreachable | map(.host)' '["hv3"]'
expect_json '.window.unreachable[0].error | test("onnect")' 'true'
expect_json '[.elements[] | select(.element == "cpu:host")] | length' '2'
# Loopback is a net device on every host: both agents report it.
expect_json '[.elements[] | select(.element | startswith("backlog:"))] | length > 0' 'true'

run 0 diagnose contention --topology "$TMP/topo.json" --window 0.5 --format json
expect_json '[.hosts[].host]' '["hv1","hv2"]'
expect_json '.window.unreachable | map(.host)' '["hv3"]'
run 0 diagnose contention --topology "$TMP/topo.json" --window 0.5
expect_out "host hv3 did not answer"
expect_out "host hv1:"

# An agent killed between the two rounds is named, the rest diagnosed.
( sleep 1; kill "$agent2" ) &
run 0 show --topology "$TMP/topo.json" --window 3 --format json
expect_json '.window.unreachable | map(.host) | sort' '["hv2","hv3"]'
expect_json '[.elements[].host] | unique' '["hv1"]'

# No agent answers: an error.
cat > "$TMP/down.json" <<TOPO
{"hosts": [{"id": "hv3", "agent": "http://127.0.0.1:$p3"}], "tenants": []}
TOPO
run 1 diagnose contention --topology "$TMP/down.json" --window 0.2
expect_err "no agent answered"
expect_err "hv3:"

# watch: a refreshing view; not a terminal, so one block per round.
run 0 watch --topology "$TMP/topo.json" --interval 0.3 --count 2
[ "$(grep -c '^--- ' "$TMP/out")" = 2 ] || fail "watch did not print 2 rounds"
expect_out "ELEMENT"
expect_out "host hv3 did not answer"
finish
