#!/bin/bash
# perfsight-agent's HTTP side: endpoints, read-only, bounded requests,
# malformed requests, several agents side by side, TLS and bearer token.
# Everything runs in a network namespace of the test's own.
. "$(dirname "$0")/lib.sh"

make_ns
P=19464

start_agent plain --listen=127.0.0.1:$P --host=hv1 --libvirt-uri=none \
    || finish

# Endpoints.
[ "$(http http://127.0.0.1:$P/healthz)" = 200 ] && grep -qx ok "$TMP/body" \
    && ok "/healthz" || fail "/healthz"
code=$(http http://127.0.0.1:$P/v1/records)
if [ "$code" = 200 ] && jq -e 'type == "array" and length > 0
        and all(.[]; (.ts_ns | type) == "number" and .host == "hv1"
                and (.element | type) == "string" and (.attrs | type)
                == "object")' "$TMP/body" >/dev/null; then
    ok "/v1/records is an array of records"
else
    fail "/v1/records ($code)"; head -c 300 "$TMP/body"
fi
jq -e 'any(.[]; .element == "cpu:host" and .type == "cpu"
           and .attrs.cpu_util >= 0 and .attrs.cpu_util <= 1)' \
    "$TMP/body" >/dev/null && ok "cpu:host has cpu_util" || fail "cpu:host"
jq -e 'any(.[]; .type == "backlog")' "$TMP/body" >/dev/null \
    && ok "backlog elements" || fail "no backlog element"

