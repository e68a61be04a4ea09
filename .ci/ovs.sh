#!/bin/bash
# .ci/ovs.sh: CI for PerfSight's Open vSwitch part, on a fresh Debian 12
# machine (root, 2 cores).  Installs every dependency with apt, then:
#   1. build-aux/ovs-build build   pinned source (openvswitch-source, 3.1.0)
#      + patches/ovs, built with ccache in ${PERFSIGHT_CACHE:-/var/cache/perfsight}
#   2. build-aux/ovs-build check   tests/perfsight.at and OVS's own tests for
#      the touched areas (dpif-netdev, pmd, drop-stats, unixctl keywords)
#   3. tests/ovs/e2e.sh            patched vswitchd, netdev datapath, two taps
#      in network namespaces, real traffic and provoked drops
#   4. bench/ovs/bench.sh          patched vs unpatched: instructions per
#      packet (callgrind) and throughput (reported; not pass/fail)
# Exits non-zero as soon as a step fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

t0=$(date +%s)
step() { echo; echo "=== .ci/ovs.sh: $* ($(( $(date +%s) - t0 ))s)"; }

[ "$(id -u)" = 0 ] || { echo ".ci/ovs.sh: must run as root" >&2; exit 1; }

step "installing dependencies"
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 "$@"; }
apt_get update -qq
apt_get install -y -qq --no-install-recommends \
    build-essential autoconf automake libtool patch pkgconf ccache \
    python3 openvswitch-source \
    iproute2 iputils-ping iperf3 procps \
    valgrind \
    > /tmp/perfsight-ovs-apt.log 2>&1 \
    || { tail -30 /tmp/perfsight-ovs-apt.log; exit 1; }

step "build (build-aux/ovs-build build)"
build-aux/ovs-build build

step "OVS testsuite: perfsight + touched areas (build-aux/ovs-build check)"
build-aux/ovs-build check

step "end-to-end test (tests/ovs/e2e.sh)"
bash tests/ovs/e2e.sh

step "benchmark (bench/ovs/bench.sh)"
# One callgrind run per build: the figures without the send function are
# the same to 0.1% run to run, and three runs took 13.5 of CI's minutes.
CG_RUNS=${CG_RUNS:-1} bash bench/ovs/bench.sh

step "done"
