#!/usr/bin/env python3
# Copyright (c) 2026 The PerfSight developers.
# SPDX-License-Identifier: Apache-2.0
"""Generates the example recordings of the paper's cases.

Each case is a small model of a host (or of a tenant's chain) in steady
state: per-element packet rates, drop rates and, for middleboxes, the
share of time spent blocked in input and output.  The generator integrates
the rates into cumulative counters, sampled every second with the jitter a
real agent has (elements are read one after the other), starting from
arbitrary counter values, with a little noise loss where a real host has
some.  It writes JSON Lines, three samples per element.

    examples/generate.py [OUTDIR]        (default: the script's directory)

Deterministic: the same output every run (a fixed seed).
"""

import json
import os
import random
import sys

T0_NS = 1764151200 * 10**9      # 2025-11-26 10:00:00 UTC.
PERIOD_S = 1.0
SAMPLES = 3


class Element:
    """One element: constant rates over the recording."""

    def __init__(self, host, element, etype, vm=None, tenant=None,
                 in_pps=0.0, drop_pps=0.0, pkt_size=1000, reasons=None,
                 gauges=None, in_time=None, out_time=None,
                 in_Bps=None, out_Bps=None):
        self.host, self.element, self.type = host, element, etype
        self.vm, self.tenant = vm, tenant
        self.in_pps, self.drop_pps, self.pkt_size = in_pps, drop_pps, pkt_size
        self.reasons = reasons or {}        # reason -> share of drops
        self.gauges = gauges or {}
        # Middleboxes: bytes/s and seconds/s in the input/output methods.
        self.in_Bps, self.out_Bps = in_Bps, out_Bps
        self.in_time, self.out_time = in_time, out_time
        self.base = None

    def sample(self, t, rng):
        if self.base is None:
            self.base = {k: rng.randrange(10**6, 10**9) for k in
                         ("in_packets", "in_bytes", "out_packets",
                          "out_bytes", "drops", "in_time_ns",
                          "out_time_ns")}
            self.base_reasons = {r: rng.randrange(0, 1000)
                                 for r in self.reasons}
        b = self.base
        attrs = {}
        if self.type == "middlebox":
            attrs["in_bytes"] = b["in_bytes"] + int(self.in_Bps * t)
            attrs["out_bytes"] = b["out_bytes"] + int(self.out_Bps * t)
            attrs["in_packets"] = (b["in_packets"]
                                   + int(self.in_Bps * t / self.pkt_size))
            attrs["out_packets"] = (b["out_packets"]
                                    + int(self.out_Bps * t / self.pkt_size))
            attrs["in_time_ns"] = b["in_time_ns"] + int(self.in_time * t
                                                        * 1e9)
            attrs["out_time_ns"] = b["out_time_ns"] + int(self.out_time * t
                                                          * 1e9)
        elif self.type != "cpu":
            drops = int(self.drop_pps * t)
            inp = int(self.in_pps * t)
            out = inp - drops
            attrs["in_packets"] = b["in_packets"] + inp
            attrs["in_bytes"] = b["in_bytes"] + inp * self.pkt_size
            attrs["out_packets"] = b["out_packets"] + out
            attrs["out_bytes"] = b["out_bytes"] + out * self.pkt_size
            attrs["drops"] = b["drops"] + drops
            left = drops
            for i, (reason, share) in enumerate(sorted(self.reasons.items())):
                n = left if i == len(self.reasons) - 1 else int(drops * share)
                left -= n
                attrs["drops." + reason] = self.base_reasons[reason] + n
        attrs.update(self.gauges)
        return attrs


class Host:
    """A hypervisor with a pNIC, per-CPU backlogs, OVS and VMs."""

    def __init__(self, name, n_cpus=8, capacity_bps=10e9):
        self.name = name
        self.elements = []
        self.capacity_bps = capacity_bps
        self.n_cpus = n_cpus

    def add(self, *args, **kwargs):
        e = Element(self.name, *args, **kwargs)
        self.elements.append(e)
        return e


