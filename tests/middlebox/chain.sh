#!/bin/bash
# tests/middlebox/chain.sh: the root-cause diagnosis live (issue 10).
#
# A chain client -> haproxy -> tinyproxy -> nginx, each in a network
# namespace of its own, joined by veths shaped with tbf to 100 Mbit/s.
# haproxy, tinyproxy and nginx are Debian's, run under
# libperfsight-preload.so; one perfsight-agent serves their middlebox
# elements; the client uploads (HTTP PUT through both proxies, to nginx's
# WebDAV) and `perfsight diagnose rootcause --topology` is asserted
# against the injected problem:
#   1. slow server: the tinyproxy-nginx link at 10 Mbit/s
#      -> haproxy, tinyproxy WriteBlocked; root cause "server"
#   2. slow client: the client-haproxy link at 10 Mbit/s
#      -> haproxy, tinyproxy ReadBlocked; root cause "client"
#   3. CPU-starved middlebox: tinyproxy's cgroup at 0.2% of a CPU
#      -> haproxy WriteBlocked, tinyproxy Normal; root cause "proxy"
#
# As root.  PERFSIGHT_AGENT, PERFSIGHT and PRELOAD name the programs and
# the library (default: the build in _build/dev).  Without haproxy,
# tinyproxy or nginx it skips (exit 77), except in CI (CI=true), where it
# fails.  Everything it creates (namespaces, veths, processes, cgroup,
# files) goes at exit.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-$top/_build/dev}
agent_bin=${PERFSIGHT_AGENT:-$build/utilities/perfsight-agent}
perfsight=${PERFSIGHT:-$build/utilities/perfsight}
preload=${PRELOAD:-$build/preload/.libs/libperfsight-preload.so}
window=${WINDOW:-4}

[ "$(id -u)" = 0 ] || { echo "chain.sh: must run as root" >&2; exit 1; }
missing=()
for p in haproxy tinyproxy nginx curl tc ip jq; do
    command -v "$p" >/dev/null 2>&1 \
        || [ -x "/usr/sbin/$p" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "${CI:-}" = true ]; then
        echo "chain.sh: missing ${missing[*]} (CI: failing)" >&2
        exit 1
    fi
    echo "chain.sh: SKIP: missing ${missing[*]}"
    exit 77
fi
for f in "$agent_bin" "$perfsight" "$preload"; do
    [ -e "$f" ] || { echo "chain.sh: no $f" >&2; exit 1; }
done

id=psmb$$
tmp=$(mktemp -d /tmp/perfsight-chain.XXXXXX)
shm=$tmp/shm
mkdir -p "$shm" "$tmp/www/up" "$tmp/nginx"
chmod 1777 "$shm"
chmod 777 "$tmp/www/up" "$tmp/nginx"
chmod 755 "$tmp" "$tmp/www"
pids=()
cgroup=

cleanup() {
    set +e
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for ns in c h t n; do
        ip netns pids "$id-$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    done
    sleep 0.3
    for ns in c h t n; do
        ip netns pids "$id-$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    done
    wait 2>/dev/null
    for ns in c h t n; do
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
say() { echo "chain.sh ($(( $(date +%s) - t0 ))s): $*"; }

# Namespaces: c (client) 10.77.1.1 | 10.77.1.2 h (haproxy) 10.77.2.1 |
# 10.77.2.2 t (tinyproxy) 10.77.3.1 | 10.77.3.2 n (nginx).
for ns in c h t n; do
    ip netns add "$id-$ns"
    ip -n "$id-$ns" link set lo up
done
link() {                        # link NS1 ADDR1 NS2 ADDR2 NAME
    ip link add "$5a" netns "$id-$1" type veth peer name "$5b" netns "$id-$3"
    ip -n "$id-$1" addr add "$2/24" dev "$5a"
    ip -n "$id-$3" addr add "$4/24" dev "$5b"
    ip -n "$id-$1" link set "$5a" up
    ip -n "$id-$3" link set "$5b" up
}
link c 10.77.1.1 h 10.77.1.2 ch
link h 10.77.2.1 t 10.77.2.2 ht
link t 10.77.3.1 n 10.77.3.2 tn
ip -n "$id-c" route add default via 10.77.1.2
ip -n "$id-h" route add 10.77.3.0/24 via 10.77.2.2
ip -n "$id-n" route add default via 10.77.3.1

# shape NS DEV RATE: the egress of DEV in NS.
shape() {
    ip netns exec "$id-$1" tc qdisc replace dev "$2" root tbf rate "$3" \
        burst 32kbit latency 50ms
}
shape_all() {
    shape c cha 100mbit; shape h chb 100mbit
    shape h hta 100mbit; shape t htb 100mbit
    shape t tna 100mbit; shape n tnb 100mbit
}
shape_all

# The middleboxes, under the preload library.
run_mb() {                      # run_mb NS PROG COMMAND...
    local ns=$1 prog=$2
    shift 2
    ip netns exec "$id-$ns" env LD_PRELOAD="$preload" PERFSIGHT_DIR="$shm" \
        PERFSIGHT_PROG="$prog" "$@" >"$tmp/$prog.out" 2>&1 &
    pids+=($!)
}

cat >"$tmp/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 10.77.3.2:80;
        root $tmp/www;
        client_max_body_size 0;
        location /up/ { dav_methods PUT DELETE; }
    }
}
EOF
run_mb n nginx nginx -c "$tmp/nginx.conf" -e "$tmp/nginx/error.log"

