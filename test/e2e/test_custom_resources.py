"""CustomResourceDefinitions in tmcd's local API, driven by unmodified kubectl: a CRD serves its resource
(discovery, OpenAPI for `kubectl explain`, printer columns, schema defaults and validation, the status and
scale subresources, apply twice), is rejected when it asks for what tmcd cannot enforce, is deleted with
its custom resources, and stays inside its workspace: another tenant sees neither the resource nor its
schema."""
import json
import os
import subprocess

import yaml

TMCD = os.environ.get("TMCD_BIN", "tmcd")

SCHEMA = {"type": "object", "properties": {
    "spec": {"type": "object", "description": "What the widget should be.", "required": ["color"], "properties": {
        "size": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3,
                 "description": "The widget's size in units."},
        "color": {"type": "string", "enum": ["red", "blue"]},
        "replicas": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}}},
    "status": {"type": "object", "properties": {"replicas": {"type": "integer"}, "selector": {"type": "string"}}}}}


def crd(group="example.com", **version_extra):
    version = {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": SCHEMA},
               "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                        "statusReplicasPath": ".status.replicas",
                                                        "labelSelectorPath": ".status.selector"}},
               "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                                            {"name": "Color", "type": "string", "jsonPath": ".spec.color"}]}
    version.update(version_extra)
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"widgets.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]}, "versions": [version]}}


def widget(name, **spec):
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name, "namespace": "default"},
            "spec": {"color": "red", **spec}}


def apply(kubectl, doc, *flags, check=True):
    return kubectl("apply", *flags, "-f", "-", input=yaml.safe_dump(doc), check=check)


