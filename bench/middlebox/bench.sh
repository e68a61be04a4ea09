#!/bin/bash
# bench/middlebox/bench.sh: what libperfsight-preload.so costs (issue 10).
#   1. ns per wrapped call (bench-calls), without the library, with it on
#      CLOCK_MONOTONIC_COARSE (its default), on the TSC and on
#      CLOCK_MONOTONIC, side by side; and what one timestamp costs here
#   2. instructions per wrapped call (callgrind, user space only): the
#      slope between two run lengths, without and with the library
#   3. haproxy's throughput (mode tcp, loopback in a network namespace of
#      its own, nginx sending a file through it to curl), without and with
#      the library, alternating, median of ROUNDS, and their ratio
# Figures, not pass/fail.  As root (3 needs a namespace); BUILD names the
# build (default _build/optimised).  Run it under nice on a shared machine.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-$top/_build/optimised}
calls=$build/bench/middlebox/bench-calls
preload=$build/preload/.libs/libperfsight-preload.so
n=${N:-200000}
rounds=${ROUNDS:-5}
[ -x "$calls" ] || { echo "bench.sh: no $calls (make bench-calls)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/perfsight-mbbench.XXXXXX)
ns=psmbb$$
pids=()
cleanup() {
    set +e
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    sleep 0.2
    ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/shm"
export PERFSIGHT_DIR=$tmp/shm

echo "== ns per call (fastest of 3 x 5 runs of $n calls, the four"
echo "   variants interleaved)"
for r in 1 2 3; do
    "$calls" "$n" 5 >>"$tmp/none.all"
    PERFSIGHT_CLOCK=coarse LD_PRELOAD=$preload "$calls" "$n" 5 \
        >>"$tmp/coarse.all"
    PERFSIGHT_CLOCK=tsc LD_PRELOAD=$preload "$calls" "$n" 5 >>"$tmp/tsc.all"
    PERFSIGHT_CLOCK=monotonic LD_PRELOAD=$preload "$calls" "$n" 5 \
        >>"$tmp/mono.all"
done
for v in none coarse tsc mono; do
    sort -k1,1 -k2,2g "$tmp/$v.all" | awk '!seen[$1]++' >"$tmp/$v"
done
printf '%-14s %9s %9s %9s %9s %9s %9s %9s\n' call without coarse +coarse \
    tsc +tsc monotonic +monotonic
join "$tmp/none" "$tmp/coarse" | join - "$tmp/tsc" | join - "$tmp/mono" \
    | awk '{ printf "%-14s %9.1f %9.1f %+9.1f %9.1f %+9.1f %9.1f %+9.1f\n",
             $1, $2, $3, $3 - $2, $4, $4 - $2, $5, $5 - $2 }'

if command -v valgrind >/dev/null; then
    echo
    echo "== instructions per call (callgrind, user space; slope between"
    echo "   runs of 20000 and 40000 calls)"
    printf '%-14s %10s %10s %10s\n' call without with added
    ir() {                      # ir N TEST [preload]
        local out=$tmp/cg.$1.$2.${3:+p}
        if [ -n "${3:-}" ]; then
            LD_PRELOAD=$preload valgrind --tool=callgrind \
                --callgrind-out-file="$out" "$calls" "$1" 1 "$2" \
                >/dev/null 2>"$out.err"
        else
            valgrind --tool=callgrind --callgrind-out-file="$out" \
                "$calls" "$1" 1 "$2" >/dev/null 2>"$out.err"
        fi
        sed -n 's/^==[0-9]*== Collected : //p' "$out.err"
    }
    for t in recv-eagain send-recv send-recv-blk recv-poll; do
        per=1
        case $t in send-recv* | recv-poll) per=2 ;; esac
        a1=$(ir 20000 $t); a2=$(ir 40000 $t)
        b1=$(ir 20000 $t p); b2=$(ir 40000 $t p)
        # Each run makes N + N/10 + 1 iterations (a warm-up tenth first).
        awk -v a1="$a1" -v a2="$a2" -v b1="$b1" -v b2="$b2" -v t=$t \
            -v per=$per 'BEGIN {
                calls = (40000 + 4001 - 20000 - 2001) * per
                w = (a2 - a1) / calls; p = (b2 - b1) / calls
                printf "%-14s %10.1f %10.1f %+10.1f\n", t, w, p, p - w }'
    done
fi

if command -v haproxy >/dev/null && command -v nginx >/dev/null; then
    echo
    echo "== haproxy throughput (mode tcp, loopback, 1 GiB per transfer,"
    echo "   median of $rounds, alternating)"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    mkdir -p "$tmp/www" "$tmp/nginx"
    truncate -s 1G "$tmp/www/big"
    chmod -R a+rX "$tmp"
    cat >"$tmp/nginx.conf" <<EOF2
daemon off;
master_process off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server { listen 127.0.0.1:18080; root $tmp/www; sendfile on; }
}
EOF2
    cat >"$tmp/haproxy.cfg" <<EOF2
global
    maxconn 100
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend fe
    bind 127.0.0.1:18081
    default_backend be
backend be
    server nginx 127.0.0.1:18080
EOF2
    ip netns exec "$ns" nginx -c "$tmp/nginx.conf" -e "$tmp/nginx/error.log" &
    pids+=($!)
    haproxy_run() {             # haproxy_run with|without
        local env=()
        [ "$1" = with ] && env=(LD_PRELOAD="$preload")
        ip netns exec "$ns" env "${env[@]}" haproxy -db -f "$tmp/haproxy.cfg" \
            >"$tmp/haproxy.out" 2>&1 &
        hpid=$!
        for i in $(seq 50); do
            ip netns exec "$ns" curl -s -o /dev/null http://127.0.0.1:18081/ \
                && break
            sleep 0.1
        done
        local speed cpu0 cpu1
        cpu0=$(awk '{ print $14 + $15 }' "/proc/$hpid/stat")
        speed=$(ip netns exec "$ns" curl -s -o /dev/null \
                    -w '%{speed_download}' http://127.0.0.1:18081/big)
        cpu1=$(awk '{ print $14 + $15 }' "/proc/$hpid/stat")
        # Bytes/s, and haproxy's CPU seconds (user + system) for the GiB.
        echo "$speed $(( cpu1 - cpu0 ))" | awk -v hz="$(getconf CLK_TCK)" \
            '{ print $1, $2 / hz }'
        kill "$hpid"; wait "$hpid" 2>/dev/null || true
    }
    sleep 0.5
    for r in $(seq "$rounds"); do
        haproxy_run without >>"$tmp/without"
        haproxy_run with >>"$tmp/with"
    done
    med() {                     # med FILE COLUMN
        awk -v c="$2" '{ print $c }' "$1" | sort -g \
            | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
    }
    w=$(med "$tmp/without" 1); p=$(med "$tmp/with" 1)
    wc=$(med "$tmp/without" 2); pc=$(med "$tmp/with" 2)
    awk -v w="$w" -v p="$p" -v wc="$wc" -v pc="$pc" 'BEGIN {
        printf "throughput: without %.2f Gbit/s, with %.2f Gbit/s, ratio %.3f\n",
               w * 8 / 1e9, p * 8 / 1e9, p / w
        printf "haproxy CPU per GiB: without %.2f s, with %.2f s, ratio %.3f\n",
               wc, pc, (wc > 0 ? pc / wc : 0) }'
    echo "(each, bytes/s and CPU s: $(tr '\n' ' ' <"$tmp/without")/" \
         "$(tr '\n' ' ' <"$tmp/with"))"
fi
