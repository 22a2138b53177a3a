"""The workload path in embedded mode against two real kube-apiservers with kube-controller-manager:
placement decisions, Deployment + ConfigMap sync into the mapped namespace with tmcd's marks,
aggregated status, scaling, drift correction, workspace isolation of namespaces, namespace
collisions, shrinking numberOfClusters, deletion with the finalizer, deletionPolicy Orphan, an
unreachable cluster that does not hold up the other one. Advanced placement (capacity, spread, Divided
replicas, overrides, failover) is tested on three clusters in test_placement.py."""
import json
import os
import signal
import subprocess
import time

import requests

from checker import downstream_ns, hash_name
from test_clusters import PERIOD, peer, post, registration, secret, wait_condition

WP = "/apis/tmc.kcp.io/v1alpha1/namespaces/shop/workloadplacements"
DEPLOY = "/apis/apps/v1/namespaces/shop/deployments"
CM = "/api/v1/namespaces/shop/configmaps"
SR = "/apis/tmc.kcp.io/v1alpha1/namespaces/shop/syncrecords"


def eventually(fn, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
        except (AssertionError, KeyError, IndexError) as e:
            last = e
        else:
            if last:
                return last
        time.sleep(0.25)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


def deployment(name, replicas=2, labels=None, cm="conf"):
    spec = {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.9",
                            "volumeMounts": [{"name": "conf", "mountPath": "/etc/conf"}]}],
            "volumes": [{"name": "conf", "configMap": {"name": cm}}]}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop", "labels": labels or {"app": "web"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"pod": name}},
                     "template": {"metadata": {"labels": {"pod": name}}, "spec": spec}}}


def placement(name, n=None, app="web", policy="Delete"):
    spec = {"workloadSelector": {"labelSelector": {"matchLabels": {"app": app}}}, "deletionPolicy": policy}
    if n:
        spec["numberOfClusters"] = n
    return {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "WorkloadPlacement",
            "metadata": {"name": name, "namespace": "shop"}, "spec": spec}


def get(base, path):
    r = requests.get(base + path, timeout=10)
    return r.json() if r.status_code == 200 else None


