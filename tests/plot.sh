#!/bin/bash
# perfsight plot: the data it derives from a recording, its gnuplot
# script, the pictures gnuplot makes of them, and its usage errors.
. "${top_srcdir:-.}/tests/lib.sh"

command -v gnuplot >/dev/null || skip_test "gnuplot is needed (gnuplot-nox)"

# Three samples of two elements, a second apart: the tap sends 1 MB then
# 2 MB and drops 10 then 30 packets; the backlog's counter goes down (a
# reset), which is no point.
cat >"$TMP/rec.jsonl" <<'EOT'
{"ts_ns": 1000000000000000000, "host": "hv1", "element": "tap:vnet1:to_guest", "type": "tap", "vm": "vm1", "attrs": {"out_bytes": 0, "drops": 0}}
{"ts_ns": 1000000001000000000, "host": "hv1", "element": "tap:vnet1:to_guest", "type": "tap", "vm": "vm1", "attrs": {"out_bytes": 1000000, "drops": 10}}
{"ts_ns": 1000000002000000000, "host": "hv1", "element": "tap:vnet1:to_guest", "type": "tap", "vm": "vm1", "attrs": {"out_bytes": 3000000, "drops": 40}}
{"ts_ns": 1000000000000000000, "host": "hv1", "element": "backlog:cpu0", "type": "backlog", "attrs": {"in_packets": 5, "in_bytes": 500, "drops": 0}}
{"ts_ns": 1000000001000000000, "host": "hv1", "element": "backlog:cpu0", "type": "backlog", "attrs": {"in_packets": 9, "in_bytes": 900, "drops": 0}}
{"ts_ns": 1000000002000000000, "host": "hv1", "element": "backlog:cpu0", "type": "backlog", "attrs": {"in_packets": 1, "in_bytes": 100, "drops": 0}}
EOT

run 0 plot --input "$TMP/rec.jsonl" -o "$TMP/p" --mark 1000000001500000000:inject
expect_out "p.png, $TMP/p.svg: 2 elements, 1 with drops"
for f in p.png p.svg p.dat p.gp; do
    [ -s "$TMP/$f" ] || fail "plot wrote no $f"
done
head -c 8 "$TMP/p.png" | od -An -tx1 | grep -q '89 50 4e 47' \
    || fail "p.png is not a PNG"
grep -q '<svg' "$TMP/p.svg" || fail "p.svg is not SVG"
# Mbit/s and drops/s per point, at seconds since the first sample.
awk '/^# hv1 tap:vnet1:to_guest/ { on = 1; next } /^$/ { on = 0 }
     on { print }' "$TMP/p.dat" >"$TMP/tap.dat"
printf '1.000 8 10\n2.000 16 30\n' | diff - "$TMP/tap.dat" \
    || fail "tap's points"
awk '/^# hv1 backlog:cpu0/ { on = 1; next } /^$/ { on = 0 }
     on { print }' "$TMP/p.dat" >"$TMP/backlog.dat"
printf '1.000 0.0032 0\n2.000 nan 0\n' | diff - "$TMP/backlog.dat" \
    || fail "backlog's points (the reset is no point)"
grep -q 'set arrow from 1.500' "$TMP/p.gp" || fail "the mark"
grep -q 'set label "inject"' "$TMP/p.gp" || fail "the mark's label"

# --elements and --host choose the lines.
run 0 plot --input "$TMP/rec.jsonl" -o "$TMP/q" --elements 'backlog:*'
expect_out "1 elements, 0 with drops"
run 0 plot --input "$TMP/rec.jsonl" -o "$TMP/q" --host hv2
expect_out "0 elements, 0 with drops"

run 2 plot
expect_err "plot needs --input FILE"
run 2 plot --input "$TMP/rec.jsonl" --mark soon
expect_err '--mark: "soon" is not NS[:LABEL]'
run 2 plot --input "$TMP/rec.jsonl" --mark '1:a"b'
expect_err "a label cannot hold"
run 1 plot --input "$TMP/missing.jsonl" -o "$TMP/m"
expect_err "missing.jsonl"
: >"$TMP/empty.jsonl"
run 1 plot --input "$TMP/empty.jsonl" -o "$TMP/m"
expect_err "no records to plot"
run 1 plot --input "$TMP/rec.jsonl" -o "$TMP/no/such/dir/p"
expect_err "p.dat"
if PATH=/nonexistent "$PERFSIGHT" plot --input "$TMP/rec.jsonl" -o "$TMP/r" \
        2>"$TMP/err"; then
    fail "plot without gnuplot exited 0"
fi
grep -q "cannot run gnuplot" "$TMP/err" || fail "without gnuplot: $(cat "$TMP/err")"
finish
