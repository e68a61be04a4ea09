#!/bin/bash
# The agent's CPU cost (issue 9), side by side in one run: this agent, an
# older agent (OLD_AGENT, optional: main's, built in a second build
# directory) and prometheus-node-exporter (Debian's package), each in the
# same network namespace of 256 and then 1,024 net devices, each polled
# every 100 ms on a kept connection at the same time: the agents for
# /v1/records and then for /metrics, the node exporters for /metrics (one
# with Debian's default collectors, one with only the net devices').  The
# CPU of each is its user+system time from /proc/PID/stat over the same
# SECONDS (default 60; .ci/agent.sh gives fewer).  The QMP source is
# active if a patched QEMU is cached (QEMU=none: not); the OVS source is
# not (it would need ovs-vswitchd and ovsdb-server set up).  Figures are
# printed, nothing is asserted.  Root is needed.
#
# usage: AGENT=... [OLD_AGENT=...] [NODE_EXPORTER=...] \
#            bench/agent/cpu.sh [SECONDS]
set -euo pipefail
: "${AGENT:?AGENT must name an (optimised) perfsight-agent}"
NODE_EXPORTER=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
OLD_AGENT=${OLD_AGENT:-}
# The patched QEMU (build-aux/qemu-build), for the QMP source; none: no QMP.
QEMU=${QEMU:-}
if [ -z "$QEMU" ]; then
    for d in $(ls -dt "${PERFSIGHT_CACHE:-/var/cache/perfsight}"/qemu-*/build \
               2>/dev/null); do
        case $d in *-unpatched/build) continue ;; esac
        if [ -x "$d/qemu-system-x86_64" ]; then
            QEMU=$d/qemu-system-x86_64
            break
        fi
    done
fi
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-60}
NS=psacpu$$
NS2=psacpup$$
pids=()
cmds=$(mktemp)
tmp=$(mktemp -d)

cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    ip netns del "$NS" 2>/dev/null || true
    ip netns del "$NS2" 2>/dev/null || true
    [ -f "$tmp/qemu.pid" ] && kill "$(cat "$tmp/qemu.pid")" 2>/dev/null
    rm -rf "$cmds" "$tmp"
}
trap cleanup EXIT

[ -x "$NODE_EXPORTER" ] || {
    echo "cpu.sh: $NODE_EXPORTER is missing (apt-get install" \
         "prometheus-node-exporter)" >&2
    exit 1
}

ip netns add "$NS"
ip netns add "$NS2"
ip netns exec "$NS" ip link set lo up

# Grows the namespace's veths to $1 (psd0, psd1, ...; peers in $NS2).
have=0
grow() {
    while [ $have -lt "$1" ]; do
        echo "link add psd$have type veth peer netns $NS2 name psp$have"
        echo "link set psd$have up"
        have=$((have + 1))
    done >"$cmds"
    ip -n "$NS" -batch "$cmds"
}

