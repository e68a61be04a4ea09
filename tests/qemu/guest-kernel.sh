#!/bin/bash
# guest-kernel.sh: fetch the guest kernel for the QEMU tests and print the
# directory it was unpacked into.  The kernel is Debian 12's own
# (the package linux-image-amd64 depends on), unpacked with dpkg-deb
# under ${PERFSIGHT_CACHE:-/var/cache/perfsight}/kernel/ -- it is not
# installed on the host.  The directory holds vmlinuz and lib/modules/.
set -euo pipefail
CACHE=${PERFSIGHT_CACHE:-/var/cache/perfsight}
dir=$CACHE/kernel
mkdir -p "$dir"
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null \
      | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || { echo "guest-kernel: no linux-image-amd64 in apt" >&2; exit 1; }
kver=${pkg#linux-image-}
if [ ! -f "$dir/$kver/.complete" ]; then
    rm -rf "${dir:?}/$kver" && mkdir -p "$dir/$kver"
    (cd "$dir/$kver" && apt-get -o DPkg::Lock::Timeout=600 download -qq "$pkg" >&2 \
        && dpkg-deb -x ./*.deb x && rm -f ./*.deb)
    cp "$dir/$kver/x/boot/vmlinuz-$kver" "$dir/$kver/vmlinuz"
    touch "$dir/$kver/.complete"
fi
echo "$dir/$kver"
