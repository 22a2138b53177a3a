"""The local REST + watch API of the real tmcd binary: verbs, concurrency, watch, isolation, errors.

These tests pin the API's own semantics (exact watch events, byte-equal objects), so tmcd runs with
TMC=false: no controller writes status to the registrations they create. test_clusters.py covers
the controllers."""
import concurrent.futures
import json

import pytest
import requests

from api_helpers import CREG, DEPLOY, assert_status, creg, deployment, watch_events


@pytest.fixture
def api(daemon, tmp_path):
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--store-fsync=false")
    return d.base


def test_create_get_list_update_patch_status_delete(api):
    r = requests.post(api + CREG, json=creg("c1"))
    assert r.status_code == 201, r.text
    obj = r.json()
    md = obj["metadata"]
    assert md["resourceVersion"] == "1" and md["generation"] == 1 and len(md["uid"]) == 36
    assert obj["spec"]["healthCheck"] == {"failureThreshold": 3, "periodSeconds": 10, "timeoutSeconds": 5}
    assert requests.get(api + CREG + "/c1").json() == obj

    obj["spec"]["unschedulable"] = True
    r = requests.put(api + CREG + "/c1", json=obj)
    assert r.status_code == 200, r.text
    assert r.json()["metadata"]["generation"] == 2 and r.json()["metadata"]["resourceVersion"] == "2"

    r = requests.patch(api + CREG + "/c1", data=json.dumps({"metadata": {"labels": {"env": "prod"}}}),
                       headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["metadata"]["labels"] == {"env": "prod"}
    assert r.json()["metadata"]["generation"] == 2  # metadata-only change: no generation bump

    r = requests.patch(api + CREG + "/c1", data=json.dumps([{"op": "replace", "path": "/spec/location", "value": "eu"}]),
                       headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 200 and r.json()["spec"]["location"] == "eu"

    status = r.json()
    status["status"] = {"kubernetesVersion": "v1.35.4"}
    status["spec"]["location"] = "ignored-on-status"
    r = requests.put(api + CREG + "/c1/status", json=status)
    assert r.status_code == 200, r.text
    assert r.json()["status"]["kubernetesVersion"] == "v1.35.4"
    assert r.json()["spec"]["location"] == "eu"  # /status writes only status
    gen = r.json()["metadata"]["generation"]
    main = r.json()
    main["status"] = {"kubernetesVersion": "changed"}
    r = requests.put(api + CREG + "/c1", json=main)
    assert r.json()["status"]["kubernetesVersion"] == "v1.35.4"  # main resource keeps status
    assert r.json()["metadata"]["generation"] == gen

    lst = requests.get(api + CREG).json()
    assert lst["kind"] == "ClusterRegistrationList" and len(lst["items"]) == 1
    assert lst["metadata"]["resourceVersion"] == r.json()["metadata"]["resourceVersion"]

    r = requests.delete(api + CREG + "/c1")
    assert r.status_code == 200
    assert_status(requests.get(api + CREG + "/c1"), 404, "NotFound", 'clusterregistrations "c1" not found')


def test_stale_resource_version_conflicts(api):
    obj = requests.post(api + CREG, json=creg("c1")).json()
    fresh = requests.put(api + CREG + "/c1", json=obj).json()
    assert fresh["metadata"]["resourceVersion"] != obj["metadata"]["resourceVersion"]
    assert_status(requests.put(api + CREG + "/c1", json=obj), 409, "Conflict", "the object has been modified")
    del obj["metadata"]["resourceVersion"]
    assert_status(requests.put(api + CREG + "/c1", json=obj), 422, "Invalid", "must be specified for an update")
    stale_patch = {"metadata": {"resourceVersion": "1"}, "spec": {"zone": "z"}}
    r = requests.patch(api + CREG + "/c1", data=json.dumps(stale_patch),
                       headers={"Content-Type": "application/merge-patch+json"})
    assert_status(r, 409, "Conflict")
    assert_status(requests.post(api + CREG, json=creg("c1")), 409, "AlreadyExists")


def test_concurrent_writers_lose_no_update(api):
    requests.post(api + DEPLOY.format(ns="default"), json=deployment("counter", replicas=0))
    url = api + DEPLOY.format(ns="default") + "/counter"

    def bump(_):
        with requests.Session() as s:
            for _ in range(10):
                while True:
                    cur = s.get(url).json()
                    cur["spec"]["replicas"] += 1
                    r = s.put(url, json=cur)
                    if r.status_code == 200:
                        break
                    assert r.status_code == 409, r.text

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(bump, range(4)))
    assert requests.get(url).json()["spec"]["replicas"] == 40


def test_finalizers_hold_deletion(api):
    c = creg("held")
    c["metadata"]["finalizers"] = ["tmc.kcp.io/syncer"]
    gen = requests.post(api + CREG, json=c).json()["metadata"]["generation"]
    r = requests.delete(api + CREG + "/held")
    assert r.status_code == 200 and "deletionTimestamp" in r.json()["metadata"]
    assert r.json()["metadata"]["generation"] == gen + 1  # as Kubernetes' markAsDeleting
    obj = requests.get(api + CREG + "/held").json()
    assert obj["metadata"]["deletionTimestamp"]
    obj["metadata"]["finalizers"].append("other/new")
    assert_status(requests.put(api + CREG + "/held", json=obj), 422, "Invalid", "no new finalizers")
    obj["metadata"]["finalizers"] = []
    assert requests.put(api + CREG + "/held", json=obj).status_code == 200
    assert_status(requests.get(api + CREG + "/held"), 404, "NotFound")


def test_list_selectors_and_paging(api):
    for i in range(7):
        labels = {"app": "web" if i % 2 == 0 else "db"}
        requests.post(api + DEPLOY.format(ns="shop"), json=deployment(f"d{i}", labels=labels))
    requests.post(api + DEPLOY.format(ns="other"), json=deployment("x"))
    web = requests.get(api + DEPLOY.format(ns="shop"), params={"labelSelector": "app=web"}).json()
    assert sorted(i["metadata"]["name"] for i in web["items"]) == ["d0", "d2", "d4", "d6"]
    one = requests.get(api + "/apis/apps/v1/deployments", params={"fieldSelector": "metadata.name=x"}).json()
    assert [i["metadata"]["namespace"] for i in one["items"]] == ["other"]
    names, token = [], None
    while True:
        params = {"limit": "3", **({"continue": token} if token else {})}
        page = requests.get(api + DEPLOY.format(ns="shop"), params=params).json()
        names += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
    assert names == [f"d{i}" for i in range(7)]


def test_watch_resume_bookmark_and_expired_after_compaction(daemon, tmp_path):
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--store-keep-revisions=5", "--store-compaction-interval=100ms")
    api = d.base
    requests.post(api + CREG, json=creg("a"))
    rv = requests.get(api + CREG).json()["metadata"]["resourceVersion"]
    requests.post(api + CREG, json=creg("b"))
    requests.delete(api + CREG + "/a")
    events = watch_events(api, CREG, {"resourceVersion": rv}, 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "b"), ("DELETED", "a")]
    initial = watch_events(api, CREG, {}, 1)  # no resourceVersion: current state first
    assert initial[0]["type"] == "ADDED" and initial[0]["object"]["metadata"]["name"] == "b"
    for i in range(10):
        requests.post(api + CREG, json=creg(f"n{i}"))
    import time
    time.sleep(0.5)
    expired = watch_events(api, CREG, {"resourceVersion": rv}, 1)
    assert expired[0]["type"] == "ERROR"
    assert expired[0]["object"]["code"] == 410 and expired[0]["object"]["reason"] == "Expired"
    ended = watch_events(api, CREG, {"resourceVersion": "0", "timeoutSeconds": "1"}, 1000)
    assert len(ended) == 11  # the stream ends on its own after timeoutSeconds


