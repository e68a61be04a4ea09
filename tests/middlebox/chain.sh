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
# As root.  tests/middlebox/lib.sh has the environment it reads and what
# it shares with dag.sh.  Without haproxy, tinyproxy or nginx it skips
# (exit 77), except in CI (CI=true), where it fails.  Everything it
# creates (namespaces, veths, processes, cgroup, files) goes at exit.
set -euo pipefail
NAMESPACES=(c h t n)
PROGRAMS=(haproxy tinyproxy nginx)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mkdir -p "$tmp/www/up"
chmod 777 "$tmp/www/up"
chmod 755 "$tmp/www"

# Namespaces: c (client) 10.77.1.1 | 10.77.1.2 h (haproxy) 10.77.2.1 |
# 10.77.2.2 t (tinyproxy) 10.77.3.1 | 10.77.3.2 n (nginx).
link c 10.77.1.1 h 10.77.1.2 ch
link h 10.77.2.1 t 10.77.2.2 ht
link t 10.77.3.1 n 10.77.3.2 tn
ip -n "$id-c" route add default via 10.77.1.2
ip -n "$id-h" route add 10.77.3.0/24 via 10.77.2.2
ip -n "$id-n" route add default via 10.77.3.1

shape_all() {
    shape c cha 100mbit; shape h chb 100mbit
    shape h hta 100mbit; shape t htb 100mbit
    shape t tna 100mbit; shape n tnb 100mbit
}
shape_all

# The middleboxes, under the preload library.
nginx_conf "$tmp/nginx.conf" "
        listen 10.77.3.2:80;
        root $tmp/www;
        location /up/ { dav_methods PUT DELETE; }"
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

start_agent vm1 haproxy,tinyproxy

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

sleep 0.5
all_alive

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

# chain_check NAME LB PROXY CAUSES
chain_check() {
    if [ "$2" = any ]; then
        check "$1" "$tmp/topology.json" "" any
    else
        check "$1" "$tmp/topology.json" "lb=$2 proxy=$3" "$4"
    fi
}

say "case 0: baseline (every link at 100 Mbit/s; no assertion: every"
say "  middlebox runs at the links' capacity, on the edge of blocking)"
start_upload base
sleep 2
chain_check baseline any any any
stop_upload

say "case 1: slow server (tinyproxy-nginx at 10 Mbit/s)"
shape t tna 10mbit
start_upload slow-server
sleep 2
chain_check slow-server WriteBlocked WriteBlocked "server:Overloaded"
stop_upload
shape_all

say "case 2: slow client (client-haproxy at 10 Mbit/s)"
shape c cha 10mbit
start_upload slow-client
sleep 2
chain_check slow-client ReadBlocked ReadBlocked "client:Underloaded"
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
chain_check cpu-starved WriteBlocked Normal "proxy:Overloaded"
say "  tinyproxy's cgroup: $(grep nr_throttled "$cgroup/cpu.stat" | tr '\n' ' ')"
stop_upload

finish
