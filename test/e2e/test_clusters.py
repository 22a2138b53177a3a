"""The cluster registration controller in embedded mode against real kube-apiservers (with
kube-controller-manager): a registered cluster becomes Ready with its version, identity and the
capacity of its Nodes; wrong credentials, a wrong CA, missing or malformed Secrets, a stopped
apiserver and a re-pointed endpoint each give the documented condition, never a crash."""
import base64
import json
import os
import pathlib
import signal
import subprocess
import time

import requests

CREG = "/apis/tmc.kcp.io/v1alpha1/clusterregistrations"
SECRETS = "/api/v1/namespaces/tmc/secrets"
PERIOD = 2


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def peer(cluster):
    d = pathlib.Path(cluster.kubeconfig).parent
    return {"server": (d / "server").read_text().strip(), "token": (d / "token").read_text().strip(),
            "ca": (d / "certs" / "apiserver.crt").read_text(), "dir": d}


def registration(name, p, secret=None, ca=None, threshold=2, **extra):
    spec = {"location": "lab", "endpoint": {"server": p["server"], "caBundle": b64(ca or p["ca"])},
            "healthCheck": {"periodSeconds": PERIOD, "timeoutSeconds": 1, "failureThreshold": threshold}}
    if secret:
        spec["credentialsRef"] = {"namespace": "tmc", "name": secret}
    spec.update(extra)
    return {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration", "metadata": {"name": name},
            "spec": spec}


def secret(name, **data):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "tmc"},
            "data": {k.replace("_", "."): b64(v) for k, v in data.items()}}


def condition(base, name, ctype):
    obj = requests.get(f"{base}{CREG}/{name}", timeout=10).json()
    for c in obj.get("status", {}).get("conditions", []):
        if c["type"] == ctype:
            return c, obj
    return None, obj


def wait_condition(base, name, ctype, status, reason=None, timeout=30):
    deadline = time.monotonic() + timeout
    c, obj = None, None
    while time.monotonic() < deadline:
        c, obj = condition(base, name, ctype)
        if c and c["status"] == status and (reason is None or c["reason"] == reason):
            return c, obj
        time.sleep(0.2)
    raise AssertionError(f"{name}: {ctype} not {status}/{reason} within {timeout}s: {json.dumps(obj, indent=1)}")


