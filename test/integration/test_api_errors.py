"""Bad input gets the right 4xx Status and the daemon keeps serving; restarts keep every write.

These tests pin the API's own semantics (exact watch events, byte-equal objects), so tmcd runs with
TMC=false: no controller writes status to the registrations they create. test_clusters.py covers
the controllers."""
import json
import os
import signal
import threading

import pytest
import requests

from api_helpers import CREG, DEPLOY, assert_status, creg, deployment

WP = "/apis/tmc.kcp.io/v1alpha1/namespaces/d/workloadplacements"


def placement(**spec):
    return {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "WorkloadPlacement", "metadata": {"name": "p"},
            "spec": {"workloadSelector": {"labelSelector": {"matchLabels": {"app": "web"}}}, **spec}}


@pytest.fixture
def api(daemon, tmp_path):
    return daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--store-fsync=false", "--api-max-request-bytes=65536").base


BAD = [
    ("post", CREG, "{not json", {}, 400, "BadRequest", "not valid JSON"),
    ("post", CREG, json.dumps({"apiVersion": "v1", "kind": "ClusterRegistration", "metadata": {"name": "x"}}), {},
     400, "BadRequest", "does not match"),
    ("post", CREG, json.dumps({**creg("x"), "kind": "Cluster"}), {}, 400, "BadRequest", "does not match"),
    ("post", CREG, json.dumps(creg("Bad_Name")), {}, 422, "Invalid", "metadata.name"),
    ("post", CREG, json.dumps(creg("x", colour="blue")), {}, 400, "BadRequest", 'unknown field "spec.colour"'),
    ("post", CREG, json.dumps(creg("x", location=5)), {}, 422, "Invalid", "must be of type string"),
    ("post", CREG, json.dumps(creg("x", endpoint={"server": "http://x"})), {}, 422, "Invalid", "https URL"),
    ("post", CREG, json.dumps({**creg("x"), "pad": "x" * 70000}), {}, 413, "RequestEntityTooLarge", "larger than"),
    ("get", CREG + "?labelSelector=a%20in%20(", None, {}, 400, "BadRequest", "unable to parse requirement"),
    ("get", CREG + "?fieldSelector=spec.location%3Dx", None, {}, 400, "BadRequest", "field label not supported"),
    ("get", CREG + "?watch=1&resourceVersion=abc", None, {}, 400, "BadRequest", "invalid resourceVersion"),
    ("get", CREG + "?limit=-1", None, {}, 400, "BadRequest", "limit must be"),
    ("get", CREG + "?continue=garbage", None, {}, 400, "BadRequest", "continue key is not valid"),
    ("get", "/apis/tmc.kcp.io/v1alpha1/nosuchthings", None, {}, 404, "NotFound", "could not find"),
    ("get", "/apis/tmc.kcp.io/v1alpha1/namespaces/x/clusterregistrations", None, {}, 404, "NotFound", ""),
    ("get", "/nothing/here", None, {}, 404, "NotFound", ""),
    ("patch", CREG + "/x", "{}", {"Content-Type": "application/strategic-merge-patch+json"}, 415,
     "UnsupportedMediaType", "merge-patch"),
    ("patch", CREG + "/x", "{}", {"Content-Type": "application/apply-patch+yaml"}, 400, "BadRequest", "fieldManager"),
    ("patch", CREG + "/x?fieldManager=m", "a: [", {"Content-Type": "application/apply-patch+yaml"}, 400, "BadRequest",
     "neither JSON nor YAML"),
    ("patch", CREG + "/x?force=true", "{}", {"Content-Type": "application/merge-patch+json"}, 400, "BadRequest",
     "non-apply"),
    ("post", "/apis/tmc.kcp.io/v1alpha1/namespaces/d/syncrecords", "{}", {}, 405, "MethodNotAllowed", "read-only"),
    ("delete", CREG, None, {}, 405, "MethodNotAllowed", "collection"),
    ("post", DEPLOY.format(ns="d") + "/named", json.dumps(deployment("x")), {}, 405, "MethodNotAllowed", ""),
    ("post", DEPLOY.format(ns="d"), json.dumps({**deployment("x"), "metadata": {"name": "x", "namespace": "y"}}), {},
     400, "BadRequest", "does not match the namespace"),
    # nlohmann's JSON patch aborts on an add under a string: refused before it gets there.
    ("patch", CREG + "/x", '[{"op":"add","path":"/kind/x","value":"1"}]',
     {"Content-Type": "application/json-patch+json"}, 422, "Invalid", "its parent /kind is not an object or an array"),
    # Advanced placement without its gate: refused, never stored and ignored (docs/placement.md).
    ("post", WP, json.dumps(placement(strategy="Binpack")), {}, 422, "Invalid",
     'spec.strategy: Forbidden: "Binpack": needs the feature gate TMCAdvancedPlacement, which is off'),
    ("post", WP, json.dumps(placement(spreadConstraints=[{"topologyKey": "zone"}])), {}, 422, "Invalid",
     "spec.spreadConstraints: Forbidden: needs the feature gate TMCAdvancedPlacement"),
    ("post", WP, json.dumps(placement(replicaScheduling={"type": "Divided"})), {}, 422, "Invalid",
     "spec.replicaScheduling.type: Forbidden: \"Divided\": needs the feature gate TMCAdvancedPlacement"),
    ("post", WP, json.dumps(placement(overrides=[{"image": {"registry": "mirror.example"}}])), {}, 422, "Invalid",
     "spec.overrides: Forbidden: needs the feature gate TMCAdvancedPlacement"),
]



