#!/bin/bash
# tests/preload.sh: libperfsight-preload.so leaves every call's return
# value and errno as they were, and counts into a segment per process that
# survives fork() and exec() (docs/middlebox.md).  Runs tests/preload-calls
# (built without sanitizers, like the library) with and without the
# library and compares the transcripts, then reads the segments.
set -euo pipefail
build=$(cd "$(dirname "$PERFSIGHT")/.." && pwd)
calls=$build/tests/preload-calls
preload=$build/preload/.libs/libperfsight-preload.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

"$calls" >"$tmp/without" 2>&1 || fail "without the library: exit $?"
LD_PRELOAD=$preload PERFSIGHT_DIR=$tmp "$calls" >"$tmp/with" 2>&1 \
    || fail "with the library: exit $?"
diff -u "$tmp/without" "$tmp/with" || fail "the transcripts differ"
grep -q "errno changed" "$tmp/with" && fail "a successful call changed errno"
grep -q "^relayed" "$tmp/with" || fail "no relay: $(cat "$tmp/with")"

# sums DIR/FILE: "prog fwd_in fwd_out rev_in rev_out" of one segment.
sums() {
    python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
magic, version = struct.unpack_from("<II", b, 0)
assert magic == 0x424d5350 and version == 1 and len(b) == 41440
prog = b[64:96].split(b"\0")[0].decode()
s = [0] * 8
for i in range(64):
    v = struct.unpack_from("<8Q", b, 480 + i * 640 + 64)
    s = [x + y for x, y in zip(s, v)]
print(prog, s[0], s[1], s[4], s[5])
PY
}
n=$(ls "$tmp" | grep -c '^perfsight-mb\.' || true)
[ "$n" = 2 ] || fail "$n segments, expected the parent's and the child's"
for f in "$tmp"/perfsight-mb.*; do
    sums "$f" >>"$tmp/sums"
    [ "$(stat -c %a "$f")" = 644 ] || fail "$f: mode $(stat -c %a "$f")"
done
# Parent: 100000 (and 23 of single calls) up to down, 50000 back; its
# fork()ed child: 1000 more, in a segment of its own.
grep -q "^preload-calls 1000[0-9][0-9] 1000[0-9][0-9] 50000 50000$" \
    "$tmp/sums" || fail "parent's counts: $(cat "$tmp/sums")"
grep -q "^preload-calls 1000 1000 0 0$" "$tmp/sums" \
    || fail "child's counts: $(cat "$tmp/sums")"

# exec(): the new image makes a new segment for the same pid.
rm -f "$tmp"/perfsight-mb.* "$tmp/sums"
LD_PRELOAD=$preload PERFSIGHT_DIR=$tmp PERFSIGHT_PROG=relay "$calls" exec \
    >"$tmp/exec" 2>&1 || fail "exec: exit $?"
grep -q "^exec'd child relayed" "$tmp/exec" || fail "exec: $(cat "$tmp/exec")"
for f in "$tmp"/perfsight-mb.*; do sums "$f" >>"$tmp/sums"; done
grep -q "^relay 777 777 0 0$" "$tmp/sums" \
    || fail "exec'd image's counts: $(cat "$tmp/sums")"

[ $failures = 0 ] && echo "all passed"
exit $failures
