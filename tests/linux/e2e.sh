#!/bin/bash
# e2e.sh: end-to-end test of the patched guest kernel's virtio_net
# counters.
#
# The patched QEMU (TCG) boots the patched Linux 6.1 (build-aux/linux-build)
# with the initramfs of mkinitramfs.sh and two virtio-net NICs:
#   eth0  on a tap inside a network namespace created here;
#   eth1  on a Unix stream socket whose reader (slow-reader.py) reads
#         nothing until the guest says its queue is stopped.
# Inside the guest, the kselftest tools/testing/selftests/drivers/net/
# virtio_net/virtio_net_counters.sh checks that the counters exist on
# every queue, that ping traffic moves the packet counts, the receive poll
# time and the transmit time, and that a transmit flood on eth1 makes the
# driver stop the queue (tx_queue_0_stop), that the stopped time grows,
# and that the queue is woken once the host drains it.  Then a UDP flood
# from the namespace into eth0, and the guest's ethtool -S read before and
# after it (busybox nc on port 7000), must show the packets and the time
# the receive poll took for them.
# No assertion depends on timing; waits have generous limits only.
#
# usage: tests/linux/e2e.sh [BZIMAGE [QEMU]]  (root; defaults: the builds
#        of build-aux/linux-build and build-aux/qemu-build)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
KERNEL=${1:-}
QEMU=${2:-${QEMU:-}}
FLOOD_SECONDS=${FLOOD_SECONDS:-4}

[ "$(id -u)" = 0 ] || { echo "linux-e2e: needs root (netns, tap)" >&2; exit 77; }
[ -n "$KERNEL" ] || KERNEL=$("$ROOT/build-aux/linux-build" binary)
[ -n "$QEMU" ] || QEMU=$("$ROOT/build-aux/qemu-build" binary)
TREE=$("$ROOT/build-aux/linux-build" tree)
[ -f "$KERNEL" ] || { echo "linux-e2e: FAIL: no kernel at '$KERNEL'" >&2; exit 1; }
[ -x "$QEMU" ] || { echo "linux-e2e: FAIL: no QEMU at '$QEMU'" >&2; exit 1; }

NS=pslinux$$
TAP=pslxtap$$
TAP=${TAP:0:15}
TMP=$(mktemp -d /tmp/perfsight-linux-e2e.XXXXXX)
QMP=$TMP/qmp.sock
CONSOLE=$TMP/console.log
QEMU_PID=
READER_PID=

