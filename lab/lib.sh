#!/bin/bash
# lab/lib.sh: the lab's virtual hosts (sourced by lab/run).
#
# A hypervisor host HOST is a network namespace $id-HOST holding the
# patched Open vSwitch (userspace "netdev" datapath, its own ovsdb-server
# and run directory), a bridge br0, an uplink eth0 standing for the pNIC
# (a veth whose other end, ext0, is the outside world: namespace $id-ext),
# and one port vnetN per VM.  A VM is a namespace $id-VM whose eth0 is the
# other end of vnetN (docs/lab.md says why a namespace and not a TCG guest
# here); its middleboxes run under the preload library with a segment
# directory of their own, and perfsight-guestd serves its counters to the
# host's agent through the agent's guest directory, as a virtio-serial
# port would.  The agent (netlink, softnet, cpu, ovs, guest sources) runs
# in the host's namespace; so do the perfsight commands that reach it.
#
# Everything made here goes at exit: processes, namespaces, cgroups, files.

lab_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
id=lab$$
tmp=$(mktemp -d /tmp/perfsight-lab.XXXXXX)
chmod 755 "$tmp"
lab_pids=()
lab_hosts=()
lab_vms=()
lab_cgroups=()
t0=$(date +%s)

say() { printf '%s\n' "$*"; }
progress() { printf '  [%3ds] %s\n' $(( $(date +%s) - t0 )) "$*"; }
die() { echo "lab: ERROR: $*" >&2; exit 1; }

lab_cleanup() {
    set +e
    for pid in "${lab_pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for h in "${lab_hosts[@]}"; do
        ovs_stop "$h"
    done
    local ns
    for ns in "${lab_vms[@]}" "${lab_hosts[@]}" ext; do
        ip netns pids "$id-$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    done
    sleep 0.3
    for ns in "${lab_vms[@]}" "${lab_hosts[@]}" ext; do
        ip netns pids "$id-$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    done
    wait 2>/dev/null
    for ns in "${lab_vms[@]}" "${lab_hosts[@]}" ext; do
        ip netns del "$id-$ns" 2>/dev/null
    done
    cgroups_remove
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}

inns() { local ns=$1; shift; ip netns exec "$id-$ns" "$@"; }

# cgroups_remove: the cgroups made here (one goes once its last task has
# been reaped).
cgroups_remove() {
    local cg i
    for cg in "${lab_cgroups[@]}"; do
        for i in $(seq 50); do
            [ -d "$cg" ] || break
            rmdir "$cg" 2>/dev/null || sleep 0.1
        done
    done
    lab_cgroups=()
}

