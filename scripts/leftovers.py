#!/usr/bin/env python3
"""Which tests made the server instances that left something on the engine.

Usage: leftovers.py INSTANCE [INSTANCE ...] -- REPORT.xml [REPORT.xml ...]
Each test prints `berth test instance <id>` (crates/testkit); cargo-nextest's
JUnit reports keep that output (store-success-output), so an instance id
found on a leftover container, network or image names its test.
"""
import sys
import xml.etree.ElementTree as ET

args = sys.argv[1:]
cut = args.index("--") if "--" in args else len(args)
instances, reports = set(args[:cut]), args[cut + 1:]
found = {}
for path in reports:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        continue
    for case in root.iter("testcase"):
        text = "".join(case.itertext())
        for inst in instances:
            if f"berth test instance {inst}" in text:
                found.setdefault(inst, set()).add(f'{case.get("classname", "")} {case.get("name", "")}')
for inst in sorted(instances):
    tests = ", ".join(sorted(found.get(inst, []))) or "no test of this run names it"
    print(f"  instance {inst}: {tests}")