def test_basic_placements_are_accepted_and_keep_their_fields(api):
    for strategy in ("Spread", "RoundRobin"):
        body = placement(strategy=strategy, tolerations=[{"key": "k", "operator": "Exists"}])
        body["metadata"]["name"] = strategy.lower()
        r = requests.post(api + WP, json=body)
        assert r.status_code == 201, r.text
        assert r.json()["spec"]["strategy"] == strategy
    scoring = {"spec": {"scoring": [{"plugin": "Steady", "weight": 2}]}}
    r = requests.patch(api + WP + "/spread", data=json.dumps(scoring),
                       headers={"Content-Type": "application/merge-patch+json"})
    assert_status(r, 422, "Invalid", "spec.scoring: Forbidden")


@pytest.mark.parametrize("method,path,body,headers,code,reason,contains", BAD)
def test_bad_input_gets_status_and_daemon_keeps_serving(api, method, path, body, headers, code, reason, contains):
    requests.post(api + CREG, json=creg("x"))
    r = requests.request(method, api + path, data=body, headers=headers)
    assert_status(r, code, reason, contains)
    assert requests.get(api + "/healthz").text == "ok"
    assert requests.get(api + CREG + "/x").status_code == 200


def test_open_watch_cap(daemon, tmp_path):
    api = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--api-max-watches=2").base
    held = [requests.get(api + CREG, params={"watch": "1"}, stream=True, timeout=10) for _ in range(2)]
    try:
        r = requests.get(api + CREG, params={"watch": "1"}, timeout=10)
        assert_status(r, 429, "TooManyRequests", "too many open watches")
        assert r.headers.get("Retry-After") == "1"
    finally:
        for h in held:
            h.close()


def test_health_version_metrics(api):
    assert requests.get(api + "/livez").text == "ok"
    assert requests.get(api + "/readyz").status_code == 200
    v = requests.get(api + "/version").json()
    assert v["gitVersion"] == "v0.1.0" and v["featureGates"]["TMC"] is False  # API-only: see the note at the top
    requests.post(api + CREG, json=creg("m"))
    text = requests.get(api + "/metrics").text
    assert 'tmcd_api_requests_total{code="201",resource="clusterregistrations.tmc.kcp.io",verb="create"} 1' in text
    assert "tmcd_api_request_duration_seconds_bucket" in text
    assert "tmcd_store_revision 1" in text
    assert "tmcd_store_commit_duration_seconds_count 1" in text


def test_restart_keeps_everything(daemon, tmp_path):
    data = str(tmp_path / "data")
    d = daemon("--feature-gates=TMC=false", "--data-dir", data)
    before = requests.post(d.base + CREG, json=creg("kept")).json()
    assert d.stop() == 0
    d2 = daemon("--feature-gates=TMC=false", "--data-dir", data)
    after = requests.get(d2.base + CREG + "/kept").json()
    assert after == before
    assert requests.post(d2.base + CREG, json=creg("next")).json()["metadata"]["resourceVersion"] == "2"


