#!/usr/bin/env python3
"""Scale: C clusters x W Deployments through tmcd in embedded mode (docs/performance.md, "Scale").

The clusters are logical clusters of one real kcp (test/peers/kcp-up.sh): workspaces `root:fake-N` that
bind an APIExport of the Deployment schema, so each serves apps/v1 Deployments with server-side apply,
namespaces and /readyz, /version like a kube-apiserver, without an apiserver process each. They are
registered in tmcd (verified TLS with kcp's CA, a bearer token) with kwok-style declared capacity.

The W Deployments are spread over C namespaces (W/C each); each namespace has one WorkloadPlacement
choosing 2 or 3 clusters (alternating), so every cluster receives copies. One watch on the export's
virtual workspace (`/clusters/*/apis/apps/v1/deployments`) sees every copy on every fake cluster, and
timestamps it on arrival; so the latencies below include kcp's watch delivery.

Phases, each reported with throughput, p50/p99/max latency, tmcd CPU and RSS:
  create  W creates at a steady RATE/s (8 writers): create returned -> every copy seen (ADDED);
          meanwhile a quiet second workspace creates one Deployment every 0.5 s onto a cluster of
          its own registration: its latency shows whether the busy tenant's backlog starves it;
  status  SCALE_STATUS (1,000) of the workloads, RATE/s: every copy's status written on its fake cluster ->
          tmcd's local API shows the aggregate (bench/scale_status.py);
  restart tmcd stopped (SIGTERM, then SIGKILL in a second restart) and started again: time until every
          workload was reconciled and the sync queue is empty, and the number of applies (want 0);
  update  one merge patch per workload at RATE/s (new image): patch returned -> every copy carries it;
  dead    one cluster's endpoint (a TCP relay run here) stops answering (accepts, never answers); an
          update wave of every workload: the p99 of those with no copy there, tmcd's CPU and the
          connections tmcd opens toward the dead cluster; then the relay answers again;
  delete  W deletes at RATE/s: delete returned -> every copy gone (DELETED).
Baseline, before and after the waves: the same kind of copies applied straight to the fake clusters by
a compiled client-go program (test/clientgo bench-copies), 10 in flight as tmcd has (4 sync workers x 2-3
copies side by side): what the fake clusters on this machine take.
Output: one JSON document (stdout); `--plot OUT.svg LABEL=RESULT.json...` draws the scaling curves.
Usage: bench/scale_bench.py [BUILD_DIR] [CLUSTERS] [WORKLOADS] [RATE]   (extra tmcd flags: TMCD_BENCH_FLAGS;
SCALE_KEEP=1 keeps the work directory with tmcd.log; SCALE_STOP_AFTER=restart ends after the restarts;
SCALE_STATUS=N sizes the status phase, 0 leaves it out)"""
import base64
import concurrent.futures
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests
import urllib3

import scale_status
import tmcd_auth
from scale_relay import Relay
from scale_tenant import QuietTenant, pct

urllib3.disable_warnings()
ROOT = pathlib.Path(__file__).resolve().parents[1]
WRITERS = 8
DIRECT_PARALLEL = 10  # tmcd's applies in flight: 4 sync workers x 2-3 copies of a workload side by side



