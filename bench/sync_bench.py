#!/usr/bin/env python3
"""Syncer throughput, latency and memory: N Deployments placed on two real kube-apiservers
(test/peers/up.sh, with kube-controller-manager) by tmcd in embedded mode, against a baseline
measured in the same run: the same N objects server-side applied directly to the same two
apiservers by as many concurrent writers as tmcd has sync workers (keep-alive HTTPS sessions).
Reports: throughput ratio (copies per second, tmcd / direct), p50/p99 latency from the upstream
create returning to the downstream object existing (measured with an idle tmcd, one at a time),
and tmcd's RSS growth per synced copy.
Usage: bench/sync_bench.py [BUILD_DIR] [N] [LATENCY_SAMPLES]   (extra tmcd flags: TMCD_BENCH_FLAGS)"""
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

urllib3.disable_warnings()
ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build")
N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
SAMPLES = int(sys.argv[3]) if len(sys.argv) > 3 else 100
WORKERS = 4
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
        r = self.s.get(f"{self.server}/apis/apps/v1/namespaces/{ns}/deployments", timeout=30)
        return len(r.json().get("items", [])) if r.status_code == 200 else 0

    def apply(self, ns, obj):
        r = self.s.patch(f"{self.server}/apis/apps/v1/namespaces/{ns}/deployments/{obj['metadata']['name']}"
                         "?fieldManager=bench&force=true", data=json.dumps(obj), timeout=30,
                         headers={"Content-Type": "application/apply-patch+yaml"})
        assert r.status_code in (200, 201), r.text


def direct_baseline(peers, dirs):
    """Copies per second when the same objects are applied straight to the clusters."""
    for p in peers:
        p.s.post(f"{p.server}/api/v1/namespaces", json={"metadata": {"name": "direct"}}, timeout=30)
    jobs = [(p, i) for i in range(N) for p in peers]
    local = threading.local()

    def one(job):
        p, i = job
        if not hasattr(local, "peers"):  # one keep-alive session per writer thread and cluster
            local.peers = {d: Peer(d) for d in dirs}
        local.peers[p.dir].apply("direct", deployment(f"d-{i:04d}", "direct"))
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        list(ex.map(one, jobs))
    return len(jobs) / (time.monotonic() - t0)


def main():
    work = pathlib.Path(tempfile.mkdtemp())
    subprocess.run([str(ROOT / "test/peers/up.sh"), str(work / "peers"), "2"], check=True, capture_output=True)
    tmcd = None
    try:
        dirs = [work / "peers" / f"cluster-{i}" for i in (1, 2)]
        peers = [Peer(d) for d in dirs]
        direct = direct_baseline(peers, dirs)
        # Let kube-controller-manager finish the baseline's ReplicaSets before tmcd's run shares the CPUs.
        # (until every Deployment has one, or the count has not moved for 5 s: KCM retries a few later).
        last, still = -1, time.monotonic()
        while time.monotonic() - still < 5:
            n = sum(len(p.s.get(f"{p.server}/apis/apps/v1/namespaces/direct/replicasets", timeout=30)
                        .json().get("items", [])) for p in peers)
            if n >= 2 * N:
                break
            if n != last:
                last, still = n, time.monotonic()
            time.sleep(0.5)
        tmcd = subprocess.Popen([str(BUILD / "src/cmd/tmcd/tmcd"), "--data-dir", str(work / "data"), "--listen",
                                 "127.0.0.1:0", "--port-file", str(work / "port"), "--log-level", "warn",
                                 *os.environ.get("TMCD_BENCH_FLAGS", "").split()],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not (work / "port").exists() or not (work / "port").read_text().strip():
            time.sleep(0.01)
        base = f"http://127.0.0.1:{(work / 'port').read_text().strip()}"
        api = requests.Session()
        for i, d in enumerate(dirs):
            name = f"c{i}"
            token = base64.b64encode((d / "token").read_bytes().strip()).decode()
            api.post(base + "/api/v1/namespaces/tmc/secrets", json={
                "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "tmc"},
                "data": {"token": token}})
            api.post(base + "/apis/tmc.kcp.io/v1alpha1/clusterregistrations", json={
                "apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration", "metadata": {"name": name},
                "spec": {"location": "bench", "endpoint": {"server": peers[i].server, "insecureSkipTLSVerify": True},
                         "credentialsRef": {"namespace": "tmc", "name": name}}})
        api.post(base + "/apis/tmc.kcp.io/v1alpha1/namespaces/shop/workloadplacements", json={
            "apiVersion": "tmc.kcp.io/v1alpha1", "kind": "WorkloadPlacement", "metadata": {"name": "bench"},
            "spec": {"workloadSelector": {"labelSelector": {"matchLabels": {"app": "bench"}}}}})
        ns = downstream_ns("root", "shop")
        while True:  # both clusters chosen
            wp = api.get(base + "/apis/tmc.kcp.io/v1alpha1/namespaces/shop/workloadplacements/bench").json()
            if len(wp.get("status", {}).get("decisions", [])) == 2:
                break
            time.sleep(0.2)
        rss0 = rss_kib(tmcd.pid)
        t0 = time.monotonic()
        for i in range(N):
            r = api.post(base + "/apis/apps/v1/namespaces/shop/deployments", json=deployment(f"b-{i:04d}"))
            assert r.status_code == 201, r.text
        created = time.monotonic() - t0
        while min(p.count(ns) for p in peers) < N:
            time.sleep(0.1)
        synced = time.monotonic() - t0
        time.sleep(2)
        rss1 = rss_kib(tmcd.pid)
        rate = 2 * N / synced
        # Latency, one at a time with tmcd otherwise idle: upstream create returned → downstream exists.
        lat = []
        for i in range(SAMPLES):
            name = f"l-{i:04d}"
            r = api.post(base + "/apis/apps/v1/namespaces/shop/deployments", json=deployment(name))
            t = time.monotonic()
            assert r.status_code == 201
            pending = set(range(2))
            while pending:
                for k in list(pending):
                    if peers[k].s.get(f"{peers[k].server}/apis/apps/v1/namespaces/{ns}/deployments/{name}",
                                      timeout=30).status_code == 200:
                        pending.discard(k)
            lat.append(time.monotonic() - t)
        lat.sort()
        print(json.dumps({
            "machine": f"{os.cpu_count()} cores, {os.uname().release}",
            "command": " ".join(sys.argv),
            "deployments": N, "copies": 2 * N,
            "direct_copies_per_s": round(direct, 1), "tmcd_copies_per_s": round(rate, 1),
            "throughput_ratio": round(rate / direct, 2),
            "upstream_creates_s": round(created, 2), "sync_done_s": round(synced, 2),
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
