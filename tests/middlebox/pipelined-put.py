#!/usr/bin/env python3
"""Uploads as fast as the chain takes them: HTTP/1.1 PUTs pipelined on one
connection, so that a slow successor backs the chain up through its
sockets (curl waits for each response before it sends the next request,
which leaves the chain idle instead).  Runs until killed, or COUNT
uploads (0: no limit); with RATE, at most RATE bytes a second.

usage: pipelined-put.py HOST PORT SIZE [COUNT [RATE]]"""

import socket
import sys
import threading
import time


def main():
    host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    count = count or 1 << 62
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else 0
    sock = socket.create_connection((host, port))
    body = b"\0" * size
    chunk = 16384

    def send():
        start, sent = time.monotonic(), 0
        for i in range(count):
            request = (b"PUT /u%d HTTP/1.1\r\nHost: %s\r\n"
                       b"Content-Length: %d\r\n\r\n"
                       % (i % 4, host.encode(), size) + body)
            if not rate:
                sock.sendall(request)
                continue
            for at in range(0, len(request), chunk):
                sock.sendall(request[at:at + chunk])
                sent += min(chunk, len(request) - at)
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
        sock.shutdown(socket.SHUT_WR)

    threading.Thread(target=send, daemon=True).start()
    # Responses are short; draining them keeps the server from stalling.
    while sock.recv(65536):
        pass


if __name__ == "__main__":
    main()