def proc_stat(pid):
    """(CPU seconds, RSS KiB) of a process."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(int(ln.split()[1]) for ln in open(f"/proc/{pid}/status") if ln.startswith("VmRSS:"))
    return cpu, rss


def sockets(pid):
    """Open sockets of a process (its connections to the clusters, kcp and the bench's clients)."""
    n = 0
    for fd in pathlib.Path(f"/proc/{pid}/fd").iterdir():
        try:
            n += os.readlink(fd).startswith("socket:")
        except OSError:
            pass
    return n


class Kcp:
    def __init__(self, work):
        subprocess.run([str(ROOT / "test/peers/kcp-up.sh"), str(work / "peer")], check=True, capture_output=True)
        self.kc = work / "peer/kcp/admin.kubeconfig"
        text = self.kc.read_text()
        self.server = [ln.split()[1] for ln in text.splitlines() if "server:" in ln][0].split("/clusters/")[0]
        self.token = [ln.split()[1] for ln in text.splitlines() if "token:" in ln][0]
        self.ca = [ln.split()[1] for ln in text.splitlines() if "certificate-authority-data:" in ln][0]
        self.pid = int((work / "peer/kcp.pid").read_text())
        self.s = self.session()

    def session(self):
        s = requests.Session()
        s.verify = False
        s.trust_env = False
        s.headers["Authorization"] = "Bearer " + self.token
        return s

    def url(self, ws, path):
        return f"{self.server}/clusters/{ws}{path}"

    def create(self, ws, path, obj, s=None):
        for _ in range(100):  # a workspace just Ready may 404 its APIs for a moment
            r = (s or self.s).post(self.url(ws, path), json=obj, timeout=60)
            if r.status_code != 404:
                break
            time.sleep(0.1)
        assert r.status_code in (200, 201, 409), r.text

    def wait(self, ws, path, ok=lambda body: True, s=None):
        for _ in range(1200):
            r = (s or self.s).get(self.url(ws, path), timeout=60)
            if r.status_code == 200 and ok(r.json()):
                return r.json()
            time.sleep(0.1)
        raise SystemExit(f"timed out waiting for {ws}{path}")

    def workspace(self, name, s=None):
        self.create("root", "/apis/tenancy.kcp.io/v1alpha1/workspaces", {
            "apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace", "metadata": {"name": name},
            "spec": {"type": {"name": "universal", "path": "root"}}}, s)
        ws = self.wait("root", f"/apis/tenancy.kcp.io/v1alpha1/workspaces/{name}",
                       lambda w: w.get("status", {}).get("phase") == "Ready", s)
        return ws["spec"]["cluster"]

    def fake_apis(self):
        """root:fakes exports the Deployment schema tmcd itself exports (config/kcp)."""
        self.workspace("fakes")
        subprocess.run([self.kubectl(), "--kubeconfig", str(self.kc), "--server", self.url("root:fakes", ""),
                        "apply", "-f", str(ROOT / "config/kcp/apiresourceschema-deployments.yaml")],
                       check=True, capture_output=True)
        schema = next(ln.split()[1] for ln in (ROOT / "config/kcp/apiresourceschema-deployments.yaml")
                      .read_text().splitlines() if ln.strip().startswith("name:"))
        self.create("root:fakes", "/apis/apis.kcp.io/v1alpha1/apiexports", {
            "apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIExport", "metadata": {"name": "fake-apps"},
            "spec": {"latestResourceSchemas": [schema]}})

    def endpoint(self):
        """The export's virtual workspace URL (kcp v0.27 publishes it on the export's status)."""
        exp = self.wait("root:fakes", "/apis/apis.kcp.io/v1alpha1/apiexports/fake-apps",
                        lambda b: b.get("status", {}).get("virtualWorkspaces"))
        return exp["status"]["virtualWorkspaces"][0]["url"]

    def fake_cluster(self, name):
        s = self.session()
        lc = self.workspace(name, s)
        ws = f"root:{name}"
        self.create(ws, "/apis/apis.kcp.io/v1alpha1/apibindings", {
            "apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIBinding", "metadata": {"name": "apps"},
            "spec": {"reference": {"export": {"path": "root:fakes", "name": "fake-apps"}}}}, s)
        self.create(ws, "/api/v1/namespaces", {"metadata": {"name": "kube-system"}}, s)  # the cluster identity
        self.wait(ws, "/apis/apps/v1/namespaces/default/deployments", s=s)
        return lc

    def kubectl(self):
        return subprocess.run([str(ROOT / "test/peers/build.sh")], check=True, capture_output=True,
                              text=True).stdout.strip().splitlines()[-1] + "/kubectl"


class CopyWatch:
    """One watch over every fake cluster; records when each copy (cluster, name) reached a state."""

    def __init__(self, kcp, vw):
        self.kcp, self.vw = kcp, vw
        self.lock = threading.Lock()
        self.added, self.image, self.deleted = {}, {}, {}
        self.namespace = {}  # (cluster, name) -> the copy's namespace there
        self.events = 0
        self.rv = ""
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        s = self.kcp.session()
        while not self.stop:
            url = f"{self.vw}/clusters/*/apis/apps/v1/deployments?watch=1&allowWatchBookmarks=true"
            if self.rv:
                url += f"&resourceVersion={self.rv}"
            try:
                with s.get(url, stream=True, timeout=(10, 3600)) as r:
                    for line in r.iter_lines():
                        if line:
                            self.on(json.loads(line), time.monotonic())
            except (requests.RequestException, json.JSONDecodeError):  # a line cut short as kcp stops
                time.sleep(0.2)

    def on(self, ev, now):
        obj = ev["object"]
        md = obj.get("metadata", {})
        self.rv = md.get("resourceVersion", self.rv)
        if ev["type"] in ("BOOKMARK", "ERROR"):
            return
        key = (md.get("annotations", {}).get("kcp.io/cluster", ""), md["name"])
        with self.lock:
            self.events += 1
            if ev["type"] == "ADDED":
                self.added.setdefault(key, now)
                self.namespace[key] = md.get("namespace", "")
            if ev["type"] == "DELETED":
                self.deleted.setdefault(key, now)
            else:
                img = obj["spec"]["template"]["spec"]["containers"][0]["image"]
                self.image.setdefault((key, img), now)


def deployment(name, ns, image):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": "scale"}},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"pod": name}},
                     "template": {"metadata": {"labels": {"pod": name}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}}}


