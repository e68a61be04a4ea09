#!/bin/bash
# perfsight-agent's Open vSwitch source against the patched ovs-vswitchd
# (patches/ovs), run from its build tree with a run directory of the
# test's own: a netdev bridge with two tap ports whose kernel ends are in
# two namespaces, ping between them; the agent's vswitch records must equal
# "ovs-appctl perfsight/show --json" read right after, carry the VM and
# tenant of the configuration or the VM of the Interface's external_ids,
# vanish while ovs-vswitchd is down, and come
# back on a new connection when it is up again.
#
# The OVS tree is $OVS_TREE, or the patched tree that build-aux/ovs-build
# left in ${PERFSIGHT_CACHE:-/var/cache/perfsight}; without one the test
# says so and skips, or fails in CI (CI=true) (it does not build OVS:
# .ci/ovs.sh does).  At exit, even on failure, it deletes the bridge before
# stopping ovs-vswitchd and then any tap the netdev datapath left behind.
. "$(dirname "$0")/lib.sh"

SRC=${OVS_TREE:-}
if [ -z "$SRC" ]; then
    for d in $(ls -dt "${PERFSIGHT_CACHE:-/var/cache/perfsight}"/ovs-*/src \
               2>/dev/null); do
        case $d in *-unpatched/src) continue ;; esac
        if [ -x "$d/vswitchd/ovs-vswitchd" ] \
           && grep -q perfsight/show "$d/ofproto/ofproto-dpif.c" 2>/dev/null
        then
            SRC=$d
            break
        fi
    done
fi
if [ -z "$SRC" ] || [ ! -x "$SRC/vswitchd/ovs-vswitchd" ]; then
    missing "no patched Open vSwitch build (build-aux/ovs-build build, or" \
            ".ci/ovs.sh, makes one); the OVS source was not run"
    finish
fi
echo "   OVS tree: $SRC"

RUN=$TMP/ovs
mkdir -p "$RUN"
export OVS_RUNDIR=$RUN OVS_LOGDIR=$RUN OVS_DBDIR=$RUN OVS_SYSCONFDIR=$RUN
export OVS_PKGDATADIR=$SRC
VSCTL="$SRC/utilities/ovs-vsctl --db=unix:$RUN/db.sock --timeout=30"
BR=psabr$(( $$ % 1000 ))
P0=psat0-$(( $$ % 1000 ))
P1=psat1-$(( $$ % 1000 ))
P=19490

stop_ovs() {
    local f
    for f in ovs-vswitchd ovsdb-server; do
        if [ -f "$RUN/$f.pid" ]; then
            kill "$(cat "$RUN/$f.pid")" 2>/dev/null
            for i in $(seq 50); do
                [ -f "$RUN/$f.pid" ] || break
                kill -0 "$(cat "$RUN/$f.pid" 2>/dev/null)" 2>/dev/null \
                    || break
                sleep 0.1
            done
            rm -f "$RUN/$f.pid"
        fi
    done
}
start_vswitchd() {
    "$SRC/vswitchd/ovs-vswitchd" --detach --no-chdir \
        --pidfile="$RUN/ovs-vswitchd.pid" --log-file="$RUN/ovs-vswitchd.log" \
        --disable-system "unix:$RUN/db.sock" >/dev/null 2>&1
}
appctl() {
    "$SRC/utilities/ovs-appctl" --timeout=30 \
        -t "$RUN/ovs-vswitchd.$(cat "$RUN/ovs-vswitchd.pid").ctl" "$@"
}
# The netdev datapath's own tap, shared by every ovs-vswitchd of that
# datapath on the host: removed at exit only if this test made it.
ip link show ovs-netdev >/dev/null 2>&1 && dp_dev= || dp_dev=ovs-netdev
ovs_cleanup() {
    # A bridge deleted while ovs-vswitchd runs takes its taps with it; a
    # stopped ovs-vswitchd leaves them (persistent taps): delete the rest.
    if [ -f "$RUN/ovs-vswitchd.pid" ] \
       && kill -0 "$(cat "$RUN/ovs-vswitchd.pid")" 2>/dev/null; then
        $VSCTL --if-exists del-br $BR >/dev/null 2>&1
    fi
    stop_ovs
    local dev
    for dev in $BR $P0 $P1 $dp_dev; do
        ip link del "$dev" 2>/dev/null
    done
    cleanup
}
trap ovs_cleanup EXIT

"$SRC/ovsdb/ovsdb-tool" create "$RUN/conf.db" \
    "$SRC/vswitchd/vswitch.ovsschema"
"$SRC/ovsdb/ovsdb-server" --detach --no-chdir \
    --pidfile="$RUN/ovsdb-server.pid" --log-file="$RUN/ovsdb-server.log" \
    --remote="punix:$RUN/db.sock" "$RUN/conf.db" >/dev/null 2>&1
