"""Security of the real tmcd (docs/security.md): who may do what through which listener, tmcd's own
PKI and `tmcd kubeconfig`, tokens, certificate rotation, RBAC per workspace with access reviews
that agree with enforcement, escalation prevention, private files, and the exfiltration attempt
through a Secret's kubeconfig that must never reach the attacker's listener."""
import base64
import json
import os
import pathlib
import signal
import socket
import ssl
import stat
import subprocess
import threading
import time

import pytest
import requests
import yaml

from daemon import anonymous_session, pki, run

CREG = "/apis/tmc.kcp.io/v1alpha1/clusterregistrations"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def cert_files(tmp_path, kubeconfig_text, name):
    user = yaml.safe_load(kubeconfig_text)["users"][0]["user"]
    crt, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    crt.write_bytes(base64.b64decode(user["client-certificate-data"]))
    key.write_bytes(base64.b64decode(user["client-key-data"]))
    return str(crt), str(key)


def issue(data_dir, tmp_path, user, *groups):
    args = ["kubeconfig", "--data-dir", str(data_dir), "--user", user]
    for g in groups:
        args += ["--group", g]
    r = run(*args)
    assert r.returncode == 0, r.stderr
    return cert_files(tmp_path, r.stdout, user)


def test_anonymous_requests_get_401_except_health(daemon, tmp_path):
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"))
    s = anonymous_session()
    for path in ("/healthz", "/livez", "/readyz", "/version"):
        assert s.get(d.base + path, timeout=10).status_code == 200, path
    for method, path in (("GET", "/api/v1/namespaces/tmc/secrets"), ("GET", "/apis"), ("GET", "/metrics"),
                         ("POST", CREG), ("GET", "/clusters/root:x/api/v1/namespaces/a/configmaps"),
                         ("GET", "/openapi/v3")):
        r = s.request(method, d.base + path, json={}, timeout=10)
        assert r.status_code == 401, (path, r.text)
        assert r.json()["reason"] == "Unauthorized" and r.json()["kind"] == "Status"
    # Plain HTTP on the TLS port gets no API answer.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(d.base.replace("https", "http") + "/healthz", timeout=5)


