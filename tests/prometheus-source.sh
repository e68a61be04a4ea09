#!/bin/bash
# perfsight --source prometheus answers the same as the agents: a tap whose
# reader is stalled loses packets toward its VM, a real perfsight-agent
# samples it, a real Prometheus scrapes the agent, and both ways of taking
# the window give the same diagnosis.  Root, Prometheus and the agent are
# needed; all runs in a network namespace of the test's own.
: "${PERFSIGHT:?PERFSIGHT must name the perfsight program}"
AGENT=${AGENT:-$(dirname "$PERFSIGHT")/perfsight-agent}
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v prometheus >/dev/null; then
    [ "${CI:-}" = true ] && { echo "FAIL: Debian's prometheus package is" \
        "not installed (CI=true: a missing component is a failure)"; exit 1; }
    echo "SKIP: Debian's prometheus package is not installed"
    exit 77
fi
. "$here/agent/lib.sh"

make_ns
make_stalled_tap pstap0 10.78.0.1 10.78.0.2

P=19580
start_agent agent --listen=127.0.0.1:$P --host=hv1 --libvirt-uri=none \
    --sources=netlink,softnet,cpu --vm=pstap0=vmA || finish

# Packets toward the stalled VM, all along.
in_ns bash -c "while :; do python3 '$here/agent/udp-flood.py' 10.78.0.2 9 2000 \
    >/dev/null; sleep 0.1; done" &
pids+=($!)

cat >"$TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: perfsight
    static_configs:
      - targets: ["127.0.0.1:$P"]
YML
in_ns prometheus --config.file="$TMP/prometheus.yml" \
    --storage.tsdb.path="$TMP/prom" --web.listen-address=127.0.0.1:19590 \
    >"$TMP/prometheus.out" 2>&1 &
pids+=($!)
# Wait (up to two minutes; no measure of speed) for five scrapes.
for _ in $(seq 240); do
    n=$(in_ns curl -sf --data-urlencode \
            'query=count_over_time(perfsight_drops_total{element="tap:pstap0:to_guest"}[1m])' \
            http://127.0.0.1:19590/api/v1/query 2>/dev/null \
        | jq -r '.data.result[0].value[1] // 0' 2>/dev/null)
    [ "${n:-0}" -ge 5 ] 2>/dev/null && break
    sleep 0.5
done
[ "${n:-0}" -ge 5 ] 2>/dev/null \
    || { fail "Prometheus did not scrape the agent"; tail -5 "$TMP/prometheus.out"; finish; }

cat >"$TMP/topo.json" <<TOPO
{"hosts": [{"id": "hv1", "agent": "http://127.0.0.1:$P"}], "tenants": []}
TOPO
verdict='.hosts[0] | [.host, .verdict, .location, .vms]'
in_ns "$PERFSIGHT" diagnose contention --topology "$TMP/topo.json" \
    --window 2 --format json >"$TMP/agents.json" || fail "from the agents"
in_ns "$PERFSIGHT" diagnose contention --source prometheus=http://127.0.0.1:19590 \
    --window 2 --format json >"$TMP/prom.json" || fail "from Prometheus"
a=$(jq -c "$verdict" "$TMP/agents.json")
p=$(jq -c "$verdict" "$TMP/prom.json")
[ "$a" = '["hv1","bottleneck","tap",["vmA"]]' ] \
    && ok "from the agents: $a" || fail "from the agents: $a"
[ "$p" = "$a" ] && ok "from Prometheus: $p" || fail "from Prometheus: $p"

# The same elements, and loss at the tap in both.
ea=$(jq -c '[.elements[].element] | sort' <(in_ns "$PERFSIGHT" show \
        --topology "$TMP/topo.json" --window 1 --format json))
ep=$(jq -c '[.elements[].element] | sort' <(in_ns "$PERFSIGHT" show \
        --source prometheus=http://127.0.0.1:19590 --window 2 --format json))
[ "$ea" = "$ep" ] && ok "same elements" || fail "elements: $ea vs $ep"
lp=$(jq '.hosts[0].evidence.location_loss' "$TMP/prom.json")
[ "$lp" -gt 0 ] && ok "Prometheus window loses $lp packets at the tap" \
    || fail "no loss in the Prometheus window"
finish
