#!/bin/bash
# Gather rounds over many perfsight-agents (standing for hosts) on loopback
# ports in a network namespace of the benchmark's own, whose veth pairs
# give each agent its elements (5 per pair, plus backlogs and CPU): starts
# them, times rounds with bench-gather, stops them, removes the namespace.
# usage: bench/gather.sh BUILDDIR [AGENTS [VETH_PAIRS]]
set -euo pipefail
build=$1
n=${2:-100}
pairs=${3:-0}
tmp=$(mktemp -d)
ns=psgather$$
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
for i in $(seq 1 "$pairs"); do
    ip -n "$ns" link add "a$i" type veth peer name "b$i"
done
in_ns() { ip netns exec "$ns" "$@"; }

# Below the kernel's ephemeral ports (32768 and up): a client socket of
# the health checks or the gatherer must not take an agent's port before
# the agent binds it (once in a CI run, one agent of 1000 never answered).
base=$((20000 + RANDOM % (32768 - 20000 - n)))
hosts=()
for i in $(seq 0 $((n - 1))); do
    port=$((base + i))
    # Not through a shell function: $! must be the agent (ip netns exec
    # execs it), so that cleanup stops it.
    ip netns exec "$ns" "$build/utilities/perfsight-agent" \
        --listen "127.0.0.1:$port" --host "hv$i" \
        --sources softnet,cpu,netlink --libvirt-uri none \
        --class='a*=pnic' --class='b*=tap' 2>"$tmp/agent-$i.log" &
    pids+=($!)
    hosts+=("{\"id\": \"hv$i\", \"agent\": \"http://127.0.0.1:$port\"}")
done
(IFS=,; echo "{\"hosts\": [${hosts[*]}], \"tenants\": []}") > "$tmp/topo.json"
for i in $(seq 0 $((n - 1))); do
    for _ in $(seq 100); do
        in_ns curl -sf "http://127.0.0.1:$((base + i))/healthz" >/dev/null \
            && break
        sleep 0.1
    done
done
in_ns "$build/bench/bench-gather" "$tmp/topo.json" 10
