#!/usr/bin/env python3
"""slow-reader.py SOCKET CONSOLE MARKER: the far end of the guest's eth1
(QEMU -netdev stream): listen on the Unix socket SOCKET, accept QEMU's
connection and read nothing until MARKER appears in the file CONSOLE (the
guest's serial console), so the socket fills, QEMU stops taking the
guest's transmit ring and the guest driver stops its queue; then read and
discard everything until QEMU closes the connection.  Prints the bytes
read after the marker."""
import os
import socket
import sys
import time

path, console, marker = sys.argv[1], sys.argv[2], sys.argv[3].encode()
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
# small buffers: the backlog QEMU can write ahead is small
conn, _ = srv.accept()
conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
while True:
    try:
        with open(console, "rb") as f:
            if marker in f.read():
                break
    except FileNotFoundError:
        pass
    time.sleep(0.1)
total = 0
while True:
    data = conn.recv(65536)
    if not data:
        break
    total += len(data)
print(total, flush=True)
os.unlink(path)
