#!/bin/bash
# e2e.sh: end-to-end test of the QEMU PerfSight counters.
#
# The patched QEMU (TCG) boots Debian's kernel with a busybox initramfs
# and a virtio-net NIC on a tap device.  QEMU runs inside a network
# namespace created here, so the tap's host side sits in that namespace
# and no test traffic touches the host's own network.  Then:
#   1. traffic both ways: the host pings the guest, the guest pings the
#      host;
#   2. a UDP flood from the namespace that the emulated guest cannot keep
#      up with;
#   3. query-perfsight shows where the loss is (the host tap queue:
#      tx_dropped of the tap, while QEMU had stopped reading it) and why
#      (back-pressure time, time without guest receive buffers).
# No assertion depends on timing: the checks are on counters that must
# move, and the waits have generous limits only to avoid hanging.
#
# usage: tests/qemu/e2e.sh [QEMU_BINARY]   (root; default: the patched
#        build of build-aux/qemu-build)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
QEMU=${1:-${QEMU:-}}
FLOOD_SECONDS=${FLOOD_SECONDS:-4}

[ "$(id -u)" = 0 ] || { echo "e2e: needs root (netns, tap)" >&2; exit 77; }

if [ -z "$QEMU" ]; then
    QEMU=$("$ROOT/build-aux/qemu-build" binary)
fi
[ -x "$QEMU" ] || { echo "e2e: FAIL: no QEMU binary at '$QEMU'" >&2; exit 1; }

NS=psqemu$$
TAP=pstap$$
TAP=${TAP:0:15}
TMP=$(mktemp -d /tmp/perfsight-e2e.XXXXXX)
QMP=$TMP/qmp.sock
CONSOLE=$TMP/console.log
QEMU_PID=

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
    # the tap is QEMU's (not persistent): it goes with QEMU and the netns
    ip netns del "$NS" 2>/dev/null || true
    if [ $rc -ne 0 ] && [ -f "$CONSOLE" ]; then
        echo "e2e: guest console (last lines):" >&2
        tail -20 "$CONSOLE" >&2 || true
    fi
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT INT TERM

fail() { echo "e2e: FAIL: $*" >&2; exit 1; }
say() { echo "e2e: $*"; }
qmp() { python3 "$HERE/qmp.py" "$QMP" "$@"; }
nsx() { ip netns exec "$NS" "$@"; }

# wait_for DESCRIPTION LIMIT_SECONDS COMMAND...: poll until COMMAND succeeds
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

KDIR=$("$HERE/guest-kernel.sh")
"$HERE/mkinitramfs.sh" "$KDIR" "$TMP/initrd.gz"

ip netns add "$NS"
nsx ip link set lo up

say "booting the guest (TCG) with $QEMU"
nsx "$QEMU" -name ps-e2e -machine pc -accel tcg -m 256 -smp 1 \
    -display none -vga none -no-user-config -nodefaults \
    -kernel "$KDIR/vmlinuz" -initrd "$TMP/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet ps.ip=10.0.0.2/24 ps.peer=10.0.0.1" \
    -serial "file:$CONSOLE" \
    -netdev "tap,id=net0,ifname=$TAP,script=no,downscript=no" \
    -device virtio-net-pci,netdev=net0,id=nic0,mac=52:54:00:12:34:56,romfile= \
    -qmp "unix:$QMP,server=on,wait=off" \
    -pidfile "$TMP/qemu.pid" -daemonize
QEMU_PID=$(cat "$TMP/qemu.pid")

wait_for "tap $TAP in the namespace" 30 nsx ip link show "$TAP"
# no IPv6 chatter (router solicitations, MLD) from the host side
nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" || true
nsx ip addr add 10.0.0.1/24 dev "$TAP"
nsx ip link set "$TAP" up

wait_for "guest ready on the console" 300 grep -q PERFSIGHT-GUEST-READY "$CONSOLE"
say "guest is up"

# 1. traffic both ways
wait_for "ping reply from the guest" 60 nsx ping -c 1 -W 1 10.0.0.2
nsx ping -c 20 -i 0.05 -W 2 10.0.0.2 > "$TMP/ping.log" || \
    { cat "$TMP/ping.log"; fail "host -> guest ping"; }
say "host -> guest: $(grep -o '[0-9]* received' "$TMP/ping.log")"
wait_for "guest's ping result" 120 grep -q 'PERFSIGHT-GUEST-PING-' "$CONSOLE"
grep -q PERFSIGHT-GUEST-PING-OK "$CONSOLE" || fail "guest -> host ping"
say "guest -> host: ping ok"