class Tmcd:
    def __init__(self, build, work):
        self.build, self.work = build, work
        self.auth, self.token = tmcd_auth.token_args(work)
        self.proc = None

    def start(self):
        port = self.work / "port"
        port.unlink(missing_ok=True)
        t0 = time.monotonic()
        extra = os.environ.get("TMCD_BENCH_FLAGS", "").split()
        self.proc = subprocess.Popen(
            [str(self.build / "src/cmd/tmcd/tmcd"), "--data-dir", str(self.work / "data"), "--listen", "127.0.0.1:0",
             "--port-file", str(port), *self.auth, *(extra if "--log-level" in extra else [*extra, "--log-level", "warn"])],
            stdout=subprocess.DEVNULL, stderr=open(self.work / "tmcd.log", "a"))
        while not port.exists() or not port.read_text().strip():
            time.sleep(0.01)
        self.base = f"https://127.0.0.1:{port.read_text().strip()}"
        self.api = tmcd_auth.session(self.token)
        return t0

    def stop(self, sig):
        """Signals tmcd and waits for its exit; the seconds that took."""
        t = time.monotonic()
        self.proc.send_signal(sig)
        self.proc.wait(timeout=120)
        return time.monotonic() - t

    def metrics(self):
        out = {}
        for ln in self.api.get(self.base + "/metrics", timeout=30).text.splitlines():
            if ln and not ln.startswith("#"):
                name, _, value = ln.rpartition(" ")
                out[name] = float(value)
        return out

    def post(self, path, obj, s=None):
        r = (s or self.api).post(self.base + path, json=obj, timeout=60)
        assert r.status_code in (200, 201, 409), r.text
        return r


