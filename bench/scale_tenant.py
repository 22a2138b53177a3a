"""A quiet second tenant beside the scale run's busy one (docs/performance.md, "Fairness").

Workspace `quiet` of tmcd registers one of the fake clusters itself and places its namespace `q` there.
While the busy tenant's create wave runs (a backlog of thousands of workloads in `root`), it creates one
Deployment every PERIOD seconds and times create returned -> copy seen on its cluster. With a queue
served in arrival order its workloads wait behind the whole backlog; served in turns by workspace they
wait for about one reconcile."""
import base64
import threading
import time

import tmcd_auth

WS = "quiet"
PERIOD = 0.5


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


class QuietTenant:
    def __init__(self, tmcd, kcp, server, lc, watch):
        self.tmcd, self.kcp, self.server, self.lc, self.watch = tmcd, kcp, server, lc, watch
        self.sent = {}
        self.stopping = threading.Event()
        self.thread = None

    def url(self, path):
        return f"{self.tmcd.base}/clusters/{WS}{path}"

    def post(self, path, obj):
        r = self.tmcd.api.post(self.url(path), json=obj, timeout=60)
        assert r.status_code in (200, 201, 409), r.text

    def wait(self, path, ok):
        for _ in range(1200):
            if ok(self.tmcd.api.get(self.url(path), timeout=60).json()):
                return
            time.sleep(0.5)
        raise SystemExit(f"quiet tenant: {path} never became ready")

    def setup(self):
        self.post("/api/v1/namespaces", {"metadata": {"name": "tmc"}})
        self.post("/api/v1/namespaces/tmc/secrets", {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "kcp", "namespace": "tmc"},
            "data": {"token": base64.b64encode(self.kcp.token.encode()).decode()}})
        self.post("/apis/tmc.kcp.io/v1alpha1/clusterregistrations", {
            "apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration", "metadata": {"name": "own"},
            "spec": {"location": "zone-q", "endpoint": {"server": self.server, "caBundle": self.kcp.ca},
                     "credentialsRef": {"namespace": "tmc", "name": "kcp"}}})
        self.wait("/apis/tmc.kcp.io/v1alpha1/clusterregistrations/own",
                  lambda o: any(c["type"] == "Ready" and c["status"] == "True"
                                for c in o.get("status", {}).get("conditions", [])))
        self.post("/api/v1/namespaces", {"metadata": {"name": "q"}})
        self.post("/apis/tmc.kcp.io/v1alpha1/namespaces/q/workloadplacements", {
            "apiVersion": "tmc.kcp.io/v1alpha1", "kind": "WorkloadPlacement", "metadata": {"name": "q"},
            "spec": {"workloadSelector": {"labelSelector": {"matchLabels": {"app": "quiet"}}},
                     "numberOfClusters": 1}})
        self.wait("/apis/tmc.kcp.io/v1alpha1/namespaces/q/workloadplacements/q",
                  lambda o: len(o.get("status", {}).get("decisions", [])) == 1)

    def start(self):
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        s = tmcd_auth.session(self.tmcd.token)
        i = 0
        while not self.stopping.wait(PERIOD):
            name = f"quiet-{i}"
            obj = {"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": name, "namespace": "q", "labels": {"app": "quiet"}},
                   "spec": {"replicas": 0, "selector": {"matchLabels": {"pod": name}},
                            "template": {"metadata": {"labels": {"pod": name}},
                                         "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}}}}
            r = s.post(self.url("/apis/apps/v1/namespaces/q/deployments"), json=obj, timeout=60)
            assert r.status_code == 201, r.text
            self.sent[name] = time.monotonic()
            i += 1

    def stop(self, deadline_s=600):
        """Stops creating; waits for every copy; returns the quiet tenant's figures."""
        self.stopping.set()
        self.thread.join()
        limit = time.monotonic() + deadline_s
        while time.monotonic() < limit and any((self.lc, n) not in self.watch.added for n in self.sent):
            time.sleep(0.2)
        lat = [self.watch.added[(self.lc, n)] - t for n, t in self.sent.items() if (self.lc, n) in self.watch.added]
        return {"workloads": len(self.sent), "missing": len(self.sent) - len(lat),
                "p50_ms": round(1000 * pct(lat, 0.5), 1), "p99_ms": round(1000 * pct(lat, 0.99), 1),
                "max_ms": round(1000 * max(lat, default=float("nan")), 1)}
