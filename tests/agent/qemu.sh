#!/bin/bash
# perfsight-agent's QMP source against the patched QEMU (patches/qemu): a
# QEMU with a tap netdev and a virtio-net NIC (no guest: the NIC never
# becomes ready, so what the host sends toward it backs up), two QMP
# sockets, one in the agent's qmp-dir and one for the test.  The agent's
# hypervisor records must carry the same packet, byte and drop counters as
# query-perfsight on the test's socket, the VM's name, and the host's tap
# the loss toward the guest; when QEMU goes, its records go.
#
# QEMU is $QEMU, or the patched build that build-aux/qemu-build left in
# ${PERFSIGHT_CACHE:-/var/cache/perfsight}; without one the test says so
# and skips, or fails in CI (CI=true) (it does not build QEMU: .ci/qemu.sh
# does).
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

Q=${QEMU:-}
if [ -z "$Q" ]; then
    for d in $(ls -dt "${PERFSIGHT_CACHE:-/var/cache/perfsight}"/qemu-*/build \
               2>/dev/null); do
        case $d in *-unpatched/build) continue ;; esac
        if [ -x "$d/qemu-system-x86_64" ] \
           && grep -q query-perfsight "$d/qemu-system-x86_64"; then
            Q=$d/qemu-system-x86_64
            break
        fi
    done
fi
if [ -z "$Q" ] || [ ! -x "$Q" ]; then
    missing "no patched QEMU build (build-aux/qemu-build build, or" \
            ".ci/qemu.sh, makes one); the QMP source was not run"
    finish
fi
echo "   QEMU: $Q"

P=19495
TAP=psqtap$(( $$ % 1000 ))
mkdir -p "$TMP/qmp"
make_ns
in_ns "$Q" -name vmq -machine pc -accel tcg -m 64 -display none -vga none \
    -no-user-config -nodefaults -serial none \
    -netdev "tap,id=net0,ifname=$TAP,script=no,downscript=no" \
    -device virtio-net-pci,netdev=net0,id=nic0,romfile= \
    -qmp "unix:$TMP/qmp/vmq.sock,server=on,wait=off" \
    -qmp "unix:$TMP/test.qmp,server=on,wait=off" \
    -pidfile "$TMP/qemu.pid" -daemonize >"$TMP/qemu.log" 2>&1 \
    || { fail "QEMU did not start: $(cat "$TMP/qemu.log")"; finish; }
pids+=("$(cat "$TMP/qemu.pid")")
in_ns sysctl -qw net.ipv6.conf.$TAP.disable_ipv6=1
in_ns ip addr add 10.75.0.1/24 dev $TAP
in_ns ip link set $TAP up
in_ns ip neigh add 10.75.0.2 lladdr 52:54:00:12:34:56 dev $TAP nud permanent

start_agent qmp --listen=127.0.0.1:$P --sources=netlink,qmp \
    --libvirt-uri=none --qmp-dir="$TMP/qmp" || finish

in_ns curl -sf http://127.0.0.1:$P/v1/records >"$TMP/r0.json"
jq -e 'any(.[]; .element == "hypervisor:vmq:net0:rx" and .vm == "vmq"
               and .type == "hypervisor")
       and any(.[]; .element == "hypervisor:vmq:net0:tx")' "$TMP/r0.json" \
    >/dev/null && ok "hypervisor:vmq:net0:rx and :tx, vm vmq" \
    || fail "hypervisor elements: $(jq -c '[.[].element]' "$TMP/r0.json")"

# Toward a guest that takes nothing: QEMU reads what it can, then the
# tap's queue overflows.
in_ns python3 "$here/udp-flood.py" 10.75.0.2 9 3000 >/dev/null
in_ns curl -sf http://127.0.0.1:$P/v1/records >"$TMP/agent.json"
python3 "$here/qmp-query.py" "$TMP/test.qmp" query-perfsight >"$TMP/qmp.json"
if jq -e --slurpfile q "$TMP/qmp.json" '
        [.[] | select(.type == "hypervisor")
         | {element, p: [.attrs.in_packets, .attrs.in_bytes,
                         .attrs.out_packets, .attrs.out_bytes,
                         .attrs.drops]}] | sort_by(.element)
        == ($q[0] | [.[] | {element, p: [.["in-packets"], .["in-bytes"],
                                         .["out-packets"], .["out-bytes"],
                                         .drops]}] | sort_by(.element))' \
        "$TMP/agent.json" >/dev/null; then
    ok "hypervisor counters equal query-perfsight's"
else
    fail "hypervisor counters differ from query-perfsight"
    jq -c '.[] | select(.type == "hypervisor") | {element, attrs}' \
        "$TMP/agent.json"
    jq -c '.[] | {element, "in-packets", "out-packets", drops}' \
        "$TMP/qmp.json"
fi
in=$(jq -r '.[] | select(.element == "hypervisor:vmq:net0:rx")
            | .attrs.in_packets' "$TMP/agent.json")
td=$(jq -r --arg e "tap:$TAP:to_guest" '.[] | select(.element == $e)
            | .attrs.drops' "$TMP/agent.json")
echo "   QEMU read $in packets from the tap; the tap dropped $td"
[ "${in:-0}" -gt 0 ] && [ "${td:-0}" -gt 0 ] \
    && ok "QEMU read some, the tap dropped the rest" \
    || fail "in_packets $in, tap drops $td"
jq -e '.[] | select(.element == "hypervisor:vmq:net0:rx") | .attrs
       | has("blocked_time_ns") and has("no_buffer_time_ns")
         and has("drops.queue_full")' "$TMP/agent.json" >/dev/null \
    && ok "extras and drops by reason (queue_full, ...)" \
    || fail "extras of the rx element"

# QEMU goes: its records go, the agent stays.
qpid=$(cat "$TMP/qemu.pid")
kill "$qpid"
for i in $(seq 100); do
    kill -0 "$qpid" 2>/dev/null || break
    sleep 0.1
done
code=$(http http://127.0.0.1:$P/v1/records)
[ "$code" = 200 ] && jq -e 'all(.[]; .type != "hypervisor")' "$TMP/body" \
    >/dev/null && ok "QEMU gone: no hypervisor records, still 200" \
    || fail "after QEMU went: $code"
finish