qmp query-perfsight > "$TMP/before.json"
python3 - "$TMP/before.json" <<'EOF' || fail "counters after the pings"
import json, sys
els = {e["direction"]: e for e in json.load(open(sys.argv[1]))}
rx, tx = els["rx"], els["tx"]
assert rx["element"] == "hypervisor:ps-e2e:net0:rx", rx["element"]
assert tx["element"] == "hypervisor:ps-e2e:net0:tx", tx["element"]
assert rx["backend"] == "tap" and rx["model"] == "virtio-net-pci"
# host -> guest: 20+ echo requests read from the tap, delivered to the guest
assert rx["in-packets"] >= 20 and rx["out-packets"] >= 20, rx
assert rx["in-bytes"] >= 20 * 98 and rx["in-time-ns"] > 0, rx
# guest -> host: echo replies and the guest's requests written to the tap
assert tx["in-packets"] >= 20 and tx["out-packets"] >= 20, tx
assert tx["out-bytes"] >= 20 * 98 and tx["out-time-ns"] > 0, tx
assert tx["in-time-ns"] > 0, tx
print("e2e: counters moved both ways: rx %d/%d packets in/out, tx %d/%d"
      % (rx["in-packets"], rx["out-packets"], tx["in-packets"],
         tx["out-packets"]))
EOF

# 2. a flood the guest cannot keep up with
drops_before=$(nsx cat "/sys/class/net/$TAP/statistics/tx_dropped")
sent=$(nsx python3 "$HERE/flood.py" 10.0.0.2 "$FLOOD_SECONDS")
drops_after=$(nsx cat "/sys/class/net/$TAP/statistics/tx_dropped")
say "flood: sent $sent UDP packets in ${FLOOD_SECONDS}s"
say "host tap $TAP tx_dropped: $drops_before -> $drops_after"

# let the backlog drain before reading the counters (no timing assertion)
wait_for "ping reply after the flood" 120 nsx ping -c 1 -W 1 10.0.0.2

qmp query-perfsight > "$TMP/after.json"
say "info perfsight:"
qmp "hmp:info perfsight" > "$TMP/info.txt"
qmp query-perfsight > "$TMP/after2.json"
sed 's/^/    /' "$TMP/info.txt"
# The text: both elements, the counters of query-perfsight read around it,
# traffic both ways, the flood read and the time QEMU was held back.
python3 "$HERE/check-info-text.py" "$TMP/after.json" "$TMP/info.txt" \
    "$TMP/after2.json" rx.in-pkts=20 rx.out-pkts=20 rx.in-bytes=$((20 * 98)) \
    tx.in-pkts=20 tx.out-pkts=20 tx.out-bytes=$((20 * 98)) \
    rx.in-ms=0.001 tx.out-ms=0.001 rx.blocked-ms=0.001 rx.nobuf-ms=0.001 \
    || fail "info perfsight text"
say "info perfsight text: both elements, counters as query-perfsight's"

# 3. where and why
python3 - "$TMP/before.json" "$TMP/after.json" "$sent" \
    "$((drops_after - drops_before))" <<'EOF' || fail "diagnosis"
import json, sys
b = {e["direction"]: e for e in json.load(open(sys.argv[1]))}
a = {e["direction"]: e for e in json.load(open(sys.argv[2]))}
sent, tap_drops = int(sys.argv[3]), int(sys.argv[4])
reasons = {x["reason"]: x["packets"] for x in a["rx"]["drops-by-reason"]}
for x in b["rx"]["drops-by-reason"]:
    reasons[x["reason"]] -= x["packets"]
reasons = {k: v for k, v in reasons.items() if v}
d = {k: a["rx"][k] - b["rx"][k] for k in
     ("in-packets", "out-packets", "drops", "blocked-time-ns",
      "blocked-count", "no-buffer-time-ns", "in-time-ns")}
print("e2e: window: rx element read %d packets from the tap, delivered %d,"
      " dropped %d inside QEMU %s" % (d["in-packets"], d["out-packets"],
                                     d["drops"], reasons or ""))
print("e2e: where: %d of %d packets (%.1f%%) were lost in the host tap queue"
      " (tx_dropped), before QEMU read them"
      % (tap_drops, sent, 100.0 * tap_drops / max(sent, 1)))
print("e2e: why: QEMU stopped reading the tap %d times, for %.1f ms in all"
      " (back-pressure); the guest had no receive buffers for %.1f ms"
      % (d["blocked-count"], d["blocked-time-ns"] / 1e6,
         d["no-buffer-time-ns"] / 1e6))
print("e2e: QEMU spent %.1f ms in the tap's read handler (reading the tap"
      " and handing the packets to virtio-net)" % (d["in-time-ns"] / 1e6))
assert tap_drops > 0, "the flood caused no tap drops"
assert d["in-packets"] > 0 and d["out-packets"] > 0, d
assert d["blocked-count"] > 0 and d["blocked-time-ns"] > 0, d
assert d["no-buffer-time-ns"] > 0, d
# the loss is in the tap queue, not inside QEMU: QEMU delivered what it
# read, but for the odd packet its MAC filter or a reset may drop
assert d["drops"] * 1000 < tap_drops, d
assert d["out-packets"] + d["drops"] <= d["in-packets"], d
EOF

qmp quit > /dev/null || true
for _ in $(seq 1 50); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
say "PASS"
