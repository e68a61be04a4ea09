#!/bin/bash
# Benchmark of the PerfSight Open vSwitch patch series: the patched against
# the unpatched userspace datapath, side by side in one run.
#
# 1. Instructions per packet (valgrind --tool=callgrind: instructions, not
#    time, so the load of a shared machine does not matter), for the main
#    thread and for a PMD thread, with batches of one packet (the worst case
#    for per-batch costs) and with full batches of 32.  ovs-vswitchd runs
#    under callgrind (instrumentation off, one profile per thread) with one
#    bridge of the dummy datapath and four pairs of ports, each forwarding to
#    its pair with one OpenFlow rule (in_port=A,actions=output:B):
#      p1 -> p2  dummy: the main thread polls them, one packet a call;
#      p3 -> p4  dummy, options:rx_batch=32: 32 packets a receive call;
#      p5 -> p6  dummy-pmd: the PMD thread (other_config:pmd-cpu-mask=1);
#      p7 -> p8  dummy-pmd, options:rx_batch=32.
#    A packet (or a batch) into each input port warms its flow up.  Then,
#    with instrumentation on:
#      window 0: no traffic, 3 s: the cost c of an idle poll of a port, for
#                each thread, c = Ir(dp_netdev_process_rxq_port) / calls;
#      windows 1-4: N packets into p1, p3, p5, p7 in turn, B per
#                netdev-dummy/receive command (each group forwarded before
#                the next is sent); N is the count the output port sent.
#    Instructions per packet = (Ir - (calls - N / batch) * c) / N, where Ir
#    and calls are the inclusive instructions and the calls of
#    dp_netdev_process_rxq_port (receive, datapath processing and sending,
#    all inside it) in the thread that polls the port, in its window: the
#    idle polls of the other ports are taken out.
#    A second figure leaves out netdev_send() (the dummy device's send
#    function, which the series does not change on its success path): its
#    cost depends on the state of malloc's free lists when the packets are
#    freed, the largest source of run-to-run noise.
#    Datapath flows are kept from expiring (other_config:max-idle) so that
#    the windows have no upcall.  CG_RUNS runs per build alternate; the
#    median and the minimum are reported.
#    "unpatched" is Open vSwitch 3.1.0 with only the series' first patch,
#    which adds options:rx_batch to the dummy device (nothing else; without
#    the option the device is unchanged): the cached unpatched tree, copied,
#    patched and ovs-vswitchd rebuilt (OVS_BASELINE_TREE overrides it).
# 2. Throughput: iperf3 TCP through the userspace datapath between two tap
#    ports whose kernel ends are in network namespaces, ROUNDS rounds of
#    SECONDS_PER_RUN s per build, alternating builds; the median is
#    reported.  (Noisy on a shared machine; reported, not asserted.)
#
# Usage: bench/ovs/bench.sh
#   (environment: N, CG_RUNS, ROUNDS, SECONDS_PER_RUN, OVS_PATCHED_TREE,
#    OVS_UNPATCHED_TREE, OVS_BASELINE_TREE, KEEP_WORK)
# Prints the figures and the patched/unpatched ratios; exits non-zero only
# if a measurement could not be made.
set -euo pipefail
shopt -s inherit_errexit

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
N=${N:-1024}
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

