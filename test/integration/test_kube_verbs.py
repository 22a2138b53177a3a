"""The local API's kubectl-facing verbs over HTTP: dryRun=All on every write, the scale subresource and
strategic merge patch. test/e2e/test_kubectl_parity.py runs the same through unmodified kubectl
against tmcd and a real kube-apiserver side by side."""
import json

import pytest
import requests

from api_helpers import CREG, DEPLOY, assert_status, creg, deployment, watch_events

D = DEPLOY.format(ns="default")
SMP = {"Content-Type": "application/strategic-merge-patch+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def api(daemon, tmp_path):
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--store-fsync=false")
    return d.base


def list_rv(api, path):
    return requests.get(api + path).json()["metadata"]["resourceVersion"]


def test_dry_run_stores_nothing_consumes_no_revision_and_sends_no_event(api):
    live = requests.post(api + D, json=deployment("live")).json()
    rv = list_rv(api, D)
    dry = "?dryRun=All"
    r = requests.post(api + D + dry, json=deployment("ghost"))
    assert r.status_code == 201, r.text
    assert len(r.json()["metadata"]["uid"]) == 36 and "resourceVersion" not in r.json()["metadata"]
    assert r.json()["metadata"]["generation"] == 1
    assert requests.get(api + D + "/ghost").status_code == 404
    # Validation and conflicts are those of the real write.
    assert_status(requests.post(api + D + dry, json=deployment("live")), 409, "AlreadyExists")
    bad = deployment("Bad_Name")
    assert_status(requests.post(api + D + dry, json=bad), 422, "Invalid")
    assert_status(requests.post(api + CREG + dry, json=creg("x", location="US West")), 422, "Invalid")

    changed = dict(live, spec=dict(live["spec"], replicas=7))
    r = requests.put(api + D + "/live" + dry, json=changed)
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 7 and r.json()["metadata"]["generation"] == 2
    assert r.json()["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]
    stale = dict(changed, metadata=dict(changed["metadata"], resourceVersion="1"))
    requests.patch(api + D + "/live", data=json.dumps({"metadata": {"labels": {"bump": "1"}}}), headers=MERGE)
    assert_status(requests.put(api + D + "/live" + dry, json=stale), 409, "Conflict")
    rv = list_rv(api, D)
    r = requests.patch(api + D + "/live" + dry, headers=SMP,
                       data=json.dumps({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}))
    assert r.status_code == 200 and r.json()["spec"]["template"]["spec"]["containers"][0]["image"] == "x"
    r = requests.delete(api + D + "/live" + dry)
    assert r.status_code == 200, r.text
    after = requests.get(api + D + "/live").json()
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx" and after["spec"]["replicas"] == 1
    assert list_rv(api, D) == rv  # no revision consumed
    # Nothing happened for a watcher from that revision either: the next event is a real write.
    requests.patch(api + D + "/live", data=json.dumps({"metadata": {"labels": {"real": "1"}}}), headers=MERGE)
    events = watch_events(api, D, {"resourceVersion": rv, "timeoutSeconds": "2"}, 2, timeout=5)
    assert [(e["type"], e["object"]["metadata"]["labels"].get("real")) for e in events] == [("MODIFIED", "1")]


@pytest.mark.parametrize("value", ["all", "None", "", "All,All"])
def test_dry_run_values_other_than_all_are_refused(api, value):
    assert_status(requests.post(api + D + "?dryRun=" + value, json=deployment("v")), 400, "BadRequest", "dryRun")
    assert requests.get(api + D + "/v").status_code == 404


def test_scale_subresource_get_put_patch(api):
    d = deployment("web", replicas=2)
    d["spec"]["selector"]["matchExpressions"] = [{"key": "tier", "operator": "In", "values": ["web", "api"]}]
    requests.post(api + D, json=d)
    s = requests.get(api + D + "/web/scale").json()
    assert s["kind"] == "Scale" and s["apiVersion"] == "autoscaling/v1"
    assert s["spec"] == {"replicas": 2}
    assert s["status"] == {"replicas": 0, "selector": "app=web,tier in (api,web)"}
    s["spec"]["replicas"] = 5
    r = requests.put(api + D + "/web/scale", json=s)
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 5
    got = requests.get(api + D + "/web").json()
    assert got["spec"]["replicas"] == 5 and got["metadata"]["generation"] == 2
    assert_status(requests.put(api + D + "/web/scale", json=s), 409, "Conflict")  # s holds the old resourceVersion
    r = requests.patch(api + D + "/web/scale", data=json.dumps({"spec": {"replicas": 3}}), headers=MERGE)
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 3
    r = requests.patch(api + D + "/web/scale", data=json.dumps({"spec": {"replicas": 4}}), headers=SMP)
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 4
    assert_status(requests.patch(api + D + "/web/scale", data=json.dumps({"spec": {"replicas": -1}}), headers=MERGE),
                  422, "Invalid", "greater than or equal to 0")
    assert_status(requests.patch(api + D + "/web/scale", data=json.dumps({"spec": {"replicas": "3"}}), headers=MERGE),
                  422, "Invalid")
    assert_status(requests.delete(api + D + "/web/scale"), 405, "MethodNotAllowed")
    assert_status(requests.get(api + D + "/nope/scale"), 404, "NotFound")
    assert_status(requests.get(api + "/api/v1/namespaces/default/configmaps/x/scale"), 404, "NotFound")
    r = requests.patch(api + D + "/web/scale?dryRun=All", data=json.dumps({"spec": {"replicas": 9}}), headers=MERGE)
    assert r.status_code == 200 and r.json()["spec"]["replicas"] == 9
    assert requests.get(api + D + "/web").json()["spec"]["replicas"] == 4


def test_strategic_merge_patch_for_built_in_kinds_only(api):
    requests.post(api + D, json=deployment("smp"))
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "busybox"}]}}}}
    r = requests.patch(api + D + "/smp", data=json.dumps(patch), headers=SMP)
    assert r.status_code == 200, r.text
    # kube-apiserver's order without $setElementOrder: the patch's items ahead of items it does not relate.
    assert [c["name"] for c in r.json()["spec"]["template"]["spec"]["containers"]] == ["side", "c"]
    assert r.json()["metadata"]["generation"] == 2
    r = requests.patch(api + D + "/smp", headers=SMP, data=json.dumps(
        {"spec": {"template": {"spec": {"containers": [{"name": "c", "$patch": "delete"}]}}}}))
    assert [c["name"] for c in r.json()["spec"]["template"]["spec"]["containers"]] == ["side"]
    assert_status(requests.patch(api + D + "/smp", data=json.dumps({"spec": {"$patch": "merge"}}), headers=SMP),
                  400, "BadRequest")
    requests.post(api + CREG, json=creg("c1"))
    assert_status(requests.patch(api + CREG + "/c1", data="{}", headers=SMP), 415, "UnsupportedMediaType")


