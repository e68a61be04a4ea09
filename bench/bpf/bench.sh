#!/bin/bash
# bench/bpf/bench.sh [PACKETS]: the cost of the drop-reason source's BPF
# program (docs/dropreason.md), side by side with the source off.  Prints
# figures and ratios; asserts nothing about time.
#
# Two namespaces joined by a veth; udp-blast sends PACKETS 64-byte
# datagrams (default 400000) to udp-sink, which either reads them (the
# kernel consumes them: consume_skb, and the tracepoint does not fire) or
# holds a full receive buffer (each one is dropped: kfree_skb with
# SOCKET_RCVBUFF).  Each case runs ROUNDS times (5) with the agent's source off
# (PERFSIGHT_DROPREASON=off) and on, alternating, with the kernel's BPF
# statistics off (they cost two clock reads per run); then once more on
# with them (kernel.bpf_stats_enabled, set for that run and put back) for
# the program's own figures: run_cnt and run_time_ns.  The program runs for
# every drop on the host, other namespaces' too: a few runs in the
# consumed case are those.
# Needs root; AGENT names the agent, BENCH_BIN the directory of udp-blast
# and udp-sink.
set -euo pipefail
: "${AGENT:?AGENT must name perfsight-agent}"
: "${BENCH_BIN:?BENCH_BIN must name the directory of udp-blast and udp-sink}"
packets=${1:-400000}
rounds=${ROUNDS:-5}
NS=psbench$$
NS2=psbenchb$$
P=19595
TMP=$(mktemp -d /tmp/perfsight-bpf-bench.XXXXXX)
stats_before=$(sysctl -n kernel.bpf_stats_enabled)
pids=()

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    ip netns del "$NS" 2>/dev/null || true
    ip netns del "$NS2" 2>/dev/null || true
    sysctl -qw kernel.bpf_stats_enabled="$stats_before"
    rm -rf "$TMP"
}
trap cleanup EXIT

ip netns add "$NS"
ip netns add "$NS2"
ip link add psbe0 netns "$NS" type veth peer name psbe1 netns "$NS2"
for ns in "$NS" "$NS2"; do
    ip netns exec "$ns" ip link set lo up
done
ip netns exec "$NS" sysctl -qw net.ipv6.conf.psbe0.disable_ipv6=1
ip netns exec "$NS2" sysctl -qw net.ipv6.conf.psbe1.disable_ipv6=1
ip netns exec "$NS" ip addr add 10.95.0.1/24 dev psbe0
ip netns exec "$NS2" ip addr add 10.95.0.2/24 dev psbe1
ip netns exec "$NS" ip link set psbe0 up
ip netns exec "$NS2" ip link set psbe1 up
ip netns exec "$NS" ping -c1 -W2 -q 10.95.0.2 >/dev/null

# start_agent on|off: the agent in the receiver's namespace, where the
# drops are (the program counts its own namespace's), its program's id
# (when on) in $prog.
prog=
start_agent() {
    local before
    before=$(bpftool prog show -j | jq '[.[] | select(.name == "ps_kfree_skb") | .id]')
    if [ "$1" = off ]; then
        PERFSIGHT_DROPREASON=off ip netns exec "$NS2" "$AGENT" \
            --libvirt-uri=none --sources=netlink --listen=127.0.0.1:$P \
            >"$TMP/agent.log" 2>&1 &
    else
        ip netns exec "$NS2" "$AGENT" --libvirt-uri=none --sources=netlink \
            --listen=127.0.0.1:$P >"$TMP/agent.log" 2>&1 &
    fi
    agent=$!
    pids+=($agent)
    for _ in $(seq 100); do
        ip netns exec "$NS2" curl -sf -o /dev/null http://127.0.0.1:$P/healthz \
            && break
        sleep 0.1
    done
    prog=
    if [ "$1" = on ]; then
        prog=$(bpftool prog show -j | jq --argjson b "$before" \
            '[.[] | select(.name == "ps_kfree_skb" and (.id as $i | $b | index($i) | not)) | .id] | max')
        [ "$prog" != null ] || { echo "bench: the program did not load"; cat "$TMP/agent.log"; exit 1; }
    fi
}
stop_agent() {
    kill "$agent"
    wait "$agent" 2>/dev/null || true
    pids=("${pids[@]/$agent}")
}
prog_stat() {
    bpftool prog show id "$1" -j | jq -r '"\(.run_cnt // 0) \(.run_time_ns // 0)"'
}