def test_kill_9_during_write_storm_keeps_every_acknowledged_write(daemon, tmp_path):
    data = str(tmp_path / "data")
    d = daemon("--feature-gates=TMC=false", "--data-dir", data)  # fsync on (the default)
    base = d.base
    acked = {}
    stop = threading.Event()

    def writer(prefix):
        with requests.Session() as s:
            i = 0
            while not stop.is_set():
                try:
                    r = s.post(base + DEPLOY.format(ns="storm"), json=deployment(f"{prefix}-{i}"), timeout=5)
                except requests.RequestException:
                    return
                if r.status_code == 201:
                    acked[r.json()["metadata"]["name"]] = int(r.json()["metadata"]["resourceVersion"])
                i += 1

    threads = [threading.Thread(target=writer, args=(f"w{t}",)) for t in range(3)]
    for t in threads:
        t.start()
    import time
    while len(acked) < 60:
        time.sleep(0.01)
    os.kill(d.proc.pid, signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join()
    d.proc.wait()
    d2 = daemon("--feature-gates=TMC=false", "--data-dir", data)
    items = requests.get(d2.base + DEPLOY.format(ns="storm")).json()
    stored = {i["metadata"]["name"]: int(i["metadata"]["resourceVersion"]) for i in items["items"]}
    missing = [n for n in acked if n not in stored]
    assert not missing, f"acknowledged writes lost after kill -9: {missing[:5]}"
    assert all(stored[n] == rv for n, rv in acked.items())
    top = int(items["metadata"]["resourceVersion"])
    new = requests.post(d2.base + DEPLOY.format(ns="storm"), json=deployment("after")).json()
    assert int(new["metadata"]["resourceVersion"]) == top + 1  # revisions stay monotonic


def test_advanced_placement_gate_serves_every_placement_field(daemon, tmp_path):
    d = daemon("--feature-gates=TMCAdvancedPlacement=true", "--data-dir", str(tmp_path / "data"), "--store-fsync=false")
    body = placement(strategy="Binpack", scoring=[{"plugin": "Steady", "weight": 0}])
    r = requests.post(d.base + WP, json=body)
    assert r.status_code == 201, r.text
    rr = placement(strategy="RoundRobin", scoring=[{"plugin": "Balance", "weight": 1}])
    r = requests.post(d.base + WP, json={**rr, "metadata": {"name": "rr"}})
    assert_status(r, 422, "Invalid", "spec.scoring: Forbidden: strategy RoundRobin has no scores")
    spread = placement(spreadConstraints=[{"topologyKey": "zone", "minGroups": 2}])
    r = requests.post(d.base + WP, json={**spread, "metadata": {"name": "spread"}})
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["spreadConstraints"] == [{"topologyKey": "zone", "maxSkew": 1, "minGroups": 2}]
    r = requests.post(d.base + WP, json={**placement(replicaScheduling={"type": "Divided", "weighting": "Dynamic"}),
                                         "metadata": {"name": "d"}})
    assert r.status_code == 201, r.text
    r = requests.post(d.base + WP, json={**placement(overrides=[{"image": {"registry": "m.example"}}]),
                                         "metadata": {"name": "o"}})
    assert r.status_code == 201, r.text
    spread = requests.get(d.base + WP + "/spread/explain").json()["spreadConstraints"]
    assert spread == [{"topologyKey": "zone", "maxSkew": 1, "minGroups": 2, "groups": {}, "skew": 0,
                       "satisfied": False}], spread
    explain = requests.get(d.base + WP + "/p/explain").json()
    assert explain["strategy"] == "Binpack" and explain["weights"] == {"Capacity": -3}, explain
    # The dry run: a spec evaluated as a create would check it, never stored.
    r = requests.post(d.base + WP + "/sim/explain", json=placement(strategy="LeastLoaded"))
    assert r.status_code == 200, r.text
    assert r.json()["dryRun"] is True and r.json()["stored"] is False and r.json()["strategy"] == "LeastLoaded"
    assert requests.get(d.base + WP + "/sim").status_code == 404
    rr = placement(strategy="RoundRobin", scoring=[{"plugin": "Steady"}])
    r = requests.post(d.base + WP + "/sim/explain", json=rr)
    assert_status(r, 422, "Invalid", "spec.scoring: Forbidden: strategy RoundRobin has no scores")
    r = requests.post(d.base + WP + "/sim/explain", json=placement(numberOfClusters=0))
    assert_status(r, 422, "Invalid", "spec.numberOfClusters")
    r = requests.put(d.base + WP + "/p/explain", json=placement())
    assert_status(r, 405, "MethodNotAllowed", "POST a WorkloadPlacement to evaluate one that is not stored")
    assert requests.post(d.base + WP + "/p/explain", json=placement()).json()["stored"] is True
