"""The fault matrix (docs/reliability.md#fault-matrix): tmcd in embedded mode with two real
kube-apiservers, two workspaces registering both, and a storm of Deployment creates, updates and
deletes (each mounting a ConfigMap that is updated too) while a fault strikes: repeated kill -9 of
tmcd, a cluster's apiserver stopped, etcd compacted under a restarted apiserver (informers relist
after 410), tmcd out of file descriptors, tmcd's disk full. After each, the independent checker
(checker.py) must find no lost or invented upstream write and, once converged, no missing, stale,
duplicated, orphaned or misplaced copy."""
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time

import requests

from checker import (DELETED, Cluster, Ledger, downstream_ns, downstream_problems, expected_copies, observed_state,
                     storm_value)
from test_clusters import peer, wait_condition
from test_sync import WP, deployment, placement, register

PEERS = os.path.join(os.path.dirname(__file__), "..", "peers")
NS = "shop"


class Run:
    """One tmcd (restartable on the same port and data dir) with two workspaces set up for the storm."""

    def __init__(self, daemon, clusters, tmp_path, prefix, args=(), nofile=None, data=None):
        self._daemon, self.nofile = daemon, nofile
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.args = ["--data-dir", str(data or tmp_path / "data"), "--listen", f"127.0.0.1:{port}", *args]
        self.d = daemon(*self.args, nofile=nofile)
        self.base = self.d.base
        self.session = requests.Session()  # one kept-alive connection for the checker's reads
        self.workspaces = [f"{prefix}-blue", f"{prefix}-red"]
        self.clusters = [Cluster(n, p["server"], p["token"], str(p["dir"] / "certs" / "apiserver.crt"))
                         for n, p in zip(("one", "two"), map(peer, clusters))]
        for ws in self.workspaces:
            wbase = f"{self.base}/clusters/{ws}"
            register(self.base, f"/clusters/{ws}", clusters, ["one", "two"])
            for name in ("one", "two"):
                wait_condition(wbase, name, "Ready", "True", timeout=60)
            assert requests.post(wbase + WP, json=placement("storm", app="storm"), timeout=10).status_code == 201
            for i in range(3):
                cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cfg-{i}", "namespace": NS},
                      "data": {"v": "1"}}
                r = requests.post(f"{wbase}/api/v1/namespaces/{NS}/configmaps", json=cm, timeout=10)
                assert r.status_code == 201, r.text

    def restart(self, kill=True):
        if kill:
            self.d.kill()
        self.d = self._daemon(*self.args, nofile=self.nofile)
        assert self.d.base == self.base

    def get(self, path):
        r = self.session.get(self.base + path, timeout=20)
        r.raise_for_status()
        return r.json()


