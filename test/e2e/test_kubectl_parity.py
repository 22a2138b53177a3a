"""The same kubectl session, command by command, against tmcd's local API and against a real
kube-apiserver: exit codes must match, and so must the resulting objects (compared on the fields tmcd
stores; kube-apiserver adds defaults tmcd's generic kinds do not have). Covers client-side apply twice,
strategic merge patch (set image, patch, edit), merge/JSON patch, label, annotate, scale, server-side
dry-run (create, apply, diff) and delete --wait."""
import json
import os
import pathlib
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
PEERS = ROOT / "test" / "peers"

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
VOLATILE = {"AGE", "READY", "UP-TO-DATE", "AVAILABLE", "CLUSTER-IP"}


def app(image="nginx:1.25", env=None, side=True, replicas=2, port_name="http", cm=None):
    containers = [{"name": "app", "image": image, "ports": [{"containerPort": 80, "name": port_name}],
                   "env": env if env is not None else [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]
    if side:
        containers.append({"name": "side", "image": "busybox:1.36", "command": ["sleep", "1d"]})
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"},
         "data": cm if cm is not None else {"a": "1", "b": "2"}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web", "team": "blue"}},
         "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
         "spec": {"selector": {"app": "web"}, "ports": [{"name": port_name, "port": 80, "targetPort": 80}]}},
    ]


@pytest.fixture(scope="module")
def kube(peer_bin, tmp_path_factory):
    d = tmp_path_factory.mktemp("parity-peer")
    r = subprocess.run([str(PEERS / "up.sh"), str(d), "1"], capture_output=True, text=True, timeout=600)
    try:
        assert r.returncode == 0, f"up.sh failed:\n{r.stdout}\n{r.stderr}"
        yield str(d / "cluster-1" / "kubeconfig")
    finally:
        subprocess.run([str(PEERS / "down.sh"), str(d)], capture_output=True, timeout=120)


@pytest.fixture
def sides(kube, daemon, peer_bin, tmp_path):
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--store-fsync=false")
    return {"tmcd": d.kubeconfig(tmp_path / "tmcd.kubeconfig"), "kube": kube}


