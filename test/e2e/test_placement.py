"""Advanced placement (feature gate TMCAdvancedPlacement) on three real kube-apiservers whose kwok Nodes
declare different capacities (16, 32 and 48 cores: one, two and three Nodes): capacity ranking, Divided
replicas in proportion to free capacity, a spread over two zones, per-location overrides, failover
make-before-break within the workspace's budget, and reservations with InsufficientCapacity."""
import json
import os
import signal
import time

import pytest
import requests

from checker import downstream_ns
from conftest import started_clusters
from test_clusters import peer
from test_sync import DEPLOY, SR, WP, capacity, deployment, downstream, eventually, get, patch, placement, post, \
    register

NODE_CPUS = 16  # per kwok Node (test/peers/up.sh)


@pytest.fixture(scope="module")
def clusters(peer_bin, tmp_path_factory):
    """Three clusters; cluster i (from 1) has i kwok Nodes, so 16 × i cores allocatable."""
    with started_clusters(peer_bin, tmp_path_factory, 3) as cs:
        for i, c in enumerate(cs):
            for j in range(i):
                node = {"apiVersion": "v1", "kind": "Node",
                        "metadata": {"name": f"kwok-{i + 1}-extra-{j}", "annotations": {"kwok.x-k8s.io/node": "fake"},
                                     "labels": {"kubernetes.io/hostname": f"kwok-{i + 1}-extra-{j}",
                                                "tmcd.test/kwok": "true"}},
                        "status": {"allocatable": {"cpu": str(NODE_CPUS), "memory": "64Gi", "pods": "110"},
                                   "capacity": {"cpu": str(NODE_CPUS), "memory": "64Gi", "pods": "110"}}}
                c.kubectl("apply", "-f", "-", input=json.dumps(node))
                c.kubectl("wait", "--for=condition=Ready", f"node/{node['metadata']['name']}", "--timeout=120s")
        yield cs


