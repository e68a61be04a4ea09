#!/bin/bash
# perfsight-agent on real devices: a tap whose reader is stalled (its loss
# shows in the agent's tap element), veths classified as pNICs, backlog
# drops provoked with receive packet steering, VM and tenant names from the
# configuration file, and Prometheus scraping two agents and answering the
# same as the agents' /v1/records.  All in network namespaces of the
# test's own, removed at exit.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

make_ns
ip netns add "$NS2"
P=19480

# sysfs value of a device in the namespace.
stat_of() {
    in_ns cat /sys/class/net/$1/statistics/$2
}

# A tap with a stalled reader.
make_stalled_tap pstap0 10.78.0.1 10.78.0.2

# A veth pair between the two namespaces.
ip link add psv0 netns "$NS" type veth peer name psv1 netns "$NS2"
in_ns sysctl -qw net.ipv6.conf.psv0.disable_ipv6=1
ip netns exec "$NS2" sysctl -qw net.ipv6.conf.psv1.disable_ipv6=1
in_ns ip addr add 10.77.0.1/24 dev psv0
in_ns ip link set psv0 up
ip netns exec "$NS2" ip link set lo up
ip netns exec "$NS2" ip addr add 10.77.0.2/24 dev psv1
ip netns exec "$NS2" ip link set psv1 up

cat >"$TMP/agent.conf" <<CONF
# perfsight-agent configuration of the test
host = hv1
listen = 127.0.0.1:$P
libvirt-uri = none
class.psv* = pnic
vm.pstap0 = vmA
tenant.vmA = t1
CONF
start_agent main --config="$TMP/agent.conf" --listen=127.0.0.1:$P \
    || finish

# Classification.
in_ns curl -sf http://127.0.0.1:$P/v1/records >"$TMP/r0.json"
for e in tap:pstap0:to_guest tap:pstap0:from_guest pnic:psv0:rx \
         pnic_driver:psv0:rx pnic:psv0:tx; do
    jq -e --arg e $e 'any(.[]; .element == $e)' "$TMP/r0.json" >/dev/null \
        || fail "no element $e"
done
jq -e 'all(.[]; .element | test("^(pnic|pnic_driver|tap):lo:") | not)' \
    "$TMP/r0.json" >/dev/null || fail "loopback became an element"
[ "$(jq -r '.[] | select(.element == "tap:pstap0:to_guest") | .type' \
     "$TMP/r0.json")" = tap ] && ok "tap and veth elements, lo ignored" \
    || fail "tap type"

# Loss toward the stalled "guest".
sent=$(in_ns python3 "$here/udp-flood.py" 10.78.0.2 9 5000)
dropped=$(stat_of pstap0 tx_dropped)
drops=$(attr $P tap:pstap0:to_guest drops)
# With the drop-reason source, the kernel's reasons (full_ring) break
# tx_dropped down; without it, drops.tx_dropped is all of it.
reason=$(in_ns curl -sf "http://127.0.0.1:$P/v1/records" \
    | jq '[.[] | select(.element == "tap:pstap0:to_guest") | .attrs
           | to_entries[] | select(.key | startswith("drops.")) | .value]
          | add')
echo "   sent $sent toward the stalled tap; kernel tx_dropped $dropped;" \
     "agent drops $drops"
if [ "$dropped" -gt 0 ] && [ "$drops" = "$dropped" ] \
        && [ "$reason" = "$dropped" ]; then
    ok "tap:pstap0:to_guest counts the stalled reader's loss"
else
    fail "tap drops: agent $drops/$reason, kernel $dropped"
fi
[ "$(field $P tap:pstap0:to_guest vm)" = vmA ] \
    && [ "$(field $P tap:pstap0:to_guest tenant)" = t1 ] \
    && ok "vm and tenant from the configuration file" \
    || fail "vm/tenant of the tap"

# veth counters against sysfs (no traffic moves now but what we send).
ip netns exec "$NS2" ping -c 5 -i 0.2 -q 10.77.0.1 >/dev/null \
    || fail "ping over the veth"
rx=$(stat_of psv0 rx_packets)
a1=$(attr $P pnic:psv0:rx out_packets)
a2=$(attr $P pnic_driver:psv0:rx out_packets)
rx2=$(stat_of psv0 rx_packets)
[ "$rx" -ge 5 ] && [ "$a1" -ge "$rx" ] && [ "$a1" -le "$rx2" ] \
    && [ "$a2" -ge "$rx" ] && [ "$a2" -le "$rx2" ] \
    && ok "pnic:psv0:rx carries rx_packets ($a1)" \
    || fail "veth rx_packets: $rx..$rx2 vs $a1, $a2"

