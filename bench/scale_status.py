"""Status round trip at scale (docs/performance.md, "Status round trip"): for a sample of the scale run's
workloads, every copy's status is written on its fake cluster (as a cluster's Deployment controller would
write it), and the time from the last copy's write to tmcd's local API showing the aggregated status is
recorded: the moment the upstream object's per-cluster annotation (`tmc.kcp.io/cluster-status`) shows the
marker value for every copy and its aggregated `status.readyReplicas` shows it too."""
import concurrent.futures
import json
import threading
import time

import tmcd_auth

READY = 7  # a marker value: the copies' spec asks for 0 replicas and nothing else writes their status


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


class UpstreamStatus:
    """One watch on tmcd's Deployments; records when each name first shows READY for all its copies."""

    def __init__(self, tmcd, want):
        self.tmcd, self.want = tmcd, want  # want: name -> number of copies
        self.seen = {}
        self.lock = threading.Lock()
        self.started = threading.Event()
        threading.Thread(target=self.run, daemon=True).start()
        self.started.wait(30)

    def run(self):
        s = tmcd_auth.session(self.tmcd.token)
        base = f"{self.tmcd.base}/apis/apps/v1/deployments"
        rv = s.get(base + "?limit=1", timeout=60).json()["metadata"]["resourceVersion"]
        with s.get(f"{base}?watch=1&resourceVersion={rv}", stream=True, timeout=(10, 3600)) as r:
            self.started.set()
            for line in r.iter_lines():
                if not line:
                    continue
                obj = json.loads(line)["object"]
                name = obj["metadata"]["name"]
                if name not in self.want or obj.get("status", {}).get("readyReplicas") != READY:
                    continue
                per = json.loads(obj["metadata"].get("annotations", {}).get("tmc.kcp.io/cluster-status", "{}"))
                if sum(1 for c in per.values() if c.get("readyReplicas") == READY) >= self.want[name]:
                    with self.lock:
                        self.seen.setdefault(name, time.monotonic())


def status_wave(kcp, tmcd, sample, copies_of, rate, writers=8, deadline_s=600):
    """sample: [(namespace, name)]; copies_of(name): (logical cluster, namespace) of each of its copies.
    Writes the statuses at `rate` workloads/s; returns the phase's figures."""
    up = UpstreamStatus(tmcd, {name: len(copies_of(name)) for _, name in sample})
    body = json.dumps({"status": {"observedGeneration": 1, "replicas": READY, "updatedReplicas": READY,
                                  "readyReplicas": READY, "availableReplicas": READY}})
    local = threading.local()
    done = {}
    t0 = time.monotonic()
    m0 = tmcd.metrics()

    def run(i):
        if not hasattr(local, "s"):
            local.s = kcp.session()
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        _, name = sample[i]
        for lc, ns in copies_of(name):
            r = local.s.patch(kcp.url(lc, f"/apis/apps/v1/namespaces/{ns}/deployments/{name}/status"), data=body,
                              headers={"Content-Type": "application/merge-patch+json"}, timeout=60)
            assert r.status_code == 200, r.text
        done[name] = time.monotonic()

    with concurrent.futures.ThreadPoolExecutor(writers) as ex:
        list(ex.map(run, range(len(sample))))
    sent = time.monotonic() - t0
    limit = time.monotonic() + deadline_s
    while time.monotonic() < limit:
        with up.lock:
            if all(n in up.seen for n in done):
                break
        time.sleep(0.2)
    with up.lock:
        lat = [up.seen[n] - done[n] for n in done if n in up.seen]
    m1 = tmcd.metrics()
    key = "tmcd_workqueue_adds_total"
    adds = sum(v for k, v in m1.items() if k.startswith(key) and 'controller="sync"' in k) - \
        sum(v for k, v in m0.items() if k.startswith(key) and 'controller="sync"' in k)
    return {"workloads": len(sample), "copies_written": sum(len(copies_of(n)) for _, n in sample),
            "missing": len(done) - len(lat), "send_s": round(sent, 1), "achieved_rate": round(len(sample) / sent, 1),
            "p50_ms": round(1000 * pct(lat, 0.5), 1), "p99_ms": round(1000 * pct(lat, 0.99), 1),
            "max_ms": round(1000 * max(lat, default=float("nan")), 1), "sync_reconciles": adds}
