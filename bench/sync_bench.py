#!/usr/bin/env python3
"""Syncer throughput, latency and memory: N Deployments placed on two real kube-apiservers
(test/peers/up.sh, with kube-controller-manager) by tmcd in embedded mode, against a baseline
measured in the same run: the same N objects server-side applied directly to the same two
apiservers by a compiled client-go program (test/clientgo bench-direct: TLS, bearer token, no
client-side rate limit) with as many applies in flight as tmcd has (its 4 sync workers x the 2 copies
of a workload side by side = 8). On tmcd's side the N objects are created upstream by 4 concurrent
writers, and the time runs until both clusters hold all N copies.
Reports: throughput ratio (copies per second, tmcd / direct) per round and its median over the rounds
(each round runs the baseline and then tmcd on fresh namespaces: the machine's state drifts between
runs, so a single pair is noisy), p50/p99 latency from the upstream create returning to the
downstream object existing (measured with an idle tmcd, one at a time), and tmcd's RSS growth per
synced copy (first round), and per round where tmcd's time went per workload (from its /metrics:
reconciles, worker time against apply time, store commits and their latency, CPU).
Usage: bench/sync_bench.py [BUILD_DIR] [N] [LATENCY_SAMPLES] [ROUNDS]   (extra tmcd flags: TMCD_BENCH_FLAGS;
tmcd's sync workers: BENCH_SYNC_WORKERS, default 4, the baseline then with twice as many in flight)"""
import base64
import concurrent.futures
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

import requests
import urllib3

import tmcd_auth

