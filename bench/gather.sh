#!/bin/bash
# One gather round over 100 perfsight-agents on loopback ports (standing
# for 100 hosts): starts them, times rounds with bench-gather, stops them.
# usage: bench/gather.sh BUILDDIR [AGENTS]
set -euo pipefail
build=$1
n=${2:-100}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

base=$((20000 + RANDOM % 20000))
hosts=()
for i in $(seq 0 $((n - 1))); do
    port=$((base + i))
    "$build/utilities/perfsight-agent" --listen "127.0.0.1:$port" \
        --host "hv$i" --sources softnet,cpu,netlink --libvirt-uri none \
        2>"$tmp/agent-$i.log" &
    pids+=($!)
    hosts+=("{\"id\": \"hv$i\", \"agent\": \"http://127.0.0.1:$port\"}")
done
(IFS=,; echo "{\"hosts\": [${hosts[*]}], \"tenants\": []}") > "$tmp/topo.json"
for i in $(seq 0 $((n - 1))); do
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$((base + i))/healthz" >/dev/null && break
        sleep 0.1
    done
done
"$build/bench/bench-gather" "$tmp/topo.json" 20
