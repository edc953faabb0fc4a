#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Dumps a running aegis daemon's enforcement maps (found through the map
fds in /proc/PID/fdinfo) as one JSON object per slot, with set ids replaced
by their content, so two dumps compare equal when the policies mean the
same, whatever the numbering:

    enf-dump.py PID  ->  {"gen": 0|1, "slots": [SLOT0, SLOT1]}

SLOT: {"hdr": ..., "ids": [...], "rules": [...], "cidr4": [...], ...}."""
import glob
import json
import subprocess
import sys

SLOT = 0x80000000
NO_SET = 0xffffffff


def bpftool(*args):
    return json.loads(subprocess.run(["bpftool", "-j", *args], check=True,
                                     capture_output=True, text=True).stdout)


def maps_of(pid):
    ids = set()
    for f in glob.glob("/proc/%s/fdinfo/*" % pid):
        try:
            for line in open(f):
                if line.startswith("map_id:"):
                    ids.add(int(line.split()[1]))
        except OSError:
            pass
    out = {}
    for i in ids:
        m = bpftool("map", "show", "id", str(i))
        if m.get("name", "").startswith("enf_"):
            out[m["name"]] = i
    return out


def elements(mid):
    return [e["formatted"] for e in bpftool("map", "dump", "id", str(mid))
            if "formatted" in e]


def be(b):
    return b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]


def main():
    m = maps_of(sys.argv[1])
    gen = elements(m["enf_gen"])[0]["value"] & 1
    hdrs = {e["key"]: e["value"] for e in elements(m["enf_hdr"])}
    slots = []
    raw = {n: elements(m[n]) for n in ("enf_ids", "enf_rules", "enf_ports", "enf_cidr4", "enf_cidr6")}
    for s in (0, 1):
        bit = SLOT if s else 0
        # port sets: set id -> sorted (prefixlen, port)
        ports = {}
        for e in raw["enf_ports"]:
            sid = be(e["key"]["set"])
            if sid & SLOT == bit:
                ports.setdefault(sid & ~SLOT, []).append((e["key"]["prefixlen"], e["key"]["port"]))
        plabel = {k: tuple(sorted(map(tuple, v))) for k, v in ports.items()}

        def pl(sid):
            return "any" if sid == NO_SET else json.dumps(plabel.get(sid, ()))
        cidrs = {}
        for fam in ("enf_cidr4", "enf_cidr6"):
            for e in raw[fam]:
                sid = be(e["key"]["set"])
                if sid & SLOT == bit:
                    cidrs.setdefault(sid & ~SLOT, []).append(
                        (fam, e["key"]["prefixlen"], tuple(e["key"]["addr"]), pl(e["value"])))
        clabel = {k: tuple(sorted(v)) for k, v in cidrs.items()}

        def cl(sid):
            return json.dumps(clabel.get(sid, ()))
        rules = []
        for e in raw["enf_rules"]:
            if e["key"] & SLOT == bit:
                v = e["value"]
                rules.append((e["key"] & ~SLOT, v["flags"], pl(v["ports_set"]), pl(v["locals_set"]),
                              cl(v["remotes_set"]), pl(v["rports_set"])))
        ids = []
        for e in raw["enf_ids"]:
            k = dict(e["key"])
            if (SLOT if k.pop("slot") else 0) == bit:
                ids.append((json.dumps(k, sort_keys=True), json.dumps(e["value"], sort_keys=True)))
        h = dict(hdrs.get(s, {}))
        h.pop("seq", None)
        slots.append({
            "hdr": h,
            "ids": sorted(ids),
            "rules": sorted(rules),
            "whitelist_ports": json.loads(pl(0)),
            "whitelist_cidrs": json.loads(cl(0)),
            "n_port_entries": sum(len(v) for v in ports.values()),
            "n_cidr_entries": sum(len(v) for v in cidrs.values()),
        })
    json.dump({"gen": gen, "slots": slots}, sys.stdout, sort_keys=True)


main()
