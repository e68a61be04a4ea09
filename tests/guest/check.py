#!/usr/bin/env python3
"""check.py VM BEFORE GUEST AFTER MB_BYTES: the agent's records (BEFORE and
AFTER, GET /v1/records read around the guest's own answer GUEST, from
perfsight-guestd --once) agree with the guest within one sample: every
counter the guest reports lies between the agent's two samples.  The
flood reached the guest's vNIC and backlog, the guest transmitted, and the
relay under the preload library is a middlebox element of VM that read at
least MB_BYTES.  With the patched driver, its time counters moved and the
transmit queue stopped (the guest sent faster than the ring drained)."""
import json
import sys

vm, before_path, guest_path, after_path = sys.argv[1:5]
mb_bytes = int(sys.argv[5])


def by_id(path):
    return {r["element"]: r for r in json.load(open(path))}


before, after = by_id(before_path), by_id(after_path)
guest = [json.loads(line) for line in open(guest_path) if line.strip()]
assert guest[0] == {"psg": 1, "seq": 0}, guest[0]
assert guest[-1]["end"] == 0 and guest[-1]["elements"] == len(guest) - 2
elements = guest[1:-1]

checked = 0
for g in elements:
    eid = "%s:%s:%s" % (g["type"], vm, g["id"])
    assert eid in before and eid in after, "%s not served by the agent" % eid
    for r in (before[eid], after[eid]):
        assert r["vm"] == vm and r["type"] == g["type"], r
    for name, value in g["attrs"].items():
        lo, hi = before[eid]["attrs"].get(name), after[eid]["attrs"].get(name)
        assert lo is not None and hi is not None, "%s: no %s" % (eid, name)
        if name == "queue_len":
            continue            # a gauge: no order between samples
        assert lo <= value <= hi, "%s %s: agent %d, guest %d, agent %d" % (
            eid, name, lo, value, hi)
        checked += 1
guest_ids = {"%s:%s:%s" % (g["type"], vm, g["id"]) for g in elements}
extra = [e for e, r in after.items() if r.get("vm") == vm
         and r["type"] in ("vnic", "guest_backlog", "middlebox")
         and e not in guest_ids]
assert not extra, "agent has guest elements the guest did not report: %s" % extra
print("e2e: %d counters of %d guest elements agree (agent before <= guest"
      " <= agent after)" % (checked, len(elements)))

rx = after["vnic:%s:eth0:rx" % vm]["attrs"]
tx = after["vnic:%s:eth0:tx" % vm]["attrs"]
bl = after["guest_backlog:%s:cpu0" % vm]["attrs"]
mb = after["middlebox:%s:relay" % vm]["attrs"]
mbr = after["middlebox:%s:relay:rev" % vm]["attrs"]
print("e2e: vnic rx: %s" % json.dumps(rx, sort_keys=True))
print("e2e: vnic tx: %s" % json.dumps(tx, sort_keys=True))
print("e2e: guest backlog cpu0: %s" % json.dumps(bl, sort_keys=True))
print("e2e: middlebox relay: in %d bytes (%.1f ms), out %d bytes (%.1f ms);"
      " rev: in %d, out %d" % (mb["in_bytes"], mb["in_time_ns"] / 1e6,
                               mb["out_bytes"], mb["out_time_ns"] / 1e6,
                               mbr["in_bytes"], mbr["out_bytes"]))
assert rx["in_packets"] > 1000, rx
assert tx["out_packets"] > 1000, tx
assert bl["in_packets"] > 1000, bl
assert mb["in_bytes"] >= mb_bytes and mb["out_bytes"] >= mb_bytes, mb
if "in_time_ns" in rx:
    # The patched driver (docs/linux.md): time in the receive poll and in
    # start_xmit, and the transmitter outran the ring: the queue stopped.
    print("e2e: patched driver: rx poll %.1f ms, tx xmit %.1f ms, tx queue"
          " stopped %d times for %.1f ms" % (
              rx["in_time_ns"] / 1e6, tx["out_time_ns"] / 1e6, tx["stop"],
              tx["stop_ns"] / 1e6))
    assert rx["in_time_ns"] > 0 and tx["out_time_ns"] > 0, (rx, tx)
    assert tx["stop"] > 0 and tx["stop_ns"] > 0, tx
else:
    print("e2e: stock driver: no time or ring-full counters")
