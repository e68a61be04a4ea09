#!/bin/bash
# .ci/qemu.sh: CI for PerfSight's QEMU part, on a fresh Debian 12 machine
# (root).  Installs every dependency with apt, then:
#   1. build-aux/qemu-build check   fetch QEMU 7.2 with apt-get source,
#      apply patches/qemu, build, run the qtests (virtio-net, qmp-cmd-test,
#      test-hmp, perfsight-test)
#   2. tests/qemu/e2e.sh            TCG guest on a tap in a netns, flood,
#      query-perfsight shows where the loss is and why
#   3. tests/qemu/libvirt.sh        the same query through libvirtd/virsh
#   4. bench/qemu/bench.sh          patched vs unpatched: instructions per
#      packet and guest packet rate (reported, not a pass/fail criterion)
# Exits non-zero as soon as a step fails.  The build cache lives in
# ${PERFSIGHT_CACHE:-/var/cache/perfsight}; a second run reuses it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

t0=$(date +%s)
step() { echo; echo "=== .ci/qemu.sh: $* ($(( $(date +%s) - t0 ))s)"; }

[ "$(id -u)" = 0 ] || { echo ".ci/qemu.sh: must run as root" >&2; exit 1; }

step "installing dependencies"
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 "$@"; }
apt_get update -qq
apt_get install -y -qq --no-install-recommends \
    build-essential ccache git ninja-build meson pkgconf python3 \
    libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev \
    dpkg-dev xz-utils ca-certificates \
    seabios ipxe-qemu qemu-system-data \
    busybox-static cpio gzip iproute2 iputils-ping procps \
    valgrind \
    libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu \
    > /tmp/perfsight-qemu-apt.log 2>&1 \
    || { tail -30 /tmp/perfsight-qemu-apt.log; exit 1; }

step "build and qtests (build-aux/qemu-build check)"
QEMU_BUILD_QUIET=1 build-aux/qemu-build check

step "end-to-end test (tests/qemu/e2e.sh)"
bash tests/qemu/e2e.sh

if [ -f tests/qemu/libvirt.sh ]; then
    step "libvirt test (tests/qemu/libvirt.sh)"
    bash tests/qemu/libvirt.sh
fi

if [ -f bench/qemu/bench.sh ]; then
    step "benchmark (bench/qemu/bench.sh)"
    QEMU_BUILD_QUIET=1 bash bench/qemu/bench.sh
fi

step "done: QEMU part passed in $(( $(date +%s) - t0 ))s"
