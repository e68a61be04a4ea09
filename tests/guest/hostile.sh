#!/bin/bash
# hostile.sh: the agent's guest source against hostile guests.  Guests are
# unix socket peers (tests/guest/hostile-peer.py) in the agent's guest-dir,
# which is what the source sees of a VM's virtio-serial port: one good
# guest and six that send garbage, an oversized answer, nothing (a hang),
# another VM's element, a host element, or data they were not asked for.
# A real perfsight-agent serves GET /v1/records: the good guest's element
# and the softnet source's are there, nothing of the hostile ones is, each
# hostile guest is reported in the agent's log and cut off (not contacted
# again in the next rounds), and the agent keeps serving.
#
# usage: AGENT=perfsight-agent tests/guest/hostile.sh   (no root needed)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${AGENT:?AGENT must name the perfsight-agent program}"
for tool in curl jq python3; do
    command -v $tool >/dev/null || { echo "hostile: FAIL: $tool is needed"; exit 1; }
done

TMP=$(mktemp -d /tmp/perfsight-guest-hostile.XXXXXX)
PEER_PID=
AGENT_PID=
cleanup() {
    local rc=$?
    for pid in $AGENT_PID $PEER_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if grep -q "runtime error\|Sanitizer" "$TMP/agent.log" 2>/dev/null; then
        echo "hostile: FAIL: sanitizer report:"; head -40 "$TMP/agent.log"
        rc=1
    fi
    [ $rc = 0 ] || { echo "hostile: agent log:"; cat "$TMP/agent.log" 2>/dev/null; }
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "hostile: FAIL: $*"; exit 1; }
say() { echo "hostile: $*"; }

mkdir "$TMP/guests"
python3 "$HERE/hostile-peer.py" "$TMP/guests" &
PEER_PID=$!
for _ in $(seq 1 100); do [ -f "$TMP/guests/ready" ] && break; sleep 0.1; done
[ -f "$TMP/guests/ready" ] || fail "the peers did not start"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$AGENT" --listen "127.0.0.1:$port" --host hv1 --sources=guest,softnet \
    --libvirt-uri=none --set guest-dir="$TMP/guests" \
    --set daemon-timeout-ms=500 > "$TMP/agent.log" 2>&1 &
AGENT_PID=$!
url=http://127.0.0.1:$port/v1/records
for _ in $(seq 1 100); do curl -sf "$url" -o /dev/null && break; sleep 0.1; done

# Three rounds: the first meets every guest, the next two must not
# contact the ones that were cut off, nor wait for them.
for round in 1 2 3; do
    curl -sf --max-time 60 "$url" > "$TMP/r$round.json" \
        || fail "round $round: no answer from the agent"
done
kill -0 "$AGENT_PID" || fail "the agent died"

for round in 1 2 3; do
    jq -e '[.[] | select(.element == "vnic:good:eth0:rx" and .vm == "good"
                        and .host == "hv1")] | length == 1' \
        "$TMP/r$round.json" > /dev/null \
        || fail "round $round: no vnic:good:eth0:rx"
    jq -e '[.[] | select(.type == "backlog")] | length > 0' \
        "$TMP/r$round.json" > /dev/null \
        || fail "round $round: the softnet source's elements are missing"
    bad=$(jq -r '.[] | select(.type != "backlog" and .element != "vnic:good:eth0:rx")
                 | .element' "$TMP/r$round.json")
    [ -z "$bad" ] || fail "round $round: elements of hostile guests: $bad"
done
say "the good guest's element and the host's backlogs in every round, nothing else"

# the good guest answered each round: its counter is the request number
seqs=$(jq -r '.[] | select(.element == "vnic:good:eth0:rx") | .attrs.in_packets' \
       "$TMP"/r[123].json | tr '\n' ' ')
say "good guest's answers to requests: $seqs"

check_reported() {
    local vm=$1 why=$2
    grep -q "guest $vm: .*$why.*cut off" "$TMP/agent.log" \
        || fail "$vm: not reported as \"$why\""
    local conns
    conns=$(wc -l < "$TMP/guests/$vm.conns")
    [ "$conns" = 1 ] || fail "$vm: contacted $conns times, not cut off"
    say "$vm: reported ($(grep -o "guest $vm: .*" "$TMP/agent.log" | head -1)), not contacted again"
}
check_reported garbage "not JSON"
check_reported oversized "over the bounds"
check_reported hang "no answer within 500 ms"
check_reported othervm "bad vnic id"
check_reported host "only send vnic"
check_reported unasked "not asked for"
[ "$(wc -l < "$TMP/guests/good.conns")" = 1 ] \
    || fail "the good guest was reconnected"
say "PASS"
