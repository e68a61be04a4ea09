#!/usr/bin/env python3
"""relay-traffic.py BYTES: sends BYTES to the guest's relay (10.0.0.2:7000)
and receives them on the sink it forwards to (10.0.0.1:7001).  Runs in the
test's network namespace."""
import socket
import sys
import threading

n = int(sys.argv[1])
sink = socket.socket()
sink.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sink.bind(("10.0.0.1", 7001))
sink.listen(1)
sink.settimeout(300)
got = [0]


def drain():
    c, _ = sink.accept()
    c.settimeout(300)
    while got[0] < n:
        data = c.recv(65536)
        if not data:
            break
        got[0] += len(data)
    c.close()


t = threading.Thread(target=drain)
t.start()
s = socket.create_connection(("10.0.0.2", 7000), timeout=300)
s.sendall(b"R" * n)
t.join(300)
s.close()
assert got[0] >= n, got[0]
print("e2e: %d bytes through the guest's relay" % got[0])
