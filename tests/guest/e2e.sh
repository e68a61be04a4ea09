#!/bin/bash
# e2e.sh: end-to-end test of perfsight-guestd and the agent's guest source.
#
# The patched QEMU (TCG) boots the patched guest kernel
# (build-aux/linux-build; Debian's kernel, with modules, outside CI when
# that script is absent) with an initramfs holding perfsight-guestd, the
# preload library and a dynamically linked relay (tests/guest/relay.c).
# QEMU runs in a network namespace of its own, with a virtio-net NIC on a
# tap there, and a virtio-serial port org.perfsight.guestd.0 whose host
# end is the socket GUESTS/psguest.sock.  A real perfsight-agent (guest-dir
# = GUESTS) serves the guest's elements.  Then:
#   1. a UDP flood into the guest, the guest transmitting UDP as fast as it
#      can, and 2 MB through the relay (namespace -> guest:7000 -> relay ->
#      namespace:7001);
#   2. GET /v1/records, the guest's own answer (perfsight-guestd --once,
#      run through the second serial port), GET /v1/records: every counter
#      the guest reports lies between the agent's two samples, and the
#      agent has no guest element the guest did not report;
#   3. the flood, the transmission and the relay show in the counters.
# No assertion depends on timing; the waits have generous limits.
#
# usage: tests/guest/e2e.sh   (root)
#   PERFSIGHT_BUILD  build with the agent, guestd, the preload library and
#                    the relay (default _build/sanitized)
#   QEMU, GUEST_KERNEL  override the patched QEMU and the kernel image
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${PERFSIGHT_BUILD:-$ROOT/_build/sanitized}
FLOOD_SECONDS=${FLOOD_SECONDS:-4}
MB_BYTES=$((2 * 1024 * 1024))

