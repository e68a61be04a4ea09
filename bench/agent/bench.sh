#!/bin/bash
# perfsight-agent's benchmarks, in a network namespace of their own:
#   1. the time of one snapshot of 16, 128 and 256 net devices (veths,
#      or dummies where the kernel has them, classified as pNICs: three
#      elements each; veth peers live in a second namespace), and of the whole
#      host (every source, without HTTP);   goal: <= 100 us for 256
#   2. bench/agent/cpu.sh: the agent's CPU while it is polled every 100 ms
#      over HTTP for /v1/records and for /metrics, at 256 and 1,024
#      devices, next to prometheus-node-exporter's (and OLD_AGENT's, if
#      given) over the same POLL_SECONDS;  goal: <= 0.1 % at 256, 0.3 % at
#      1,024
# Figures are printed; nothing is asserted about time.  Root is needed.
#
# usage: AGENT=... BENCH_SNAPSHOT=... bench/agent/bench.sh [POLL_SECONDS]
set -euo pipefail
: "${AGENT:?AGENT must name an (optimised) perfsight-agent}"
: "${BENCH_SNAPSHOT:?BENCH_SNAPSHOT must name bench-snapshot}"
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-60}
NS=psbench$$
NS2=psbenchp$$
cmds=$(mktemp)

cleanup() {
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

echo "snapshot time ($kind devices; $(nproc) CPUs; Linux $(uname -r))"
for n in 16 128 256; do
    grow $n
    echo " $n devices: snapshot (median of 2000 samples)"
    ip netns exec "$NS" "$BENCH_SNAPSHOT" 'psd*' 2000
done
cleanup
trap - EXIT
bash "$here/cpu.sh" "$seconds"