class Storm:
    """Writers (two per workspace) creating, updating and deleting Deployments under fresh names, and
    one per workspace updating the ConfigMaps they mount; every answer goes to the ledger."""

    def __init__(self, run, live=12):
        self.run, self.live, self.ledger = run, live, Ledger()
        for ws in run.workspaces:
            for i in range(3):
                self.ledger.acknowledged((ws, "ConfigMap", f"cfg-{i}"), 1)
        self._stop = threading.Event()
        self._threads = []
        self._writers = {(ws, t): {"n": 0, "mine": []} for ws in run.workspaces for t in range(2)}

    def start(self):
        """Starts (or resumes, with the same names and ledger) every writer."""
        self._stop.clear()
        self._threads = [threading.Thread(target=self._writer, args=(ws, t), daemon=True) for ws, t in self._writers]
        self._threads += [threading.Thread(target=self._configmaps, args=(ws,), daemon=True)
                          for ws in self.run.workspaces]
        for t in self._threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _send(self, session, key, state, method, path, body=None, patch=False):
        headers = {"Content-Type": "application/merge-patch+json"} if patch else {}
        try:
            r = session.request(method, self.run.base + path, data=json.dumps(body) if body else None,
                                headers=headers, timeout=5)
        except requests.RequestException:
            self.ledger.unanswered(key, state)
            return
        if r.status_code in (200, 201, 202):
            self.ledger.acknowledged(key, state)
        elif r.status_code >= 500 or r.status_code == 429:
            self.ledger.refused()  # refused with a reason: must not have been applied
        else:
            self.ledger.violation(f"{key}: {method} answered {r.status_code}: {r.text[:200]}")

    def _resolve(self, session, key, path):
        try:
            r = session.get(self.run.base + path, timeout=5)
        except requests.RequestException:
            return False
        if r.status_code not in (200, 404):
            return False
        self.ledger.resolve(key, observed_state(r.json(), storm_value) if r.status_code == 200 else None)
        return True

    def _writer(self, ws, t):
        session, rng, state = requests.Session(), random.Random(f"{ws}{t}{time.monotonic()}"), self._writers[(ws, t)]
        path = f"/clusters/{ws}/apis/apps/v1/namespaces/{NS}/deployments"
        mine = state["mine"]
        while not self._stop.is_set():
            unsure = [k for k in mine if self.ledger.known(k)[1]]
            if unsure and not self._resolve(session, unsure[0], f"{path}/{unsure[0][2]}"):
                time.sleep(0.2)
                continue
            live = [k for k in mine if isinstance(self.ledger.known(k)[0], int)]
            roll = rng.random()
            if len(live) < self.live or roll < 0.15:
                state["n"] += 1
                n = state["n"]
                name = f"w{t}-{n:04d}"
                key = (ws, "Deployment", name)
                mine.append(key)
                body = deployment(name, replicas=0, labels={"app": "storm"}, cm=f"cfg-{n % 3}")
                body["spec"].update(minReadySeconds=1, progressDeadlineSeconds=1_000_000)  # the counter may grow
                self._send(session, key, 1, "POST", path, body)
            elif roll < 0.75:
                key = rng.choice(live)
                v = self.ledger.known(key)[0] + 1
                self._send(session, key, v, "PATCH", f"{path}/{key[2]}", {"spec": {"minReadySeconds": v}}, patch=True)
            else:
                key = rng.choice(live)
                self._send(session, key, DELETED, "DELETE", f"{path}/{key[2]}")
            time.sleep(0.02)

    def _configmaps(self, ws):
        session, i = requests.Session(), 0
        path = f"/clusters/{ws}/api/v1/namespaces/{NS}/configmaps"
        while not self._stop.is_set():
            key = (ws, "ConfigMap", f"cfg-{i % 3}")
            known, maybe = self.ledger.known(key)
            if maybe and not self._resolve(session, key, f"{path}/{key[2]}"):
                time.sleep(0.2)
                continue
            v = self.ledger.known(key)[0] + 1
            self._send(session, key, v, "PATCH", f"{path}/{key[2]}", {"data": {"v": str(v)}}, patch=True)
            i += 1
            time.sleep(0.1)


def converge(run, storm, timeout=240):
    """Reads every object the storm wrote back through the ledger, then waits for the clusters to
    hold exactly what should run where; prints the figures the fault matrix reports."""
    started = time.monotonic()
    for key in storm.ledger.keys():
        ws, kind, name = key
        group = "apis/apps/v1" if kind == "Deployment" else "api/v1"
        resource = "deployments" if kind == "Deployment" else "configmaps"
        path = f"/clusters/{ws}/{group}/namespaces/{NS}/{resource}/{name}"
        for _ in range(100):
            r = requests.get(run.base + path, timeout=10)
            if r.status_code in (200, 404):
                break
            time.sleep(0.2)
        storm.ledger.resolve(key, observed_state(r.json(), storm_value) if r.status_code == 200 else None)
    assert not storm.ledger.violations, "\n".join(storm.ledger.violations[:20])
    problems = None
    while time.monotonic() - started < timeout:
        problems = downstream_problems(run.get, run.workspaces, run.clusters, NS)
        if not problems:
            break
        time.sleep(1)
    assert not problems, "not converged after %ds:\n%s\n%s" % (timeout, "\n".join(problems),
                                                                 run.d.log()[-3000:])
    copies = len(expected_copies(run.get, run.workspaces, run.clusters, NS, "app=storm")[0])
    print(f"ledger {storm.ledger.counts}, {len(storm.ledger.keys())} objects, {copies} copies expected, "
          f"converged {time.monotonic() - started:.1f}s after the storm")
    assert requests.get(run.base + "/readyz", timeout=10).text == "ok"


def test_repeated_kill_9_during_a_write_storm(clusters, daemon, tmp_path):
    run = Run(daemon, clusters, tmp_path, "k9")
    rng = random.Random(9)
    with Storm(run) as storm:
        for _ in range(5):
            time.sleep(rng.uniform(3, 6))
            run.restart()  # kill -9, then start again on the same data directory and port
        time.sleep(3)
    assert storm.ledger.counts["unanswered"] > 0 or storm.ledger.counts["refused"] > 0, "no kill hit a write"
    converge(run, storm)