fail() { echo "e2e: FAIL: $*" >&2; exit 1; }
say() { echo "e2e: $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (netns, tap)"
AGENT=$BUILD/utilities/perfsight-agent
GUESTD=$BUILD/utilities/perfsight-guestd
PRELOAD=$BUILD/preload/.libs/libperfsight-preload.so
RELAY=$BUILD/tests/guest/relay
for f in "$AGENT" "$GUESTD" "$PRELOAD" "$RELAY"; do
    [ -x "$f" ] || [ -f "$f" ] || fail "no $f (build $BUILD first)"
done
for tool in curl jq python3 cpio; do
    command -v $tool >/dev/null || fail "$tool is needed"
done

QEMU=${QEMU:-$("$ROOT/build-aux/qemu-build" binary)}
[ -x "$QEMU" ] || fail "no QEMU binary at '$QEMU'"

NS=psguest$$
TAP=psgtap$$
TAP=${TAP:0:15}
TMP=$(mktemp -d /tmp/perfsight-guest-e2e.XXXXXX)
GUESTS=$TMP/guests
VM=psguest
CONSOLE=$TMP/console.log
QEMU_PID=
AGENT_PID=

cleanup() {
    local rc=$?
    if [ -n "$AGENT_PID" ]; then
        kill "$AGENT_PID" 2>/dev/null || true
        wait "$AGENT_PID" 2>/dev/null || true
    fi
    if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
        kill "$QEMU_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$QEMU_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$QEMU_PID" 2>/dev/null || true
    fi
    ip netns pids "$NS" 2>/dev/null | while read -r pid; do
        kill "$pid" 2>/dev/null || true
    done
    ip netns del "$NS" 2>/dev/null || true
    if grep -q "runtime error\|Sanitizer" "$TMP/agent.log" 2>/dev/null; then
        echo "e2e: FAIL: sanitizer report in the agent:" >&2
        head -40 "$TMP/agent.log" >&2
        rc=1
    fi
    if [ $rc -ne 0 ]; then
        [ -f "$CONSOLE" ] && { echo "e2e: guest console (last lines):" >&2; tail -20 "$CONSOLE" >&2; }
        [ -f "$TMP/agent.log" ] && { echo "e2e: agent log:" >&2; tail -20 "$TMP/agent.log" >&2; }
    fi
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

nsx() { ip netns exec "$NS" "$@"; }
ctl() { python3 "$HERE/ctl.py" "$TMP/ctl.sock" "$1"; }

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

# The kernel: the linux branch's patched build, or Debian's outside CI.
if [ -n "${GUEST_KERNEL:-}" ]; then
    kernel=$GUEST_KERNEL image=$GUEST_KERNEL
elif [ -x "$ROOT/build-aux/linux-build" ]; then
    kernel=$(LINUX_BUILD_QUIET=1 "$ROOT/build-aux/linux-build" binary)
    image=$kernel
elif [ "${CI:-}" = true ]; then
    fail "no build-aux/linux-build for the patched guest kernel (CI=true)"
else
    say "no build-aux/linux-build: Debian's kernel (stock virtio_net counters)"
    kernel=$("$ROOT/tests/qemu/guest-kernel.sh")
    image=$kernel/vmlinuz
fi
[ -f "$image" ] || fail "no kernel image at $image"
GUESTD=$GUESTD PRELOAD=$PRELOAD RELAY=$RELAY \
    "$HERE/mkinitramfs.sh" "$kernel" "$TMP/initrd.gz"

mkdir "$GUESTS"
ip netns add "$NS"
nsx ip link set lo up

say "booting the guest (TCG): $image"
# QEMU drains the guest's transmit ring on a timer, 8 packets a ms
# (tx=timer, x-txtimer, x-txburst): slower than the guest's sender fills
# it however fast TCG runs, so the queue stops for a ring-full.
nsx "$QEMU" -name $VM -machine pc -accel tcg -m 256 -smp 1 \
    -display none -vga none -no-user-config -nodefaults \
    -kernel "$image" -initrd "$TMP/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet ps.ip=10.0.0.2/24 ps.peer=10.0.0.1" \
    -serial "file:$CONSOLE" -serial "unix:$TMP/ctl.sock,server=on,wait=off" \
    -netdev "tap,id=net0,ifname=$TAP,script=no,downscript=no" \
    -device virtio-net-pci,netdev=net0,id=nic0,mac=52:54:00:12:34:57,romfile=,tx=timer,x-txtimer=1000000,x-txburst=8 \
    -device virtio-serial-pci,id=vser0 \
    -chardev "socket,id=guestd0,path=$GUESTS/$VM.sock,server=on,wait=off" \
    -device virtserialport,bus=vser0.0,chardev=guestd0,name=org.perfsight.guestd.0 \
    -pidfile "$TMP/qemu.pid" -daemonize
QEMU_PID=$(cat "$TMP/qemu.pid")

wait_for "tap $TAP in the namespace" 30 nsx ip link show "$TAP"
nsx sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" || true
nsx ip addr add 10.0.0.1/24 dev "$TAP"
nsx ip link set "$TAP" up
wait_for "guest ready on the console" 300 grep -q PERFSIGHT-GUEST-READY "$CONSOLE"
grep -q PERFSIGHT-GUEST-INSMOD-FAIL "$CONSOLE" && fail "guest modules did not load"
say "guest is up"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$AGENT" --listen "127.0.0.1:$port" --host hv-e2e --sources=guest,softnet \
    --libvirt-uri=none --set guest-dir="$GUESTS" \
    --set daemon-timeout-ms=5000 > "$TMP/agent.log" 2>&1 &
AGENT_PID=$!
URL=http://127.0.0.1:$port/v1/records
has_guest() {
    curl -sf --max-time 30 "$URL" \
        | jq -e --arg id "vnic:$VM:eth0:rx" '[.[] | select(.element == $id)] | length == 1'
}
wait_for "the guest's vnic in the agent's records" 120 has_guest
say "the agent serves the guest's elements"

# 1. traffic: a flood in, the guest flooding out, 2 MB through the relay
wait_for "ping reply from the guest" 60 nsx ping -c 1 -W 1 10.0.0.2
sent=$(nsx python3 "$ROOT/tests/qemu/flood.py" 10.0.0.2 "$FLOOD_SECONDS")
say "flood into the guest: $sent UDP packets in ${FLOOD_SECONDS}s"
# a sink that never reads: no port unreachable back, the socket drops
nsx python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.1", 9))
time.sleep(3600)' &
disown      # the cleanup kills it with the namespace's processes
ctl "udpflood 10.0.0.1 9 $FLOOD_SECONDS" > "$TMP/tx.log"
say "the guest's transmitter: $(cat "$TMP/tx.log")"
nsx python3 "$HERE/relay-traffic.py" "$MB_BYTES" || fail "relay traffic"
wait_for "ping reply after the traffic" 120 nsx ping -c 1 -W 1 10.0.0.2

# 2. the agent's records around the guest's own answer
curl -sf --max-time 60 "$URL" > "$TMP/before.json" || fail "GET /v1/records"
ctl "perfsight-guestd --once --interfaces eth0" > "$TMP/guest.jsonl"
curl -sf --max-time 60 "$URL" > "$TMP/after.json" || fail "GET /v1/records"
say "the guest's own answer:"
sed 's/^/    /' "$TMP/guest.jsonl"

# 3. they agree, and show the traffic
python3 "$HERE/check.py" "$VM" "$TMP/before.json" "$TMP/guest.jsonl" \
    "$TMP/after.json" "$MB_BYTES" || fail "agent and guest disagree"
if grep -q "guest $VM: .*cut off" "$TMP/agent.log"; then
    fail "the guest was cut off"
fi
say "PASS"