def build_host(name, vms, rx_pps, tx_pps, cpu_util, pnic_drop=0.0,
               driver_drop=0.0, backlog_drop=0.0, tx_pkt_size=1000,
               capacity_bps=10e9, noise=0.0, rng=None):
    """vms: list of dicts with name, tenant, to_guest_pps, from_guest_pps,
    tap_drop (to_guest drops/s), cpu_util, middlebox (or None)."""
    h = Host(name, capacity_bps=capacity_bps)
    n = lambda: rng.choice([0, 0, 1, 2]) * noise  # at high-rate stages only
    h.add("pnic:eth0:rx", "pnic", in_pps=rx_pps + pnic_drop,
          drop_pps=pnic_drop, reasons={"rx_missed": 0.8, "rx_fifo": 0.2}
          if pnic_drop else {}, gauges={"capacity_bps": capacity_bps})
    h.add("pnic:eth0:tx", "pnic", in_pps=tx_pps, pkt_size=tx_pkt_size,
          drop_pps=n(), gauges={"capacity_bps": capacity_bps})
    h.add("pnic_driver:eth0:rx", "pnic_driver", in_pps=rx_pps,
          drop_pps=driver_drop + n())
    h.add("pnic_driver:eth0:tx", "pnic_driver", in_pps=tx_pps,
          pkt_size=tx_pkt_size)
    per_cpu = (rx_pps + tx_pps) / h.n_cpus
    for cpu in range(h.n_cpus):
        h.add("backlog:cpu%d" % cpu, "backlog",
              in_pps=per_cpu + backlog_drop / h.n_cpus,
              drop_pps=backlog_drop / h.n_cpus)
    h.add("vswitch:br0:eth0:rx", "vswitch", in_pps=rx_pps)
    h.add("vswitch:br0:eth0:tx", "vswitch", in_pps=tx_pps,
          pkt_size=tx_pkt_size)
    for i, vm in enumerate(vms):
        v, port = vm["name"], "vnet%d" % i
        t = vm.get("tenant")
        to_g, from_g = vm["to_guest_pps"], vm["from_guest_pps"]
        tap_drop = vm.get("tap_drop", 0.0)
        echo = vm.get("backlog_echo", 0.0)
        h.add("vswitch:br0:%s:tx" % port, "vswitch", vm=v, tenant=t,
              in_pps=to_g + tap_drop)
        h.add("vswitch:br0:%s:rx" % port, "vswitch", vm=v, tenant=t,
              in_pps=from_g)
        h.add("tap:%s:to_guest" % port, "tap", vm=v, tenant=t,
              in_pps=to_g + tap_drop,
              drop_pps=tap_drop + (n() if to_g >= 50000 else 0))
        # The tap's rx_dropped also counts the backlog's refusals of the
        # packets the VM sends ('backlog_echo').
        h.add("tap:%s:from_guest" % port, "tap", vm=v, tenant=t,
              in_pps=from_g + echo, drop_pps=echo)
        h.add("hypervisor:%s:net0:rx" % v, "hypervisor", vm=v, tenant=t,
              in_pps=to_g)
        h.add("hypervisor:%s:net0:tx" % v, "hypervisor", vm=v, tenant=t,
              in_pps=from_g + echo)
        h.add("vnic:%s:eth0:rx" % v, "vnic", vm=v, tenant=t, in_pps=to_g)
        h.add("vnic:%s:eth0:tx" % v, "vnic", vm=v, tenant=t,
              in_pps=from_g + echo)
        h.add("guest_backlog:%s:cpu0" % v, "guest_backlog", vm=v, tenant=t,
              in_pps=to_g)
        h.add("cpu:%s" % v, "cpu", vm=v, tenant=t,
              gauges={"cpu_util": vm.get("cpu_util", 0.3)})
        mb = vm.get("middlebox")
        if mb:
            h.add("middlebox:%s:%s" % (v, mb["name"]), "middlebox", vm=v,
                  tenant=t, **mb["stats"])
    h.add("cpu:host", "cpu", gauges={"cpu_util": cpu_util})
    return h


