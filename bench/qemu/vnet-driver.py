#!/usr/bin/env python3
"""vnet-driver.py QTEST_SOCKET PACKETS: a minimal virtio-net driver that
talks to QEMU through the qtest protocol (QEMU started with -accel qtest
-qtest unix:QTEST_SOCKET,server=on,wait=off and a legacy virtio-net-pci
at 00:04.0).  It sets up the receive queue with 2 KiB buffers, keeps
re-posting them as QEMU fills them, and returns once PACKETS packets were
delivered; it prints the number delivered and the seconds it took as JSON.

It stands in for a guest so that the tap -> virtio-net path can be run
under valgrind: no guest CPU is emulated, everything QEMU executes is the
device model and the net layer."""
import json
import socket
import struct
import sys
import time

PCI_SLOT = 4
IOBASE = 0xc000
RING = 0x100000
BUFS = 0x200000
BUF_LEN = 2048

# legacy virtio-pci registers
HOST_FEATURES, GUEST_FEATURES, QUEUE_PFN = 0x00, 0x04, 0x08
QUEUE_NUM, QUEUE_SEL, QUEUE_NOTIFY, STATUS = 0x0c, 0x0e, 0x10, 0x12


class QTest:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        for _ in range(600):
            try:
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("vnet-driver: cannot connect to %s" % path)
        self.f = self.s.makefile("rw")

    def cmd(self, line):
        self.f.write(line + "\n")
        self.f.flush()
        while True:
            rsp = self.f.readline()
            if not rsp:
                raise SystemExit("vnet-driver: QEMU closed the qtest socket")
            if rsp.startswith("IRQ"):
                continue
            if not rsp.startswith("OK"):
                raise SystemExit("vnet-driver: %s -> %s" % (line, rsp))
            return rsp.split()[1] if len(rsp.split()) > 1 else None

    def out(self, size, port, val):
        self.cmd("out%s 0x%x 0x%x" % (size, port, val))

    def inp(self, size, port):
        return int(self.cmd("in%s 0x%x" % (size, port)), 16)

    def write(self, addr, data):
        self.cmd("write 0x%x 0x%x 0x%s" % (addr, len(data), data.hex()))

    def read(self, addr, n):
        return bytes.fromhex(self.cmd("read 0x%x 0x%x" % (addr, n))[2:])

    def pci_cfg(self, reg):
        return 0x80000000 | (PCI_SLOT << 11) | (reg & 0xfc)


def main():
    qt = QTest(sys.argv[1])
    want = int(sys.argv[2])

    qt.out("l", 0xcf8, qt.pci_cfg(0))
    ids = qt.inp("l", 0xcfc)
    if ids != 0x10001af4:
        raise SystemExit("vnet-driver: no legacy virtio-net at 00:%02x.0 (%x)"
                         % (PCI_SLOT, ids))
    qt.out("l", 0xcf8, qt.pci_cfg(0x10))
    qt.out("l", 0xcfc, IOBASE | 1)
    qt.out("l", 0xcf8, qt.pci_cfg(0x04))
    qt.out("w", 0xcfc, 0x5)                      # I/O space, bus master

    qt.out("b", IOBASE + STATUS, 0)              # reset
    qt.out("b", IOBASE + STATUS, 1 | 2)          # ACKNOWLEDGE | DRIVER
    qt.inp("l", IOBASE + HOST_FEATURES)
    qt.out("l", IOBASE + GUEST_FEATURES, 0)      # 10-byte header, no merge
    qt.out("w", IOBASE + QUEUE_SEL, 0)
    n = qt.inp("w", IOBASE + QUEUE_NUM)
    avail = RING + 16 * n
    used = (avail + 6 + 2 * n + 4095) & ~4095
    desc = b"".join(struct.pack("<QIHH", BUFS + i * BUF_LEN, BUF_LEN, 2, 0)
                    for i in range(n))
    qt.write(RING, desc)
    qt.write(avail, struct.pack("<HH", 0, n) +
             struct.pack("<%dH" % n, *range(n)))
    qt.write(used, b"\0" * (4 + 8 * n))
    qt.out("l", IOBASE + QUEUE_PFN, RING >> 12)
    qt.out("b", IOBASE + STATUS, 1 | 2 | 4)      # DRIVER_OK
    qt.out("w", IOBASE + QUEUE_NOTIFY, 0)

    avail_idx = n
    last_used = 0
    got = 0
    start = time.monotonic()
    print("vnet-driver: receive queue ready (%d buffers)" % n,
          file=sys.stderr, flush=True)
    while got < want:
        used_idx = struct.unpack("<H", qt.read(used + 2, 2))[0]
        k = (used_idx - last_used) & 0xffff
        if k == 0:
            time.sleep(0.001)
            continue
        elems = qt.read(used + 4, 8 * n)
        ids = []
        for j in range(k):
            slot = (last_used + j) % n
            ids.append(struct.unpack_from("<I", elems, 8 * slot)[0])
        # re-post the buffers, in order, then publish the new index
        for j, d in enumerate(ids):
            qt.write(avail + 4 + 2 * ((avail_idx + j) % n),
                     struct.pack("<H", d))
        avail_idx = (avail_idx + k) & 0xffff
        qt.write(avail + 2, struct.pack("<H", avail_idx))
        qt.out("w", IOBASE + QUEUE_NOTIFY, 0)
        last_used = used_idx
        got += k
    print(json.dumps({"packets": got,
                      "seconds": round(time.monotonic() - start, 3)}))


if __name__ == "__main__":
    main()
