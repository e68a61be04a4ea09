#!/bin/bash
# .ci/pkg.sh: lintian on PerfSight's own packages, which build-aux/test's
# "Debian packages" step has just built into _build/debs.  The patched Open
# vSwitch and QEMU packages and the hypervisor image take longer than CI
# has (docs/packaging.md): build-aux/package-all builds and tests them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -n "$(ls _build/debs/*.deb 2>/dev/null)" ] || build-aux/package
dpkg-query -W -f='${Status}' lintian 2>/dev/null | grep -q 'ok installed' \
    || DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q \
           install -y --no-install-recommends lintian >/dev/null
bash tests/pkg/lintian.sh _build/debs