urllib3.disable_warnings()
ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build")
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
SAMPLES = int(sys.argv[3]) if len(sys.argv) > 3 else 100
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 3
WORKERS = int(os.environ.get("BENCH_WRITERS", "4"))
SYNC_WORKERS = int(os.environ.get("BENCH_SYNC_WORKERS", "4"))  # tmcd's sync.workers (its default: 4)
DIRECT_PARALLEL = 2 * SYNC_WORKERS  # tmcd's applies in flight: its workers x 2 copies of a workload side by side
sys.path.insert(0, str(ROOT / "test" / "e2e"))
from test_sync import downstream_ns  # noqa: E402  (the documented namespace mapping)


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def deployment(name, ns="shop", labels=None):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {"app": "bench"}},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"pod": name}},
                     "template": {"metadata": {"labels": {"pod": name}},
                                  "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}}}}


class Peer:
    def __init__(self, d):
        self.dir = d
        self.server = (d / "server").read_text().strip()
        self.s = requests.Session()
        self.s.verify = False
        self.s.trust_env = False  # else REQUESTS_CA_BUNDLE overrides verify
        self.s.headers["Authorization"] = "Bearer " + (d / "token").read_text().strip()

    def count(self, ns):
        # limit=1 and remainingItemCount: a full LIST of 1,000 Deployments ten times a second would load
        # the apiservers during tmcd's run only, and make the baseline look better than it is.
        r = self.s.get(f"{self.server}/apis/apps/v1/namespaces/{ns}/deployments?limit=1", timeout=30)
        if r.status_code != 200:
            return 0
        body = r.json()
        return len(body.get("items", [])) + body.get("metadata", {}).get("remainingItemCount", 0)

    def apply(self, ns, obj):
        r = self.s.patch(f"{self.server}/apis/apps/v1/namespaces/{ns}/deployments/{obj['metadata']['name']}"
                         "?fieldManager=bench&force=true", data=json.dumps(obj), timeout=30,
                         headers={"Content-Type": "application/apply-patch+yaml"})
        assert r.status_code in (200, 201), r.text


def direct_baseline(dirs, ns):
    """Copies per second when the same objects are applied straight to the clusters by client-go."""
    tool = subprocess.run([str(ROOT / "test/clientgo/build.sh")], check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[-1]
    args = [tool, "bench-direct", ns, str(N), str(DIRECT_PARALLEL)]
    for d in dirs:
        args += [(d / "server").read_text().strip(), (d / "token").read_text().strip()]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()
    assert out[7] == "0", f"baseline errors: {out}"
    return float(out[5])


def settle(peers, ns, want):
    """Lets kube-controller-manager finish the ReplicaSets of `ns` before the next measurement shares
    the CPUs (until every Deployment has one, or the count has not moved for 5 s)."""
    last, still = -1, time.monotonic()
    while time.monotonic() - still < 5:
        n = sum(len(p.s.get(f"{p.server}/apis/apps/v1/namespaces/{ns}/replicasets", timeout=30)
                    .json().get("items", [])) for p in peers)
        if n >= want:
            return
        if n != last:
            last, still = n, time.monotonic()
        time.sleep(0.5)


def start_tmcd(work, peers, dirs):
    auth, token = tmcd_auth.token_args(work)
    tmcd = subprocess.Popen([str(BUILD / "src/cmd/tmcd/tmcd"), "--data-dir", str(work / "data"), "--listen",
                             "127.0.0.1:0", "--port-file", str(work / "port"), "--log-level", "warn", "--sync-workers", str(SYNC_WORKERS), *auth,
                             *os.environ.get("TMCD_BENCH_FLAGS", "").split()],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (work / "port").exists() or not (work / "port").read_text().strip():
        time.sleep(0.01)
    base = f"https://127.0.0.1:{(work / 'port').read_text().strip()}"
    api = tmcd_auth.session(token)
    for i, d in enumerate(dirs):
        name = f"c{i}"
        cluster_token = base64.b64encode((d / "token").read_bytes().strip()).decode()
        api.post(base + "/api/v1/namespaces/tmc/secrets", json={
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "tmc"},
            "data": {"token": cluster_token}})
        api.post(base + "/apis/tmc.kcp.io/v1alpha1/clusterregistrations", json={
            "apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration", "metadata": {"name": name},
            "spec": {"location": "bench", "endpoint": {"server": peers[i].server, "insecureSkipTLSVerify": True},
                     "credentialsRef": {"namespace": "tmc", "name": name}}})
    return tmcd, base, api


def place(base, api, ns):
    """A placement choosing both clusters in upstream namespace `ns`; returns the mapped namespace."""
    url = f"{base}/apis/tmc.kcp.io/v1alpha1/namespaces/{ns}/workloadplacements"
    api.post(url, json={"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "WorkloadPlacement",
                        "metadata": {"name": "bench"},
                        "spec": {"workloadSelector": {"labelSelector": {"matchLabels": {"app": "bench"}}}}})
    while len(api.get(url + "/bench").json().get("status", {}).get("decisions", [])) != 2:
        time.sleep(0.2)
    return downstream_ns("root", ns)


def cpu_by_command():
    """CPU seconds used so far by every live process, summed by command name (/proc/<pid>/stat)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for d in pathlib.Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        if comm.startswith("kworker/"):  # a kernel worker's name changes with the work it does
            comm = "kworker"
        fields = stat[stat.rindex(")") + 2:].split()
        out[comm] = out.get(comm, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def cpu_split(before, after, copies):
    """CPU milliseconds per copy by command, between two cpu_by_command() snapshots (processes that
    ended in between are missed: the bench's own short-lived tools are named in the docs)."""
    out = {}
    for comm, t in after.items():
        ms = 1000 * (t - before.get(comm, 0.0)) / copies
        if ms >= 0.05:
            out[comm] = round(ms, 2)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def apiserver_requests(peers):
    """Requests both kube-apiservers have served so far, by verb and resource (apiserver_request_total)."""
    out = {}
    for p in peers:
        for line in p.s.get(f"{p.server}/metrics", timeout=30).text.splitlines():
            if not line.startswith("apiserver_request_total{"):
                continue
            labels = dict(kv.split("=", 1) for kv in line[line.index("{") + 1:line.rindex("}")].split(","))
            key = labels["verb"].strip('"') + " " + (labels.get("resource", '""').strip('"') or "-")
            sub = labels.get("subresource", '""').strip('"')
            key += "/" + sub if sub else ""
            out[key] = out.get(key, 0.0) + float(line.rsplit(" ", 1)[1])
    return out


def per_copy(before, after, copies):
    """Counts per copy between two snapshots, the ones of at least 0.05 per copy."""
    out = {k: round((v - before.get(k, 0.0)) / copies, 2) for k, v in after.items()}
    return dict(sorted(((k, v) for k, v in out.items() if v >= 0.05), key=lambda kv: -kv[1]))


def scrape(base, api):
    """Sums of the counters and histograms the cost breakdown reads, from tmcd's /metrics."""
    want = {"tmcd_workqueue_work_duration_seconds": 'controller="sync"', "tmcd_sync_apply_duration_seconds": "",
            "tmcd_store_commit_duration_seconds": "", "process_cpu_seconds_total": ""}
    out = {}
    for line in api.get(base + "/metrics").text.splitlines():
        name, _, rest = line.partition("{") if "{" in line.split(" ")[0] else line.partition(" ")
        for metric, label in want.items():
            for suffix in ("_count", "_sum", ""):
                if name == metric + suffix and label in rest:
                    out[metric + suffix] = out.get(metric + suffix, 0.0) + float(line.rsplit(" ", 1)[1])
    return out


def cost(before, after, workloads):
    """Where tmcd's time went per workload: reconciles, worker time against the time spent in applies,
    store commits (with their latency) and CPU."""
    d = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    return {"reconciles": round(d["tmcd_workqueue_work_duration_seconds_count"] / workloads, 2),
            "worker_ms": round(1000 * d["tmcd_workqueue_work_duration_seconds_sum"] / workloads, 1),
            "apply_ms": round(1000 * d["tmcd_sync_apply_duration_seconds_sum"] / workloads, 1),
            "commits": round(d["tmcd_store_commit_duration_seconds_count"] / workloads, 2),
            "commit_ms": round(1000 * d["tmcd_store_commit_duration_seconds_sum"] / workloads, 1),
            "cpu_ms": round(1000 * d["process_cpu_seconds_total"] / workloads, 1)}


def tmcd_round(base, api, peers, ns):
    """Copies per second: N upstream creates, by as many concurrent writers as the baseline has, until
    both clusters have all of them."""
    dns = place(base, api, ns)
    local = threading.local()

    def create(i):
        if not hasattr(local, "s"):
            local.s = tmcd_auth.session(api.headers["Authorization"].split()[1])
        r = local.s.post(f"{base}/apis/apps/v1/namespaces/{ns}/deployments", json=deployment(f"b-{i:04d}", ns))
        assert r.status_code == 201, r.text
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        list(ex.map(create, range(N)))
    created = time.monotonic() - t0
    while min(p.count(dns) for p in peers) < N:
        time.sleep(0.1)
    return 2 * N / (time.monotonic() - t0), created, dns


def latency(base, api, peers, dns, ns):
    """Upstream create returned → downstream object on both clusters, one at a time, tmcd otherwise idle."""
    lat = []
    for i in range(SAMPLES):
        name = f"l-{i:04d}"
        r = api.post(f"{base}/apis/apps/v1/namespaces/{ns}/deployments", json=deployment(name, ns))
        t = time.monotonic()
        assert r.status_code == 201
        pending = set(range(2))
        while pending:
            for k in list(pending):
                if peers[k].s.get(f"{peers[k].server}/apis/apps/v1/namespaces/{dns}/deployments/{name}",
                                  timeout=30).status_code == 200:
                    pending.discard(k)
        lat.append(time.monotonic() - t)
    lat.sort()
    return lat


def main():
    work = pathlib.Path(tempfile.mkdtemp())
    subprocess.run([str(ROOT / "test/peers/up.sh"), str(work / "peers"), "2"], check=True, capture_output=True)
    tmcd = None
    try:
        dirs = [work / "peers" / f"cluster-{i}" for i in (1, 2)]
        peers = [Peer(d) for d in dirs]
        tmcd, base, api = start_tmcd(work, peers, dirs)
        rounds = []
        rss0 = rss1 = 0
        # Rounds alternate the baseline and tmcd on fresh namespaces, so that both meet the same
        # machine state; the ratio of each round is reported and the median is the result.
        for r in range(ROUNDS):
            cpu0, req0 = cpu_by_command(), apiserver_requests(peers)
            direct = direct_baseline(dirs, f"direct-{r}")
            cpu_direct = cpu_split(cpu0, cpu_by_command(), 2 * N)
            settle(peers, f"direct-{r}", 2 * N)
            req_direct = per_copy(req0, apiserver_requests(peers), 2 * N)
            if r == 0:
                rss0 = rss_kib(tmcd.pid)
            before, req0 = scrape(base, api), apiserver_requests(peers)
            cpu0 = cpu_by_command()
            rate, created, dns = tmcd_round(base, api, peers, f"shop-{r}")
            cpu_tmcd = cpu_split(cpu0, cpu_by_command(), 2 * N)
            if r == 0:
                time.sleep(2)
                rss1 = rss_kib(tmcd.pid)
            settle(peers, dns, 2 * N)
            time.sleep(3)  # the copies' status reaching the records and the upstream status
            req_tmcd = per_copy(req0, apiserver_requests(peers), 2 * N)
            rounds.append({"direct_copies_per_s": round(direct, 1), "tmcd_copies_per_s": round(rate, 1),
                           "ratio": round(rate / direct, 2), "upstream_creates_s": round(created, 2),
                           "per_workload": cost(before, scrape(base, api), N),
                           "cpu_ms_per_copy": {"direct": cpu_direct, "tmcd": cpu_tmcd},
                           "apiserver_requests_per_copy": {"direct": req_direct, "tmcd": req_tmcd}})
            print(json.dumps(rounds[-1]), file=sys.stderr)
        lat = latency(base, api, peers, dns, f"shop-{ROUNDS - 1}")
        ratios = sorted(x["ratio"] for x in rounds)
        print(json.dumps({
            "machine": f"{os.cpu_count()} cores, {os.uname().release}",
            "command": " ".join(sys.argv),
            "deployments": N, "copies": 2 * N, "sync_workers": SYNC_WORKERS, "direct_in_flight": DIRECT_PARALLEL,
            "rounds": rounds,
            "throughput_ratio_median": ratios[len(ratios) // 2],
            "latency_p50_ms": round(1000 * lat[len(lat) // 2], 1),
            "latency_p99_ms": round(1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1),
            "rss_growth_kib_per_copy": round((rss1 - rss0) / (2 * N), 2),
        }, indent=1))
    finally:
        if tmcd:
            tmcd.terminate()
            tmcd.wait(timeout=30)
        subprocess.run([str(ROOT / "test/peers/down.sh"), str(work / "peers")], capture_output=True)


if __name__ == "__main__":
    main()
