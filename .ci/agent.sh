#!/bin/bash
# .ci/agent.sh: CI for perfsight-agent (issue 5), on a fresh Debian 12
# machine, as root.  build-aux/test runs it after building the core in
# _build/sanitized and _build/optimised; it also runs alone.
#   1. dependencies with apt (Prometheus, curl, jq, openssl, ...)
#   2. the sanitized build (ASan, UBSan, -Werror) and the agent's unit tests
#   3. tests/agent/http.sh   endpoints, bounded and malformed requests,
#                            several agents, TLS and bearer tokens
#   3b. tests/agent/round.sh requests of one round share its records;
#                            a new round samples again
#   4. tests/agent/live.sh   stalled tap, veths, RPS backlog drops,
#                            Prometheus against /v1/records
#   5. tests/agent/ovs.sh    the OVS source on the patched ovs-vswitchd, if
#                            a build of it is cached (else it says it skips;
#                            with CI=true, it fails)
#   6. tests/agent/qemu.sh   the QMP source on the patched QEMU, if a build
#                            of it is cached (else it says it skips; with
#                            CI=true, it fails)
#   7. bench/agent/bench.sh  (optimised build) snapshot time, and agent CPU
#                            next to prometheus-node-exporter's
#                            (bench/agent/cpu.sh, PERFSIGHT_AGENT_POLL_SECONDS
#                            each, 15 by default here, 60 alone); figures,
#                            not pass/fail
# Exits non-zero as soon as a step fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
top=$(pwd)

t0=$(date +%s)
step() { echo; echo "=== .ci/agent.sh: $* ($(( $(date +%s) - t0 ))s)"; }

[ "$(id -u)" = 0 ] || { echo ".ci/agent.sh: must run as root" >&2; exit 1; }

step "installing dependencies"
need=()
for p in prometheus prometheus-node-exporter curl jq openssl iproute2 \
         python3 bc procps; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt_get() { apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 "$@"; }
    apt_get update -qq
    apt_get install -y -qq --no-install-recommends "${need[@]}" \
        >/tmp/perfsight-agent-apt.log 2>&1 \
        || { tail -30 /tmp/perfsight-agent-apt.log; exit 1; }
fi
# Debian's package may have started a Prometheus of its own; ours uses
# other ports and a directory of its own, so it is left alone.

step "sanitized build and the agent's unit tests"
build-aux/build "$top/_build/sanitized" --enable-sanitizers --enable-Werror
make -C "$top/_build/sanitized" -s check \
    TESTS="tests/test-agent-parse tests/test-agent-metrics" \
    || { cat "$top"/_build/sanitized/tests/test-agent-*.log; exit 1; }

export AGENT="$top/_build/sanitized/utilities/perfsight-agent"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1

step "HTTP: endpoints, limits, several agents, TLS (tests/agent/http.sh)"
bash tests/agent/http.sh

step "rounds: shared, never stale (tests/agent/round.sh)"
bash tests/agent/round.sh

step "live devices and Prometheus (tests/agent/live.sh)"
bash tests/agent/live.sh

step "Open vSwitch source against the patched ovs-vswitchd (tests/agent/ovs.sh)"
bash tests/agent/ovs.sh

step "QMP source against the patched QEMU (tests/agent/qemu.sh)"
bash tests/agent/qemu.sh

step "benchmark, optimised build (bench/agent/bench.sh)"
build-aux/build "$top/_build/optimised" CFLAGS="-O2 -g"
AGENT="$top/_build/optimised/utilities/perfsight-agent" \
BENCH_SNAPSHOT="$top/_build/optimised/bench/agent/bench-snapshot" \
    bash bench/agent/bench.sh "${PERFSIGHT_AGENT_POLL_SECONDS:-15}"

step "done"
