"""tmcctl in kcp mode (called from test_kcp_mode.py, which owns kcp, the clusters and tmcd): the same flow as
test_tmcctl.py with a tenant's kcp workspace as the server — register a cluster into the workspace (Ready
written back by tmcd, using only the ServiceAccount tmcctl made), place a Deployment with `placement create`,
`workload status`, `list` and `where` from kcp (the tmc.kcp.io/cluster-status annotation), `workload where`
also from tmcd's own socket, and `deregister` removing the registration in kcp and the identity on the cluster."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from tmcctl_helpers import eventually, ok, tmcctl  # noqa: E402


def tmcctl_flow_in_kcp(kcp, cluster, d, lc):
    """`d` is tmcd in kcp mode with the tenant workspace root:cli-a (logical cluster `lc`) bound."""
    t = ["--kubeconfig", str(kcp.kubeconfig), "--context", "root", "--workspace", "root:cli-a"]
    peer_dir = os.path.dirname(cluster.kubeconfig)
    r = ok(*t, "cluster", "register", "edge", "--cluster-kubeconfig", cluster.kubeconfig, "--ca-file",
           os.path.join(peer_dir, "certs", "apiserver.crt"), "--location", "lab", "--wait", "--timeout", "90")
    assert "clusterregistration.tmc.kcp.io/edge is Ready" in r.stdout, r.stdout
    reg = json.loads(kcp.kubectl("root:cli-a", "get", "clusterregistration", "edge", "-o", "json").stdout)
    assert reg["spec"]["credentialsRef"] == {"namespace": "tmc", "name": "edge-credentials"}
    assert "edge" in ok(*t, "cluster", "list").stdout
    kcp.apply("root:cli-a", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    kcp.apply("root:cli-a", {"apiVersion": "apps/v1", "kind": "Deployment",
                             "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
                             "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                                      "template": {"metadata": {"labels": {"app": "web"}},
                                                   "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    ok(*t, "-n", "shop", "placement", "create", "web", "--selector", "app=web")

    def status():
        r = tmcctl(*t, "-n", "shop", "workload", "status", "deployment/web")
        return r.returncode == 0 and any(line.split()[:2] == ["edge", "Applied"] for line in r.stdout.splitlines())
    eventually(status, 90, "workload status from kcp shows the copy on edge")
    # `workload list` from kcp alone: the placements' selections and each workload's annotation.
    listed = ok(*t, "-n", "shop", "workload", "list").stdout.splitlines()
    assert listed[0].split() == ["WORKLOAD", "PLACEMENT", "CLUSTERS", "PHASE", "READY"], listed
    assert listed[1].split()[:4] == ["deployments.apps/web", "web", "edge", "Applied"], listed
    names = ok(*t, "-A", "-o", "name", "workload", "list").stdout.split()
    assert names == ["deployment.apps/web"], names
    watching = tmcctl(*t, "-n", "shop", "workload", "list", "--watch")
    assert watching.returncode == 1 and "--socket" in watching.stderr, watching.stderr
    # `where` from kcp (the annotations) and from tmcd's socket (the SyncRecords) name the same copy.
    where = ok("--socket", d.unix_path, "--workspace", lc, "-n", "shop", "workload", "where", "deployment/web")
    row = where.stdout.splitlines()[1].split()
    assert row[0] == "edge" and row[1].startswith("tmc-") and row[2] == "Applied", where.stdout
    where_kcp = ok(*t, "-n", "shop", "workload", "where", "deployment/web").stdout.splitlines()
    assert where_kcp[1].split() == row[:3] + ["-"], (where_kcp, where.stdout)
    assert ok(*t, "-n", "shop", "-o", "name", "workload", "where", "deploy/web").stdout == \
        "clusterregistration.tmc.kcp.io/edge\n"
    assert "PlacementExplanation" not in ok(*t, "-n", "shop", "placement", "describe", "web").stdout

    r = ok(*t, "cluster", "deregister", "edge", "--cluster-kubeconfig", cluster.kubeconfig, "--timeout", "120")
    assert kcp.kubectl("root:cli-a", "get", "clusterregistration", "edge", check=False).returncode != 0
    assert kcp.kubectl("root:cli-a", "get", "secret", "edge-credentials", "-n", "tmc", check=False).returncode != 0
    roles = cluster.kubectl("get", "clusterroles,clusterrolebindings", "-o", "name").stdout
    assert "tmcd-edge-" not in roles, roles
    sas = cluster.kubectl("get", "serviceaccounts", "-A", "-o", "name").stdout
    assert "tmcd-edge-" not in sas
