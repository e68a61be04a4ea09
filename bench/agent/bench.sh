#!/bin/bash
# perfsight-agent's benchmarks, in a network namespace of their own:
#   1. the time of one snapshot of 16, 128 and 256 net devices (veths,
#      or dummies where the kernel has them, classified as pNICs: three
#      elements each; veth peers live in a second namespace), and of the whole
#      host (every source, without HTTP);   goal: <= 100 us for 256
#   2. the agent's CPU time while it is polled every 100 ms over HTTP for
#      /v1/records and for /metrics, with 16 and 256 devices (and for
#      /healthz, which samples nothing: the cost of HTTP alone);
#      goal: <= 0.1 %
# Figures are printed; nothing is asserted about time.  Root is needed.
#
# usage: AGENT=... BENCH_SNAPSHOT=... bench/agent/bench.sh [POLL_SECONDS]
set -euo pipefail
: "${AGENT:?AGENT must name an (optimised) perfsight-agent}"
: "${BENCH_SNAPSHOT:?BENCH_SNAPSHOT must name bench-snapshot}"
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-20}
NS=psbench$$
NS2=psbenchp$$
agent_pid=
cmds=$(mktemp)

cleanup() {
    [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid"
    ip netns del "$NS" 2>/dev/null || true
    ip netns del "$NS2" 2>/dev/null || true
    rm -f "$cmds"
}
trap cleanup EXIT

ip netns add "$NS"
ip netns add "$NS2"
ip netns exec "$NS" ip link set lo up
if ip -n "$NS" link add psdtest type dummy 2>/dev/null; then
    ip -n "$NS" link del psdtest
    kind="type dummy"
else
    kind="type veth peer netns $NS2 name"
fi

# Grows the namespace's devices to $1 (psd0, psd1, ...).
have=0
grow() {
    : >"$cmds"
    {
        while [ $have -lt "$1" ]; do
            if [ "$kind" = "type dummy" ]; then
                echo "link add psd$have $kind"
            else
                echo "link add psd$have $kind psp$have"
            fi
            echo "link set psd$have up"
            have=$((have + 1))
        done
    } >"$cmds"
    ip -n "$NS" -batch "$cmds"
}

command -v bc >/dev/null || { echo "bench.sh: bc is needed"; exit 1; }
# The agent's CPU time in ns (first field of /proc/PID/schedstat).
cpu_ns() {
    awk '{ print $1 }' /proc/$1/task/*/schedstat | paste -sd+ | bc
}
poll() {
    ip netns exec "$NS" "$AGENT" --listen=127.0.0.1:19500 \
        --libvirt-uri=none --class='psd*=pnic' --host=bench 2>/dev/null &
    agent_pid=$!
    for i in $(seq 100); do
        ip netns exec "$NS" curl -sf -o /dev/null \
            http://127.0.0.1:19500/healthz && break
        sleep 0.1
    done
    # The wrapper of an uninstalled build execs the real program: same pid.
    for path in /healthz /v1/records /metrics; do
        local t0 t1 w0 w1 n size
        t0=$(cpu_ns $agent_pid)
        w0=$(date +%s.%N)
        read -r n size < <(ip netns exec "$NS" python3 "$here/poll.py" \
            "http://127.0.0.1:19500$path" 0.1 "$seconds")
        w1=$(date +%s.%N)
        t1=$(cpu_ns $agent_pid)
        awk -v t=$((t1 - t0)) -v w0=$w0 -v w1=$w1 -v n=$n -v size=$size \
            -v path=$path 'BEGIN {
            cpu = t / 1e9; wall = w1 - w0;
            printf "  %-12s %4d requests of %6d bytes: %.3f s CPU in %.1f s = %.3f %% of one CPU (%.0f us per request)\n",
                path, n, size, cpu, wall, 100 * cpu / wall, 1e6 * cpu / n }'
    done
    kill $agent_pid
    wait $agent_pid || true
    agent_pid=
}

echo "snapshot time and agent CPU ($kind devices; $(nproc) CPUs;" \
     "Linux $(uname -r))"
for n in 16 128 256; do
    grow $n
    echo " $n devices: snapshot (median of 2000 samples)"
    ip netns exec "$NS" "$BENCH_SNAPSHOT" 'psd*' 2000
    if [ $n != 128 ]; then
        echo " $n devices: agent CPU when polled every 100 ms for ${seconds} s"
        poll
    fi
done
