#!/bin/bash
# tests/pkg/install.sh: install the patched Open vSwitch and QEMU packages
# (build-aux/package-ovs, build-aux/package-qemu; built if not cached) on
# this machine, check that the installed binaries carry the series, then
# purge them and what they pulled in, and put back the Debian packages of
# the same names that were installed before.  As root.
#
#   - Open vSwitch is started as Debian's units start it: their ExecStart
#     lines, Debian's ovs-ctl (systemd is not PID 1 on the build machines;
#     where it is, the image test, tests/pkg/image.sh, runs the units
#     themselves).  It runs in a network namespace of the test's own with
#     OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR in a temporary directory, so that the
#     host's /var/run/openvswitch, which other tests may use, is untouched.
#     A bridge with a port; `ovs-appctl perfsight/show` must list the port.
#   - /usr/bin/qemu-system-x86_64 (TCG) with a virtio NIC on a tap in the
#     namespace; `query-perfsight` must list its two elements.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
NS=pkg-install-$$
failures=0
installed=()                    # packages this test installed
before=()                       # "name=version" of those installed before

skip_test() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: $* (CI=true: a missing component fails the test)"
        exit 1
    fi
    echo "SKIP: $*"
    exit 77
}
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -q "$@"; }

ovs_env() {
    env OVS_RUNDIR=$TMP/run OVS_DBDIR=$TMP/db OVS_LOGDIR=$TMP/log \
        OVS_SYSCONFDIR=$TMP/etc "$@"
}

cleanup() {
    if [ -f "$TMP/qemu.pid" ]; then
        kill "$(cat "$TMP/qemu.pid")" 2>/dev/null
    fi
    if ip netns list | grep -qw "$NS"; then
        ovs_env ip netns exec "$NS" /usr/share/openvswitch/scripts/ovs-ctl stop \
            >/dev/null 2>&1
        ip netns del "$NS"
    fi
    if [ ${#installed[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt_get purge -y "${installed[@]}" \
            >"$TMP/purge.log" 2>&1 || { cat "$TMP/purge.log"; failures=1; }
    fi
    if [ ${#before[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt_get install -y --no-install-recommends \
            "${before[@]}" >"$TMP/restore.log" 2>&1 \
            || { cat "$TMP/restore.log"; failures=1; }
    fi
    rm -rf "$TMP"
}
trap 'cleanup; [ $failures = 0 ] || exit 1' EXIT

[ "$(id -u)" = 0 ] || skip_test "installing packages needs root"
command -v jq >/dev/null || skip_test "jq is needed"
ovs=$("$ROOT/build-aux/package-ovs" build) || { fail "package-ovs"; exit 1; }
qemu=$("$ROOT/build-aux/package-qemu" build) || { fail "package-qemu"; exit 1; }
PKGS=(openvswitch-common openvswitch-switch python3-openvswitch
      qemu-system-x86 qemu-system-common qemu-system-data qemu-utils)
debs=()
for p in "${PKGS[@]}"; do
    case $p in qemu*) d=$qemu ;; *) d=$ovs ;; esac
    f=$(ls "$d"/${p}_*.deb 2>/dev/null | head -1)
    [ -n "$f" ] || { fail "no $p package in $d"; exit 1; }
    debs+=("$f")
    v=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null \
        | awk '/ok installed/ { print $4 }')
    [ -z "$v" ] || case $v in *+perfsight*) ;; *) before+=("$p=$v") ;; esac
done

# Install; what apt pulls in besides is purged at the end too.
installed_pkgs() {
    dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' \
        | awk '$1 ~ /^.i/ { print $2 }' | sort
}
installed_pkgs > "$TMP/pkgs-before"
if ! DEBIAN_FRONTEND=noninteractive apt_get install -y --no-install-recommends \
        "${debs[@]}" >"$TMP/install.log" 2>&1; then
    tail -20 "$TMP/install.log"
    fail "apt-get install of the patched packages"
