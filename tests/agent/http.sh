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
    skip "promtool (Debian's prometheus package) is not installed"
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

# Malformed requests, written by hand on a socket.
raw() {
    in_ns timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$P
        printf '$1' >&3; head -c 64 <&3" 2>/dev/null | head -1 | tr -d '\r'
}
reply=$(raw 'GARBAGE\r\n\r\n')
case $reply in
HTTP/1.1\ 4*) ok "garbage request line: $reply" ;;
'') ok "garbage request line: connection closed" ;;
*) fail "garbage request line answered \"$reply\"" ;;
esac
reply=$(raw 'GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n')
case $reply in
HTTP/1.1\ 4*|'') ok "malformed header: ${reply:-closed}" ;;
*) fail "malformed header answered \"$reply\"" ;;
esac
reply=$(raw 'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n')
case $reply in
HTTP/1.1\ 4*|'') ok "bad Content-Length: ${reply:-closed}" ;;
*) fail "bad Content-Length answered \"$reply\"" ;;
esac
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
in_ns "$AGENT" --listen=nonsense >"$TMP/refuse.log" 2>&1 \
    && fail "agent took --listen=nonsense" || ok "bad --listen refused"
in_ns "$AGENT" --set=colour=blue >"$TMP/refuse.log" 2>&1 \
    && fail "agent took an unknown setting" || ok "unknown setting refused"

# TLS and a bearer token, on every address (0.0.0.0).
if ! command -v openssl >/dev/null; then
    skip "TLS: openssl is not installed"
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
    code=$(http http://127.0.0.1:$T/v1/records)
    [ "$code" != 200 ] && ok "plain HTTP on the TLS port: refused ($code)" \
        || fail "plain HTTP answered 200"
    [ "$(http -k https://127.0.0.1:$T/healthz)" = 200 ] \
        && ok "/healthz needs no token" || fail "healthz over TLS"
fi

# Clean exit on SIGTERM (and ASan's leak check at exit).
stop_last_agent
finish