def test_unknown_dollar_fields_are_dropped_with_a_warning_header(api):
    requests.post(api + D, json=deployment("warn"))
    r = requests.patch(api + D + "/warn", headers=SMP,
                       data=json.dumps({"metadata": {"$bogus": 1, "$a\r\nX-Evil: 1": 2, "labels": {"x": "1"}}}))
    assert r.status_code == 200, r.text
    assert "X-Evil" not in r.headers and "$" not in json.dumps(r.json())
    assert r.headers["Warning"] == ('299 - "unknown field \\"metadata.$a\\x0d\\x0aX-Evil: 1\\"", '
                                    '299 - "unknown field \\"metadata.$bogus\\""')
    r = requests.patch(api + D + "/warn", headers=SMP,
                       data=json.dumps({"metadata": {f"$k{i}": i for i in range(100)}}))
    assert r.status_code == 200 and r.headers["Warning"].count("299 -") == 21 and "80 more warnings" in r.headers[
        "Warning"]


def test_secret_string_data_is_merged_into_data(api):
    s = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "b2xk", "keep": "aw=="},
         "stringData": {"a": "new", "b": "é"}}
    r = requests.post(api + "/api/v1/namespaces/default/secrets", json=s)
    assert r.status_code == 201, r.text
    assert "stringData" not in r.json()
    assert r.json()["data"] == {"a": "bmV3", "keep": "aw==", "b": "w6k="}
    assert_status(requests.post(api + "/api/v1/namespaces/default/secrets",
                                json={"metadata": {"name": "t"}, "stringData": {"a": 1}}), 422, "Invalid")


APPLY = {"Content-Type": "application/apply-patch+yaml"}
CM = "/api/v1/namespaces/default/configmaps"


def apply(api, path, body, manager, force=False, text=None):
    q = f"?fieldManager={manager}" + ("&force=true" if force else "")
    return requests.patch(api + path + q, data=text if text is not None else json.dumps(body), headers=APPLY)


