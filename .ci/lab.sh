#!/bin/bash
# .ci/lab.sh: CI for the lab (docs/lab.md), on a fresh Debian 12 machine,
# as root.  build-aux/test runs it last, after .ci/ovs.sh has built the
# patched Open vSwitch into the cache it reuses; it also runs alone.
#   lab/run --quick: Figures 12 (b-d) and 13 (1, 4) live, every
#   verdict checked against the injected problem (lab/deps installs the
#   Debian packages it runs).  Recordings, verdicts and plots in _lab/.
#   bench/lab/overhead.sh: the lab's chain with and without the agent
#   polling at 100 ms and the preload library, as ratios (not pass/fail).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CI=${CI:-true}
[ "$(id -u)" = 0 ] || { echo ".ci/lab.sh: must run as root" >&2; exit 1; }
t0=$(date +%s)
# The optimised tree the core part built (a second build would only cost
# time).
export BUILD=$PWD/_build/optimised
lab/run --quick
echo "=== .ci/lab.sh: bench/lab/overhead.sh, the lab with and without the agent and the preload library ($(( $(date +%s) - t0 ))s)"
bash bench/lab/overhead.sh
echo "=== .ci/lab.sh: done ($(( $(date +%s) - t0 ))s)"