cat >"$tmp/tinyproxy.conf" <<EOF
User nobody
Group nogroup
Port 8888
Listen 10.77.2.2
Timeout 600
LogLevel Warning
MaxClients 10
Allow 10.77.2.1
DisableViaHeader Yes
EOF
run_mb t tinyproxy tinyproxy -d -c "$tmp/tinyproxy.conf"

cat >"$tmp/haproxy.cfg" <<EOF
global
    maxconn 100
defaults
    mode tcp
    timeout connect 5s
    timeout client 600s
    timeout server 600s
frontend fe
    bind 10.77.1.2:8080
    default_backend be
backend be
    server tinyproxy 10.77.2.2:8888
EOF
run_mb h haproxy haproxy -db -f "$tmp/haproxy.cfg"

# The agent, on a free port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$agent_bin" --sources=middlebox --listen="127.0.0.1:$port" --host=hv1 \
    --set=middlebox-dir="$shm" --set=middlebox-vm=vm1 \
    >"$tmp/agent.out" 2>&1 &
pids+=($!)

cat >"$tmp/topology.json" <<EOF
{"hosts": [{"id": "hv1", "agent": "http://127.0.0.1:$port"}],
 "tenants": [{"id": "t1",
   "middleboxes": [
     {"id": "lb", "host": "hv1", "element": "middlebox:vm1:haproxy",
      "capacity_bps": 100000000},
     {"id": "proxy", "host": "hv1", "element": "middlebox:vm1:tinyproxy",
      "capacity_bps": 100000000}],
   "links": [["client", "lb"], ["lb", "proxy"], ["proxy", "server"]]}]}
EOF

for i in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
    sleep 0.1