# lab_reset: what an experiment made goes (its VMs with their processes
# and ports, the agents, the programs outside, shapers and cgroups); the
# hosts' switches and the outside world's namespace stay for the next.
lab_reset() {
    local -
    set +e
    local pid ns vm h i
    for pid in "${lab_pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for ns in "${lab_vms[@]}" ext; do
        ip netns pids "$id-$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    done
    wait 2>/dev/null
    lab_pids=()
    for h in "${lab_hosts[@]}"; do
        for i in $(seq "$lab_n_vms"); do
            vsctl "$h" --if-exists del-port br0 "vnet$i" >/dev/null 2>&1
        done
        sed -i '/^vm\.\|^tenant\./d' "$tmp/$h/agent.conf" 2>/dev/null
        rm -f "$tmp/$h/guests"/*.sock
    done
    for vm in "${lab_vms[@]}"; do
        ip netns del "$id-$vm" 2>/dev/null
    done
    lab_vms=()
    inns ext tc qdisc del dev phys root 2>/dev/null
    cgroups_remove
    return 0
}

# --- Open vSwitch in a host's namespace.

ovs_env() {                     # ovs_env HOST: its run directory
    echo "$tmp/$1/ovs"
}

vsctl() {                       # vsctl HOST ARGS...
    local h=$1; shift
    inns "$h" "$ovs_tree/utilities/ovs-vsctl" \
        --db="unix:$(ovs_env "$h")/db.sock" --timeout=30 "$@"
}

ovs_start() {                   # ovs_start HOST
    local h=$1 run
    run=$(ovs_env "$h")
    mkdir -p "$run"
    "$ovs_tree/ovsdb/ovsdb-tool" create "$run/conf.db" \
        "$ovs_tree/vswitchd/vswitch.ovsschema"
    OVS_RUNDIR=$run OVS_LOGDIR=$run OVS_DBDIR=$run inns "$h" \
        "$ovs_tree/ovsdb/ovsdb-server" --detach --no-chdir \
        --pidfile="$run/ovsdb-server.pid" --log-file="$run/ovsdb-server.log" \
        --remote="punix:$run/db.sock" --unixctl="$run/ovsdb-server.ctl" \
        -vconsole:off "$run/conf.db"
    vsctl "$h" --no-wait init
    # The switch's threads before the VMs' (nice -10), as operators give
    # the datapath cores of its own: host CPU contention then shows where
    # it hurts the VMs, not as a starved switch.
    OVS_RUNDIR=$run OVS_LOGDIR=$run OVS_DBDIR=$run OVS_PKGDATADIR=$ovs_tree \
        inns "$h" nice -n -10 "$ovs_tree/vswitchd/ovs-vswitchd" --detach --no-chdir \
        --pidfile="$run/ovs-vswitchd.pid" --log-file="$run/ovs-vswitchd.log" \
        --disable-system -vconsole:off "unix:$run/db.sock"
    vsctl "$h" add-br br0 -- set bridge br0 datapath_type=netdev \
        -- set bridge br0 other_config:hwaddr=02:00:00:00:00:fe
}

ovs_stop() {                    # ovs_stop HOST
    local run pid
    run=$(ovs_env "$1")
    if [ -f "$run/ovs-vswitchd.pid" ]; then
        pid=$(cat "$run/ovs-vswitchd.pid")
        vsctl "$1" --if-exists del-br br0 >/dev/null 2>&1
        OVS_RUNDIR=$run "$ovs_tree/utilities/ovs-appctl" \
            -t "$run/ovs-vswitchd.$pid.ctl" exit >/dev/null 2>&1
        kill "$pid" 2>/dev/null
    fi
    [ -f "$run/ovsdb-server.pid" ] && kill "$(cat "$run/ovsdb-server.pid")" 2>/dev/null
    rm -f "$run"/*.pid
}

# --- Hosts and VMs.

# small_buffers NS: TCP socket buffers of at most 256 KiB in NS (Linux
# grows them to 4-6 MiB by default): a chain of middleboxes then backs up
# within a fraction of a second of a change, as a loaded one does, instead
# of draining megabytes of buffered uploads for seconds.
small_buffers() {
    inns "$1" sysctl -q -w net.ipv4.tcp_rmem="4096 131072 262144" \
        net.ipv4.tcp_wmem="4096 16384 262144" >/dev/null
}

# shape NS DEV RATE: DEV's egress in NS at RATE (tc tbf), its link's
# provisioned rate.
shape() {
    inns "$1" tc qdisc replace dev "$2" root tbf rate "$3" burst 32kbit \
        latency 50ms
}

# no_offload NS DEV: checksums and segmentation in software.  The
# userspace datapath takes packets from AF_PACKET sockets as they are: a
# veth's checksum left to "hardware" would leave the switch unfilled.
no_offload() {
    inns "$1" ethtool -K "$2" tx off rx off tso off gso off gro off \
        >/dev/null 2>&1 || die "ethtool -K $2 failed"
}

lab_net=10.61.0
mgmt_net=10.62.0
lab_n_vms=0

# lab_tls: the agents listen on the management network, which needs TLS
# and a token (docs/agent.md): a certificate for every host's address,
# made here for the run.
lab_tls() {
    local sans="" i
    for i in $(seq 16); do
        sans="$sans${sans:+,}IP:$mgmt_net.$i"
    done
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=perfsight-lab" \
        -addext "subjectAltName=$sans" -keyout "$tmp/key.pem" \
        -out "$tmp/cert.pem" >/dev/null 2>&1 || die "openssl failed"
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/token"
    echo >>"$tmp/token"
    chmod 600 "$tmp/key.pem" "$tmp/token"
}

# agent_url HOST PORT: where the operator reaches HOST's agent.
agent_url() { echo "https://$(eval "echo \$mgmt_of_$1"):$2"; }

# agent_get HOST PATH: GET PATH from HOST's agent, from outside.
agent_get() {
    local port
    port=$(sed -n 's/^listen = .*://p' "$tmp/$1/agent.conf")
    inns ext curl -s -f --max-time 2 --cacert "$tmp/cert.pem" \
        -H "Authorization: Bearer $(cat "$tmp/token")" \
        "$(agent_url "$1" "$port")$2"
}

# host_up HOST: the host's namespace, OVS, the uplink to the outside world.
host_up() {
    local h=$1
    mkdir -p "$tmp/$h/guests"
    ip netns add "$id-$h"
    inns "$h" ip link set lo up
    lab_hosts+=("$h")
    if ! ip netns list | grep -qw "$id-ext"; then
        ip netns add "$id-ext"
        inns ext ip link set lo up
        small_buffers ext
    fi
    local n=${#lab_hosts[@]}
    if [ "$n" = 1 ]; then
        # The outside world: the physical network (a bridge, "phys", the
        # clients' address on it) and the management network ("mgmt",
        # where the operator's perfsight reaches the agents).
        inns ext ip link add phys type bridge
        inns ext ip link add mgmt type bridge
        inns ext ip addr add "$lab_net.254/24" dev phys
        inns ext ip addr add "$mgmt_net.254/24" dev mgmt
        inns ext ip link set phys up
        inns ext ip link set mgmt up
        lab_tls
    fi
    ip link add eth0 netns "$id-$h" type veth peer name "ext$n" netns "$id-ext"
    inns "$h" ip link set eth0 up
    inns ext ip link set "ext$n" master phys up
    no_offload ext "ext$n"
    ip link add mgmt0 netns "$id-$h" type veth peer name "mgmt$n" netns "$id-ext"
    inns "$h" ip addr add "$mgmt_net.$n/24" dev mgmt0
    inns "$h" ip link set mgmt0 up
    inns ext ip link set "mgmt$n" master mgmt up
    eval "mgmt_of_$h=$mgmt_net.$n"
    ovs_start "$h" 2>"$tmp/$h/ovs-start.err" \
        || { cat "$tmp/$h/ovs-start.err" >&2; die "Open vSwitch did not start"; }
    vsctl "$h" add-port br0 eth0
    # Up, so that flooding to the bridge's own port is not a drop.
    inns "$h" ip link set br0 up
}

# host_ensure HOST: host_up HOST unless it is up.
host_ensure() {
    printf '%s\n' "${lab_hosts[@]}" | grep -qx "$1" || host_up "$1"
}

# vm_up HOST VM [TENANT]: a VM on HOST, address $lab_net.N (printed).
vm_up() {
    local h=$1 vm=$2 tenant=${3:-t1}
    lab_n_vms=$((lab_n_vms + 1))
    local n=$lab_n_vms
    ip netns add "$id-$vm"
    lab_vms+=("$vm")
    inns "$vm" ip link set lo up
    small_buffers "$vm"
    ip link add "vnet$n" netns "$id-$h" type veth peer name eth0 netns "$id-$vm"
    inns "$vm" ip addr add "$lab_net.$n/24" dev eth0
    inns "$vm" ip link set eth0 up
    no_offload "$vm" eth0
    inns "$h" ip link set "vnet$n" up
    vsctl "$h" add-port br0 "vnet$n"
    mkdir -p "$tmp/$vm/shm"
    chmod 1777 "$tmp/$vm/shm"
    echo "vm.vnet$n = $vm" >>"$tmp/$h/agent.conf"
    echo "tenant.$vm = $tenant" >>"$tmp/$h/agent.conf"
    eval "addr_$vm=$lab_net.$n"
    eval "host_of_$vm=$h"
}

# vm_tap_up HOST VM TENANT QUOTA_US: a VM whose NIC is a tap relayed by a
# process of its own (lab/vmnic.c, as QEMU's tap backend), in a CPU cgroup
# with QUOTA_US of CPU time every 100 ms: its vCPUs.  The VM's programs
# join that cgroup with vm_exec.
vm_tap_up() {
    local h=$1 vm=$2 tenant=$3 quota=$4
    lab_n_vms=$((lab_n_vms + 1))
    local n=$lab_n_vms
    ip netns add "$id-$vm"
    lab_vms+=("$vm")
    inns "$vm" ip link set lo up
    mkdir -p "$tmp/$vm/shm"
    chmod 1777 "$tmp/$vm/shm"
    "$vmnic" "$id-$h" "vnet$n" "$id-$vm" eth0 >"$tmp/$vm/vmnic.out" 2>&1 &
    local pid=$! i
    lab_pids+=($pid)
    for i in $(seq 50); do
        grep -q ready "$tmp/$vm/vmnic.out" 2>/dev/null && break
        sleep 0.1
    done
    grep -q ready "$tmp/$vm/vmnic.out" || { cat "$tmp/$vm/vmnic.out" >&2; die "vmnic for $vm"; }
    cgroup_limit "$vm" "$quota" "$pid"
    inns "$vm" ip addr add "$lab_net.$n/24" dev eth0
    inns "$vm" ip link set eth0 up
    # A queue of 100 packets to the VM (the kernel's default is 500): at
    # the lab's packet rates a throttled VM overflows it as a VM whose
    # ring and queue hold fewer packets than a flood brings in one
    # descheduling does.
    inns "$h" ip link set "vnet$n" txqueuelen 100 up
    vsctl "$h" add-port br0 "vnet$n"
    echo "vm.vnet$n = $vm" >>"$tmp/$h/agent.conf"
    echo "tenant.$vm = $tenant" >>"$tmp/$h/agent.conf"
    eval "addr_$vm=$lab_net.$n"
    eval "host_of_$vm=$h"
}

# vm_exec VM NAME COMMAND...: a program in VM, on its vCPUs (cgroup).
vm_exec() {
    local vm=$1 name=$2
    shift 2
    ip netns exec "$id-$vm" "$@" >"$tmp/$vm/$name.out" 2>&1 &
    local pid=$!
    lab_pids+=($pid)
    cgroup_add "$vm" "$pid"
    eval "pid_${vm}_$name=$pid"
}

addr_of() { eval "echo \$addr_$1"; }

# guestd_up VM: perfsight-guestd in VM, answering its host's agent.
guestd_up() {
    local vm=$1 h
    h=$(eval "echo \$host_of_$vm")
    ip netns exec "$id-$vm" "$build/utilities/perfsight-guestd" \
        --listen="$tmp/$h/guests/$vm.sock" --interfaces=eth0 \
        --middlebox-dir="$tmp/$vm/shm" >"$tmp/$vm/guestd.out" 2>&1 &
    lab_pids+=($!)
}

# run_in VM NAME COMMAND...: a program in VM; its output in $tmp/VM/NAME.out.
run_in() {
    local vm=$1 name=$2
    shift 2
    ip netns exec "$id-$vm" "$@" >"$tmp/$vm/$name.out" 2>&1 &
    lab_pids+=($!)
}

# run_mb VM PROG COMMAND...: a middlebox under the preload library.
run_mb() {
    local vm=$1 prog=$2
    shift 2
    ip netns exec "$id-$vm" env LD_PRELOAD="$preload" PERFSIGHT_DIR="$tmp/$vm/shm" \
        PERFSIGHT_PROG="$prog" "$@" >"$tmp/$vm/$prog.out" 2>&1 &
    lab_pids+=($!)
}

# agent_up HOST PORT: the host's agent, in its namespace, on PORT of its
# management address (HTTPS with a token).
agent_up() {
    local h=$1 port=$2
    sed -i '/^[^vt]/d; /^tenant\.\|^vm\./!d' "$tmp/$h/agent.conf" 2>/dev/null || true
    cat >>"$tmp/$h/agent.conf" <<EOF
host = $h
listen = $(eval "echo \$mgmt_of_$h"):$port
tls-cert = $tmp/cert.pem
tls-key = $tmp/key.pem
token-file = $tmp/token
sources = netlink,softnet,cpu,ovs,guest
ovs-rundir = $(ovs_env "$h")
guest-dir = $tmp/$h/guests
libvirt-uri = none
class.eth0 = pnic
class.vnet* = tap
class.ovs-netdev = ignore
class.br0 = ignore
EOF
    ip netns exec "$id-$h" "$build/utilities/perfsight-agent" --config="$tmp/$h/agent.conf" \
        >"$tmp/$h/agent.out" 2>&1 &
    lab_pids+=($!)
    local i
    for i in $(seq 100); do
        agent_get "$h" /healthz >/dev/null && return
        sleep 0.1
    done
    cat "$tmp/$h/agent.out" >&2
    die "the agent of $h did not start"
}

# cgroup_limit NAME QUOTA_US PID...: every thread of PIDs in a new CPU
# cgroup allowed QUOTA_US of CPU time every $cg_period us (cgroup v2, or
# v1's cpu controller).  A VM's vCPUs are a cgroup with a 500 ms period:
# a throttled VM is descheduled for hundreds of milliseconds, as a vCPU
# thread that loses its core to others is.
cg_period=500000
cgroup_limit() {
    local name=$1 quota=$2 cg procs
    shift 2
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        cg=/sys/fs/cgroup/$id-$name
        mkdir -p "$cg"
        echo "$quota $cg_period" >"$cg/cpu.max"
        procs=$cg/cgroup.procs
    elif [ -d /sys/fs/cgroup/cpu ]; then
        cg=/sys/fs/cgroup/cpu/$id-$name
        mkdir -p "$cg"
        echo "$cg_period" >"$cg/cpu.cfs_period_us"
        echo "$quota" >"$cg/cpu.cfs_quota_us"
        procs=$cg/tasks
    else
        die "no CPU cgroup controller"
    fi
    lab_cgroups+=("$cg")
    local pid task
    for pid in "$@"; do
        for task in /proc/"$pid"/task/*; do
            echo "${task##*/}" >"$procs" 2>/dev/null || true
        done
    done
}