# User+system CPU of process $1 in clock ticks.
ticks() {
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

wait_http() {
    for _ in $(seq 100); do
        ip netns exec "$NS" curl -sf -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "cpu.sh: nothing answers $1" >&2
    exit 1
}

# The programs: name, port, pid.
names=() ports=()
start_agent() {
    mkdir -p "$tmp/qmp-$1"
    ip netns exec "$NS" "$2" --listen=127.0.0.1:$3 --libvirt-uri=none \
        --class='psd*=pnic' --host=bench --qmp-dir="$tmp/qmp-$1" \
        2>/dev/null &
    pids+=($!) names+=("$1") ports+=("$3")
    # The wrapper of an uninstalled build execs the real program: same pid.
    wait_http "http://127.0.0.1:$3/healthz"
}

# One QEMU with a tap, its vCPU stopped (-S): QMP answers, nothing runs.
# Each agent has a QMP socket of its own (a QMP server takes one client).
qmp=none
if [ -n "$QEMU" ] && [ "$QEMU" != none ]; then
    mkdir -p "$tmp/qmp-agent" "$tmp/qmp-old-agent"
    ip netns exec "$NS" "$QEMU" -name vmb -machine pc -accel tcg -m 64 -S \
        -display none -vga none -no-user-config -nodefaults -serial none \
        -netdev tap,id=net0,ifname=psacpt0,script=no,downscript=no \
        -device virtio-net-pci,netdev=net0,id=nic0,romfile= \
        -qmp "unix:$tmp/qmp-agent/vmb.sock,server=on,wait=off" \
        -qmp "unix:$tmp/qmp-old-agent/vmb.sock,server=on,wait=off" \
        -pidfile "$tmp/qemu.pid" -daemonize >"$tmp/qemu.log" 2>&1 \
        || { echo "cpu.sh: QEMU did not start" >&2; cat "$tmp/qemu.log"
             exit 1; }
    ip -n "$NS" link set psacpt0 up
    qmp="one QEMU (psacpt0, stopped vCPU)"
fi

tck=$(getconf CLK_TCK)
echo "agent CPU when polled every 100 ms for $seconds s (veths; $(nproc)" \
     "CPUs; Linux $(uname -r)): user+system from /proc/PID/stat;" \
     "QMP source: $qmp; OVS source: not active (no ovs-vswitchd)"
for n in 256 1024; do
    grow $n
    pids=() names=() ports=()
    start_agent agent "$AGENT" 19520
    [ -n "$OLD_AGENT" ] && start_agent old-agent "$OLD_AGENT" 19521
    # Debian's defaults, and only the collector of net devices.
    ip netns exec "$NS" "$NODE_EXPORTER" \
        --web.listen-address=127.0.0.1:19522 >/dev/null 2>&1 &
    pids+=($!) names+=(node-exporter) ports+=(19522)
    ip netns exec "$NS" "$NODE_EXPORTER" --collector.disable-defaults \
        --collector.netdev --web.listen-address=127.0.0.1:19523 \
        >/dev/null 2>&1 &
    pids+=($!) names+=(node-exp-netdev) ports+=(19523)
    wait_http http://127.0.0.1:19522/metrics
    wait_http http://127.0.0.1:19523/metrics

    for path in /v1/records /metrics; do
        declare -A t0=() out=()
        pollers=()
        w0=$(date +%s.%N)
        for i in "${!pids[@]}"; do
            t0[$i]=$(ticks "${pids[$i]}")
            p=$path
            case ${names[$i]} in node-exp*) p=/metrics ;; esac
            out[$i]=$(mktemp)
            ip netns exec "$NS" python3 "$here/poll.py" \
                "http://127.0.0.1:${ports[$i]}$p" 0.1 "$seconds" \
                >"${out[$i]}" &
            pollers+=($!)
        done
        wait "${pollers[@]}"
        w1=$(date +%s.%N)
        echo " $n devices, agents polled for $path:"
        declare -A pct=() us=()
        for i in "${!pids[@]}"; do
            t=$(( $(ticks "${pids[$i]}") - ${t0[$i]} ))
            read -r reqs size <"${out[$i]}"
            rm -f "${out[$i]}"
            pct[${names[$i]}]=$(awk -v t=$t -v k=$tck -v w0=$w0 -v w1=$w1 \
                'BEGIN { printf "%.3f", 100 * t / k / (w1 - w0) }')
            us[${names[$i]}]=$(awk -v t=$t -v k=$tck -v reqs=$reqs \
                'BEGIN { printf "%.0f", 1e6 * t / k / reqs }')
            printf "  %-15s %7.3f %% of one CPU (%4d requests of %7d bytes," \
                "${names[$i]}" "${pct[${names[$i]}]}" "$reqs" "$size"
            printf " %6d us per request)\n" "${us[${names[$i]}]}"
        done
        for other in node-exporter node-exp-netdev old-agent; do
            [ -n "${pct[$other]:-}" ] || continue
            awk -v a=${pct[agent]} -v b=${pct[$other]} -v o=$other \
                -v ua=${us[agent]} -v ub=${us[$other]} 'BEGIN {
                printf "  ratio agent / %-15s %.3f of CPU, %.3f per request\n",
                    o, (b > 0 ? a / b : 0), (ub > 0 ? ua / ub : 0) }'
        done
        unset t0 out pct us
    done
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    pids=()
done
