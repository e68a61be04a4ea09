#!/bin/bash
# bench.sh: cost of the PerfSight counters on QEMU's tap -> virtio-net path,
# patched against unpatched, side by side in one run.
#
#  1. Instructions per packet (valgrind --tool=callgrind; this machine has
#     no hardware performance counters for perf): QEMU runs with
#     -accel qtest, a legacy virtio-net-pci on a tap in a private network
#     namespace, and vnet-driver.py acting as the guest driver (it keeps
#     the receive queue full of buffers).  A UDP flood goes into the tap.
#     Callgrind collects only inside tap_send() -- the read() from the tap,
#     the net layer and virtio-net's receive into guest memory, the whole
#     per-packet path -- and the count is divided by the packets QEMU read
#     (the tap's tx_packets).
#  2. Guest packet rate: the patched and the unpatched QEMU (TCG) boot the
#     test guest and take the same flood for FLOOD_SECONDS; the rate is the
#     packets QEMU read from the tap and delivered per second, and the CPU
#     time of QEMU's main-loop thread per packet is printed too.  Runs
#     alternate patched/unpatched, REPS times each.
#
# usage: bench/qemu/bench.sh          (root; builds both QEMUs if needed)
# env:   PACKETS (callgrind packets, default 20000), FLOOD_SECONDS (5),
#        REPS (2), PATCHED_QEMU / UNPATCHED_QEMU to skip building,
#        BENCH_KEEP=DIR to keep the callgrind files, BENCH_ONLY=callgrind.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T=$ROOT/tests/qemu
PACKETS=${PACKETS:-20000}
FLOOD_SECONDS=${FLOOD_SECONDS:-5}
REPS=${REPS:-2}

[ "$(id -u)" = 0 ] || { echo "bench: needs root (netns, tap)" >&2; exit 77; }
command -v valgrind >/dev/null || { echo "bench: valgrind missing" >&2; exit 1; }

