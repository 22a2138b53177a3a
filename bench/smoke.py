#!/usr/bin/env python3
"""bench-smoke: the ratio benchmarks, run briefly as a regression guard (meson suite `bench-smoke`, run
alone by `.ci/run`; docs/performance.md "Regression guard"). Two groups, two meson tests:
  - the peer-free ones (default): the store against raw RocksDB, the watch-stream decoder;
  - `peers`: tmcd's local API against a real kube-apiserver (GET, LIST, LIST from the watch cache; both
    over TLS with a non-superuser token and RBAC) and the syncer against direct applies to two real
    kube-apiservers (client-go, the same applies in flight), and kcp mode's cache filling from a real kcp
    against a client-go LIST of the same objects, and watch fan-out (1,000 TLS streams) against a
    kube-apiserver. Each of these benchmarks starts its peers
    once and alternates the two sides itself, so it runs once with ROUNDS rounds.

Each benchmark prints ratios against a baseline measured in the same run, so the machine's speed cancels
out. Every case runs ROUNDS times; the check is on the median ratio, and fails only below half of the ratio
documented in docs/performance.md, so run-to-run noise should not fail CI while a real 2x loss does. Every round's ratio is
printed (min / median / max), also when the check passes.

  bench/smoke.py BUILD_DIR [ROUNDS] [peers]
"""
import json
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


ROOT = pathlib.Path(__file__).resolve().parents[1]
# Ratios that need peers: (label, documented median ratio). 1 s per side and round for the API (the spread
# over 5 rounds stays within a few percent, test/peers/up.sh takes most of the time); 300 Deployments per
# round for the syncer (the spread is wide on 2 shared cores: 0.31-0.47 over 5 rounds of 1,000).
API_CASES = [("get", 6.63), ("list", 4.82), ("list-rv0", 3.43)]
SYNC_CASE = ("sync copies/s vs direct applies", 0.41)
# kcp mode's cold start (5,000 objects in 10 workspaces of a real kcp) as a speed: the client-go LIST's
# seconds over tmcd's seconds to a 200 /readyz (docs/performance.md, "kcp mode").
KCP_CASE = ("kcp cache fill, speed vs a client-go LIST", 0.61)
# Watch fan-out: 1,000 TLS watch streams on each server, kube-apiserver's p99 over tmcd's (watch_ratio.sh).
WATCH_CASE = ("watch p99 at 1,000 watchers vs kube-apiserver", 1.04)


def peer_ratios(build, rounds):
    """{label: [min, median, max]} from one run of each peer benchmark: API, sync, kcp cache, watch."""
    api = subprocess.run(["bash", str(ROOT / "bench" / "api_bench.sh"), str(build), "1", "4", str(rounds)],
                         capture_output=True, text=True, timeout=600, check=True)
    if "errors" in api.stderr:  # failed requests (a 403 is fast) would make a ratio, but not of the same work
        raise RuntimeError(f"api_bench.sh: requests failed:\n{api.stderr}")
    out = api.stdout
    seen = {}
    for label, _ in API_CASES:
        row = next((line.split() for line in out.splitlines() if line.split()[:1] == [label]), None)
        if row is None:
            raise RuntimeError(f"api_bench.sh printed no row {label!r}:\n{out}")
        seen[label] = [float(x) for x in row[-1].split("/")]
    out = subprocess.run(["python3", str(ROOT / "bench" / "sync_bench.py"), str(build), "300", "5", str(rounds)],
                         capture_output=True, text=True, timeout=900, check=True).stdout
    ratios = [r["ratio"] for r in json.loads(out)["rounds"]]
    seen[SYNC_CASE[0]] = [min(ratios), statistics.median(ratios), max(ratios)]
    out = subprocess.run(["python3", str(ROOT / "bench" / "kcp_cache_bench.py"), str(build), "5000", "10", str(rounds)],
                         capture_output=True, text=True, timeout=900, check=True).stdout
    speeds = json.loads(out.splitlines()[-1])["kcp_cache_speed"]
    seen[KCP_CASE[0]] = [min(speeds), statistics.median(speeds), max(speeds)]
    watch = subprocess.run(["bash", str(ROOT / "bench" / "watch_ratio.sh"), str(build), "1000", "20", str(rounds)],
                           capture_output=True, text=True, timeout=600, check=True)
    if "missed" in watch.stderr:  # a stream that never delivered has no latency: not the same work
        raise RuntimeError(f"watch_ratio.sh: events missed:\n{watch.stderr}")
    out = watch.stdout
    row = next((line for line in out.splitlines() if line.startswith("p99 ratio at")), None)
    if row is None:
        raise RuntimeError(f"watch_ratio.sh printed no ratio:\n{out}")
    seen[WATCH_CASE[0]] = [float(x) for x in row.split()[-1].split("/")]
    return seen


def run(build, argv):
    """One run of a benchmark: its output."""
    return subprocess.run([str(build / "bench" / argv[0]), *argv[1:]], capture_output=True, text=True,
                          timeout=300, check=True).stdout


def ratio(out, label):
    """The ratio (last column) of the row that starts with `label`, or None."""
    row = next((line for line in out.splitlines() if line.startswith(label)), None)
    return float(row.split()[-1]) if row else None


def peer_free_ratios(build, rounds):
    """{label: [min, median, max]} over `rounds` alternating runs of the peer-free benchmarks."""
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
                    raise RuntimeError(f"{' '.join(argv)} printed no row {label!r}:\n{out}")
                seen[label].append(r)
    return {label: [min(r), statistics.median(r), max(r)] for label, r in seen.items()}


def main():
    build = pathlib.Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    peers = len(sys.argv) > 3 and sys.argv[3] == "peers"
    documented = dict(API_CASES + [SYNC_CASE, KCP_CASE, WATCH_CASE]) if peers else {label: d for _, label, d in CASES}
    try:
        seen = peer_ratios(build, rounds) if peers else peer_free_ratios(build, rounds)
    except (RuntimeError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        print(f"bench-smoke: a benchmark did not run: {e}\n{getattr(e, 'stderr', '') or ''}")
        return 1
    failed = 0
    print(f"{'case':44} {'min':>6} {'median':>7} {'max':>6} {'documented':>10} {'floor':>6}")
    for label, d in documented.items():
        low, median, high = seen[label]
        verdict = "ok" if median >= d / 2 else "REGRESSION"
        failed += verdict != "ok"
        print(f"{label:44} {low:6.2f} {median:7.2f} {high:6.2f} {d:10.2f} {d / 2:6.2f} {verdict}")
    print(f"bench-smoke: {rounds} rounds, {failed} of {len(documented)} below half the documented ratio")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
