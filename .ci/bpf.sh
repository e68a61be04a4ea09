#!/bin/bash
# .ci/bpf.sh: CI for the drop-reason source and queue lengths (issue 15),
# on a fresh Debian 12 machine, as root.  build-aux/test runs it after
# .ci/agent.sh (whose builds it reuses); it also runs alone.
#   1. dependencies with apt (libbpf-dev, bpftool and clang come from
#      build-aux/deps; here iproute2, jq, bc, curl, and linux-perf for the
#      kernel's own count of one reason)
#   2. the sanitized build must have the BPF source (HAVE_BPF); the unit
#      tests of the sources, the rule book and the contention diagnosis
#   3. tests/bpf/dropreason.sh  drop reasons, the rule book's reason case,
#                               queue_len and delay, on real traffic
#   4. bench/bpf/bench.sh       (optimised build) the program's cost per
#                               dropped and per consumed packet, on/off;
#                               figures, not pass/fail
# Exits non-zero as soon as a step fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
top=$(pwd)

t0=$(date +%s)
step() { echo; echo "=== .ci/bpf.sh: $* ($(( $(date +%s) - t0 ))s)"; }

[ "$(id -u)" = 0 ] || { echo ".ci/bpf.sh: must run as root" >&2; exit 1; }

step "installing dependencies"
need=()
for p in curl jq iproute2 python3 bc util-linux linux-perf; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt_get() { apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 "$@"; }
    apt_get update -qq
    apt_get install -y -qq --no-install-recommends "${need[@]}" \
        >/tmp/perfsight-bpf-apt.log 2>&1 \
        || { tail -30 /tmp/perfsight-bpf-apt.log; exit 1; }
fi

step "sanitized build with the BPF source, unit tests"
build-aux/build "$top/_build/sanitized" --enable-sanitizers --enable-Werror
if ! grep -q '^#define HAVE_BPF 1' "$top/_build/sanitized/config.h"; then
    echo ".ci/bpf.sh: the build has no drop-reason source (libbpf, clang," \
         "bpftool?); reconfigure _build/sanitized" >&2
    exit 1
fi
make -C "$top/_build/sanitized" -s check \
    TESTS="tests/test-agent-parse tests/test-rulebook tests/test-contention tests/test-window" \
    || { cat "$top"/_build/sanitized/tests/test-*.log; exit 1; }

step "drop reasons and queues on real traffic (tests/bpf/dropreason.sh)"
AGENT="$top/_build/sanitized/utilities/perfsight-agent" \
PERFSIGHT="$top/_build/sanitized/utilities/perfsight" \
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    bash tests/bpf/dropreason.sh

step "benchmark, optimised build (bench/bpf/bench.sh)"
build-aux/build "$top/_build/optimised" CFLAGS="-O2 -g"
make -C "$top/_build/optimised" -s bench/bpf/udp-blast bench/bpf/udp-sink
AGENT="$top/_build/optimised/utilities/perfsight-agent" \
BENCH_BIN="$top/_build/optimised/bench/bpf" \
    bash bench/bpf/bench.sh "${PERFSIGHT_BPF_BENCH_PACKETS:-400000}"

step "done"