cgroup_add() {                  # cgroup_add NAME PID: into NAME's cgroup
    local cg=/sys/fs/cgroup/$id-$1 procs
    if [ -f "$cg/cgroup.procs" ]; then procs=$cg/cgroup.procs
    else procs=/sys/fs/cgroup/cpu/$id-$1/tasks; fi
    echo "$2" >"$procs"
}

cgroup_quota() {                # cgroup_quota NAME QUOTA_US
    if [ -f "/sys/fs/cgroup/$id-$1/cpu.max" ]; then
        echo "$2 $cg_period" >"/sys/fs/cgroup/$id-$1/cpu.max"
    else
        echo "$2" >"/sys/fs/cgroup/cpu/$id-$1/cpu.cfs_quota_us"
    fi
}

cgroup_unlimit() {              # cgroup_unlimit NAME
    if [ -f "/sys/fs/cgroup/$id-$1/cpu.max" ]; then
        echo "max $cg_period" >"/sys/fs/cgroup/$id-$1/cpu.max"
    else
        echo -1 >"/sys/fs/cgroup/cpu/$id-$1/cpu.cfs_quota_us"
    fi
}

pids_of() {                     # pids_of VM PROGRAM: its processes in VM
    local pid
    for pid in $(ip netns pids "$id-$1"); do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] && echo "$pid"
    done
}