def test_a_stopped_apiserver_holds_up_only_its_own_cluster(clusters, daemon, tmp_path):
    run = Run(daemon, clusters, tmp_path, "stop")
    pid = int((peer(clusters[1])["dir"] / "apiserver.pid").read_text())
    with Storm(run) as storm:
        time.sleep(4)
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(8)
            storm.stop()
            # While cluster two is frozen, cluster one converges on its own: copies of objects deleted
            # upstream are gone from it, though their finalizer waits for cluster two.
            def on_one():
                return [p for p in downstream_problems(run.get, run.workspaces, [run.clusters[0]], NS)
                        if "still terminating" not in p]
            deadline = time.monotonic() + 60
            while on_one() and time.monotonic() < deadline:
                time.sleep(1)
            assert not on_one()
            print("cluster one converged", round(time.monotonic() - deadline + 60, 1), "s after the storm")
        finally:
            os.kill(pid, signal.SIGCONT)
    converge(run, storm)


def etcd_revision(url):
    r = requests.post(url + "/v3/kv/range", json={"key": "AA=="}, timeout=10)  # any key: the header says
    return int(r.json()["header"]["revision"])


def test_etcd_compaction_under_a_restarted_apiserver_forces_a_relist(clusters, daemon, tmp_path):
    """tmcd frozen; meanwhile copies on cluster one drift (two deleted, two edited), etcd is compacted
    and the apiserver restarted with a fresh watch cache. On resuming, every watch tmcd had on that
    cluster is answered 410 Expired: only a relist shows the drift, which must then be undone."""
    run = Run(daemon, clusters, tmp_path, "relist")
    one = run.clusters[0]
    peers_dir = peer(clusters[0])["dir"].parent
    with Storm(run) as storm:
        time.sleep(8)
    deadline = time.monotonic() + 120
    while downstream_problems(run.get, run.workspaces, run.clusters, NS) and time.monotonic() < deadline:
        time.sleep(1)
    run.d.proc.send_signal(signal.SIGSTOP)
    try:
        copies = [c for c in one.marked("/apis/apps/v1/deployments") if c["metadata"]["namespace"].startswith("tmc-")
                  and json.loads(c["metadata"]["annotations"]["tmc.kcp.io/upstream"])["workspace"] in run.workspaces]
        assert len(copies) >= 4, len(copies)
        for c in copies[:2]:
            r = one.session.delete(f"{one.server}/apis/apps/v1/namespaces/{c['metadata']['namespace']}/deployments/"
                                   f"{c['metadata']['name']}", timeout=10)
            assert r.status_code == 200, r.text
        for c in copies[2:4]:
            r = one.session.patch(f"{one.server}/apis/apps/v1/namespaces/{c['metadata']['namespace']}/deployments/"
                                  f"{c['metadata']['name']}", data=json.dumps({"spec": {"minReadySeconds": 999}}),
                                  headers={"Content-Type": "application/merge-patch+json"}, timeout=10)
            assert r.status_code == 200, r.text
        etcd = (peers_dir / "etcd-url").read_text().strip()
        rev = etcd_revision(etcd)
        r = requests.post(etcd + "/v3/kv/compaction", json={"revision": str(rev), "physical": True}, timeout=30)
        assert r.status_code == 200, r.text
        subprocess.run([os.path.join(PEERS, "restart-apiserver.sh"), str(peers_dir), "1"], check=True, timeout=180)
    finally:
        run.d.proc.send_signal(signal.SIGCONT)
    print("compacted etcd at revision", rev)
    server = run.clusters[0].server
    what = f"apps/v1/deployments on {server} relisted after"
    run.d.wait_for_log(what, 60)
    line = next(ln for ln in run.d.log().splitlines() if what in ln)
    print(line)
    assert "too old resource version" in line, line
    with storm:  # and the storm goes on
        time.sleep(5)
    converge(run, storm)


