"""The local API's kubectl-facing verbs over HTTP: strategic merge patch. test/e2e/test_kubectl_parity.py runs the same through unmodified kubectl
against tmcd and a real kube-apiserver side by side."""
import json

import pytest
import requests

from api_helpers import CREG, DEPLOY, assert_status, creg, deployment

D = DEPLOY.format(ns="default")
SMP = {"Content-Type": "application/strategic-merge-patch+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def api(daemon, tmp_path):
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--store-fsync=false")
    return d.base


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
