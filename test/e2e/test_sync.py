"""The workload path in embedded mode against two real kube-apiservers with kube-controller-manager:
placement decisions, Deployment + ConfigMap sync into the mapped namespace with tmcd's marks,
aggregated status, scaling, drift correction, workspace isolation of namespaces, namespace
collisions, shrinking numberOfClusters, deletion with the finalizer, deletionPolicy Orphan, an
unreachable cluster that does not hold up the other one, and with TMCAdvancedPlacement: capacity ranking,
spread, Divided replicas, overrides and failover (make-before-break within the workspace's budget)."""
import json
import os
import signal
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
    c1.kubectl("scale", "deployment", "web", "-n", ns, "--replicas=7")
    eventually(lambda: downstream(c1, ns, "deployment", "web")["spec"]["replicas"] == 3, what="drift reverted")
    eventually(lambda: get(base, DEPLOY + "/web")["status"].get("replicas") == 3, what="status after scaling")

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
    c2.kubectl("delete", "namespace", blue_ns, "--wait=false")
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
    assert d.stop() == 0


def test_advanced_placement_ranks_real_clusters_by_their_capacity(clusters, daemon, tmp_path):
    """With TMCAdvancedPlacement, strategies rank the clusters by what their inventory reports: two real
    clusters declaring 4 and 32 cores, the large one running Pods that request 12 of them. LeastLoaded
    takes the freer small one, Binpack the fuller large one, and the workload's copy lands only where
    its placement decided. The explain endpoint shows every score."""
    load = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "busy", "namespace": "default"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "busy"}},
                     "template": {"metadata": {"labels": {"app": "busy"}},
                                  "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9",
                                                           "resources": {"requests": {"cpu": "6"}}}]}}}}
    clusters[1].kubectl("apply", "-f", "-", input=json.dumps(load))
    try:  # the Pods exist before the first inventory (read every 60 s) is taken
        eventually(lambda: len(clusters[1].get_json("pods", "-n", "default", "-l", "app=busy")["items"]) == 2, 60,
                   "the busy Pods")
        d = daemon("--data-dir", str(tmp_path / "data"), "--feature-gates=TMCAdvancedPlacement=true")
        base = d.base
        register(base, "", clusters, ["small", "large"], [capacity("4"), capacity("32")], ready=True)
        eventually(lambda: get(base, "/apis/tmc.kcp.io/v1alpha1/clusterregistrations/large")["status"]
                   ["available"]["cpu"] == "20", 30, "the large cluster's Pods counted")
        least = placement("least", n=1, app="least")
        least["spec"]["strategy"] = "LeastLoaded"
        binpack = placement("binpack", n=1, app="binpack")
        binpack["spec"]["strategy"] = "Binpack"
        for p in (least, binpack):
            post(base, WP, p)

        def decided(name):
            return [x["clusterName"] for x in get(base, f"{WP}/{name}").get("status", {}).get("decisions", [])]
        assert eventually(lambda: decided("least"), 30, "least decided") == ["small"]
        assert eventually(lambda: decided("binpack"), 30, "binpack decided") == ["large"]
        explain = get(base, WP + "/least/explain")
        assert explain["strategy"] == "LeastLoaded"
        assert explain["weights"] == {"Balance": 1, "Capacity": 3, "Steady": 2}
        scores = {c["name"]: c["scores"]["Capacity"]["score"] for c in explain["clusters"]}
        assert scores == {"small": 100, "large": 81}, explain  # (100 + 62.5) / 2 for cpu and memory
        body = deployment("ranked", replicas=0, labels={"app": "least"})
        body["spec"]["template"]["spec"].pop("volumes")
        body["spec"]["template"]["spec"]["containers"][0].pop("volumeMounts")
        post(base, DEPLOY, body)
        ns = downstream_ns("root", "shop")
        eventually(lambda: downstream(clusters[0], ns, "deployment", "ranked") is not None, 30, "copy on small")
        assert downstream(clusters[1], ns, "deployment", "ranked") is None
    finally:
        clusters[1].kubectl("delete", "deployment", "busy", "-n", "default", "--wait=false", check=False)
    assert d.stop() == 0