def post(base, path, body):
    r = requests.post(base + path, json=body, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def test_cluster_health_identity_capacity_and_failures(clusters, daemon, tmp_path):
    c1, c2 = peer(clusters[0]), peer(clusters[1])
    for i, cpu in ((1, "4"), (2, "2500m")):
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"worker-{i}"}}
        clusters[0].kubectl("apply", "-f", "-", input=json.dumps(node))
        status = {"status": {"capacity": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
                             "allocatable": {"cpu": cpu, "memory": "7Gi", "pods": "110"}}}
        clusters[0].kubectl("patch", "node", f"worker-{i}", "--subresource=status", "--type=merge",
                            "-p", json.dumps(status))
    kube_system = clusters[0].get_json("namespace", "kube-system")["metadata"]["uid"]
    d = daemon("--data-dir", str(tmp_path / "data"))
    base = d.base
    post(base, SECRETS, secret("good", token=c1["token"]))
    post(base, SECRETS, secret("wrong", token="not-a-token"))
    post(base, SECRETS, secret("empty", unrelated="x"))
    started = time.monotonic()
    post(base, CREG, registration("edge", c1, "good"))

    # Ready within two probe periods (plus the first probe), with version, identity and capacity.
    ready, obj = wait_condition(base, "edge", "Ready", "True", "Healthy", timeout=2 * PERIOD + 3)
    print("Ready after", round(time.monotonic() - started, 2), "s")
    st = obj["status"]
    assert st["kubernetesVersion"].startswith("v1.35")
    assert st["clusterID"] == kube_system
    # The two workers (6.5 CPUs, 14 GiB allocatable) plus the kwok Node up.sh adds (16 CPUs, 64 GiB).
    kwok = any(n["metadata"]["name"].startswith("kwok-") for n in clusters[0].get_json("nodes")["items"])
    assert st["capacity"]["cpu"] == ("22500m" if kwok else "6500m")
    assert st["allocatable"]["memory"] == str((14 + (64 if kwok else 0)) * 1024 ** 3)
    assert st["observedGeneration"] == obj["metadata"]["generation"]
    assert st["lastHeartbeatTime"]
    assert {s["resource"]: s["state"] for s in st["syncedResources"]}["deployments"] == "Accepted"
    for t in ("Reachable", "Authenticated", "ResourcesSupported", "TLSVerified"):  # caBundle: verified
        assert condition(base, "edge", t)[0]["status"] == "True", t
    # No write per probe: with nothing changing, the object stays put for a few periods.
    rv = requests.get(f"{base}{CREG}/edge").json()["metadata"]["resourceVersion"]
    time.sleep(3 * PERIOD)
    assert requests.get(f"{base}{CREG}/edge").json()["metadata"]["resourceVersion"] == rv
    assert ready["lastTransitionTime"] == condition(base, "edge", "Ready")[0]["lastTransitionTime"]

    # Wrong token, wrong CA, missing and malformed Secrets.
    post(base, CREG, registration("bad-token", c1, "wrong"))
    other_ca = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "/dev/null",
                               "-subj", "/CN=other", "-days", "1"], capture_output=True, check=True).stdout.decode()
    post(base, CREG, registration("bad-ca", c1, "good", ca=other_ca))
    post(base, CREG, registration("no-secret", c1, "missing"))
    post(base, CREG, registration("bad-secret", c1, "empty"))
    c, _ = wait_condition(base, "bad-token", "Authenticated", "False", "Unauthorized")
    assert wait_condition(base, "bad-token", "Ready", "False")[0]["reason"] == "Unauthorized"
    c, _ = wait_condition(base, "bad-ca", "Reachable", "False", "TLSError")
    assert "certificate" in c["message"]
    c, _ = wait_condition(base, "no-secret", "Authenticated", "False", "SecretNotFound")
    assert "tmc/missing" in c["message"]
    c, _ = wait_condition(base, "bad-secret", "Authenticated", "False", "CredentialsInvalid")
    assert "none of the keys token, kubeconfig" in c["message"]
    # Creating the missing Secret heals the registration without waiting for a period.
    post(base, SECRETS, secret("missing", token=c1["token"]))
    wait_condition(base, "no-secret", "Ready", "True", timeout=PERIOD + 3)
    # Failures do not storm: reconciles stay near one per key per period.
    time.sleep(2 * PERIOD)
    text = requests.get(base + "/metrics").text
    line = next(ln for ln in text.splitlines() if ln.startswith('tmcd_workqueue_work_duration_seconds_count{controller="clusters"}'))
    reconciles = float(line.split()[-1])
    elapsed = time.monotonic() - started
    assert reconciles < 5 * (elapsed / PERIOD + 4), f"{reconciles} reconciles of 5 clusters in {elapsed:.0f}s"
    assert 'tmcd_cluster_ready{cluster="edge",workspace="root"} 1' in text
    assert 'tmcd_cluster_ready{cluster="bad-token",workspace="root"} 0' in text

    # An apiserver that stops answering (SIGSTOP): Reachable=False at the first failed probe, Ready=False
    # only after failureThreshold (3) of them; answering again: Ready.
    post(base, CREG, registration("second", c2, "good", threshold=3))
    wait_condition(base, "second", "Ready", "True")
    pid = int((c2["dir"] / "apiserver.pid").read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_condition(base, "second", "Reachable", "False", "Unreachable", timeout=2 * PERIOD + 3)
        first_failure = time.monotonic()
        assert condition(base, "second", "Ready")[0]["status"] == "True", "one failed probe must not flip Ready"
        c, _ = wait_condition(base, "second", "Ready", "False", "Unreachable", timeout=4 * PERIOD + 6)
        assert time.monotonic() - first_failure >= 2 * PERIOD - 0.5, "Ready flipped before 3 failed probes"
        assert "failureThreshold (3) consecutive probes failed" in c["message"]
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_condition(base, "second", "Ready", "True", "Healthy", timeout=2 * PERIOD + 5)
    # A real stop and start of the apiserver.
    cmd = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
    os.kill(pid, signal.SIGTERM)
    wait_condition(base, "second", "Ready", "False", timeout=6 * PERIOD + 30)
    for _ in range(300):
        if not pathlib.Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.1)
    log = open(c2["dir"] / "apiserver.log", "ab")
    proc = subprocess.Popen([x.decode() for x in cmd], stdout=log, stderr=log)
    (c2["dir"] / "apiserver.pid").write_text(str(proc.pid))
    wait_condition(base, "second", "Ready", "True", "Healthy", timeout=90)

    # Re-point "edge" at cluster-2: same credentials work, but it is another cluster.
    # A merge patch carries no resourceVersion: the controller's heartbeat write in between
    # must not turn the operator's edit into a 409 (a PUT of a GET would race it).
    patch = {"spec": {"endpoint": {"server": c2["server"], "caBundle": b64(c2["ca"])}}}
    r = requests.patch(f"{base}{CREG}/edge", json=patch, timeout=10,
                       headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200, r.text
    c, obj = wait_condition(base, "edge", "Ready", "False", "ClusterIDChanged", timeout=PERIOD + 5)
    assert obj["status"]["clusterID"] == kube_system  # the registered identity is kept
    assert c["observedGeneration"] == obj["metadata"]["generation"] == 2
    assert d.proc.poll() is None
    assert d.stop() == 0
