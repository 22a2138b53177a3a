"""Runs tmcd's C++ Kubernetes client tests (test/kube/) against real peers: one kube-apiserver with
TLS and token auth, restarted once by the informer test."""
import os
import subprocess

from conftest import ROOT


def test_kube_client_against_a_real_apiserver(clusters, tmp_path):
    peer_dir = os.path.dirname(os.path.dirname(clusters[0].kubeconfig))
    # A CA that did not sign the apiserver's certificate, for the wrong-CA case.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=wrong-ca",
                    "-keyout", str(tmp_path / "wrong-ca.key"), "-out", os.path.join(peer_dir, "wrong-ca.pem")],
                   check=True, capture_output=True)
    r = subprocess.run([os.environ["TMCD_KUBE_LIVE_TEST"], "--no-intro", "-tse=kcp"], cwd=ROOT,
                       env={**os.environ, "TMCD_PEER_DIR": peer_dir}, capture_output=True, text=True, timeout=900)
    print(r.stdout[-8000:], r.stderr[-4000:])
    assert r.returncode == 0, "the client tests failed (output above)"
    assert "Status: SUCCESS!" in r.stdout