def run(peer_bin, config, args, env=None):
    return subprocess.run([os.path.join(peer_bin, "kubectl"), "--kubeconfig", config, *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def prune(value, like):
    """`value` restricted to the keys `like` has (lists element by element)."""
    if isinstance(like, dict) and isinstance(value, dict):
        return {k: prune(value[k], like[k]) for k in like if k in value}
    if isinstance(like, list) and isinstance(value, list) and len(like) == len(value):
        return [prune(v, item) for v, item in zip(value, like)]
    return value


def same_objects(peer_bin, sides, *what):
    got = {}
    for side, config in sides.items():
        r = run(peer_bin, config, ["get", "-n", "shop", "-o", "yaml", *what])
        assert r.returncode == 0, f"{side}: {r.stderr}"
        got[side] = yaml.safe_load(r.stdout)
    t, k = got["tmcd"], got["kube"]
    for doc in (t, k):
        for item in doc.get("items", [doc]):
            md = item["metadata"]
            for f in ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"):
                md.pop(f, None)
            item.pop("status", None)
            md.get("annotations", {}).pop("deployment.kubernetes.io/revision", None)
    assert prune(k, t) == t, f"tmcd and kube-apiserver disagree on {what}:\ntmcd: {t}\nkube: {k}"
    return t


def test_kubectl_session_matches_kube_apiserver(sides, peer_bin, tmp_path):
    files = {}

    def write(name, docs):
        p = tmp_path / name
        p.write_text(yaml.safe_dump_all(docs if isinstance(docs, list) else [docs]))
        files[name] = str(p)
        return str(p)

    write("ns.yaml", [NS, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "shop"},
                           "type": "kubernetes.io/basic-auth", "stringData": {"username": "u", "password": "p"}},
                      {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "bot", "namespace": "shop"}}])
    write("app.yaml", app())
    write("app2.yaml", app(image="nginx:1.26", env=[{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
                           side=False, port_name="web", cm={"a": "1", "c": "3"}))
    write("app3.yaml", app(image="nginx:1.26", env=[{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
                           side=False, port_name="web", cm={"a": "1", "c": "3"}, replicas=9))
    write("extra.yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "extra", "namespace": "shop"},
                         "data": {"x": "1"}})
    ssa = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa", "namespace": "shop"},
           "data": {"k": "1", "mine": "x"}}
    write("ssa.yaml", ssa)
    write("ssa-other.yaml", {**ssa, "data": {"k": "2", "theirs": "z"}})
    write("ssa-less.yaml", {**ssa, "data": {}})
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/image: nginx:1.27/image: nginx:1.28/' \"$1\"\n")
    editor.chmod(0o755)
    steps = [
        (["apply", "-f", files["ns.yaml"]], None),
        (["apply", "-f", files["app.yaml"]], None),
        # kubectl's create generators send protobuf bodies.
        (["create", "namespace", "shop2"], None),
        (["create", "configmap", "gen", "-n", "shop", "--from-literal=a=1", "--from-literal=b=two"], None),
        (["create", "secret", "generic", "gen", "-n", "shop", "--from-literal=p=s3cret"], None),
        (["create", "deployment", "gen", "-n", "shop", "--image=nginx:1.27", "--replicas=0", "--port=8080"], None),
        (["create", "service", "clusterip", "gen", "-n", "shop", "--tcp=80:8080"], None),
        (["create", "serviceaccount", "gen", "-n", "shop"], None),
        (["create", "role", "gen", "-n", "shop", "--verb=get,list", "--resource=configmaps"], None),
        (["create", "rolebinding", "gen", "-n", "shop", "--role=gen", "--user=alice", "--serviceaccount=shop:gen"],
         None),
        (["create", "configmap", "gen", "-n", "shop", "--from-literal=a=1"], None),  # AlreadyExists on both
        (["apply", "-f", files["app2.yaml"]], None),  # the second apply: a strategic merge patch
        (["set", "image", "-n", "shop", "deployment/web", "app=nginx:1.27"], None),
        (["patch", "-n", "shop", "deployment", "web", "-p",
          '{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"NEW","value":"x"}]}]}}}}'], None),
        (["patch", "-n", "shop", "deployment", "web", "--type=merge", "-p", '{"metadata":{"labels":{"m":"1"}}}'], None),
        (["patch", "-n", "shop", "deployment", "web", "--type=json",
          "-p", '[{"op":"add","path":"/metadata/labels/j","value":"1"}]'], None),
        (["patch", "-n", "shop", "service", "web", "-p", '{"spec":{"ports":[{"port":443,"name":"tls"}]}}'], None),
        (["label", "-n", "shop", "deployment", "web", "tier=web", "team-"], None),
        (["annotate", "-n", "shop", "deployment", "web", "note=hello"], None),
        (["scale", "-n", "shop", "deployment", "web", "--replicas=3"], None),
        (["wait", "-n", "shop", "--for=jsonpath={.spec.replicas}=3", "deployment/web", "--timeout=30s"], None),
        (["describe", "-n", "shop", "deployment", "web"], None),
        (["get", "-n", "shop", "configmap", "cfg", "--watch", "--request-timeout=2s"], None),
        (["explain", "namespaces.metadata.name"], None),
        (["apply", "--dry-run=server", "-f", files["app3.yaml"]], None),
        (["create", "--dry-run=server", "-f", files["extra.yaml"]], None),
        (["get", "-n", "shop", "configmap", "extra"], None),  # fails on both: dry-run stored nothing
        (["diff", "-f", files["app3.yaml"]], None),  # exit 1 on both: replicas differ
        (["patch", "-n", "shop", "deployment", "web", "-p",
          '{"spec":{"template":{"spec":{"containers":[{"name":"extra","image":"busybox:1.36"}]}}}}'], None),
        (["edit", "-n", "shop", "deployment", "web"], {"KUBE_EDITOR": str(editor), "EDITOR": str(editor)}),
        (["patch", "-n", "shop", "deployment", "web", "-p", '{"spec":{"template":{"spec":{"$bogus":1}}}}'], None),
        # Server-side apply: create, a conflict with another manager, shared ownership, force.
        (["apply", "--server-side", "-f", files["ssa.yaml"]], None),
        (["apply", "--server-side", "--field-manager=other", "-f", files["ssa-other.yaml"]], None),  # conflict
        (["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", files["ssa-other.yaml"]],
         None),
        (["apply", "--server-side", "-f", files["ssa-less.yaml"]], None),  # drops "mine"
        (["apply", "--server-side", "--dry-run=server", "-f", files["ssa.yaml"]], None),
        (["diff", "--server-side", "-f", files["ssa.yaml"]], None),
    ]
    for args, env in steps:
        codes = {side: run(peer_bin, config, args, env) for side, config in sides.items()}
        assert codes["tmcd"].returncode == codes["kube"].returncode, (
            f"kubectl {' '.join(args)}: tmcd exit {codes['tmcd'].returncode} ({codes['tmcd'].stderr.strip()}), "
            f"kube-apiserver exit {codes['kube'].returncode} ({codes['kube'].stderr.strip()})")
    d = same_objects(peer_bin, sides, "deployment", "web")
    containers = d["spec"]["template"]["spec"]["containers"]
    # Same order on both sides (same_objects compares lists element by element).
    assert sorted(c["name"] for c in containers) == ["app", "extra"]
    assert [c["image"] for c in containers if c["name"] == "app"] == ["nginx:1.28"]
    assert d["spec"]["replicas"] == 3
    assert d["metadata"]["labels"] == {"app": "web", "tier": "web", "m": "1", "j": "1"}
    same_objects(peer_bin, sides, "configmap", "cfg")
    assert same_objects(peer_bin, sides, "configmap", "ssa")["data"] == {"k": "2", "theirs": "z"}
    owners = {}
    for side, config in sides.items():
        got = yaml.safe_load(run(peer_bin, config, ["get", "-n", "shop", "configmap", "ssa", "-o", "yaml", "--show-managed-fields"]).stdout)
        owners[side] = sorted((e["manager"], e["operation"], json.dumps(e["fieldsV1"], sort_keys=True))
                              for e in got["metadata"]["managedFields"])
    assert owners["tmcd"] == owners["kube"], "managedFields differ"
    for what in ("configmap", "secret", "deployment", "service", "serviceaccount", "role", "rolebinding"):
        same_objects(peer_bin, sides, what, "gen")
    assert same_objects(peer_bin, sides, "deployment", "gen")["spec"]["replicas"] == 0
    same_objects(peer_bin, sides, "namespace", "shop2")
    same_objects(peer_bin, sides, "service", "web")
    for what in ("deployment", "service", "configmap", "secret", "serviceaccount", "namespace"):
        tables = {}
        for side, config in sides.items():
            r = run(peer_bin, config, ["get", what, "-o", "wide"] + (["-n", "shop"] if what != "namespace" else ["shop"]))
            assert r.returncode == 0, f"{side}: {r.stderr}"
            lines = [line.split() for line in r.stdout.splitlines()]
            header = lines[0]
            # Values that depend on time, pods (no kubelet runs here) or the IP allocator differ legitimately.
            tables[side] = [{h: v for h, v in zip(header, row) if h not in VOLATILE} for row in lines[1:]
                            if row[0] not in ("default", "kube-root-ca.crt")]  # kube's own, per namespace
            tables[side].insert(0, header)
        assert tables["tmcd"] == tables["kube"], f"kubectl get {what} -o wide differs"
    for side, config in sides.items():
        r = run(peer_bin, config, ["delete", "-n", "shop", "-f", files["app.yaml"], "--wait", "--timeout=60s"])
        assert r.returncode == 0, f"{side}: {r.stderr}"


def test_client_go_program_passes_on_both(sides):
    """Typed clients (protobuf), strategic merge patch, scale, dry-run, apply configurations with a
    conflict, the dynamic client and an informer (test/clientgo/main.go)."""
    r = subprocess.run([str(ROOT / "test" / "clientgo" / "build.sh")], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, f"building the client-go check failed:\n{r.stderr[-4000:]}"
    check = r.stdout.strip().splitlines()[-1]
    for side, config in sides.items():
        r = subprocess.run([check, config, "go-checks"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"{side}: {r.stdout}\n{r.stderr}"
        assert "all checks passed" in r.stdout


def test_official_python_client_passes_on_both(sides):
    from kubernetes import client, config, watch
    from kubernetes.client.rest import ApiException
    for side, path in sides.items():
        api = config.new_client_from_config(config_file=path)
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        ns = "py-checks"
        core.create_namespace({"metadata": {"name": ns}})
        core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"a": "1"}})
        # The client's default patch type for a dict body is strategic merge patch.
        got = core.patch_namespaced_config_map("c", ns, {"data": {"b": "2"}})
        assert got.data == {"a": "1", "b": "2"}, side
        apps.create_namespaced_deployment(ns, {
            "metadata": {"name": "d"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}},
                     "template": {"metadata": {"labels": {"app": "d"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
        scale = apps.patch_namespaced_deployment_scale("d", ns, {"spec": {"replicas": 4}})
        assert scale.spec.replicas == 4, side
        assert apps.read_namespaced_deployment("d", ns).spec.replicas == 4, side
        events = []
        for ev in watch.Watch().stream(core.list_namespaced_config_map, ns, timeout_seconds=5):
            events.append((ev["type"], ev["object"].metadata.name))
            if ("ADDED", "c") in events:
                break
        assert ("ADDED", "c") in events, (side, events)
        try:
            core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
            raise AssertionError("a duplicate create succeeded")
        except ApiException as e:
            assert e.status == 409, (side, e.status)
        core.delete_namespaced_config_map("c", ns)
        assert core.list_namespaced_config_map(ns, field_selector="metadata.name=c").items == [], side


def test_events_match_kube_apiserver(sides, peer_bin, tmp_path):
    """core/v1 Events: kubectl's table (no NAME column, OBJECT as kind/name), field selectors on
    involvedObject, reason, type and source, and validation errors, as kube-apiserver gives them."""
    # Its own namespace: the module's kube-apiserver is shared, and the session test left "shop" there.
    def event(name, reason, type_="Normal", kind="Deployment", obj="web", ns="news"):
        return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "news"},
                "involvedObject": {"apiVersion": "apps/v1", "kind": kind, "name": obj, "namespace": ns},
                "reason": reason, "message": f"{reason} happened", "type": type_, "count": 3,
                "source": {"component": "tester"},
                "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2030-01-01T00:00:00Z"}
    good = tmp_path / "events.yaml"
    good.write_text(yaml.safe_dump_all([{**NS, "metadata": {"name": "news"}}, event("a", "Scheduled"),
                                        event("b", "SyncFailed", "Warning"),
                                        event("c", "Ready", kind="ClusterRegistration", obj="east")]))
    bad_ns = tmp_path / "bad-ns.yaml"
    bad_ns.write_text(yaml.safe_dump(event("d", "X", ns="other")))
    free_type = tmp_path / "free-type.yaml"  # core/v1 does not check the type (events.k8s.io would)
    free_type.write_text(yaml.safe_dump(event("e", "X", type_="Info")))
    steps = [
        ["create", "-f", str(good)],
        ["get", "events", "-n", "news"],
        ["get", "ev", "-n", "news", "-o", "wide"],
        ["get", "events", "-n", "news", "-o", "name", "--field-selector", "involvedObject.kind=Deployment"],
        ["get", "events", "-n", "news", "-o", "name", "--field-selector", "type=Warning,reason=SyncFailed"],
        ["get", "events", "-n", "news", "-o", "name", "--field-selector", "involvedObject.name!=web"],
        ["get", "events", "-n", "news", "-o", "name", "--field-selector", "source=tester"],
        ["get", "events", "-n", "news", "--field-selector", "message=x"],
        ["create", "-f", str(bad_ns)],
        ["create", "-f", str(free_type)],
        ["get", "events", "-n", "news", "-o", "name", "--field-selector", "type=Info"],
    ]
    for step in steps:
        out = {}
        for side, config in sides.items():
            r = run(peer_bin, config, step)
            # kube's wording names its own validation paths; the exit code and the field must match.
            out[side] = (r.returncode, r.stdout.replace("  ", " ") if r.returncode == 0 else "")
            if step[0] == "create" and r.returncode != 0:
                assert "involvedObject.namespace" in r.stderr, f"{side}: {step}: {r.stderr}"
            if "message=x" in step:
                assert "field label not supported: message" in r.stderr, f"{side}: {r.stderr}"
        t = [" ".join(line.split()) for line in out["tmcd"][1].splitlines()]
        k = [" ".join(line.split()) for line in out["kube"][1].splitlines()]
        assert out["tmcd"][0] == out["kube"][0] and t == k, f"{step}:\ntmcd: {out['tmcd']}\nkube: {out['kube']}"
