"""Real Kubernetes peers for e2e tests: built from Go modules by test/peers/build.sh (cached) and
started by test/peers/up.sh in a temp dir; always stopped by down.sh, even when a test fails."""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PEERS = ROOT / "test" / "peers"


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


@pytest.fixture(scope="session")
def clusters(peer_bin, tmp_path_factory):
    d = tmp_path_factory.mktemp("peers")
    n = int(os.environ.get("TMCD_E2E_CLUSTERS", "2"))
    r = subprocess.run([str(PEERS / "up.sh"), str(d), str(n)], capture_output=True, text=True, timeout=600)
    try:
        assert r.returncode == 0, f"up.sh failed:\n{r.stdout}\n{r.stderr}"
        yield [Cluster(peer_bin, d / f"cluster-{i}" / "kubeconfig") for i in range(1, n + 1)]
    finally:
        subprocess.run([str(PEERS / "down.sh"), str(d)], capture_output=True, timeout=120)