def test_kubectl_applies_gets_explains_and_scales_custom_resources(kubectl):
    assert "created" in apply(kubectl, crd()).stdout
    kubectl("wait", "--for", "condition=Established", "crd/widgets.example.com", "--timeout=10s")
    got = json.loads(kubectl("get", "crd", "widgets.example.com", "-o", "json").stdout)
    assert got["status"]["acceptedNames"]["listKind"] == "WidgetList"
    assert got["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
    resources = kubectl("api-resources", "--api-group=example.com").stdout.splitlines()
    assert resources[1].split() == ["widgets", "wd", "example.com/v1", "true", "Widget"], resources

    kubectl("create", "namespace", "default")
    assert "created" in apply(kubectl, widget("w", tags=["a", "b"])).stdout
    table = kubectl("get", "wd").stdout.splitlines()
    assert table[0].split() == ["NAME", "SIZE", "COLOR"] and table[1].split() == ["w", "3", "red"], table
    obj = json.loads(kubectl("get", "widget", "w", "-o", "json").stdout)
    assert obj["spec"]["size"] == 3 and obj["metadata"]["generation"] == 1  # the schema's default
    assert "configured" in apply(kubectl, widget("w", size=5, tags=["a", "b"])).stdout  # apply twice
    obj = json.loads(kubectl("get", "widget", "w", "-o", "json").stdout)
    assert obj["spec"]["size"] == 5 and obj["metadata"]["generation"] == 2
    explain = kubectl("explain", "widgets.spec.size").stdout
    assert "The widget's size in units." in explain and "<integer>" in explain, explain

    # Server-side apply by two managers: the set-typed list is merged item by item, as kube does (an
    # atomic list would be one field owned by "one", and "two" would conflict on it).
    apply(kubectl, widget("ssa", tags=["a"]), "--server-side", "--field-manager=one")
    apply(kubectl, widget("ssa", tags=["b"]), "--server-side", "--field-manager=two")
    assert json.loads(kubectl("get", "widget", "ssa", "-o", "json").stdout)["spec"]["tags"] == ["a", "b"]
    apply(kubectl, widget("ssa"), "--server-side", "--field-manager=one")  # "one" lets go of its item
    assert json.loads(kubectl("get", "widget", "ssa", "-o", "json").stdout)["spec"]["tags"] == ["b"]
    kubectl("delete", "widget", "ssa")

    # Validation: every violation is named; unknown fields are refused (kubectl sends Strict) or dropped.
    r = apply(kubectl, widget("w", size=20, color="green"), check=False)
    assert r.returncode != 0
    assert "spec.size: Invalid value: 20: should be less than or equal to 10" in r.stderr, r.stderr
    assert 'spec.color: Unsupported value: "green"' in r.stderr, r.stderr
    r = apply(kubectl, widget("w", size=5, tags=["a", "b"], bogus=1), check=False)
    assert r.returncode != 0 and 'unknown field "spec.bogus"' in r.stderr, r.stderr
    r = apply(kubectl, widget("x", bogus=1), "--validate=warn")
    assert 'unknown field "spec.bogus"' in r.stderr, r.stderr
    assert "bogus" not in json.loads(kubectl("get", "widget", "x", "-o", "json").stdout)["spec"]

    # The status and scale subresources at the CRD's paths.
    kubectl("patch", "widget", "w", "--subresource=status", "--type=merge",
            "-p", '{"status":{"replicas":2,"selector":"app=w"}}')
    kubectl("patch", "widget", "w", "--type=merge", "-p", '{"status":{"replicas":9}}')  # main resource: ignored
    kubectl("scale", "widget", "w", "--replicas=4")
    scale = json.loads(kubectl("get", "--raw", "/apis/example.com/v1/namespaces/default/widgets/w/scale").stdout)
    assert scale["spec"]["replicas"] == 4 and scale["status"] == {"replicas": 2, "selector": "app=w"}, scale
    assert json.loads(kubectl("get", "widget", "w", "-o", "json").stdout)["spec"]["replicas"] == 4

    # Deleting the CRD waits for the custom resources' finalizers, refuses new ones, then takes them.
    kubectl("patch", "widget", "w", "--type=merge", "-p", '{"metadata":{"finalizers":["example.com/hold"]}}')
    kubectl("delete", "crd", "widgets.example.com", "--wait=false")
    conditions = json.loads(kubectl("get", "crd", "widgets.example.com", "-o", "json").stdout)["status"]["conditions"]
    assert {c["type"] for c in conditions} == {"NamesAccepted", "Established", "Terminating"}
    assert kubectl("get", "widgets", "-o", "name").stdout.split() == ["widget.example.com/w"]  # x is gone
    r = apply(kubectl, widget("late"), check=False)
    assert r.returncode != 0 and "create not allowed while custom resource definition is terminating" in r.stderr
    kubectl("patch", "widget", "w", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    assert "NotFound" in kubectl("get", "crd", "widgets.example.com", check=False).stderr
    r = kubectl("get", "--raw", "/apis/example.com/v1/namespaces/default/widgets", check=False)
    assert r.returncode != 0 and "NotFound" in r.stderr


def test_crds_that_ask_for_what_tmcd_cannot_enforce_are_refused(kubectl):
    cases = [
        (crd(schema={"openAPIV3Schema": {**SCHEMA, "x-kubernetes-validations": [{"rule": "true"}]}}),
         "CEL validation rules are not supported"),
        (crd(schema={"openAPIV3Schema": {"type": "object", "properties": {"spec": {"description": "untyped"}}}}),
         "properties[spec].type: Required value"),
        (crd(group="apps"), "should be a domain with at least one dot"),
        (crd(group="tmc.kcp.io"), "is served by tmcd itself"),
        (crd(group="widgets.k8s.io"), "api-approved.kubernetes.io"),
    ]
    two = crd()
    two["spec"]["versions"].append(dict(two["spec"]["versions"][0], name="v2", storage=False))
    cases.append((two, "tmcd serves one version"))
    for doc, want in cases:
        r = apply(kubectl, doc, check=False)
        assert r.returncode != 0 and want in r.stderr, (want, r.stderr)
    assert kubectl("get", "crds", "-o", "name").stdout == ""


def test_custom_resources_stay_in_their_workspace(peer_bin, daemon, tmp_path):
    data = tmp_path / "data"
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(data), own_pki=True)
    d.base  # noqa: B018 (started: tmcd's own PKI exists)
    configs = {}
    for user, groups in (("ops", ["system:masters"]), ("alice", []), ("bob", [])):
        args = [TMCD, "kubeconfig", "--data-dir", str(data), "--user", user, "--server", d.base]
        for g in groups:
            args += ["--group", g]
        configs[user] = tmp_path / f"{user}.kubeconfig"
        configs[user].write_text(subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout)

    def k(user, ws, *args, input=None, check=True):
        r = subprocess.run([os.path.join(peer_bin, "kubectl"), "--kubeconfig", str(configs[user]),
                            "--server", f"{d.base}/clusters/{ws}", *args],
                           input=input, capture_output=True, text=True, timeout=60)
        if check:
            assert r.returncode == 0, f"kubectl {' '.join(args)}: {r.stderr}"
        return r

    for user, ws in (("alice", "root:a"), ("bob", "root:b")):
        k("ops", ws, "create", "clusterrolebinding", f"{user}-admin", "--clusterrole=cluster-admin", f"--user={user}")
        k("ops", ws, "create", "namespace", "default")
    k("alice", "root:a", "apply", "-f", "-", input=yaml.safe_dump(crd()))
    k("alice", "root:a", "apply", "-f", "-", input=yaml.safe_dump(widget("secret-plan", size=7)))
    assert k("alice", "root:a", "get", "widgets", "-o", "name").stdout.strip() == "widget.example.com/secret-plan"

    # Bob's workspace does not serve it, and Alice's discovery and schemas are closed to him.
    r = k("bob", "root:b", "get", "--raw", "/apis/example.com/v1/namespaces/default/widgets", check=False)
    assert r.returncode != 0 and "NotFound" in r.stderr, r.stderr
    assert "example.com" not in k("bob", "root:b", "get", "--raw", "/openapi/v3").stdout
    assert "example.com" not in k("bob", "root:b", "get", "--raw", "/apis").stdout
    for path in ("/apis", "/apis/example.com/v1", "/openapi/v3", "/openapi/v3/apis/example.com/v1",
                 "/apis/example.com/v1/namespaces/default/widgets"):
        r = k("bob", "root:a", "get", "--raw", path, check=False)
        assert r.returncode != 0 and "Forbidden" in r.stderr, (path, r.stderr)
    # The same CRD in Bob's workspace is his own: his objects, not Alice's.
    k("bob", "root:b", "apply", "-f", "-", input=yaml.safe_dump(crd()))
    assert k("bob", "root:b", "get", "widgets", "-o", "name").stdout.strip() == ""
    k("bob", "root:b", "delete", "crd", "widgets.example.com")
    assert k("alice", "root:a", "get", "widgets", "-o", "name").stdout.strip() == "widget.example.com/secret-plan"