# baseline_tree: prints the tree "unpatched" means for instructions per
# packet: the unpatched tree plus the series' netdev-dummy patch, cached
# next to the other trees under a name that ovs-build does not prune.
baseline_tree() {
    local p hash dir
    p=$(ls "$HERE"/patches/ovs/*-netdev-dummy-Optionally-receive-packets-in-f*.patch)
    hash=$(cat "$p" | sha256sum | cut -c1-16)
    dir=${PERFSIGHT_CACHE:-/var/cache/perfsight}/ovsbench-3.1.0-baseline-$hash
    if [ ! -f "$dir/.built" ]; then
        rm -rf "$dir"
        mkdir -p "$dir/src"
        log "baseline: copying $UNPATCHED into $dir/src"
        tar -C "$UNPATCHED" --exclude=./tests/testsuite.dir -cf - . | tar -C "$dir/src" -xf -
        patch -d "$dir/src" -p1 --forward --batch --silent < "$p" >&2
        log "baseline: make vswitchd/ovs-vswitchd"
        (cd "$dir/src" && nice -n 10 make -j2 vswitchd/ovs-vswitchd) >"$dir/make.log" 2>&1 \
            || { tail -20 "$dir/make.log" >&2; return 1; }
        touch "$dir/.built"
    fi
    echo "$dir/src"
}

# cg_parse DIR: one line per callgrind output file in DIR, "DUMP THREAD
# IS_PMD Ir calls send_Ir": the inclusive instructions and calls of
# dp_netdev_process_rxq_port, summed over its callers, and the inclusive
# instructions of netdev_send (called only from inside it).
cg_parse() {
    python3 - "$1" <<'EOF'
import os, re, sys
target = "dp_netdev_process_rxq_port"
for fname in sorted(os.listdir(sys.argv[1])):
    m = re.match(r"callgrind\.out\.(\d+)-(\d+)$", fname)
    if not m:
        continue
    names = {}
    ir = calls = send = 0
    pending = None     # cfn of the last "calls=" line
    cfn = None
    events = None
    pmd = 0
    with open(os.path.join(sys.argv[1], fname)) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("events:"):
                events = line.split()[1:]
                continue
            m2 = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?$", line)
            if m2:
                if m2.group(3):
                    names[m2.group(2)] = m2.group(3)
                    if m2.group(3) == "pmd_thread_main":
                        pmd = 1
                if m2.group(1) == "cfn":
                    cfn = names.get(m2.group(2))
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
    print(int(m.group(1)), int(m.group(2)), pmd, ir, calls, send)
EOF
}

pkt() {  # pkt IN_PORT: a UDP packet from port IN_PORT
    echo "in_port($1),eth(src=50:54:00:00:00:0$1,dst=50:54:00:00:00:0$(($1 + 1))),eth_type(0x0800),ipv4(src=10.0.0.$1,dst=10.0.0.$(($1 + 1)),proto=17,tos=0,ttl=64,frag=no),udp(src=1000,dst=2000)"
}

# send_packets IN OUT B N: N packets into port pIN, B per command, each
# group forwarded to pOUT before the next is sent; sets SENT.
send_packets() {
    local in=$1 out=$2 b=$3 n=$4 args=() i sent=0 base
    for i in $(seq 1 "$b"); do args+=("$(pkt "$in")" --len 64); done
    base=$(tx_packets "p$out")
    while [ $sent -lt "$n" ]; do
        $APPCTL netdev-dummy/receive "p$in" "${args[@]}" >/dev/null
        sent=$((sent + b))
        wait_tx "p$out" $((base + sent))
    done
    SENT=$(( $(tx_packets "p$out") - base ))
}

# The windows of a run: "input port, output port, packets per receive call,
# thread" (the order of the dumps after the idle one).
WINDOWS=("1 2 1 main" "3 4 32 main" "5 6 1 pmd" "7 8 32 pmd")

# callgrind_run NAME SRC: appends one line per window to $WORK/ipp-NAME:
# "WINDOW IPP IPP_NOSEND".
CG_N=0
callgrind_run() {
    CG_N=$((CG_N + 1))
    local name=$1 src=$2 dir=$WORK/cg-$1-$CG_N
    mkdir -p "$dir/cg"
    start_ovs "$src" "$dir" valgrind --tool=callgrind --instr-atstart=no \
        --separate-threads=yes --callgrind-out-file="$dir/cg/callgrind.out" \
        --dump-instr=no
    $VSCTL set Open_vSwitch . other_config:max-idle=3600000 \
        other_config:pmd-cpu-mask=1
    local vs=(add-br br0 -- set bridge br0 datapath_type=dummy fail-mode=secure)
    local i type opt
    for i in 1 2 3 4 5 6 7 8; do
        type=dummy; opt=()
        [ "$i" -ge 5 ] && type=dummy-pmd
        case $i in 3|7) opt=(options:rx_batch=32) ;; esac
        vs+=(-- add-port br0 "p$i" -- set interface "p$i" type=$type
             ofport_request=$i "${opt[@]}")
    done
    $VSCTL "${vs[@]}"
    for i in 1 3 5 7; do
        $OFCTL add-flow br0 in_port=$i,actions=output:$((i + 1))
    done
    local w in out bs thread
    for w in "${WINDOWS[@]}"; do
        read -r in out bs thread <<<"$w"
        send_packets "$in" "$out" "$bs" "$bs"
    done

    # Window 0: idle.
    $APPCTL dpif-netdev/pmd-stats-clear >/dev/null
    callgrind_control -i on "$VSWITCHD_PID" >/dev/null
    sleep 3
    callgrind_control -d "$VSWITCHD_PID" >/dev/null
    # Windows 1-4.  64 packets a command: two full batches, below the dummy
    # port's receive queue limit (100).
    local sent=()
    for w in "${WINDOWS[@]}"; do
        read -r in out bs thread <<<"$w"
        send_packets "$in" "$out" $(( bs == 1 ? 50 : 64 )) "$N"
        sent+=("$SENT")
        callgrind_control -d "$VSWITCHD_PID" >/dev/null
    done
    $APPCTL dpif-netdev/pmd-stats-show | awk '/^(main|pmd) thread/ {t = $1}
        /(packets received|hits|upcall|lost):/ {print t ":" $0}' \
        | tr -s ' ' | paste -sd';' | sed "s/^/$name windows: /" >&2
    stop_ovs "$dir"

    cg_parse "$dir/cg" > "$dir/cg.txt"
    python3 - "$name" "$dir/cg.txt" "${sent[*]}" "${WINDOWS[@]}" <<'EOF' | tee -a "$WORK/results.txt" >&2
import sys
name, cgfile, sent = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split()]
windows = [w.split() for w in sys.argv[4:]]
rows = {}
for line in open(cgfile):
    dump, tid, pmd, ir, calls, send = map(int, line.split())
    rows[(dump, tid)] = (pmd, ir, calls, send)
# The main thread is thread 1; the PMD thread is the one in pmd_thread_main.
pmd_tids = {t for (d, t), r in rows.items() if r[0]}
assert len(pmd_tids) == 1, "expected one PMD thread, found %s" % pmd_tids
tids = {"main": 1, "pmd": pmd_tids.pop()}
out = open(sys.argv[2] + ".ipp", "w")
for k, (w, n) in enumerate(zip(windows, sent)):
    inp, outp, bs, thread = w
    tid = tids[thread]
    _, ir0, calls0, _ = rows[(1, tid)]
    _, ir, calls, send = rows[(k + 2, tid)]
    c = ir0 / calls0 if calls0 else 0.0
    busy = n // int(bs)
    ipp = (ir - (calls - busy) * c) / n
    label = "%s thread, %s a batch" % (thread, bs)
    print("%-9s %-22s idle poll %.1f Ir; window: %d Ir, %d calls, %d packets"
          " -> %.1f Ir/packet, %.1f without the send function"
          % (name, label, c, ir, calls, n, ipp, ipp - send / n))
    out.write("%s %.3f %.3f\n" % (label.replace(" ", "_"), ipp, ipp - send / n))
EOF
    cat "$dir/cg.txt.ipp" >> "$WORK/ipp-$name"
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
echo "1. instructions per packet (callgrind, dummy datapath, N=$N per window)"
BASELINE=${OVS_BASELINE_TREE:-$(baseline_tree)}
echo "   unpatched: $BASELINE (3.1.0 + the netdev-dummy rx_batch patch)"
for r in $(seq 1 "$CG_RUNS"); do
    callgrind_run unpatched "$BASELINE"
    callgrind_run patched "$PATCHED"
done
cat "$WORK/results.txt"
python3 - "$WORK/ipp-unpatched" "$WORK/ipp-patched" <<'EOF'
import collections, statistics, sys
def load(path):
    d = collections.defaultdict(lambda: ([], []))
    for line in open(path):
        label, ipp, nosend = line.split()
        d[label][0].append(float(ipp))
        d[label][1].append(float(nosend))
    return d
u, p = load(sys.argv[1]), load(sys.argv[2])
for k, what in ((0, "whole path"), (1, "without the device's send function")):
    print("   %s (Ir/packet; median and minimum of %d runs each):"
          % (what, len(next(iter(u.values()))[0])))
    print("     %-24s %10s %10s %8s   %10s %10s %8s"
          % ("", "unpatched", "patched", "ratio", "min unp.", "min pat.", "ratio"))
    for label in u:
        uu, pp = u[label][k], p[label][k]
        a, b = statistics.median(uu), statistics.median(pp)
        c, d = min(uu), min(pp)
        print("     %-24s %10.1f %10.1f %8.4f   %10.1f %10.1f %8.4f"
              % (label.replace("_", " "), a, b, b / a, c, d, d / c))
print("   goal: ratio <= 1.005 (+0.5%)")
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