def direct(kcp, clusters, n, label):
    """The baseline: the fake clusters' own capacity for the same copies, applied by a compiled client."""
    tool = subprocess.run([str(ROOT / "test/clientgo/build.sh")], check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[-1]
    out = subprocess.run([tool, "bench-copies", kcp.server, kcp.token, str(clusters), f"direct-{label}", str(n),
                          str(DIRECT_PARALLEL)], check=True, capture_output=True, text=True).stdout.split()
    return {"copies": int(out[1]), "seconds": float(out[3]), "copies_per_s": float(out[5]), "errors": int(out[7])}


def msum(m, prefix, **labels):
    want = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(v for k, v in m.items() if k.startswith(prefix + "{") and all(w in k for w in want))


def memory_split(m):
    """What tmcd's resident memory holds, in KiB, from its /metrics: RocksDB's memtables (unflushed
    writes), block caches and SST index/filter readers, and the heap's live and freed-but-kept bytes."""
    return {"store_memtable_kib": m.get("tmcd_store_memtable_bytes", 0) // 1024,
            "store_block_cache_kib": m.get("tmcd_store_block_cache_bytes", 0) // 1024,
            "store_table_readers_kib": m.get("tmcd_store_table_readers_bytes", 0) // 1024,
            "heap_in_use_kib": msum(m, "tmcd_malloc_bytes", state="in_use") // 1024,
            "heap_free_kib": msum(m, "tmcd_malloc_bytes", state="free") // 1024}


def register(tmcd, kcp, names, servers, capacity):
    tmcd.post("/api/v1/namespaces", {"metadata": {"name": "tmc"}})
    tmcd.post("/api/v1/namespaces/tmc/secrets", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "kcp", "namespace": "tmc"},
        "data": {"token": base64.b64encode(kcp.token.encode()).decode()}})
    for i, name in enumerate(names):
        tmcd.post("/apis/tmc.kcp.io/v1alpha1/clusterregistrations", {
            "apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration", "metadata": {"name": name},
            "spec": {"location": f"zone-{i % 3}", "endpoint": {"server": servers[i], "caBundle": kcp.ca},
                     "credentialsRef": {"namespace": "tmc", "name": "kcp"}, "capacity": capacity}})
    url = tmcd.base + "/apis/tmc.kcp.io/v1alpha1/clusterregistrations"
    for _ in range(1200):
        items = tmcd.api.get(url, timeout=60).json()["items"]
        ready = [c for c in items if any(x["type"] == "Ready" and x["status"] == "True"
                                         for x in c.get("status", {}).get("conditions", []))]
        if len(ready) == len(names):
            return
        time.sleep(0.5)
    raise SystemExit(f"clusters not Ready: {len(ready)}/{len(names)}")


def place(tmcd, namespaces):
    """One placement per namespace choosing 2 or 3 clusters; returns {namespace: [cluster names]}."""
    out = {}
    for k, ns in enumerate(namespaces):
        tmcd.post("/api/v1/namespaces", {"metadata": {"name": ns}})
        tmcd.post(f"/apis/tmc.kcp.io/v1alpha1/namespaces/{ns}/workloadplacements", {
            "apiVersion": "tmc.kcp.io/v1alpha1", "kind": "WorkloadPlacement", "metadata": {"name": "scale"},
            "spec": {"workloadSelector": {"labelSelector": {"matchLabels": {"app": "scale"}}},
                     "numberOfClusters": 2 + k % 2}})
    for k, ns in enumerate(namespaces):
        url = f"{tmcd.base}/apis/tmc.kcp.io/v1alpha1/namespaces/{ns}/workloadplacements/scale"
        while len(d := tmcd.api.get(url, timeout=60).json().get("status", {}).get("decisions", [])) != 2 + k % 2:
            time.sleep(0.2)
        out[ns] = [x["clusterName"] for x in d]
    return out


