#!/bin/bash
# tests/pkg/lintian.sh [DIR...]: lintian on every package of the project:
# PerfSight's own (_build/debs, from build-aux/package) and the patched Open
# vSwitch and QEMU ones (build-aux/package-ovs dir, build-aux/package-qemu
# dir), or the .debs in the DIRs given.  An error fails; so does a warning
# that tests/pkg/lintian-warnings does not list (each listed one is
# explained in docs/packaging.md).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

if ! command -v lintian >/dev/null; then
    if [ "${CI:-}" = true ]; then
        echo "FAIL: lintian is not installed (CI=true)"
        exit 1
    fi
    echo "SKIP: lintian is not installed"
    exit 77
fi

if [ $# -gt 0 ]; then
    dirs=("$@")
else
    dirs=("$ROOT/_build/debs"
          "$("$ROOT/build-aux/package-ovs" dir)"
          "$("$ROOT/build-aux/package-qemu" dir)")
fi
debs=()
for d in "${dirs[@]}"; do
    n=$(ls "$d"/*.deb 2>/dev/null | wc -l)
    [ "$n" -gt 0 ] || { fail "no packages in $d (build them first)"; continue; }
    debs+=("$d"/*.deb)
done
[ ${#debs[@]} -gt 0 ] || exit 1

# One "SEVERITY: PACKAGE: TAG" a line, the tag's details dropped.
lintian --no-cfg --display-level '>=warning' "${debs[@]}" > "$TMP/out" 2>&1
grep -E '^[EW]: ' "$TMP/out" | sed 's/^\([EW]: [^:]*: [^ ]*\).*/\1/' \
    | sed 's/^\([EW]: [^ ]*\) \([^ ]*\):/\1:/' | sort -u > "$TMP/tags"
echo "lintian on ${#debs[@]} packages:"
sed 's/^/  /' "$TMP/tags"
if grep -q '^E: ' "$TMP/tags"; then
    grep '^E: ' "$TMP/out"
    fail "lintian reports errors"
fi
grep -v '^[[:space:]]*\(#\|$\)' "$ROOT/tests/pkg/lintian-warnings" \
    | sort -u > "$TMP/known"
grep '^W: ' "$TMP/tags" | comm -23 - "$TMP/known" > "$TMP/new"
if [ -s "$TMP/new" ]; then
    sed 's/^/  new: /' "$TMP/new"
    fail "warnings that tests/pkg/lintian-warnings does not explain"
fi
[ $failures = 0 ] && echo "PASS: tests/pkg/lintian.sh (no errors; warnings as listed)"
[ $failures = 0 ]
