#!/usr/bin/env python3
"""Counts test cases from meson's testlog.json and prints 'N passed, N failed, N skipped'.

A meson test is one doctest binary or one pytest run; the counts come from their own summary
lines, so the total is the number of test cases, not the number of binaries. A test whose output
has no recognisable summary counts as one case with meson's verdict.
"""
import json
import re
import sys

DOCTEST = re.compile(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed\s*\|\s*(\d+) skipped")
PYTEST_LINE = re.compile(r"^=+ (.*) in [\d.]+s.* =+$", re.M)
PYTEST_PART = re.compile(r"(\d+) (passed|failed|skipped|error|errors|xfailed|xpassed)")


def count(entry):
    out = entry.get("stdout") or ""
    m = DOCTEST.search(out)
    if m:
        _, p, f, s = (int(x) for x in m.groups())
        return p, f, s
    lines = PYTEST_LINE.findall(out)
    if lines:
        c = {"passed": 0, "failed": 0, "skipped": 0}
        for n, kind in PYTEST_PART.findall(lines[-1]):
            key = {"error": "failed", "errors": "failed", "xfailed": "passed", "xpassed": "failed"}.get(kind, kind)
            c[key] += int(n)
        if entry["result"] not in ("OK", "SKIP") and c["failed"] == 0:
            c["failed"] = 1  # the run itself failed (crash, timeout) after its summary
        return c["passed"], c["failed"], c["skipped"]
    result = entry["result"]
    return (1, 0, 0) if result == "OK" else (0, 0, 1) if result == "SKIP" else (0, 1, 0)


def main():
    passed = failed = skipped = 0
    try:
        with open(sys.argv[1]) as f:
            entries = [json.loads(line) for line in f if line.strip()]
    except OSError as e:
        print(f"test-summary: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        return
    for e in entries:
        p, f, s = count(e)
        passed, failed, skipped = passed + p, failed + f, skipped + s
        if f:
            print(f"FAILED: {e['name']} ({e['result']})")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")


if __name__ == "__main__":
    main()
