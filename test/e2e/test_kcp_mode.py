"""tmcd in kcp mode (upstream.kind: kcp) against a real kcp v0.27.1: the export is bootstrapped,
bound tenants are cached under their logical clusters and kept apart, the local API serves the
cache read-only, and tmcd survives kill -9, binding deletion, a kcp restart and bad configurations
with a clear /readyz reason instead of a crash."""
import json
import os
import signal
import subprocess
import time

import pytest
import requests
import yaml

from conftest import PEERS
from daemon import anonymous_session, eventually


def get(base, path):
    r = requests.get(base + path, timeout=10)  # as the test administrator (test/integration/daemon.py)
    try:
        return r.status_code, r.json() if "json" in r.headers.get("Content-Type", "") else r.text
    except ValueError:
        return r.status_code, r.text


def metric(base, name):
    _, text = get(base, "/metrics")
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            if line.split(" ")[0] == name or line.split(" ")[0].startswith(name + "{"):
                yield line.split(" ")[0], float(line.split(" ")[1])


def kcp_stat(base, value):
    return dict(metric(base, "tmcd_upstream_kcp")).get(f'tmcd_upstream_kcp{{value="{value}"}}')


def start_kcp_mode(daemon, kcp, data_dir, provider, *extra, kubeconfig=None, context="root"):
    os.chmod(kubeconfig or kcp.kubeconfig, 0o600)  # tmcd refuses a credentials file others can read
    return daemon("--data-dir", str(data_dir), "--upstream", "kcp", "--upstream-kubeconfig",
                  str(kubeconfig or kcp.kubeconfig), "--upstream-context", context, "--upstream-workspace", provider,
                  *extra)


def wait_ready(d, timeout=90):
    eventually(lambda: get(d.base, "/readyz")[0] == 200, timeout, "readyz 200: " + str(get(d.base, "/readyz")))


def items(d, lc, path):
    code, body = get(d.base, f"/clusters/{lc}/{path}")
    assert code == 200, body
    return body["items"]


def deployment(name, image, replicas=1):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "apps"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}}}


def admin_token(kcp):
    cfg = yaml.safe_load(kcp.kubeconfig.read_text())
    return next(u["user"]["token"] for u in cfg["users"] if u["name"] == "kcp-admin")


