#!/bin/bash
# The command line: help, usage errors, both input formats, windows, text.
. "${top_srcdir:-.}/tests/lib.sh"

run 0 --help
expect_out "usage: perfsight COMMAND"
expect_out "diagnose rootcause"
run 0 --version
expect_out "perfsight "

run 2
expect_err "no command given"
run 2 frobnicate
expect_err 'unknown command "frobnicate"'
run 2 diagnose
expect_err '"diagnose" takes "contention" or "rootcause"'
run 2 diagnose everything --input x
expect_err 'everything: "diagnose" takes "contention" or "rootcause"'
run 2 show extra --input x
expect_err 'unexpected argument "extra"'
run 2 show --bogus
expect_err "unknown option"
run 2 show --input
expect_err "needs an argument"
run 2 show --input x --format yaml
expect_err '--format: "yaml" is not text or json'
run 2 show --input x --window -3
expect_err '--window: "-3" is not a positive number'
run 2 show --input x --window 1e999
expect_err '--window: "1e999" is not a positive number'
run 2 show --input x --end soon
expect_err '--end: "soon" is not a positive integer'
run 2 show
expect_err "needs --input FILE, --source prometheus=URL, or --topology FILE"
run 2 diagnose rootcause --input x
expect_err "needs --topology FILE"
run 2 watch
expect_err "needs --topology FILE naming the hosts' agents"
run 2 record --topology x
expect_err "record needs --output FILE"
run 2 show --input x --source prometheus=http://127.0.0.1:1
expect_err "exclude each other"
run 2 show --source prom
expect_err '--source: "prom" is not prometheus=URL'
run 2 record --topology x --output y --count 0
expect_err '--count: "0" is not a positive integer'
# Nothing listens on port 1: a clear error, not a crash.
run 1 show --source prometheus=http://127.0.0.1:1 --timeout 2
expect_err "http://127.0.0.1:1/api/v1/query"

# A JSON array and JSON Lines of the same records diagnose the same.
F=$EXAMPLES/fig8-3-cpu-contention.jsonl
{ echo '['; sed '$!s/$/,/' "$F"; echo ']'; } > "$TMP/array.json"
run 0 diagnose contention --input "$F" --format json
mv "$TMP/out" "$TMP/lines.out"
run 0 diagnose contention --input "$TMP/array.json" --format json
cmp -s "$TMP/out" "$TMP/lines.out" || fail "array and JSON Lines differ"
# So does standard input.
"$PERFSIGHT" diagnose contention --input - --format json < "$F" > "$TMP/stdin.out"
cmp -s "$TMP/stdin.out" "$TMP/lines.out" || fail "stdin differs"

# show: every element, with rates; --host filters.
run 0 show --input "$F" --format json
expect_json '.elements | length' "$(jq -s 'map(.element) | unique | length' "$F")"
expect_json '[.elements[] | select(.element == "tap:vnet2:to_guest")][0] | .loss > 6000' 'true'
expect_json '.window.hosts' '1'
run 0 show --input "$F"
expect_out "tap:vnet2:to_guest"
expect_out "LOSS%"
run 1 show --input "$F" --host nowhere
expect_err 'no host "nowhere"'

# --window picks a longer window: the examples have three samples 1 s
# apart, so a 2 s window doubles the loss.
run 0 show --input "$F" --format json
one=$(jq '[.elements[] | select(.element == "tap:vnet2:to_guest")][0].loss' "$TMP/out")
run 0 show --input "$F" --format json --window 2
two=$(jq '[.elements[] | select(.element == "tap:vnet2:to_guest")][0].loss' "$TMP/out")
diff=$((one * 2 - two))
[ "${diff#-}" -le $((one / 100)) ] \
    || fail "a 2 s window lost $two, the 1 s one $one"
# --end before the last sample: the first two samples only.
first=$(head -1 "$F" | jq .ts_ns)
run 0 show --input "$F" --format json --end $((first + 1500000000))
expect_json '.window.end_ns < '$((first + 1500000000)) 'true'

# A counter reset is a reset, not a negative rate.
cat > "$TMP/reset.jsonl" <<'RECORDS'
{"ts_ns": 1764151200000000000, "host": "h", "element": "tap:a:to_guest", "type": "tap", "vm": "v", "attrs": {"in_packets": 900000, "drops": 5000}}
{"ts_ns": 1764151201000000000, "host": "h", "element": "tap:a:to_guest", "type": "tap", "vm": "v", "attrs": {"in_packets": 1000, "drops": 10}}
RECORDS
run 0 show --input "$TMP/reset.jsonl" --format json
expect_json '.elements[0].deltas' '{"in_packets":1000,"drops":10}'
expect_json '.elements[0].reset' '["in_packets","drops"]'

# The attribute table: docs/formats.md holds a copy of what perfsight
# attributes prints, and the JSON form names the same attributes.
run 0 attributes
sed -n '/^<!-- perfsight attributes -->$/,/^<!-- end -->$/p' \
    "$top_srcdir/docs/formats.md" | sed '1d;$d' >"$TMP/doc-table"
cmp -s "$TMP/out" "$TMP/doc-table" \
    || { fail "docs/formats.md's attribute table is not perfsight attributes'"
         diff "$TMP/doc-table" "$TMP/out" | head; }
expect_out '| `in_time_ns` | counter | `perfsight_in_time_seconds_total` |'
run 0 attributes --format json
expect_json '[.[] | select(.kind == "gauge") | .name]' \
    '["capacity_bps","cpu_util","queue_len"]'
expect_json '[.[] | select(.name == "out_time_ns") | .metric_scale]' '[1e-09]'
finish
