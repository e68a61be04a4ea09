#!/bin/bash
# libvirt.sh: query the PerfSight counters of the patched QEMU through a
# real libvirtd, as an operator's agent would:
#   virsh qemu-monitor-command DOM '{"execute":"query-perfsight"}'
#   virsh qemu-monitor-command DOM --hmp 'info perfsight'
#
# The domain is TCG (type='qemu'), runs the patched emulator, has no disk
# and one virtio NIC on a UDP socket backend bound to 127.0.0.1 (no tap,
# no traffic outside the loopback).  libvirtd needs, on this kind of
# machine (no KVM, no systemd, running as root): a libvirt-qemu user and,
# in /etc/libvirt/qemu.conf, user = "root", security_driver = "none" and
# stdio_handler = "file" (no virtlogd).  The script sets those, starts
# libvirtd if none is running, and puts everything back on exit.
#
# usage: tests/qemu/libvirt.sh [QEMU_BINARY]   (root)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
QEMU=${1:-${QEMU:-}}
DOM=ps-libvirt-$$
CONF=/etc/libvirt/qemu.conf
TMP=$(mktemp -d /tmp/perfsight-libvirt.XXXXXX)
STARTED_LIBVIRTD=
CONF_SAVED=

[ "$(id -u)" = 0 ] || { echo "libvirt: needs root" >&2; exit 77; }
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
    if [ $rc -ne 0 ] && [ -f "$TMP/libvirtd.log" ]; then
        tail -20 "$TMP/libvirtd.log" >&2 || true
    fi
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT INT TERM

fail() { echo "libvirt: FAIL: $*" >&2; exit 1; }
say() { echo "libvirt: $*"; }
V() { virsh -c qemu:///system "$@"; }

id libvirt-qemu >/dev/null 2>&1 || \
    useradd --system --no-create-home --shell /usr/sbin/nologin libvirt-qemu

# qemu.conf: run QEMU as root, no security driver, no virtlogd
cp "$CONF" "$TMP/qemu.conf.orig"
CONF_SAVED=1
cat >> "$CONF" <<'EOF'
# added by PerfSight tests/qemu/libvirt.sh (restored on exit)
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
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>$QEMU</emulator>
    <interface type='udp'>
      <mac address='52:54:00:12:34:57'/>
      <source address='127.0.0.1' port='$port'>
        <local address='127.0.0.1' port='$((port + 1))'/>
      </source>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
    <graphics type='vnc' autoport='no' port='-1' listen='127.0.0.1'/>
  </devices>
</domain>
EOF
# no VNC in the minimal build: drop the graphics element
sed -i '/<graphics/d' "$TMP/dom.xml"

V create "$TMP/dom.xml" > /dev/null || fail "virsh create"
say "domain $DOM running on $QEMU"

V qemu-monitor-command "$DOM" '{"execute":"query-perfsight"}' \
    > "$TMP/qmp.json" || fail "qemu-monitor-command query-perfsight"
python3 - "$TMP/qmp.json" "$DOM" <<'EOF' || fail "query-perfsight answer"
import json, sys
rsp = json.load(open(sys.argv[1]))
dom = sys.argv[2]
els = rsp["return"]
ids = sorted(e["element"] for e in els)
print("libvirt: query-perfsight elements: %s" % ", ".join(ids))
assert len(els) == 2, els
for e in els:
    assert e["vm"] == dom, e
    assert e["element"] == "hypervisor:%s:%s:%s" % (dom, e["netdev"],
                                                   e["direction"]), e
    assert e["model"] == "virtio-net-pci", e
    for k in ("in-packets", "in-bytes", "out-packets", "out-bytes", "drops",
              "in-time-ns", "out-time-ns", "blocked-time-ns",
              "no-buffer-time-ns"):
        assert isinstance(e[k], int) and e[k] >= 0, (k, e)
    assert len(e["drops-by-reason"]) == 9, e
EOF

V qemu-monitor-command "$DOM" --hmp 'info perfsight' > "$TMP/hmp.txt" \
    || fail "qemu-monitor-command --hmp info perfsight"
V qemu-monitor-command "$DOM" '{"execute":"query-perfsight"}' \
    > "$TMP/qmp2.json" || fail "qemu-monitor-command query-perfsight"
sed 's/^/    /' "$TMP/hmp.txt"
# The same rows and counters as query-perfsight's, read before and after.
for f in qmp qmp2; do
    python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1]))["return"], sys.stdout)' \
        "$TMP/$f.json" > "$TMP/$f.elements.json"
done
python3 "$HERE/check-info-text.py" "$TMP/qmp.elements.json" "$TMP/hmp.txt" \
    "$TMP/qmp2.elements.json" || fail "info perfsight text"
say "info perfsight: the rx and tx rows, counters as query-perfsight's"

V destroy "$DOM" > /dev/null
say "PASS"
