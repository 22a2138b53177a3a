#!/usr/bin/env python3
"""bench-smoke: the ratio benchmarks that need no peer, run briefly as a regression guard (meson suite
`bench-smoke`, run alone by `.ci/run`; docs/performance.md "Regression guard").

Each benchmark prints ratios against a baseline measured in the same run, so the machine's speed cancels
out. Every case runs ROUNDS times; the check is on the median ratio, and fails only below half of the ratio
documented in docs/performance.md, so run-to-run noise should not fail CI while a real 2x loss does. Every round's ratio is
printed (min / median / max), also when the check passes.

  bench/smoke.py BUILD_DIR [ROUNDS]
"""
import pathlib
import statistics
import subprocess
import sys

# (program and arguments under BUILD_DIR/bench, the row's label, the ratio docs/performance.md documents)
STORE = ["store_bench", "1000", "8", "20000"]  # 20,000 flushing commits: short, not yet a flush
CASES = [
    (STORE, "tmcd Store::Create, fsync, 1 writer(s)", 0.81),
    (STORE, "tmcd Store::Create, fsync, 8 writer(s)", 0.67),
    (STORE, "tmcd Store::Create, no fsync, 1 writer(s)", 0.18),
    (STORE, "tmcd Store::Create, no fsync, 8 writer(s)", 0.34),
    (STORE, "tmcd Store::Create, no fsync, 8 writer(s), flushing", 0.32),
    (["watch_decode_bench", "20000"], "kube::WatchDecoder (full decode)", 0.29),
]


def run(build, argv):
    """One run of a benchmark: its output."""
    return subprocess.run([str(build / "bench" / argv[0]), *argv[1:]], capture_output=True, text=True,
                          timeout=300, check=True).stdout


def ratio(out, label):
    """The ratio (last column) of the row that starts with `label`, or None."""
    row = next((line for line in out.splitlines() if line.startswith(label)), None)
    return float(row.split()[-1]) if row else None


def main():
    build = pathlib.Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    seen = {label: [] for _, label, _ in CASES}
    programs = []
    for argv, _, _ in CASES:
        if argv not in programs:
            programs.append(argv)
    for _ in range(rounds):  # the programs alternate, round after round
        for argv in programs:
            out = run(build, argv)
            for a, label, _ in CASES:
                if a != argv:
                    continue
                r = ratio(out, label)
                if r is None:
                    print(f"bench-smoke: {' '.join(argv)} printed no row {label!r}:\n{out}")
                    return 1
                seen[label].append(r)
    failed = 0
    print(f"{'case':44} {'min':>6} {'median':>7} {'max':>6} {'documented':>10} {'floor':>6}")
    for _, label, documented in CASES:
        r = seen[label]
        median, floor = statistics.median(r), documented / 2
        verdict = "ok" if median >= floor else "REGRESSION"
        failed += verdict != "ok"
        print(f"{label:44} {min(r):6.2f} {median:7.2f} {max(r):6.2f} {documented:10.2f} {floor:6.2f} {verdict}")
    print(f"bench-smoke: {rounds} rounds, {failed} of {len(CASES)} below half the documented ratio")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
