#!/bin/bash
# mkinitramfs.sh LINUX_TREE OUTPUT: the initramfs of the patched guest
# kernel's tests (tests/linux/e2e.sh, bench/linux/bench.sh): busybox-static,
# ethtool with its libraries, the virtio_net kselftest of LINUX_TREE
# (tools/testing/selftests/drivers/net/virtio_net/), the txflood helper,
# and an init that
#   - brings up eth0 with ps.ip= (default 10.0.0.2/24) and eth1 without an
#     address, and serves "ethtool -S eth0", the packets eth0 received and
#     the softirq time on TCP port 7000 (busybox nc);
#   - prints PERFSIGHT-GUEST-READY, waits until it can ping ps.peer=
#     (default 10.0.0.1);
#   - unless ps.test=0, runs the kselftest (eth0 and the peer; the
#     transmit stop test on eth1 with txflood) and prints
#     PERFSIGHT-KSELFTEST-RC=N;
#   - idles.  The tests stop QEMU with the QMP command quit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tree=$1
out=$2
busybox=${BUSYBOX:-/bin/busybox}
ethtool=$(command -v ethtool || echo /usr/sbin/ethtool)
die() { echo "mkinitramfs: $*" >&2; exit 1; }
{ ldd "$busybox" 2>&1 || true; } | grep -q 'not a dynamic' || \
    die "$busybox is not static (install busybox-static)"
[ -x "$ethtool" ] || die "no ethtool (install ethtool)"
kst=$tree/tools/testing/selftests/drivers/net/virtio_net/virtio_net_counters.sh
[ -f "$kst" ] || die "no kselftest $kst"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,proc,sys,dev,tmp,lib64,usr/lib} "$tmp/lib/x86_64-linux-gnu"
cp "$busybox" "$tmp/bin/busybox"
cp "$ethtool" "$tmp/bin/ethtool"
# ethtool's libraries, at the paths ldd names
for lib in $(ldd "$ethtool" | grep -o '/[^ ]*'); do
    mkdir -p "$tmp$(dirname "$lib")"
    cp -L "$lib" "$tmp$lib"
done
gcc -O2 -static -o "$tmp/bin/txflood" "$HERE/txflood.c"
cp "$kst" "$tmp/bin/virtio_net_counters.sh"
chmod +x "$tmp/bin/virtio_net_counters.sh"

# what the host reads on port 7000: eth0's counters, the packets the
# stack got from it, and the CPU's softirq time (USER_HZ ticks, precise
# with CONFIG_IRQ_TIME_ACCOUNTING) for bench/linux/bench.sh
cat > "$tmp/bin/dumpstats" <<'DUMP'
#!/bin/sh
ethtool -S eth0
echo "eth0_rx_packets: $(cat /sys/class/net/eth0/statistics/rx_packets)"
echo "softirq_ticks: $(awk '$1 == "cpu" { print $8 }' /proc/stat)"
DUMP
chmod +x "$tmp/bin/dumpstats"

cat > "$tmp/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/shm
mount -t tmpfs shm /dev/shm
ip=10.0.0.2/24
peer=10.0.0.1
test=1
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        ps.ip=*) ip=${arg#ps.ip=} ;;
        ps.peer=*) peer=${arg#ps.peer=} ;;
        ps.test=*) test=${arg#ps.test=} ;;
    esac
done
ip link set lo up
ip addr add "$ip" dev eth0
ip link set eth0 up
ip link set eth1 up 2>/dev/null
nc -ll -p 7000 -e /bin/dumpstats &
echo PERFSIGHT-GUEST-READY
ok=0
for i in $(seq 1 120); do
    if ping -c 1 -W 1 "$peer" >/dev/null 2>&1; then ok=1; break; fi
    sleep 1
done
[ $ok = 1 ] && echo PERFSIGHT-GUEST-PING-OK || echo PERFSIGHT-GUEST-PING-FAIL
if [ "$test" = 1 ]; then
    TX_IFACE=eth1 TX_FLOOD="txflood eth1" virtio_net_counters.sh eth0 "$peer"
    echo "PERFSIGHT-KSELFTEST-RC=$?"
fi
while true; do sleep 3600; done
INIT
chmod +x "$tmp/init"
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
