"""Real Kubernetes peers for e2e tests: built from Go modules by test/peers/build.sh (cached) and
started by test/peers/up.sh in a temp dir; always stopped by down.sh, even when a test fails."""
import contextlib
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PEERS = ROOT / "test" / "peers"
sys.path.insert(0, str(ROOT / "test" / "integration"))
from daemon import daemon, small_disk  # noqa: E402,F401  (the tmcd process and tmpfs fixtures)


class Cluster:
    def __init__(self, bin_dir, kubeconfig):
        self.bin_dir = pathlib.Path(bin_dir)
        self.kubeconfig = str(kubeconfig)

    def kubectl(self, *args, input=None, check=True):
        r = subprocess.run([str(self.bin_dir / "kubectl"), "--kubeconfig", self.kubeconfig, *args],
                           input=input, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {r.stderr}")
        return r

    def get_json(self, *args):
        return json.loads(self.kubectl("get", "-o", "json", *args).stdout)


@pytest.fixture(scope="session")
def peer_bin():
    r = subprocess.run([str(PEERS / "build.sh")], capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, f"building the peers failed:\n{r.stderr[-4000:]}"
    return r.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def started_clusters(peer_bin, tmp_path_factory, n):
    """`n` real clusters (up.sh), stopped on exit."""
    d = tmp_path_factory.mktemp("peers")
    r = subprocess.run([str(PEERS / "up.sh"), str(d), str(n)], capture_output=True, text=True, timeout=600)
    try:
        assert r.returncode == 0, f"up.sh failed:\n{r.stdout}\n{r.stderr}"
        yield [Cluster(peer_bin, d / f"cluster-{i}" / "kubeconfig") for i in range(1, n + 1)]
    finally:
        subprocess.run([str(PEERS / "down.sh"), str(d)], capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def clusters(peer_bin, tmp_path_factory):
    with started_clusters(peer_bin, tmp_path_factory, int(os.environ.get("TMCD_E2E_CLUSTERS", "2"))) as cs:
        yield cs


class Kcp:
    """A real kcp started by kcp-up.sh: kubectl per workspace, workspaces, bindings."""

    def __init__(self, bin_dir, root):
        self.bin_dir = pathlib.Path(bin_dir)
        self.dir = pathlib.Path(root)
        self.kubeconfig = self.dir / "kcp" / "admin.kubeconfig"
        text = self.kubeconfig.read_text()
        self.server = [ln.split()[1] for ln in text.splitlines() if "server:" in ln][0].split("/clusters/")[0]

    def kubectl(self, ws, *args, input=None, check=True):
        r = subprocess.run([str(self.bin_dir / "kubectl"), "--kubeconfig", str(self.kubeconfig), "--context", "root",
                            "--server", f"{self.server}/clusters/{ws}", *args],
                           input=input, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} in {ws} failed: {r.stderr}")
        return r

    def apply(self, ws, doc):
        return self.kubectl(ws, "apply", "-f", "-", input=json.dumps(doc))

    def workspace(self, name):
        """Creates root:<name>, waits until Ready, returns its logical cluster name."""
        self.apply("root", {"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace", "metadata": {"name": name},
                            "spec": {"type": {"name": "universal", "path": "root"}}})
        for _ in range(240):
            ws = json.loads(self.kubectl("root", "get", "workspace", name, "-o", "json").stdout)
            if ws.get("status", {}).get("phase") == "Ready":
                return ws["spec"]["cluster"]
            time.sleep(0.25)
        raise AssertionError(f"workspace {name} not Ready")

    def bind(self, ws, provider, extra_claims=()):
        """Binds tmcd's export from `provider` into `ws`, accepting its claims (and `extra_claims`,
        {group, resource, identityHash} of upstream.claimedResources); waits until served."""
        claims = [{"group": "", "resource": r, "all": True, "state": "Accepted"}
                  for r in ("secrets", "configmaps", "serviceaccounts", "namespaces", "events")]
        claims += [dict(c, all=True, state="Accepted") for c in extra_claims]
        self.apply(ws, {"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIBinding", "metadata": {"name": "tmc"},
                        "spec": {"reference": {"export": {"path": provider, "name": "tmc.kcp.io"}},
                                 "permissionClaims": claims}})
        for _ in range(240):
            r = self.kubectl(ws, "get", "deployments.apps,clusterregistrations.tmc.kcp.io", check=False)
            if r.returncode == 0:
                return
            time.sleep(0.25)
        raise AssertionError(f"the binding in {ws} is not served: {r.stderr}")


@pytest.fixture(scope="session")
def kcp_peer(peer_bin, tmp_path_factory):
    d = tmp_path_factory.mktemp("kcp")
    r = subprocess.run([str(PEERS / "kcp-up.sh"), str(d)], capture_output=True, text=True, timeout=3600)
    try:
        assert r.returncode == 0, f"kcp-up.sh failed:\n{r.stdout}\n{r.stderr}"
        yield Kcp(peer_bin, d)
    finally:
        subprocess.run([str(PEERS / "down.sh"), str(d)], capture_output=True, timeout=120)


@pytest.fixture
def kubectl(peer_bin, tmp_path, daemon):
    """Unmodified kubectl against a fresh tmcd, as its administrator: run(*args) → CompletedProcess."""
    d = daemon("--data-dir", str(tmp_path / "data"), "--store-fsync=false")
    config = d.kubeconfig(tmp_path / "admin.kubeconfig")

    def run(*args, input=None, check=True):
        r = subprocess.run([os.path.join(peer_bin, "kubectl"), "--kubeconfig", config, *args], input=input,
                           capture_output=True, text=True, timeout=60)
        if check:
            assert r.returncode == 0, f"kubectl {' '.join(args)}: {r.stderr}"
        return r

    run.server = d.base
    run.config = config
    run.daemon = d
    yield run
