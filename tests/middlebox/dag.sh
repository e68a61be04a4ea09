#!/bin/bash
# tests/middlebox/dag.sh: the root-cause diagnosis live on a DAG, the
# paper's Figure 12(d) (issue 10).
#
#   client -> pen (lb) -> nginx (filter) -> server
#                                        \-> logstore
#
# Each in a network namespace of its own.  pen balances TCP to the filter;
# the filter is nginx proxying each upload to the server and copying it to
# the log store (nginx's mirror module: the filter takes a connection's
# next request only once both copies are written, so a slow log store
# holds up the chain as the paper's NFS server does).  The server and the
# log store are nginx with WebDAV; they are endpoints without counters,
# listed with their addresses in the topology.  pen and the filter run
# under libperfsight-preload.so, whose per-peer counters
# (out_bytes@ADDR:PORT, out_time_ns@ADDR:PORT) tell which successor the
# filter waits on.  The topology's capacity is 100 Mbit/s; links are
# unshaped (veth, several Gbit/s) except the one made slow:
#   1. slow log store: filter-logstore at 10 Mbit/s
#      -> lb, filter WriteBlocked; root cause "logstore" alone
#   2. slow server: filter-server at 10 Mbit/s
#      -> lb, filter WriteBlocked; root cause "server" alone
#   3. slow client: client-pen at 10 Mbit/s
#      -> lb, filter ReadBlocked; root cause "client"
# The client pipelines 1 MB PUTs on one connection (pipelined-put.py), so
# that the chain backs up through its sockets as it would with many
# clients.
#
# As root; tests/middlebox/lib.sh has the environment it reads.  Without
# pen or nginx it skips (77), or fails with CI=true.
set -euo pipefail
NAMESPACES=(c l f s k)
PROGRAMS=(pen nginx)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# c (client) 10.78.1.1 | 10.78.1.2 l (pen) 10.78.2.1 | 10.78.2.2 f (filter)
# 10.78.3.1 | 10.78.3.2 s (server);  f 10.78.4.1 | 10.78.4.2 k (logstore).
link c 10.78.1.1 l 10.78.1.2 cl
link l 10.78.2.1 f 10.78.2.2 lf
link f 10.78.3.1 s 10.78.3.2 fs
link f 10.78.4.1 k 10.78.4.2 fk
ip -n "$id-c" route add default via 10.78.1.2
ip -n "$id-l" route add default via 10.78.2.2
ip -n "$id-f" route add 10.78.1.0/24 via 10.78.2.1
ip -n "$id-s" route add default via 10.78.3.1
ip -n "$id-k" route add default via 10.78.4.1

# unshape NS DEV: back to the veth's own speed.
unshape() {
    ip netns exec "$id-$1" tc qdisc del dev "$2" root 2>/dev/null || true
}

for end in server:s:10.78.3.2 logstore:k:10.78.4.2; do
    IFS=: read -r name ns addr <<<"$end"
    mkdir -p "$tmp/www-$name"
    chmod 777 "$tmp/www-$name"
    nginx_conf "$tmp/$name.conf" "
        listen $addr:80;
        root $tmp/www-$name;
        location / { dav_methods PUT; }"
    # Under another name, so that the TCP_INFO agent's "nginx" is the
    # filter alone.
    cp /usr/sbin/nginx "$tmp/nginx-$name"
    ip netns exec "$id-$ns" "$tmp/nginx-$name" -c "$tmp/$name.conf" \
        -e "$tmp/$name/error.log" >"$tmp/$name.out" 2>&1 &
    pids+=($!)
done

nginx_conf "$tmp/filter.conf" "
        listen 10.78.2.2:80;
        client_body_buffer_size 2m;
        keepalive_requests 100000;
        location / {
            mirror /log;
            proxy_pass http://10.78.3.2:80;
        }
        location = /log {
            internal;
            proxy_pass http://10.78.4.2:80\$request_uri;
        }"
run_mb f nginx nginx -c "$tmp/filter.conf" -e "$tmp/filter/error.log"
run_mb l pen pen -f -r 10.78.1.2:8080 10.78.2.2:80
start_agent vm1 pen,nginx

cat >"$tmp/topology.json" <<EOF
{"hosts": [{"id": "hv1", "agent": "http://127.0.0.1:$port"}],
 "tenants": [{"id": "t1",
   "middleboxes": [
     {"id": "lb", "host": "hv1", "element": "middlebox:vm1:pen",
      "capacity_bps": 100000000, "addresses": ["10.78.1.2:8080"]},
     {"id": "filter", "host": "hv1", "element": "middlebox:vm1:nginx",
      "capacity_bps": 100000000, "addresses": ["10.78.2.2:80"]}],
   "endpoints": [{"id": "server", "addresses": ["10.78.3.2:80"]},
                 {"id": "logstore", "addresses": ["10.78.4.2:80"]}],
   "links": [["client", "lb"], ["lb", "filter"], ["filter", "server"],
             ["filter", "logstore"]]}]}
EOF
sleep 0.5
all_alive

upload_pid=
start_uploads() {
    ip netns exec "$id-c" python3 "$top/tests/middlebox/pipelined-put.py" \
        10.78.1.2 8080 1000000 >"$tmp/client.out" 2>&1 &
    upload_pid=$!
}
stop_uploads() {
    kill "$upload_pid" 2>/dev/null || true
    wait "$upload_pid" 2>/dev/null || true
    sleep 1
}

# dag_check NAME LB FILTER CAUSES, and the filter's per-peer view.
dag_check() {
    check "$1" "$tmp/topology.json" "lb=$2 filter=$3" "$4"
    say "     filter waits on: $(jq -r '.tenants[0].middleboxes[1]
        | "\(.waits_on | join(",")) (by peer: \(.waits_by_peer))"' \
        "$tmp/$1.json" 2>/dev/null || echo '?')"
}

say "case 1: slow log store (filter-logstore at 10 Mbit/s)"
shape f fka 10mbit
start_uploads
sleep 2
dag_check slow-logstore WriteBlocked WriteBlocked "logstore:Overloaded"
stop_uploads
unshape f fka

say "case 2: slow server (filter-server at 10 Mbit/s)"
shape f fsa 10mbit
start_uploads
sleep 2
dag_check slow-server WriteBlocked WriteBlocked "server:Overloaded"
stop_uploads
unshape f fsa

say "case 3: slow client (client-pen at 10 Mbit/s)"
shape c cla 10mbit
start_uploads
sleep 2
dag_check slow-client ReadBlocked ReadBlocked "client:Underloaded"
stop_uploads
unshape c cla

finish
