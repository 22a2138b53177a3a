"""tmcctl's whole operator flow against a real tmcd and two real kube-apiservers (issue 18): register each
cluster from an administrator's kubeconfig — the cluster turns Ready using only the least-privilege
ServiceAccount tmcctl made — place Deployments with `placement create`, read them back with `workload
status|where` and `cluster describe`, cordon/taint, `drain` moves a copy away, and `deregister` leaves
nothing of tmcd on the cluster (checked by listing every kind it could have left)."""
import base64
import json
import os
import re
import select
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from tmcctl_helpers import check_golden, eventually, ok, result, tmcctl  # noqa: E402


def cluster_dir(c):
    return os.path.dirname(c.kubeconfig)


def leftovers(c):
    """Everything of tmcd on a cluster: its identity, namespaces and marked objects."""
    found = []
    for kind in ("clusterroles", "clusterrolebindings"):
        found += [n for n in c.kubectl("get", kind, "-o", "name").stdout.split() if "tmcd-" in n]
    found += [n for n in c.kubectl("get", "namespaces", "-o", "name").stdout.split()
              if n in ("namespace/tmc-system",) or n.startswith("namespace/tmc-")]
    for kind in ("serviceaccounts", "deployments", "configmaps", "secrets"):
        found += c.kubectl("get", kind, "-A", "-l", "tmc.kcp.io/managed-by=tmcd", "-o", "name").stdout.split()
        found += c.kubectl("get", kind, "-A", "-l", "app.kubernetes.io/managed-by=tmcctl", "-o", "name").stdout.split()
    return found