cleanup() {
    local rc=$?
    if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
        kill "$QEMU_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$QEMU_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$QEMU_PID" 2>/dev/null || true
    fi
    if [ -n "$READER_PID" ]; then
        kill "$READER_PID" 2>/dev/null || true
        wait "$READER_PID" 2>/dev/null || true
    fi
    ip netns del "$NS" 2>/dev/null || true
    if [ $rc -ne 0 ] && [ -f "$CONSOLE" ]; then
        echo "linux-e2e: guest console (last lines):" >&2
        tail -40 "$CONSOLE" >&2 || true
    fi
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT INT TERM

fail() { echo "linux-e2e: FAIL: $*" >&2; exit 1; }
say() { echo "linux-e2e: $*"; }
nsx() { ip netns exec "$NS" "$@"; }
wait_for() {
    local what=$1 limit=$2 i
    shift 2
    for i in $(seq 1 $((limit * 10))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        if [ -n "$QEMU_PID" ] && ! kill -0 "$QEMU_PID" 2>/dev/null; then
            fail "QEMU exited while waiting for $what"
        fi
        sleep 0.1
    done
    fail "no $what after ${limit}s"
}
# guest_stats FILE: the guest's ethtool -S eth0, through busybox nc
guest_stats() {
    nsx python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("10.0.0.2", 7000), timeout=60)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
stats = {}
for line in data.decode().splitlines():
    k, sep, v = line.strip().partition(": ")
    if sep and v.strip().isdigit():
        stats[k] = int(v)
assert "rx_queue_0_poll_ns" in stats, data
open(sys.argv[1], "w").write(repr(stats))
PY
}

"$HERE/mkinitramfs.sh" "$TREE" "$TMP/initrd.gz"

ip netns add "$NS"
nsx ip link set lo up

python3 "$HERE/slow-reader.py" "$TMP/eth1.sock" "$CONSOLE" \
    "virtio_net: tx stopped" > "$TMP/reader.out" &
READER_PID=$!
wait_for "the slow reader's socket" 30 test -S "$TMP/eth1.sock"

say "booting $KERNEL (TCG) with $QEMU"
nsx "$QEMU" -name ps-linux-e2e -machine pc -accel tcg -m 256 -smp 1 \
    -display none -vga none -no-user-config -nodefaults \
    -kernel "$KERNEL" -initrd "$TMP/initrd.gz" \
    -append "console=ttyS0 panic=-1 ps.ip=10.0.0.2/24 ps.peer=10.0.0.1" \
    -serial "file:$CONSOLE" \
    -netdev "tap,id=net0,ifname=$TAP,script=no,downscript=no" \
    -device virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56,romfile=,addr=3 \
    -netdev "stream,id=net1,server=off,addr.type=unix,addr.path=$TMP/eth1.sock" \
    -device virtio-net-pci,netdev=net1,mac=52:54:00:12:34:57,romfile=,addr=4 \
    -qmp "unix:$QMP,server=on,wait=off" \
    -pidfile "$TMP/qemu.pid" -daemonize
QEMU_PID=$(cat "$TMP/qemu.pid")

wait_for "tap $TAP in the namespace" 30 nsx ip link show "$TAP"
nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" || true
nsx ip addr add 10.0.0.1/24 dev "$TAP"
nsx ip link set "$TAP" up

wait_for "guest ready on the console" 300 grep -q PERFSIGHT-GUEST-READY "$CONSOLE"
say "guest is up: $(grep -m1 'Linux version' "$CONSOLE" | cut -c1-80)"

# 1. the kselftest, inside the guest
wait_for "the kselftest's result" 600 grep -q PERFSIGHT-KSELFTEST-RC= "$CONSOLE"
sed -n '/^TAP version/,/PERFSIGHT-KSELFTEST-RC=/p' "$CONSOLE" | tr -d '\r' \
    | grep -v '^ok ' | sed 's/^/    /'
say "kselftest: $(grep -c '^ok ' "$CONSOLE") ok, $(grep -c '^not ok ' "$CONSOLE") not ok"
grep -q 'PERFSIGHT-KSELFTEST-RC=0' "$CONSOLE" || fail "the kselftest failed"
grep -q '^ok .*tx_queue_0_wake counts the wake' "$CONSOLE" \
    || fail "the kselftest did not run the transmit stop test"
# the times were checked, not skipped for a tick-based clocksource
grep -q '^ok .*poll_ns moves with the packets$' <<< "$(tr -d '\r' < "$CONSOLE")" \
    || fail "the kselftest skipped the time checks (clocksource: $(grep -o 'Switched to clocksource .*' "$CONSOLE" | tail -1))"

# 2. a flood into eth0: the receive counters count what happened
wait_for "the guest's counters" 60 guest_stats "$TMP/before"
drops_before=$(nsx cat "/sys/class/net/$TAP/statistics/tx_dropped")
sent=$(nsx python3 "$ROOT/tests/qemu/flood.py" 10.0.0.2 "$FLOOD_SECONDS")
drops_after=$(nsx cat "/sys/class/net/$TAP/statistics/tx_dropped")
wait_for "ping reply after the flood" 120 nsx ping -c 1 -W 1 10.0.0.2
wait_for "the guest's counters" 60 guest_stats "$TMP/after"
python3 - "$TMP/before" "$TMP/after" "$sent" "$((drops_after - drops_before))" <<'PY' \
    || fail "receive counters after the flood"
import ast, sys
b = ast.literal_eval(open(sys.argv[1]).read())
a = ast.literal_eval(open(sys.argv[2]).read())
sent, tap_drops = int(sys.argv[3]), int(sys.argv[4])
d = {k: a[k] - b[k] for k in a if k.startswith("rx_queue_0_")}
pkts, ns = d["rx_queue_0_packets"], d["rx_queue_0_poll_ns"]
print("linux-e2e: flood: %d sent, %d dropped in the host tap queue, "
      "%d received by the guest driver in %.1f ms of receive poll "
      "(%.0f ns a packet)" % (sent, tap_drops, pkts, ns / 1e6,
                              ns / max(pkts, 1)))
print("linux-e2e: rx drops by reason:",
      {k[11:]: v for k, v in d.items() if "drop" in k or "alloc" in k})
assert pkts > 0 and ns > 0, d
assert pkts <= sent + 1000, (pkts, sent)     # + pings, ARP
for k in ("drop_short", "drop_length", "drop_frame", "alloc_fail"):
    assert d["rx_queue_0_" + k] == 0, (k, d)
PY

qmp() { python3 "$ROOT/tests/qemu/qmp.py" "$QMP" "$@"; }
qmp quit > /dev/null || true
for _ in $(seq 1 50); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
# QEMU gone, the reader sees the end of the stream
wait "$READER_PID" || true
READER_PID=
say "eth1's reader drained $(cat "$TMP/reader.out") bytes after the stop"
say "PASS"