def wave(tmcd, jobs, rate, reached, copies_of, deadline_s=900, during=None):
    """Sends jobs (callables taking a session, returning the workload's name) at `rate`/s from WRITERS
    threads; then waits until reached(copy) holds for every copy. Returns the phase's figures. `during`
    (a QuietTenant) is stopped when the jobs are sent; its figures are added."""
    local = threading.local()
    done = {}
    t0 = time.monotonic()
    cpu0, _ = proc_stat(tmcd.proc.pid)

    def run(i):
        if not hasattr(local, "s"):
            local.s = tmcd_auth.session(tmcd.token)
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        name = jobs[i](local.s)
        done[name] = time.monotonic()

    with concurrent.futures.ThreadPoolExecutor(WRITERS) as ex:
        list(ex.map(run, range(len(jobs))))
    sent = time.monotonic() - t0
    side = during.stop() if during else None
    pending = {(name, c) for name in done for c in copies_of(name)}
    last = {}
    limit = time.monotonic() + deadline_s
    while pending and time.monotonic() < limit:
        for key in list(pending):
            t = reached(*key)
            if t is not None:
                last[key[0]] = max(last.get(key[0], 0), t)
                pending.discard(key)
        time.sleep(0.2)
    cpu1, rss = proc_stat(tmcd.proc.pid)
    memory = memory_split(tmcd.metrics())
    lats = {n: last[n] - done[n] for n in done if n in last and all((n, c) not in pending for c in copies_of(n))}
    lat = list(lats.values())
    end = max(last.values()) if last else time.monotonic()
    ncopies = sum(len(copies_of(n)) for n in done)
    return {"workloads": len(jobs), "copies": ncopies, "missing_copies": len(pending),
            "send_s": round(sent, 1), "achieved_rate": round(len(jobs) / sent, 1),
            "all_copies_s": round(end - t0, 1), "copies_per_s": round((ncopies - len(pending)) / (end - t0), 1),
            "p50_ms": round(1000 * pct(lat, 0.5), 1), "p99_ms": round(1000 * pct(lat, 0.99), 1),
            "max_ms": round(1000 * max(lat, default=float("nan")), 1),
            "tmcd_cpu_s": round(cpu1 - cpu0, 1), "tmcd_cpu_cores": round((cpu1 - cpu0) / (end - t0), 2),
            "tmcd_rss_kib": rss, "tmcd_sockets": sockets(tmcd.proc.pid), **memory, "latencies": lats,
            **({"quiet_tenant": side} if side else {})}


def converge(tmcd, t0, workloads):
    """After a restart: time until /readyz answers and the syncer has reconciled every workload with an
    empty queue; applies made meanwhile (the hash skip should make them 0)."""
    while True:
        try:
            if tmcd.api.get(tmcd.base + "/readyz", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.05)
    ready = time.monotonic() - t0
    while True:
        m = tmcd.metrics()
        if (msum(m, "tmcd_workqueue_adds_total", controller="sync") >= workloads
                and msum(m, "tmcd_workqueue_depth", controller="sync") == 0
                and msum(m, "tmcd_workqueue_longest_running_processor_seconds", controller="sync") == 0):
            break
        time.sleep(0.1)
    t = time.monotonic() - t0
    cpu, rss = proc_stat(tmcd.proc.pid)
    return {"ready_s": round(ready, 2), "converged_s": round(t, 2), "applies": msum(m, "tmcd_sync_applies_total"),
            "sync_reconciles": msum(m, "tmcd_workqueue_adds_total", controller="sync"),
            "store_commits": m.get("tmcd_store_commit_duration_seconds_count", 0),
            "tmcd_cpu_s": round(cpu, 1), "tmcd_rss_kib": rss, "tmcd_sockets": sockets(tmcd.proc.pid),
            **memory_split(m)}


