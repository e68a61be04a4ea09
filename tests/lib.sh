# Shared by the integration tests: run perfsight, check exit codes, output
# and JSON (with jq).  Each test is a plain shell script that exits 0 on
# success, 1 on failure and 77 when it must be skipped.

set -u
: "${PERFSIGHT:?PERFSIGHT must name the perfsight program}"
: "${EXAMPLES:?EXAMPLES must name the examples directory}"
TMP=$(mktemp -d)
failures=0
pids=()                         # Processes to kill at exit (start_agent).

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

# skip_test WHY: a test that cannot run here.  Outside CI it is skipped
# (exit 77); in CI (CI=true) a missing component is a failure, so that a
# run cannot pass without testing.
skip_test() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: $* (CI=true: a missing component fails the test)"
        exit 1
    fi
    echo "SKIP: $*"
    exit 77
}

command -v jq >/dev/null || skip_test "jq is needed"

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

# A free loopback port: bind to port 0 and read back what the kernel gave.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_agent HOST PORT [ARGS...]: a perfsight-agent ($AGENT) for HOST on
# 127.0.0.1:PORT (by default with the netlink, softnet and cpu sources),
# its log in $TMP/agent-HOST.log; waits until /healthz answers.
start_agent() {
    local host=$1 port=$2
    shift 2
    [ $# -gt 0 ] || set -- --sources netlink,softnet,cpu
    "$AGENT" --listen "127.0.0.1:$port" --host "$host" --libvirt-uri none \
        "$@" 2>"$TMP/agent-$host.log" &
    pids+=($!)
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0
        sleep 0.1
    done
    fail "agent $host did not start"
    cat "$TMP/agent-$host.log"
    exit 1
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures failure(s)"
        exit 1
    fi
    echo "all passed"
    exit 0
}
