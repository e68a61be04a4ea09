#!/bin/bash
# perfsight record: rounds from real perfsight-agents (two hosts on loopback
# ports, a third one down) to a file, to a pipe and to rotated files; what
# comes out is checked record by record (how many, which hosts, each
# element once a round in time order) and read back by "perfsight show
# --input".  The agents sample only the per-CPU backlogs and the CPU, so
# that every round has the same elements whatever the host's interfaces do.
. "${top_srcdir:-.}/tests/lib.sh"
AGENT=${PERFSIGHT_AGENT:-$(dirname "$PERFSIGHT")/perfsight-agent}
[ -x "$AGENT" ] || skip_test "no perfsight-agent at $AGENT (configure found" \
    "no libmnl, libmicrohttpd or libvirt?)"

p1=$(free_port); p2=$(free_port); p3=$(free_port)
start_agent hv1 "$p1" --sources softnet,cpu
start_agent hv2 "$p2" --sources softnet,cpu
# hv3's agent is down: nothing listens on p3.
cat > "$TMP/topo.json" <<TOPO
{"hosts": [{"id": "hv1", "agent": "http://127.0.0.1:$p1"},
           {"id": "hv2", "agent": "http://127.0.0.1:$p2"},
           {"id": "hv3", "agent": "http://127.0.0.1:$p3"}],
 "tenants": []}
TOPO
n1=$(curl -sf "http://127.0.0.1:$p1/v1/records" | jq length)
n2=$(curl -sf "http://127.0.0.1:$p2/v1/records" | jq length)
per_round=$((n1 + n2))
[ "$n1" -ge 2 ] && [ "$n1" = "$n2" ] \
    || fail "agents answer $n1 and $n2 records, expected the same (>= 2)"