code=$(http http://127.0.0.1:$P/metrics)
if [ "$code" = 200 ] && grep -q '^perfsight_drops_total{host="hv1",' \
        "$TMP/body"; then
    ok "/metrics"
else
    fail "/metrics ($code)"
fi
if command -v promtool >/dev/null; then
    # promtool's linter wants _total only on counters, and HELP and TYPE.
    if promtool check metrics <"$TMP/body" >"$TMP/promtool" 2>&1; then
        ok "promtool check metrics"
    else
        fail "promtool check metrics"; head "$TMP/promtool"
    fi
else
    missing "promtool (Debian's prometheus package) is not installed"
fi
[ "$(http http://127.0.0.1:$P/other)" = 404 ] && ok "404 elsewhere" \
    || fail "unknown path"

# Read-only.
for m in POST PUT DELETE PATCH OPTIONS; do
    code=$(http -X $m http://127.0.0.1:$P/v1/records)
    [ "$code" = 405 ] || fail "$m answered $code, not 405"
done
ok "other methods: 405"
[ "$(http -I http://127.0.0.1:$P/metrics)" = 200 ] && ok "HEAD" \
    || fail "HEAD"

# Bounded requests.
code=$(http -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" \
       http://127.0.0.1:$P/metrics)
[ "$code" = 431 ] && ok "oversized headers: 431" \
    || fail "oversized headers answered $code"
code=$(http "http://127.0.0.1:$P/metrics?$(head -c 40000 /dev/zero \
       | tr '\0' a)")
[ "$code" = 414 ] || [ "$code" = 431 ] && ok "oversized URL: $code" \
    || fail "oversized URL answered $code"
code=$(http -X GET --data-binary "body" http://127.0.0.1:$P/metrics)
[ "$code" = 413 ] && ok "GET with a body: 413" || fail "body: $code"
head -c 200000 /dev/zero >"$TMP/big"
code=$(http -X GET --data-binary @"$TMP/big" http://127.0.0.1:$P/metrics)
[ "$code" = 413 ] && ok "GET with a large body: 413" \
    || fail "large body: $code"

# Malformed requests, written by hand on a socket: each is refused with
# "400 Bad Request" and the connection closed (or, for a request line of a
# single word, which libmicrohttpd does not parse as a request at all,
# closed at once without an answer), and the agent answers /healthz after
# each.
# raw REQUEST: the status line of the answer ("" if none) in $reply, and
# whether the agent closed the connection (within 10 s) in $closed.
raw() {
    local status=0
    in_ns timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P
        printf '$1' >&3; cat <&3" >"$TMP/raw" 2>/dev/null || status=$?
    reply=$(head -1 "$TMP/raw" | tr -d '\r')
    [ $status = 124 ] && closed=no || closed=yes
}
# malformed WHAT REQUEST EXPECTED: EXPECTED is the status line, or "" for
# no answer.
malformed() {
    raw "$2"
    if [ "$reply" != "$3" ]; then
        fail "$1 answered \"$reply\", expected \"${3:-nothing}\""
        head -c 300 "$TMP/raw"
    elif [ $closed != yes ]; then
        fail "$1: the agent did not close the connection"
    elif [ -n "$3" ] && ! grep -qi '^Connection: close' "$TMP/raw"; then
        fail "$1: answered without Connection: close"
    else
        ok "$1: ${3:-closed without an answer}"
    fi
    [ "$(http http://127.0.0.1:$P/healthz)" = 200 ] && grep -qx ok "$TMP/body" \
        || fail "no /healthz after $1"
}
malformed "garbage request line" 'GARBAGE REQUEST LINE\r\n\r\n' \
    "HTTP/1.1 400 Bad Request"
malformed "one-word request line" 'GARBAGE\r\n\r\n' ""
malformed "binary request line" '\x01\x02\x03\r\n\r\n' ""
malformed "request line without a version" 'GET /metrics\r\n\r\n' \
    "HTTP/1.1 400 Bad Request"
malformed "malformed header" 'GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n' \
    "HTTP/1.1 400 Bad Request"
malformed "negative Content-Length" \
    'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n' \
    "HTTP/1.1 400 Bad Request"
malformed "Content-Length not a number" \
    'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n' \
    "HTTP/1.1 400 Bad Request"
# A client that sends half a request and stalls does not stop the others.
in_ns timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P; printf 'GET /m' >&3;
    sleep 4" &
stalled=$!
sleep 0.5
[ "$(http http://127.0.0.1:$P/healthz)" = 200 ] \
    && ok "a stalled client does not block others" || fail "stalled client"
wait $stalled
[ "$(http http://127.0.0.1:$P/healthz)" = 200 ] && ok "still serving" \
    || fail "agent stopped serving"

# Several agents on loopback ports stand for several hosts.
for i in 1 2 3; do
    start_agent multi$i --listen=127.0.0.1:$((P + i)) --host=hv-$i \
        --libvirt-uri=none --sources=softnet,cpu || finish
done
for i in 1 2 3; do
    host=$(in_ns curl -sf http://127.0.0.1:$((P + i))/v1/records \
           | jq -r '[.[].host] | unique | join(",")')
    [ "$host" = "hv-$i" ] || fail "agent $i says host \"$host\""
done
ok "three agents, three hosts"

# Refusals at start-up.
if in_ns "$AGENT" --listen=0.0.0.0:$((P + 10)) >"$TMP/refuse.log" 2>&1; then
    fail "agent listened on 0.0.0.0 without TLS"
else
    grep -q "needs --tls-cert" "$TMP/refuse.log" \
        && ok "no remote listening without TLS and a token" \
        || fail "refusal message: $(cat "$TMP/refuse.log")"
fi
# refused WHAT MESSAGE ARGS...: the agent exits 1 at once with MESSAGE.
refused() {
    local what=$1 msg=$2 status=0
    shift 2
    in_ns timeout 10 "$AGENT" "$@" >"$TMP/refuse.log" 2>&1 || status=$?
    if [ $status != 1 ]; then
        fail "$what: the agent exited $status, expected 1"
    elif ! grep -qF -- "$msg" "$TMP/refuse.log"; then
        fail "$what: the agent said \"$(head -3 "$TMP/refuse.log")\"," \
             "expected \"$msg\""
    else
        ok "$what refused: $msg"
    fi
}
refused "bad --listen" 'perfsight-agent: listen: "nonsense" is not ADDR:PORT' \
    --listen=nonsense
refused "bad port" 'perfsight-agent: listen: bad port in "127.0.0.1:99999"' \
    --listen=127.0.0.1:99999
refused "unknown setting" 'perfsight-agent: unknown setting "colour"' \
    --listen=127.0.0.1:$((P + 11)) --set=colour=blue
refused "unknown option" "unrecognized option '--bogus'" --bogus
refused "port in use" "perfsight-agent: cannot listen on 127.0.0.1:$P" --listen=127.0.0.1:$P --libvirt-uri=none
[ "$(http http://127.0.0.1:$P/healthz)" = 200 ] \
    && ok "the first agent still answers" || fail "the first agent stopped"

# TLS and a bearer token, on every address (0.0.0.0).
if ! command -v openssl >/dev/null; then
    missing "TLS: openssl is not installed"
else
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
        -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1
    echo "s3cret-token" >"$TMP/token"
    T=$((P + 20))
    HEALTH_URL=https://127.0.0.1:$T/healthz start_agent tls \
        --listen=0.0.0.0:$T --tls-cert="$TMP/cert.pem" \
        --tls-key="$TMP/key.pem" --token-file="$TMP/token" \
        --libvirt-uri=none || finish
    url=https://127.0.0.1:$T/v1/records
    [ "$(http --cacert "$TMP/cert.pem" --resolve localhost:$T:127.0.0.1 \
         -H 'Authorization: Bearer s3cret-token' \
         https://localhost:$T/v1/records)" = 200 ] \
        && ok "TLS with the right token: 200" || fail "right token"
    [ "$(http -k -H 'Authorization: Bearer wrong' $url)" = 401 ] \
        && ok "wrong token: 401" || fail "wrong token"
    [ "$(http -k -H 'Authorization: Bearer s3cret-token-and-more' $url)" \
        = 401 ] && ok "longer token: 401" || fail "longer token"
    [ "$(http -k $url)" = 401 ] && ok "no token: 401" || fail "no token"
    [ "$(http -k -H 'Authorization: Basic czNjcmV0LXRva2Vu' $url)" = 401 ] \
        && ok "basic auth: 401" || fail "basic auth"
    # Plain HTTP on the TLS port is no TLS handshake: the connection is
    # closed without an HTTP answer (curl says 000), and TLS still works.
    code=$(http http://127.0.0.1:$T/v1/records)
    [ "$code" = 000 ] \
        && ok "plain HTTP on the TLS port: closed without an answer" \
        || fail "plain HTTP on the TLS port answered $code"
    [ "$(http -k https://127.0.0.1:$T/healthz)" = 200 ] \
        && ok "/healthz needs no token" || fail "healthz over TLS"
fi

# Clean exit on SIGTERM (and ASan's leak check at exit).
stop_last_agent
finish
