#!/bin/bash
# Bad input: a clear message naming the file, the line or the field, and a
# non-zero exit; never a crash (the build under test has ASan and UBSan).
. "${top_srcdir:-.}/tests/lib.sh"

R='"ts_ns": 1764151200000000000, "host": "hv1", "element": "tap:a:to_guest", "type": "tap"'
R2='"ts_ns": 1764151201000000000, "host": "hv1", "element": "tap:a:to_guest", "type": "tap"'
good() { echo "{$R, \"attrs\": {\"drops\": 1}}"; echo "{$R2, \"attrs\": {\"drops\": 9}}"; }

# bad NAME CONTENT MESSAGE...
bad() {
    local name=$1 content=$2
    shift 2
    printf '%s' "$content" > "$TMP/$name"
    run 1 diagnose contention --input "$TMP/$name"
    for msg in "$@"; do
        expect_err "$msg"
    done
}

bad empty.jsonl "" "empty.jsonl: no records (empty input)"
bad blank.jsonl $'\n\n  \n' "blank.jsonl: no records"
bad truncated.jsonl "$(good)
{$R, \"attrs\": {\"drops\"" "truncated.jsonl:3: the record that starts here is truncated"
bad truncated-array.json "[{$R, \"attrs\": {}}," "truncated-array.json:1: the array that starts here is truncated"
bad invalid.jsonl "$(good)
{$R, \"attrs\": {\"drops\": 1,}}" "invalid.jsonl:3: invalid JSON"
bad garbage.jsonl "hello" "garbage.jsonl:1: invalid JSON: expected a record"
bad binary.jsonl $'\x01\x02' "binary.jsonl:1: invalid JSON" "byte 0x01"
bad one-sample.jsonl "{$R, \"attrs\": {\"drops\": 1}}" \
    "one-sample.jsonl: no element has two samples in the window (1 records read)"
bad wrong-type.jsonl "$(good)
{$R2, \"attrs\": {\"drops\": \"many\"}}" "wrong-type.jsonl:3" "attrs.drops must be a non-negative integer"
bad negative.jsonl "{$R, \"attrs\": {\"in_packets\": -4}}" "negative.jsonl:1" \
    "attrs.in_packets: -4 is negative"
bad overflow.jsonl "{$R, \"attrs\": {\"in_packets\": 18446744073709551616}}" \
    "overflow.jsonl:1: invalid JSON: Problem while parsing a number"
bad missing-host.jsonl '{"ts_ns": 5, "element": "e", "type": "tap", "attrs": {}}' \
    'missing-host.jsonl:1: element "e": missing field "host"'
bad missing-ts.jsonl '{"host": "h", "element": "e", "type": "tap", "attrs": {}}' \
    'missing-ts.jsonl:1: element "e": missing field "ts_ns"'
bad unknown-type.jsonl '{"ts_ns": 5, "host": "h", "element": "e", "type": "router", "attrs": {}}' \
    'unknown element type "router"'
bad twins.jsonl "{$R, \"attrs\": {\"drops\": 1}}
{$R2, \"attrs\": {\"drops\": 2}}
{$R, \"attrs\": {\"drops\": 3}}" "twins.jsonl:3" \
    "two samples at ts_ns 1764151200000000000 differ (this one and the one at line 1)"
bad cpu.jsonl "{$R, \"attrs\": {\"cpu_util\": 3}}" "cpu_util: 3 is out of range"
run 1 show --input "$TMP/nonexistent.jsonl"
expect_err "nonexistent.jsonl: cannot open: No such file or directory"
run 1 show --input "$TMP"
expect_err "perfsight: $TMP"
expect_err "Is a directory"

# Unknown attributes are ignored (DESIGN.md §3), and mentioned once.
good > "$TMP/good.jsonl"
printf '{%s, "attrs": {"drops": 1, "queue": 3}}\n{%s, "attrs": {"drops": 9, "queue": 4}}\n' \
    "$R" "$R2" > "$TMP/unknown-attr.jsonl"
run 0 diagnose contention --input "$TMP/unknown-attr.jsonl" --format json
expect_err 'ignoring unknown attribute "queue"'
[ "$(grep -c queue "$TMP/err")" = 1 ] || fail "unknown attribute mentioned more than once"
expect_json '.hosts[0].verdict' '"bottleneck"'

# Topologies.
T='{"hosts": [{"id": "hv1"}], "tenants": [{"id": "t1", "middleboxes": [{"id": "m", "host": "hv1", "element": "middlebox:vm1:m", "capacity_bps": 1e8}], "links": LINKS}]}'
M1='{"ts_ns": 1764151200000000000, "host": "hv1", "element": "middlebox:vm1:m", "type": "middlebox", "attrs": {"in_bytes": 1, "out_bytes": 1, "in_time_ns": 1, "out_time_ns": 1}}'
M2='{"ts_ns": 1764151201000000000, "host": "hv1", "element": "middlebox:vm1:m", "type": "middlebox", "attrs": {"in_bytes": 100, "out_bytes": 100, "in_time_ns": 100, "out_time_ns": 100}}'
printf '%s\n%s\n' "$M1" "$M2" > "$TMP/mb.jsonl"
topo() {
    local name=$1 links=$2
    shift 2
    echo "${T/LINKS/$links}" > "$TMP/$name"
    run 1 diagnose rootcause --input "$TMP/mb.jsonl" --topology "$TMP/$name"
    for msg in "$@"; do
        expect_err "$msg"
    done
}
T_OK=${T/LINKS/'[["client", "m"], ["m", "server"]]'}
echo "$T_OK" > "$TMP/ok.json"
run 0 diagnose rootcause --input "$TMP/mb.jsonl" --topology "$TMP/ok.json"
topo cycle.json '[["m", "x"], ["x", "y"], ["y", "m"]]' "cycle.json: tenant \"t1\".links: the links form a cycle"
topo self.json '[["m", "m"]]' 'links[0]: "m" links to itself'
topo element-link.json '[["m", "middlebox:vm9:x"]]' 'links[0]: unknown middlebox "middlebox:vm9:x"'
topo bad-link.json '[["m"]]' "links[0] must be a pair"
echo '{"tenants": [{"id": "t1", "middleboxes": [{"id": "m", "host": "hv1", "element": "middlebox:vm1:gone", "capacity_bps": 1e8}]}]}' > "$TMP/missing.json"
run 1 diagnose rootcause --input "$TMP/mb.jsonl" --topology "$TMP/missing.json"
expect_err 'middlebox "m": element "middlebox:vm1:gone" of host "hv1" is not in the recording'
echo '{"tenants": [{"id": "t1", "middleboxes": [{"id": "m", "host": "hv1", "element": "middlebox:vm1:m"}]}]}' > "$TMP/nocap.json"
run 1 diagnose rootcause --input "$TMP/mb.jsonl" --topology "$TMP/nocap.json"
expect_err 'capacity unknown'
printf '{"tenants": [' > "$TMP/trunc.json"
run 1 diagnose rootcause --input "$TMP/mb.jsonl" --topology "$TMP/trunc.json"
expect_err "trunc.json:1: invalid JSON"
echo '{"tenants": [{"id": "t1", "middleboxes": [{"id": "a", "host": "hv1", "element": "middlebox:vm1:m", "capacity_bps": 1e8}]}, {"id": "t2", "middleboxes": [{"id": "b", "host": "hv1", "element": "middlebox:vm1:m", "capacity_bps": 1e8}], "links": [["b", "a"]]}]}' > "$TMP/other.json"
run 1 diagnose rootcause --input "$TMP/mb.jsonl" --topology "$TMP/other.json"
expect_err 'unknown middlebox "a" (it belongs to tenant "t1")'

# Rule books.
printf 'tap any - cpu\nrouter any - cpu\n' > "$TMP/rulebook"
run 1 diagnose contention --input "$TMP/good.jsonl" --rulebook "$TMP/rulebook"
expect_err "rulebook:2: unknown location \"router\""
run 1 diagnose contention --input "$TMP/good.jsonl" --rulebook "$TMP/none"
expect_err "none: cannot open"
finish
