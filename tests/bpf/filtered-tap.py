#!/usr/bin/env python3
# Creates tap device ARGV[1] and holds it open without reading from it, as
# tests/agent/stalled-tap.py does.  With ARGV[2], a MAC address, it also
# sets the tap's transmit filter (TUNSETTXFILTER) to that address alone:
# packets toward any other address are then dropped by the tap with the
# kernel's reason TAP_TXFILTER, those toward it fill its queue (FULL_RING).
# Prints "ready" once the tap exists, then sleeps until killed.
import fcntl, os, struct, sys, time

TUNSETIFF = 0x400454ca
TUNSETTXFILTER = 0x400454d1
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(),
                                       IFF_TAP | IFF_NO_PI))
if len(sys.argv) > 2:
    mac = bytes(int(x, 16) for x in sys.argv[2].split(":"))
    fcntl.ioctl(fd, TUNSETTXFILTER, struct.pack("HH6s", 0, 1, mac))
print("ready", flush=True)
while True:
    time.sleep(3600)
