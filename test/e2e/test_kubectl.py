"""Unmodified kubectl (built from the same Go modules as the peers) against tmcd's local API:
create -f, get (printer columns), get -w, replace -f, delete, explain — with validation on."""
import os
import subprocess
import time

import pytest
import yaml

TMCD = os.environ.get("TMCD_BIN", "tmcd")

CREG = {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration",
        "metadata": {"name": "us-west-2a", "labels": {"env": "prod"}},
        "spec": {"location": "us-west-2", "endpoint": {"server": "https://10.1.2.3:6443"}}}
DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "web"}},
                                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


def test_create_get_replace_delete_with_validation(kubectl, tmp_path):
    f = tmp_path / "objs.yaml"
    f.write_text(yaml.safe_dump_all([CREG, DEPLOY]))
    out = kubectl("create", "-f", str(f)).stdout
    assert "clusterregistration.tmc.kcp.io/us-west-2a created" in out
    assert "deployment.apps/web created" in out
    table = kubectl("get", "clusterregistrations").stdout.splitlines()
    assert table[0].split() == ["NAME", "LOCATION", "READY", "AGE"]
    assert table[1].split()[:2] == ["us-west-2a", "us-west-2"]
    assert kubectl("get", "creg", "-l", "env=prod", "-o", "name").stdout.strip() == \
        "clusterregistration.tmc.kcp.io/us-west-2a"
    DEPLOY["spec"]["replicas"] = 5
    f.write_text(yaml.safe_dump(DEPLOY))
    assert "replaced" in kubectl("replace", "-f", str(f)).stdout
    got = yaml.safe_load(kubectl("get", "deployment", "web", "-o", "yaml").stdout)
    assert got["spec"]["replicas"] == 5 and got["metadata"]["generation"] == 2
    kubectl("delete", "-f", str(f))
    kubectl("delete", "clusterregistration", "us-west-2a")
    assert "No resources found" in kubectl("get", "deployments,clusterregistrations").stderr


def test_server_side_validation_errors_reach_kubectl(kubectl, tmp_path):
    bad = dict(CREG, spec={"location": "US West", "endpoint": {"server": "http://x"}, "colour": "blue"})
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(bad))
    r = kubectl("create", "-f", str(f), check=False)
    assert r.returncode != 0
    assert 'unknown field "spec.colour"' in r.stderr


def test_get_watch_streams_changes(kubectl, peer_bin, tmp_path):
    w = subprocess.Popen([os.path.join(peer_bin, "kubectl"), "--kubeconfig", kubectl.config, "get", "creg", "-w",
                          "--request-timeout=20s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        f = tmp_path / "c.yaml"
        f.write_text(yaml.safe_dump(CREG))
        kubectl("create", "-f", str(f))
        kubectl("label", "creg", "us-west-2a", "tier=gold")
        deadline = time.monotonic() + 15
        lines = []
        while time.monotonic() < deadline and len(lines) < 3:
            line = w.stdout.readline()
            if line:
                lines.append(line)
        assert len(lines) >= 3, lines
        assert lines[0].split()[:2] == ["NAME", "LOCATION"]
        assert all(l.split()[0] == "us-west-2a" for l in lines[1:])
    finally:
        w.kill()


def test_explain_shows_field_docs(kubectl):
    out = kubectl("explain", "clusterregistration.spec.endpoint").stdout
    assert "How to reach the cluster's API server." in out
    assert "server\t<string> -required-" in out
    assert "insecureSkipTLSVerify" in out


def test_credentials_roles_and_auth_can_i(peer_bin, daemon, tmp_path):
    """kubectl with `tmcd kubeconfig` credentials: 401 without them, a viewer cannot read Secrets, and
    `kubectl auth can-i` answers what the server enforces, per workspace."""
    data = tmp_path / "data"
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(data), own_pki=True)
    d.base  # noqa: B018 (started: tmcd's own PKI exists)
    configs = {}
    for user, groups in (("ops", ["system:masters"]), ("vera", ["viewers"])):
        args = [TMCD, "kubeconfig", "--data-dir", str(data), "--user", user, "--server", d.base + "/clusters/root:a"]
        for g in groups:
            args += ["--group", g]
        out = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True).stdout
        configs[user] = tmp_path / f"{user}.kubeconfig"
        configs[user].write_text(out)

    def k(user, *args, check=True):
        # No user: a token tmcd does not know (without any credential kubectl would prompt for a password).
        cfg = ["--kubeconfig", str(configs[user])] if user else [
            "--server", d.base + "/clusters/root:a", "--certificate-authority", str(data / "pki" / "ca.crt"),
            "--token", "not-a-known-token"]
        r = subprocess.run([os.path.join(peer_bin, "kubectl"), *cfg, *args], capture_output=True, text=True, timeout=60)
        if check:
            assert r.returncode == 0, f"kubectl {' '.join(args)}: {r.stderr}"
        return r

    r = k(None, "get", "deployments", check=False)
    assert r.returncode != 0 and "You must be logged in to the server" in r.stderr, r.stderr
    binding = tmp_path / "b.yaml"
    binding.write_text(yaml.safe_dump({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "viewers"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "tmc:viewer"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "viewers"}]}))
    assert "created" in k("ops", "create", "-f", str(binding)).stdout
    secret = tmp_path / "s.yaml"
    secret.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "default"},
                                      "data": {"password": "c2VjcmV0"}}))
    k("ops", "create", "-f", str(secret))
    assert "db" in k("ops", "get", "secrets").stdout
    r = k("vera", "get", "secrets", check=False)
    assert r.returncode != 0 and 'User "vera" cannot list resource "secrets"' in r.stderr, r.stderr
    assert k("vera", "get", "deployments", "-A").returncode == 0
    table = {("get", "secrets"): "no", ("list", "deployments"): "yes", ("create", "deployments"): "no",
             ("watch", "clusterregistrations"): "yes", ("delete", "workloadplacements"): "no"}
    for (verb, res), want in table.items():
        r = k("vera", "auth", "can-i", verb, res, check=False)
        assert r.stdout.strip() == want, (verb, res, r.stdout, r.stderr)
        assert (r.returncode == 0) == (want == "yes")
    # The binding lives in workspace root:a: in root:b vera holds nothing.
    r = k("vera", "--server", d.base + "/clusters/root:b", "auth", "can-i", "list", "deployments", check=False)
    assert r.stdout.strip() == "no", r.stdout + r.stderr
    assert "yes" == k("ops", "auth", "can-i", "delete", "secrets").stdout.strip()
