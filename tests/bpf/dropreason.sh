#!/bin/bash
# The drop-reason source and queue lengths on real traffic (issue 15), in
# network namespaces of the test's own:
#   1. a tap whose transmit filter (TUNSETTXFILTER) lets one MAC through and
#      whose reader never reads: a known number of packets toward another
#      MAC must show as drops.tap_txfilter (and as perf's count of
#      skb:kfree_skb with that reason), the ring's overflow as
#      drops.full_ring, adding up to the kernel's tx_dropped;
#   2. the rule book: the filter's loss, one VM's tap, is a "vm bottleneck"
#      by its location alone and a "guest mac filter" by its reason; the
#      full ring stays a bottleneck;
#   3. without the privilege to load BPF, or with PERFSIGHT_DROPREASON=off,
#      the agent says so once (or nothing) and counts as before;
#   4. a veth's tbf qdisc that fills: queue_len against "tc -s qdisc", and
#      perfsight show's delay against the qdisc's own backlog over its rate.
# Needs root; AGENT and PERFSIGHT name the programs.  The recordings of 2
# are examples/recorded/kernel-tap-*.jsonl (PERFSIGHT_BPF_SAVE=DIR).
. "$(dirname "$0")/../agent/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
: "${PERFSIGHT:?PERFSIGHT must name the perfsight program}"
agent_dir=$(cd "$here/../agent" && pwd)
top=$(cd "$here/../.." && pwd)

make_ns
ip netns add "$NS2"
P=19590

# The tap: MAC 02:00:00:00:00:02 passes its filter, ...:03 does not.
in_ns python3 "$here/filtered-tap.py" psbtap0 02:00:00:00:00:02 \
    >"$TMP/tap.out" &
pids+=($!)
for _ in $(seq 50); do
    grep -q ready "$TMP/tap.out" 2>/dev/null && break
    sleep 0.1
done
in_ns sysctl -qw net.ipv6.conf.psbtap0.disable_ipv6=1
in_ns ip link set psbtap0 up
in_ns ip addr add 10.93.0.1/24 dev psbtap0
in_ns ip neigh add 10.93.0.2 lladdr 02:00:00:00:00:02 dev psbtap0 nud permanent
in_ns ip neigh add 10.93.0.3 lladdr 02:00:00:00:00:03 dev psbtap0 nud permanent

# The veth pair whose transmit side gets a slow tbf.
ip link add psbv0 netns "$NS" type veth peer name psbv1 netns "$NS2"
in_ns sysctl -qw net.ipv6.conf.psbv0.disable_ipv6=1
ip netns exec "$NS2" sysctl -qw net.ipv6.conf.psbv1.disable_ipv6=1
in_ns ip addr add 10.94.0.1/24 dev psbv0
in_ns ip link set psbv0 up
ip netns exec "$NS2" ip link set psbv1 up
in_ns ip neigh add 10.94.0.2 lladdr 02:00:00:00:00:04 dev psbv0 nud permanent

cat >"$TMP/agent.conf" <<CONF
host = hv1
libvirt-uri = none
class.psbv* = pnic
vm.psbtap0 = vmA
CONF
start_agent main --config="$TMP/agent.conf" --listen=127.0.0.1:$P \
    --sources=netlink || finish
if grep -q "drop reasons" "$TMP/main.log"; then
    fail "the drop-reason source did not load: $(cat "$TMP/main.log")"
    finish
fi

records() {
    in_ns curl -sf "http://127.0.0.1:$P/v1/records" | jq -c '.[]'
}
tx_dropped() {
    in_ns cat /sys/class/net/psbtap0/statistics/tx_dropped
}
tapattr() {
    jq -r --arg a "$2" 'select(.element == "tap:psbtap0:to_guest")
                        | .attrs[$a] // 0' "$1"
}

# The kernel's own count of the drops of one reason, host-wide, while a
# command runs: perf counting skb:kfree_skb with a filter on the reason's
# value, with tracefs mounted in a mount namespace of its own (the host's
# mounts stay as they are).  Prints the count, or nothing if it cannot.
kernel_count() {
    local reason=$1 value
    shift
    value=$(bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null \
            | sed -n "s/^[[:space:]]*'SKB_DROP_REASON_$reason' val=\([0-9]*\)/\1/p")
    [ -n "$value" ] || return 0
    unshare -m sh -c 'v=$0 out=$1; shift
        mount -t tracefs nodev /sys/kernel/tracing \
        && exec perf stat -x, -e skb:kfree_skb --filter "reason == $v" \
           -a -o "$out" -- "$@"' "$value" "$TMP/perf.csv" "$@" \
        >"$TMP/perf.out" 2>"$TMP/perf.err" || return 0
    sed -n 's/^\([0-9]*\),.*skb:kfree_skb.*/\1/p' "$TMP/perf.csv"
}