# run CASE MODE: one run; prints "PPS RUNS NS" (the program's runs and
# time during it, 0 0 when off).
run() {
    local c0=0 t0=0 c1=0 t1=0 sent ns
    start_agent "${2%+stats}"
    [ "$2" = on+stats ] && sysctl -qw kernel.bpf_stats_enabled=1
    ip netns exec "$NS2" curl -sf -o /dev/null http://127.0.0.1:$P/v1/records
    [ -n "$prog" ] && read -r c0 t0 < <(prog_stat "$prog")
    read -r sent ns < <(ip netns exec "$NS" "$BENCH_BIN/udp-blast" \
                        10.95.0.2 9000 "$packets")
    [ -n "$prog" ] && read -r c1 t1 < <(prog_stat "$prog")
    sysctl -qw kernel.bpf_stats_enabled="$stats_before"
    stop_agent
    echo "$(( sent * 1000000000 / ns )) $(( c1 - c0 )) $(( t1 - t0 ))"
}

median() { sort -n | sed -n "$(( (rounds + 1) / 2 ))p"; }

for case in consumed dropped; do
    mode=read
    [ $case = dropped ] && mode=hold
    ip netns exec "$NS2" "$BENCH_BIN/udp-sink" 9000 $mode >"$TMP/sink.out" &
    sink=$!
    pids+=($sink)
    for _ in $(seq 50); do grep -q ready "$TMP/sink.out" && break; sleep 0.1; done
    : >"$TMP/off"; : >"$TMP/on"; : >"$TMP/stats"
    for _ in $(seq "$rounds"); do
        run $case off >>"$TMP/off"
        run $case on >>"$TMP/on"
        run $case on+stats >>"$TMP/stats"
    done
    kill "$sink"; wait "$sink" 2>/dev/null || true
    pids=("${pids[@]/$sink}")
    off=$(cut -d' ' -f1 "$TMP/off" | median)
    on=$(cut -d' ' -f1 "$TMP/on" | median)
    runs=$(awk '{ r += $2 } END { print r }' "$TMP/stats")
    rns=$(awk '{ t += $3 } END { print t }' "$TMP/stats")
    sent=$((packets * rounds))
    printf '%-9s %9s pps off, %9s pps on (medians of %s): on/off %.3f\n' \
        "$case" "$off" "$on" "$rounds" "$(echo "$on / $off" | bc -l)"
    # The fewest runs of one round: the program runs for every drop on
    # the host, and other namespaces' drops add to some rounds.
    least=$(cut -d' ' -f2 "$TMP/stats" | sort -n | head -1)
    printf '%-9s program runs per packet sent %.4f (fewest in a round: %.4f)' "" \
        "$(echo "$runs / $sent" | bc -l)" "$(echo "$least / $packets" | bc -l)"
    if [ "$runs" -gt 0 ]; then
        per=$(echo "$rns / $runs" | bc -l)
        printf ', %.0f ns per run (bpf_stats run_time_ns/run_cnt)' "$per"
        # What the run time alone predicts for the rate: each packet pays
        # 1e9/off ns without the program, that plus its runs with it.
        printf ';
%-9s rate on/off predicted from the run time %.3f' "" \
            "$(echo "1 / (1 + $per * ($runs / $sent) * $off / 1000000000)" | bc -l)"
    fi
    echo
    echo "          runs (pps off | pps on | pps on with bpf_stats, program runs, ns):"
    paste -d'|' "$TMP/off" "$TMP/on" "$TMP/stats" | sed 's/^/            /'
done
