#!/bin/bash
# Benchmark of the PerfSight Open vSwitch patch series: the patched against
# the unpatched userspace datapath, side by side in one run.
#
# 1. Instructions per packet (valgrind --tool=callgrind: instructions, not
#    time, so the load of a shared machine does not matter).  ovs-vswitchd runs under callgrind with instrumentation off;
#    a bridge with two dummy ports (datapath_type=dummy, one OpenFlow rule
#    in_port=1,actions=output:2) is set up and one packet warms the flow up.
#    Then, with instrumentation on:
#      window 1: no traffic, 3 s: the cost of an idle poll of a port,
#                c = Ir(dp_netdev_process_rxq_port) / calls;
#      window 2: N packets injected into p1 with netdev-dummy/receive (B per
#                command, each group forwarded before the next is sent) and
#                forwarded to p2; N is the count p2 actually sent.
#    Instructions per packet = (Ir - (calls - N) * c) / N, where Ir and
#    calls are the inclusive instructions and the number of calls of
#    dp_netdev_process_rxq_port (receive, datapath processing and sending,
#    all inside it) in window 2: the idle polls of the other ports are
#    taken out.
#    A second figure leaves out netdev_send() (the dummy device's send
#    function, which the series does not change on its success path): its
#    cost depends on the state of malloc's free lists when the packets are
#    freed, the largest source of run-to-run noise.
#    The dummy port hands the datapath one packet per receive call, so this
#    is the worst case for per-batch costs.  Datapath flows are kept from
#    expiring (other_config:max-idle) so that the window has no upcall; the
#    upcalls and EMC/megaflow hits in the window are printed.  Lock
#    contention and other timing-dependent paths make single runs vary by
#    about +-1%, so CG_RUNS runs per build alternate and the median and
#    minimum are reported.
# 2. Throughput: iperf3 TCP through the userspace datapath between two tap
#    ports whose kernel ends are in network namespaces, ROUNDS rounds of
#    SECONDS_PER_RUN s per build, alternating builds; the median is
#    reported.  (Noisy on a shared machine; reported, not asserted.)
#
# Usage: bench/ovs/bench.sh
#   (environment: N, B, CG_RUNS, ROUNDS, SECONDS_PER_RUN, OVS_PATCHED_TREE,
#    OVS_UNPATCHED_TREE, KEEP_WORK)
# Prints the figures and the patched/unpatched ratios; exits non-zero only
# if a measurement could not be made.
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=${N:-5000}
B=${B:-50}
ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-4}
CG_RUNS=${CG_RUNS:-3}

# OVS_PATCHED_TREE / OVS_UNPATCHED_TREE: use these build trees instead.
PATCHED=${OVS_PATCHED_TREE:-$("$HERE/build-aux/ovs-build" dir)}
UNPATCHED=${OVS_UNPATCHED_TREE:-$("$HERE/build-aux/ovs-build" unpatched-dir)}
WORK=$(mktemp -d /tmp/perfsight-ovs-bench.XXXXXX)
PIDS=()
NETNS=()
DEVS=()
# The netdev datapath's own tap, shared by every ovs-vswitchd of that
# datapath on the host: deleted at exit only if this run made it.
ip link show ovs-netdev >/dev/null 2>&1 || DEVS+=(ovs-netdev)

cleanup() {
    local rc=$?
    set +e
    for pid in "${PIDS[@]}"; do
        kill -CONT "$pid" 2>/dev/null
        kill "$pid" 2>/dev/null
    done
    sleep 0.5
    for pid in "${PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null
    done
    for ns in "${NETNS[@]}"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
        ip netns del "$ns" 2>/dev/null
    done
    for dev in "${DEVS[@]}"; do
        ip link del "$dev" 2>/dev/null
    done
    [ -n "${KEEP_WORK:-}" ] && echo "bench: kept $WORK" >&2 || rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }

