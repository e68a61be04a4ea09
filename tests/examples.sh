#!/bin/bash
# The paper's cases give the paper's verdicts (examples/ README lists them).
. "${top_srcdir:-.}/tests/lib.sh"

contention() {
    local file=$1 verdict=$2 location=$3 resources=$4 vms=$5
    run 0 diagnose contention --input "$EXAMPLES/$file" --format json
    expect_json '.hosts[0].verdict' "\"$verdict\""
    expect_json '.hosts[0].location' "$location"
    expect_json '.hosts[0].resources' "$resources"
    expect_json '.hosts[0].vms' "$vms"
}

# Figure 8's five problem intervals.
contention fig8-1-pnic-flood.jsonl contention '"pnic"' \
    '["incoming bandwidth"]' '[]'
contention fig8-2-outgoing-flood.jsonl contention '"backlog"' \
    '["outgoing bandwidth"]' '[]'
contention fig8-3-cpu-contention.jsonl contention '"tap"' '["cpu"]' \
    '["mb1","mb2","vm3","vm4","vm5","vm6","vm7","vm8"]'
contention fig8-4-memory-bandwidth.jsonl contention '"tap"' \
    '["memory bandwidth"]' \
    '["mb1","mb2","vm3","vm4","vm5","vm6","vm7","vm8"]'
contention fig8-5-vm-bottleneck.jsonl bottleneck '"tap"' \
    '["vm bottleneck (cpu or bandwidth)"]' '["mb2"]'

# Figure 10: the per-CPU backlog, not the NIC (VM2's tap also counts the
# backlog's drops; they are counted once).
contention fig10-backlog-contention.jsonl contention '"backlog"' \
    '["pcpu backlog"]' '[]'
expect_json '.hosts[0].evidence.deduplicated > 0' 'true'

# The kernel's drop reasons, recorded on real traffic by
# tests/bpf/dropreason.sh (examples/recorded/, not generate.py's): one
# VM's tap losing packets to its MAC filter is the filter (Table 1 alone
# says a VM bottleneck); a full ring is the bottleneck.
contention recorded/kernel-tap-txfilter.jsonl bottleneck '"tap"' \
    '["guest mac filter"]' '["vmA"]'
expect_json '.hosts[0].reason' '"tap_txfilter"'
contention recorded/kernel-tap-full-ring.jsonl bottleneck '"tap"' \
    '["vm bottleneck (cpu or bandwidth)"]' '["vmA"]'
expect_json '.hosts[0].reason' '"full_ring"'

# Figure 12 (b, c, d).
rootcause() {
    local file=$1 topo=$2 tenant=$3 causes=$4 states=$5
    run 0 diagnose rootcause --input "$EXAMPLES/$file" \
        --topology "$EXAMPLES/$topo" --tenant "$tenant" --format json
    expect_json '[.tenants[0].root_causes[] | "\(.id):\(.state)"]' "$causes"
    [ -z "$states" ] || expect_json '.tenants[0].states' "$states"
}
rootcause fig12b-server-overloaded.jsonl fig12-topology.json t1 \
    '["server1:Overloaded"]' \
    '{"lb":"WriteBlocked","proxy1":"WriteBlocked","proxy2":"ReadBlocked","nfs":"ReadBlocked"}'
rootcause fig12c-client-underloaded.jsonl fig12-topology.json t1 \
    '["client:Underloaded"]' \
    '{"lb":"ReadBlocked","proxy1":"ReadBlocked","proxy2":"ReadBlocked","nfs":"ReadBlocked"}'
rootcause fig12d-nfs-overloaded.jsonl fig12-topology.json t1 \
    '["nfs:Overloaded"]' \
    '{"lb":"WriteBlocked","proxy1":"WriteBlocked","proxy2":"WriteBlocked","nfs":"Normal"}'

# Figure 13's phases: tenant 2's balancer is the bottleneck (0-10 s and
# 20-30 s), memory contention hits both (10-20 s), then no loss.
for phase in fig13-1-lb2-bottleneck fig13-3-lb2-bottleneck-again; do
    contention $phase.jsonl bottleneck '"tap"' \
        '["vm bottleneck (cpu or bandwidth)"]' '["lb2"]'
    rootcause $phase.jsonl fig13-topology.json t2 '["lb2:Overloaded"]' \
        '{"lb2":"Normal"}'
    rootcause $phase.jsonl fig13-topology.json t1 '["client1:Underloaded"]' \
        '{"lb1":"ReadBlocked"}'
done
contention fig13-2-memory-contention.jsonl contention '"tap"' \
    '["memory bandwidth"]' '["lb1","lb2"]'
rootcause fig13-2-memory-contention.jsonl fig13-topology.json t1 \
    '["client1:Underloaded"]' '{"lb1":"ReadBlocked"}'
rootcause fig13-2-memory-contention.jsonl fig13-topology.json t2 \
    '["client2:Underloaded"]' '{"lb2":"ReadBlocked"}'
contention fig13-4-scaled-out.jsonl none null '[]' '[]'

# The text output puts the verdict first.
run 0 diagnose contention --input "$EXAMPLES/fig8-5-vm-bottleneck.jsonl"
sed -n 3p "$TMP/out" | grep -q "^host hv1: BOTTLENECK at tap" \
    || fail "text verdict is not first: $(sed -n 3p "$TMP/out")"
run 0 diagnose rootcause --input "$EXAMPLES/fig12d-nfs-overloaded.jsonl" \
    --topology "$EXAMPLES/fig12-topology.json"
expect_out "tenant t1: ROOT CAUSE nfs Overloaded"

# The generator reproduces the committed examples exactly.
if command -v python3 >/dev/null; then
    python3 "$EXAMPLES/generate.py" "$TMP"
    for f in "$EXAMPLES"/*.jsonl "$EXAMPLES"/*.json; do
        cmp -s "$f" "$TMP/$(basename "$f")" \
            || fail "examples/$(basename "$f") differs from generate.py's"
    done
fi
finish
