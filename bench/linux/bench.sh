#!/bin/bash
# bench.sh: cost of the virtio_net counters on the guest's receive path,
# the patched kernel against the unpatched one, side by side in one run.
#
# QEMU has no TCG plugins in this build, so the count is the guest's own:
# QEMU runs with -icount shift=0, where the guest's clock advances one
# nanosecond per instruction it executes, and the guest kernel (with
# CONFIG_IRQ_TIME_ACCOUNTING) charges the time spent in softirqs -- the
# NAPI receive poll, GRO, IP, UDP and the ICMP the flood provokes -- to
# the softirq column of /proc/stat.  A UDP flood from a network namespace
# into the guest's tap saturates the guest; the softirq "nanoseconds",
# that is instructions, divided by the packets eth0 received are the
# instructions per received packet.  Both kernels use the same config,
# initramfs and QEMU; runs alternate unpatched/patched REPS times each.
# The figures are of the whole receive path in a tinyconfig guest under
# TCG; the ratio is what matters.
#
# usage: bench/linux/bench.sh   (root; builds both kernels if needed)
# env:   FLOOD_SECONDS (default 6), REPS (2), PATCHED_KERNEL,
#        UNPATCHED_KERNEL, QEMU to skip building.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
FLOOD_SECONDS=${FLOOD_SECONDS:-6}
REPS=${REPS:-2}

[ "$(id -u)" = 0 ] || { echo "bench: needs root (netns, tap)" >&2; exit 77; }
PATCHED=${PATCHED_KERNEL:-$("$ROOT/build-aux/linux-build" binary)}
UNPATCHED=${UNPATCHED_KERNEL:-$("$ROOT/build-aux/linux-build" unpatched-binary)}
QEMU=${QEMU:-$("$ROOT/build-aux/qemu-build" binary)}
TREE=$("$ROOT/build-aux/linux-build" tree)

NS=pslxbench$$
TAP=pslxbt$$
TAP=${TAP:0:15}
TMP=$(mktemp -d /tmp/perfsight-linux-bench.XXXXXX)
QEMU_PID=

stop_qemu() {
    [ -n "$QEMU_PID" ] || return 0
    kill "$QEMU_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$QEMU_PID" 2>/dev/null || true
    QEMU_PID=
}
cleanup() {
    local rc=$?
    stop_qemu
    ip netns del "$NS" 2>/dev/null || true
    [ $rc = 0 ] || tail -20 "$TMP/console.log" 2>/dev/null >&2 || true
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
# guest_stats: "softirq_ticks rx_packets" from the guest's port 7000
guest_stats() {
    nsx python3 - <<'PY'
import socket
s = socket.create_connection(("10.0.0.2", 7000), timeout=60)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
st = dict(l.strip().split(": ", 1) for l in data.decode().splitlines()
          if ": " in l)
print(st["softirq_ticks"], st["eth0_rx_packets"])
PY
}

"$ROOT/tests/linux/mkinitramfs.sh" "$TREE" "$TMP/initrd.gz"
ip netns add "$NS"
nsx ip link set lo up

# run KERNEL: boot, flood, print "instructions-per-packet packets"
run() {
    local kernel=$1 before after sent
    : > "$TMP/console.log"
    nsx "$QEMU" -machine pc -accel tcg -icount shift=0,sleep=off -m 256 \
        -smp 1 -display none -vga none -no-user-config -nodefaults \
        -kernel "$kernel" -initrd "$TMP/initrd.gz" \
        -append "console=ttyS0 panic=-1 ps.ip=10.0.0.2/24 ps.peer=10.0.0.1 ps.test=0" \
        -serial "file:$TMP/console.log" \
        -netdev "tap,id=net0,ifname=$TAP,script=no,downscript=no" \
        -device virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=,addr=3 \
        -pidfile "$TMP/qemu.pid" -daemonize
    QEMU_PID=$(cat "$TMP/qemu.pid")
    wait_for "tap" 30 nsx ip link show "$TAP"
    nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" || true
    nsx ip addr add 10.0.0.1/24 dev "$TAP"
    nsx ip link set "$TAP" up
    wait_for "guest" 300 grep -q PERFSIGHT-GUEST-PING- "$TMP/console.log"
    wait_for "guest's counters" 60 guest_stats
    before=$(guest_stats)
    sent=$(nsx python3 "$ROOT/tests/qemu/flood.py" 10.0.0.2 "$FLOOD_SECONDS")
    wait_for "ping after the flood" 120 nsx ping -c 1 -W 1 10.0.0.2
    after=$(guest_stats)
    stop_qemu
    python3 - $before $after "$sent" <<'PY'
import sys
t0, p0, t1, p1, sent = map(int, sys.argv[1:])
pkts = p1 - p0
# USER_HZ is 100: a tick is 10 ms of virtual time, 1e7 instructions
print("%.0f %d %d" % ((t1 - t0) * 1e7 / max(pkts, 1), pkts, sent))
PY
}

declare -a unp=() pat=()
for r in $(seq 1 "$REPS"); do
    read -r ipp pk sent < <(run "$UNPATCHED")
    say "run $r unpatched: $ipp instructions/packet ($pk of $sent packets received)"
    unp+=("$ipp")
    read -r ipp pk sent < <(run "$PATCHED")
    say "run $r patched:   $ipp instructions/packet ($pk of $sent packets received)"
    pat+=("$ipp")
done
python3 - "${unp[*]}" "${pat[*]}" <<'PY'
import statistics, sys
u = [float(x) for x in sys.argv[1].split()]
p = [float(x) for x in sys.argv[2].split()]
mu, mp = statistics.median(u), statistics.median(p)
print("bench: linux virtio_net receive path, instructions per received "
      "packet (guest softirq time under -icount shift=0, median of %d):"
      % len(u))
print("bench:   unpatched %.0f   patched %.0f   ratio %.3f"
      % (mu, mp, mp / mu))
PY
