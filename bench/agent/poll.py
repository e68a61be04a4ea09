#!/usr/bin/env python3
# Polls URL every INTERVAL seconds for DURATION seconds on one kept
# connection, as a monitoring system would, and prints the number of
# requests and the bytes of the last answer.
import http.client, sys, time, urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
interval, duration = float(sys.argv[2]), float(sys.argv[3])
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
n, size = 0, 0
start = time.monotonic()
next_t = start
while time.monotonic() - start < duration:
    conn.request("GET", url.path)
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        sys.exit("poll: HTTP %d" % resp.status)
    n, size = n + 1, len(body)
    next_t += interval
    time.sleep(max(0.0, next_t - time.monotonic()))
print(n, size)