# start_ovs SRC DIR [WRAPPER...]: ovsdb-server and ovs-vswitchd (under
# WRAPPER, e.g. valgrind) with their run directory DIR.  Sets VSCTL, APPCTL,
# OFCTL, VSWITCHD_PID.
start_ovs() {
    local src=$1 dir=$2; shift 2
    mkdir -p "$dir"
    export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir
    export OVS_PKGDATADIR=$src
    "$src/ovsdb/ovsdb-tool" create "$dir/conf.db" "$src/vswitchd/vswitch.ovsschema"
    "$src/ovsdb/ovsdb-server" --detach --no-chdir --pidfile="$dir/ovsdb-server.pid" \
        --log-file="$dir/ovsdb-server.log" --remote="punix:$dir/db.sock" \
        --unixctl="$dir/ovsdb-server.ctl" "$dir/conf.db" 2>/dev/null
    PIDS+=("$(cat "$dir/ovsdb-server.pid")")
    VSCTL="$src/utilities/ovs-vsctl --db=unix:$dir/db.sock --timeout=120"
    OFCTL="$src/utilities/ovs-ofctl"
    $VSCTL --no-wait init
    "$@" "$src/vswitchd/ovs-vswitchd" --enable-dummy --disable-system \
        --disable-system-route --no-chdir --pidfile="$dir/ovs-vswitchd.pid" \
        --log-file="$dir/ovs-vswitchd.log" "unix:$dir/db.sock" \
        >"$dir/vswitchd.out" 2>&1 &
    VSWITCHD_PID=$!
    PIDS+=("$VSWITCHD_PID")
    local i
    for i in $(seq 1 600); do
        [ -S "$dir/ovs-vswitchd.$VSWITCHD_PID.ctl" ] && break
        kill -0 "$VSWITCHD_PID" 2>/dev/null || { cat "$dir/vswitchd.out" >&2; return 1; }
        sleep 0.1
    done
    APPCTL="$src/utilities/ovs-appctl --timeout=120 -t $dir/ovs-vswitchd.$VSWITCHD_PID.ctl"
    $APPCTL version >/dev/null
}

stop_ovs() {
    local dir=$1
    # --cleanup: delete the bridges and datapaths, and so their taps (which
    # a plain exit leaves behind, persistent).
    $APPCTL exit --cleanup >/dev/null 2>&1 || true
    wait "$VSWITCHD_PID" 2>/dev/null || true
    kill "$(cat "$dir/ovsdb-server.pid")" 2>/dev/null || true
}

# tx_packets PORT: packets the dummy port has sent.
tx_packets() {
    $OFCTL dump-ports br0 "$1" | sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p'
}

