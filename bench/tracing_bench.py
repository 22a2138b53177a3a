#!/usr/bin/env python3
"""The cost of tracing and of metrics (docs/performance.md#tracing-and-metrics): sync throughput and tmcd
CPU with tracing off against tracing on at sampling 1.0, exporting every span to a real Jaeger
(test/peers/build.sh jaeger), in alternating rounds on the same two real kube-apiservers.
Each round starts a fresh tmcd per mode (fresh store) with the same transport, authentication and
number of concurrent upstream writers (bench/sync_bench.py's round: N Deployment creates until both
clusters hold every copy); the order of the two modes alternates between rounds. Reported per round and
as min / median / max: the throughput ratio (on / off), tmcd's CPU seconds per 1,000 copies in each mode,
spans exported per copy and any dropped or failed; and the cost of a /metrics scrape after the round
(median of 20, milliseconds and bytes).
Usage: bench/tracing_bench.py [BUILD_DIR] [N] [ROUNDS]"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "test" / "e2e"))
ARGS = sys.argv[1:]
sys.argv = sys.argv[:1]  # sync_bench reads its own arguments at import
import sync_bench  # noqa: E402  (the round, the peers, tmcd's start)
from test_tracing import start_jaeger  # noqa: E402  (the Jaeger of the tracing e2e test)

sync_bench.BUILD = pathlib.Path(ARGS[0]) if ARGS else ROOT / "build"
sync_bench.N = int(ARGS[1]) if len(ARGS) > 1 else 500
ROUNDS = int(ARGS[2]) if len(ARGS) > 2 else 3
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def metric(text, name):
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def scrape_cost(base, api):
    times, size = [], 0
    for _ in range(20):
        t = time.monotonic()
        size = len(api.get(base + "/metrics").content)
        times.append(time.monotonic() - t)
    times.sort()
    return round(1000 * times[len(times) // 2], 2), size


def one_run(work, peers, dirs, mode, ns, otlp):
    flags = f"--feature-gates TMCTracing=true --tracing-endpoint {otlp} --tracing-sampling-ratio 1" if mode == "on" else ""
    os.environ["TMCD_BENCH_FLAGS"] = flags
    run_dir = work / ns
    run_dir.mkdir()
    tmcd, base, api = sync_bench.start_tmcd(run_dir, peers, dirs)
    try:
        cpu0 = cpu_seconds(tmcd.pid)
        rate, _, dns = sync_bench.tmcd_round(base, api, peers, ns)
        cpu = cpu_seconds(tmcd.pid) - cpu0
        time.sleep(2)  # the exporter's last batch
        text = api.get(base + "/metrics").text
        scrape_ms, scrape_bytes = scrape_cost(base, api)
        out = {"copies_per_s": round(rate, 1), "cpu_s_per_1000_copies": round(1000 * cpu / (2 * sync_bench.N), 3),
               "scrape_ms": scrape_ms, "scrape_bytes": scrape_bytes}
        if mode == "on":
            out["spans_per_copy"] = round(metric(text, "tmcd_tracing_spans_exported_total") / (2 * sync_bench.N), 1)
            out["spans_dropped"] = metric(text, "tmcd_tracing_spans_dropped_total")
            out["spans_failed"] = metric(text, "tmcd_tracing_spans_failed_total")
    finally:
        tmcd.terminate()
        tmcd.wait(timeout=30)
    sync_bench.settle(peers, dns, 2 * sync_bench.N)
    return out


def spread(values):
    v = sorted(values)
    return {"min": v[0], "median": v[len(v) // 2], "max": v[-1]}


def main():
    work = pathlib.Path(tempfile.mkdtemp())
    subprocess.run([str(ROOT / "test/peers/up.sh"), str(work / "peers"), "2"], check=True, capture_output=True)
    (work / "jaeger").mkdir()
    jaeger, otlp, _ = start_jaeger(work / "jaeger")
    try:
        dirs = [work / "peers" / f"cluster-{i}" for i in (1, 2)]
        peers = [sync_bench.Peer(d) for d in dirs]
        rounds = []
        for r in range(ROUNDS):
            res = {}
            for mode in (("off", "on") if r % 2 == 0 else ("on", "off")):
                res[mode] = one_run(work, peers, dirs, mode, f"{mode}-{r}", otlp)
            res["throughput_ratio_on_off"] = round(res["on"]["copies_per_s"] / res["off"]["copies_per_s"], 2)
            res["cpu_ratio_on_off"] = round(res["on"]["cpu_s_per_1000_copies"] / res["off"]["cpu_s_per_1000_copies"], 2)
            rounds.append(res)
            print(json.dumps(res), file=sys.stderr)
        print(json.dumps({
            "machine": f"{os.cpu_count()} cores, {os.uname().release}",
            "command": " ".join([sys.argv[0], *ARGS]),
            "deployments": sync_bench.N, "copies": 2 * sync_bench.N, "rounds": rounds,
            "throughput_ratio_on_off": spread([x["throughput_ratio_on_off"] for x in rounds]),
            "cpu_ratio_on_off": spread([x["cpu_ratio_on_off"] for x in rounds]),
            "scrape_ms_off": spread([x["off"]["scrape_ms"] for x in rounds]),
        }, indent=1))
    finally:
        jaeger.terminate()
        jaeger.wait(timeout=20)
        subprocess.run([str(ROOT / "test/peers/down.sh"), str(work / "peers")], capture_output=True)


if __name__ == "__main__":
    main()