def test_own_pki_kubeconfig_roles_per_workspace_and_reviews_agree(daemon, tmp_path):
    data = tmp_path / "data"
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(data), own_pki=True)
    base = d.base
    ca = str(data / "pki" / "ca.crt")
    admin = issue(data, tmp_path, "ops", "system:masters")
    viewer = issue(data, tmp_path, "vera", "viewers")
    tenant = issue(data, tmp_path, "tina")

    def call(who, method, path, body=None):
        return requests.request(method, base + path, json=body, cert=who, verify=ca, timeout=10)

    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "viewers"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "tmc:viewer"},
               "subjects": [{"kind": "Group", "name": "viewers"}]}
    assert call(admin, "POST", f"/clusters/root:a{RBAC}/clusterrolebindings", binding).status_code == 201
    rb = dict(binding, kind="RoleBinding", metadata={"name": "tina"},
              roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "tmc:tenant"},
              subjects=[{"kind": "User", "name": "tina"}])
    assert call(admin, "POST", f"/clusters/root:a{RBAC}/namespaces/shop/rolebindings", rb).status_code == 201
    sec = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"p": "eA=="}}
    assert call(admin, "POST", "/clusters/root:a/api/v1/namespaces/shop/secrets", sec).status_code == 201

    rows = [  # who, verb, method, path, resource attributes (group, resource, namespace, name), allowed
        (viewer, "list", "GET", "/clusters/root:a/apis/apps/v1/deployments", ("apps", "deployments", "", ""), True),
        (viewer, "get", "GET", "/clusters/root:a/api/v1/namespaces/shop/secrets/db", ("", "secrets", "shop", "db"), False),
        (viewer, "list", "GET", "/clusters/root:a/api/v1/namespaces/shop/secrets", ("", "secrets", "shop", ""), False),
        (viewer, "list", "GET", "/clusters/root:b/apis/apps/v1/deployments", ("apps", "deployments", "", ""), False),
        (viewer, "create", "POST", "/clusters/root:a" + CREG, ("tmc.kcp.io", "clusterregistrations", "", ""), False),
        (tenant, "get", "GET", "/clusters/root:a/api/v1/namespaces/shop/secrets/db", ("", "secrets", "shop", "db"), True),
        (tenant, "list", "GET", "/clusters/root:a/api/v1/namespaces/other/secrets", ("", "secrets", "other", ""), False),
        (tenant, "get", "GET", "/clusters/root:b/api/v1/namespaces/shop/secrets/db", ("", "secrets", "shop", "db"), False),
        (tenant, "list", "GET", "/clusters/root:a" + CREG, ("tmc.kcp.io", "clusterregistrations", "", ""), False),
        (admin, "get", "GET", "/clusters/root:a/api/v1/namespaces/shop/secrets/db", ("", "secrets", "shop", "db"), True),
        (admin, "list", "GET", "/clusters/root:q/api/v1/namespaces/x/secrets", ("", "secrets", "x", ""), True),
    ]
    for who, verb, method, path, (group, resource, ns, name), allowed in rows:
        r = call(who, method, path, {} if method == "POST" else None)
        assert (r.status_code != 403) == allowed, (who, path, r.status_code, r.text)
        if not allowed:
            msg = r.json()["message"]
            user = pathlib.Path(who[0]).stem
            assert f'User "{user}" cannot {verb} resource "{resource}"' in msg, msg
        ws = path.split("/")[2]
        review = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                  "spec": {"resourceAttributes": {"verb": verb, "group": group, "resource": resource,
                                                  "namespace": ns, "name": name}}}
        rr = call(who, "POST", f"/clusters/{ws}{SSAR}", review)
        assert rr.status_code == 201 and rr.json()["status"]["allowed"] == allowed, (who, path, rr.text)

    rules = call(tenant, "POST", "/clusters/root:a/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                 {"kind": "SelfSubjectRulesReview", "spec": {"namespace": "shop"}}).json()["status"]
    assert any("deployments" in r.get("resources", []) for r in rules["resourceRules"])
    # A certificate from another tmcd's CA is a 401, not a lower privilege.
    other = tmp_path / "other"
    foreign = issue(other, tmp_path, "mallory", "system:masters")
    r = call(foreign, "GET", "/api/v1/namespaces/shop/secrets")
    assert r.status_code == 401 and "not valid" in r.json()["message"], r.text


def test_rbac_writes_cannot_escalate_and_builtin_roles_are_reserved(daemon, tmp_path):
    data = tmp_path / "data"
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(data), own_pki=True)
    ca = str(data / "pki" / "ca.crt")
    admin = issue(data, tmp_path, "ops", "system:masters")
    lead = issue(data, tmp_path, "lead")

    def call(who, method, path, body=None):
        return requests.request(method, d.base + path, json=body, cert=who, verify=ca, timeout=10)

    ref = {"apiGroup": "rbac.authorization.k8s.io"}
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "rbac-admin"},
            "rules": [{"verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],  # "*" includes escalate
                       "apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"]}]}
    assert call(admin, "POST", f"{RBAC}/namespaces/shop/roles", role).status_code == 201
    for name, r in (("a", dict(ref, kind="Role", name="rbac-admin")), ("b", dict(ref, kind="ClusterRole", name="tmc:tenant"))):
        body = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
                "roleRef": r, "subjects": [{"kind": "User", "name": "lead"}]}
        assert call(admin, "POST", f"{RBAC}/namespaces/shop/rolebindings", body).status_code == 201
    ok = dict(role, metadata={"name": "secrets-read"},
              rules=[{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}])
    assert call(lead, "POST", f"{RBAC}/namespaces/shop/roles", ok).status_code == 201
    wide = dict(role, metadata={"name": "everything"}, rules=[{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}])
    r = call(lead, "POST", f"{RBAC}/namespaces/shop/roles", wide)
    assert r.status_code == 403 and "not currently held" in r.json()["message"], r.text
    # Widening an existing role through a merge patch is checked the same way.
    r = requests.patch(d.base + f"{RBAC}/namespaces/shop/roles/secrets-read", cert=lead, verify=ca, timeout=10,
                       data=json.dumps({"rules": wide["rules"]}),
                       headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 403, r.text
    bind_op = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "op"},
               "roleRef": dict(ref, kind="ClusterRole", name="tmc:cluster-operator"),
               "subjects": [{"kind": "User", "name": "lead"}]}
    assert call(lead, "POST", f"{RBAC}/namespaces/shop/rolebindings", bind_op).status_code == 403
    cr = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "tmc:viewer"},
          "rules": []}
    r = call(admin, "POST", f"{RBAC}/clusterroles", cr)
    assert r.status_code == 422 and "built-in" in r.json()["message"], r.text
    bad = dict(role, metadata={"name": "bad"}, rules=[{"apiGroups": [""], "resources": ["pods"]}])
    r = call(admin, "POST", f"{RBAC}/namespaces/shop/roles", bad)
    assert r.status_code == 422 and "verbs: Required value" in r.json()["message"], r.text


