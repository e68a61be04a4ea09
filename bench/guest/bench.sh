#!/bin/bash
# The agent's cost of a guest's answer, in callgrind instructions (stable
# here; perf stat is not supported on this VM): a typical answer of six
# elements parsed by the host, against the baseline of rendering the same
# elements for GET /v1/records, which every element costs the agent
# anyway; and guestd's cost of writing the answer.  Each figure is the
# difference of a run of ROUNDS and a run of none, per round.  Figures are
# printed; nothing is asserted.
#
# usage: bench/guest/bench.sh BENCH_PARSE [ROUNDS]
set -euo pipefail
bench=$1
rounds=${2:-2000}
command -v valgrind >/dev/null || { echo "bench: valgrind is needed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# instructions MODE N: callgrind's total for N rounds of MODE
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" \
        "$bench" "$1" "$2" > "$tmp/stdout" 2> "$tmp/log"
    grep -o 'Collected : [0-9]*' "$tmp/log" | grep -o '[0-9]*'
}
per_round() {
    local base full
    base=$(instructions "$1" 0)
    full=$(instructions "$1" "$rounds")
    echo $(( (full - base) / rounds ))
}
parse=$(per_round parse)
render=$(per_round render)
answer=$(per_round answer)
echo "bench: guest answer: $(cat "$tmp/stdout")"
printf 'bench: host parses it:      %8d instructions (%.2f x rendering)\n' \
    "$parse" "$(echo "$parse / $render" | bc -l)"
printf 'bench: host renders it:     %8d instructions (baseline)\n' "$render"
printf 'bench: guestd writes it:    %8d instructions (%.2f x rendering)\n' \
    "$answer" "$(echo "$answer / $render" | bc -l)"
