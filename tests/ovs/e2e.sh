#!/bin/bash
# End-to-end test of the PerfSight Open vSwitch patch series.
#
# Runs the patched ovs-vswitchd from its build tree (own ovsdb-server, run
# directory in a temporary directory) with the userspace (netdev) datapath,
# on a bridge with two tap ports whose kernel ends are moved into network
# namespaces created here (and a veth system port).  Sends real traffic (ping, iperf3, UDP), provokes
# drops (an OpenFlow drop rule, a port that is down, a flood while the
# switch, the tap queue's reader, is stopped), and checks the counters read
# back with "ovs-appctl perfsight/show --json" against what was sent, and
# the text of "perfsight/show" against the JSON and the traffic.  At exit,
# even on failure, it deletes the bridge before stopping ovs-vswitchd, then
# the namespaces and any tap left.
#
# Usage: tests/ovs/e2e.sh [OVS_BUILD_TREE]
#   (default: the tree that build-aux/ovs-build builds; built if needed)
# Needs root, ip(8) with netns support, /dev/net/tun, iperf3, python3.
# No assertion depends on timing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRC=${1:-}
if [ -z "$SRC" ]; then
    SRC=$("$HERE/build-aux/ovs-build" dir)
fi
for f in vswitchd/ovs-vswitchd ovsdb/ovsdb-server utilities/ovs-vsctl \
         utilities/ovs-appctl utilities/ovs-ofctl vswitchd/vswitch.ovsschema; do
    [ -e "$SRC/$f" ] || { echo "e2e: $SRC/$f missing" >&2; exit 1; }
done

SUFFIX=$$
NS0=ps-e2e-a-$SUFFIX
NS1=ps-e2e-b-$SUFFIX
NS2=ps-e2e-c-$SUFFIX
BR=psbr$((SUFFIX % 10000))
P0=pst0-$((SUFFIX % 10000))
P1=pst1-$((SUFFIX % 10000))
V0=psv0-$((SUFFIX % 10000))
V1=psv1-$((SUFFIX % 10000))
IP2=10.253.0.3
IP0=10.253.0.1
IP1=10.253.0.2
TMP=$(mktemp -d /tmp/perfsight-ovs-e2e.XXXXXX)
export OVS_RUNDIR=$TMP OVS_LOGDIR=$TMP OVS_DBDIR=$TMP OVS_SYSCONFDIR=$TMP
export OVS_PKGDATADIR=$SRC
VSCTL="$SRC/utilities/ovs-vsctl --db=unix:$TMP/db.sock --timeout=30"
APPCTL="$SRC/utilities/ovs-appctl --timeout=30"
OFCTL="$SRC/utilities/ovs-ofctl"
IPERF_PID=
FAILURES=0
# The netdev datapath's own tap, shared by every ovs-vswitchd of that
# datapath on the host: deleted at exit only if this test made it.
ip link show ovs-netdev >/dev/null 2>&1 && DP_DEV= || DP_DEV=ovs-netdev

log() { echo "e2e: $*"; }

