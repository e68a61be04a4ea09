#!/bin/bash
# lab/fig12.sh: the paper's Figure 12, live (sourced by lab/run).
#
#   client (outside) -> lb (pen, vm1) -> filter (nginx, vm2) -> server (vm3)
#                                                          \-> logstore (vm4)
#
# The load balancer and the filter are VMs on host hv1, the server and the
# log store VMs on host hv2, each host with its patched Open vSwitch and
# its agent; the hosts' uplinks meet on the outside world's bridge.  The
# filter proxies each upload to the server and copies it to the log store
# (nginx's mirror module: it takes a connection's next request only once
# both copies are written, so a slow log store holds the chain up as the
# paper's NFS server does).  The log store is nginx with WebDAV standing
# for the NFS server (docs/lab.md).  The client pipelines 1 MB PUTs.
# The client's link is provisioned at 50 Mbit/s and the load balancer's at
# 100 Mbit/s (tc tbf at the sender); the middleboxes' capacity is 100
# Mbit/s.  The filter's link is left at the veth's speed: a shaper there
# would keep bytes queued in both its sockets, so that its waits would
# count against the server and the log store alike.  The uploads run throughout; each
# case starts from the one before, so its time to verdict is the time
# PerfSight takes to see the change:
#   (b) the server is overloaded: its CPU capped at 1%  -> root cause server
#   (c) the client posts slowly: the server's cap lifted, the client's
#       link at 10 Mbit/s                              -> client Underloaded
#   (d) the log store is slow: the client back at 50 Mbit/s, the log
#       store's CPU capped at 1%                       -> root cause logstore

fig12_setup() {
    vm_up hv1 vm1
    vm_up hv1 vm2
    host_ensure hv2
    vm_up hv2 vm3
    vm_up hv2 vm4
    agent_up hv1 9464
    agent_up hv2 9464
    shape vm1 eth0 100mbit
    shape ext phys 50mbit
    local lb filter server logstore
    lb=$(addr_of vm1) filter=$(addr_of vm2)
    server=$(addr_of vm3) logstore=$(addr_of vm4)
    local end ns addr
    for end in server:vm3 logstore:vm4; do
        IFS=: read -r name ns <<<"$end"
        addr=$(addr_of "$ns")
        mkdir -p "$tmp/$ns/www"
        chmod 777 "$tmp/$ns/www"
        nginx_conf "$tmp/$ns/$name.conf" "$tmp/$ns/$name" "
        listen $addr:80;
        root $tmp/$ns/www;
        location / { dav_methods PUT; }"
        run_in "$ns" "$name" nginx -c "$tmp/$ns/$name.conf" \
            -e "$tmp/$ns/$name/error.log"
    done
    nginx_conf "$tmp/vm2/filter.conf" "$tmp/vm2/filter" "
        listen $filter:80;
        client_body_buffer_size 2m;
        keepalive_requests 100000;
        location / {
            mirror /log;
            proxy_pass http://$server:80;
        }
        location = /log {
            internal;
            proxy_pass http://$logstore:80\$request_uri;
        }"
    run_mb vm2 nginx nginx -c "$tmp/vm2/filter.conf" -e "$tmp/vm2/filter/error.log"
    run_mb vm1 pen pen -f -r "$lb:8080" "$filter:80"
    guestd_up vm1
    guestd_up vm2
    fig12_topology=$tmp/fig12-topology.json
    cat >"$fig12_topology" <<EOF
{"hosts": [{"id": "hv1", "agent": "$(agent_url hv1 9464)"},
           {"id": "hv2", "agent": "$(agent_url hv2 9464)"}],
 "tenants": [{"id": "t1",
   "middleboxes": [
     {"id": "lb", "host": "hv1", "element": "middlebox:vm1:pen",
      "capacity_bps": 100000000, "addresses": ["$lb:8080"]},
     {"id": "filter", "host": "hv1", "element": "middlebox:vm2:nginx",
      "capacity_bps": 100000000, "addresses": ["$filter:80"]}],
   "endpoints": [{"id": "server", "addresses": ["$server:80"]},
                 {"id": "logstore", "addresses": ["$logstore:80"]}],
   "links": [["client", "lb"], ["lb", "filter"], ["filter", "server"],
             ["filter", "logstore"]]}]}
EOF
    # The preload library makes a program's segment at its first counted
    # call: one upload through the chain.
    wait_http ext "http://$lb:8080/warm"
    wait_element hv1 middlebox:vm1:pen
    wait_element hv1 middlebox:vm2:nginx
}

fig12_uploads() {
    ip netns exec "$id-ext" python3 "$lab_top/tests/middlebox/pipelined-put.py" \
        "$(addr_of vm1)" 8080 1000000 >"$tmp/client.out" 2>&1 &
    upload_pid=$!
}

fig12_stop_uploads() {
    kill "$upload_pid" 2>/dev/null || true
    wait "$upload_pid" 2>/dev/null || true
    sleep 1
}

# fig12_case NAME TITLE INJECT WANT INJECTED
fig12_case() {
    lab_case "fig12$1" "Figure 12($1): $2" "$fig12_topology" "$3"
    verdict "fig12$1" rootcause "$fig12_topology" "$t_inj" "$t_end" "$4" t1 "$5"
}

fig12_run() {
    plot_elements='middlebox:*,pnic:*'
    progress "Figure 12: four VMs on hv1, pen and nginx under the preload library"
    fig12_setup
    fig12_uploads
    sleep 1
    fig12_case b "the client posts as fast as it can; the server is overloaded" \
        'cgroup_limit server 1000 $(pids_of vm3 nginx)' \
        "server:Overloaded" "the server's CPU capped at 1% of a CPU (cgroup cpu.max)"
    fig12_case c "the client posts slowly" \
        'cgroup_unlimit server; shape ext phys 10mbit' \
        "client:Underloaded" "the server's cap lifted; the client's link at 10 Mbit/s (tc tbf)"
    fig12_case d "the log store (the paper's NFS server) is slow" \
        'shape ext phys 50mbit; cgroup_limit logstore 1000 $(pids_of vm4 nginx)' \
        "logstore:Overloaded" "the client back at 50 Mbit/s; the log store's CPU capped at 1% of a CPU"
    fig12_stop_uploads
}