def test_a_spread_over_two_zones_holds_on_real_clusters(clusters, daemon, tmp_path):
    """With TMCAdvancedPlacement, spreadConstraints choose among what the strategy ranks: LocationAware
    prefers the two registrations in east (both on the first real cluster, zone z1) but a zone spread with
    maxSkew 1 takes one of them and the west cluster (zone z2), and the copies land there. A minGroups no
    zone count can meet is reported, and the decisions already made stay."""
    d = daemon("--data-dir", str(tmp_path / "data"), "--feature-gates=TMCAdvancedPlacement=true")
    base = d.base
    register(base, "", [clusters[0], clusters[0], clusters[1]], ["east-1", "east-2", "west-1"],
             [{"location": "east", "zone": "z1"}, {"location": "east", "zone": "z1"},
              {"location": "west", "zone": "z2"}], ready=True)
    wp = placement("zones", n=2, app="zoned")
    wp["spec"].update(strategy="LocationAware", clusterSelector={"locations": ["east", "west"]},
                      spreadConstraints=[{"topologyKey": "zone", "maxSkew": 1}])
    dry = requests.post(base + WP + "/zones/explain", json=wp, timeout=10).json()  # evaluated, not stored
    assert dry["dryRun"] and not dry["stored"] and dry["scheduled"]["status"] == "True", dry
    assert {c["name"] for c in dry["clusters"] if c["chosen"]} & {"west-1"}, dry
    assert get(base, f"{WP}/zones") is None
    post(base, WP, wp)

    def decided():
        return sorted(x["clusterName"] for x in get(base, f"{WP}/zones").get("status", {}).get("decisions", []))
    chosen = eventually(lambda: len(decided()) == 2 and decided(), 30, "two clusters decided")
    assert "west-1" in chosen and len({"east-1", "east-2"} & set(chosen)) == 1, chosen
    explain = get(base, WP + "/zones/explain")
    assert explain["spreadConstraints"] == [{"topologyKey": "zone", "maxSkew": 1, "minGroups": 0, "skew": 0,
                                             "satisfied": True, "groups": {"z1": {"chosen": 1, "feasible": 2},
                                                                           "z2": {"chosen": 1, "feasible": 1}}}]
    body = deployment("zoned", replicas=0, labels={"app": "zoned"})
    body["spec"]["template"]["spec"].pop("volumes")
    body["spec"]["template"]["spec"]["containers"][0].pop("volumeMounts")
    post(base, DEPLOY, body)
    ns = downstream_ns("root", "shop")
    for c in clusters:
        eventually(lambda: downstream(c, ns, "deployment", "zoned") is not None, 30, "a copy in each zone")

    three = [{"topologyKey": "zone", "maxSkew": 1, "minGroups": 3}]  # every cluster wanted, in three zones
    patch(base, f"{WP}/zones", {"spec": {"numberOfClusters": None, "spreadConstraints": three}})
    cond = eventually(lambda: next((c for c in get(base, f"{WP}/zones")["status"]["conditions"]
                                    if c["type"] == "Scheduled" and c["reason"] == "SpreadUnsatisfiable"), None),
                      30, "the unsatisfiable spread reported")
    assert cond["status"] == "False"
    assert "spreadConstraints zone: minGroups 3 cannot be met: 2 group(s) have a feasible cluster" in cond["message"]
    assert decided() == chosen  # nothing moved
    assert d.stop() == 0