def main(build, clusters, workloads, rate):
    work = pathlib.Path(tempfile.mkdtemp())
    kcp = Kcp(work)
    tmcd = Tmcd(build, work)
    out = {"machine": f"{os.cpu_count()} cores, {os.uname().release}", "command": " ".join(sys.argv),
           "clusters": clusters, "workloads": workloads, "rate": rate}
    try:
        t = time.monotonic()
        kcp.fake_apis()
        names = [f"fake-{i}" for i in range(clusters)]
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            lcs = list(ex.map(kcp.fake_cluster, names))
        lc_of = dict(zip(names, lcs))
        vw = kcp.endpoint()
        host, port = kcp.server.split("//")[1].split(":")
        relay = Relay(host, int(port))  # fake-0 is reached through it, so that it can die
        servers = [f"{kcp.server}/clusters/root:{n}" for n in names]
        servers[0] = f"https://127.0.0.1:{relay.port}/clusters/root:{names[0]}"
        watch = CopyWatch(kcp, vw)
        out["setup_kcp_s"] = round(time.monotonic() - t, 1)
        tmcd.start()
        register(tmcd, kcp, names, servers, {"cpu": "64", "memory": "256Gi", "pods": "1100"})
        quiet = QuietTenant(tmcd, kcp, servers[-1], lcs[-1], watch)
        quiet.setup()
        namespaces = [f"ns-{k}" for k in range(clusters)]
        decisions = place(tmcd, namespaces)
        out["setup_s"] = round(time.monotonic() - t, 1)
        per_ns = workloads // clusters
        items = [(ns, f"d-{k}-{i}") for i in range(per_ns) for k, ns in enumerate(namespaces)]
        ns_of = {name: ns for ns, name in items}

        def copies(name):
            return [lc_of[c] for c in decisions[ns_of[name]]]
        out["direct_before"] = direct(kcp, clusters, min(workloads, 2000), "before")
        print("direct", json.dumps(out["direct_before"]), file=sys.stderr)
        time.sleep(2)
        _, rss_idle = proc_stat(tmcd.proc.pid)
        out["tmcd_rss_idle_kib"] = rss_idle
        out["idle_memory"] = memory_split(tmcd.metrics())

        def create(ns, name):
            def job(s):
                r = s.post(f"{tmcd.base}/apis/apps/v1/namespaces/{ns}/deployments",
                           json=deployment(name, ns, "registry.k8s.io/pause:3.9"), timeout=60)
                assert r.status_code == 201, r.text
                return name
            return job
        quiet.start()
        out["create"] = wave(tmcd, [create(*x) for x in items], rate, lambda n, lc: watch.added.get((lc, n)), copies,
                             during=quiet)
        print("quiet", json.dumps(out["create"]["quiet_tenant"]), file=sys.stderr)
        out["create"]["rss_per_copy_kib"] = round((out["create"]["tmcd_rss_kib"] - rss_idle) /
                                                  max(out["create"]["copies"], 1), 2)
        out["create"].pop("latencies")
        print("create", json.dumps(out["create"]), file=sys.stderr)
        n_status = int(os.environ.get("SCALE_STATUS", "1000"))  # workloads whose copies report a status
        if n_status > 0:
            sample = random.Random(1).sample(items, min(n_status, len(items)))  # 2- and 3-copy workloads
            out["status"] = scale_status.status_wave(
                kcp, tmcd, sample, lambda name: [(lc, watch.namespace[(lc, name)]) for lc in copies(name)], rate)
            print("status", json.dumps(out["status"]), file=sys.stderr)
        for label, sig in (("restart_sigterm", signal.SIGTERM), ("restart_sigkill", signal.SIGKILL)):
            events = watch.events
            stop_s = tmcd.stop(sig)
            out[label] = {"stop_s": round(stop_s, 2), **converge(tmcd, tmcd.start(), len(items))}
            time.sleep(2)
            out[label]["copy_events_on_clusters"] = watch.events - events
            print(label, json.dumps(out[label]), file=sys.stderr)
        if os.environ.get("SCALE_STOP_AFTER") == "restart":  # a restart study: the waves after it left out
            print(json.dumps(out, indent=1))
            return

        def patch(ns, name, image):
            def job(s):
                r = s.patch(f"{tmcd.base}/apis/apps/v1/namespaces/{ns}/deployments/{name}",
                            data=json.dumps({"spec": {"template": {"spec": {"containers": [
                                {"name": "c", "image": image}]}}}}),
                            headers={"Content-Type": "application/merge-patch+json"}, timeout=60)
                assert r.status_code == 200, r.text
                return name
            return job
        img = "registry.k8s.io/pause:3.10"
        out["update"] = wave(tmcd, [patch(ns, n, img) for ns, n in items], rate,
                             lambda n, lc: watch.image.get(((lc, n), img)), copies)
        out["update"].pop("latencies")
        print("update", json.dumps(out["update"]), file=sys.stderr)

        # One cluster unreachable: an update wave over every workload; the figures are those of the
        # workloads with no copy on the dead cluster.
        dead_lc = lc_of[names[0]]
        m0 = tmcd.metrics()
        relay.blackhole()
        img = "registry.k8s.io/pause:3.8"
        healthy = {n for ns, n in items if names[0] not in decisions[ns]}
        out["dead"] = wave(tmcd, [patch(ns, n, img) for ns, n in items], rate,
                           lambda n, lc: watch.image.get(((lc, n), img)),
                           lambda n: copies(n) if n in healthy else [c for c in copies(n) if c != dead_lc])
        m1 = tmcd.metrics()
        out["dead"]["connections_to_dead_cluster"] = relay.accepted_dead
        out["dead"]["apply_errors_to_dead_cluster"] = (msum(m1, "tmcd_sync_applies_total", cluster=names[0],
                                                            result="error") -
                                                       msum(m0, "tmcd_sync_applies_total", cluster=names[0],
                                                            result="error"))
        lat = [v for n, v in out["dead"].pop("latencies").items() if n in healthy]
        out["dead"].update(healthy_workloads=len(healthy), healthy_p50_ms=round(1000 * pct(lat, 0.5), 1),
                           healthy_p99_ms=round(1000 * pct(lat, 0.99), 1))
        print("dead", json.dumps(out["dead"]), file=sys.stderr)
        relay.revive()
        url = f"{tmcd.base}/apis/tmc.kcp.io/v1alpha1/clusterregistrations/{names[0]}"
        while not any(x["type"] == "Ready" and x["status"] == "True"
                      for x in tmcd.api.get(url, timeout=60).json().get("status", {}).get("conditions", [])):
            time.sleep(0.5)
        time.sleep(5)
        with watch.lock:
            live = {}
            for (lc, n) in watch.added:
                if (lc, n) not in watch.deleted:
                    live.setdefault(n, []).append(lc)

        def delete(ns, name):
            def job(s):
                r = s.delete(f"{tmcd.base}/apis/apps/v1/namespaces/{ns}/deployments/{name}", timeout=60)
                assert r.status_code == 200, r.text
                return name
            return job
        out["delete"] = wave(tmcd, [delete(*x) for x in items], rate, lambda n, lc: watch.deleted.get((lc, n)),
                             lambda n: live.get(n, []))
        lat = out["delete"].pop("latencies")
        for label, group in (("revived", [v for n, v in lat.items() if n not in healthy]),
                             ("others", [v for n, v in lat.items() if n in healthy])):
            out["delete"][f"{label}_p50_ms"] = round(1000 * pct(group, 0.5), 1)  # revived: a copy on the
            out["delete"][f"{label}_p99_ms"] = round(1000 * pct(group, 0.99), 1)  # cluster that was hung
        print("delete", json.dumps(out["delete"]), file=sys.stderr)
        out["direct_after"] = direct(kcp, clusters, min(workloads, 2000), "after")
        print("direct", json.dumps(out["direct_after"]), file=sys.stderr)
        out["kcp_rss_kib"] = proc_stat(kcp.pid)[1]
        print(json.dumps(out, indent=1))
    finally:
        if tmcd.proc and tmcd.proc.poll() is None:
            tmcd.stop(signal.SIGTERM)
        subprocess.run([str(ROOT / "test/peers/down.sh"), str(work / "peer")], capture_output=True)
        if os.environ.get("SCALE_KEEP"):  # keep tmcd.log and the store for a look
            print(f"kept {work}", file=sys.stderr)
        else:
            subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--plot":
        import scale_plot
        scale_plot.main(sys.argv[2], sys.argv[3:])
    else:
        main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build"),
             int(sys.argv[2]) if len(sys.argv) > 2 else 10, int(sys.argv[3]) if len(sys.argv) > 3 else 1000,
             float(sys.argv[4]) if len(sys.argv) > 4 else 100)