def test_the_checker_finds_what_it_looks_for(clusters, daemon, tmp_path):
    """The checker itself: a converged run, then each kind of difference planted on purpose."""
    run = Run(daemon, clusters, tmp_path, "self")
    with Storm(run) as storm:
        time.sleep(3)
    converge(run, storm)
    one, ws = run.clusters[0], run.workspaces[0]
    real = run.get

    def bumped(path):  # upstream as if one Deployment had been updated and another created
        doc = real(path)
        if "/deployments" in path and doc["items"]:
            doc["items"][0]["spec"]["minReadySeconds"] += 1
            ghost = json.loads(json.dumps(doc["items"][0]))
            ghost["metadata"].update(name="ghost", uid="ghost-uid")
            doc["items"].append(ghost)
        return doc
    found = "\n".join(downstream_problems(bumped, [ws], run.clusters, NS))
    assert "missing: 2" in found and "stale: 2" in found, found
    # A marked copy nobody asked for, in this run's namespace, and one in another workspace's.
    dns = downstream_ns(ws, NS)
    orphan = deployment("orphan", replicas=0)
    orphan["metadata"].update(namespace=dns, labels={"tmc.kcp.io/managed-by": "tmcd"}, annotations={
        "tmc.kcp.io/upstream": json.dumps({"workspace": ws, "namespace": NS, "name": "orphan", "uid": "x"})})
    misplaced = json.loads(json.dumps(orphan))
    misplaced["metadata"].update(name="misplaced", annotations={"tmc.kcp.io/upstream": json.dumps(
        {"workspace": run.workspaces[1], "namespace": NS, "name": "misplaced", "uid": "y"})})
    try:
        for obj in (orphan, misplaced):
            r = one.session.post(f"{one.server}/apis/apps/v1/namespaces/{dns}/deployments", json=obj, timeout=10)
            assert r.status_code == 201, r.text
        found = "\n".join(downstream_problems(run.get, run.workspaces, run.clusters, NS))
        assert "orphan: 2" in found and "isolation: one: Deployment of self-red/shop/misplaced" in found, found
    finally:
        for name in ("orphan", "misplaced"):
            one.session.delete(f"{one.server}/apis/apps/v1/namespaces/{dns}/deployments/{name}", timeout=10)


def test_out_of_file_descriptors_with_real_clusters(clusters, daemon, tmp_path):
    """More connections held than tmcd's open-file limit allows, during the storm: writes on open
    connections go on, and copies keep reaching the clusters (their connections come from the
    reserve the local API cannot take)."""
    run = Run(daemon, clusters, tmp_path, "fd", nofile=400)
    assert "open-file limit 400" in run.d.log()
    held = []
    # The checker's connection is one of the open connections: opened now, it is not queued behind the
    # held ones (tmcd stops accepting at its connection budget, and a queued TCP connection would wait
    # for the held ones' idle timeout, or win a freed slot only by racing the Unix socket's backlog).
    assert run.session.get(run.base + "/readyz", timeout=10).text == "ok"
    with Storm(run) as storm:
        time.sleep(2)
        try:
            for _ in range(450):
                held.append(run.d.connect(timeout=5))
            time.sleep(8)
            storm.stop()
            deadline = time.monotonic() + 120
            while downstream_problems(run.get, run.workspaces, run.clusters, NS) and time.monotonic() < deadline:
                time.sleep(1)
            assert not downstream_problems(run.get, run.workspaces, run.clusters, NS)
            assert run.session.get(run.base + "/readyz", timeout=10).text == "ok"
            print("converged with", len(held), "connections held")
        finally:
            for c in held:
                c.close()
    assert storm.ledger.counts["acknowledged"] > 100, storm.ledger.counts
    converge(run, storm)


def test_a_full_disk_under_a_write_storm(clusters, daemon, tmp_path, small_disk):
    """tmcd's data directory fills up during the storm: writes are refused with 503 (never applied),
    /readyz says why, and everything converges once space is freed."""
    run = Run(daemon, clusters, tmp_path, "disk", args=["--store-min-free-bytes=25165824"],
              data=small_disk / "data")
    with Storm(run) as storm:
        time.sleep(3)
        vfs = os.statvfs(small_disk)
        filler = small_disk / "filler"
        with open(filler, "wb") as f:  # 20 MiB left: under the 24 MiB reserve
            f.write(b"\0" * (vfs.f_bavail * vfs.f_frsize - 20 * 1024 * 1024))
        deadline = time.monotonic() + 10
        while run.session.get(run.base + "/readyz", timeout=10).status_code != 503:
            assert time.monotonic() < deadline, "still ready with a full disk"
            time.sleep(0.1)
        assert "store cannot write" in run.session.get(run.base + "/readyz", timeout=10).text
        time.sleep(5)
        filler.unlink()
        time.sleep(3)
    assert storm.ledger.counts["refused"] > 0, storm.ledger.counts
    converge(run, storm)