def test_tenants_are_cached_apart_and_survive_restarts(kcp_peer, daemon, tmp_path):
    kcp = kcp_peer
    kcp.workspace("tmc-e2e")
    # kcp issues new admin tokens when it restarts: tmcd reads its token from a file, as with a
    # rotated service-account token, and the test rotates it.
    token_file = tmp_path / "token"
    token_file.write_text(admin_token(kcp))
    kubeconfig = kubeconfig_variant(kcp, tmp_path, "rotating", user={"token": None, "tokenFile": str(token_file)})
    start = lambda: start_kcp_mode(daemon, kcp, tmp_path / "data", "root:tmc-e2e", kubeconfig=kubeconfig)  # noqa: E731
    d = start()
    wait_ready(d)
    assert "bootstrapping" not in d.log()
    lcs = {}
    for t in ("a", "b"):
        ws = f"root:tenant-{t}"
        lcs[t] = kcp.workspace(f"tenant-{t}")
        kcp.bind(ws, "root:tmc-e2e")
        kcp.apply(ws, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}})
        kcp.apply(ws, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "namespace": "apps"},
                       "data": {"tenant": t}})
        kcp.apply(ws, deployment("web", f"nginx:{t}"))
        kcp.apply(ws, {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration",
                       "metadata": {"name": "edge"},
                       "spec": {"location": f"loc-{t}", "endpoint": {"server": "https://10.0.0.1:6443"}}})
    # Same names in both tenants, distinct objects, each under its own logical cluster only.
    for t, lc in lcs.items():
        deps = eventually(lambda: items(d, lc, "apis/apps/v1/namespaces/apps/deployments"), what=f"{t}'s deployment")
        assert [x["spec"]["template"]["spec"]["containers"][0]["image"] for x in deps] == [f"nginx:{t}"]
        assert deps[0]["metadata"]["annotations"]["kcp.io/cluster"] == lc
        regs = eventually(lambda: items(d, lc, "apis/tmc.kcp.io/v1alpha1/clusterregistrations"))
        assert [r["spec"]["location"] for r in regs] == [f"loc-{t}"]
        cms = eventually(lambda: [c for c in items(d, lc, "api/v1/namespaces/apps/configmaps") if c["metadata"]["name"] == "conf"])
        assert cms[0]["data"] == {"tenant": t}
    kcp_uid = json.loads(kcp.kubectl("root:tenant-a", "get", "deployment", "web", "-n", "apps", "-o", "json").stdout)
    got = get(d.base, f"/clusters/{lcs['a']}/apis/apps/v1/namespaces/apps/deployments/web")[1]
    assert got["metadata"]["uid"] == kcp_uid["metadata"]["uid"]  # kcp's identity, not a local one
    assert "managedFields" not in got["metadata"]

    # The cache is read-only: writes get 405 with a message that says where to write.
    r = requests.delete(f"{d.base}/clusters/{lcs['a']}/apis/apps/v1/namespaces/apps/deployments/web", timeout=10)
    body = r.json()
    assert r.status_code == 405 and body["reason"] == "MethodNotAllowed" and "write to the workspace in kcp" in body["message"]
    # ...and it needs credentials like every request.
    assert anonymous_session().get(f"{d.base}/clusters/{lcs['a']}/apis/apps/v1/deployments", timeout=10).status_code == 401

    # kill -9, change things while tmcd is down, restart: it resumes from its saved resourceVersions
    # (no full lists), applies what it missed, and duplicates nothing.
    time.sleep(2)  # let a resume point be saved
    d.kill()
    kcp.kubectl("root:tenant-a", "scale", "deployment", "web", "-n", "apps", "--replicas=3")
    kcp.kubectl("root:tenant-b", "delete", "configmap", "conf", "-n", "apps")
    d2 = start()
    wait_ready(d2)
    eventually(lambda: items(d2, lcs["a"], "apis/apps/v1/namespaces/apps/deployments")[0]["spec"]["replicas"] == 3,
               what="the scale made while tmcd was down")
    eventually(lambda: not [c for c in items(d2, lcs["b"], "api/v1/namespaces/apps/configmaps")
                            if c["metadata"]["name"] == "conf"], what="the delete made while tmcd was down")
    # One informer per cached resource: 3 TMC kinds, 12 workload kinds, 4 claimed core kinds.
    assert kcp_stat(d2.base, "resumed_informers") == 19
    assert kcp_stat(d2.base, "lists") == 0, "a resumable restart must not list everything again"
    for t, lc in lcs.items():
        assert len(items(d2, lc, "apis/apps/v1/namespaces/apps/deployments")) == 1
        assert len(items(d2, lc, "apis/tmc.kcp.io/v1alpha1/clusterregistrations")) == 1

    # kcp restarts under tmcd: the informers recover and later changes still arrive.
    r = subprocess.run([str(PEERS / "restart-kcp.sh"), str(kcp.dir), "3"], capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stderr
    token_file.write_text(admin_token(kcp))
    kcp.apply("root:tenant-a", {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration",
                                "metadata": {"name": "after-restart"},
                                "spec": {"location": "x", "endpoint": {"server": "https://10.0.0.2:6443"}}})
    eventually(lambda: len(items(d2, lcs["a"], "apis/tmc.kcp.io/v1alpha1/clusterregistrations")) == 2, 120,
               "an object created after the kcp restart")
    assert d2.proc.poll() is None

    # Deleting tenant b's binding removes b's objects from the cache and leaves a's.
    kcp.kubectl("root:tenant-b", "delete", "apibinding", "tmc")
    eventually(lambda: not items(d2, lcs["b"], "apis/apps/v1/namespaces/apps/deployments")
               and not items(d2, lcs["b"], "api/v1/namespaces"), what="b's objects leaving the cache")
    assert len(items(d2, lcs["a"], "apis/apps/v1/namespaces/apps/deployments")) == 1
    # The binding's delete event and the wildcard informers' delete events arrive on separate watches:
    # the objects may leave the cache (relist after the resources vanished) before the binding event.
    eventually(lambda: "binding in " + lcs["b"] + " was deleted" in d2.log(), what="the binding deletion logged")
    assert d2.stop() == 0


def kubeconfig_variant(kcp, tmp_path, name, **changes):
    cfg = yaml.safe_load(kcp.kubeconfig.read_text())
    for c in cfg["clusters"]:
        c["cluster"].update(changes.get("cluster", {}))
    ctx = next(c for c in cfg["contexts"] if c["name"] == "root")
    ctx["context"].update(changes.get("context", {}))
    user = next(u for u in cfg["users"] if u["name"] == ctx["context"]["user"])
    for k, v in changes.get("user", {}).items():
        if v is None:
            user["user"].pop(k, None)
        else:
            user["user"][k] = v
    out = tmp_path / f"{name}.kubeconfig"
    out.write_text(yaml.safe_dump(cfg))
    return out


@pytest.mark.parametrize("case", ["unreachable", "wrong-ca", "not-a-workspace", "no-content-rights"])
def test_bad_configurations_leave_tmcd_up_and_not_ready(kcp_peer, daemon, tmp_path, case):
    kcp = kcp_peer
    provider, kubeconfig, want = "root:tmc-e2e", kcp.kubeconfig, ""
    if case == "unreachable":
        kubeconfig = kubeconfig_variant(kcp, tmp_path, case, cluster={"server": "https://127.0.0.1:1/clusters/root"})
        want = "connect"
    elif case == "wrong-ca":
        other = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "/dev/null",
                                "-subj", "/CN=not-kcp", "-days", "1"], capture_output=True, check=True).stdout
        import base64
        kubeconfig = kubeconfig_variant(kcp, tmp_path, case,
                                        cluster={"certificate-authority-data": base64.b64encode(other).decode()})
        want = "certificate"
    elif case == "not-a-workspace":
        provider, want = "root:no-such-workspace", "root:no-such-workspace"
    else:
        # A user with rights on the export objects but not on apiexports/content (the virtual workspace).
        ws = "tmc-norights"
        kcp.workspace(ws)
        rules = [{"apiGroups": ["apis.kcp.io"],
                  "resources": ["apiresourceschemas", "apiexports", "apiexportendpointslices"],
                  "verbs": ["get", "list", "watch", "create", "update"]},
                 {"nonResourceURLs": ["/"], "verbs": ["access"]}]
        kcp.apply(f"root:{ws}", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                                 "metadata": {"name": "tmcd-without-content"}, "rules": rules})
        kcp.apply(f"root:{ws}", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                                 "metadata": {"name": "tmcd-without-content"},
                                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                             "name": "tmcd-without-content"},
                                 "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                               "name": "user"}]})
        kubeconfig = kubeconfig_variant(kcp, tmp_path, case, context={"user": "user"})
        provider, want = f"root:{ws}", "forbidden"
    d = start_kcp_mode(daemon, kcp, tmp_path / "data", provider, kubeconfig=kubeconfig)
    code, why = eventually(lambda: (lambda r: r if r[0] == 503 and want in str(r[1]).lower() else None)(
        get(d.base, "/readyz")), 60, f"a not-ready /readyz naming {want!r}")
    print(case, "->", why)
    assert get(d.base, "/healthz")[0] == 200
    assert d.proc.poll() is None, "tmcd must not exit on a connection or permission problem"
    assert "kcp upstream not ready" in d.log()
    assert d.stop() == 0