def write(path, hosts, rng):
    with open(path, "w") as f:
        for k in range(SAMPLES):
            t = k * PERIOD_S
            for h in hosts:
                # One sampling round: elements are read one after the other.
                round_ns = T0_NS + int(t * 1e9) + rng.randrange(0, 2000000)
                for i, e in enumerate(h.elements):
                    rec = {"ts_ns": round_ns + i * 15000, "host": h.name,
                           "element": e.element, "type": e.type}
                    if e.vm:
                        rec["vm"] = e.vm
                    if e.tenant:
                        rec["tenant"] = e.tenant
                    # Rates are per second of the element's own clock.
                    rec["attrs"] = e.sample((rec["ts_ns"] - T0_NS) / 1e9, rng)
                    f.write(json.dumps(rec, sort_keys=True) + "\n")


def mb_stats(in_Bps, out_Bps, in_time, out_time, pkt_size=1400):
    return {"in_Bps": in_Bps, "out_Bps": out_Bps, "in_time": in_time,
            "out_time": out_time, "pkt_size": pkt_size}


# -- Figure 8: one host, 8 VMs (two middlebox VMs), five problem intervals.

def fig8_vms(to_guest=60000, tap_drop=None, cpu=None):
    tap_drop = tap_drop or {}
    cpu = cpu or {}
    vms = []
    for i in range(8):
        name = "mb%d" % (i + 1) if i < 2 else "vm%d" % (i + 1)
        vms.append({"name": name, "tenant": "t1" if i < 2 else "t2",
                    "to_guest_pps": to_guest, "from_guest_pps": to_guest,
                    "tap_drop": tap_drop.get(name, 0.0),
                    "cpu_util": cpu.get(name, 0.35)})
    return vms


def fig8(outdir, rng):
    cases = {
        # 10-20 s: a flood into the host; the pNIC cannot keep up.
        "fig8-1-pnic-flood": dict(
            vms=fig8_vms(), rx_pps=800000, tx_pps=480000, cpu_util=0.55,
            pnic_drop=310000),
        # 30-40 s: tenant VMs flood out; the backlog drops and the pNIC's
        # transmit side runs at its capacity.
        "fig8-2-outgoing-flood": dict(
            vms=fig8_vms(), rx_pps=480000, tx_pps=800000, tx_pkt_size=1500,
            cpu_util=0.7, backlog_drop=220000),
        # 50-60 s: CPU-intensive tenant VMs; every VM's tap drops.
        "fig8-3-cpu-contention": dict(
            vms=fig8_vms(tap_drop={"mb%d" % i if i < 3 else "vm%d" % i:
                                   6000 + 500 * i for i in range(1, 9)},
                         cpu={"vm%d" % i: 1.0 for i in range(3, 9)}),
            rx_pps=480000, tx_pps=480000, cpu_util=0.98),
        # 70-80 s: memory-intensive tenant VMs; taps drop, CPU is not full.
        "fig8-4-memory-bandwidth": dict(
            vms=fig8_vms(tap_drop={"mb%d" % i if i < 3 else "vm%d" % i:
                                   4000 + 300 * i for i in range(1, 9)}),
            rx_pps=480000, tx_pps=480000, cpu_util=0.62),
        # 90-100 s: one middlebox VM runs a CPU hog; only its tap drops.
        "fig8-5-vm-bottleneck": dict(
            vms=fig8_vms(tap_drop={"mb2": 21000}, cpu={"mb2": 1.0}),
            rx_pps=480000, tx_pps=480000, cpu_util=0.6),
    }
    for name, kw in cases.items():
        host = build_host("hv1", noise=1.0, rng=rng, **kw)
        write(os.path.join(outdir, name + ".jsonl"), [host], rng)


# -- Figure 10: VM2 floods small packets; the per-CPU backlog drops VM1's
# packets, well below the NIC's 1 Gb/s.

