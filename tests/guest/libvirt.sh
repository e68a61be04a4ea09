#!/bin/bash
# libvirt.sh: the agent's guest source finds a libvirt domain's guestd
# port from the domain's <channel> (target name org.perfsight.guestd.0)
# and serves its elements under the domain's name.  The domain is TCG
# (type='qemu') on the patched emulator, boots the guest test's kernel and
# initramfs (tests/guest/mkinitramfs.sh) and has one virtio NIC on a UDP
# socket backend bound to 127.0.0.1.  libvirtd is set up as in
# tests/qemu/libvirt.sh (qemu.conf restored on exit).
#
# usage: tests/guest/libvirt.sh   (root; PERFSIGHT_BUILD, QEMU,
#        GUEST_KERNEL as for tests/guest/e2e.sh)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${PERFSIGHT_BUILD:-$ROOT/_build/sanitized}
QEMU=${QEMU:-}
DOM=ps-guest-$$
CONF=/etc/libvirt/qemu.conf
TMP=$(mktemp -d /tmp/perfsight-guest-libvirt.XXXXXX)
chmod 755 "$TMP"
STARTED_LIBVIRTD=
CONF_SAVED=
AGENT_PID=

[ "$(id -u)" = 0 ] || { echo "libvirt: needs root" >&2; exit 1; }
command -v virsh >/dev/null && command -v libvirtd >/dev/null || {
    echo "libvirt: FAIL: virsh/libvirtd not installed" \
         "(libvirt-daemon-system libvirt-clients)" >&2; exit 1; }
if [ -z "$QEMU" ]; then
    QEMU=$("$ROOT/build-aux/qemu-build" binary)
fi
[ -x "$QEMU" ] || { echo "libvirt: FAIL: no QEMU binary at '$QEMU'" >&2; exit 1; }
QEMU=$(readlink -f "$QEMU")

cleanup() {
    local rc=$?
    if [ -n "$AGENT_PID" ]; then
        kill "$AGENT_PID" 2>/dev/null || true
        wait "$AGENT_PID" 2>/dev/null || true
    fi
    virsh -c qemu:///system destroy "$DOM" >/dev/null 2>&1 || true
    if [ -n "$STARTED_LIBVIRTD" ]; then
        kill "$STARTED_LIBVIRTD" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$STARTED_LIBVIRTD" 2>/dev/null || break
            sleep 0.1
        done
    fi
    if [ -n "$CONF_SAVED" ]; then
        cp "$TMP/qemu.conf.orig" "$CONF"
    fi
    if grep -q "runtime error\|Sanitizer" "$TMP/agent.log" 2>/dev/null; then
        echo "libvirt: FAIL: sanitizer report in the agent:" >&2
        head -40 "$TMP/agent.log" >&2
        rc=1
    fi
    if [ $rc -ne 0 ]; then
        for f in libvirtd.log console.log agent.log; do
            [ -f "$TMP/$f" ] && { echo "libvirt: $f:" >&2; tail -20 "$TMP/$f" >&2; }
        done
    fi
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT INT TERM

fail() { echo "libvirt: FAIL: $*" >&2; exit 1; }
say() { echo "libvirt: $*"; }
V() { virsh -c qemu:///system "$@"; }

if [ -n "${GUEST_KERNEL:-}" ]; then
    kernel=$GUEST_KERNEL image=$GUEST_KERNEL
elif [ -x "$ROOT/build-aux/linux-build" ]; then
    kernel=$(LINUX_BUILD_QUIET=1 "$ROOT/build-aux/linux-build" binary)
    image=$kernel
else
    kernel=$("$ROOT/tests/qemu/guest-kernel.sh")
    image=$kernel/vmlinuz
fi
GUESTD=$BUILD/utilities/perfsight-guestd \
    PRELOAD=$BUILD/preload/.libs/libperfsight-preload.so \
    RELAY=$BUILD/tests/guest/relay \
    "$HERE/mkinitramfs.sh" "$kernel" "$TMP/initrd.gz"
cp "$image" "$TMP/kernel"

id libvirt-qemu >/dev/null 2>&1 || \
    useradd --system --no-create-home --shell /usr/sbin/nologin libvirt-qemu

# qemu.conf: run QEMU as root, no security driver, no virtlogd
cp "$CONF" "$TMP/qemu.conf.orig"
CONF_SAVED=1
cat >> "$CONF" <<'EOF'
# added by PerfSight tests/guest/libvirt.sh (restored on exit)
user = "root"
group = "root"
security_driver = "none"
stdio_handler = "file"
EOF

if pid=$(cat /run/libvirtd.pid 2>/dev/null) && kill -0 "$pid" 2>/dev/null; then
    say "using the running libvirtd ($pid); restarting it for qemu.conf"
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
mkdir -p /run/libvirt
libvirtd --pid-file /run/libvirtd.pid > "$TMP/libvirtd.log" 2>&1 &
STARTED_LIBVIRTD=$!
for _ in $(seq 1 100); do
    V list --all >/dev/null 2>&1 && break
    kill -0 "$STARTED_LIBVIRTD" 2>/dev/null || fail "libvirtd exited"
    sleep 0.2
done
V list --all >/dev/null 2>&1 || fail "libvirtd does not answer"
say "libvirtd up ($(libvirtd --version))"

port=$((20000 + $$ % 20000))
cat > "$TMP/dom.xml" <<EOF
<domain type='qemu'>
  <name>$DOM</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$TMP/kernel</kernel>
    <initrd>$TMP/initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet</cmdline>
  </os>
  <devices>
    <emulator>$QEMU</emulator>
    <interface type='udp'>
      <mac address='52:54:00:12:34:58'/>
      <source address='127.0.0.1' port='$port'>
        <local address='127.0.0.1' port='$((port + 1))'/>
      </source>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
    <serial type='file'><source path='$TMP/console.log'/><target port='0'/></serial>
    <controller type='virtio-serial' index='0'/>
    <channel type='unix'>
      <source mode='bind'/>
      <target type='virtio' name='org.perfsight.guestd.0'/>
    </channel>
  </devices>
</domain>
EOF

V create "$TMP/dom.xml" > /dev/null || fail "virsh create"
say "domain $DOM running on $QEMU"
V dumpxml "$DOM" | grep -A3 "<channel" | sed 's/^/    /'

apiport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BUILD/utilities/perfsight-agent" --listen "127.0.0.1:$apiport" \
    --host hv-libvirt --sources=guest --libvirt-uri=qemu:///system \
    --set daemon-timeout-ms=5000 > "$TMP/agent.log" 2>&1 &
AGENT_PID=$!
url=http://127.0.0.1:$apiport/v1/records
for _ in $(seq 1 300); do
    if curl -sf --max-time 30 "$url" > "$TMP/records.json" 2>/dev/null \
       && jq -e --arg id "vnic:$DOM:eth0:rx" \
              '[.[] | select(.element == $id and .vm == ($id | split(":")[1]))] | length == 1' \
              "$TMP/records.json" > /dev/null; then
        break
    fi
    sleep 1
done
jq -e --arg id "vnic:$DOM:eth0:rx" '[.[] | select(.element == $id)] | length == 1' \
    "$TMP/records.json" > /dev/null || fail "no vnic:$DOM:eth0:rx from the agent"
say "the agent serves $(jq -r '[.[].element] | join(", ")' "$TMP/records.json")"
V destroy "$DOM" > /dev/null
say "PASS"
