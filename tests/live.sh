#!/bin/bash
# perfsight live: several real perfsight-agents on loopback ports standing
# for several hosts, one of them down; show, diagnose, record and watch
# gather from them in parallel.
. "${top_srcdir:-.}/tests/lib.sh"
AGENT=${PERFSIGHT_AGENT:-$(dirname "$PERFSIGHT")/perfsight-agent}
[ -x "$AGENT" ] || { echo "skipped: no perfsight-agent"; exit 77; }

pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# A free loopback port: bind to port 0 and read back what the kernel gave.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_agent() {                 # start_agent HOST PORT
    "$AGENT" --listen "127.0.0.1:$2" --host "$1" --sources netlink,softnet,cpu \
        --libvirt-uri none 2>"$TMP/agent-$1.log" &
    pids+=($!)
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && return 0
        sleep 0.1
    done
    fail "agent $1 did not start"
    cat "$TMP/agent-$1.log"
    exit 1
}

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

# record: three rounds to JSON Lines, read back by --input.
run 0 record --topology "$TMP/topo.json" --output "$TMP/rec.jsonl" \
    --interval 0.3 --count 3
expect_err "recorded 3 rounds"
expect_err "record: hv3:"
rounds=$(jq -r 'select(.element == "cpu:host") | .ts_ns' "$TMP/rec.jsonl" | wc -l)
[ "$rounds" = 3 ] || fail "recorded $rounds rounds of cpu:host, expected 3"
run 0 show --input "$TMP/rec.jsonl" --format json
expect_json '[.elements[].host] | unique' '["hv1"]'

# Stopped by SIGTERM: the file holds whole rounds only, every line valid.
"$PERFSIGHT" record --topology "$TMP/topo.json" --output "$TMP/stop.jsonl" \
    --interval 0.1 2>"$TMP/stop.err" &
rec=$!
sleep 1.5
kill -TERM $rec
wait $rec || fail "record exited $? on SIGTERM"
grep -q "(stopped)" "$TMP/stop.err" || fail "record did not say it stopped"
jq -c . "$TMP/stop.jsonl" >/dev/null || fail "a line of the recording is not JSON"
lines=$(wc -l < "$TMP/stop.jsonl")
n_rounds=$(jq -r 'select(.element == "cpu:host") | .ts_ns' "$TMP/stop.jsonl" | wc -l)
[ "$n_rounds" -ge 2 ] || fail "only $n_rounds rounds before SIGTERM"
[ $((lines % n_rounds)) = 0 ] || fail "$lines lines is not $n_rounds whole rounds"

# Rotation by size.
run 0 record --topology "$TMP/topo.json" --output "$TMP/rot.jsonl" \
    --interval 0.1 --count 4 --rotate-bytes 1 --rotate-keep 2
[ -s "$TMP/rot.jsonl" ] && [ -s "$TMP/rot.jsonl.1" ] && [ -s "$TMP/rot.jsonl.2" ] \
    || fail "rotation did not keep rot.jsonl, .1 and .2"
[ ! -e "$TMP/rot.jsonl.3" ] || fail "rotation kept more than 2 old files"

# watch: a refreshing view; not a terminal, so one block per round.
run 0 watch --topology "$TMP/topo.json" --interval 0.3 --count 2
[ "$(grep -c '^--- ' "$TMP/out")" = 2 ] || fail "watch did not print 2 rounds"
expect_out "ELEMENT"
expect_out "host hv3 did not answer"
finish