# 1. The filter's drops, then the ring's.
records >"$TMP/r0.jsonl"
k0=$(tx_dropped)
if command -v perf >/dev/null && command -v bpftool >/dev/null; then
    perf_count=$(kernel_count TAP_TXFILTER ip netns exec "$NS" python3 \
                 "$agent_dir/udp-flood.py" 10.93.0.3 9 300)
    sent=$(cat "$TMP/perf.out")
else
    perf_count=
    sent=$(in_ns python3 "$agent_dir/udp-flood.py" 10.93.0.3 9 300)
fi
records >"$TMP/r1.jsonl"
k1=$(tx_dropped)
if [ -n "$perf_count" ]; then
    echo "   the kernel's own count (perf, skb:kfree_skb reason TAP_TXFILTER):" \
         "$perf_count"
    [ "$perf_count" = "$(tapattr "$TMP/r1.jsonl" drops.tap_txfilter)" ] \
        && ok "drops.tap_txfilter is what perf counts on the tracepoint" \
        || fail "perf counted $perf_count, the agent" \
                "$(tapattr "$TMP/r1.jsonl" drops.tap_txfilter)"
else
    missing "perf (linux-perf) and bpftool, for the kernel's own count" \
            "$(cat "$TMP/perf.err" 2>/dev/null)"
fi
echo "   sent $sent toward the filtered MAC; kernel tx_dropped $k0 -> $k1;" \
     "agent tap_txfilter $(tapattr "$TMP/r1.jsonl" drops.tap_txfilter)"
if [ "$(tapattr "$TMP/r1.jsonl" drops.tap_txfilter)" = 300 ] \
        && [ "$((k1 - k0))" = 300 ] \
        && [ "$(tapattr "$TMP/r1.jsonl" drops)" = "$k1" ]; then
    ok "drops.tap_txfilter counts the 300 packets the filter refused"
else
    fail "tap_txfilter: $(grep psbtap0:to_guest "$TMP/r1.jsonl")"
fi

sent=$(in_ns python3 "$agent_dir/udp-flood.py" 10.93.0.2 9 1500)
records >"$TMP/r2.jsonl"
k2=$(tx_dropped)
qlen=$(in_ns cat /sys/class/net/psbtap0/tx_queue_len)
full=$(tapattr "$TMP/r2.jsonl" drops.full_ring)
echo "   sent $sent toward the allowed MAC (ring of $qlen); kernel" \
     "tx_dropped $k1 -> $k2; agent full_ring $full"
if [ "$full" = "$((k2 - k1))" ] && [ "$full" = "$((sent - qlen))" ] \
        && [ "$(tapattr "$TMP/r2.jsonl" drops.tap_txfilter)" = 300 ] \
        && [ "$(tapattr "$TMP/r2.jsonl" drops)" = "$k2" ]; then
    ok "drops.full_ring counts the ring's overflow; the reasons add up"
else
    fail "full_ring: $(grep psbtap0:to_guest "$TMP/r2.jsonl")"
fi

# 2. The rule book: the location alone against the reason.
grep -v '^tap/' "$top/data/rulebook" >"$TMP/rulebook-no-reasons"
cat "$TMP/r0.jsonl" "$TMP/r1.jsonl" >"$TMP/filter.jsonl"
cat "$TMP/r1.jsonl" "$TMP/r2.jsonl" >"$TMP/ring.jsonl"
# PERFSIGHT_BPF_SAVE=DIR keeps the two recordings (examples/recorded/).
if [ -n "${PERFSIGHT_BPF_SAVE:-}" ]; then
    cp "$TMP/filter.jsonl" "$PERFSIGHT_BPF_SAVE/kernel-tap-txfilter.jsonl"
    cp "$TMP/ring.jsonl" "$PERFSIGHT_BPF_SAVE/kernel-tap-full-ring.jsonl"
fi
verdict() {
    "$PERFSIGHT" diagnose contention --format json "$@" 2>>"$TMP/notes" \
        | jq -c '.hosts[0] | [.verdict, .location, .reason, .resources]'
}
by_location=$(verdict --input "$TMP/filter.jsonl" \
                      --rulebook "$TMP/rulebook-no-reasons")
by_reason=$(verdict --input "$TMP/filter.jsonl")
by_ring=$(verdict --input "$TMP/ring.jsonl")
echo "   filter, location alone: $by_location"
echo "   filter, with reasons:   $by_reason"
echo "   full ring:              $by_ring"
[ "$by_location" = '["bottleneck","tap","tap_txfilter",["vm bottleneck (cpu or bandwidth)"]]' ] \
    && ok "by its location alone, the filter's loss looks like a VM bottleneck" \
    || fail "location alone: $by_location"
[ "$by_reason" = '["bottleneck","tap","tap_txfilter",["guest mac filter"]]' ] \
    && ok "by its reason, the filter's loss is the guest's MAC filter" \
    || fail "with reasons: $by_reason"