PATCHED=${PATCHED_QEMU:-$("$ROOT/build-aux/qemu-build" binary)}
UNPATCHED=${UNPATCHED_QEMU:-$("$ROOT/build-aux/qemu-build" unpatched-binary)}
[ -x "$PATCHED" ] && [ -x "$UNPATCHED" ] || \
    { echo "bench: FAIL: no QEMU binaries ($PATCHED, $UNPATCHED)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/perfsight-bench.XXXXXX)
NS=
PIDS=()

cleanup() {
    local rc=$? p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
    done
    [ -z "$NS" ] || ip netns del "$NS" 2>/dev/null || true
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT INT TERM

say() { echo "bench: $*" >&2; }
fail() { echo "bench: FAIL: $*" >&2; exit 1; }
nsx() { ip netns exec "$NS" "$@"; }

wait_for() {
    local what=$1 limit=$2 i
    shift 2
    for i in $(seq 1 $((limit * 10))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "no $what after ${limit}s"
}

new_ns() {
    NS=psbench$$
    ip netns del "$NS" 2>/dev/null || true
    ip netns add "$NS"
    nsx ip link set lo up
}

setup_tap() {
    local tap=$1
    wait_for "tap $tap" 600 nsx ip link show "$tap"
    nsx sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" || true
    nsx ip addr add 10.0.0.1/24 dev "$tap"
    nsx ip link set "$tap" up
    # no ARP from a guest in the callgrind run: a static neighbour entry
    nsx ip neigh replace 10.0.0.2 lladdr 52:54:00:12:34:56 dev "$tap" nud permanent
}

tx_packets() { nsx cat "/sys/class/net/$1/statistics/tx_packets"; }

# wait until QEMU stops reading from the tap (counter unchanged for 2 s)
settle() {
    local tap=$1 a b
    b=$(tx_packets "$tap")
    while true; do
        sleep 2
        a=$(tx_packets "$tap")
        [ "$a" = "$b" ] && break
        b=$a
    done
    echo "$a"
}

stop_pid() {
    local p=$1
    kill "$p" 2>/dev/null || true
    for _ in $(seq 1 600); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
}

# callgrind LABEL QEMU: print "instructions packets"
callgrind_run() {
    local label=$1 qemu=$2 tap=psbt$$ qpid dpid fpid read ir
    tap=${tap:0:15}
    new_ns
    # not through nsx: $! must be the process that becomes valgrind
    ip netns exec "$NS" valgrind --tool=callgrind --toggle-collect=tap_send \
        --callgrind-out-file="$TMP/cg.$label" \
        "$qemu" -machine pc -accel qtest -display none -nodefaults -m 128 \
        -qtest "unix:$TMP/qt.$label,server=on,wait=off" -qtest-log /dev/null \
        -netdev "tap,id=net0,ifname=$tap,script=no,downscript=no" \
        -device virtio-net-pci,netdev=net0,disable-modern=on,addr=04.0,romfile=,mac=52:54:00:12:34:56 \
        > "$TMP/vg.$label.log" 2>&1 &
    qpid=$!
    PIDS+=("$qpid")
    setup_tap "$tap"
    python3 "$HERE/vnet-driver.py" "$TMP/qt.$label" "$PACKETS" \
        > "$TMP/driver.$label.json" 2> "$TMP/driver.$label.log" &
    dpid=$!
    wait_for "driver ready" 600 grep -q ready "$TMP/driver.$label.log"
    ip netns exec "$NS" python3 "$T/flood.py" 10.0.0.2 100000 > /dev/null &
    fpid=$!
    PIDS+=("$fpid")
    wait "$dpid" || { cat "$TMP/driver.$label.log" >&2; fail "driver"; }
    stop_pid "$fpid"
    read=$(settle "$tap")
    stop_pid "$qpid"
    ip netns del "$NS"
    NS=
    ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$TMP/cg.$label")
    [ -z "${BENCH_KEEP:-}" ] || cp "$TMP/cg.$label" "$BENCH_KEEP/"
    [ -n "$ir" ] && [ "$read" -gt 0 ] || fail "no callgrind data for $label"
    echo "$ir $read"
}

# guest_rate LABEL QEMU: print "packets seconds main_thread_cpu_ticks"
guest_rate() {
    local label=$1 qemu=$2 tap=psbg$$ pid a b c0 c1
    tap=${tap:0:15}
    new_ns
    nsx "$qemu" -name "bench-$label" -machine pc -accel tcg -m 256 -smp 1 \
        -display none -vga none -no-user-config -nodefaults \
        -kernel "$KDIR/vmlinuz" -initrd "$TMP/initrd.gz" \
        -append "console=ttyS0 panic=-1 quiet ps.ip=10.0.0.2/24 ps.peer=10.0.0.1" \
        -serial "file:$TMP/console.$label" \
        -netdev "tap,id=net0,ifname=$tap,script=no,downscript=no" \
        -device virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile= \
        -pidfile "$TMP/pid.$label" -daemonize
    pid=$(cat "$TMP/pid.$label")
    PIDS+=("$pid")
    setup_tap "$tap"
    wait_for "guest ready" 300 grep -q PERFSIGHT-GUEST-PING- "$TMP/console.$label"
    a=$(tx_packets "$tap")
    c0=$(awk '{print $14 + $15}' "/proc/$pid/task/$pid/stat")
    nsx python3 "$T/flood.py" 10.0.0.2 "$FLOOD_SECONDS" > /dev/null
    b=$(tx_packets "$tap")
    c1=$(awk '{print $14 + $15}' "/proc/$pid/task/$pid/stat")
    stop_pid "$pid"
    ip netns del "$NS"
    NS=
    echo "$((b - a)) $FLOOD_SECONDS $((c1 - c0))"
}

KDIR=$("$T/guest-kernel.sh")
"$T/mkinitramfs.sh" "$KDIR" "$TMP/initrd.gz"
HZ=$(getconf CLK_TCK)

say "patched:   $PATCHED"
say "unpatched: $UNPATCHED"
say "1. instructions per packet in tap_send() (callgrind, $PACKETS packets)"
callgrind_run patched "$PATCHED" > "$TMP/res"
read -r ir_p n_p < "$TMP/res"
callgrind_run unpatched "$UNPATCHED" > "$TMP/res"
read -r ir_u n_u < "$TMP/res"

if [ "${BENCH_ONLY:-}" = callgrind ]; then
    echo "instructions per packet: patched $ir_p/$n_p, unpatched $ir_u/$n_u"
    exit 0
fi
say "2. guest packet rate (TCG, ${FLOOD_SECONDS}s flood, $REPS runs each)"
rates=()
for r in $(seq 1 "$REPS"); do
    guest_rate "p$r" "$PATCHED" > "$TMP/res"
    read -r pp sp cp < "$TMP/res"
    guest_rate "u$r" "$UNPATCHED" > "$TMP/res"
    read -r pu su cu < "$TMP/res"
    rates+=("$pp $sp $cp $pu $su $cu")
    say "   run $r: patched $pp packets, unpatched $pu packets"
done

python3 - "$ir_p" "$n_p" "$ir_u" "$n_u" "$HZ" "${rates[@]}" <<'EOF'
import sys
ir_p, n_p, ir_u, n_u, hz = (int(x) for x in sys.argv[1:6])
runs = [[int(x) for x in r.split()] for r in sys.argv[6:]]
ipp_p, ipp_u = ir_p / n_p, ir_u / n_u
print()
print("QEMU tap -> virtio-net path, patched vs unpatched")
print()
print("%-44s %14s %14s %8s" % ("", "patched", "unpatched", "ratio"))
print("%-44s %14.1f %14.1f %8.4f" % (
    "instructions per packet (tap_send, callgrind)", ipp_p, ipp_u,
    ipp_p / ipp_u))
print("%-44s %14d %14d" % ("  packets measured", n_p, n_u))
pk_p = sum(r[0] for r in runs); s_p = sum(r[1] for r in runs)
pk_u = sum(r[3] for r in runs); s_u = sum(r[4] for r in runs)
cpu_p = sum(r[2] for r in runs); cpu_u = sum(r[5] for r in runs)
rate_p, rate_u = pk_p / s_p, pk_u / s_u
print("%-44s %14.0f %14.0f %8.4f" % ("guest packet rate (packets/s, TCG)",
                                      rate_p, rate_u, rate_p / rate_u))
if pk_p and pk_u and cpu_p and cpu_u:
    ns_p = cpu_p / hz * 1e9 / pk_p
    ns_u = cpu_u / hz * 1e9 / pk_u
    print("%-44s %14.0f %14.0f %8.4f" % (
        "main-loop thread CPU per packet (ns)", ns_p, ns_u, ns_p / ns_u))
for i, r in enumerate(runs):
    print("  run %d: patched %d pkts in %ds, unpatched %d pkts in %ds"
          % (i + 1, r[0], r[1], r[3], r[4]))
print()
print("instructions per packet: %+.2f%% (goal: at most +1%%)"
      % (100 * (ipp_p / ipp_u - 1)))
print("note: the counters read the TSC (rdtsc), which callgrind counts as"
      " one instruction like the CPU executes it; the guest rate and the CPU")
print("      time under TCG depend on everything else the machine runs: compare"
      " the runs with each other before reading the ratio.")
EOF
