#!/bin/bash
# .ci/middlebox.sh: CI for the middlebox counters and the root-cause
# diagnosis live (issue 10), on a fresh Debian 12 machine, as root.
# build-aux/test runs it after .ci/agent.sh; it also runs alone.
#   1. dependencies with apt: haproxy, tinyproxy, nginx (with WebDAV), pen,
#      curl, iproute2, jq
#   2. the sanitized build (ASan, UBSan, -Werror; the preload library is
#      built without sanitizers, as it loads into Debian's programs) and
#      tests/test-middlebox
#   3. tests/middlebox/chain.sh: client -> haproxy -> tinyproxy -> nginx in
#      network namespaces, under libperfsight-preload.so, diagnosed by the
#      sanitized perfsight and perfsight-agent; with CI=true a missing
#      program fails it
#   4. tests/middlebox/dag.sh: client -> pen -> nginx (mirror) -> server
#      and log store, Figure 12(d)
#   5. bench/middlebox/bench.sh (optimised build), if present: figures,
#      not pass/fail
# Exits non-zero as soon as a step fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
top=$(pwd)
export CI=${CI:-true}

t0=$(date +%s)
step() { echo; echo "=== .ci/middlebox.sh: $* ($(( $(date +%s) - t0 ))s)"; }

[ "$(id -u)" = 0 ] || { echo ".ci/middlebox.sh: must run as root" >&2; exit 1; }

step "installing dependencies"
need=()
for p in haproxy tinyproxy pen curl iproute2 jq procps python3 valgrind; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || need+=("$p")
done
# Any Debian nginx flavour with the WebDAV module will do; nginx-light is
# the smallest.
if ! { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } \
   || ! /usr/sbin/nginx -V 2>&1 | grep -q http_dav_module; then
    need+=(nginx-light)
fi
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt_get() { apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 "$@"; }
    apt_get update -qq
    apt_get install -y -qq --no-install-recommends "${need[@]}" \
        >/tmp/perfsight-middlebox-apt.log 2>&1 \
        || { tail -30 /tmp/perfsight-middlebox-apt.log; exit 1; }
fi

step "sanitized build and tests/test-middlebox"
build-aux/build "$top/_build/sanitized" --enable-sanitizers --enable-Werror
make -C "$top/_build/sanitized" -s check TESTS="tests/test-middlebox" \
    || { cat "$top"/_build/sanitized/tests/test-middlebox.log; exit 1; }

step "the chain, live (tests/middlebox/chain.sh)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
BUILD="$top/_build/sanitized" bash tests/middlebox/chain.sh

step "a DAG with a log store, live (tests/middlebox/dag.sh)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
BUILD="$top/_build/sanitized" bash tests/middlebox/dag.sh

if [ -f bench/middlebox/bench.sh ]; then
    step "benchmark, optimised build (bench/middlebox/bench.sh)"
    build-aux/build "$top/_build/optimised" CFLAGS="-O2 -g"
    BUILD="$top/_build/optimised" nice bash bench/middlebox/bench.sh
fi

step "done"
