#!/usr/bin/env python3
# Sends ARGV[3] UDP datagrams of ARGV[4] bytes to ARGV[1]:ARGV[2] as fast as
# it can, and prints how many it sent.
import socket, sys

addr = (sys.argv[1], int(sys.argv[2]))
n, size = int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 64
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b"p" * size
sent = 0
for _ in range(n):
    try:
        s.sendto(payload, addr)
        sent += 1
    except OSError:
        pass
print(sent)