[ "$by_ring" = '["bottleneck","tap","full_ring",["vm bottleneck (cpu or bandwidth)"]]' ] \
    && ok "a full ring stays a VM bottleneck" \
    || fail "full ring: $by_ring"

# 3. Without the privilege, and turned off.
P2=$((P + 1))
# Root without capabilities: another user could not reach a build in a
# private directory (a clone under /root, or mktemp -d).
ip netns exec "$NS" setpriv --inh-caps=-all --ambient-caps=-all \
    --bounding-set=-all \
    "$AGENT" --host=hv1 --libvirt-uri=none --vm=psbtap0=vmA \
    --listen=127.0.0.1:$P2 --sources=netlink >"$TMP/nopriv.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    in_ns curl -sf -o /dev/null "http://127.0.0.1:$P2/healthz" && break
    sleep 0.1
done
in_ns curl -sf "http://127.0.0.1:$P2/v1/records" >/dev/null
in_ns curl -sf "http://127.0.0.1:$P2/v1/records" | jq -c '.[]' \
    >"$TMP/nopriv.jsonl"
if [ "$(grep -c 'drop reasons:' "$TMP/nopriv.log")" = 1 ] \
        && [ "$(tapattr "$TMP/nopriv.jsonl" drops.tx_dropped)" = "$k2" ] \
        && [ "$(tapattr "$TMP/nopriv.jsonl" drops.full_ring)" = 0 ]; then
    ok "unprivileged: said once ($(grep 'drop reasons:' "$TMP/nopriv.log" \
        | sed 's/^perfsight-agent: //')), counts as before"
else
    fail "unprivileged agent: $(cat "$TMP/nopriv.log")"
fi
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null; unset 'pids[-1]'

PERFSIGHT_DROPREASON=off start_agent off --config="$TMP/agent.conf" \
    --listen=127.0.0.1:$P2 --sources=netlink
in_ns curl -sf "http://127.0.0.1:$P2/v1/records" | jq -c '.[]' >"$TMP/off.jsonl"
if ! grep -q 'drop reasons' "$TMP/off.log" \
        && [ "$(tapattr "$TMP/off.jsonl" drops.tx_dropped)" = "$k2" ]; then
    ok "PERFSIGHT_DROPREASON=off: silent, counts as before"
else
    fail "turned off: $(cat "$TMP/off.log")"
fi
stop_last_agent

# 4. A queue that fills: tbf at 8 kbit/s drains about 9 packets a second.
in_ns tc qdisc add dev psbv0 root tbf rate 8kbit burst 1600 limit 30000
in_ns python3 "$agent_dir/udp-flood.py" 10.94.0.2 9 400 >/dev/null
tc_backlog() {
    in_ns tc -s qdisc show dev psbv0 \
        | sed -n 's/.*backlog \([0-9]*\)b \([0-9]*\)p.*/\1 \2/p'
}
read -r _ before < <(tc_backlog)
records >"$TMP/q0.jsonl"
read -r _ after < <(tc_backlog)
q=$(jq -r 'select(.element == "pnic:psbv0:tx") | .attrs.queue_len' \
    "$TMP/q0.jsonl")
echo "   tc backlog ${before}p, agent queue_len $q, tc backlog ${after}p"
if [ "$before" -gt 100 ] && [ "$q" -le "$before" ] && [ "$q" -ge "$after" ]; then
    ok "pnic:psbv0:tx queue_len is the qdisc's backlog"
else
    fail "queue_len $q, tc ${before}p..${after}p"
fi
sleep 3
read -r bytes pkts < <(tc_backlog)
records >"$TMP/q1.jsonl"
cat "$TMP/q0.jsonl" "$TMP/q1.jsonl" >"$TMP/queue.jsonl"
delay=$("$PERFSIGHT" show --input "$TMP/queue.jsonl" --format json 2>/dev/null \
        | jq -r '.elements[] | select(.element == "pnic:psbv0:tx")
                 | .queue_delay_s')
# The kernel's own figure: what the qdisc holds over the rate it sends at.
kernel=$(echo "$bytes * 8 / 8000" | bc -l)
echo "   perfsight show: queue delay ${delay} s; tbf backlog ${bytes} B" \
     "at 8 kbit/s: $kernel s"
if [ -n "$delay" ] && [ "$delay" != null ] \
        && [ "$(echo "$delay > $kernel * 0.6 && $delay < $kernel * 1.6" | bc -l)" = 1 ]; then
    ok "the queueing delay by Little's law agrees with the qdisc's"
else
    fail "delay $delay s, kernel $kernel s"
fi
"$PERFSIGHT" show --input "$TMP/queue.jsonl" 2>/dev/null | grep -A1 "pnic:psbv0:tx" \
    | sed 's/^/   /'
"$PERFSIGHT" show --input "$TMP/queue.jsonl" 2>/dev/null | grep -q "queue_len .* delay" \
    && ok "perfsight show prints the queue and its delay" \
    || fail "no queue in perfsight show"

finish
