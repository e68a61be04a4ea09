#!/bin/bash
# lab/fig13.sh: the paper's Figure 13, live (sourced by lab/run): two
# tenants' load balancers on hv1; tenant 2's runs short of CPU, PerfSight
# names it, the operator scales it out, and the bottleneck is gone.
#
# lb1 (tenant t1) and lb2 (t2) are pen in VMs with tap NICs (lab/vmnic.c)
# and vCPUs (a CPU cgroup, 50% of a CPU each); tenant 2's pen is allowed
# 0.2% of a CPU of its own (a process short of CPU in a VM whose kernel
# still takes its packets).  The clients are outside, on a link at 16
# Mbit/s; each pipelines 1 MB PUTs through its tenant's load balancer to
# its server (nginx in a VM of its own: server1, server2).
# Tenant 2 asks for 4.8 Mbit/s (its capacity in the topology: 8 Mbit/s
# per load balancer); its pen at 0.2% of a CPU relays about 2.5.
#   (1) tenant 2's uploads start -> tenant 2's root cause lb2 Overloaded,
#       tenant 1's its client (Underloaded, the link)
#   (4) scaled out to three load balancers (lb2b, lb2c alike), the uploads
#       split over them -> tenant 2's root cause its client
# Where lb2 loses packets at its tap instead (a VM short of CPU as a
# whole), Figure 8(5) shows the host's side of it.

fig13_quota=1000                # lb2's pen: 0.2% of a CPU (~2.5 Mbit/s)...
fig13_rate=600000               # ...and tenant 2's demand, bytes/s
fig13_t2_pids=()

fig13_setup() {
    vm_tap_up hv1 lb1 t1 250000
    vm_tap_up hv1 lb2 t2 250000
    vm_up hv1 server1 t1
    vm_up hv1 server2 t2
    agent_up hv1 9466
    local name
    for name in server1 server2; do
        nginx_conf "$tmp/$name/nginx.conf" "$tmp/$name/nginx" "
        listen $(addr_of $name):80;
        root $tmp/$name/nginx;
        location / { dav_methods PUT; }"
        run_in "$name" nginx nginx -c "$tmp/$name/nginx.conf" \
            -e "$tmp/$name/nginx/error.log"
    done
    fig13_lb lb1 server1
    fig13_lb lb2 server2
    cgroup_limit lb2-pen $fig13_quota $(pids_of lb2 pen)
    fig13_topology=$tmp/fig13-topology.json
    fig13_write_topology
    wait_http ext "http://$(addr_of lb1):8080/warm"
    wait_http ext "http://$(addr_of lb2):8080/warm"
    wait_element hv1 middlebox:lb1:pen
    wait_element hv1 middlebox:lb2:pen
}

# fig13_lb VM SERVER: pen in VM under the preload library, with
# perfsight-guestd.
fig13_lb() {
    vm_exec "$1" pen env LD_PRELOAD="$preload" PERFSIGHT_DIR="$tmp/$1/shm" \
        PERFSIGHT_PROG=pen pen -f -r "$(addr_of "$1"):8080" "$(addr_of "$2"):80"
    vm_exec "$1" guestd "$build/utilities/perfsight-guestd" \
        --listen="$tmp/hv1/guests/$1.sock" --interfaces=eth0 \
        --middlebox-dir="$tmp/$1/shm"
}

fig13_write_topology() {
    local lbs2="" links2="" lb
    for lb in lb2 ${fig13_scaled:+lb2b lb2c}; do
        lbs2="$lbs2${lbs2:+, }{\"id\": \"$lb\", \"host\": \"hv1\", \"element\": \"middlebox:$lb:pen\", \"capacity_bps\": 8000000}"
        links2="$links2${links2:+, }[\"client2\", \"$lb\"], [\"$lb\", \"server2\"]"
    done
    cat >"$fig13_topology" <<EOT
{"hosts": [{"id": "hv1", "agent": "$(agent_url hv1 9466)"}],
 "tenants": [
  {"id": "t1",
   "middleboxes": [{"id": "lb1", "host": "hv1", "element": "middlebox:lb1:pen", "capacity_bps": 100000000}],
   "links": [["client1", "lb1"], ["lb1", "server1"]]},
  {"id": "t2", "middleboxes": [$lbs2], "links": [$links2]}]}
EOT
}

# fig13_client N RATE LB...: tenant N's client, one pipelined upload per
# LB, each at RATE bytes/s at most (0: as fast as it goes).
fig13_client() {
    local n=$1 rate=$2 lb
    shift 2
    for lb in "$@"; do
        ip netns exec "$id-ext" python3 "$lab_top/tests/middlebox/pipelined-put.py" \
            "$(addr_of "$lb")" 8080 1000000 0 "$rate" >"$tmp/client$n-$lb.out" 2>&1 &
        lab_pids+=($!)
        eval "fig13_client_$lb=$!"
    done
}

# fig13_tenant2 LB...: tenant 2's demand, split evenly over LBs.
fig13_tenant2() {
    local pid lb
    for pid in "${fig13_t2_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    fig13_t2_pids=()
    for lb in "$@"; do
        ip netns exec "$id-ext" python3 "$lab_top/tests/middlebox/pipelined-put.py" \
            "$(addr_of "$lb")" 8080 1000000 0 $((fig13_rate / $#)) \
            >"$tmp/client2-$lb.out" 2>&1 &
        lab_pids+=($!)
        fig13_t2_pids+=($!)
    done
}

fig13_scale_out() {
    local lb
    for lb in lb2b lb2c; do
        vm_tap_up hv1 "$lb" t2 250000
        fig13_lb "$lb" server2
        cgroup_limit "$lb-pen" $fig13_quota $(pids_of "$lb" pen)
    done
    fig13_scaled=1
    fig13_write_topology
    fig13_tenant2 lb2 lb2b lb2c
}

fig13_run() {
    plot_elements='middlebox:*,pnic:*'
    progress "Figure 13: two tenants' load balancers on hv1 (pen in VMs with tap NICs)"
    fig13_setup
    shape ext phys 16mbit
    fig13_client 1 0 lb1
    sleep 1
    lab_case fig13-1 "Figure 13(1): tenant 2's load balancer runs short of CPU" \
        "$fig13_topology" 'fig13_tenant2 lb2'
    verdict fig13-1-t2 rootcause "$fig13_topology" "$t_inj" "$t_end" \
        "lb2:Overloaded" t2 "tenant 2's uploads (4.8 Mbit/s) start through lb2 (0.2% of a CPU)"
    verdict fig13-1-t1 rootcause "$fig13_topology" "$t_inj" "$t_end" \
        "client1:Underloaded" t1 "tenant 1's uploads through lb1 (50% of a CPU)"
    # 3 s more for the new VMs to start and the uploads to move.
    lab_case fig13-4 "Figure 13(4): tenant 2 scales its load balancer out" \
        "$fig13_topology" 'fig13_scale_out' 3
    verdict fig13-4-t2 rootcause "$fig13_topology" "$t_inj" "$t_end" \
        "client2:Underloaded" t2 "two more load balancers like lb2; the uploads split over the three"
}
