#!/bin/bash
# .ci/guest.sh: CI for perfsight-guestd and the agent's guest source
# (issue 11), on a fresh Debian 12 machine, as root.  build-aux/test runs
# it after the core (_build/sanitized) and .ci/qemu.sh; it also runs alone.
#   1. dependencies with apt
#   2. the sanitized build (ASan, UBSan, -Werror) and tests/test-guest
#   3. tests/guest/hostile.sh  a real agent against hostile unix socket
#                              guests: garbage, oversized, hang, another
#                              VM's ids, host ids, data unasked
#   4. tests/guest/e2e.sh      the patched kernel (build-aux/linux-build)
#                              and guestd under the patched QEMU (TCG): a
#                              flood in and out, a middlebox under the
#                              preload library; the agent's records agree
#                              with the guest's own answer
#   5. tests/guest/libvirt.sh  the same guest as a libvirt domain: the
#                              agent finds its port from the <channel>
#   6. bench/guest/bench.sh    (optimised build, callgrind) instructions of
#                              a guest's answer to the agent; figures only
# (The fuzz target fuzz-guest runs with the others in build-aux/test.)
# Exits non-zero as soon as a step fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
top=$(pwd)
export CI=${CI:-true}

t0=$(date +%s)
step() { echo; echo "=== .ci/guest.sh: $* ($(( $(date +%s) - t0 ))s)"; }

[ "$(id -u)" = 0 ] || { echo ".ci/guest.sh: must run as root" >&2; exit 1; }

step "installing dependencies"
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 "$@"; }
need=()
for p in build-essential ccache ninja-build meson pkgconf python3 \
         libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev dpkg-dev \
         xz-utils seabios ipxe-qemu qemu-system-data busybox-static cpio \
         gzip iproute2 iputils-ping procps curl jq libvirt-daemon-system \
         libvirt-clients libvirt-daemon-driver-qemu valgrind bc; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    apt_get update -qq
    apt_get install -y -qq --no-install-recommends "${need[@]}" \
        > /tmp/perfsight-guest-apt.log 2>&1 \
        || { tail -30 /tmp/perfsight-guest-apt.log; exit 1; }
fi

step "sanitized build and tests/test-guest"
build-aux/build "$top/_build/sanitized" --enable-sanitizers --enable-Werror
make -C _build/sanitized -s tests/test-guest
_build/sanitized/tests/test-guest

step "hostile guests (tests/guest/hostile.sh)"
AGENT=$top/_build/sanitized/utilities/perfsight-agent bash tests/guest/hostile.sh

step "end to end in a VM (tests/guest/e2e.sh)"
PERFSIGHT_BUILD=$top/_build/sanitized bash tests/guest/e2e.sh

step "libvirt domain (tests/guest/libvirt.sh)"
PERFSIGHT_BUILD=$top/_build/sanitized bash tests/guest/libvirt.sh

step "benchmark (bench/guest/bench.sh)"
build-aux/build "$top/_build/optimised" CFLAGS="-O2 -g"
make -C _build/optimised -s bench/guest/bench-parse
bash bench/guest/bench.sh _build/optimised/bench/guest/bench-parse

step "done: guest part passed in $(( $(date +%s) - t0 ))s"
