#!/usr/bin/env python3
# Creates tap device ARGV[1] and holds it open without ever reading from it,
# as a hypervisor whose guest does not keep up would: packets the host sends
# toward the "guest" fill the tap's queue and are then dropped (tx_dropped).
# Prints "ready" once the tap exists, then sleeps until killed.
import fcntl, os, struct, sys, time

TUNSETIFF = 0x400454ca
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(),
                                       IFF_TAP | IFF_NO_PI))
print("ready", flush=True)
while True:
    time.sleep(3600)