def test_workspaces_are_isolated(api):
    a = api + "/clusters/root:team-a" + CREG
    b = api + "/clusters/root:team-b" + CREG
    assert requests.post(a, json=creg("same", location="a-loc")).status_code == 201
    assert requests.post(b, json=creg("same", location="b-loc")).status_code == 201
    assert requests.get(a + "/same").json()["spec"]["location"] == "a-loc"
    assert requests.get(b + "/same").json()["spec"]["location"] == "b-loc"
    assert [i["spec"]["location"] for i in requests.get(a).json()["items"]] == ["a-loc"]
    assert requests.get(api + CREG).json()["items"] == []  # the default workspace "root" sees neither
    requests.delete(a + "/same")
    assert requests.get(b + "/same").status_code == 200
    assert_status(requests.get(api + "/clusters/Bad_WS" + CREG), 400, "BadRequest", "invalid workspace")


def test_streaming_list_ends_with_the_initial_events_bookmark(api):
    """client-go's WatchList (kubectl delete --wait, kubectl wait): the current state as ADDED events,
    then a BOOKMARK annotated k8s.io/initial-events-end at the snapshot's revision, then changes."""
    for name in ("a", "b"):
        requests.post(api + CREG, json=creg(name))
    url = (api + CREG + "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
           "&allowWatchBookmarks=true&timeoutSeconds=2&resourceVersion=1")
    events = [json.loads(line) for line in requests.get(url, stream=True, timeout=10).iter_lines() if line]
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events] == \
        [("ADDED", "a"), ("ADDED", "b"), ("BOOKMARK", None)]
    bm = events[2]["object"]["metadata"]
    assert bm["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert bm["resourceVersion"] == events[1]["object"]["metadata"]["resourceVersion"]
    bad = requests.get(api + CREG + "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true", timeout=10)
    assert_status(bad, 422, "Invalid", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