def test_token_file_and_reload(daemon, tmp_path):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text('first-token,robot,42,"system:masters"\n')
    tokens.chmod(0o640)
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--token-auth-file", str(tokens))
    s = anonymous_session()

    def get(token):
        return s.get(d.base + "/api/v1/namespaces/a/secrets", headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert get("first-token").status_code == 200
    assert get("wrong").status_code == 401
    tokens.write_text('second-token,robot,42,"system:masters"\n')
    deadline = time.monotonic() + 10
    while get("second-token").status_code != 200:
        assert time.monotonic() < deadline, "the token file was not reloaded"
        time.sleep(0.2)
    assert get("first-token").status_code == 401
    tokens.chmod(0o644)
    r = run("--data-dir", str(tmp_path / "data2"), "--token-auth-file", str(tokens))
    assert r.returncode == 1 and "accessible to every user" in r.stderr, r.stderr


def served_cert(port):
    return ssl.get_server_certificate(("127.0.0.1", port))


def test_certificate_rotation_on_sighup_and_on_change(daemon, tmp_path):
    crt, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    crt.write_bytes(pki().serving_cert.read_bytes())
    key.write_bytes(pki().serving_key.read_bytes())
    key.chmod(0o600)
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--tls-cert-file", str(crt),
               "--tls-key-file", str(key), "--client-ca-file", str(pki().ca))
    first = served_cert(d.port)
    # Another serving certificate (another CA): prepared by `tmcd kubeconfig` in another data dir.
    for i, trigger in enumerate(("sighup", "file-change")):
        other = tmp_path / f"other{i}"
        assert run("kubeconfig", "--data-dir", str(other), "--user", "x").returncode == 0
        new_pem = (other / "pki" / "serving.crt").read_text()
        tmp_crt, tmp_key = tmp_path / "n.crt", tmp_path / "n.key"
        tmp_crt.write_text(new_pem)
        tmp_key.write_bytes((other / "pki" / "serving.key").read_bytes())
        os.replace(tmp_key, key)
        os.replace(tmp_crt, crt)
        if trigger == "sighup":
            d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while ssl.PEM_cert_to_DER_cert(served_cert(d.port)) != ssl.PEM_cert_to_DER_cert(new_pem.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"):
            assert time.monotonic() < deadline, f"certificate not rotated by {trigger}"
            time.sleep(0.2)
        assert served_cert(d.port) != first
    assert d.proc.poll() is None
    d.wait_for_log("TLS certificate reloaded")


def test_exfiltration_through_a_secret_kubeconfig_never_connects(daemon, tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    accepted = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn.recv(65536))
                conn.close()
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    port = listener.getsockname()[1]
    d = daemon("--data-dir", str(tmp_path / "data"))
    secret_file = tmp_path / "secret-file"
    secret_file.write_text("root-password\n")
    attempts = {
        "token-file": {"kubeconfig": yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "x",
            "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
            "users": [{"name": "u", "user": {"tokenFile": str(secret_file)}}],
            "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}]})},
        "missing-file": {"kubeconfig": yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "x",
            "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
            "users": [{"name": "u", "user": {"tokenFile": "/no/such/file"}}],
            "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}]})},
        "header-injection": {"token": "abc\r\nX-Injected: yes"},
    }
    messages = {}
    for name, data in attempts.items():
        sec = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "tmc"},
               "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}
        assert requests.post(d.base + "/api/v1/namespaces/tmc/secrets", json=sec, timeout=10).status_code == 201
        creg = {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration", "metadata": {"name": name},
                "spec": {"location": "x", "endpoint": {"server": f"https://127.0.0.1:{port}"},
                         "credentialsRef": {"namespace": "tmc", "name": name},
                         "healthCheck": {"periodSeconds": 1, "timeoutSeconds": 1}}}
        assert requests.post(d.base + CREG, json=creg, timeout=10).status_code == 201
    deadline = time.monotonic() + 20
    while len(messages) < len(attempts) and time.monotonic() < deadline:
        for name in attempts:
            obj = requests.get(f"{d.base}{CREG}/{name}", timeout=10).json()
            for c in obj.get("status", {}).get("conditions", []):
                if c["type"] == "Authenticated" and c["status"] == "False":
                    messages[name] = (c["reason"], c["message"])
        time.sleep(0.2)
    time.sleep(2)  # more probe periods: still nothing may connect
    stop.set()
    t.join()
    listener.close()
    assert accepted == [], f"tmcd connected to the attacker's listener: {accepted}"
    assert set(messages) == set(attempts), messages
    assert messages["token-file"][0] == "CredentialsInvalid"
    assert "must carry its credentials inline" in messages["token-file"][1]
    # Whether the path exists does not show.
    assert messages["token-file"][1].replace("token-file", "X") == messages["missing-file"][1].replace("missing-file", "X")
    assert str(secret_file) not in messages["token-file"][1] and "root-password" not in d.log()
    assert "control character" in messages["header-injection"][1]


def test_private_files_unix_socket_and_insecure_http(daemon, tmp_path):
    old = os.umask(0)
    try:
        d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"))
        d.base  # noqa: B018 (started)
    finally:
        os.umask(old)
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for p in data.rglob("*"):
        if p.is_socket():
            continue
        want = 0o700 if p.is_dir() else 0o600
        assert stat.S_IMODE(p.stat().st_mode) == want, p
    assert stat.S_IMODE(os.stat(d.unix_path).st_mode) == 0o660
    out = subprocess.run(["curl", "-s", "--unix-socket", d.unix_path, "http://tmcd/api/v1/namespaces/a/secrets"],
                         capture_output=True, text=True, timeout=10)
    assert json.loads(out.stdout)["kind"] == "SecretList", out.stdout  # root on the socket is an administrator

    r = run("--data-dir", str(tmp_path / "d2"), "--insecure-http=true", "--listen", "0.0.0.0:0")
    assert r.returncode == 2 and "refused on the non-loopback address" in r.stderr, r.stderr
    plain = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "d3"), "--insecure-http=true")
    assert anonymous_session().get(plain.base + "/api/v1/namespaces/a/secrets", timeout=10).status_code == 401
    plain.wait_for_log("served without TLS")


