#!/usr/bin/env python3
"""ctl.py SOCKET COMMAND: runs COMMAND in the test guest through its
second serial port (QEMU's unix socket SOCKET; see mkinitramfs.sh) and
prints its output.  Fails after 300 s without the end line."""
import socket
import sys
import time

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(300)
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
end = time.monotonic() + 300
while b"PERFSIGHT-DONE\n" not in buf:
    data = s.recv(65536)
    if not data or time.monotonic() > end:
        sys.exit("ctl: no end line from the guest")
    buf += data
sys.stdout.write(buf.split(b"PERFSIGHT-DONE\n")[0].decode(errors="replace"))