def cm(data, name="c"):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_server_side_apply_ownership_conflicts_and_removal(api):
    r = apply(api, CM + "/c", None, "a", text="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
                                               "data:\n  k: '1'\n  mine: yes\n")
    assert r.status_code == 201, r.text  # create-on-apply
    assert r.json()["data"] == {"k": "1", "mine": "yes"}
    mf = r.json()["metadata"]["managedFields"]
    assert [(e["manager"], e["operation"]) for e in mf] == [("a", "Apply")]
    assert mf[0]["fieldsV1"] == {"f:data": {"f:k": {}, "f:mine": {}}} and mf[0]["fieldsType"] == "FieldsV1"
    # Another manager changing an owned field conflicts, naming manager and field.
    r = apply(api, CM + "/c", cm({"k": "2"}), "b")
    body = assert_status(r, 409, "Conflict", 'Apply failed with 1 conflict')
    assert body["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "a"',
                                          "field": ".data.k"}]
    # The same value is shared ownership, not a conflict.
    r = apply(api, CM + "/c", cm({"k": "1", "theirs": "x"}), "b")
    assert r.status_code == 200, r.text
    # Forced: the field changes hands.
    r = apply(api, CM + "/c", cm({"k": "3", "theirs": "x"}), "b", force=True)
    assert r.status_code == 200 and r.json()["data"]["k"] == "3"
    owners = {e["manager"]: e["fieldsV1"] for e in r.json()["metadata"]["managedFields"]}
    assert owners == {"a": {"f:data": {"f:mine": {}}}, "b": {"f:data": {"f:k": {}, "f:theirs": {}}}}
    # a stops applying "mine": it is removed (nobody else owns it); k stays (b owns it).
    r = apply(api, CM + "/c", cm({}), "a")
    assert r.status_code == 200 and r.json()["data"] == {"k": "3", "theirs": "x"}
    # An update by a third manager takes the fields it changes from their owners.
    got = requests.get(api + CM + "/c").json()
    got["data"]["k"] = "4"
    r = requests.put(api + CM + "/c?fieldManager=editor", json=got)
    owners = {(e["manager"], e["operation"]): e["fieldsV1"] for e in r.json()["metadata"]["managedFields"]}
    assert owners[("editor", "Update")] == {"f:data": {"f:k": {}}}
    assert owners[("b", "Apply")] == {"f:data": {"f:theirs": {}}}
    # Dry-run apply stores nothing; a body for another kind or name is refused.
    r = requests.patch(api + CM + "/c?fieldManager=b&dryRun=All", data=json.dumps(cm({"theirs": "dry"})), headers=APPLY)
    assert r.status_code == 200 and r.json()["data"]["theirs"] == "dry"
    assert requests.get(api + CM + "/c").json()["data"]["theirs"] == "x"
    assert_status(apply(api, CM + "/c", cm({}, name="other"), "b"), 400, "BadRequest", "does not match")
    assert_status(apply(api, CM + "/c", {**cm({}), "kind": "Secret"}, "b"), 400, "BadRequest", "kind")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    assert_status(apply(api, CM + "/c", None, "b", text=bomb), 400, "BadRequest", "too many")


def test_apply_merges_keyed_lists_and_keeps_others_items(api):
    d = deployment("ssa")
    d["spec"]["template"]["spec"]["containers"] = [{"name": "app", "image": "a:1", "env": [{"name": "X", "value": "1"}]}]
    assert apply(api, D + "/ssa", d, "team-a").status_code == 201
    side = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ssa"},
            "spec": {"template": {"spec": {"containers": [{"name": "side", "image": "s:1"}]}}}}
    r = apply(api, D + "/ssa", side, "team-b")
    assert r.status_code == 200, r.text
    assert [c["name"] for c in r.json()["spec"]["template"]["spec"]["containers"]] == ["app", "side"]
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "a:2"
    r = apply(api, D + "/ssa", d, "team-a")
    cs = {c["name"]: c for c in r.json()["spec"]["template"]["spec"]["containers"]}
    assert cs["app"]["image"] == "a:2" and cs["side"]["image"] == "s:1" and r.json()["metadata"]["generation"] == 3
    r = apply(api, D + "/ssa", {**side, "spec": {"template": {"spec": {"containers": []}}}}, "team-b")
    assert [c["name"] for c in r.json()["spec"]["template"]["spec"]["containers"]] == ["app"]


def test_field_validation_strict_warn_ignore(api):
    bad = creg("fv")
    bad["spec"]["colour"] = "blue"
    assert_status(requests.post(api + CREG, json=bad), 400, "BadRequest", 'unknown field "spec.colour"')  # default
    assert_status(requests.post(api + CREG + "?fieldValidation=Strict", json=bad), 400, "BadRequest")
    r = requests.post(api + CREG + "?fieldValidation=Warn", json=bad)
    assert r.status_code == 201, r.text
    assert r.headers["Warning"] == '299 - "unknown field \\"spec.colour\\""' and "colour" not in r.json()["spec"]
    bad["metadata"]["name"] = "fv2"
    r = requests.post(api + CREG + "?fieldValidation=Ignore", json=bad)
    assert r.status_code == 201 and "Warning" not in r.headers and "colour" not in r.json()["spec"]
    d = deployment("fvd")
    d["metadata"]["bogus"] = 1
    assert_status(requests.post(api + D, json=d), 400, "BadRequest", "bogus")
    r = requests.post(api + D + "?fieldValidation=Warn", json=d)
    assert r.status_code == 201 and "bogus" not in r.json()["metadata"]
    assert r.headers["Warning"] == '299 - "unknown field \\"metadata.bogus\\""'
    assert_status(requests.post(api + D + "?fieldValidation=strict", json=d), 400, "BadRequest", "Unsupported value")
    assert_status(requests.patch(api + D + "/fvd?fieldValidation=Strict", headers=SMP,
                                 data=json.dumps({"spec": {"$x": 1}})), 400, "BadRequest", "strict decoding error")
    r = requests.patch(api + D + "/fvd?fieldValidation=Ignore", headers=SMP, data=json.dumps({"spec": {"$x": 1}}))
    assert r.status_code == 200 and "Warning" not in r.headers
