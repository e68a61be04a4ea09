#!/bin/bash
# Records in any order (DESIGN.md §3): every example, shuffled, reversed,
# sorted by element, and concatenated with itself, shows the same window
# and gives the verdicts of the original, with and without --window.
. "${top_srcdir:-.}/tests/lib.sh"

# The verdicts, without what legitimately differs (how many records were
# read: the doubled copy has twice as many).
verdicts() {
    "$PERFSIGHT" "$@" --format json 2>"$TMP/err" | jq -S 'del(.window.records)'
}

# A fixed stream of random bytes, so that a failure can be reproduced.
yes perfsight | head -c 100000 >"$TMP/random"

check() {
    local name=$1
    shift
    local args=("$@") input=${args[*]: -1} variant
    unset 'args[${#args[@]}-1]'
    verdicts "${args[@]}" "$input" >"$TMP/expected" \
        || { fail "$name: the original failed: $(cat "$TMP/err")"; return; }
    for variant in shuffled reversed sorted doubled; do
        case $variant in
        shuffled) shuf --random-source="$TMP/random" "$input" ;;
        reversed) tac "$input" ;;
        sorted) sort -t'"' -k8 "$input" ;;   # By element, then anything.
        doubled) cat "$input" "$input" ;;
        esac >"$TMP/$variant.jsonl"
        if ! verdicts "${args[@]}" "$TMP/$variant.jsonl" >"$TMP/got"; then
            fail "$name ($variant): $(cat "$TMP/err")"
        elif ! cmp -s "$TMP/expected" "$TMP/got"; then
            fail "$name ($variant) gives other verdicts:"
            diff "$TMP/expected" "$TMP/got" | head -20
        fi
    done
}

for f in "$EXAMPLES"/*.jsonl; do
    base=$(basename "$f" .jsonl)
    check "$base show" show --input "$f"
    check "$base contention" diagnose contention --input "$f"
    check "$base contention --window 2" diagnose contention --window 2 \
        --input "$f"
    case $base in
    fig12*) check "$base rootcause" diagnose rootcause \
                --topology "$EXAMPLES/fig12-topology.json" --input "$f" ;;
    fig13*) check "$base rootcause" diagnose rootcause \
                --topology "$EXAMPLES/fig13-topology.json" --input "$f" ;;
    esac
done
finish
