#!/usr/bin/env python3
"""hostile-peer.py DIR: guests on unix sockets DIR/NAME.sock, as the
agent's guest source reaches them through QEMU, one per behaviour:

  good      answers every request (one vnic element whose in_packets is
            the request's number)
  garbage   answers with bytes that are not the protocol
  oversized answers with a valid header and then 1 MB of elements
  hang      reads requests and never answers
  othervm   claims an element of another VM (vnic id "good:eth0:rx")
  host      claims a host element (type pnic)
  unasked   answers, then sends more before the next request (after
            the round that took its answer)

Each accepted connection is appended to DIR/NAME.conns, so the test can
tell that a guest that was cut off is left alone."""
import os
import re
import socket
import sys
import threading
import time

DIR = sys.argv[1]


def element(type_, id_, n):
    return ('{"type":"%s","id":"%s","attrs":{"in_packets":%d}}\n'
            % (type_, id_, n))


def answer(seq, lines):
    return ('{"psg":1,"seq":%d}\n%s{"end":%d,"elements":%d}\n'
            % (seq, "".join(lines), seq, len(lines))).encode()


def serve(name, conn):
    buf = b""
    while True:
        try:
            data = conn.recv(4096)
        except OSError:
            return
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            m = re.fullmatch(rb"PSG1 SAMPLE (\d+)", line)
            if not m:
                continue
            seq = int(m.group(1))
            try:
                if name == "good":
                    conn.sendall(answer(seq, [element("vnic", "eth0:rx",
                                                      seq)]))
                elif name == "garbage":
                    conn.sendall(b"\x00\xffHELLO\n{not json}\n")
                elif name == "oversized":
                    conn.sendall(('{"psg":1,"seq":%d}\n' % seq).encode())
                    for i in range(20000):
                        conn.sendall(element("guest_backlog", "cpu%d" % i,
                                             i).encode())
                elif name == "othervm":
                    conn.sendall(answer(seq, [element("vnic", "good:eth0:rx",
                                                      1)]))
                elif name == "host":
                    conn.sendall(answer(seq, [element("pnic", "eth0:rx",
                                                      1)]))
                elif name == "unasked":
                    conn.sendall(answer(seq, [element("vnic", "eth0:rx",
                                                      1)]))
                    time.sleep(0.3)     # after the round took the answer
                    conn.sendall(b"more\n")
            except OSError:
                return


def listen(name):
    path = os.path.join(DIR, name + ".sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(4)
    while True:
        conn, _ = s.accept()
        with open(os.path.join(DIR, name + ".conns"), "a") as f:
            f.write("conn\n")
        threading.Thread(target=serve, args=(name, conn), daemon=True).start()


names = ["good", "garbage", "oversized", "hang", "othervm", "host", "unasked"]
for n in names:
    threading.Thread(target=listen, args=(n,), daemon=True).start()
with open(os.path.join(DIR, "ready"), "w") as f:
    f.write("ready\n")
threading.Event().wait()
