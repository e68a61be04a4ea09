#!/usr/bin/env python3
# Prints the "return" of QMP command ARGV[2] on socket ARGV[1] as JSON.
import json, socket, sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rw")


def answer():
    while True:
        msg = json.loads(f.readline())
        if "event" not in msg:
            return msg


answer()                                # The greeting.
for cmd in ("qmp_capabilities", sys.argv[2]):
    f.write(json.dumps({"execute": cmd}) + "\n")
    f.flush()
    msg = answer()
    if "return" not in msg:
        sys.exit("qmp-query: %s: %s" % (cmd, msg))
print(json.dumps(msg["return"]))
