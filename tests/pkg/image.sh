#!/bin/bash
# tests/pkg/image.sh: boot the hypervisor image (build-aux/image; built if
# not cached) under the patched QEMU (TCG), wait for its perfsight-agent,
# and read `perfsight show` from outside through the forwarded port: it must
# show the image's own elements (its NIC, its backlogs, its CPU) and the
# patched ovs-vswitchd's bridge br0 with its port p0, which the image's
# oneshot unit made at boot.  Its units are Debian's, run by its systemd.
# The console goes to a log, printed on failure.  As root (the image build
# needs it; the boot does not).
#
# Environment: PERFSIGHT (the perfsight program; default the one in
# PERFSIGHT_DEBS, default _build/debs, from build-aux/package), IMAGE_PORT
# (default 19464), BOOT_WAIT (seconds to wait for the agent, default 900:
# TCG on 2 shared cores; not a timed assertion, a bound on waiting).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
PORT=${IMAGE_PORT:-19464}
qpid=
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
skip_test() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: $* (CI=true: a missing component fails the test)"
        exit 1
    fi
    echo "SKIP: $*"
    exit 77
}
cleanup() {
    if [ -n "$qpid" ]; then
        kill "$qpid" 2>/dev/null
        wait "$qpid" 2>/dev/null
    fi
    [ $failures = 0 ] || { echo "--- console (last 60 lines)"; tail -60 "$TMP/console.log"; }
    rm -rf "$TMP"
}
trap 'cleanup; [ $failures = 0 ] || exit 1' EXIT

[ "$(id -u)" = 0 ] || skip_test "building the image needs root"
command -v jq >/dev/null || skip_test "jq is needed"
# The client: PERFSIGHT, else the packaged one, unpacked (not installed).
debs=${PERFSIGHT_DEBS:-$ROOT/_build/debs}
if [ -z "${PERFSIGHT:-}" ] && ls "$debs"/perfsight_*.deb >/dev/null 2>&1; then
    for p in perfsight libperfsight0; do
        dpkg-deb -x "$(ls "$debs"/${p}_*.deb | head -1)" "$TMP/client"
    done
    export LD_LIBRARY_PATH=$(echo "$TMP"/client/usr/lib/*-linux-gnu)
    PERFSIGHT=$TMP/client/usr/bin/perfsight
fi
[ -x "${PERFSIGHT:-}" ] || skip_test "no perfsight program (build-aux/package first)"

t0=$(date +%s)
img=$("$ROOT/build-aux/image" build) || { fail "build-aux/image build"; exit 1; }
echo "image: $img ($(( $(cat "$img/size-kib") / 1024 )) MiB qcow2," \
     "built in $(cat "$img/build-seconds") s)"
t1=$(date +%s)
"$ROOT/build-aux/image" boot "$PORT" > "$TMP/console.log" 2>&1 &
qpid=$!

cat > "$TMP/topology.json" <<EOF
{"hosts": [{"id": "perfsight-hv", "agent": "https://127.0.0.1:$PORT"}], "tenants": []}
EOF
auth=(--cacert "$img/cert.pem" -H "Authorization: Bearer $(cat "$img/token")")
up=no
for _ in $(seq 1 "${BOOT_WAIT:-900}"); do
    kill -0 "$qpid" 2>/dev/null || { fail "QEMU exited"; exit 1; }
    if curl -sf "${auth[@]}" "https://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
        up=yes
        break
    fi
    sleep 1
done
[ $up = yes ] || { fail "the agent did not answer on port $PORT"; exit 1; }
t2=$(date +%s)
echo "booted: the agent answered $(( t2 - t1 )) s after QEMU started"

# ovs-vswitchd and the oneshot unit may come up after the agent: wait for
# the port in the agent's records (bounded like the boot).
for _ in $(seq 1 120); do
    curl -sf "${auth[@]}" "https://127.0.0.1:$PORT/v1/records" > "$TMP/records" \
        2>/dev/null && grep -q '"vswitch:br0:p0:rx"' "$TMP/records" && break
    sleep 1
done

"$PERFSIGHT" show --topology "$TMP/topology.json" --cacert "$img/cert.pem" \
    --token-file "$img/token" --format json > "$TMP/show.json" 2>"$TMP/show.err" \
    || fail "perfsight show: $(cat "$TMP/show.err")"
"$PERFSIGHT" show --topology "$TMP/topology.json" --cacert "$img/cert.pem" \
    --token-file "$img/token" > "$TMP/show.txt" 2>&1 || true
echo "perfsight show, from outside the image:"
sed 's/^/  /' "$TMP/show.txt"
ids=$(jq -r '.elements[].element' "$TMP/show.json" | sort -u)
for want in vswitch:br0:p0:rx vswitch:br0:p0:tx pnic:eth0:rx backlog:cpu0 cpu:host; do
    grep -q "^$want" <<< "$ids" || fail "perfsight show lacks $want (has: $(echo $ids))"
done
jq -e '[.elements[].host] | unique == ["perfsight-hv"]' "$TMP/show.json" >/dev/null \
    || fail "elements of hosts other than perfsight-hv"
echo "total: $(( $(date +%s) - t0 )) s"
[ $failures = 0 ] && echo "PASS: tests/pkg/image.sh"