done
sleep 0.5
for prog in haproxy tinyproxy nginx; do
    kill -0 "${pids[@]}" 2>/dev/null \
        || { cat "$tmp"/*.out; echo "chain.sh: a program died" >&2; exit 1; }
done

upload_pid=
start_upload() {                # start_upload NAME
    ip netns exec "$id-c" sh -c "head -c 4000000000 /dev/zero \
        | curl -s -S -x http://10.77.1.2:8080 -H 'Expect:' -T - \
               -o /dev/null http://10.77.3.2/up/$1" \
        >"$tmp/curl.out" 2>&1 &
    upload_pid=$!
}
stop_upload() {
    ip netns pids "$id-c" | xargs -r kill 2>/dev/null || true
    wait "$upload_pid" 2>/dev/null || true
    rm -f "$tmp"/www/up/* "$tmp"/nginx/body/* 2>/dev/null || true
    sleep 1
}

# The kernel's view, for comparison (issue 10's part 5, not asserted):
# TCP_INFO's chronographs of the sockets haproxy and tinyproxy send on,
# as ss prints them (busy, rwnd_limited, sndbuf_limited since the
# connection began).
tcpinfo() {
    local ns line
    for ns in h:10.77.2.2:8888 t:10.77.3.2:80; do
        line=$(ip netns exec "$id-${ns%%:*}" ss -tinH dst "${ns#*:}" \
               | tr -s ' \t' ' ' | grep -o 'busy:[^ ]*\( rwnd_limited:[^ ]*\)\?\( sndbuf_limited:[^ ]*\)\?' \
               | head -1 || true)
        say "     tcp_info to ${ns#*:}: ${line:-none}"
    done
}

failures=0
# check NAME EXPECTED-LB EXPECTED-PROXY EXPECTED-ROOT-CAUSES (or "any")
check() {
    local name=$1 lb=$2 proxy=$3 causes=$4
    local out=$tmp/$name.json
    tcpinfo
    "$perfsight" diagnose rootcause --topology "$tmp/topology.json" \
        --window "$window" --format json >"$out" 2>"$tmp/$name.err" || {
        cat "$tmp/$name.err"; failures=$((failures + 1)); return; }
    local got_lb got_proxy got_causes
    got_lb=$(jq -r '.tenants[0].states.lb' "$out")
    got_proxy=$(jq -r '.tenants[0].states.proxy' "$out")
    got_causes=$(jq -r '[.tenants[0].root_causes[] | "\(.id):\(.state)"]
                        | sort | join(",")' "$out")
    local mbps
    mbps=$(jq '.tenants[0].middleboxes[0] | .out_bytes * 8 / .window_s
               / 1e6 | floor' "$out")
    local verdict="lb=$got_lb proxy=$got_proxy root_causes=$got_causes"
    verdict="$verdict ($mbps Mbit/s through haproxy)"
    if [ "$lb" = any ]; then
        say "     $name: $verdict"
    elif [ "$got_lb" = "$lb" ] && [ "$got_proxy" = "$proxy" ] \
       && [ "$got_causes" = "$causes" ]; then
        say "PASS $name: $verdict"
    else
        say "FAIL $name: $verdict; expected lb=$lb proxy=$proxy" \
            "root_causes=$causes"
        jq -c '.tenants[0].middleboxes // .tenants[0]' "$out" || cat "$out"
        failures=$((failures + 1))
    fi
}

say "case 0: baseline (every link at 100 Mbit/s; no assertion: every"
say "  middlebox runs at the links' capacity, on the edge of blocking)"
start_upload base
sleep 2
check baseline any any any
stop_upload

say "case 1: slow server (tinyproxy-nginx at 10 Mbit/s)"
shape t tna 10mbit
start_upload slow-server
sleep 2
check slow-server WriteBlocked WriteBlocked "server:Overloaded"
stop_upload
shape_all

say "case 2: slow client (client-haproxy at 10 Mbit/s)"
shape c cha 10mbit
start_upload slow-client
sleep 2
check slow-client ReadBlocked ReadBlocked "client:Underloaded"
stop_upload
shape_all

say "case 3: CPU-starved tinyproxy (0.2% of a CPU)"
tp_pids=$(ip netns pids "$id-t")
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    cgroup=/sys/fs/cgroup/$id
    mkdir "$cgroup"
    echo 1000 500000 >"$cgroup/cpu.max"
    procs=$cgroup/cgroup.procs
else
    cgroup=/sys/fs/cgroup/cpu/$id
    mkdir "$cgroup"
    echo 500000 >"$cgroup/cpu.cfs_period_us"
    echo 1000 >"$cgroup/cpu.cfs_quota_us"
    procs=$cgroup/tasks
fi
for pid in $tp_pids; do
    for task in /proc/"$pid"/task/*; do
        echo "${task##*/}" >"$procs" || true
    done
done
start_upload cpu
sleep 2
# tinyproxy's threads for the new connection are in its cgroup already
# (threads are born in their creator's cgroup).
check cpu-starved WriteBlocked Normal "proxy:Overloaded"
say "  tinyproxy's cgroup: $(grep nr_throttled "$cgroup/cpu.stat" | tr '\n' ' ')"
stop_upload

say "agent said: $(tr '\n' ' ' <"$tmp/agent.out")"
if [ $failures -gt 0 ]; then
    say "$failures case(s) failed"
    exit 1
fi
say "all cases passed"