def raw_files_contain(directory, needle):
    for p in pathlib.Path(directory).rglob("*"):
        if p.is_file() and needle.encode() in p.read_bytes():
            return str(p)
    return None


def test_secrets_encrypted_at_rest_rotation_and_wrong_keys(daemon, tmp_path):
    data = tmp_path / "data"
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(data))
    value, plain = base64.b64encode(b"hunter2-db-password").decode(), "plain-string-data-value"
    sec = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
           "data": {"password": value}, "stringData": {"token": plain}}
    assert requests.post(d.base + "/api/v1/namespaces/shop/secrets", json=sec, timeout=10).status_code == 201
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop"},
          "data": {"k": "config-visible-value"}}
    assert requests.post(d.base + "/api/v1/namespaces/shop/configmaps", json=cm, timeout=10).status_code == 201
    key_file = data / "encryption-keys.yaml"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert d.stop() == 0
    assert raw_files_contain(data / "store", "config-visible-value")  # the search finds what is not sealed
    for needle in (value, plain, "hunter2"):
        assert raw_files_contain(data / "store", needle) is None, needle
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(data))
    got = requests.get(d.base + "/api/v1/namespaces/shop/secrets/db", timeout=10).json()
    assert got["data"]["password"] == value
    # Running: the rewrite refuses to touch the store.
    r = run("encryption", "rewrite", "--data-dir", str(data))
    assert r.returncode == 1 and "stop tmcd first" in r.stderr, r.stderr
    assert d.stop() == 0

    # Rotation: add a key, restart (warns), rewrite, then drop the old key: still readable.
    r = run("encryption", "add-key", "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(data))
    d.wait_for_log("with an older key")
    assert d.stop() == 0
    r = run("encryption", "rewrite", "--data-dir", str(data))
    assert r.returncode == 0 and "rewrote 1 Secrets" in r.stdout, r.stdout + r.stderr
    r = run("encryption", "status", "--data-dir", str(data))
    assert "1 Secrets encrypted (0 with an older key), 0 in plaintext" in r.stdout, r.stdout
    doc = yaml.safe_load(key_file.read_text())
    doc["keys"] = doc["keys"][:1]
    key_file.write_text(yaml.safe_dump(doc))
    for needle in (value, plain):
        assert raw_files_contain(data / "store", needle) is None, needle
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(data))
    assert requests.get(d.base + "/api/v1/namespaces/shop/secrets/db", timeout=10).json()["data"]["password"] == value
    assert d.stop() == 0

    # A wrong key file: tmcd refuses to start and says why; a readable key file is refused too.
    good = key_file.read_text()
    other = tmp_path / "other"
    assert run("encryption", "status", "--data-dir", str(other)).returncode == 0  # makes another key file
    key_file.write_text((other / "encryption-keys.yaml").read_text())
    r = run("--data-dir", str(data), "--feature-gates=TMC=false", "--listen", "127.0.0.1:0")
    assert r.returncode == 1 and "cannot open the sealed value" in r.stderr, r.stderr
    key_file.write_text(good)
    outside = tmp_path / "keys.yaml"  # inside the data dir tmcd tightens modes itself; outside it refuses
    outside.write_text(good)
    outside.chmod(0o640)
    r = run("--data-dir", str(data), "--feature-gates=TMC=false", "--listen", "127.0.0.1:0",
            "--encryption-key-file", str(outside))
    assert r.returncode == 1 and "chmod 600" in r.stderr, r.stderr


