#!/usr/bin/env python3
"""Checks the text of the HMP command "info perfsight".

usage: check-info-text.py BEFORE.json TEXT AFTER.json [MIN...]

TEXT was read between the two query-perfsight answers.  It must have the
header and one row per element of the answers, in their order; each
row's counters must lie between the answers' (in-ms, out-ms, blocked-ms
and nobuf-ms are the *-time-ns in milliseconds, to 3 decimals; queued,
a gauge, between the two values), and an element with drops must be
followed by a "drops:" line listing the non-zero reasons, whose sum is
its drops.  Each MIN is DIRECTION.COLUMN=VALUE (DIRECTION rx or tx,
COLUMN a column of the header or a drop reason): the text's value must be
at least VALUE.  Prints what it checked; exits 1 on any failure, each
named on a line of its own.
"""
import json
import sys

COLUMNS = ["element", "in-pkts", "in-bytes", "out-pkts", "out-bytes",
           "drops", "in-ms", "out-ms", "blocked-ms", "nobuf-ms", "queued"]
# Column of the text -> (member of query-perfsight, scale).
MEMBERS = {"in-pkts": ("in-packets", 1), "in-bytes": ("in-bytes", 1),
           "out-pkts": ("out-packets", 1), "out-bytes": ("out-bytes", 1),
           "drops": ("drops", 1), "in-ms": ("in-time-ns", 1e6),
           "out-ms": ("out-time-ns", 1e6),
           "blocked-ms": ("blocked-time-ns", 1e6),
           "nobuf-ms": ("no-buffer-time-ns", 1e6), "queued": ("queued", 1)}


def main():
    before = json.load(open(sys.argv[1]))
    # (virsh adds blank lines at the end.)
    lines = [l.rstrip("\r") for l in open(sys.argv[2]).read().splitlines()
             if l.strip()]
    after = {e["element"]: e for e in json.load(open(sys.argv[3]))}
    bad = []
    if not lines or lines[0].split() != COLUMNS:
        bad.append("header is %r" % (lines[:1],))
        lines = lines[:1]
    rows, order, i = {}, [], 1
    while i < len(lines):
        f = lines[i].split()
        i += 1
        if len(f) != len(COLUMNS):
            bad.append("row %r" % lines[i - 1])
            continue
        row = {"reasons": None}
        for col, v in zip(COLUMNS[1:], f[1:]):
            row[col] = float(v) if col.endswith("-ms") else int(v)
        if i < len(lines) and lines[i].startswith("    drops:"):
            row["reasons"] = dict(
                (k, int(v)) for k, v in
                (x.split("=") for x in lines[i].split()[1:]))
            i += 1
        rows[f[0]] = row
        order.append(f[0])

    if order != [e["element"] for e in before]:
        bad.append("elements %s, expected %s"
                   % (order, [e["element"] for e in before]))
    for b in before:
        e, r = b["element"], rows.get(b["element"])
        a = after.get(e)
        if r is None or a is None:
            continue
        for col, (member, scale) in MEMBERS.items():
            lo, hi = sorted((b[member] / scale, a[member] / scale))
            slack = 0.0005 if scale != 1 else 0
            if not lo - slack <= r[col] <= hi + slack:
                bad.append("%s %s: %s in the text, %s..%s in query-perfsight"
                           % (e, col, r[col], lo, hi))
        if r["drops"] and r["reasons"] is None:
            bad.append("%s: %d drops but no drops: line" % (e, r["drops"]))
        if r["reasons"] is not None:
            if sum(r["reasons"].values()) != r["drops"]:
                bad.append("%s: drops %d, but the reasons say %s"
                           % (e, r["drops"], r["reasons"]))
            reasons_b = {x["reason"]: x["packets"] for x in b["drops-by-reason"]}
            reasons_a = {x["reason"]: x["packets"] for x in a["drops-by-reason"]}
            for k, v in r["reasons"].items():
                if not reasons_b.get(k, 0) <= v <= reasons_a.get(k, -1):
                    bad.append("%s: drops %s=%d in the text, %s..%s in"
                               " query-perfsight" % (e, k, v, reasons_b.get(k),
                                                     reasons_a.get(k)))

    by_dir = {e["direction"]: e["element"] for e in before}
    for arg in sys.argv[4:]:
        key, minimum = arg.split("=")
        d, col = key.split(".", 1)
        r = rows.get(by_dir.get(d))
        if r is None:
            bad.append("%s: no row for direction %s" % (arg, d))
            continue
        v = r[col] if col in r else (r["reasons"] or {}).get(col, 0)
        if v < float(minimum):
            bad.append("%s %s is %s, expected >= %s"
                       % (by_dir[d], col, v, minimum))
        else:
            print("    %s %s = %s (>= %s)" % (by_dir[d], col, v, minimum))

    for b in bad:
        print("FAIL: info perfsight: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