wait_tx() {  # wait_tx PORT COUNT
    local i
    for i in $(seq 1 1200); do
        [ "$(tx_packets "$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    log "timeout waiting for $2 packets on $1 (have $(tx_packets "$1"))"
    return 1
}

# cg_sum FILE: "Ir calls send_Ir" from a callgrind output file: the
# inclusive instructions and calls of dp_netdev_process_rxq_port, summed
# over its callers, and the inclusive instructions of netdev_send (called
# only from inside it).
cg_sum() {
    python3 - "$1" <<'EOF'
import re, sys
names = {}
target = "dp_netdev_process_rxq_port"
ir = calls = send = 0
pending = None     # cfn of the last "calls=" line
cfn = None
events = None
with open(sys.argv[1]) as f:
    for line in f:
        line = line.rstrip("\n")
        if line.startswith("events:"):
            events = line.split()[1:]
            continue
        m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?$", line)
        if m:
            if m.group(3):
                names[m.group(2)] = m.group(3)
            if m.group(1) == "cfn":
                cfn = names.get(m.group(2))
            continue
        if line.startswith("calls="):
            pending = (cfn, int(line[6:].split()[0]))
            continue
        if pending is not None:
            fields = line.split()
            cost = int(fields[1]) if len(fields) > 1 else 0
            if pending[0] == target:
                calls += pending[1]
                ir += cost
            elif pending[0] == "netdev_send":
                send += cost
            pending = None
assert events and events[0] == "Ir", events
print(ir, calls, send)
EOF
}

PKT='in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1000,dst=2000)'

# callgrind_ipp NAME SRC: prints instructions per packet.
CG_N=0
callgrind_ipp() {
    CG_N=$((CG_N + 1))
    local name=$1 src=$2 dir=$WORK/cg-$1-$CG_N
    start_ovs "$src" "$dir" valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$dir/callgrind.out" --dump-instr=no
    $VSCTL set Open_vSwitch . other_config:max-idle=3600000
    $VSCTL add-br br0 -- set bridge br0 datapath_type=dummy fail-mode=secure \
        -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 \
        -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2
    $OFCTL add-flow br0 in_port=1,actions=output:2
    $APPCTL netdev-dummy/receive p1 "$PKT" --len 64 >/dev/null
    wait_tx p2 1

    # Window 1: idle.
    $APPCTL dpif-netdev/pmd-stats-clear >/dev/null
    callgrind_control -i on "$VSWITCHD_PID" >/dev/null
    sleep 3
    callgrind_control -d "$VSWITCHD_PID" >/dev/null
    # Window 2: N packets, B at a time (the dummy port's receive queue
    # holds 100), each group forwarded before the next is injected.
    local args=() i sent=0 base
    for i in $(seq 1 "$B"); do args+=("$PKT" --len 64); done
    base=$(tx_packets p2)
    while [ $sent -lt "$N" ]; do
        $APPCTL netdev-dummy/receive p1 "${args[@]}" >/dev/null
        sent=$((sent + B))
        wait_tx p2 $((base + sent))
    done
    callgrind_control -d "$VSWITCHD_PID" >/dev/null
    sent=$(( $(tx_packets p2) - base ))
    $APPCTL dpif-netdev/pmd-stats-show | awk '/^main thread/ {m = 1}
        m && /(packets received|hits|upcall|lost):/' \
        | tr -s ' ' | paste -sd';' | sed "s/^/$name window: /" >&2
    stop_ovs "$dir"

    local files
    files=$(ls "$dir"/callgrind.out.* 2>/dev/null | sort -t. -k3 -n)
    local f1 f2
    f1=$(echo "$files" | sed -n 1p)
    f2=$(echo "$files" | sed -n 2p)
    [ -n "$f1" ] && [ -n "$f2" ] || { log "callgrind dumps missing in $dir"; ls "$dir" >&2; return 1; }
    read -r ir1 calls1 send1 < <(cg_sum "$f1")
    read -r ir2 calls2 send2 < <(cg_sum "$f2")
    python3 - "$name" "$ir1" "$calls1" "$ir2" "$calls2" "$send2" "$sent" <<'EOF' | tee -a "$WORK/results.txt" >&2
import sys
name = sys.argv[1]
ir1, calls1, ir2, calls2, send2, n = map(int, sys.argv[2:])
c = ir1 / calls1 if calls1 else 0.0
ipp = (ir2 - (calls2 - n) * c) / n
print("%-9s idle poll %.1f Ir (%d calls); window: %d Ir, %d calls, %d packets"
      " -> %.1f instructions/packet, %.1f without the send function"
      % (name, c, calls1, ir2, calls2, n, ipp, ipp - send2 / n))
EOF
    read -r IPP IPP_NOSEND < <(python3 -c 'import sys; ir1,c1,ir2,c2,s2,n=map(int,sys.argv[1:]); c=ir1/c1 if c1 else 0; x=(ir2-(c2-n)*c)/n; print("%.3f %.3f" % (x, x - s2/n))' \
        "$ir1" "$calls1" "$ir2" "$calls2" "$send2" "$sent")
}

# setup_taps: a netdev-datapath bridge with two tap ports whose kernel
# ends are in two new namespaces; sets NS_A, NS_B (10.254.0.1, .2).
setup_taps() {
    local id=$(( (RANDOM % 9000) + 1000 ))
    local p0=psb0-$id p1=psb1-$id i mac
    NS_A=ps-bench-a-$id
    NS_B=ps-bench-b-$id
    DEVS+=("$p0" "$p1")
    # A bridge name of its own: the previous run's "br0" tap may linger.
    local br=psbr-$id
    DEVS+=("$br")
    $VSCTL add-br "$br" -- set bridge "$br" datapath_type=netdev \
        -- add-port "$br" "$p0" -- set interface "$p0" type=tap \
        -- add-port "$br" "$p1" -- set interface "$p1" type=tap
    for i in $(seq 1 300); do
        ip link show "$p0" >/dev/null 2>&1 && ip link show "$p1" >/dev/null 2>&1 && break
        sleep 0.1
    done
    ip netns add "$NS_A"; NETNS+=("$NS_A")
    ip netns add "$NS_B"; NETNS+=("$NS_B")
    ip link set "$p0" netns "$NS_A"
    ip link set "$p1" netns "$NS_B"
    ip -n "$NS_A" addr add 10.254.0.1/24 dev "$p0"
    ip -n "$NS_B" addr add 10.254.0.2/24 dev "$p1"
    ip -n "$NS_A" link set "$p0" up
    ip -n "$NS_B" link set "$p1" up
    ip netns exec "$NS_A" ping -c 2 -i 0.5 -W 20 10.254.0.2 >/dev/null
    mac=$(ip -n "$NS_B" -o link show "$p1" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
    ip -n "$NS_A" neigh replace 10.254.0.2 lladdr "$mac" dev "$p0"
}

# iperf_gbps NAME SRC: one iperf3 run through the userspace datapath; sets
# GBPS.
IPERF_N=0
iperf_gbps() {
    local name=$1 src=$2 i spid
    IPERF_N=$((IPERF_N + 1))
    local dir=$WORK/ip-$name-$IPERF_N
    start_ovs "$src" "$dir"
    setup_taps
    timeout 120 ip netns exec "$NS_B" iperf3 -s -1 -p 5202 >/dev/null 2>&1 &
    spid=$!
    for i in $(seq 1 100); do
        ip netns exec "$NS_B" ss -ltn 2>/dev/null | grep -q ':5202' && break
        sleep 0.1
    done
    timeout 120 ip netns exec "$NS_A" iperf3 -c 10.254.0.2 -p 5202 \
        -t "$SECONDS_PER_RUN" -J > "$dir/iperf.json"
    wait "$spid" 2>/dev/null || true
    stop_ovs "$dir"
    ip netns del "$NS_A"
    ip netns del "$NS_B"
    GBPS=$(python3 -c 'import json,sys; print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' \
        "$dir/iperf.json")
}

echo "PerfSight OVS benchmark: patched $PATCHED vs unpatched $UNPATCHED"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo
echo "1. instructions per packet (callgrind, dummy datapath, N=$N, $B packets per command)"
IU=()
IP=()
JU=()
JP=()
for r in $(seq 1 "$CG_RUNS"); do
    callgrind_ipp unpatched "$UNPATCHED"; IU+=("$IPP"); JU+=("$IPP_NOSEND")
    callgrind_ipp patched "$PATCHED"; IP+=("$IPP"); JP+=("$IPP_NOSEND")
done
cat "$WORK/results.txt"
python3 - "${IU[*]}" "${IP[*]}" "${JU[*]}" "${JP[*]}" <<'EOF'
import statistics, sys
u, p, ju, jp = ([float(x) for x in a.split()] for a in sys.argv[1:5])
for label, uu, pp in (("all", u, p), ("without the device's send function", ju, jp)):
    print("   %s:" % label)
    for what, f in (("median", statistics.median), ("minimum", min)):
        a, b = f(uu), f(pp)
        print("     %-7s of %d runs: unpatched %.1f, patched %.1f instructions/packet:"
              " %+.1f, ratio %.4f (%+.2f%%; goal <= +0.5%%)"
              % (what, len(uu), a, b, b - a, b / a, (b / a - 1) * 100))
EOF

echo
echo "2. throughput (iperf3 TCP, tap <-> userspace datapath <-> tap, $ROUNDS x ${SECONDS_PER_RUN}s per build)"
TU=()
TP=()
for r in $(seq 1 "$ROUNDS"); do
    iperf_gbps unpatched "$UNPATCHED"; TU+=("$GBPS")
    iperf_gbps patched "$PATCHED"; TP+=("$GBPS")
    echo "   round $r: unpatched ${TU[-1]} Gbit/s, patched ${TP[-1]} Gbit/s"
done
python3 - "${TU[*]}" "${TP[*]}" <<'EOF'
import statistics, sys
u = statistics.median(map(float, sys.argv[1].split()))
p = statistics.median(map(float, sys.argv[2].split()))
print("   median: unpatched %.3f Gbit/s, patched %.3f Gbit/s, ratio %.3f"
      % (u, p, p / u if u else float("nan")))
EOF