now_ns() { date +%s%N; }

# nginx_conf FILE DIR SERVER-BLOCK: a foreground nginx whose files are in DIR.
nginx_conf() {
    mkdir -p "$2"
    chmod 777 "$2"
    cat >"$1" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $2/nginx.pid;
error_log $2/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $2/body;
    proxy_temp_path $2/proxy;
    fastcgi_temp_path $2/fastcgi;
    uwsgi_temp_path $2/uwsgi;
    scgi_temp_path $2/scgi;
    client_max_body_size 0;
    server {
$3
    }
}
EOF
}

# wait_element HOST ELEMENT: until HOST's agent serves ELEMENT.
wait_element() {
    local i
    for i in $(seq 100); do
        agent_get "$1" /v1/records \
            | jq -e --arg e "$2" 'any(.[]; .element == $e)' >/dev/null 2>&1 \
            && return
        sleep 0.1
    done
    cat "$tmp/$1/agent.out" "$tmp"/*/guestd.out >&2 2>/dev/null
    die "$1's agent never served $2"
}

# --- Recording, verdicts, time to verdict, plots.

# record_start NAME TOPOLOGY: perfsight record at 100 ms from outside (the
# management network) into $out/NAME.jsonl.
record_start() {
    rec_file=$out/$1.jsonl
    rm -f "$rec_file"
    ip netns exec "$id-ext" "$perfsight" record --topology "$2" --interval 0.1 \
        --timeout 2 --cacert "$tmp/cert.pem" --token-file "$tmp/token" \
        -o "$rec_file" 2>"$tmp/record-$1.err" &
    rec_pid=$!
}

# lab_case NAME TITLE TOPOLOGY INJECT [SECONDS]: prints the case's title,
# records the host's agent into $out/NAME.jsonl from 1.5 s before INJECT
# (shell code) until $settle (plus SECONDS) after it, and sets t_inj and
# t_end for verdict.
lab_case() {
    say
    say "== $2"
    record_start "$1" "$3"
    sleep 1.5
    t_inj=$(now_ns)
    eval "$4"
    sleep "$(( settle + ${5:-0} ))"
    t_end=$(now_ns)
    record_stop
}

# wait_http NS URL: until an upload to URL from NS succeeds (5 s at most).
wait_http() {
    local i
    for i in $(seq 50); do
        inns "$1" curl -s -f --max-time 2 -o /dev/null -T /etc/hostname "$2" \
            && return
        sleep 0.1
    done
    die "nothing answers $2"
}

record_stop() {
    kill -TERM "$rec_pid" 2>/dev/null || true
    wait "$rec_pid" 2>/dev/null || true
    [ -s "$rec_file" ] || { cat "$tmp"/record-*.err >&2; die "nothing recorded"; }
}

# The rounds' times in a recording: one element's samples, in order.
round_times() {                 # round_times FILE ELEMENT
    jq -r --arg e "$2" 'select(.element == $e) | .ts_ns' "$1" | sort -n
}

# What a rootcause diagnosis found: "id:State,..." sorted.
causes_of() {
    jq -r '[.tenants[0].root_causes[] | "\(.id):\(.state)"] | sort | join(",")' "$1"
}
states_of() {
    jq -r '.tenants[0].states | to_entries | map("\(.key)=\(.value)")
           | join(" ")' "$1"
}
# What a contention diagnosis found: "verdict location: resources".
contention_of() {
    jq -r --arg h "$2" '.hosts[] | select(.host == $h)
        | "\(.verdict) \(.location // "-"): \(.resources | join(", "))"
          + " [\(.vms | sort | join(","))]"' "$1"
}

# first_right KIND FILE TOPOLOGY T_INJ T_END WANT ARG: the seconds from
# T_INJ to the first round whose diagnosis (over that round and the one
# before, as perfsight watch shows it at 100 ms polling) is WANT, and from
# T_INJ to the round after which every diagnosis is WANT; "never" if none.
# ARG is the tenant (rootcause) or the host (contention).
first_right() {
    local kind=$1 file=$2 topo=$3 t_inj=$4 t_end=$5 want=$6 arg=$7
    local first=never stable=never t got
    while read -r t; do
        [ "$t" -gt "$t_inj" ] && [ "$t" -le "$t_end" ] || continue
        got=$(diagnose_at "$kind" "$file" "$topo" "$t" "" "$arg")
        if [ "$got" = "$want" ]; then
            [ "$first" = never ] && first=$(( (t - t_inj) / 1000000 ))
            [ "$stable" = never ] && stable=$(( (t - t_inj) / 1000000 ))
        else
            stable=never
        fi
    done < <(jq -r '.ts_ns' "$file" | sort -nu)
    echo "$first $stable"
}

# diagnose_at KIND FILE TOPOLOGY END WINDOW ARG: the verdict, as
# causes_of or contention_of print it; the JSON in $tmp/last.json.
diagnose_at() {
    local kind=$1 file=$2 topo=$3 end=$4 window=$5 arg=$6
    local args=(--input "$file" --end "$4" --format json)
    [ -n "$window" ] && args+=(--window "$window")
    if [ "$kind" = rootcause ]; then
        "$perfsight" diagnose rootcause "${args[@]}" --topology "$topo" \
            --tenant "$arg" >"$tmp/last.json" 2>"$tmp/last.err" || return 0
        causes_of "$tmp/last.json"
    else
        "$perfsight" diagnose contention "${args[@]}" --host "$arg" \
            >"$tmp/last.json" 2>"$tmp/last.err" || return 0
        contention_of "$tmp/last.json" "$arg"
    fi
}

results=()
failures=0

# verdict EXP KIND TOPOLOGY T_INJ T_END WANT ARG INJECTED: the verdict over
# the last WINDOW seconds before T_END, checked against WANT, with the
# time to the first right verdict; prints it and adds it to the summary.
verdict() {
    local exp=$1 kind=$2 topo=$3 t_inj=$4 t_end=$5 want=$6 arg=$7 injected=$8
    local got ttv ok
    got=$(diagnose_at "$kind" "$rec_file" "$topo" "$t_end" "$window" "$arg")
    cp "$tmp/last.json" "$out/$exp.verdict.json"
    read -r first stable < <(first_right "$kind" "$rec_file" "$topo" \
                                          "$t_inj" "$t_end" "$want" "$arg")
    if [ "$got" = "$want" ]; then ok=right; else ok=WRONG; failures=$((failures + 1)); fi
    say "  injected:  $injected"
    say "  expected:  $want"
    say "  verdict:   $got"
    if [ "$kind" = rootcause ]; then
        say "  states:    $(states_of "$out/$exp.verdict.json")"
        jq -r '.tenants[0].middleboxes[] | "  evidence:  \(.id): in \(.in_bytes * 8 / .window_s / 1e6 | floor) Mbit/s, input time \(.in_time_s / .window_s * 100 | floor)% (at capacity \(.in_time_at_capacity_s / .window_s * 100 | floor)%), output time \(.out_time_s / .window_s * 100 | floor)% (at capacity \(.out_time_at_capacity_s / .window_s * 100 | floor)%)\(if (.waits_on | length) > 0 then ", waits on " + (.waits_on | join(",")) else "" end)"' \
            "$out/$exp.verdict.json"
    else
        jq -r --arg h "$arg" '.hosts[] | select(.host == $h) | "  evidence:  \(.evidence.location_loss) of \(.evidence.total_loss) packets lost at \(.location // "-"); host CPU \(.evidence.cpu_util // "?"); VMs: \(.vms | join(",")); " + ([.evidence.losses[:3][] | "\(.element) \(.loss)"] | join(", "))' \
            "$out/$exp.verdict.json"
    fi
    say "  right:     $ok; time to the first right verdict (100 ms polling): ${first} ms (right from then on: ${stable} ms)"
    results+=("$(printf '%-34s %-6s %8s %8s' "${lab_run_tag:-}$exp" "$ok" "$first" "$stable")")
    local marks=(--mark "$t_inj:injected")
    [ "$first" = never ] \
        || marks+=(--mark "$((t_inj + first * 1000000)):right verdict")
    [ -z "${plot_elements:-}" ] || marks+=(--elements "$plot_elements")
    "$perfsight" plot --input "$rec_file" -o "$out/$exp" "${marks[@]}" \
        >/dev/null 2>"$tmp/plot.err" || { cat "$tmp/plot.err" >&2; die "plot failed"; }
    say "  plot:      $out/$exp.png, $out/$exp.svg"
}
