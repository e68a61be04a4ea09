# Shared by perfsight-agent's integration tests (tests/agent/*.sh): a
# network namespace of their own, agents started in it, checks, and cleanup
# of everything on exit.  Root is needed.  Each test exits 0 on success, 1
# on failure.  A part that cannot run here (a component missing: root, a
# patched build, a tool) says "SKIP: why" and is not counted as a failure,
# except in CI (CI=true), where it is: CI must not pass without testing.

set -u
: "${AGENT:?AGENT must name the perfsight-agent program}"
if [ "$(id -u)" != 0 ]; then
    [ "${CI:-}" = true ] && { echo "FAIL: needs root (CI=true)"; exit 1; }
    echo "SKIP: needs root"
    exit 77
fi
for tool in ip curl jq python3; do
    command -v $tool >/dev/null || { echo "FAIL: $tool is needed"; exit 1; }
done

TMP=$(mktemp -d /tmp/perfsight-agent-test.XXXXXX)
NS=psa$$
NS2=psb$$                       # A second namespace, when a test needs one.
failures=0
skips=0
pids=()

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null
    done
    local ns
    for ns in "$NS" "$NS2"; do
        ip netns pids "$ns" 2>/dev/null | while read -r pid; do
            kill "$pid" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null
    done
    # Sanitizer reports of the agents, if any, make the test fail.
    if grep -l "runtime error\|AddressSanitizer\|LeakSanitizer" \
            "$TMP"/*.log 2>/dev/null; then
        echo "FAIL: sanitizer report (above)"
        grep -h -A20 "runtime error\|Sanitizer" "$TMP"/*.log | head -60
        rm -rf "$TMP"
        exit 1
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

ok() {
    echo "ok: $*"
}

skip() {
    echo "SKIP: $*"
    skips=$((skips + 1))
}

# missing WHAT...: a component this test needs is missing.  Outside CI the
# part is skipped; in CI (CI=true) it is a failure.
missing() {
    if [ "${CI:-}" = true ]; then
        fail "$* (CI=true: a missing component is a failure)"
    else
        skip "$*"
    fi
}

# Runs a command in the test's namespace.
in_ns() {
    ip netns exec "$NS" "$@"
}

# Creates the namespace, with loopback up.
make_ns() {
    ip netns add "$NS"
    in_ns ip link set lo up
}

# start_agent NAME ARGS...: starts an agent in the namespace, its log in
# $TMP/NAME.log, and waits until /healthz answers on its --listen address
# (127.0.0.1:PORT, or https with --tls-cert: pass HEALTH_URL then).
start_agent() {
    local name=$1
    shift
    ip netns exec "$NS" "$AGENT" "$@" >"$TMP/$name.log" 2>&1 &
    pids+=($!)
    local url=${HEALTH_URL:-}
    if [ -z "$url" ]; then
        local listen
        listen=$(printf '%s\n' "$@" | sed -n 's/^--listen=//p')
        url="http://$listen/healthz"
    fi
    local i
    for i in $(seq 100); do
        if in_ns curl -sfk -o /dev/null "$url"; then
            return 0
        fi
        if ! kill -0 "${pids[-1]}" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    fail "agent $name did not come up"
    cat "$TMP/$name.log"
    return 1
}

# Stops the last agent started, by its pid, and checks that it exited well.
stop_last_agent() {
    local pid=${pids[-1]}
    kill "$pid"
    wait "$pid"
    local status=$?
    unset 'pids[-1]'
    [ $status = 0 ] || fail "agent exited $status on SIGTERM"
}

# http [CURL ARGS...]: prints the status code; the body is in $TMP/body.
http() {
    in_ns curl -s -o "$TMP/body" -w '%{http_code}' "$@"
}

# attr PORT ELEMENT ATTR: an attribute of an element from /v1/records.
attr() {
    in_ns curl -sf "http://127.0.0.1:$1/v1/records" \
        | jq -r --arg e "$2" --arg a "$3" \
            '.[] | select(.element == $e) | .attrs[$a]'
}

# field PORT ELEMENT FIELD: a top-level field of an element's record.
field() {
    in_ns curl -sf "http://127.0.0.1:$1/v1/records" \
        | jq -r --arg e "$2" --arg f "$3" \
            '.[] | select(.element == $e) | .[$f]'
}

finish() {
    if [ $failures -gt 0 ]; then
        echo "$(basename "$0"): $failures failure(s)"
        exit 1
    fi
    if [ $skips -gt 0 ]; then
        echo "$(basename "$0"): passed, but $skips part(s) skipped (SKIP above)"
    else
        echo "$(basename "$0"): passed"
    fi
    exit 0
}

# make_stalled_tap DEV ADDR PEER: in the namespace, a tap DEV whose reader
# never reads (tests/agent/stalled-tap.py), up with ADDR/24 and a permanent
# neighbour PEER, so that packets sent to PEER queue on it and, once the
# queue is full, are dropped (the tap's tx_dropped).  No IPv6, so that
# neighbour discovery does not move its counters.
make_stalled_tap() {
    local dev=$1 addr=$2 peer=$3 here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    in_ns python3 "$here/stalled-tap.py" "$dev" >"$TMP/$dev.out" &
    pids+=($!)
    for _ in $(seq 50); do
        grep -q ready "$TMP/$dev.out" 2>/dev/null && break
        sleep 0.1
    done
    in_ns sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
    in_ns ip link set "$dev" up
    in_ns ip addr add "$addr/24" dev "$dev"
    in_ns ip neigh add "$peer" lladdr 02:00:00:00:00:02 dev "$dev" nud permanent
}
