#!/usr/bin/env python3
"""flood.py DEST SECONDS [SIZE]: send UDP datagrams of SIZE bytes (default
18: 60-byte frames) to DEST port 9 as fast as one CPU can for SECONDS; print
the number sent.  Meant to run inside the test's network namespace."""
import socket
import sys
import time

dest, seconds = sys.argv[1], float(sys.argv[2])
size = int(sys.argv[3]) if len(sys.argv) > 3 else 18
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b"P" * size
sent = 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    for _ in range(1000):
        try:
            s.sendto(payload, (dest, 9))
            sent += 1
        except (BlockingIOError, OSError):
            pass
print(sent)