def test_register_place_drain_deregister(clusters, daemon, tmp_path, peer_bin):
    d = daemon("--data-dir", str(tmp_path / "data"), "--store-fsync=false")
    t = ["--socket", d.unix_path]
    admin = d.kubeconfig(tmp_path / "admin.kubeconfig")
    east, west = clusters[0], clusters[1]
    for name, c, loc in (("east", east, "us-east"), ("west", west, "us-west")):
        r = ok(*t, "cluster", "register", name, "--cluster-kubeconfig", c.kubeconfig, "--ca-file",
               os.path.join(cluster_dir(c), "certs", "apiserver.crt"), "--location", loc, "--labels", "tier=edge",
               "--wait", "--timeout", "60")
        check_golden(f"e2e-register-{name}", result(r))
    # The identity tmcd uses is the ServiceAccount, and it can do only what the ClusterRole lists.
    reg = json.loads(ok("--kubeconfig", admin, "-o", "json", "cluster", "get", "east").stdout)
    assert reg["spec"]["credentialsRef"] == {"namespace": "tmc", "name": "east-credentials"}
    kubectl_tmcd = [os.path.join(peer_bin, "kubectl"), "--kubeconfig", admin]
    raw = subprocess.run([*kubectl_tmcd, "-n", "tmc", "get", "secret", "east-credentials", "-o", "json"],
                         capture_output=True, text=True, check=True).stdout
    token = base64.b64decode(json.loads(raw)["data"]["token"]).decode()
    as_sa = ["--token", token]
    who = east.kubectl(*as_sa, "auth", "whoami", "-o", "json", check=False)
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["status"]["userInfo"]["username"].startswith("system:serviceaccount:tmc-system:tmcd-east-")
    can = {q: east.kubectl(*as_sa, "auth", "can-i", *q.split(), check=False).stdout.strip()
           for q in ("create deployments.apps -n any", "delete namespaces", "list nodes", "create clusterroles",
                     "delete nodes", "create pods -n any", "* *", "escalate clusterroles", "get secrets -n any")}
    assert can == {"create deployments.apps -n any": "yes", "delete namespaces": "yes", "list nodes": "yes",
                   "create clusterroles": "no", "delete nodes": "no", "create pods -n any": "no", "* *": "no",
                   "escalate clusterroles": "no", "get secrets -n any": "yes"}, can
    check_golden("e2e-cluster-list", result(ok("--kubeconfig", admin, "cluster", "list")))
    listed = json.loads(ok(*t, "-o", "json", "cluster", "list", "-l", "tier=edge").stdout)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["east", "west"]

    # Workloads: web on both clusters, api on one.
    for name in ("web", "api"):
        subprocess.run([*kubectl_tmcd, "create", "namespace", "shop"], capture_output=True)
        subprocess.run([*kubectl_tmcd, "-n", "shop", "create", "deployment", name, "--image=nginx", "--replicas=1"],
                       capture_output=True, check=True)
        subprocess.run([*kubectl_tmcd, "-n", "shop", "label", "deployment", name, f"app={name}"], capture_output=True,
                       check=True)
    s = [*t, "-n", "shop"]
    ok(*s, "placement", "create", "web", "--selector", "app=web")
    ok(*s, "placement", "create", "api", "--selector", "app=api", "--clusters", "1")

    def where(workload):
        r = tmcctl(*s, "-o", "json", "workload", "where", workload)
        if r.returncode != 0:
            return None
        items = json.loads(r.stdout)["items"]
        return sorted(i["spec"]["clusterName"] for i in items if i.get("status", {}).get("phase") == "Applied")

    eventually(lambda: where("deployment/web") == ["east", "west"], what="web on both clusters")
    first = eventually(lambda: where("deploy/api"), what="api placed")
    assert len(first) == 1
    status = ok(*s, "workload", "status", "deployments.apps/web").stdout
    rows = {line.split()[0]: line.split() for line in status.splitlines() if line.startswith("  east")
            or line.startswith("  west")}
    assert set(rows) == {"east", "west"} and all(r[1] == "Applied" for r in rows.values()), status
    listed = ok(*s, "workload", "list").stdout
    assert "deployments.apps/web" in listed and "deployments.apps/api" in listed, listed
    described = ok(*t, "cluster", "describe", first[0]).stdout
    assert "deployments.apps/api" in described and "Healthy" in described, described

    # Cordon and taints are visible and reversible; a watching list sees the change as it happens.
    watcher = subprocess.Popen([os.environ.get("TMCCTL_BIN", "tmcctl"), *t, "cluster", "list", "--watch"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout.readline().split()[:2] == ["NAME", "LOCATION"]
        ok(*t, "cluster", "cordon", "west")
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("Cordoned" in line for line in seen):
            ready, _, _ = select.select([watcher.stdout], [], [], 1)
            if ready:
                seen.append(watcher.stdout.readline())
        assert any(line.split()[0] == "west" and "Cordoned" in line for line in seen), seen
    finally:
        watcher.kill()
        watcher.wait()
    assert "Cordoned" in ok(*t, "cluster", "get", "west").stdout
    # Registering again rotates the token (server-side apply) and keeps what the operator set since.
    r = ok(*t, "cluster", "register", "west", "--cluster-kubeconfig", west.kubeconfig, "--ca-file",
           os.path.join(cluster_dir(west), "certs", "apiserver.crt"), "--location", "us-west", "--wait")
    assert "secret/tmc/west-credentials configured" in r.stdout and "serviceaccount/" in r.stdout, r.stdout
    assert "clusterrole/tmcd-west-" in r.stdout and " unchanged" in r.stdout, r.stdout
    assert "Cordoned" in ok(*t, "cluster", "get", "west").stdout
    ok(*t, "cluster", "uncordon", "west")
    ok(*t, "cluster", "taint", "west", "gpu=true:NoSchedule")
    assert "gpu=true:NoSchedule" in ok(*t, "-o", "wide", "cluster", "get", "west").stdout
    ok(*t, "cluster", "taint", "west", "gpu-")
    assert "<none>" in ok(*t, "-o", "wide", "cluster", "get", "west").stdout.splitlines()[1]

    # Drain the cluster api runs on: api moves, web leaves it (it wants every matching cluster); a watching
    # `workload list` prints api's row again as its copy moves.
    gone, other = first[0], ("west" if first[0] == "east" else "east")
    watcher = subprocess.Popen([os.environ.get("TMCCTL_BIN", "tmcctl"), *s, "workload", "list", "--watch"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout.readline().split() == ["WORKLOAD", "PLACEMENT", "CLUSTERS", "PHASE", "READY"]
        r = ok(*t, "cluster", "drain", gone, "--timeout", "120")
        assert "moved: 2 of 2 copies" in r.stdout, r.stdout
        seen = []  # read by a thread: select() on the pipe misses lines already in the file's buffer
        threading.Thread(target=lambda: [seen.append(line.split()[:4]) for line in watcher.stdout],
                         daemon=True).start()
        try:
            eventually(lambda: ["deployments.apps/api", "api", other, "Applied"] in seen, 30, "api moved")
        except AssertionError:
            raise AssertionError(f"the watching list never showed api Applied on {other}: {seen}")
    finally:
        watcher.kill()
        watcher.wait()
    assert where("deploy/api") == [other] and where("deploy/web") == [other]
    drained = east if gone == "east" else west
    assert drained.kubectl("get", "deployments", "-A", "-l", "tmc.kcp.io/managed-by=tmcd", "-o", "name").stdout == ""

    # Deregister it: nothing of tmcd stays on that cluster, nor its credentials in tmcd.
    r = ok(*t, "cluster", "deregister", gone, "--cluster-kubeconfig", drained.kubeconfig, "--timeout", "120")
    check_golden("e2e-deregister", result(r).replace(gone, "<cluster>"))
    # Namespaces terminate asynchronously (kube-controller-manager empties them first).
    eventually(lambda: leftovers(drained) == [], timeout=120, what=f"nothing of tmcd left on {gone}")
    assert tmcctl(*t, "cluster", "get", gone).returncode == 1
    assert tmcctl(*t, "-n", "tmc", "-o", "json", "cluster", "list").returncode == 0
    secrets = subprocess.run([*kubectl_tmcd, "-n", "tmc", "get", "secrets", "-o", "name"], capture_output=True,
                             text=True).stdout
    assert f"{gone}-credentials" not in secrets and f"{other}-credentials" in secrets
    # The other cluster still runs both workloads. Drift there is put back and counted per copy.
    assert where("deploy/api") == [other] and where("deploy/web") == [other]
    kept = east if other == "east" else west
    dns = json.loads(ok(*s, "-o", "json", "workload", "where", "deploy/web").stdout)["items"][0]["status"][
        "downstreamNamespace"]
    kept.kubectl("-n", dns, "scale", "deployment", "web", "--replicas=4")

    def drift():
        doc = json.loads(ok(*s, "-o", "json", "workload", "status", "deploy/web").stdout)
        return doc["clusters"][other].get("driftCorrections")
    eventually(lambda: drift() == 1, what="the drift on the remaining cluster counted")

    def row():
        lines = ok(*s, "workload", "status", "deploy/web").stdout.splitlines()
        return next((line.split() for line in lines if line.startswith("  " + other)), [])
    # Shown in the DRIFT column once the copy is back to its one ready replica.
    eventually(lambda: row()[1:5] == ["Applied", "yes", "yes", "1/1"] and row()[7] == "1", what="DRIFT column")
    # Every table, now that the choice is settled.
    for name, args in (("cluster-list-wide", [*t, "-o", "wide", "cluster", "list"]),
                       ("cluster-describe", [*t, "cluster", "describe", other]),
                       ("placement-describe", [*s, "placement", "describe", "api"]),
                       ("placement-explain", [*s, "placement", "explain", "api"]),
                       ("workload-list", [*t, "workload", "list", "-A"]),
                       ("workload-status", [*s, "workload", "status", "deployment/web"]),
                       ("workload-where", [*s, "workload", "where", "deployment/web"])):
        text = result(ok(*args)).replace(other, "<cluster>")
        # Free pods follow the inventory, refreshed every 60 s: whether it counted our Pods yet varies.
        check_golden(f"e2e-{name}", re.sub(r"(\n  pods +\d+ +\d+ +)\d+", r"\1<free>", text))