$VSCTL --no-wait init
start_vswitchd
$VSCTL add-br $BR -- set bridge $BR datapath_type=netdev \
    -- add-port $BR $P0 -- set interface $P0 type=tap \
    -- add-port $BR $P1 -- set interface $P1 type=tap \
       external_ids:vm-uuid=0b6c4f7e-1c1b-4c57-9d1e-35d1bcc2e4a1 \
       external_ids:iface-id=port-1
for i in $(seq 100); do
    ip link show $P0 >/dev/null 2>&1 && ip link show $P1 >/dev/null 2>&1 \
        && break
    sleep 0.1
done
if ! ip link show $P0 >/dev/null 2>&1 || ! ip link show $P1 >/dev/null 2>&1
then
    fail "ovs-vswitchd did not create its tap ports"
    grep -iE "error|warn|emer" "$RUN/ovs-vswitchd.log" | tail -8
    finish
fi
make_ns
ip netns add "$NS2"
ip link set $P0 netns "$NS"
ip link set $P1 netns "$NS2"
in_ns ip addr add 10.76.0.1/24 dev $P0
in_ns ip link set $P0 up
ip netns exec "$NS2" ip addr add 10.76.0.2/24 dev $P1
ip netns exec "$NS2" ip link set $P1 up

start_agent ovs --listen=127.0.0.1:$P --sources=ovs --libvirt-uri=none \
    --ovs-rundir="$RUN" --vm=$P0=vm-ovs --set=tenant.vm-ovs=t9 || finish

in_ns ping -q -c 20 -i 0.05 -W 5 10.76.0.2 >/dev/null || fail "ping via OVS"
in_ns curl -sf http://127.0.0.1:$P/v1/records >"$TMP/agent.json"
appctl perfsight/show --json >"$TMP/ovs.json"
n=$(jq length "$TMP/agent.json")
[ "$n" = 6 ] && jq -e 'all(.[]; .type == "vswitch")' "$TMP/agent.json" \
    >/dev/null && ok "six vswitch elements (bridge port and two taps, rx and tx)" \
    || fail "agent has $n records: $(jq -c '[.[].element]' "$TMP/agent.json")"
# Same counters as perfsight/show (nothing moves between the two reads).
if jq -e --slurpfile o "$TMP/ovs.json" '
        [.[] | {element, attrs}] | sort_by(.element)
        == ($o[0] | [.[] | {element, attrs}] | sort_by(.element))' \
        "$TMP/agent.json" >/dev/null; then
    ok "the agent's vswitch records equal perfsight/show --json"
else
    fail "vswitch records differ from perfsight/show"
    diff <(jq -S 'sort_by(.element) | .[] | {element, attrs}' \
           "$TMP/agent.json") \
         <(jq -S 'sort_by(.element) | .[] | {element, attrs}' \
           "$TMP/ovs.json") | head -20
fi
in=$(jq -r --arg e "vswitch:$BR:$P0:rx" \
     '.[] | select(.element == $e) | .attrs.in_packets' "$TMP/agent.json")
[ "${in:-0}" -ge 20 ] && ok "vswitch:$BR:$P0:rx in_packets $in >= 20 pings" \
    || fail "in_packets $in"
[ "$(jq -r --arg e "vswitch:$BR:$P0:tx" \
     '.[] | select(.element == $e) | "\(.vm) \(.tenant) \(.host)"' \
     "$TMP/agent.json")" = "vm-ovs t9 $(jq -r '.[0].host' "$TMP/agent.json")" ] \
    && ok "VM and tenant of the port from the configuration" \
    || fail "vm/tenant of vswitch:$BR:$P0:tx"
vm=$(jq -r --arg e "vswitch:$BR:$P1:rx" '.[] | select(.element == $e) | .vm' \
     "$TMP/agent.json")
[ "$vm" = 0b6c4f7e-1c1b-4c57-9d1e-35d1bcc2e4a1 ] \
    && ok "VM of the other port from its external_ids:vm-uuid in ovsdb" \
    || fail "vm of vswitch:$BR:$P1:rx is \"$vm\""

# ovs-vswitchd down: nothing, and the agent still answers.
pid=$(cat "$RUN/ovs-vswitchd.pid")
kill "$pid"
for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
rm -f "$RUN/ovs-vswitchd.pid"
code=$(http http://127.0.0.1:$P/v1/records)
[ "$code" = 200 ] && [ "$(jq length "$TMP/body")" = 0 ] \
    && ok "ovs-vswitchd down: no vswitch records, still 200" \
    || fail "with ovs-vswitchd down: $code $(head -c 200 "$TMP/body")"

# Up again (its counters start from zero): a new connection.
start_vswitchd
for i in $(seq 100); do
    n=$(in_ns curl -sf http://127.0.0.1:$P/v1/records | jq length)
    [ "$n" = 6 ] && break
    sleep 0.1
done
[ "$n" = 6 ] && ok "ovs-vswitchd restarted: the agent reconnects" \
    || fail "after restart the agent has $n records"
finish
