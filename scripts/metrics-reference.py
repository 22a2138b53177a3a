#!/usr/bin/env python3
"""The metrics reference (docs/metrics.md) generated from the code: every family tmcd registers, with
its type and help text as /metrics prints them.

  metrics-reference.py            prints the generated table
  metrics-reference.py --write    rewrites the table between the markers in docs/metrics.md
  metrics-reference.py --check    exits 1 when docs/metrics.md differs from the code (run by scripts/lint.sh)

Families are found where they are defined: prometheus-cpp builders (`BuildCounter().Name("x").Help("y")`)
and the scrape-time collectors (`c.Gauge("x", "y", ...)`, observability/collector.h). The e2e test
test/e2e/test_prometheus.py checks the other direction: what a real tmcd serves is what this lists."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "metrics.md"
BEGIN, END = "<!-- BEGIN GENERATED: scripts/metrics-reference.py -->", "<!-- END GENERATED -->"
STRINGS = r'((?:"(?:[^"\\]|\\.)*"\s*)+)'
BUILDER = re.compile(r'Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\("(\w+)"\)\s*\.Help\(\s*' + STRINGS)
CALLBACK = re.compile(r'\b\w+\.(Gauge|Counter|Gauges|Counters)\(\s*"(\w+)",\s*' + STRINGS)


def join(literals):
    return "".join(bytes(s, "utf-8").decode("unicode_escape") for s in re.findall(r'"((?:[^"\\]|\\.)*)"', literals))


def families():
    found = {}
    for path in sorted((ROOT / "src").rglob("*.cc")):
        text = path.read_text()
        for kind, name, help_ in BUILDER.findall(text):
            found[name] = (kind.lower(), join(help_), path.relative_to(ROOT))
        for kind, name, help_ in CALLBACK.findall(text):
            found[name] = (kind.lower().rstrip("s"), join(help_), path.relative_to(ROOT))
    return found


def table():
    rows = ["| metric | type | help | defined in |", "|---|---|---|---|"]
    for name, (kind, help_, path) in sorted(families().items()):
        rows.append(f"| `{name}` | {kind} | {help_.replace('|', '&#124;')} | `{path}` |")
    return "\n".join(rows) + "\n"


def main():
    generated = table()
    if len(sys.argv) == 1:
        sys.stdout.write(generated)
        return 0
    doc = DOC.read_text()
    head, rest = doc.split(BEGIN + "\n", 1)
    _, tail = rest.split(END, 1)
    if sys.argv[1] == "--write":
        DOC.write_text(head + BEGIN + "\n" + generated + END + tail)
        return 0
    if rest.split(END, 1)[0] != generated:
        print("docs/metrics.md is out of date with the code: run scripts/metrics-reference.py --write",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
