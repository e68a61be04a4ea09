#!/bin/bash
# perfsight-agent's rounds (docs/agent.md, "Cost"): requests within
# round-ms of a round's start get that round's records, rendered once; a
# request after it gets a new sample, never the older answer.  Loopback is
# classified as a pnic, so that the test's own HTTP requests move its
# counters between rounds.
. "$(dirname "$0")/lib.sh"

make_ns
P=19470

# in_packets of lo's pnic element in a /v1/records body.
lo_in() {
    jq -r '.[] | select(.element == "pnic:lo:rx") | .attrs.in_packets' "$1"
}
ts() {
    jq -r '.[0].ts_ns' "$1"
}
get() {
    in_ns curl -sf "http://127.0.0.1:$P$1" -o "$2"
}

# One long round: everything from the first sample.
start_agent long --listen=127.0.0.1:$P --libvirt-uri=none --class=lo=pnic \
    --set=round-ms=60000 || finish
get /v1/records "$TMP/a.json"
get /v1/records "$TMP/b.json"
if [ -s "$TMP/a.json" ] && cmp -s "$TMP/a.json" "$TMP/b.json"; then
    ok "a second request in the round gets the same records"
else
    fail "two requests of one round differ"
fi
# Two clients at once, on their own connections.
get /v1/records "$TMP/c1.json" & c1=$!
get /v1/records "$TMP/c2.json" & c2=$!
wait $c1 $c2
cmp -s "$TMP/a.json" "$TMP/c1.json" && cmp -s "$TMP/a.json" "$TMP/c2.json" \
    && ok "two clients at once get the round's records" \
    || fail "concurrent clients of one round differ"
get /metrics "$TMP/m.txt"
m=$(sed -n '/^perfsight_in_packets_total{.*element="pnic:lo:rx"/s/.* //p' \
    "$TMP/m.txt")
[ -n "$m" ] && [ "$m" = "$(lo_in "$TMP/a.json")" ] \
    && ok "/metrics of the round has the same counters ($m)" \
    || fail "/metrics of the round: in_packets '$m'," \
            "JSON $(lo_in "$TMP/a.json")"
stop_last_agent

# round-ms=0: every request samples.
start_agent zero --listen=127.0.0.1:$P --libvirt-uri=none --class=lo=pnic \
    --set=round-ms=0 || finish
get /v1/records "$TMP/a.json"
get /v1/records "$TMP/b.json"
if [ "$(ts "$TMP/a.json")" != "$(ts "$TMP/b.json")" ] \
        && [ "$(lo_in "$TMP/b.json")" -gt "$(lo_in "$TMP/a.json")" ]; then
    ok "round-ms=0: each request a new sample"
else
    fail "round-ms=0: a request got an older sample"
fi
stop_last_agent

# A short round ends: the next request is answered from a new sample.
start_agent short --listen=127.0.0.1:$P --libvirt-uri=none --class=lo=pnic \
    --set=round-ms=300 || finish
get /metrics "$TMP/m0.txt"
get /v1/records "$TMP/a.json"
sleep 0.6
get /metrics "$TMP/m1.txt"
get /v1/records "$TMP/b.json"
if [ "$(ts "$TMP/b.json")" -gt "$(ts "$TMP/a.json")" ] \
        && [ "$(lo_in "$TMP/b.json")" -gt "$(lo_in "$TMP/a.json")" ] \
        && ! cmp -s "$TMP/m0.txt" "$TMP/m1.txt"; then
    ok "after the round, new records (never the older answer)"
else
    fail "an answer outlived its round"
fi
stop_last_agent

# Bad values are refused.
for v in -1 60001 x; do
    if in_ns "$AGENT" --set=round-ms=$v --once >/dev/null 2>"$TMP/err" \
            || ! grep -q round-ms "$TMP/err"; then
        fail "round-ms=$v accepted"
    fi
done
ok "bad round-ms refused"

finish