# check_recording FILE ROUNDS [WHAT]: FILE holds ROUNDS whole rounds of both
# answering hosts: every line one JSON record, ROUNDS x $per_round of them,
# hosts hv1 and hv2 only, each element ROUNDS times with growing ts_ns.
check_recording() {
    local file=$1 rounds=$2 what=${3:-$(basename "$1")} got
    if ! jq -e . "$file" >/dev/null 2>"$TMP/jq.err"; then
        fail "$what: not JSON Lines: $(head -c 200 "$TMP/jq.err")"
        return
    fi
    got=$(wc -l < "$file")
    [ "$got" = $((rounds * per_round)) ] \
        || fail "$what: $got lines, expected $rounds rounds of $per_round"
    got=$(jq -c -s 'map(type == "object" and (.ts_ns | type) == "number"
                        and (.attrs | type) == "object") | unique' "$file")
    [ "$got" = '[true]' ] || fail "$what: a line is not a record"
    got=$(jq -c -s '[.[].host] | unique' "$file")
    [ "$got" = '["hv1","hv2"]' ] || fail "$what: hosts $got, not hv1 and hv2"
    got=$(jq -c -s 'group_by([.host, .element]) | map(length) | unique' "$file")
    [ "$got" = "[$rounds]" ] \
        || fail "$what: samples per element $got, expected [$rounds]"
    got=$(jq -s 'group_by([.host, .element])
                 | all(map(.ts_ns) as $t | $t == ($t | unique))' "$file")
    [ "$got" = true ] || fail "$what: an element's ts_ns do not grow"
}

# check_show FILE [WHAT]: "perfsight show --input FILE" reads it back:
# every element of both hosts.
check_show() {
    local file=$1 what=${2:-$(basename "$1")}
    run 0 show --input "$file" --format json
    expect_json '[.elements[].host] | unique' '["hv1","hv2"]'
    expect_json '.elements | length' "$per_round"
    expect_json '.window.hosts' 2
}

# A file: three rounds, then two more appended to it.
run 0 record --topology "$TMP/topo.json" --output "$TMP/rec.jsonl" \
    --interval 0.2 --count 3
expect_err "recorded 3 rounds, $((3 * per_round)) records"
expect_err "record: hv3:"
check_recording "$TMP/rec.jsonl" 3
check_show "$TMP/rec.jsonl"
run 0 record --topology "$TMP/topo.json" --output "$TMP/rec.jsonl" \
    --interval 0.2 --count 2
expect_err "recorded 2 rounds, $((2 * per_round)) records"
check_recording "$TMP/rec.jsonl" 5 "rec.jsonl, appended to"
check_show "$TMP/rec.jsonl"
round_bytes=$(($(wc -c < "$TMP/rec.jsonl") / 5))

# A pipe (fsync says EINVAL on it): every round goes through, straight
# into "perfsight show --input -".
"$PERFSIGHT" record --topology "$TMP/topo.json" --output - --interval 0.2 \
    --count 3 2>"$TMP/pipe.err" | tee "$TMP/pipe.jsonl" \
    | "$PERFSIGHT" show --input - --format json >"$TMP/out" 2>"$TMP/show.err"
pipe=("${PIPESTATUS[@]}")
[ "${pipe[0]}" = 0 ] \
    || fail "record --output - | ... exited ${pipe[0]}: $(cat "$TMP/pipe.err")"
[ "${pipe[2]}" = 0 ] \
    || fail "... | show --input - exited ${pipe[2]}: $(cat "$TMP/show.err")"
grep -qF "recorded 3 rounds, $((3 * per_round)) records" "$TMP/pipe.err" \
    || fail "record to a pipe: $(cat "$TMP/pipe.err")"
! grep -q "Invalid argument" "$TMP/pipe.err" \
    || fail "record to a pipe: $(cat "$TMP/pipe.err")"
check_recording "$TMP/pipe.jsonl" 3 "the pipe's recording"
expect_json '[.elements[].host] | unique' '["hv1","hv2"]'
expect_json '.elements | length' "$per_round"

# Standard output on a file, and on a full device: the error is named.
run 0 record --topology "$TMP/topo.json" --output - --interval 0.2 --count 2
check_recording "$TMP/out" 2 "standard output on a file"
"$PERFSIGHT" record --topology "$TMP/topo.json" --output - --count 2 \
    >/dev/full 2>"$TMP/err"
status=$?
[ $status = 1 ] || fail "record to a full standard output exited $status"
expect_err "perfsight: -: No space left on device"
expect_err "recorded 0 rounds, 0 records"
run 1 record --topology "$TMP/topo.json" --output /dev/full --count 2
expect_err "perfsight: /dev/full: No space left on device"
run 1 record --topology "$TMP/topo.json" --output "$TMP/no/such/dir/rec.jsonl"
expect_err "$TMP/no/such/dir/rec.jsonl: No such file or directory"

# Stopped by SIGTERM, to a file and to a pipe (a FIFO): whole rounds only.
"$PERFSIGHT" record --topology "$TMP/topo.json" --output "$TMP/stop.jsonl" \
    --interval 0.1 2>"$TMP/stop.err" &
rec=$!
mkfifo "$TMP/fifo"
cat "$TMP/fifo" >"$TMP/stop-pipe.jsonl" &
reader=$!
"$PERFSIGHT" record --topology "$TMP/topo.json" --output - \
    --interval 0.1 >"$TMP/fifo" 2>"$TMP/stop-pipe.err" &
rec_pipe=$!
sleep 1.5
kill -TERM $rec $rec_pipe 2>/dev/null
wait $rec || fail "record exited $? on SIGTERM"
wait $rec_pipe || fail "record to a pipe exited $? on SIGTERM"
wait $reader
for f in stop stop-pipe; do
    grep -q "(stopped)" "$TMP/$f.err" \
        || fail "$f: record did not say it stopped: $(cat "$TMP/$f.err")"
    n=$(jq -r 'select(.element == "cpu:host" and .host == "hv1") | .ts_ns' \
        "$TMP/$f.jsonl" | wc -l)
    [ "$n" -ge 2 ] || fail "$f: only $n rounds before SIGTERM"
    check_recording "$TMP/$f.jsonl" "$n" "$f.jsonl"
    grep -qF "recorded $n rounds, $((n * per_round)) records (stopped)" \
        "$TMP/$f.err" || fail "$f: $n rounds in the file, but: $(cat "$TMP/$f.err")"
done

# Rotation after every round (1 byte): the newest three rounds, one a file,
# the oldest dropped.
run 0 record --topology "$TMP/topo.json" --output "$TMP/rot.jsonl" \
    --interval 0.1 --count 4 --rotate-bytes 1 --rotate-keep 2
expect_err "recorded 4 rounds"
[ ! -e "$TMP/rot.jsonl.3" ] || fail "rotation kept more than 2 old files"
for f in rot.jsonl.2 rot.jsonl.1 rot.jsonl; do
    check_recording "$TMP/$f" 1
done
ts() { jq -r 'select(.element == "cpu:host" and .host == "hv1") | .ts_ns' "$1"; }
[ "$(ts "$TMP/rot.jsonl.2")" -lt "$(ts "$TMP/rot.jsonl.1")" ] \
    && [ "$(ts "$TMP/rot.jsonl.1")" -lt "$(ts "$TMP/rot.jsonl")" ] \
    || fail "rotated files are not oldest .2, then .1, then the newest"
cat "$TMP/rot.jsonl.2" "$TMP/rot.jsonl.1" "$TMP/rot.jsonl" > "$TMP/rot-all.jsonl"
check_recording "$TMP/rot-all.jsonl" 3
check_show "$TMP/rot-all.jsonl"

# Rotation at 1.5 rounds' size: two whole rounds a file, nothing lost.
run 0 record --topology "$TMP/topo.json" --output "$TMP/rot2.jsonl" \
    --interval 0.1 --count 6 --rotate-bytes $((round_bytes * 3 / 2)) \
    --rotate-keep 5
expect_err "recorded 6 rounds, $((6 * per_round)) records"
[ -e "$TMP/rot2.jsonl.2" ] && [ ! -e "$TMP/rot2.jsonl.3" ] \
    || fail "6 rounds of $round_bytes bytes rotated at 1.5 rounds:" \
            "$(cd "$TMP" && echo rot2.jsonl*), expected rot2.jsonl, .1, .2"
for f in rot2.jsonl.2 rot2.jsonl.1 rot2.jsonl; do
    check_recording "$TMP/$f" 2
    check_show "$TMP/$f"
done
cat "$TMP/rot2.jsonl.2" "$TMP/rot2.jsonl.1" "$TMP/rot2.jsonl" \
    > "$TMP/rot2-all.jsonl"
check_recording "$TMP/rot2-all.jsonl" 6

# Standard output is never rotated (nor a file named "-" made).
(cd "$TMP" && "$PERFSIGHT" record --topology topo.json --output - \
    --interval 0.1 --count 2 --rotate-bytes 1 >rot-stdout.jsonl 2>/dev/null) \
    || fail "record --output - --rotate-bytes 1 exited $?"
check_recording "$TMP/rot-stdout.jsonl" 2
[ ! -e "$TMP/-" ] && [ ! -e "$TMP/-.1" ] && [ ! -e "$TMP/rot-stdout.jsonl.1" ] \
    || fail "standard output was rotated"
finish