def test_audit_log_records_who_did_what(daemon, tmp_path):
    data = tmp_path / "data"
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(data), "--audit-level", "Request")
    sec = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"p": "YXVkaXQtc2VjcmV0"}}
    assert requests.post(d.base + "/clusters/root:a/api/v1/namespaces/x/secrets", json=sec, timeout=10).status_code == 201
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "audited-config"}}
    assert requests.post(d.base + "/api/v1/namespaces/x/configmaps", json=cm, timeout=10).status_code == 201
    assert anonymous_session().get(d.base + "/api/v1/namespaces/x/secrets", timeout=10).status_code == 401
    anonymous_session().get(d.base + "/healthz", timeout=10)
    assert d.stop() == 0  # writes what is queued
    log = data / "audit.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert all(e["apiVersion"] == "audit.k8s.io/v1" and e["kind"] == "Event" for e in events)
    created = [e for e in events if e["verb"] == "create"]
    assert {e["objectRef"]["resource"] for e in created} == {"secrets", "configmaps"}
    secret_ev = next(e for e in created if e["objectRef"]["resource"] == "secrets")
    assert secret_ev["user"]["username"] == "tmcd-test-admin" and secret_ev["responseStatus"]["code"] == 201
    assert secret_ev["annotations"]["tmc.kcp.io/workspace"] == "root:a" and "requestObject" not in secret_ev
    assert "YXVkaXQtc2VjcmV0" not in log.read_text()  # never a Secret's value
    cm_ev = next(e for e in created if e["objectRef"]["resource"] == "configmaps")
    assert cm_ev["requestObject"]["data"]["k"] == "audited-config"
    denied = [e for e in events if e["responseStatus"]["code"] == 401]
    assert denied and denied[0]["user"]["username"] == "system:anonymous"
    assert not any(e["requestURI"] == "/healthz" for e in events)
