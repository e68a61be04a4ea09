#!/bin/bash
# .ci/linux.sh: CI for PerfSight's guest kernel part, on a fresh Debian 12
# machine (root).  Installs every dependency with apt, then:
#   1. scripts/checkpatch.pl --strict on every patch of patches/linux
#   2. build-aux/linux-build check-series   each patch builds alone
#      (drivers/net/virtio_net.o, W=1, no warnings)
#   3. build-aux/linux-build build          the patched guest kernel
#   4. tests/linux/e2e.sh                   boot it under the patched QEMU
#      (TCG), run the kselftest inside, flood it, check the counters
#   5. bench/linux/bench.sh                 receive cost, patched vs
#      unpatched (reported, not a pass/fail criterion)
# Exits non-zero as soon as a step fails.  The build cache lives in
# ${PERFSIGHT_CACHE:-/var/cache/perfsight}; a second run reuses it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

t0=$(date +%s)
step() { echo; echo "=== .ci/linux.sh: $* ($(( $(date +%s) - t0 ))s)"; }

[ "$(id -u)" = 0 ] || { echo ".ci/linux.sh: must run as root" >&2; exit 1; }

step "installing dependencies"
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 "$@"; }
apt_get update -qq
apt_get install -y -qq --no-install-recommends \
    build-essential ccache git python3 perl xz-utils ca-certificates \
    linux-source-6.1 flex bison bc libelf-dev libssl-dev \
    busybox-static cpio gzip ethtool iproute2 iputils-ping procps \
    ninja-build meson pkgconf libglib2.0-dev libpixman-1-dev zlib1g-dev \
    libfdt-dev dpkg-dev seabios ipxe-qemu qemu-system-data \
    > /tmp/perfsight-linux-apt.log 2>&1 \
    || { tail -30 /tmp/perfsight-linux-apt.log; exit 1; }

step "checkpatch --strict on every patch"
LINUX_BUILD_QUIET=1 build-aux/linux-build checkpatch

step "each patch builds alone (build-aux/linux-build check-series)"
build-aux/linux-build check-series

step "the patched guest kernel (build-aux/linux-build build)"
LINUX_BUILD_QUIET=1 build-aux/linux-build build

step "end-to-end test (tests/linux/e2e.sh)"
bash tests/linux/e2e.sh

if [ -f bench/linux/bench.sh ]; then
    step "benchmark (bench/linux/bench.sh)"
    bash bench/linux/bench.sh
fi

step "done: Linux part passed in $(( $(date +%s) - t0 ))s"
