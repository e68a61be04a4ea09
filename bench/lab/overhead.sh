#!/bin/bash
# bench/lab/overhead.sh: what PerfSight costs the lab's data plane.
#
# A chain on the lab's virtual host (lab/lib.sh): the client outside ->
# pen (vm1) -> nginx (vm2, the server), every packet through the patched
# Open vSwitch, links unshaped, so that the chain runs as fast as the
# machine's CPU lets it.  The client pipelines 1 MB PUTs for SECONDS per
# run; throughput is what the server's eth0 received.  Four set-ups,
# alternated ROUNDS times so that a drift of the machine's load spreads
# over all of them, the median of each:
#   base     no agent, no preload library
#   agent    perfsight record polling the host's agent every 100 ms
#   preload  pen and nginx under libperfsight-preload.so
#   both     both
# Prints the medians and the ratios to base.  Figures, not pass/fail.
#
# Usage: bench/lab/overhead.sh   (as root; environment ROUNDS, SECONDS_PER_RUN)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${ROUNDS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-4}
"$top/lab/deps"
build=${BUILD:-$top/_build}
"$top/build-aux/build" "$build"
perfsight=$build/utilities/perfsight
preload=$build/preload/.libs/libperfsight-preload.so
ovs_tree=$("$top/build-aux/ovs-build" dir)
out=$(mktemp -d /tmp/perfsight-lab-bench.XXXXXX)
settle=4 window=4
. "$top/lab/lib.sh"
trap 'lab_cleanup; rm -rf "$out"' EXIT

host_up hv1
vm_up hv1 vm1
vm_up hv1 vm2
agent_up hv1 9470
lb=$(addr_of vm1) server=$(addr_of vm2)
nginx_conf "$tmp/vm2/server.conf" "$tmp/vm2/server" "
        listen $server:80;
        root $tmp/vm2/server;
        location / { dav_methods PUT; }"
echo "{\"hosts\": [{\"id\": \"hv1\", \"agent\": \"$(agent_url hv1 9470)\"}], \"tenants\": []}" \
    >"$tmp/topology.json"

# start_chain PRELOAD(0|1): pen and nginx, with or without the library.
start_chain() {
    local env=()
    [ "$1" = 1 ] && env=(LD_PRELOAD="$preload" PERFSIGHT_DIR="$tmp/vm1/shm")
    ip netns exec "$id-vm2" env "${env[@]}" PERFSIGHT_PROG=nginx \
        nginx -c "$tmp/vm2/server.conf" -e "$tmp/vm2/server/error.log" \
        >"$tmp/vm2/nginx.out" 2>&1 &
    chain_pids=($!)
    ip netns exec "$id-vm1" env "${env[@]}" PERFSIGHT_PROG=pen \
        pen -f -r "$lb:8080" "$server:80" >"$tmp/vm1/pen.out" 2>&1 &
    chain_pids+=($!)
    wait_http ext "http://$lb:8080/warm"
}

stop_chain() {
    kill "${chain_pids[@]}" 2>/dev/null || true
    wait "${chain_pids[@]}" 2>/dev/null || true
    ip netns pids "$id-vm2" | xargs -r kill 2>/dev/null || true
    sleep 0.3
}

rx_bytes() {
    inns vm2 cat /sys/class/net/eth0/statistics/rx_bytes
}

# run_once AGENT(0|1) PRELOAD(0|1): Mbit/s into the server.
run_once() {
    start_chain "$2"
    local rec=
    if [ "$1" = 1 ]; then
        ip netns exec "$id-ext" "$perfsight" record --topology "$tmp/topology.json" \
            --interval 0.1 --cacert "$tmp/cert.pem" --token-file "$tmp/token" \
            -o /dev/null 2>/dev/null &
        rec=$!
    fi
    ip netns exec "$id-ext" python3 "$top/tests/middlebox/pipelined-put.py" \
        "$lb" 8080 1000000 >/dev/null 2>&1 &
    local client=$!
    sleep 1
    local b0 b1
    b0=$(rx_bytes)
    sleep "$SECONDS_PER_RUN"
    b1=$(rx_bytes)
    kill "$client" $rec 2>/dev/null || true
    wait "$client" $rec 2>/dev/null || true
    stop_chain
    echo $(( (b1 - b0) * 8 / SECONDS_PER_RUN / 1000000 ))
}

declare -A runs
setups=(base:0:0 agent:1:0 preload:0:1 both:1:1)
for r in $(seq "$ROUNDS"); do
    line="round $r:"
    for s in "${setups[@]}"; do
        IFS=: read -r name a p <<<"$s"
        mbps=$(run_once "$a" "$p")
        runs[$name]="${runs[$name]:-} $mbps"
        line="$line $name $mbps"
    done
    echo "$line Mbit/s"
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
base=$(echo "${runs[base]}" | median)
echo
echo "lab chain throughput (median of $ROUNDS runs of ${SECONDS_PER_RUN}s, Mbit/s):"
for s in "${setups[@]}"; do
    name=${s%%:*}
    m=$(echo "${runs[$name]}" | median)
    printf '  %-8s %6s Mbit/s  ratio to base %s\n' "$name" "$m" \
        "$(awk -v m="$m" -v b="$base" 'BEGIN { printf "%.3f", b ? m / b : 0 }')"
done
