#!/bin/bash
# A recording larger than the memory perfsight may use is still diagnosed:
# 600 rounds of 1000 elements (about 135 MB of JSON Lines) through a pipe,
# under a 64 MiB limit on its data (RLIMIT_DATA: heap and private
# mappings; an address-space limit would also count the shared libraries,
# libvirt's among them).  Needs a build without sanitizers (they reserve
# terabytes); build-aux/test runs it on the optimised build.
set -euo pipefail
: "${PERFSIGHT:?PERFSIGHT must name the perfsight program}"
if ldd "$(dirname "$PERFSIGHT")/.libs/$(basename "$PERFSIGHT")" 2>/dev/null \
        | grep -q asan || ldd "$PERFSIGHT" 2>/dev/null | grep -q asan; then
    echo "skipped: sanitized build"
    exit 77
fi

gen() {
    awk 'BEGIN {
        for (s = 0; s < 600; s++)
            for (i = 0; i < 1000; i++)
                printf "{\"ts_ns\": %d%09d, \"host\": \"hv%d\", \"element\": \"tap:vnet%d:to_guest\", \"type\": \"tap\", \"vm\": \"vm%d\", \"attrs\": {\"in_packets\": %d, \"in_bytes\": %d, \"out_packets\": %d, \"out_bytes\": %d, \"drops\": %d}}\n", 1764151200 + s, i * 1000, i % 10, i, i, s * 1000, s * 1500000, s * 990, s * 1485000, (i == 7 ? s * 10 : 0)
    }'
}

bytes=$(gen | wc -c)
out=$( (ulimit -d 65536; gen | "$PERFSIGHT" diagnose contention --input - --format json) )
echo "$out" | grep -q '"verdict": "bottleneck"' || { echo "FAIL: $out" | head; exit 1; }
echo "$out" | grep -q '"records": 600000' || { echo "FAIL: not all records read"; exit 1; }
# The limit binds: the same shell cannot allocate 100 MiB.
if (ulimit -d 65536; python3 -c 'bytearray(100 << 20)') 2>/dev/null; then
    echo "FAIL: the limit does not bind"
    exit 1
fi
echo "read $bytes bytes under a 64 MiB data limit: ok"