def test_least_privilege_rbac_and_workspace_type(kcp_peer, daemon, tmp_path):
    """config/kcp/rbac is enough for tmcd (a non-admin user), and a workspace of the example type
    (config/kcp/examples/workspacetype.yaml) is bound and followed without an APIBinding of its own."""
    from conftest import ROOT
    kcp = kcp_peer
    ws = "tmc-rbac"
    kcp.workspace(ws)
    kcp.kubectl(f"root:{ws}", "apply", "-f", str(ROOT / "config/kcp/rbac/provider-clusterrole.yaml"))
    kcp.kubectl(f"root:{ws}", "apply", "-f", str(ROOT / "config/kcp/rbac/consumer-bind.yaml"))
    binding = yaml.safe_load((ROOT / "config/kcp/rbac/provider-clusterrolebinding.yaml").read_text())
    binding["subjects"][0]["name"] = "user"
    kcp.apply(f"root:{ws}", binding)
    d = start_kcp_mode(daemon, kcp, tmp_path / "data", f"root:{ws}",
                       kubeconfig=kubeconfig_variant(kcp, tmp_path, "user", context={"user": "user"}))
    wait_ready(d)
    wst = yaml.safe_load((ROOT / "config/kcp/examples/workspacetype.yaml").read_text())
    wst["metadata"]["name"] = "tmc-rbac-tenant"
    wst["spec"]["defaultAPIBindings"][0]["path"] = f"root:{ws}"
    kcp.apply("root", wst)
    kcp.apply("root", {"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace", "metadata": {"name": "typed"},
                       "spec": {"type": {"name": "tmc-rbac-tenant", "path": "root"}}})
    eventually(lambda: json.loads(kcp.kubectl("root", "get", "workspace", "typed", "-o", "json").stdout)
               .get("status", {}).get("phase") == "Ready", 120, "the typed workspace Ready")
    lc = json.loads(kcp.kubectl("root", "get", "workspace", "typed", "-o", "json").stdout)["spec"]["cluster"]
    kcp.bind("root:typed", f"root:{ws}")  # served already through the default binding: returns at once
    kcp.apply("root:typed", {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration",
                             "metadata": {"name": "typed-edge"},
                             "spec": {"location": "l", "endpoint": {"server": "https://10.0.0.3:6443"}}})
    regs = eventually(lambda: items(d, lc, "apis/tmc.kcp.io/v1alpha1/clusterregistrations"), 60,
                      "the typed workspace's registration in the cache")
    assert [r["metadata"]["name"] for r in regs] == ["typed-edge"]
    assert d.stop() == 0


