#!/bin/bash
# tests/middlebox/lib.sh: what the live middlebox cases share (sourced by
# chain.sh and dag.sh).  The caller sets NAMESPACES (short names) and
# PROGRAMS (commands it needs) before sourcing; lib.sh then checks root
# and the programs (missing ones skip with 77, or fail with CI=true),
# makes $id-NAME for each namespace, a scratch directory $tmp with the
# preload library's segment directory $shm, and removes all of it, the
# processes in the namespaces and the cgroup at exit.
#
# Environment: BUILD (default _build/dev), PERFSIGHT_AGENT, PERFSIGHT,
# PRELOAD, WINDOW (seconds, default 4).
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-$top/_build/dev}
agent_bin=${PERFSIGHT_AGENT:-$build/utilities/perfsight-agent}
perfsight=${PERFSIGHT:-$build/utilities/perfsight}
preload=${PRELOAD:-$build/preload/.libs/libperfsight-preload.so}
window=${WINDOW:-4}
me=$(basename "$0")

[ "$(id -u)" = 0 ] || { echo "$me: must run as root" >&2; exit 1; }
missing=()
for p in "${PROGRAMS[@]}" curl tc ip jq python3; do
    command -v "$p" >/dev/null 2>&1 \
        || [ -x "/usr/sbin/$p" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "${CI:-}" = true ]; then
        echo "$me: missing ${missing[*]} (CI: failing)" >&2
        exit 1
    fi
    echo "$me: SKIP: missing ${missing[*]}"
    exit 77
fi
for f in "$agent_bin" "$perfsight" "$preload"; do
    [ -e "$f" ] || { echo "$me: no $f" >&2; exit 1; }
done

id=psmb$$
tmp=$(mktemp -d "/tmp/perfsight-${me%.sh}.XXXXXX")
shm=$tmp/shm
mkdir -p "$shm"
chmod 1777 "$shm"
chmod 755 "$tmp"
pids=()
cgroup=
failures=0