def test_divided_replicas_follow_free_capacity_and_sum_upstream(clusters, daemon, tmp_path):
    """With TMCAdvancedPlacement, replicaScheduling Divided/Dynamic weighs each chosen cluster by its free cpu
    when it is chosen (4 and 32 declared cores), splits each Deployment's replicas by those weights on the real
    clusters, re-divides when the Deployment is scaled, and sums the copies' replica counts upstream."""
    d = daemon("--data-dir", str(tmp_path / "data"), "--feature-gates=TMCAdvancedPlacement=true")
    base = d.base
    register(base, "", clusters, ["small", "large"], [capacity("4"), capacity("32")], ready=True)
    wp = placement("split", app="split")
    wp["spec"]["replicaScheduling"] = {"type": "Divided", "weighting": "Dynamic"}
    post(base, WP, wp)

    def weights():
        ds = (get(base, f"{WP}/split") or {}).get("status", {}).get("decisions", [])
        return {x["clusterName"]: x.get("weight") for x in ds}
    w = eventually(lambda: len(weights()) == 2 and weights(), 30, "weights decided")
    assert w["large"] > w["small"] > 0, w  # free millicores (other tests' Pods may request some)

    def expected(total):  # largest remainders, ties by name (docs/placement.md#divided-replicas)
        shares = {k: total * v // sum(w.values()) for k, v in w.items()}
        rest = sorted(w, key=lambda k: (-(total * w[k] % sum(w.values())), k))
        for k in rest[:total - sum(shares.values())]:
            shares[k] += 1
        return shares
    body = deployment("split", replicas=10, labels={"app": "split"})
    body["spec"]["template"]["spec"].pop("volumes")
    body["spec"]["template"]["spec"]["containers"][0].pop("volumeMounts")
    post(base, DEPLOY, body)
    ns = downstream_ns("root", "shop")

    def copies():
        out = {}
        for c, name in zip(clusters, ("small", "large")):
            obj = downstream(c, ns, "deployment", "split")
            out[name] = obj["spec"]["replicas"] if obj else None
        return out
    want = expected(10)
    assert want["large"] > want["small"]
    eventually(lambda: copies() == want, 60, f"the copies split {want}")
    patch(base, DEPLOY + "/split", {"spec": {"replicas": 20}})
    want = expected(20)
    eventually(lambda: copies() == want, 60, f"the copies re-divided {want}")
    eventually(lambda: (get(base, DEPLOY + "/split") or {}).get("status", {}).get("replicas") == 20, 90,
               "the copies' replicas summed upstream")
    assert d.stop() == 0


def test_overrides_apply_per_location_on_real_clusters(clusters, daemon, tmp_path):
    """With TMCAdvancedPlacement, an image-registry override whose clusterSelector names one location rewrites
    the images of the copy there only, the other location's entry sets its replicas, a label, an env variable
    and an argument and runs a JSON patch, the SyncRecords say what was applied, explain lists them, and a
    patch that would take the copy from tmcd fails that copy only."""
    d = daemon("--data-dir", str(tmp_path / "data"), "--feature-gates=TMCAdvancedPlacement=true")
    base = d.base
    register(base, "", clusters, ["east", "west"], [{"location": "east"}, {"location": "west"}], ready=True)
    wp = placement("mirrored", app="mirrored")
    wp["spec"]["overrides"] = [
        {"clusterSelector": {"locations": ["west"]}, "image": {"registry": "mirror.example:5000"}},
        {"clusterSelector": {"locations": ["east"]}, "replicas": 1, "labels": {"set": {"tier": "edge"}},
         "containers": [{"env": [{"name": "REGION", "value": "east"}], "appendArgs": ["--edge"]}],
         "jsonPatch": [{"op": "add", "path": "/metadata/labels/edge", "value": "yes"}]}]
    post(base, WP, wp)
    body = deployment("mirrored", replicas=0, labels={"app": "mirrored"})
    body["spec"]["template"]["spec"].pop("volumes")
    body["spec"]["template"]["spec"]["containers"][0].pop("volumeMounts")
    post(base, DEPLOY, body)
    ns = downstream_ns("root", "shop")
    east = eventually(lambda: downstream(clusters[0], ns, "deployment", "mirrored"), 30, "the east copy")
    west = eventually(lambda: downstream(clusters[1], ns, "deployment", "mirrored"), 30, "the west copy")
    assert east["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.k8s.io/pause:3.9"
    assert east["metadata"]["labels"]["edge"] == "yes" and east["metadata"]["labels"]["tier"] == "edge"
    assert east["spec"]["replicas"] == 1
    east_ctr = east["spec"]["template"]["spec"]["containers"][0]
    assert east_ctr["env"] == [{"name": "REGION", "value": "east"}] and east_ctr["args"] == ["--edge"], east_ctr
    west_ctr = west["spec"]["template"]["spec"]["containers"][0]
    assert west_ctr["image"] == "mirror.example:5000/pause:3.9"
    assert "env" not in west_ctr and "args" not in west_ctr and west["spec"]["replicas"] == 0
    assert "edge" not in west["metadata"].get("labels", {}) and "tier" not in west["metadata"].get("labels", {})
    records = {r["spec"]["clusterName"]: r["status"].get("overrides")
               for r in get(base, "/apis/tmc.kcp.io/v1alpha1/namespaces/shop/syncrecords")["items"]
               if r["spec"]["upstream"]["name"] == "mirrored"}
    assert records == {"east": ["overrides[1]: replicas 1, labels, every container, jsonPatch, 1 operation"],
                       "west": ["overrides[0]: image registry mirror.example:5000"]}, records
    explain = {c["name"]: c.get("overrides") for c in get(base, f"{WP}/mirrored/explain")["clusters"]}
    assert explain == {"east": [1], "west": [0]}, explain

    bad = [{"op": "replace", "path": "/metadata/name", "value": "stolen"}]
    patch(base, f"{WP}/mirrored", {"spec": {"overrides": [wp["spec"]["overrides"][0],
                                                          {**wp["spec"]["overrides"][1], "jsonPatch": bad}]}})

    def east_record():
        return next(r for r in get(base, "/apis/tmc.kcp.io/v1alpha1/namespaces/shop/syncrecords")["items"]
                    if r["spec"]["upstream"]["name"] == "mirrored" and r["spec"]["clusterName"] == "east")
    failed = eventually(lambda: east_record()["status"]["phase"] == "Failed" and east_record(), 30, "east fails")
    assert "overrides[1]: replicas 1, labels, every container, jsonPatch, 1 operation: changes metadata.name" in \
        failed["status"]["lastError"], failed["status"]
    assert downstream(clusters[0], ns, "deployment", "stolen") is None
    assert downstream(clusters[1], ns, "deployment", "mirrored") is not None
    assert d.stop() == 0


def condition(obj, ctype):
    return next((c for c in obj["status"].get("conditions", []) if c["type"] == ctype), None)


def records(base, name):
    return {r["spec"]["clusterName"]: r for r in get(base, SR)["items"] if r["spec"]["upstream"]["name"] == name}


def ready(record):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in record["status"].get("conditions", []))


def watch_failover(base, names, timeout=120):
    """Polls the placements on cluster two after it stopped answering, until one has moved (its eviction came
    and went) and the other has waited for the budget; returns what was seen when, per placement."""
    seen = {n: {"eviction": None, "ended": None, "new_ready": None, "old_left": None, "held": None} for n in names}
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        t = round(time.monotonic() - started, 2)
        for n in names:
            wp, recs, s = get(base, f"{WP}/{n}"), records(base, n), seen[n]
            evictions = wp["status"].get("evictions", [])
            if evictions and s["eviction"] is None:
                s["eviction"] = (t, evictions, [d["clusterName"] for d in wp["status"]["decisions"]])
            if s["eviction"] and not evictions and s["ended"] is None:
                s["ended"] = t
            if "one" in recs and ready(recs["one"]) and s["new_ready"] is None:
                s["new_ready"] = t
            old = recs.get("two")
            if (old is None or old["status"].get("phase") != "Applied") and s["old_left"] is None:
                s["old_left"] = (t, old and old["status"].get("phase"))
            c = condition(wp, "Evicting")
            if c and c["reason"] == "FailoverRateLimited" and s["held"] is None:
                s["held"] = (t, c["message"], [d["clusterName"] for d in wp["status"]["decisions"]])
        if any(s["ended"] for s in seen.values()) and any(s["held"] for s in seen.values()):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"no move and hold within {timeout}s: {seen}")


