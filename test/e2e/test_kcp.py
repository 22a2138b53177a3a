"""tmcd against a real kcp (v0.27.1, built from Go modules by test/peers/build.sh kcp): the C++
client's kcp tests (test/kube/kcp_live_test.cc) and the generated APIResourceSchemas (config/kcp)
applied in a fresh workspace."""
import os
import re
import subprocess
import time

import pytest
import yaml

from conftest import ROOT


@pytest.fixture(scope="module")
def kcp(kcp_peer):
    return kcp_peer.kubeconfig


def test_client_against_kcp(kcp):
    r = subprocess.run([os.environ["TMCD_KUBE_LIVE_TEST"], "--no-intro", "-ts=kcp"], cwd=ROOT,
                       env={**os.environ, "TMCD_KCP_KUBECONFIG": str(kcp)}, capture_output=True, text=True,
                       timeout=600)
    print(r.stdout[-8000:], r.stderr[-4000:])
    assert r.returncode == 0, "the kcp client tests failed (output above)"
    assert "Status: SUCCESS!" in r.stdout
    assert re.search(r"test cases:\s+3 \|\s+3 passed", r.stdout), "the kcp test cases did not all run"


def test_generated_apiresourceschemas_are_accepted(kcp, peer_bin):
    kubectl = [os.path.join(peer_bin, "kubectl"), "--kubeconfig", str(kcp), "--context", "root"]
    ws = f"tmcd-schemas-{os.getpid()}"
    doc = {"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace", "metadata": {"name": ws},
           "spec": {"type": {"name": "universal", "path": "root"}}}
    subprocess.run([*kubectl, "create", "-f", "-"], input=yaml.safe_dump(doc), text=True, check=True,
                   capture_output=True)
    for _ in range(240):
        phase = subprocess.run([*kubectl, "get", "workspace", ws, "-o", "jsonpath={.status.phase}"],
                               capture_output=True, text=True).stdout
        if phase == "Ready":
            break
        time.sleep(0.25)
    assert phase == "Ready"
    server = yaml.safe_load(kcp.read_text())["clusters"][0]["cluster"]["server"].split("/clusters/")[0]
    in_ws = [*kubectl, "--server", f"{server}/clusters/root:{ws}"]
    schemas = sorted(str(p) for p in (ROOT / "config" / "kcp").glob("apiresourceschema-*.yaml"))
    assert len(schemas) == 15  # 3 TMC kinds + the 12 workload kinds kcp does not serve
    r = subprocess.run([*in_ws, "apply", *sum((["-f", s] for s in schemas), [])], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = subprocess.run([*in_ws, "get", "apiresourceschemas", "-o", "name"], capture_output=True, text=True,
                         check=True).stdout.split()
    want = {"apiresourceschema.apis.kcp.io/" + yaml.safe_load(open(s))["metadata"]["name"] for s in schemas}
    assert want <= set(got)