def test_divided_replicas_follow_free_capacity_and_sum_upstream(clusters, daemon, tmp_path):
    """With TMCAdvancedPlacement, replicaScheduling Divided/Dynamic weighs each chosen cluster by its free cpu
    when it is chosen — what the kwok Nodes of the three real clusters offer (16, 32 and 48 cores), as the
    cluster controller's inventory reads it — splits 10 replicas in that proportion on the real clusters,
    re-divides when the Deployment is scaled, sums the copies' replica counts upstream, and caps a share at
    maxReplicasPerCluster, the other clusters taking the rest."""
    d = daemon("--data-dir", str(tmp_path / "data"), "--feature-gates=TMCAdvancedPlacement=true")
    base = d.base
    names = ["small", "medium", "large"]
    register(base, "", clusters, names, ready=True)
    for name, c in zip(names, clusters):  # the inventory counts every kwok Node
        nodes = len(c.get_json("nodes")["items"])
        eventually(lambda: get(base, f"/apis/tmc.kcp.io/v1alpha1/clusterregistrations/{name}")["status"]
                   ["allocatable"]["cpu"] == str(NODE_CPUS * nodes), 30, f"{name}'s Nodes counted")
    wp = placement("split", app="split")
    wp["spec"]["replicaScheduling"] = {"type": "Divided", "weighting": "Dynamic"}
    post(base, WP, wp)

    def weights():
        ds = (get(base, f"{WP}/split") or {}).get("status", {}).get("decisions", [])
        return {x["clusterName"]: x.get("weight") for x in ds}
    w = eventually(lambda: len(weights()) == 3 and weights(), 30, "weights decided")
    assert w["large"] > w["medium"] > w["small"] > 0, w  # free millicores (other tests' Pods may request some)

    def apportion(total, ws):  # largest remainders, ties by name (docs/placement.md#divided-replicas)
        shares = {k: total * v // sum(ws.values()) for k, v in ws.items()}
        rest = sorted(ws, key=lambda k: (-(total * ws[k] % sum(ws.values())), k))
        for k in rest[:total - sum(shares.values())]:
            shares[k] += 1
        return shares

    def expected(total, cap=None):  # a share over the ceiling is capped, the others divide the rest
        out, open_ = {}, dict(w)
        while open_:
            shares = apportion(total, open_)
            over = [k for k, v in shares.items() if cap is not None and v > cap]
            if not over:
                return out | shares
            for k in over:
                out[k], total = cap, total - cap
                del open_[k]
        return out
    body = deployment("split", replicas=10, labels={"app": "split"})
    body["spec"]["template"]["spec"].pop("volumes")
    body["spec"]["template"]["spec"]["containers"][0].pop("volumeMounts")
    post(base, DEPLOY, body)
    ns = downstream_ns("root", "shop")

    def copies():
        out = {}
        for c, name in zip(clusters, names):
            obj = downstream(c, ns, "deployment", "split")
            out[name] = obj["spec"]["replicas"] if obj else None
        return out
    want = expected(10)
    assert want["large"] > want["medium"] > want["small"] > 0, want
    eventually(lambda: copies() == want, 60, f"the copies split {want}")
    patch(base, DEPLOY + "/split", {"spec": {"replicas": 20}})
    want = expected(20)
    eventually(lambda: copies() == want, 60, f"the copies re-divided {want}")
    eventually(lambda: (get(base, DEPLOY + "/split") or {}).get("status", {}).get("replicas") == 20, 90,
               "the copies' replicas summed upstream")

    # A ceiling per cluster: the large cluster's share is capped, the others take the rest.
    patch(base, f"{WP}/split", {"spec": {"replicaScheduling": {"maxReplicasPerCluster": 8}}})
    eventually(lambda: (get(base, f"{WP}/split")["status"].get("observedGeneration") ==
                        get(base, f"{WP}/split")["metadata"]["generation"]), 30, "the ceiling observed")
    w = weights()  # a spec change weighs the clusters again
    want = expected(20, cap=8)
    assert want["large"] == 8 and sum(want.values()) == 20, want
    eventually(lambda: copies() == want, 60, f"the copies under the ceiling {want}")
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
    prefers the two real clusters in east (zone z1) but a zone spread with maxSkew 1 takes one of them and
    the west cluster (zone z2), and the copies land there and only there. A minGroups no zone count can meet
    is reported, and the decisions already made stay."""
    d = daemon("--data-dir", str(tmp_path / "data"), "--feature-gates=TMCAdvancedPlacement=true")
    base = d.base
    register(base, "", clusters, ["east-1", "east-2", "west-1"],
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
    by_name = dict(zip(["east-1", "east-2", "west-1"], clusters))
    for name in chosen:
        eventually(lambda: downstream(by_name[name], ns, "deployment", "zoned") is not None, 30, f"a copy on {name}")
    (left,) = {"east-1", "east-2"} - set(chosen)
    assert downstream(by_name[left], ns, "deployment", "zoned") is None

    three = [{"topologyKey": "zone", "maxSkew": 1, "minGroups": 3}]  # every cluster wanted, in three zones
    patch(base, f"{WP}/zones", {"spec": {"numberOfClusters": None, "spreadConstraints": three}})
    cond = eventually(lambda: next((c for c in get(base, f"{WP}/zones")["status"]["conditions"]
                                    if c["type"] == "Scheduled" and c["reason"] == "SpreadUnsatisfiable"), None),
                      30, "the unsatisfiable spread reported")
    assert cond["status"] == "False"
    assert "spreadConstraints zone: minGroups 3 cannot be met: 2 group(s) have a feasible cluster" in cond["message"]
    assert decided() == chosen  # nothing moved
    assert d.stop() == 0


def test_overrides_apply_per_location_on_real_clusters(clusters, daemon, tmp_path):
    """With TMCAdvancedPlacement, an image-registry override whose clusterSelector names one location rewrites
    the images of the copy there only, another location's entry sets its replicas, a label, an env variable
    and an argument and runs a JSON patch, the third location's copy is left as written, the SyncRecords say
    what was applied, explain lists them, and a patch that would take the copy from tmcd fails that copy
    only."""
    d = daemon("--data-dir", str(tmp_path / "data"), "--feature-gates=TMCAdvancedPlacement=true")
    base = d.base
    register(base, "", clusters, ["east", "west", "north"],
             [{"location": "east"}, {"location": "west"}, {"location": "north"}], ready=True)
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
    north = eventually(lambda: downstream(clusters[2], ns, "deployment", "mirrored"), 30, "the north copy")
    assert north["spec"]["template"]["spec"] == east["spec"]["template"]["spec"] | {
        "containers": [{k: v for k, v in east_ctr.items() if k not in ("env", "args")}]}, north
    assert "tier" not in north["metadata"].get("labels", {})
    records = {r["spec"]["clusterName"]: r["status"].get("overrides")
               for r in get(base, "/apis/tmc.kcp.io/v1alpha1/namespaces/shop/syncrecords")["items"]
               if r["spec"]["upstream"]["name"] == "mirrored"}
    assert records == {"east": ["overrides[1]: replicas 1, labels, every container, jsonPatch, 1 operation"],
                       "west": ["overrides[0]: image registry mirror.example:5000"], "north": None}, records
    explain = {c["name"]: c.get("overrides") for c in get(base, f"{WP}/mirrored/explain")["clusters"]}
    assert explain == {"east": [1], "west": [0], "north": None}, explain

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