cleanup() {
    local rc=$?
    set +e
    [ -n "$IPERF_PID" ] && kill "$IPERF_PID" 2>/dev/null
    if [ -f "$TMP/ovs-vswitchd.pid" ]; then
        local pid
        pid=$(cat "$TMP/ovs-vswitchd.pid")
        kill -CONT "$pid" 2>/dev/null
        $VSCTL --if-exists del-br "$BR" >/dev/null 2>&1
        $APPCTL -t "$TMP/ovs-vswitchd.$pid.ctl" exit >/dev/null 2>&1
        sleep 0.5
        kill "$pid" 2>/dev/null
    fi
    if [ -f "$TMP/ovsdb-server.pid" ]; then
        kill "$(cat "$TMP/ovsdb-server.pid")" 2>/dev/null
    fi
    for ns in "$NS0" "$NS1" "$NS2"; do
        if ip netns list | grep -qw "$ns"; then
            ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
            ip netns del "$ns"
        fi
    done
    # A bridge deleted while ovs-vswitchd runs takes its taps along; if it
    # died first, they stay (persistent taps): delete what is left.
    for dev in "$P0" "$P1" "$V0" "$BR" $DP_DEV; do
        ip link del "$dev" 2>/dev/null
    done
    if [ "$rc" != 0 ] && [ -f "$TMP/ovs-vswitchd.log" ]; then
        echo "--- ovs-vswitchd.log (tail)"
        tail -30 "$TMP/ovs-vswitchd.log"
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check() {
    # check DESCRIPTION PYTHON-EXPRESSION (evaluated with a, b = attrs before
    # and after, per element, and d(element, attr) = difference).
    local desc=$1 expr=$2
    if python3 - "$TMP/before.json" "$TMP/after.json" "$expr" <<'EOF'
import json, sys
before = {r["element"]: r["attrs"] for r in json.load(open(sys.argv[1]))}
after = {r["element"]: r["attrs"] for r in json.load(open(sys.argv[2]))}
def d(element, attr):
    return after[element].get(attr, 0) - before.get(element, {}).get(attr, 0)
ok = eval(sys.argv[3], {"d": d, "a": after, "b": before})
sys.exit(0 if ok else 1)
EOF
    then
        log "PASS: $desc"
    else
        log "FAIL: $desc ($expr)"
        FAILURES=$((FAILURES + 1))
    fi
}

value() {  # value ELEMENT ATTR: from after.json minus before.json
    python3 - "$TMP/before.json" "$TMP/after.json" "$1" "$2" <<'EOF'
import json, sys
before = {r["element"]: r["attrs"] for r in json.load(open(sys.argv[1]))}
after = {r["element"]: r["attrs"] for r in json.load(open(sys.argv[2]))}
e, k = sys.argv[3], sys.argv[4]
print(after[e].get(k, 0) - before.get(e, {}).get(k, 0))
EOF
}

# show_text NAME [PORT]: the perfsight/show text of $BR (or of its PORT) in
# $TMP/NAME.txt, between JSON snapshots of the same in $TMP/NAME.before and
# $TMP/NAME.after.
show_text() {
    $APPCTL perfsight/show --json "$BR" ${2:-} > "$TMP/$1.before"
    $APPCTL perfsight/show "$BR" ${2:-} > "$TMP/$1.txt"
    $APPCTL perfsight/show --json "$BR" ${2:-} > "$TMP/$1.after"
    sed 's/^/    /' "$TMP/$1.txt"
}

# check_text NAME PORTS [PORT.DIR.COLUMN=MIN...]: tests/ovs/check-show-text.py
# on what show_text NAME read.
check_text() {
    local name=$1
    shift
    if python3 "$HERE/tests/ovs/check-show-text.py" "$TMP/$name.before" \
            "$TMP/$name.txt" "$TMP/$name.after" "$BR" "$@"; then
        log "PASS: perfsight/show text ($name): rows of $1, counters as in" \
            "--json"
    else
        log "FAIL: perfsight/show text ($name)"
        FAILURES=$((FAILURES + 1))
    fi
}

snapshot() {  # snapshot before|after
    $APPCTL perfsight/show --json "$BR" > "$TMP/$1.json"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r and all(x["type"]=="vswitch" and isinstance(x["ts_ns"],int) and x["host"] for x in r)' "$TMP/$1.json"
}

# --- Start ovsdb-server and ovs-vswitchd from the build tree.
log "build tree: $SRC; run dir: $TMP"
"$SRC/ovsdb/ovsdb-tool" create "$TMP/conf.db" "$SRC/vswitchd/vswitch.ovsschema"
"$SRC/ovsdb/ovsdb-server" --detach --no-chdir --pidfile="$TMP/ovsdb-server.pid" \
    --log-file="$TMP/ovsdb-server.log" --remote="punix:$TMP/db.sock" \
    --unixctl="$TMP/ovsdb-server.ctl" "$TMP/conf.db"
$VSCTL --no-wait init
"$SRC/vswitchd/ovs-vswitchd" --detach --no-chdir --pidfile="$TMP/ovs-vswitchd.pid" \
    --log-file="$TMP/ovs-vswitchd.log" --disable-system \
    "unix:$TMP/db.sock"
VSWITCHD_PID=$(cat "$TMP/ovs-vswitchd.pid")
APPCTL="$APPCTL -t $TMP/ovs-vswitchd.$VSWITCHD_PID.ctl"

# --- Bridge with two tap ports, kernel ends in two namespaces.
$VSCTL add-br "$BR" -- set bridge "$BR" datapath_type=netdev \
    -- add-port "$BR" "$P0" -- set interface "$P0" type=tap \
    -- add-port "$BR" "$P1" -- set interface "$P1" type=tap
for i in $(seq 1 100); do
    ip link show "$P0" >/dev/null 2>&1 && ip link show "$P1" >/dev/null 2>&1 && break
    sleep 0.1
done
ip netns add "$NS0"
ip netns add "$NS1"
ip netns add "$NS2"
ip link set "$P0" netns "$NS0"
ip link set "$P1" netns "$NS1"
ip -n "$NS0" addr add "$IP0/24" dev "$P0"
ip -n "$NS1" addr add "$IP1/24" dev "$P1"
ip -n "$NS0" link set "$P0" up
ip -n "$NS1" link set "$P1" up
ip -n "$NS0" link set lo up
ip -n "$NS1" link set lo up
MAC1=$(ip -n "$NS1" -o link show "$P1" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
log "bridge $BR: $P0 ($NS0, $IP0) and $P1 ($NS1, $IP1, $MAC1)"

# Let the bridge learn both MACs, then start counting.
ip netns exec "$NS0" ping -c 3 -i 0.2 -W 5 "$IP1" >/dev/null
show_text learn
check_text learn "$BR,$P0,$P1" \
    "$P0.rx.packets=3" "$P0.rx.bytes=$((3 * 98))" "$P0.rx.time=1" \
    "$P1.tx.packets=3" "$P1.tx.time=1" "$P1.rx.packets=3" "$P0.tx.packets=3"

# --- 1. ping: every echo request in from P0 and out to P1, replies back.
N=50
snapshot before
ip netns exec "$NS0" ping -q -c $N -i 0.01 -W 5 "$IP1" > "$TMP/ping.txt"
grep -q " $N received" "$TMP/ping.txt" || { cat "$TMP/ping.txt"; log "FAIL: ping lost packets"; FAILURES=$((FAILURES + 1)); }
snapshot after
E0RX="vswitch:$BR:$P0:rx"; E0TX="vswitch:$BR:$P0:tx"
E1RX="vswitch:$BR:$P1:rx"; E1TX="vswitch:$BR:$P1:tx"
check "ping: >= $N packets into the switch from $P0" "d('$E0RX','in_packets') >= $N"
check "ping: >= $N packets out of the switch to $P1" "d('$E1TX','out_packets') >= $N"
check "ping: >= $N replies in from $P1 and out to $P0" "d('$E1RX','in_packets') >= $N and d('$E0TX','out_packets') >= $N"
check "ping: >= $N * 98 bytes (ICMP echo frames) each way" "d('$E0RX','in_bytes') >= $N * 98 and d('$E1TX','in_bytes') >= $N * 98"
check "ping: no drops" "d('$E0RX','drops') == 0 and d('$E1TX','drops') == 0"
check "ping: time spent receiving and sending" "d('$E0RX','in_time_ns') > 0 and d('$E1TX','out_time_ns') > 0"

# --- 2. iperf3 TCP: the bytes the switch forwarded cover the payload.
snapshot before
ip netns exec "$NS1" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
IPERF_PID=$!
for i in $(seq 1 50); do
    ip netns exec "$NS1" ss -ltn 2>/dev/null | grep -q ':5201' && break
    sleep 0.1
done
ip netns exec "$NS0" iperf3 -c "$IP1" -p 5201 -t 3 -J > "$TMP/iperf.json"
wait "$IPERF_PID" 2>/dev/null || true
IPERF_PID=
snapshot after
SENT=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_sent"]["bytes"]))' "$TMP/iperf.json")
log "iperf3 sent $SENT bytes of TCP payload; switch forwarded $(value "$E1TX" out_packets) packets, $(value "$E1TX" in_bytes) bytes to $P1"
check "iperf3: bytes into the switch from $P0 >= TCP payload sent" "d('$E0RX','in_bytes') >= $SENT"
check "iperf3: bytes out to $P1 >= TCP payload sent" "d('$E1TX','in_bytes') >= $SENT"
check "iperf3: acks came back from $P1" "d('$E1RX','in_packets') > 0"

# --- 3. An OpenFlow drop rule: UDP to port 9999 from P0 is dropped.
N=200
N_DROP_RULE=$N
$OFCTL add-flow "$BR" "priority=100,udp,in_port=$P0,tp_dst=9999,actions=drop"
snapshot before
ip netns exec "$NS0" python3 - "$IP1" "$N" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(b"x" * 100, (sys.argv[1], 9999))
EOF
snapshot after
check "drop rule: $N UDP packets counted as drops.drop_action on $P0 rx" "d('$E0RX','drops.drop_action') == $N"
check "drop rule: drops total includes them" "d('$E0RX','drops') >= $N"
check "drop rule: none of them sent to $P1" "d('$E1TX','in_packets') < $N"
$OFCTL del-flows "$BR" "udp,in_port=$P0,tp_dst=9999"

# --- 4. A port that is down: the tap refuses what the switch sends to it.
N=100
N_LINK_DOWN=$N
ip -n "$NS0" neigh replace "$IP1" lladdr "$MAC1" dev "$P0"
ip -n "$NS1" link set "$P1" down
snapshot before
ip netns exec "$NS0" python3 - "$IP1" "$N" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(b"y" * 200, (sys.argv[1], 7777))
EOF
snapshot after
ip -n "$NS1" link set "$P1" up
log "port down: $P1 tx drops.link_down=$(value "$E1TX" drops.link_down) drops=$(value "$E1TX" drops)"
check "port down: the $N UDP packets sent to $P1 are counted as drops.link_down" "d('$E1TX','drops.link_down') >= $N"
check "port down: out_packets to $P1 exclude them" "d('$E1TX','in_packets') - d('$E1TX','out_packets') == d('$E1TX','drops')"

# --- 5. Flood while the tap queue's reader (the switch) is stopped: the
# kernel drops what does not fit in the tap's queue.
N=3000
snapshot before
K0=$(ip netns exec "$NS0" cat "/sys/class/net/$P0/statistics/tx_dropped")
kill -STOP "$VSWITCHD_PID"
ip netns exec "$NS0" python3 - "$IP1" "$N" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    try:
        s.sendto(b"z" * 64, (sys.argv[1], 7778))
    except OSError:
        pass
EOF
K1=$(ip netns exec "$NS0" cat "/sys/class/net/$P0/statistics/tx_dropped")
kill -CONT "$VSWITCHD_PID"
# Let the switch drain the queue: wait until the counter stops moving.
prev=-1
for i in $(seq 1 100); do
    $APPCTL perfsight/show --json "$BR" > "$TMP/after.json"
    cur=$(value "$E0RX" in_packets)
    [ "$cur" = "$prev" ] && break
    prev=$cur
    sleep 0.2
done
snapshot after
KDROP=$((K1 - K0))
log "flood: kernel tap queue dropped $KDROP of $N; switch received $(value "$E0RX" in_packets), drops.port_rx=$(value "$E0RX" drops.port_rx)"
check "flood: the kernel dropped some of the flood (tap queue full)" "$KDROP > 0"
check "flood: switch received + tap queue drops >= packets sent" "d('$E0RX','in_packets') + $KDROP >= $N"
check "flood: drops.port_rx on $P0 rx equals the kernel's tap tx_dropped" "d('$E0RX','drops.port_rx') == $KDROP"

# --- 6. The same through a system port (a veth whose peer is in a third
# namespace), which the switch reads through an AF_PACKET socket: with the
# switch stopped, the socket's receive queue overflows.
N=20000
ip link add "$V0" type veth peer name "$V1"
ip link set "$V1" netns "$NS2"
ip link set "$V0" up
ip -n "$NS2" addr add "$IP2/24" dev "$V1"
ip -n "$NS2" link set "$V1" up
$VSCTL add-port "$BR" "$V0"
ip netns exec "$NS2" ping -c 2 -i 0.2 -W 5 "$IP1" >/dev/null
E2RX="vswitch:$BR:$V0:rx"
snapshot before
kill -STOP "$VSWITCHD_PID"
ip netns exec "$NS2" python3 - "$IP1" "$N" <<'EOF2'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    try:
        s.sendto(b"w" * 64, (sys.argv[1], 7779))
    except OSError:
        pass
EOF2
kill -CONT "$VSWITCHD_PID"
prev=-1
for i in $(seq 1 100); do
    $APPCTL perfsight/show --json "$BR" > "$TMP/after.json"
    cur=$(value "$E2RX" in_packets)
    [ "$cur" = "$prev" ] && break
    prev=$cur
    sleep 0.2
done
snapshot after
log "system port flood: switch received $(value "$E2RX" in_packets) of $N, drops.port_rx=$(value "$E2RX" drops.port_rx)"
check "system port flood: the AF_PACKET socket overflow shows as drops.port_rx" "d('$E2RX','drops.port_rx') > 0"
check "system port flood: received + port_rx drops >= packets sent" "d('$E2RX','in_packets') + d('$E2RX','drops.port_rx') >= $N"

# --- 7. The text view: of everything so far (the traffic and the drops of
# 1-6 in it), of one port, and after a reset.
show_text all
check_text all "$BR,$P0,$P1,$V0" \
    "$P0.rx.packets=$((50 + N_DROP_RULE))" "$P0.rx.bytes=$SENT" \
    "$P0.rx.time=1" "$P0.rx.drop_action=$N_DROP_RULE" \
    "$P0.rx.port_rx=$KDROP" "$P0.rx.drops=$((N_DROP_RULE + KDROP))" \
    "$P0.tx.packets=50" "$P1.rx.packets=50" \
    "$P1.tx.packets=50" "$P1.tx.bytes=$SENT" "$P1.tx.time=1" \
    "$P1.tx.link_down=$N_LINK_DOWN" "$P1.tx.drops=$N_LINK_DOWN" \
    "$V0.rx.packets=1" "$V0.rx.port_rx=1"
show_text one "$P0"
check_text one "$P0" "$P0.rx.drop_action=$N_DROP_RULE" "$P0.tx.packets=50"
$APPCTL perfsight/reset "$BR"
$APPCTL perfsight/show --json "$BR" "$P0" > "$TMP/after.json"
echo '[]' > "$TMP/before.json"
check "reset: counters restart from zero" "a['$E0RX']['in_packets'] < 10 and a['$E0RX']['drops.drop_action'] == 0"
show_text reset "$P0"
check_text reset "$P0"
if grep -q "drop_action\|port_rx" "$TMP/reset.txt"; then
    log "FAIL: perfsight/show text after the reset still has the drops"
    FAILURES=$((FAILURES + 1))
else
    log "PASS: perfsight/show text after the reset: no drop_action, port_rx"
fi

if [ "$FAILURES" != 0 ]; then
    log "$FAILURES check(s) FAILED"
    exit 1
fi
log "all checks passed"