def fig10(outdir, rng):
    vms = [{"name": "vm1", "tenant": "t1", "to_guest_pps": 41000,
            "from_guest_pps": 2000, "cpu_util": 0.4},
           {"name": "vm2", "tenant": "t2", "to_guest_pps": 100,
            "from_guest_pps": 250000, "cpu_util": 0.9,
            "backlog_echo": 90000}]
    host = build_host("hv1", vms, rx_pps=41000, tx_pps=250000,
                      tx_pkt_size=40, cpu_util=0.45, backlog_drop=90000,
                      capacity_bps=1e9, noise=1.0, rng=rng)
    write(os.path.join(outdir, "fig10-backlog-contention.jsonl"), [host], rng)


# -- Figure 12: client -> lb -> proxy1/proxy2 -> server1/server2, proxies
# log to a shared NFS server.  vNICs at 100 Mb/s (12.5 MB/s).

FIG12_CAPACITY = 100e6
FIG12_MBS = [("lb", "hv1", "vm1", "balance"),
             ("proxy1", "hv1", "vm2", "cherryproxy"),
             ("proxy2", "hv2", "vm3", "cherryproxy"),
             ("nfs", "hv2", "vm4", "nfsd")]


def fig12_topology():
    return {
        "hosts": [{"id": "hv1", "agent": "http://127.0.0.1:9464"},
                  {"id": "hv2", "agent": "http://127.0.0.1:9465"}],
        "tenants": [{
            "id": "t1",
            "middleboxes": [
                {"id": mb, "host": host, "element":
                 "middlebox:%s:%s" % (vm, prog),
                 "capacity_bps": FIG12_CAPACITY}
                for mb, host, vm, prog in FIG12_MBS],
            "links": [["client", "lb"], ["lb", "proxy1"], ["lb", "proxy2"],
                      ["proxy1", "server1"], ["proxy2", "server2"],
                      ["proxy1", "nfs"], ["proxy2", "nfs"]]}]}


# States as blocked shares of the window.  At 12.5 MB/s, copying B bytes
# takes B / 12.5e6 s; a blocked method takes far longer.
def blocked(state, rate):
    copy = rate / (FIG12_CAPACITY / 8)
    if state == "ReadBlocked":
        return mb_stats(rate, rate, 0.7, copy * 0.2)
    if state == "WriteBlocked":
        return mb_stats(rate, rate, copy * 0.2, 0.75)
    return mb_stats(rate, rate, copy * 0.1, copy * 0.1)    # busy


def fig12(outdir, rng):
    cases = {
        # (b) the client posts as fast as it can; server1 is overloaded.
        "fig12b-server-overloaded": {"lb": ("WriteBlocked", 6e6),
                                     "proxy1": ("WriteBlocked", 4e6),
                                     "proxy2": ("ReadBlocked", 2e6),
                                     "nfs": ("ReadBlocked", 0.4e6)},
        # (c) the client posts slowly: everything waits for input.
        "fig12c-client-underloaded": {"lb": ("ReadBlocked", 1e6),
                                      "proxy1": ("ReadBlocked", 0.5e6),
                                      "proxy2": ("ReadBlocked", 0.5e6),
                                      "nfs": ("ReadBlocked", 0.1e6)},
        # (d) the NFS server leaks memory; the proxies wait to log.
        "fig12d-nfs-overloaded": {"lb": ("WriteBlocked", 3e6),
                                  "proxy1": ("WriteBlocked", 1.5e6),
                                  "proxy2": ("WriteBlocked", 1.5e6),
                                  "nfs": ("Normal", 1.2e6)},
    }
    with open(os.path.join(outdir, "fig12-topology.json"), "w") as f:
        json.dump(fig12_topology(), f, indent=2)
        f.write("\n")
    for name, states in cases.items():
        hosts = {"hv1": Host("hv1"), "hv2": Host("hv2")}
        for mb, host, vm, prog in FIG12_MBS:
            state, rate = states[mb]
            hosts[host].add("middlebox:%s:%s" % (vm, prog), "middlebox",
                            vm=vm, tenant="t1", **blocked(state, rate))
        write(os.path.join(outdir, name + ".jsonl"), hosts.values(), rng)


