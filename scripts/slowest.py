#!/usr/bin/env python3
"""The ten slowest tests of cargo-nextest's JUnit reports (scripts/test.sh).

Usage: slowest.py REPORT.xml [REPORT.xml ...]  — each report is one pass
(SQLite, PostgreSQL); a test is listed with the pass it ran in.
"""
import sys
import xml.etree.ElementTree as ET

rows = []
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        continue
    run = "postgres" if "postgres" in path else "sqlite"
    for case in root.iter("testcase"):
        rows.append((float(case.get("time", "0")), run, case.get("classname", ""), case.get("name", "")))
rows.sort(reverse=True)
for secs, run, binary, name in rows[:10]:
    print(f"{secs:8.1f} s  {run:8}  {binary} {name}")
total = sum(r[0] for r in rows)
print(f"{len(rows)} tests, {total:.0f} s of test time in all")