# Backlog drops: steer psv0's receive processing (RPS) to CPU 1 while
# senders on CPU 0 flood it, so CPU 1's backlog overflows if it cannot keep
# up.  netdev_max_backlog is not per namespace, so it is left alone.
backlog_drops() {
    local row=0 f
    while read -r -a f; do
        if (( 16#${f[12]:-$(printf %x $row)} == $1 )); then
            echo $(( 16#${f[1]} ))
            return
        fi
        row=$((row + 1))
    done </proc/net/softnet_stat
    echo 0
}
if [ "$(nproc)" -lt 2 ]; then
    missing "backlog drops: one CPU, nothing to steer to"
elif ! in_ns sh -c 'echo 2 > /sys/class/net/psv0/queues/rx-0/rps_cpus'; then
    missing "backlog drops: RPS is not available"
else
    before=$(backlog_drops 1)
    # flood [HOG]: four senders on CPU 0; with HOG, a real-time busy loop
    # holds CPU 1 meanwhile (for 5 s at most; the kernel's RT throttling
    # leaves others 5 %), so that its backlog is drained late.
    flood() {
        local hog= i
        if [ -n "${1:-}" ]; then
            timeout 5 chrt -f 1 taskset -c 1 sh -c 'while :; do :; done' &
            hog=$!
        fi
        for i in 1 2 3 4; do
            ip netns exec "$NS2" taskset -c 0 python3 "$here/udp-flood.py" \
                10.77.0.1 9 200000 >/dev/null &
            flooders[$i]=$!
        done
        for i in 1 2 3 4; do
            wait ${flooders[$i]}
        done
        [ -n "$hog" ] && { kill $hog 2>/dev/null; wait $hog 2>/dev/null; }
        return 0
    }
    flood
    for attempt in 1 2; do
        if [ "$(backlog_drops 1)" != "$before" ] || ! command -v chrt \
                >/dev/null; then
            break
        fi
        echo "   no backlog drop yet; again with CPU 1 held by a busy loop"
        flood hog
    done
    after=$(backlog_drops 1)
    agent_drops=$(attr $P backlog:cpu1 drops)
    after2=$(backlog_drops 1)
    if [ "$after" -gt "$before" ]; then
        echo "   CPU 1's backlog dropped $((after - before)) packets"
        if [ "$agent_drops" -ge "$after" ] && [ "$agent_drops" -le "$after2" ]
        then
            ok "backlog:cpu1 counts the backlog's drops ($agent_drops)"
        else
            fail "backlog:cpu1 drops $agent_drops, softnet_stat $after"
        fi
        rxd=$(stat_of psv0 rx_dropped)
        [ "$rxd" -gt 0 ] && [ "$(attr $P pnic_driver:psv0:rx drops)" = "$rxd" ] \
            && ok "and pnic_driver:psv0:rx counts them too ($rxd)" \
            || fail "pnic_driver:psv0:rx drops vs rx_dropped $rxd"
    else
        missing "backlog drops: CPU 1 kept up with the flood, none to see"
    fi
fi

# Prometheus scraping this agent and a second one.
if ! command -v prometheus >/dev/null; then
    missing "Prometheus: Debian's prometheus package is not installed"
    finish
fi
start_agent second --listen=127.0.0.1:$((P + 1)) --host=hv2 \
    --libvirt-uri=none --sources=softnet,cpu || finish
cat >"$TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: perfsight
    static_configs:
      - targets: ["127.0.0.1:$P", "127.0.0.1:$((P + 1))"]
YML
ip netns exec "$NS" prometheus --config.file="$TMP/prometheus.yml" \
    --storage.tsdb.path="$TMP/prom" --web.listen-address=127.0.0.1:19090 \
    >"$TMP/prometheus.out" 2>&1 &
pids+=($!)
query() {
    in_ns curl -sf --data-urlencode "query=$1" \
        http://127.0.0.1:19090/api/v1/query
}
# Wait (up to two minutes: this is no measure of speed) until Prometheus
# has scraped both agents.
for i in $(seq 240); do
    n=$(query 'count(count by (host) (perfsight_in_packets_total))' \
        2>/dev/null | jq -r '.data.result[0].value[1] // 0' 2>/dev/null)
    [ "${n:-0}" = 2 ] && break
    sleep 0.5
done
if [ "${n:-0}" != 2 ]; then
    fail "Prometheus did not scrape both agents"
    tail -5 "$TMP/prometheus.out"
    finish
fi
ok "Prometheus scraped two agents (hosts hv1, hv2)"

# The counters that no longer move must be the same in both.
for e in tap:pstap0:to_guest pnic:psv0:rx; do
    a=$(attr $P $e drops)
    p=$(query "perfsight_drops_total{element=\"$e\"}" \
        | jq -r '.data.result[0].value[1]')
    [ "$a" = "$p" ] && ok "$e drops: agent $a, Prometheus $p" \
        || fail "$e drops: agent $a, Prometheus $p"
done
# full_ring with the drop-reason source (docs/dropreason.md), else
# tx_dropped.
r=full_ring
[ "$(attr $P tap:pstap0:to_guest drops.full_ring)" = null ] && r=tx_dropped
a=$(attr $P tap:pstap0:to_guest drops.$r)
p=$(query "perfsight_drops_by_reason_total{element=\"tap:pstap0:to_guest\",reason=\"$r\"}" \
    | jq -r '.data.result[0].value[1]')
[ "$a" = "$p" ] && [ "$a" != null ] && ok "drops by reason: $r $p" \
    || fail "by reason $r: $a vs $p"
labels=$(query 'perfsight_drops_total{element="tap:pstap0:to_guest"}' \
    | jq -r '.data.result[0].metric | "\(.host) \(.type) \(.vm) \(.tenant)"')
[ "$labels" = "hv1 tap vmA t1" ] && ok "labels: $labels" \
    || fail "labels: $labels"
u=$(query 'perfsight_cpu_util{host="hv2",element="cpu:host"}' \
    | jq -r '.data.result[0].value[1]')
awk -v u="$u" 'BEGIN { exit !(u >= 0 && u <= 1) }' \
    && ok "cpu_util gauge in Prometheus: $u" || fail "cpu_util: $u"

finish
