# Shared by the integration tests: run perfsight, check exit codes, output
# and JSON (with jq).  Each test is a plain shell script that exits 0 on
# success, 1 on failure and 77 when it must be skipped.

set -u
: "${PERFSIGHT:?PERFSIGHT must name the perfsight program}"
: "${EXAMPLES:?EXAMPLES must name the examples directory}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0

command -v jq >/dev/null || { echo "jq is needed"; exit 77; }

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# run EXPECTED_STATUS ARGS...: runs perfsight, leaving $TMP/out, $TMP/err.
run() {
    local expected=$1
    shift
    "$PERFSIGHT" "$@" >"$TMP/out" 2>"$TMP/err"
    local status=$?
    if [ "$status" != "$expected" ]; then
        fail "perfsight $* exited $status, expected $expected"
        sed 's/^/  stderr: /' "$TMP/err" | head -5
    fi
    if grep -q "runtime error\|AddressSanitizer\|LeakSanitizer" "$TMP/err"
    then
        fail "perfsight $* tripped a sanitizer"
        head -20 "$TMP/err"
    fi
}

# expect_json FILTER EXPECTED: jq FILTER on $TMP/out must print EXPECTED.
expect_json() {
    local got
    got=$(jq -c "$1" "$TMP/out" 2>&1)
    [ "$got" = "$2" ] || fail "jq '$1': got $got, expected $2"
}

# expect_err TEXT: stderr contains TEXT.
expect_err() {
    grep -qF -- "$1" "$TMP/err" || {
        fail "stderr lacks: $1"
        sed 's/^/  stderr: /' "$TMP/err" | head -5
    }
}

expect_out() {
    grep -qF -- "$1" "$TMP/out" || {
        fail "stdout lacks: $1"
        sed 's/^/  stdout: /' "$TMP/out" | head -10
    }
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures failure(s)"
        exit 1
    fi
    echo "all passed"
    exit 0
}