def test_cluster_controller_in_kcp_mode(kcp_peer, clusters, daemon, tmp_path):
    """A ClusterRegistration and its credentials Secret created in a tenant workspace in kcp: tmcd
    reads both from its cache, probes the real kube-apiserver and writes Ready back to kcp, to that
    tenant's object only."""
    import base64
    import pathlib
    kcp = kcp_peer
    kcp.workspace("tmc-ctl")
    d = start_kcp_mode(daemon, kcp, tmp_path / "data", "root:tmc-ctl")
    wait_ready(d)
    peer_dir = pathlib.Path(clusters[0].kubeconfig).parent
    server = (peer_dir / "server").read_text().strip()
    token = (peer_dir / "token").read_text().strip()
    ca = (peer_dir / "certs" / "apiserver.crt").read_bytes()
    for t in ("ctl-a", "ctl-b"):
        kcp.workspace(t)
        kcp.bind(f"root:{t}", "root:tmc-ctl")
        kcp.apply(f"root:{t}", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tmc"}})
    kcp.apply("root:ctl-a", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "tmc"},
                             "data": {"token": base64.b64encode(token.encode()).decode()}})
    reg = {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration", "metadata": {"name": "edge"},
           "spec": {"location": "lab", "endpoint": {"server": server, "caBundle": base64.b64encode(ca).decode()},
                    "credentialsRef": {"namespace": "tmc", "name": "creds"},
                    "healthCheck": {"periodSeconds": 2, "timeoutSeconds": 1}}}
    kcp.apply("root:ctl-a", reg)
    kcp.apply("root:ctl-b", reg)  # same name, but tenant b has no such Secret

    def conditions(ws):
        obj = json.loads(kcp.kubectl(ws, "get", "clusterregistration", "edge", "-o", "json").stdout)
        return {c["type"]: c for c in obj.get("status", {}).get("conditions", [])}, obj

    a = eventually(lambda: (lambda c: c[0] if c[0].get("Ready", {}).get("status") == "True" else None)(
        conditions("root:ctl-a")), 60, "tenant a's registration Ready in kcp")
    obj = conditions("root:ctl-a")[1]
    kube_system = clusters[0].get_json("namespace", "kube-system")["metadata"]["uid"]
    assert obj["status"]["clusterID"] == kube_system
    assert obj["status"]["kubernetesVersion"].startswith("v1.35")
    assert a["Authenticated"]["status"] == "True"
    b = eventually(lambda: (lambda c: c[0] if c[0].get("Authenticated", {}).get("reason") == "SecretNotFound"
                            else None)(conditions("root:ctl-b")), 60, "tenant b's registration without its Secret")
    assert b["Ready"]["status"] == "False"  # a's Secret is not visible to b's registration

    # The failure matrix, from kcp: a wrong token, a wrong CA, a malformed Secret, a stopped apiserver
    # (Ready=False only after the threshold, Ready again when it answers), and an endpoint re-pointed at
    # another cluster. Each condition is written back to the tenant's object in kcp.
    import os
    import signal
    import subprocess
    other = clusters[1]
    other_dir = pathlib.Path(other.kubeconfig).parent
    kcp.apply("root:ctl-a", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "wrong", "namespace": "tmc"},
                             "data": {"token": base64.b64encode(b"not-a-token").decode()}})
    kcp.apply("root:ctl-a", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "empty", "namespace": "tmc"},
                             "data": {"unrelated": base64.b64encode(b"x").decode()}})
    other_ca = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "/dev/null",
                               "-subj", "/CN=other", "-days", "1"], capture_output=True, check=True).stdout
    for name, creds, ca_pem in (("bad-token", "wrong", ca), ("bad-ca", "creds", other_ca), ("bad-secret", "empty", ca)):
        bad = json.loads(json.dumps(reg))
        bad["metadata"]["name"] = name
        bad["spec"]["credentialsRef"]["name"] = creds
        bad["spec"]["endpoint"]["caBundle"] = base64.b64encode(ca_pem).decode()
        kcp.apply("root:ctl-a", bad)

    def cond_of(name, ctype):
        obj = json.loads(kcp.kubectl("root:ctl-a", "get", "clusterregistration", name, "-o", "json").stdout)
        return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == ctype), {})
    eventually(lambda: cond_of("bad-token", "Authenticated").get("reason") == "Unauthorized", 60, "wrong token")
    eventually(lambda: cond_of("bad-ca", "Reachable").get("reason") == "TLSError", 60, "wrong CA")
    eventually(lambda: cond_of("bad-secret", "Authenticated").get("reason") == "CredentialsInvalid", 60, "bad Secret")

    pid = int((peer_dir / "apiserver.pid").read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        eventually(lambda: cond_of("edge", "Reachable").get("reason") == "Unreachable", 30, "unreachable")
        eventually(lambda: cond_of("edge", "Ready").get("status") == "False", 30, "Ready=False after the threshold")
    finally:
        os.kill(pid, signal.SIGCONT)
    eventually(lambda: cond_of("edge", "Ready").get("status") == "True", 60, "Ready again")
    repointed = json.loads(json.dumps(reg))
    repointed["spec"]["endpoint"] = {"server": (other_dir / "server").read_text().strip(),
                                     "caBundle": base64.b64encode((other_dir / "certs" / "apiserver.crt").read_bytes()).decode()}
    kcp.apply("root:ctl-a", repointed)
    eventually(lambda: cond_of("edge", "Ready").get("reason") == "ClusterIDChanged", 60, "re-pointed endpoint")
    assert d.proc.poll() is None
    assert d.stop() == 0


def test_workloads_sync_from_kcp_tenants_to_clusters(kcp_peer, clusters, daemon, tmp_path):
    """The workload path in kcp mode: two tenants with the same namespace and Deployment name; the
    placement of each sees only its own workspace's clusters; copies land in per-tenant namespaces;
    status, finalizer and state labels are written back to kcp; deletion in kcp removes the copies.
    Other kinds (kinds_in_kcp) and another export's custom resource (kcp_widgets) go the same way."""
    import base64
    import pathlib
    from kcp_widgets import bind_widgets, widgets_export, widgets_in_kcp
    from checker import downstream_ns, hash_name
    from test_sync import deployment as sync_deployment, downstream, placement
    kcp = kcp_peer
    kcp.workspace("tmc-sync")
    claim, claimed = widgets_export(kcp)
    d = start_kcp_mode(daemon, kcp, tmp_path / "data", "root:tmc-sync", "--upstream-claimed-resources", claimed)
    wait_ready(d)
    lcs, peers = {}, []
    for c in clusters:
        p = pathlib.Path(c.kubeconfig).parent
        peers.append({"server": (p / "server").read_text().strip(), "token": (p / "token").read_text().strip(),
                      "ca": base64.b64encode((p / "certs" / "apiserver.crt").read_bytes()).decode()})
    for t, names in (("a", ["east", "west"]), ("b", ["east"])):
        ws = f"root:sync-{t}"
        lcs[t] = kcp.workspace(f"sync-{t}")
        bind_widgets(kcp, ws)
        kcp.bind(ws, "root:tmc-sync", [claim])
        for ns in ("tmc", "shop"):
            kcp.apply(ws, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for i, name in enumerate(names):
            kcp.apply(ws, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "tmc"},
                           "data": {"token": base64.b64encode(peers[i]["token"].encode()).decode()}})
            kcp.apply(ws, {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration",
                           "metadata": {"name": name},
                           "spec": {"location": "lab", "endpoint": {"server": peers[i]["server"], "caBundle": peers[i]["ca"]},
                                    "credentialsRef": {"namespace": "tmc", "name": name},
                                    "healthCheck": {"periodSeconds": 2, "timeoutSeconds": 1}}})
        kcp.apply(ws, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "namespace": "shop"},
                       "data": {"tenant": t}})
        kcp.apply(ws, placement("web"))
        kcp.apply(ws, sync_deployment("web"))

    def kcp_get(t, *what):
        r = kcp.kubectl(f"root:sync-{t}", "get", *what, "-o", "json", check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    ns_a, ns_b = downstream_ns(lcs["a"], "shop"), downstream_ns(lcs["b"], "shop")
    for c in clusters:
        got = eventually(lambda: downstream(c, ns_a, "deployment", "web"), 90, "tenant a's copy")
        assert got["metadata"]["labels"]["tmc.kcp.io/workspace"] == hash_name(lcs["a"], 12)
        assert json.loads(got["metadata"]["annotations"]["tmc.kcp.io/upstream"])["workspace"] == lcs["a"]
        assert downstream(c, ns_a, "configmap", "conf")["data"] == {"tenant": "a"}
    assert eventually(lambda: downstream(clusters[0], ns_b, "configmap", "conf"), 90)["data"] == {"tenant": "b"}
    assert downstream(clusters[1], ns_b, "deployment", "web") is None  # b never registered the second cluster

    # Written back to kcp: decisions, finalizer, state labels, aggregated status.
    wp = eventually(lambda: (kcp_get("a", "workloadplacement", "web", "-n", "shop") or {}).get("status"), 60)
    assert sorted(x["clusterName"] for x in wp["decisions"]) == ["east", "west"]
    up = eventually(lambda: (lambda o: o if o and o.get("status", {}).get("replicas") == 2 else None)(
        kcp_get("a", "deployment", "web", "-n", "shop")), 90, "aggregated status in kcp")
    assert "tmc.kcp.io/syncer" in up["metadata"]["finalizers"]
    assert sum(1 for k in up["metadata"]["labels"] if k.startswith("state.tmc.kcp.io/")) == 2
    assert set(json.loads(up["metadata"]["annotations"]["tmc.kcp.io/cluster-status"])) == {"east", "west"}

    # Events go to the tenant's own workspace in kcp (the events claim): the placement's decision, one
    # Synced per copy, the clusters turning Ready; tenant b's name only b's clusters.
    def kcp_events(t, ns):
        return [(e["reason"], e["involvedObject"]["kind"], e["involvedObject"]["name"], e["message"],
                 e["involvedObject"].get("uid")) for e in (kcp_get(t, "events", "-n", ns) or {"items": []})["items"]]
    synced = eventually(lambda: (lambda s: len(s) == 2 and s)(
        [e for e in kcp_events("a", "shop") if e[0] == "Synced" and e[1] == "Deployment"]), 60, "Synced events in kcp")
    assert sorted(e[3].split(":")[0] for e in synced) == ["cluster east", "cluster west"]
    assert {e[4] for e in synced} == {up["metadata"]["uid"]}  # kcp's uid, so kubectl describe finds them
    assert any(e[0] == "Scheduled" and e[1] == "WorkloadPlacement" for e in kcp_events("a", "shop"))
    eventually(lambda: {e[2] for e in kcp_events("a", "default") if e[0] == "ClusterReady"} == {"east", "west"}, 30,
               "ClusterReady events in kcp")
    assert [e[3].split(":")[0] for e in kcp_events("b", "shop") if e[0] == "Synced"] == ["cluster east"]

    # Scaling in kcp reaches both clusters; deleting in kcp removes the copies, then the finalizer.
    kcp.kubectl("root:sync-a", "scale", "deployment", "web", "-n", "shop", "--replicas=3")
    for c in clusters:
        eventually(lambda: downstream(c, ns_a, "deployment", "web")["spec"]["replicas"] == 3, 60, "scale from kcp")
    kinds_in_kcp(kcp, kcp_get, clusters, ns_a)
    widgets_in_kcp(kcp, kcp_get, clusters, ns_a, ns_b)
    assert [i["metadata"]["name"] for i in items(d, lcs["a"], "apis/tmc.kcp.io/v1alpha1/resourceinterpreters")] == \
        ["widgets.example.com"]  # cached from kcp, served read-only
    assert len(items(d, lcs["b"], "apis/tmc.kcp.io/v1alpha1/resourceinterpreters")) == 1  # b's, refused
    kcp.kubectl("root:sync-a", "delete", "deployment", "web", "-n", "shop", "--wait=false")
    eventually(lambda: kcp_get("a", "deployment", "web", "-n", "shop") is None, 90, "deleted in kcp")
    for c in clusters:
        assert downstream(c, ns_a, "deployment", "web") is None
    assert downstream(clusters[0], ns_b, "deployment", "web") is not None  # tenant b untouched
    assert d.stop() == 0


def hpa_owns_replicas(cluster, ns, name):
    r = cluster.kubectl("get", "deployment", name, "-n", ns, "-o", "json", "--show-managed-fields", check=False)
    if r.returncode != 0:
        return False
    fields = [json.dumps(m.get("fieldsV1", {})) for m in json.loads(r.stdout)["metadata"]["managedFields"]
              if m["manager"] == "tmcd"]
    return bool(fields) and '"f:template"' in fields[0] and '"f:replicas"' not in fields[0]


def kinds_in_kcp(kcp, kcp_get, clusters, ns):
    """Other kinds through the APIExport's schemas (kcp serves none of them): a Job that completes on
    both clusters, a DaemonSet, an Ingress with its backend Service, a StatefulSet with a PVC template
    and its headless Service, a CronJob, an HPA with its target; status written back to kcp."""
    from test_kinds import meta, placement as kinds_placement, template
    from test_sync import downstream
    ws = "root:sync-a"
    kcp.apply(ws, kinds_placement("kinds"))
    kcp.apply(ws, {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta("once"),
                   "spec": {"completions": 2, "template": template({"pod": "once"}, restartPolicy="Never")}})
    kcp.apply(ws, {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta("agent"),
                   "spec": {"selector": {"matchLabels": {"pod": "agent"}}, "template": template({"pod": "agent"})}})
    kcp.apply(ws, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "front", "namespace": "shop"},
                   "spec": {"selector": {"pod": "front"}, "ports": [{"port": 80}]}})
    kcp.apply(ws, {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("front"),
                   "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                       "service": {"name": "front", "port": {"number": 80}}}}]}}]}})
    kcp.apply(ws, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "shop"},
                   "spec": {"clusterIP": "None", "selector": {"pod": "db"}, "ports": [{"port": 5432}]}})
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                     "resources": {"requests": {"storage": "1Gi"}}}}
    kcp.apply(ws, {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("db"),
                   "spec": {"replicas": 1, "serviceName": "db", "selector": {"matchLabels": {"pod": "db"}},
                            "template": template({"pod": "db"}), "volumeClaimTemplates": [claim]}})
    kcp.apply(ws, {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("tick"),
                   "spec": {"schedule": "0 0 1 1 *", "jobTemplate": {"spec": {
                       "template": template({"pod": "tick"}, restartPolicy="Never")}}}})
    kcp.apply(ws, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("scaled"),
                   "spec": {"replicas": 1, "selector": {"matchLabels": {"pod": "scaled"}},
                            "template": template({"pod": "scaled"})}})
    kcp.apply(ws, {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta("scaled"),
                   "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "scaled"},
                            "minReplicas": 2, "maxReplicas": 3}})
    for c in clusters:
        eventually(lambda: downstream(c, ns, "ingress", "front"), 90, "the Ingress from kcp")
        eventually(lambda: downstream(c, ns, "service", "front"), 30, "the Ingress's Service")
        sts = eventually(lambda: downstream(c, ns, "statefulset", "db"), 60, "the StatefulSet from kcp")
        assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
        eventually(lambda: downstream(c, ns, "service", "db"), 30, "the StatefulSet's headless Service")
        assert eventually(lambda: downstream(c, ns, "cronjob", "tick"), 30)["spec"]["schedule"] == "0 0 1 1 *"
        eventually(lambda: downstream(c, ns, "hpa", "scaled"), 30, "the HPA from kcp")
        # The cluster's HPA owns the target's replica count: tmcd's apply leaves it out.
        eventually(lambda: hpa_owns_replicas(c, ns, "scaled"), 60, "tmcd's apply without the HPA's replicas")
    sts_up = eventually(lambda: (kcp_get("a", "statefulset", "db", "-n", "shop") or {}).get("status", {})
                        .get("replicas"), 60, "the StatefulSet's status in kcp")
    assert sts_up == 1  # Duplicated: each cluster runs the one replica

    def complete():
        st = (kcp_get("a", "job", "once", "-n", "shop") or {}).get("status", {})
        return {x["type"]: x["status"] for x in st.get("conditions", [])}.get("Complete") == "True" and st
    st = eventually(complete, 120, "the Job Complete in kcp")
    assert st["succeeded"] == 2  # two completions on each of the two clusters
    ds = eventually(lambda: (lambda o: o.get("status", {}).get("numberAvailable") == 2 and o["status"])(
        kcp_get("a", "daemonset", "agent", "-n", "shop") or {}), 90, "the DaemonSet summed in kcp")
    assert ds["desiredNumberScheduled"] == 2
    kcp.kubectl(ws, "delete", "job", "once", "-n", "shop", "--wait=false")
    for c in clusters:
        eventually(lambda: downstream(c, ns, "job", "once") is None, 90, "the Job removed downstream")


def test_tmcctl_in_kcp_mode(kcp_peer, clusters, daemon, tmp_path):
    """tmcctl's operator flow against a tenant workspace in kcp (tmcctl_kcp.py)."""
    from tmcctl_kcp import tmcctl_flow_in_kcp
    kcp = kcp_peer
    kcp.workspace("tmc-cli")
    d = start_kcp_mode(daemon, kcp, tmp_path / "data", "root:tmc-cli")
    wait_ready(d)
    lc = kcp.workspace("cli-a")
    kcp.bind("root:cli-a", "root:tmc-cli")
    tmcctl_flow_in_kcp(kcp, clusters[0], d, lc)
    assert d.stop() == 0