cleanup() {
    set +e
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for ns in "${NAMESPACES[@]}"; do
        ip netns pids "$id-$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    done
    sleep 0.3
    for ns in "${NAMESPACES[@]}"; do
        ip netns pids "$id-$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    done
    wait 2>/dev/null
    for ns in "${NAMESPACES[@]}"; do
        ip netns del "$id-$ns" 2>/dev/null
    done
    # A cgroup goes once its last task has been reaped.
    for i in $(seq 50); do
        [ -n "$cgroup" ] && [ -d "$cgroup" ] || break
        rmdir "$cgroup" 2>/dev/null || sleep 0.1
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

t0=$(date +%s)
say() { echo "$me ($(( $(date +%s) - t0 ))s): $*"; }

for ns in "${NAMESPACES[@]}"; do
    ip netns add "$id-$ns"
    ip -n "$id-$ns" link set lo up
done

# link NS1 ADDR1 NS2 ADDR2 NAME: a veth NAMEa in NS1, NAMEb in NS2, /24s.
link() {
    ip link add "$5a" netns "$id-$1" type veth peer name "$5b" netns "$id-$3"
    ip -n "$id-$1" addr add "$2/24" dev "$5a"
    ip -n "$id-$3" addr add "$4/24" dev "$5b"
    ip -n "$id-$1" link set "$5a" up
    ip -n "$id-$3" link set "$5b" up
}

# shape NS DEV RATE: the egress of DEV in NS.
shape() {
    ip netns exec "$id-$1" tc qdisc replace dev "$2" root tbf rate "$3" \
        burst 32kbit latency 50ms
}

# run_mb NS PROG COMMAND...: a middlebox under the preload library.
run_mb() {
    local ns=$1 prog=$2
    shift 2
    ip netns exec "$id-$ns" env LD_PRELOAD="$preload" PERFSIGHT_DIR="$shm" \
        PERFSIGHT_PROG="$prog" "$@" >"$tmp/$prog.out" 2>&1 &
    pids+=($!)
}

# nginx_conf FILE SERVER-BLOCK: a foreground nginx whose files are in $tmp.
nginx_conf() {
    local dir=$tmp/$(basename "$1" .conf)
    mkdir -p "$dir"
    chmod 777 "$dir"
    cat >"$1" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    client_max_body_size 0;
    server {
$2
    }
}
EOF
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_agent() {                  # wait_agent PORT
    for i in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$1/healthz" && return
        sleep 0.1
    done
}

# start_agent VM PROGRAMS: two perfsight-agents reporting middleboxes as
# VM's: one from the preload library's segments in $shm (on $port), and
# one from the TCP_INFO of the processes named PROGRAMS (comma-separated,
# on $tcp_port), the fallback source whose agreement with the first the
# cases measure.
start_agent() {
    port=$(free_port)
    "$agent_bin" --sources=middlebox --listen="127.0.0.1:$port" --host=hv1 \
        --set=middlebox-dir="$shm" --set=middlebox-vm="$1" \
        >"$tmp/agent.out" 2>&1 &
    pids+=($!)
    tcp_port=$(free_port)
    "$agent_bin" --sources=tcpinfo --listen="127.0.0.1:$tcp_port" --host=hv1 \
        --set=tcpinfo-programs="$2" --set=middlebox-vm="$1" \
        >"$tmp/agent-tcpinfo.out" 2>&1 &
    pids+=($!)
    wait_agent "$port"
    wait_agent "$tcp_port"
}

# tcp_topology FILE: the topology FILE with the TCP_INFO agent instead.
tcp_topology() {
    sed "s|127.0.0.1:$port|127.0.0.1:$tcp_port|" "$1" >"${1%.json}-tcpinfo.json"
    echo "${1%.json}-tcpinfo.json"
}

# all_alive: every process started is still running.
all_alive() {
    kill -0 "${pids[@]}" 2>/dev/null \
        || { cat "$tmp"/*.out; echo "$me: a program died" >&2; exit 1; }
}

states_of() {                   # states_of JSON: "id=State ..."
    jq -r '.tenants[0].states | to_entries | map("\(.key)=\(.value)")
           | join(" ")' "$1"
}
causes_of() {                   # causes_of JSON: "id:State,..." sorted
    jq -r '[.tenants[0].root_causes[] | "\(.id):\(.state)"] | sort
           | join(",")' "$1"
}

agree_states=0 agree_causes=0 compared=0 compared_states=0

# check NAME TOPOLOGY "ID=STATE ..." CAUSES: diagnoses live over $window
# seconds; CAUSES is "id:State,..." sorted, or "any" to only print.  The
# TCP_INFO agent's diagnosis over the same window is compared with it
# (printed and tallied, not asserted).
check() {
    local name=$1 topology=$2 states=$3 causes=$4
    local out=$tmp/$name.json tcp_out=$tmp/$name-tcpinfo.json
    "$perfsight" diagnose rootcause --topology "$(tcp_topology "$topology")" \
        --window "$window" --format json >"$tcp_out" \
        2>"$tmp/$name-tcpinfo.err" &
    local tcp_pid=$!
    "$perfsight" diagnose rootcause --topology "$topology" \
        --window "$window" --format json >"$out" 2>"$tmp/$name.err" || {
        cat "$tmp/$name.err"; failures=$((failures + 1)); wait $tcp_pid
        return; }
    compare_tcpinfo "$name" "$out" "$tcp_out" "$tcp_pid" "$causes"
    local got_states got_causes mbps
    got_states=$(states_of "$out")
    got_causes=$(causes_of "$out")
    mbps=$(jq '.tenants[0].middleboxes[0] | .out_bytes * 8 / .window_s
               / 1e6 | floor' "$out")
    local verdict="$got_states root_causes=$got_causes"
    verdict="$verdict ($mbps Mbit/s out of the first middlebox)"
    local want
    want=$(echo "$states" | tr ' ' '\n' | LC_ALL=C sort | tr '\n' ' ')
    local got
    got=$(echo "$got_states" | tr ' ' '\n' | LC_ALL=C sort | tr '\n' ' ')
    if [ "$causes" = any ]; then
        say "     $name: $verdict"
    elif [ "$got" = "$want" ] && [ "$got_causes" = "$causes" ]; then
        say "PASS $name: $verdict"
    else
        say "FAIL $name: $verdict; expected $states root_causes=$causes"
        jq -c '.tenants[0].middleboxes // .tenants[0]' "$out" || cat "$out"
        failures=$((failures + 1))
    fi
}

# compare_tcpinfo NAME PRELOAD-JSON TCPINFO-JSON PID EXPECTED-CAUSES: only
# cases with an injected truth (not "any") count in the tallies.
compare_tcpinfo() {
    if ! wait "$4"; then
        # The fallback source must give the elements, whatever it finds.
        say "FAIL $1: no diagnosis from the TCP_INFO agent:" \
            "$(tr '\n' ' ' <"$tmp/$1-tcpinfo.err")"
        failures=$((failures + 1))
        return
    fi
    [ "$5" != any ] || return 0
    local a b n=0 same=0
    for a in $(states_of "$2"); do
        n=$((n + 1))
        for b in $(states_of "$3"); do
            [ "$a" = "$b" ] && same=$((same + 1))
        done
    done
    compared=$((compared + 1))
    compared_states=$((compared_states + n))
    agree_states=$((agree_states + same))
    local verdict="$(states_of "$3") root_causes=$(causes_of "$3")"
    if [ "$(causes_of "$2")" = "$(causes_of "$3")" ]; then
        agree_causes=$((agree_causes + 1))
        say "     tcp_info agrees on the root cause ($same of $n states): $verdict"
    else
        say "     tcp_info differs ($same of $n states): $verdict"
        jq -c '[.tenants[0].middleboxes[] | {id, in_bytes, in_time_s,
                 in_time_at_capacity_s, out_bytes, out_time_s,
                 out_time_at_capacity_s}]' "$3"
    fi
}

# finish: prints the agents' messages and the tallies; exits.
finish() {
    say "agent said: $(tr '\n' ' ' <"$tmp/agent.out")"
    say "TCP_INFO agent said: $(tr '\n' ' ' <"$tmp/agent-tcpinfo.out")"
    say "TCP_INFO agreement with the preload library: root causes" \
        "$agree_causes of $compared cases, states $agree_states of" \
        "$compared_states middleboxes"
    if [ $failures -gt 0 ]; then
        say "$failures case(s) failed"
        exit 1
    fi
    say "all cases passed"
    exit 0
}