def test_a_stopped_apiserver_moves_one_copy_make_before_break_and_holds_the_next(clusters, daemon, tmp_path):
    """Failover: stopping cluster two's apiserver turns it NotReady; of two placements on it, one moves its copy
    to cluster one make-before-break (the old copy's SyncRecord stays Applied, untouched, until the new copy is
    Ready; only then is the old copy removed) and the other waits for the workspace's failover budget (one move
    per ten minutes here), staying where it is with Evicting=True, FailoverRateLimited."""
    d = daemon("--data-dir", str(tmp_path / "data"), "--feature-gates=TMCAdvancedPlacement=true",
               "--failover-max-moves=1", "--failover-interval=10m", "--failover-grace-period=5m")
    base = d.base
    register(base, "", [clusters[1]], ["two"], ready=True)  # both placements land on two
    ns = downstream_ns("root", "shop")
    for name in ("first", "second"):
        wp = placement(name, n=1, app=name)
        wp["spec"]["strategy"] = "RoundRobin"  # sticky: cluster one joining later moves nothing
        post(base, WP, wp)
        body = deployment(name, replicas=1, labels={"app": name})
        body["spec"]["template"]["spec"].pop("volumes")
        body["spec"]["template"]["spec"]["containers"][0].pop("volumeMounts")
        post(base, DEPLOY, body)
    for name in ("first", "second"):
        eventually(lambda: ready(records(base, name)["two"]), 90, f"{name} Ready on two")
    register(base, "", [clusters[0]], ["one"], ready=True)

    pid = int((peer(clusters[1])["dir"] / "apiserver.pid").read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        # Whichever placement is reconciled first takes the budget's one move; the other waits.
        seen = watch_failover(base, ["first", "second"])
        print("failover timeline (s):", seen)
        moved = next(n for n, s in seen.items() if s["ended"])
        held = next(n for n, s in seen.items() if s["held"])
        assert moved != held and seen[moved]["held"] is None and seen[held]["eviction"] is None, seen
        t, evictions, decided = seen[moved]["eviction"]
        assert [e["clusterName"] for e in evictions] == ["two"] and evictions[0]["reason"] == "ClusterNotReady"
        assert decided == ["one"]
        # Make-before-break: the old copy's record stayed Applied until the new copy was Ready.
        assert seen[moved]["new_ready"] is not None
        assert seen[moved]["old_left"] is None or seen[moved]["old_left"][0] >= seen[moved]["new_ready"], seen
        assert downstream(clusters[0], ns, "deployment", moved) is not None
        assert "1 moves per 10m" in seen[held]["held"][1] and seen[held]["held"][2] == ["two"], seen[held]
        waiting = get(base, f"{WP}/{held}")
        assert [x["clusterName"] for x in waiting["status"]["decisions"]] == ["two"]
        assert not waiting["status"].get("evictions")
        assert condition(waiting, "Evicting")["reason"] == "FailoverRateLimited"
    finally:
        os.kill(pid, signal.SIGCONT)
    # Cluster two answers again: the moved placement's old copy is removed there; the held one stays.
    eventually(lambda: downstream(clusters[1], ns, "deployment", moved) is None, 90, "old copy removed")
    assert "two" not in records(base, moved)
    eventually(lambda: condition(get(base, f"{WP}/{held}"), "Evicting")["status"] == "False", 60, "held settles")
    assert [x["clusterName"] for x in get(base, f"{WP}/{held}")["status"]["decisions"]] == ["two"]
    assert downstream(clusters[1], ns, "deployment", held) is not None
    metrics = requests.get(base + "/metrics", timeout=10).text
    assert 'tmcd_placement_evictions_total{reason="ClusterNotReady",result="evicted"} 1' in metrics, metrics
    assert d.stop() == 0


def test_capacity_reserves_placed_copies_and_reports_the_shortfall(clusters, daemon, tmp_path):
    """Capacity with TMCAdvancedPlacement: two real clusters declaring 4 cores each; three Deployments whose
    copies request 3 cores each (3 replicas × 1 cpu). A placement pinned to cap-a decides; a Binpack one
    (preferring the fuller cap-a) decided right after, before any inventory counts the first copy's Pods, goes
    to cap-b, because the first copy is reserved on cap-a. The third fits nowhere and says by how much
    (InsufficientCapacity, the per-cluster shortfall in the condition and in explain); deleting the first
    placement frees cap-a and the third one takes it."""
    d = daemon("--data-dir", str(tmp_path / "data"), "--feature-gates=TMCAdvancedPlacement=true",
               "--clusters-inventory-interval=10s")
    base = d.base
    register(base, "", clusters, ["cap-a", "cap-b"], [capacity("4"), capacity("4")], ready=True)
    for name in ("cap1", "cap2", "cap3"):
        body = deployment(name, replicas=3, labels={"app": name})
        tmpl = body["spec"]["template"]["spec"]
        tmpl.pop("volumes")
        tmpl["containers"][0].pop("volumeMounts")
        tmpl["containers"][0]["resources"] = {"requests": {"cpu": "1", "memory": "64Mi"}}
        post(base, DEPLOY, body)

    def decided(name):
        return [x["clusterName"] for x in (get(base, f"{WP}/{name}") or {}).get("status", {}).get("decisions", [])]

    def binpack(name):
        wp = placement(name, n=1, app=name)
        wp["spec"]["strategy"] = "Binpack"
        return wp
    pinned = placement("cap1", n=1, app="cap1")
    pinned["spec"]["clusterSelector"] = {"clusterNames": ["cap-a"]}
    post(base, WP, pinned)
    assert eventually(lambda: decided("cap1"), 30, "cap1 decided") == ["cap-a"]
    post(base, WP, binpack("cap2"))
    assert eventually(lambda: decided("cap2"), 30, "cap2 decided") == ["cap-b"]
    explain = get(base, WP + "/cap2/explain")
    a = next(c for c in explain["clusters"] if c["name"] == "cap-a")
    assert a["capacity"]["reservedByOthers"] == {"cpu": "3", "memory": "201326592"}, a

    post(base, WP, binpack("cap3"))
    cond = eventually(lambda: next((c for c in get(base, f"{WP}/cap3")["status"]["conditions"]
                                    if c["type"] == "Scheduled" and c["reason"] == "InsufficientCapacity"), None),
                      30, "cap3 unschedulable for capacity")
    assert cond["status"] == "False" and decided("cap3") == []
    for cluster in ("cap-a", "cap-b"):
        assert f"{cluster} insufficient capacity: short of cpu" in cond["message"], cond
    assert "needs cpu 3, memory 192Mi" in cond["message"], cond
    explain = get(base, WP + "/cap3/explain")
    assert explain["needs"] == {"cpu": "3", "memory": "201326592"}, explain
    for c in explain["clusters"]:
        assert c["capacity"]["shortfall"]["cpu"] not in ("", "0") and c["capacity"]["fits"] == 0, c
    ns = downstream_ns("root", "shop")
    eventually(lambda: downstream(clusters[0], ns, "deployment", "cap1") is not None, 60, "cap1 copied")

    requests.delete(base + f"{WP}/cap1", timeout=10)
    eventually(lambda: decided("cap3") == ["cap-a"], 90, "cap3 placed on cap-a, freed by cap1")
    eventually(lambda: downstream(clusters[0], ns, "deployment", "cap3") is not None, 60, "cap3 copied")
    assert downstream(clusters[0], ns, "deployment", "cap1") is None
    assert d.stop() == 0