# -- Figure 13: two tenants (client -> lb -> server each), both load
# balancers on hv1.  Tenant 2's balancer can process 200 Mb/s.

def fig13_topology():
    tenants = []
    for t in (1, 2):
        tenants.append({
            "id": "t%d" % t,
            "middleboxes": [{"id": "lb%d" % t, "host": "hv1",
                             "element": "middlebox:lb%d:balance" % t,
                             "capacity_bps": 1e9}],
            "links": [["client%d" % t, "lb%d" % t],
                      ["lb%d" % t, "server%d" % t]]})
    return {"hosts": [{"id": "hv1", "agent": "http://127.0.0.1:9464"}],
            "tenants": tenants}


def fig13(outdir, rng):
    c = 1e9 / 8
    # lb1 forwards 180 Mb/s and waits for input; lb2 is busy at 200 Mb/s.
    lb1_ok = mb_stats(22.5e6, 22.5e6, 0.8, 22.5e6 / c * 0.5)
    lb2_busy = mb_stats(25e6, 25e6, 25e6 / c * 0.3, 25e6 / c * 0.3)
    lb2_ok = mb_stats(22.5e6, 22.5e6, 0.75, 22.5e6 / c * 0.5)
    lb_starved = lambda r: mb_stats(r, r, 0.9, r / c * 0.5)
    phases = {
        # 0-10 s: tenant 2's balancer is the bottleneck; its tap drops.
        "fig13-1-lb2-bottleneck": dict(
            lb1=lb1_ok, lb2=lb2_busy, drops={"lb2": 12000}, cpu_util=0.5,
            lb_cpu={"lb2": 1.0}),
        # 10-20 s: a memory-intensive management task: both taps drop,
        # both balancers wait for input.
        "fig13-2-memory-contention": dict(
            lb1=lb_starved(14e6), lb2=lb_starved(15e6),
            drops={"lb1": 5000, "lb2": 6000}, cpu_util=0.55, lb_cpu={}),
        # 20-30 s: the task migrated; tenant 2 still limited by lb2.
        "fig13-3-lb2-bottleneck-again": dict(
            lb1=lb1_ok, lb2=lb2_busy, drops={"lb2": 12000}, cpu_util=0.5,
            lb_cpu={"lb2": 1.0}),
        # 30-40 s: lb2 scaled out; no loss, everyone waits for clients.
        "fig13-4-scaled-out": dict(
            lb1=lb1_ok, lb2=lb2_ok, drops={}, cpu_util=0.5, lb_cpu={}),
    }
    with open(os.path.join(outdir, "fig13-topology.json"), "w") as f:
        json.dump(fig13_topology(), f, indent=2)
        f.write("\n")
    for name, p in phases.items():
        vms = []
        for t in (1, 2):
            lb = "lb%d" % t
            pps = p[lb]["in_Bps"] / 1400
            vms.append({"name": lb, "tenant": "t%d" % t,
                        "to_guest_pps": pps, "from_guest_pps": pps,
                        "tap_drop": p["drops"].get(lb, 0.0),
                        "cpu_util": p["lb_cpu"].get(lb, 0.4),
                        "middlebox": {"name": "balance", "stats": p[lb]}})
        host = build_host("hv1", vms, rx_pps=40000, tx_pps=40000,
                          cpu_util=p["cpu_util"], noise=1.0, rng=rng)
        write(os.path.join(outdir, name + ".jsonl"), [host], rng)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.abspath(__file__))
    rng = random.Random(2015)
    fig8(outdir, rng)
    fig10(outdir, rng)
    fig12(outdir, rng)
    fig13(outdir, rng)


if __name__ == "__main__":
    main()
