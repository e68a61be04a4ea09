#!/bin/bash
# mkinitramfs.sh KERNEL_DIR OUTPUT: build the test guest's initramfs from
# busybox-static (/bin/busybox) and the virtio-net modules of the kernel
# unpacked in KERNEL_DIR (see guest-kernel.sh).
#
# The guest loads virtio_net, gives eth0 the address from the kernel
# command line (ps.ip=, default 10.0.0.2/24), prints PERFSIGHT-GUEST-READY
# on the console, pings ps.peer= (default 10.0.0.1) and reports
# PERFSIGHT-GUEST-PING-OK or -FAIL, then idles.  Writing "poweroff" to the
# console is not needed: the tests stop QEMU with the QMP command quit.
set -euo pipefail
kdir=$1
out=$2
busybox=${BUSYBOX:-/bin/busybox}
{ ldd "$busybox" 2>&1 || true; } | grep -q 'not a dynamic' || \
    { echo "mkinitramfs: $busybox is not static (install busybox-static)" >&2; exit 1; }
moddir=$(ls -d "$kdir"/x/lib/modules/*/ | head -1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,proc,sys,dev,lib/modules,tmp}
cp "$busybox" "$tmp/bin/busybox"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev \
         virtio_pci failover net_failover virtio_net; do
    f=$(find "$moddir" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
    [ -n "$f" ] || { echo "mkinitramfs: module $m not found in $moddir" >&2; exit 1; }
    case "$f" in
        *.xz) xz -dc "$f" > "$tmp/lib/modules/$m.ko" ;;
        *) cp "$f" "$tmp/lib/modules/$m.ko" ;;
    esac
    echo "$m" >> "$tmp/lib/modules/order"
done
cat > "$tmp/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
ip=10.0.0.2/24
peer=10.0.0.1
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        ps.ip=*) ip=${arg#ps.ip=} ;;
        ps.peer=*) peer=${arg#ps.peer=} ;;
    esac
done
# no depmod here: load in order, retrying what failed for a dependency
todo=$(cat /lib/modules/order)
for pass in 1 2 3 4; do
    left=
    for m in $todo; do
        insmod /lib/modules/$m.ko 2>/dev/null || left="$left $m"
    done
    todo=$left
done
[ -z "$todo" ] || echo "PERFSIGHT-GUEST-INSMOD-FAIL$todo"
ip link set lo up
ip addr add "$ip" dev eth0
ip link set eth0 up
echo PERFSIGHT-GUEST-READY
ok=0
for i in $(seq 1 60); do
    if ping -c 1 -W 1 "$peer" >/dev/null 2>&1; then ok=1; break; fi
    sleep 1
done
if [ $ok = 1 ] && ping -c 5 -i 0.2 "$peer" >/dev/null 2>&1; then
    echo PERFSIGHT-GUEST-PING-OK
else
    echo PERFSIGHT-GUEST-PING-FAIL
fi
while true; do sleep 3600; done
INIT
chmod +x "$tmp/init"
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
