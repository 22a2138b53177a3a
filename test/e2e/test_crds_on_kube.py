"""The generated CRDs (config/crds) on a real kube-apiserver: accepted, defaulted like tmcd's own
defaulter, and rejecting what tmcd's validation rejects (CEL and schema rules)."""
import subprocess

import pytest
import yaml

from conftest import ROOT


@pytest.fixture(scope="module")
def kube(clusters):
    c = clusters[0]
    c.kubectl("apply", "-f", str(ROOT / "config" / "crds"))
    c.kubectl("wait", "--for", "condition=established", "crd", "--all", "--timeout=60s")
    return c


def apply(kube, doc, check=True):
    return kube.kubectl("apply", "-f", "-", input=yaml.safe_dump(doc), check=check)


def creg(name, **spec):
    base = {"location": "us-west-2", "endpoint": {"server": "https://10.1.2.3:6443"}}
    base.update(spec)
    return {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration", "metadata": {"name": name},
            "spec": base}


def wp(name, **spec):
    base = {"workloadSelector": {"labelSelector": {"matchLabels": {"app": "web"}}}}
    base.update(spec)
    return {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "WorkloadPlacement",
            "metadata": {"name": name, "namespace": "default"}, "spec": base}


def test_crds_are_established_with_printer_columns(kube):
    crds = kube.get_json("crd")["items"]
    names = {c["metadata"]["name"] for c in crds}
    assert {"clusterregistrations.tmc.kcp.io", "workloadplacements.tmc.kcp.io"} <= names
    apply(kube, creg("cols", capacity={"cpu": "64", "memory": "256Gi", "pods": 1100}))
    out = kube.kubectl("get", "clusterregistrations").stdout
    assert out.split()[:4] == ["NAME", "LOCATION", "READY", "AGE"]
    assert "us-west-2" in out


def test_server_defaults_match_tmcd_defaults(kube):
    apply(kube, creg("defaults"))
    spec = kube.get_json("creg", "defaults")["spec"]
    assert spec["healthCheck"] == {"periodSeconds": 10, "failureThreshold": 3, "timeoutSeconds": 5}
    assert spec["syncedResources"][0] == {"group": "apps", "resource": "deployments"}
    assert len(spec["syncedResources"]) == 15  # every kind the interpreter has rules for
    apply(kube, wp("defaults", spreadConstraints=[{"topologyKey": "zone"}], tolerations=[{"key": "k"}]))
    spec = kube.get_json("wp", "defaults", "-n", "default")["spec"]
    assert spec["strategy"] == "Spread"
    assert spec["deletionPolicy"] == "Delete"
    assert spec["replicaScheduling"] == {"type": "Duplicated"}
    assert spec["workloadSelector"]["resources"] == [{"group": "apps", "resource": "deployments"}]
    assert spec["spreadConstraints"][0]["maxSkew"] == 1
    assert spec["tolerations"][0]["operator"] == "Equal"


@pytest.mark.parametrize("doc,message", [
    (creg("bad-http", endpoint={"server": "http://x"}), "server must be an https URL"),
    (creg("bad-hc", healthCheck={"periodSeconds": 2, "timeoutSeconds": 5}), "timeoutSeconds must not exceed"),
    (creg("bad-effect", taints=[{"key": "k", "effect": "Sometimes"}]), 'Unsupported value: "Sometimes"'),
    (creg("bad-loc", location="US West"), "spec.location"),
    (creg("bad-cap", capacity={"cpu": "lots"}), "spec.capacity.cpu"),
    (wp("bad-weighting", replicaScheduling={"weighting": "Static"}), "weighting and weights apply only to type Divided"),
    (wp("bad-tol", tolerations=[{"operator": "Exists", "value": "x"}]), "value must be empty when operator is Exists"),
    (wp("bad-from", overrides=[{"jsonPatch": [{"op": "move", "path": "/a"}]}]), "from is required for move and copy"),
    (wp("bad-score", scoring=[{"plugin": "Capacity", "weight": 11}]), "spec.scoring[0].weight"),
    (wp("bad-n", numberOfClusters=0), "spec.numberOfClusters"),
])
def test_server_rejects_what_tmcd_rejects(kube, doc, message):
    r = apply(kube, doc, check=False)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr


def test_apiresourceschemas_carry_the_same_schema_as_the_crds():
    # kcp itself cannot be built here (see docs/testing.md); check the kcp form is the CRD schema body.
    for plural in ("clusterregistrations", "workloadplacements"):
        crd = yaml.safe_load((ROOT / f"config/crds/tmc.kcp.io_{plural}.yaml").read_text())
        ars = yaml.safe_load((ROOT / f"config/kcp/apiresourceschema-{plural}.yaml").read_text())
        assert ars["spec"]["versions"][0]["schema"] == crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        assert ars["metadata"]["name"].endswith(f".{plural}.tmc.kcp.io")
