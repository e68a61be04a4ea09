#!/usr/bin/env python3
"""Checks the text of "ovs-appctl perfsight/show [BRIDGE [PORT]]".

usage: check-show-text.py BEFORE.json TEXT AFTER.json BRIDGE PORTS [MIN...]

TEXT was read between the two JSON snapshots ("perfsight/show --json" of
the same bridge or port).  It must have the header, one row per port of
BRIDGE in PORTS (comma-separated: those and no others) and direction, and
each row's counters must lie between the snapshots': the text's PACKETS,
BYTES, DROPS and TIME_NS are the JSON's in_packets, in_bytes, drops and
in_time_ns (rx) or out_time_ns (tx); DROPS_BY_REASON lists the non-zero
drops.REASON, and DROPS is their sum.  Each MIN is PORT.DIR.COLUMN=VALUE,
COLUMN being packets, bytes, drops, time or a drop reason: the text's
value must be at least VALUE.  Prints what it checked; exits 1 on any
failure, each named on a line of its own.
"""
import json
import sys

COLUMNS = ["BRIDGE", "PORT", "DIR", "PACKETS", "BYTES", "DROPS", "TIME_NS",
           "DROPS_BY_REASON"]


def load(path):
    return {r["element"]: r["attrs"] for r in json.load(open(path))}


def parse(lines, bridge, bad):
    rows = {}
    if not lines or lines[0].split() != COLUMNS:
        bad.append("header is %r" % (lines[:1],))
    for line in lines[1:]:
        f = line.split()
        if len(f) != 8 or f[0] != bridge or f[2] not in ("rx", "tx"):
            bad.append("row %r" % line)
            continue
        try:
            reasons = {}
            if f[7] != "-":
                for item in f[7].split(","):
                    k, v = item.split("=")
                    reasons[k] = int(v)
            rows[(f[1], f[2])] = {
                "packets": int(f[3]), "bytes": int(f[4]), "drops": int(f[5]),
                "time": None if f[6] == "-" else int(f[6]),
                "reasons": reasons}
        except ValueError:
            bad.append("row %r" % line)
    return rows


def main():
    before, text, after = load(sys.argv[1]), sys.argv[2], load(sys.argv[3])
    bridge, ports = sys.argv[4], sys.argv[5].split(",")
    bad = []
    rows = parse(open(text).read().splitlines(), bridge, bad)

    want = {(p, d) for p in ports for d in ("rx", "tx")}
    if set(rows) != want:
        bad.append("rows for %s, expected %s" % (sorted(rows), sorted(want)))
    for (port, d), r in sorted(rows.items()):
        e = "vswitch:%s:%s:%s" % (bridge, port, d)
        if e not in before or e not in after:
            bad.append("%s is not in the JSON snapshots" % e)
            continue
        if sum(r["reasons"].values()) != r["drops"]:
            bad.append("%s %s: DROPS %d is not the sum of %s"
                       % (port, d, r["drops"], r["reasons"]))
        pairs = [("packets", "in_packets"), ("bytes", "in_bytes"),
                 ("drops", "drops")]
        if r["time"] is not None:
            pairs.append(("time", "in_time_ns" if d == "rx"
                          else "out_time_ns"))
        pairs += [(k, "drops." + k) for k in r["reasons"]]
        for col, attr in pairs:
            v = r["reasons"][col] if col in r["reasons"] else r[col]
            lo, hi = before[e].get(attr, 0), after[e].get(attr, 0)
            if not lo <= v <= hi:
                bad.append("%s %s %s: %d in the text, %d in the JSON before"
                           " and %d after" % (port, d, col, v, lo, hi))
        for attr, v in before[e].items():
            if (attr.startswith("drops.") and v > 0
                    and attr[6:] not in r["reasons"]):
                bad.append("%s %s: %s=%d is missing from the text"
                           % (port, d, attr[6:], v))

    for arg in sys.argv[6:]:
        key, minimum = arg.split("=")
        port, d, col = key.rsplit(".", 2)
        r = rows.get((port, d))
        if r is None:
            bad.append("%s: no row for %s %s" % (arg, port, d))
            continue
        v = r[col] if col in r else r["reasons"].get(col, 0)
        if v is None or v < int(minimum):
            bad.append("%s %s %s is %s, expected >= %s"
                       % (port, d, col, v, minimum))
        else:
            print("      %s %s %s = %d (>= %s)" % (port, d, col, v, minimum))

    for b in bad:
        print("FAIL: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
