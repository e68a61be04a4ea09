#!/bin/bash
# lab/fig8.sh: the paper's Figure 8, intervals 3 to 5, live (sourced by
# lab/run): where three tenant VMs' packets are lost and why.
#
# Three VMs on hv1 (web1-3, tenants t2-t4), each a namespace whose NIC is a
# tap relayed by a process of its own (lab/vmnic.c) as QEMU's tap backend
# relays it, and whose programs, that process included, share a CPU
# cgroup: the VM's vCPUs.  The outside world floods each VM with UDP
# (iperf3, 10 Mbit/s of 1000-byte datagrams, paced every 100 us) throughout.
#   (3) CPU-intensive VMs: each VM, allowed 65% of a CPU, runs a busy loop;
#       together they want more than the host's two cores
#       -> contention at the taps of all three, CPU
#   (4) memory-intensive VMs: each VM, allowed 20% of a CPU, runs a memory
#       copy (dd); the host's CPU stays low (the stand-in: docs/lab.md)
#       -> contention at the taps of all three, memory bandwidth
#   (5) one VM's CPU hog: web1 alone runs a busy loop within its 20%
#       -> bottleneck at web1's tap
# When a VM's vCPUs are busy or throttled, its tap's reader stops and the
# host's tap queue overflows: the kernel counts those drops on the tap
# (tx_dropped), the paper's "tap" location.

fig8_vms=(web1 web2 web3)

fig8_setup() {
    local i=2 vm
    for vm in "${fig8_vms[@]}"; do
        vm_tap_up hv1 "$vm" "t$i" 325000
        vm_exec "$vm" iperf3 iperf3 -s -B "$(addr_of "$vm")"
        i=$((i + 1))
    done
    agent_up hv1 9465
    fig8_topology=$tmp/fig8-topology.json
    echo "{\"hosts\": [{\"id\": \"hv1\", \"agent\": \"$(agent_url hv1 9465)\"}], \"tenants\": []}" \
        >"$fig8_topology"
    sleep 0.5
    for vm in "${fig8_vms[@]}"; do
        # The outside world is other machines: the host's CPU contention
        # must not make it send in bursts (nice -10).
        inns ext nice -n -10 iperf3 -c "$(addr_of "$vm")" -u -b 10M -l 1000 --pacing-timer 100 -t 600 \
            >"$tmp/flood-$vm.out" 2>&1 &
        lab_pids+=($!)
    done
    sleep 1
}

fig8_hogs_stop() {
    local vm
    for vm in "${fig8_vms[@]}"; do
        pkill -f "lab-hog-$vm" 2>/dev/null || true
        cgroup_quota "$vm" 325000
    done
    pkill -f lab-hog-host 2>/dev/null || true
    sleep 0.5
}

# fig8_host_hogs: two busy loops outside the VMs: the host's cores busy.
fig8_host_hogs() {
    local i
    for i in 1 2; do
        inns hv1 bash -c "exec -a lab-hog-host bash -c 'while :; do :; done'" &
        lab_pids+=($!)
        disown $!
    done
}

# fig8_hog VM cpu|memory: a busy loop or a memory copy on VM's vCPUs.
fig8_hog() {
    if [ "$2" = cpu ]; then
        vm_exec "$1" hog bash -c "exec -a lab-hog-$1 bash -c 'while :; do :; done'"
    else
        vm_exec "$1" hog bash -c "exec -a lab-hog-$1 dd if=/dev/zero of=/dev/null bs=64M"
    fi
    disown "$(eval "echo \$pid_${1}_hog")"
}

# fig8_case NAME TITLE INJECT WANT INJECTED
fig8_case() {
    lab_case "fig8-$1" "Figure 8($1): $2" "$fig8_topology" "$3"
    fig8_hogs_stop
    verdict "fig8-$1" contention "$fig8_topology" "$t_inj" "$t_end" "$4" hv1 "$5"
}

fig8_run() {
    plot_elements='tap:*,pnic:*,vswitch:*:eth0:*'
    progress "Figure 8: three tenant VMs on hv1 with tap NICs, flooded with UDP"
    fig8_setup
    fig8_case 3 "CPU-intensive tenant VMs" \
        'for v in "${fig8_vms[@]}"; do cgroup_quota "$v" 50000; fig8_hog "$v" cpu; done; fig8_host_hogs' \
        "contention tap: cpu [web1,web2,web3]" \
        "a busy loop in each VM (10% of a CPU each), two on the host's cores"
    fig8_case 4 "memory-intensive tenant VMs" \
        'for v in "${fig8_vms[@]}"; do cgroup_quota "$v" 100000; fig8_hog "$v" memory; done' \
        "contention tap: memory bandwidth [web1,web2,web3]" \
        "a memory copy in each VM, each allowed 20% of a CPU"
    fig8_case 5 "one VM runs a CPU hog" \
        'cgroup_quota web1 100000; fig8_hog web1 cpu' \
        "bottleneck tap: vm bottleneck (cpu or bandwidth) [web1]" \
        "a busy loop in web1 (20% of a CPU)"
}
