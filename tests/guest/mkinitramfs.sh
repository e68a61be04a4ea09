#!/bin/bash
# mkinitramfs.sh KERNEL OUTPUT: the initramfs of the guest test
# (tests/guest/e2e.sh): busybox-static, perfsight-guestd ($GUESTD), the
# preload library ($PRELOAD) and a small dynamically linked middlebox
# ($RELAY) and UDP transmitter (udpflood, next to it) with the libraries
# they need.  KERNEL is a kernel image whose
# drivers are built in (build-aux/linux-build), or a directory of Debian's
# kernel (tests/qemu/guest-kernel.sh), whose virtio modules are copied.
#
# The guest's /init: loads the modules if any, gives eth0 ps.ip= (default
# 10.0.0.2/24), mounts /dev/shm, starts perfsight-guestd on its
# virtio-serial port and the relay (port 7000 to ps.peer=:7001) under the
# preload library, prints PERFSIGHT-GUEST-READY, and runs the commands the
# test writes on the second serial port (ttyS1), each answered by its
# output and a line "PERFSIGHT-DONE".
set -euo pipefail
kernel=$1
out=$2
: "${GUESTD:?GUESTD must name perfsight-guestd}" "${PRELOAD:?}" "${RELAY:?}"
busybox=${BUSYBOX:-/bin/busybox}
for f in "$busybox" "$GUESTD"; do
    { ldd "$f" 2>&1 || true; } | grep -q 'not a dynamic' || \
        { echo "mkinitramfs: $f is not static" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,proc,sys,dev,lib/modules,tmp}
cp "$busybox" "$tmp/bin/busybox"
cp "$GUESTD" "$tmp/sbin/perfsight-guestd"
cp "$PRELOAD" "$tmp/lib/libperfsight-preload.so"
cp "$RELAY" "$tmp/bin/relay"
cp "$(dirname "$RELAY")/udpflood" "$tmp/bin/udpflood"
# the relay's and the preload library's libraries, at their own paths
for lib in $(for f in "$RELAY" "$PRELOAD"; do ldd "$f"; done \
               | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$tmp$(dirname "$lib")"
    cp -L "$lib" "$tmp$lib"
done
if [ -d "$kernel" ]; then
    moddir=$(ls -d "$kernel"/x/lib/modules/*/ | head -1)
    for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev \
             virtio_pci failover net_failover virtio_net virtio_console; do
        f=$(find "$moddir" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
        [ -n "$f" ] || { echo "mkinitramfs: module $m not found in $moddir" >&2; exit 1; }
        case "$f" in
            *.xz) xz -dc "$f" > "$tmp/lib/modules/$m.ko" ;;
            *) cp "$f" "$tmp/lib/modules/$m.ko" ;;
        esac
        echo "$m" >> "$tmp/lib/modules/order"
    done
fi
cat > "$tmp/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/shm && mount -t tmpfs shm /dev/shm
ip=10.0.0.2/24
peer=10.0.0.1
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        ps.ip=*) ip=${arg#ps.ip=} ;;
        ps.peer=*) peer=${arg#ps.peer=} ;;
    esac
done
if [ -f /lib/modules/order ]; then
    todo=$(cat /lib/modules/order)
    for pass in 1 2 3 4; do
        left=
        for m in $todo; do
            insmod /lib/modules/$m.ko 2>/dev/null || left="$left $m"
        done
        todo=$left
    done
    [ -z "$todo" ] || echo "PERFSIGHT-GUEST-INSMOD-FAIL$todo"
fi
ip link set lo up
ip addr add "$ip" dev eth0
ip link set eth0 up
perfsight-guestd --interfaces eth0 2>/dev/console &
PERFSIGHT_CLOCK=monotonic LD_PRELOAD=/lib/libperfsight-preload.so \
    relay 7000 "$peer" 7001 2>/dev/console &
echo PERFSIGHT-GUEST-READY
stty -F /dev/ttyS1 raw -echo
while read -r cmd; do
    eval "$cmd" 2>&1
    echo PERFSIGHT-DONE
done < /dev/ttyS1 > /dev/ttyS1
echo PERFSIGHT-GUEST-CONTROL-GONE
while true; do sleep 3600; done
INIT
chmod +x "$tmp/init"
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