def patch(base, path, body):
    r = requests.patch(base + path, data=json.dumps(body), timeout=10,
                       headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200, r.text
    return r.json()


def downstream(cluster, ns, kind, name):
    r = cluster.kubectl("get", kind, name, "-n", ns, "-o", "json", check=False)
    return json.loads(r.stdout) if r.returncode == 0 else None


def register(base, ws_prefix, clusters, names, specs=None, ready=False):
    """One registration per (cluster, name), with `specs[i]` added to its spec; waits for Ready if asked."""
    for i, (c, name) in enumerate(zip(clusters, names)):
        p = peer(c)
        post(base, ws_prefix + "/api/v1/namespaces/tmc/secrets", secret(f"{name}-token", token=p["token"]))
        post(base, ws_prefix + "/apis/tmc.kcp.io/v1alpha1/clusterregistrations",
             registration(name, p, f"{name}-token", **(specs[i] if specs else {})))
    for name in names if ready else ():
        wait_condition(base, name, "Ready", "True", timeout=30)


def capacity(cpu):
    return {"capacity": {"cpu": cpu, "memory": "64Gi", "pods": "110"}}


def test_deployments_reach_both_clusters_and_come_back_aggregated(clusters, daemon, tmp_path):
    c1, c2 = clusters
    d = daemon("--data-dir", str(tmp_path / "data"))
    base = d.base
    register(base, "", clusters, ["east", "west"])
    for name in ("east", "west"):
        wait_condition(base, name, "Ready", "True", timeout=30)
    post(base, CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "namespace": "shop"},
                    "data": {"color": "blue"}})
    post(base, "/api/v1/namespaces/shop/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"pod": "web"}, "ports": [{"port": 80}], "clusterIP": "10.96.0.99"}})
    post(base, WP, placement("web", n=2))
    started = time.monotonic()
    post(base, DEPLOY, deployment("web"))
    ns = downstream_ns("root", "shop")

    # Both clusters get the Deployment and its ConfigMap, in the mapped namespace, with tmcd's marks.
    for c in clusters:
        got = eventually(lambda: downstream(c, ns, "deployment", "web"), what="the copy on " + c.kubeconfig)
        labels = got["metadata"]["labels"]
        assert labels["tmc.kcp.io/managed-by"] == "tmcd" and labels["tmc.kcp.io/workspace"] == hash_name("root", 12)
        up = json.loads(got["metadata"]["annotations"]["tmc.kcp.io/upstream"])
        assert up["workspace"] == "root" and up["namespace"] == "shop" and up["name"] == "web" and up["uid"]
        assert got["spec"]["replicas"] == 2
        assert downstream(c, ns, "configmap", "conf")["data"] == {"color": "blue"}
        svc = eventually(lambda: downstream(c, ns, "service", "web"), what="the Service selecting the Pods")
        assert svc["spec"]["clusterIP"] != "10.96.0.99"  # allocated by each cluster, never copied
        assert svc["metadata"]["labels"]["tmc.kcp.io/managed-by"] == "tmcd"
        nso = downstream(c, "", "namespace", ns)
        assert json.loads(nso["metadata"]["annotations"]["tmc.kcp.io/namespace-locator"]) == \
            {"workspace": "root", "namespace": "shop"}
    print("copies on both clusters after", round(time.monotonic() - started, 2), "s")

    wp = get(base, WP + "/web")
    assert sorted(x["clusterName"] for x in wp["status"]["decisions"]) == ["east", "west"]
    assert wp["status"]["decisionGeneration"] == 1
    # The count is the placement controller's, recomputed when the Deployment's event reaches it:
    # independent of (and possibly later than) the syncer's copies.
    eventually(lambda: get(base, WP + "/web")["status"].get("selectedWorkloads") == 1, 30, "selectedWorkloads 1")
    assert {c["type"]: c["status"] for c in wp["status"]["conditions"]}["Scheduled"] == "True"
    explain = get(base, WP + "/web/explain")
    assert [(c["name"], c["chosen"]) for c in explain["clusters"]] == [("east", True), ("west", True)]
    r = requests.get(base + WP + "/missing/explain", timeout=10)
    assert r.status_code == 404 and r.json()["reason"] == "NotFound"
    r = requests.post(base + WP + "/web/explain", json={}, timeout=10)  # the dry run checks its body
    assert r.status_code == 422 and r.json()["reason"] == "Invalid"
    r = requests.put(base + WP + "/web/explain", json={}, timeout=10)
    assert r.status_code == 405 and r.json()["kind"] == "Status"

    # Upstream: finalizer, one state label per cluster, aggregated real status.
    up = get(base, DEPLOY + "/web")
    assert "tmc.kcp.io/syncer" in up["metadata"]["finalizers"]
    assert sum(1 for k in up["metadata"]["labels"] if k.startswith("state.tmc.kcp.io/")) == 2

    def aggregated():
        o = get(base, DEPLOY + "/web")
        st = o.get("status", {})
        return st.get("replicas") == 2 and st.get("observedGeneration") == o["metadata"]["generation"] and o
    up = eventually(aggregated, what="aggregated status")
    real = [downstream(c, ns, "deployment", "web")["status"] for c in clusters]
    assert up["status"]["replicas"] == min(s.get("replicas", 0) for s in real)
    assert up["status"].get("unavailableReplicas", 0) == max(s.get("unavailableReplicas", 0) for s in real)
    detail = json.loads(up["metadata"]["annotations"]["tmc.kcp.io/cluster-status"])
    assert set(detail) == {"east", "west"} and detail["east"]["phase"] == "Applied"
    records = get(base, SR)["items"]
    assert sorted(r["spec"]["clusterName"] for r in records) == ["east", "west"]
    assert all(r["status"]["phase"] == "Applied" and r["status"]["downstreamNamespace"] == ns for r in records)
    assert all(r["status"]["dependencies"] == ["configmaps/conf", "services/web"] for r in records)

    # Scaling upstream reaches both clusters; a ConfigMap change follows; drift on a cluster is reverted.
    patch(base, DEPLOY + "/web", {"spec": {"replicas": 3}})
    patch(base, CM + "/conf", {"data": {"color": "green"}})
    for c in clusters:
        eventually(lambda: downstream(c, ns, "deployment", "web")["spec"]["replicas"] == 3, what="scale")
        eventually(lambda: downstream(c, ns, "configmap", "conf")["data"]["color"] == "green", what="configmap")
    drift = lambda: {r["spec"]["clusterName"]: r["status"].get("driftCorrections", 0)  # noqa: E731
                     for r in get(base, SR)["items"]}
    assert drift() == {"east": 0, "west": 0}  # changes made upstream are not drift
    c1.kubectl("scale", "deployment", "web", "-n", ns, "--replicas=7")
    eventually(lambda: downstream(c1, ns, "deployment", "web")["spec"]["replicas"] == 3, what="drift reverted")
    # Each correction is counted on that copy's record, with an event on the workload; a deleted copy is
    # drift too.
    eventually(lambda: drift() == {"east": 1, "west": 0}, what="the correction counted on east only")
    c1.kubectl("delete", "deployment", "web", "-n", ns)
    eventually(lambda: downstream(c1, ns, "deployment", "web") is not None, what="deleted copy put back")
    eventually(lambda: drift() == {"east": 2, "west": 0}, what="the deletion counted as drift")
    east_record = [r for r in get(base, SR)["items"] if r["spec"]["clusterName"] == "east"][0]
    assert east_record["status"]["lastDriftCorrectionTime"]
    # An edit of a field tmcd does not set is the cluster's: seen (a new generation), left, not counted.
    c1.kubectl("patch", "deployment", "web", "-n", ns, "-p", '{"spec":{"minReadySeconds":5}}')
    gen = downstream(c1, ns, "deployment", "web")["metadata"]["generation"]
    eventually(lambda: [r for r in get(base, SR)["items"] if r["spec"]["clusterName"] == "east"][0]["status"][
        "downstreamGeneration"] == gen, what="the edit seen by tmcd")
    assert downstream(c1, ns, "deployment", "web")["spec"]["minReadySeconds"] == 5
    assert drift() == {"east": 2, "west": 0}
    events = get(base, "/api/v1/namespaces/shop/events")["items"]
    assert any(e["reason"] == "DriftCorrected" and e["involvedObject"]["name"] == "web" and "east" in e["message"]
               for e in events), [(e["reason"], e["message"]) for e in events]
    eventually(lambda: get(base, DEPLOY + "/web")["status"].get("replicas") == 3, what="status after scaling")

    # The namespace deleted by hand on a cluster, with all in it: tmcd makes it again once it is gone and
    # puts the copy back with its dependencies (an apply answered "namespace not found" or "being
    # terminated" makes tmcd look at the namespace again rather than trust what it made before).
    uid = downstream(c1, "", "namespace", ns)["metadata"]["uid"]
    c1.kubectl("delete", "namespace", ns, "--wait=false")
    eventually(lambda: (downstream(c1, "", "namespace", ns) or {"metadata": {"uid": uid}})["metadata"]["uid"] != uid
               and all(downstream(c1, ns, kind, name) for kind, name in
                       (("deployment", "web"), ("configmap", "conf"), ("service", "web"))),
               timeout=120, what="namespace made again and the copy put back")

    # Cordon only stops new placements: the copy on a cordoned cluster stays. NoExecute evicts it.
    CR = "/apis/tmc.kcp.io/v1alpha1/clusterregistrations/"
    patch(base, CR + "east", {"spec": {"unschedulable": True}})
    east = eventually(lambda: [c for c in get(base, WP + "/web/explain")["clusters"] if c["name"] == "east"
                               and c["rejected"]][0], what="cordon seen by the placement")
    assert east["chosen"] and east["kept"] and east["newPlacementsOnly"]
    time.sleep(2)  # the cluster change requeued the placement at once; an eviction would have started
    assert len(get(base, WP + "/web")["status"]["decisions"]) == 2
    assert downstream(c1, ns, "deployment", "web") is not None
    patch(base, CR + "east", {"spec": {"unschedulable": False}})
    patch(base, CR + "west", {"spec": {"taints": [{"key": "drain", "effect": "NoExecute"}]}})
    eventually(lambda: downstream(c2, ns, "deployment", "web") is None, what="NoExecute evicts the copy")
    assert [x["clusterName"] for x in get(base, WP + "/web")["status"]["decisions"]] == ["east"]
    patch(base, CR + "west", {"spec": {"taints": []}})
    eventually(lambda: downstream(c2, ns, "deployment", "web"), what="copy back after the taint is removed")

    # numberOfClusters 2 → 1: the copy leaves one cluster only; the other stays.
    patch(base, WP + "/web", {"spec": {"numberOfClusters": 1}})
    wp = eventually(lambda: (lambda o: len(o["status"]["decisions"]) == 1 and o)(get(base, WP + "/web")))
    kept = wp["status"]["decisions"][0]["clusterName"]
    dropped, kept_c = (c2, c1) if kept == "east" else (c1, c2)
    eventually(lambda: downstream(dropped, ns, "deployment", "web") is None, what="copy removed from dropped cluster")
    eventually(lambda: downstream(dropped, "", "namespace", ns) is None
               or "deletionTimestamp" in downstream(dropped, "", "namespace", ns)["metadata"], what="namespace removed")
    assert downstream(kept_c, ns, "deployment", "web") is not None
    eventually(lambda: sum(1 for k in get(base, DEPLOY + "/web")["metadata"]["labels"]
                           if k.startswith("state.tmc.kcp.io/")) == 1, what="state label dropped")
    assert len(get(base, SR)["items"]) == 1

    # Deleting upstream: the copy goes, then the finalizer, then the object.
    requests.delete(base + DEPLOY + "/web", timeout=10)
    eventually(lambda: get(base, DEPLOY + "/web") is None, what="upstream object gone after its finalizer")
    assert downstream(kept_c, ns, "deployment", "web") is None
    assert downstream(kept_c, ns, "service", "web") is None  # pruned with the last copy that used it
    assert get(base, SR)["items"] == []

    # deletionPolicy Orphan leaves the copy, without tmcd's marks.
    post(base, WP, placement("keep", app="keep", policy="Orphan"))
    post(base, DEPLOY, deployment("keep", replicas=1, labels={"app": "keep"}))
    for c in clusters:
        eventually(lambda: downstream(c, ns, "deployment", "keep"), what="orphan candidate synced")
    requests.delete(base + DEPLOY + "/keep", timeout=10)
    eventually(lambda: get(base, DEPLOY + "/keep") is None, what="upstream gone")
    for c in clusters:
        left = downstream(c, ns, "deployment", "keep")
        assert left is not None, "Orphan must leave the copy"
        assert "tmc.kcp.io/managed-by" not in left["metadata"].get("labels", {})
        assert "tmc.kcp.io/upstream" not in left["metadata"].get("annotations", {})
    text = requests.get(base + "/metrics").text
    assert 'tmcd_sync_applies_total{cluster="east",result="ok",workspace="root"}' in text
    assert 'tmcd_sync_stage_duration_seconds_count{stage="upstream_to_downstream"}' in text
    assert d.stop() == 0


def test_workspaces_map_apart_and_collisions_are_left_alone(clusters, daemon, tmp_path):
    c1, c2 = clusters
    d = daemon("--data-dir", str(tmp_path / "data"))
    base = d.base
    # Tenant "blue" registers both clusters; tenant "red" only the first. Same namespace name "shop".
    register(base, "/clusters/blue", clusters, ["one", "two"])
    register(base, "/clusters/red", [c1], ["one"])
    # Something else already owns the namespace blue/shop maps to on cluster two.
    blue_ns, red_ns = downstream_ns("blue", "shop"), downstream_ns("red", "shop")
    assert blue_ns != red_ns
    foreign = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": blue_ns, "annotations": {
        "tmc.kcp.io/namespace-locator": json.dumps({"workspace": "intruder", "namespace": "shop"})}}}
    c2.kubectl("apply", "-f", "-", input=json.dumps(foreign))
    for ws in ("blue", "red"):
        post(base, f"/clusters/{ws}/api/v1/namespaces/shop/configmaps",
             {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "namespace": "shop"},
              "data": {"tenant": ws}})
        post(base, f"/clusters/{ws}{WP}", placement("web"))
        post(base, f"/clusters/{ws}{DEPLOY}", deployment("web"))
    eventually(lambda: downstream(c1, blue_ns, "configmap", "conf"), what="blue on cluster one")
    eventually(lambda: downstream(c1, red_ns, "configmap", "conf"), what="red on cluster one")
    assert downstream(c1, blue_ns, "configmap", "conf")["data"] == {"tenant": "blue"}
    assert downstream(c1, red_ns, "configmap", "conf")["data"] == {"tenant": "red"}
    # Red's placement can only see red's cluster; nothing of red reaches cluster two.
    red_wp = eventually(lambda: get(base, f"/clusters/red{WP}/web")["status"]["decisions"])
    assert [x["clusterName"] for x in red_wp] == ["one"]
    assert downstream(c2, red_ns, "deployment", "web") is None
    # The collision is reported and the foreign namespace left untouched.
    rec = eventually(lambda: [r for r in get(base, f"/clusters/blue{SR}")["items"]
                              if r["spec"]["clusterName"] == "two" and r["status"].get("phase") == "Failed"],
                     what="collision recorded")[0]
    assert "NamespaceCollision" in rec["status"]["lastError"]
    synced = eventually(lambda: [c for c in get(base, f"/clusters/blue{WP}/web")["status"]["conditions"]
                                 if c["type"] == "Synced" and c["status"] == "False"], what="placement Synced=False")
    assert "NamespaceCollision" in synced[0]["message"]
    assert downstream(c2, blue_ns, "deployment", "web") is None
    assert c2.get_json("namespace", blue_ns)["metadata"].get("labels", {}).get("tmc.kcp.io/managed-by") is None
    # Cross-tenant reads: red's API paths show none of blue's objects.
    assert all(r["spec"]["upstream"]["workspace"] == "red" for r in get(base, f"/clusters/red{SR}")["items"])

    # A cluster that stops answering: the other one still gets changes quickly; the stuck copy backs off.
    pid = int((peer(c2)["dir"] / "apiserver.pid").read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        patch(base, f"/clusters/blue{DEPLOY}/web", {"spec": {"replicas": 4}})
        started = time.monotonic()
        eventually(lambda: downstream(c1, blue_ns, "deployment", "web")["spec"]["replicas"] == 4, 30,
                   "the healthy cluster's copy")
        print("healthy cluster updated after", round(time.monotonic() - started, 2), "s with the other stopped")
    finally:
        os.kill(pid, signal.SIGCONT)

    # Deregistering blue's cluster one removes blue's copies from it first, and only blue's: red's
    # copy on the same physical cluster stays. The registration goes once nothing of blue's is left.
    CREG = "/apis/tmc.kcp.io/v1alpha1/clusterregistrations/"
    assert "tmc.kcp.io/cluster-cleanup" in get(base, f"/clusters/blue{CREG}one")["metadata"]["finalizers"]
    requests.delete(f"{base}/clusters/blue{CREG}one", timeout=10)
    eventually(lambda: get(base, f"/clusters/blue{CREG}one") is None, 60, "blue's registration released")
    assert downstream(c1, blue_ns, "deployment", "web") is None
    assert downstream(c1, blue_ns, "configmap", "conf") is None
    assert downstream(c1, red_ns, "deployment", "web") is not None
    assert get(base, f"/clusters/red{CREG}one") is not None
    assert all(r["spec"]["clusterName"] != "one" for r in get(base, f"/clusters/blue{SR}")["items"])
    # A registration deleted while its cluster is unreachable is released once the cluster is NotReady;
    # its records are forgotten (nothing could remove the copies), not kept forever.
    os.kill(pid, signal.SIGSTOP)
    try:
        requests.delete(f"{base}/clusters/blue{CREG}two", timeout=10)
        eventually(lambda: get(base, f"/clusters/blue{CREG}two") is None, 60, "unreachable registration released")
        assert get(base, f"/clusters/blue{SR}")["items"] == []
    finally:
        os.kill(pid, signal.SIGCONT)
    # Gone before the next test: a namespace left terminating would refuse its copies.
    c2.kubectl("delete", "namespace", blue_ns, "--timeout=120s")
    assert d.stop() == 0


def test_events_say_where_a_workload_went_and_why_not(clusters, daemon, peer_bin, tmp_path):
    """Events an operator reads with kubectl: clusters turning Ready (or not), the placement's decisions
    (and why it cannot schedule), each copy synced and removed; deduplicated, in the tenant's own
    workspace only."""
    d = daemon("--data-dir", str(tmp_path / "data"))
    base, green = d.base, d.base + "/clusters/green"
    register(base, "/clusters/green", clusters, ["east", "west"])
    post(base, "/clusters/green/apis/tmc.kcp.io/v1alpha1/clusterregistrations",
         registration("dead", {**peer(clusters[0]), "server": "https://127.0.0.1:1"}, "east-token", threshold=1))

    def events(ws_base, ns, **selector):
        q = ",".join(f"{k.replace('_', '.')}={v}" for k, v in selector.items())
        r = requests.get(f"{ws_base}/api/v1/namespaces/{ns}/events", params={"fieldSelector": q}, timeout=10)
        assert r.status_code == 200, r.text
        return [(e["type"], e["reason"], e["involvedObject"]["kind"], e["involvedObject"]["name"], e["message"],
                 e["count"]) for e in r.json()["items"]]

    kinds = {"involvedObject_kind": "ClusterRegistration"}
    eventually(lambda: {(e[1], e[3]) for e in events(green, "default", **kinds)} >=
               {("ClusterReady", "east"), ("ClusterReady", "west"), ("Unreachable", "dead")}, 30, "cluster events")
    dead = [e for e in events(green, "default", **kinds) if e[3] == "dead"]
    assert dead[0][0] == "Warning" and "127.0.0.1:1" in dead[0][4] and len(dead) == 1

    post(green, CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "namespace": "shop"},
                     "data": {"color": "green"}})
    post(green, WP, placement("web", n=2))
    post(green, DEPLOY, deployment("web"))
    synced = eventually(lambda: (lambda s: len(s) == 2 and s)(
        [e for e in events(green, "shop", involvedObject_name="web", reason="Synced") if e[2] == "Deployment"]),
        60, "a Synced event per cluster")
    assert sorted(e[4].split(":")[0] for e in synced) == ["cluster east", "cluster west"]
    assert all(e[0] == "Normal" and "applied at upstream generation 1" in e[4] for e in synced)
    scheduled = events(green, "shop", involvedObject_kind="WorkloadPlacement", reason="Scheduled")
    assert len(scheduled) == 1 and "chose east, west" in scheduled[0][4]

    # kubectl describe finds them by involvedObject (name, namespace, kind, uid).
    cfg = d.kubeconfig(tmp_path / "green.kubeconfig", workspace="green")
    out = subprocess.run([os.path.join(peer_bin, "kubectl"), "--kubeconfig", str(cfg), "describe", "deployment",
                          "web", "-n", "shop"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Synced" in out.stdout and "cluster east: applied" in out.stdout, out.stdout

    # Why not: a placement no cluster matches says so once, as a Warning, however often it is retried.
    nowhere = placement("nowhere", app="none")
    nowhere["spec"]["clusterSelector"] = {"locations": ["mars"]}
    post(green, WP, nowhere)
    warn = eventually(lambda: events(green, "shop", involvedObject_name="nowhere", type="Warning"), 30,
                      "the unschedulable placement's event")
    assert warn[0][1] == "NoFeasibleClusters" and warn[0][5] == 1, warn

    # A copy leaving a cluster is told on the workload.
    patch(green, WP + "/web", {"spec": {"numberOfClusters": 1}})
    removed = eventually(lambda: events(green, "shop", involvedObject_name="web", reason="CopyRemoved"), 60,
                         "the CopyRemoved event")
    assert removed[0][0] == "Normal" and "no placement chooses the cluster" in removed[0][4]

    # Only in green: the root workspace and another tenant see none of it.
    for other in (base, base + "/clusters/red"):
        r = requests.get(other + "/api/v1/events", timeout=10)
        assert r.status_code == 200 and r.json()["items"] == [], r.text
    text = requests.get(base + "/metrics").text
    assert 'tmcd_events_written_total{operation="create"}' in text
    assert 'tmcd_events_dropped_total{reason="write_failed"} 0' in text
    assert d.stop() == 0


def test_kill_9_in_the_middle_of_200_deployments_converges(clusters, daemon, tmp_path):
    """tmcd killed while syncing 200 Deployments, and again while deleting half of them: after each
    restart everything converges; no downstream object is duplicated or left without its upstream."""
    n = 200
    data = str(tmp_path / "data")
    d = daemon("--data-dir", data)
    base = d.base
    register(base, "", clusters, ["east", "west"])
    for name in ("east", "west"):
        wait_condition(base, name, "Ready", "True", timeout=30)
    post(base, WP, placement("bulk", app="bulk"))
    ns = downstream_ns("root", "shop")
    session = requests.Session()
    for i in range(n):
        body = deployment(f"bulk-{i:03d}", replicas=0, labels={"app": "bulk"})
        body["spec"]["template"]["spec"].pop("volumes")
        body["spec"]["template"]["spec"]["containers"][0].pop("volumeMounts")
        r = session.post(base + DEPLOY, json=body, timeout=10)
        assert r.status_code == 201, r.text

    def records():
        return get(base, SR)["items"]
    eventually(lambda: len(records()) >= 40, 60, "some copies under way")
    d.kill()
    mid = len(json.loads(clusters[0].kubectl("get", "deployments", "-n", ns, "-o", "json").stdout)["items"])
    print("killed with", mid, "copies on the first cluster")
    assert mid < n, "the kill should land in the middle of the sync"

    def converged(want):
        # Raises with what differs, so that a timeout says which copies or records are missing.
        for c in clusters:
            items = json.loads(c.kubectl("get", "deployments", "-n", ns, "-l", "tmc.kcp.io/managed-by=tmcd",
                                         "-o", "json").stdout)["items"]
            names = set(i["metadata"]["name"] for i in items)
            missing, extra = sorted(set(want) - names), sorted(names - set(want))
            assert not missing and not extra, f"{c.kubeconfig}: missing {missing[:5]} ({len(missing)}), " \
                                              f"extra {extra[:5]} ({len(extra)})"
        got = len(records())
        assert got == 2 * len(want), f"{got} SyncRecords, want {2 * len(want)}"
        return True

    def converge(want, what):
        try:
            eventually(lambda: converged(want), 180, what)
        except AssertionError:
            print("".join(line + "\n" for line in d.log().splitlines() if " warn" in line or " error" in line)[-6000:])
            raise

    d = daemon("--data-dir", data)
    base = d.base
    want = sorted(f"bulk-{i:03d}" for i in range(n))
    converge(want, "all 200 on both clusters after the restart")
    ups = get(base, DEPLOY)["items"]
    assert all("tmc.kcp.io/syncer" in u["metadata"].get("finalizers", []) for u in ups)
    assert all(u.get("status", {}).get("observedGeneration") == u["metadata"]["generation"] for u in ups) or \
        eventually(lambda: all(u.get("status", {}).get("observedGeneration") == u["metadata"]["generation"]
                               for u in get(base, DEPLOY)["items"]), 60, "statuses")

    # Delete half, kill in the middle of the deletions, restart: exactly the other half remains.
    for i in range(0, n, 2):
        requests.delete(f"{base}{DEPLOY}/bulk-{i:03d}", timeout=10)
    time.sleep(0.5)
    d.kill()
    d = daemon("--data-dir", data)
    base = d.base
    want = sorted(f"bulk-{i:03d}" for i in range(1, n, 2))
    converge(want, "the odd half left after the restart")
    eventually(lambda: sorted(u["metadata"]["name"] for u in get(base, DEPLOY)["items"]) == want, 60,
               "deleted upstream objects released by their finalizer")
    for c in clusters:  # every tmcd-marked object of this tmcd downstream has its upstream
        for item in json.loads(c.kubectl("get", "deployments", "-n", ns, "-l", "tmc.kcp.io/managed-by=tmcd",
                                         "-o", "json").stdout)["items"]:
            up = json.loads(item["metadata"]["annotations"]["tmc.kcp.io/upstream"])
            assert get(base, f"/clusters/{up['workspace']}/apis/apps/v1/namespaces/{up['namespace']}/deployments/"
                             f"{up['name']}") is not None, item["metadata"]["name"]

    # A clean restart of a converged tmcd writes nothing to the clusters: each copy is found current
    # (hash, generation, marks) once its cluster's informer has listed, not re-applied because the
    # fresh informer did not show it yet (docs/sync.md, "After a restart").
    assert d.stop() == 0
    d = daemon("--data-dir", data)
    base = d.base

    def total(text, name, **labels):
        want_labels = [f'{k}="{v}"' for k, v in labels.items()]
        return sum(float(ln.rsplit(" ", 1)[1]) for ln in text.splitlines()
                   if ln.startswith(name + "{") and all(w in ln for w in want_labels))

    def settled():
        text = requests.get(base + "/metrics", timeout=10).text
        return (total(text, "tmcd_workqueue_adds_total", controller="sync") >= len(want) and
                total(text, "tmcd_workqueue_depth", controller="sync") == 0 and
                total(text, "tmcd_workqueue_longest_running_processor_seconds", controller="sync") == 0 and text)
    text = eventually(settled, 60, "every workload reconciled after the restart")
    assert total(text, "tmcd_sync_applies_total") == 0, [ln for ln in text.splitlines() if "applies_total{" in ln]
    assert d.stop() == 0