fi
installed_pkgs > "$TMP/pkgs-after"
mapfile -t installed < <(comm -13 "$TMP/pkgs-before" "$TMP/pkgs-after")
for p in "${PKGS[@]}"; do
    grep -qx "$p" "$TMP/pkgs-after" || continue
    grep -qx "$p" "$TMP/pkgs-before" && installed+=("$p")
    v=$(dpkg-query -W -f='${Version}' "$p")
    case $v in
        *+perfsight1) echo "installed $p $v" ;;
        *) fail "$p is $v, not the patched package" ;;
    esac
done
[ $failures = 0 ] || exit 1

# Open vSwitch, as Debian's ovsdb-server.service and ovs-vswitchd.service
# start it.
mkdir -p "$TMP/run" "$TMP/db" "$TMP/log" "$TMP/etc"
ip netns add "$NS"
ip -n "$NS" link set lo up
unit_args="--no-monitor --system-id=random --no-record-hostname"
ctl=/usr/share/openvswitch/scripts/ovs-ctl
ovs_env ip netns exec "$NS" $ctl --no-ovs-vswitchd $unit_args start \
    >"$TMP/ovsdb.log" 2>&1 || { cat "$TMP/ovsdb.log"; fail "ovsdb-server start"; }
ovs_env ip netns exec "$NS" $ctl --no-ovsdb-server $unit_args start \
    >"$TMP/vswitchd.log" 2>&1 || { cat "$TMP/vswitchd.log"; fail "ovs-vswitchd start"; }
ovs_env ip netns exec "$NS" ovs-vsctl --timeout=30 add-br br-pkg \
    -- set bridge br-pkg datapath_type=netdev \
    -- add-port br-pkg pkgp0 -- set interface pkgp0 type=internal \
    || fail "ovs-vsctl add-br"
ovs_env ovs-appctl perfsight/show > "$TMP/show.txt" 2>&1 \
    || fail "ovs-appctl perfsight/show: $(cat "$TMP/show.txt")"
grep -q pkgp0 "$TMP/show.txt" || fail "perfsight/show lacks pkgp0: $(cat "$TMP/show.txt")"
ovs_env ovs-appctl perfsight/show --json > "$TMP/show.json" 2>&1
got=$(jq -r '[.[].element] | map(select(startswith("vswitch:br-pkg:pkgp0:"))) | sort | join(" ")' \
      "$TMP/show.json" 2>&1)
[ "$got" = "vswitch:br-pkg:pkgp0:rx vswitch:br-pkg:pkgp0:tx" ] \
    || fail "perfsight/show --json: got '$got'"
echo "ovs-appctl perfsight/show (installed $(ovs-vswitchd --version | head -1)):"
sed 's/^/  /' "$TMP/show.txt"

# QEMU: the installed emulator, a virtio NIC on a tap in the namespace.
ip netns exec "$NS" /usr/bin/qemu-system-x86_64 -accel tcg -M pc -nodefaults \
    -display none -S -name pkgvm \
    -netdev tap,id=net0,ifname=pkgtap0,script=no,downscript=no,vhost=off \
    -device virtio-net-pci,netdev=net0,romfile= \
    -qmp unix:"$TMP/qmp.sock",server=on,wait=off \
    -daemonize -pidfile "$TMP/qemu.pid" 2>"$TMP/qemu.err" \
    || fail "qemu-system-x86_64 did not start: $(cat "$TMP/qemu.err")"
python3 "$ROOT/tests/qemu/qmp.py" "$TMP/qmp.sock" query-perfsight \
    > "$TMP/qmp.json" 2>&1 || fail "query-perfsight: $(cat "$TMP/qmp.json")"
got=$(jq -r '[.[].element] | sort | join(" ")' "$TMP/qmp.json" 2>&1)
[ "$got" = "hypervisor:pkgvm:net0:rx hypervisor:pkgvm:net0:tx" ] \
    || fail "query-perfsight: got '$got' ($(cat "$TMP/qmp.json"))"
echo "query-perfsight (installed $(/usr/bin/qemu-system-x86_64 --version | head -1)):"
jq -c '.[] | {element, vm}' "$TMP/qmp.json" | sed 's/^/  /'

[ $failures = 0 ] && echo "PASS: tests/pkg/install.sh"
