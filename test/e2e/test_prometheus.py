"""Observability with real tools (docs/observability.md): a real Prometheus (built from Go modules by
test/peers/build.sh prometheus) scrapes a real tmcd, with a least-privilege token, while tmcd syncs a
Deployment to two real clusters. No alert may be pending while all is healthy, exactly the alerts an
injected failure calls for must then be pending, every dashboard panel's query and every recording rule
must return data, every alert must have a promtool unit test that fires it, and /metrics must be exactly
what docs/metrics.md lists."""
import json
import math
import os
import pathlib
import re
import socket
import subprocess
import sys
import time

import pytest
import requests
import yaml

from test_clusters import peer, post, registration
from test_sync import CM, DEPLOY, WP, deployment, eventually, patch, placement, register

ROOT = pathlib.Path(__file__).resolve().parents[2]
MON = ROOT / "monitoring"
RULES, RULE_TESTS = MON / "prometheus" / "tmcd-rules.yaml", MON / "prometheus" / "tmcd-rules.test.yaml"
sys.path.insert(0, str(MON / "grafana"))
import generate  # noqa: E402  (the dashboards' generator)

# Families that a run in embedded mode with basic placement cannot show (docs/metrics.md says when they appear).
CONDITIONAL = {"tmcd_upstream_kcp": "kcp mode only", "tmcd_placement_evictions_total": "failover only",
               "tmcd_sync_drift_corrections_total": "drift only"}


@pytest.fixture(scope="module")
def prom_bin():
    r = subprocess.run([str(ROOT / "test" / "peers" / "build.sh"), "prometheus"], capture_output=True, text=True,
                       timeout=3600)
    assert r.returncode == 0, f"building Prometheus failed:\n{r.stderr[-4000:]}"
    return pathlib.Path(r.stdout.strip().splitlines()[-1])


def test_rules_pass_promtool_and_every_alert_has_a_unit_test(prom_bin):
    promtool = str(prom_bin / "promtool")
    r = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([promtool, "test", "rules", RULE_TESTS.name], capture_output=True, text=True, timeout=120,
                       cwd=RULE_TESTS.parent)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr
    alerts = {rule["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for rule in g["rules"] if "alert" in rule}
    fired = {t["alertname"] for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]
             for t in case.get("alert_rule_test", []) if t.get("exp_alerts")}
    assert alerts and alerts == fired, f"alerts without a firing unit test: {alerts - fired}"
    runbooks = (ROOT / "docs" / "operations.md").read_text().lower()
    for a in alerts:
        assert f"### {a.lower()}" in runbooks, f"docs/operations.md has no runbook section for {a}"


def test_dashboards_are_generated():
    for name, text in generate.render().items():
        assert (MON / "grafana" / name).read_text() == text, f"{name} is stale: run monitoring/grafana/generate.py"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_prometheus(prom_bin, tmp_path, target, token_file, ca):
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{
            "job_name": "tmcd", "scheme": "https", "static_configs": [{"targets": [target]}],
            "authorization": {"credentials_file": str(token_file)}, "tls_config": {"ca_file": str(ca)}}]}
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = open(tmp_path / "prometheus.log", "wb")
    proc = subprocess.Popen([str(prom_bin / "prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/-/ready", timeout=2).status_code == 200:
                return proc, url
        except requests.ConnectionError:
            pass
        assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()[-3000:]
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("Prometheus not ready within 60 s:\n" + (tmp_path / "prometheus.log").read_text()[-3000:])


def query(prom, expr):
    r = requests.get(prom + "/api/v1/query", params={"query": expr}, timeout=10)
    assert r.status_code == 200, (expr, r.text)
    return r.json()["data"]["result"]


def panel_queries():
    for name, text in generate.render().items():
        for p in json.loads(text)["panels"]:
            for t in p["targets"]:
                expr = t["expr"].replace("$__rate_interval", "1m").replace('=~"$job"', '="tmcd"')
                yield f"{name}: {p['title']}", re.sub(r'=~"\$\w+"', '=~".*"', expr)


def families(text):
    found = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            found.setdefault(name, {})["help"] = help_.replace("\\\\", "\\").replace("\\n", "\n")
        elif line.startswith("# TYPE "):
            name, kind = line[7:].split()
            found.setdefault(name, {})["type"] = kind
    return found


def documented():
    rows = {}
    for line in (ROOT / "docs" / "metrics.md").read_text().splitlines():
        m = re.match(r"\| `(\w+)` \| (\w+) \| (.*) \| `[^`]+` \|$", line)
        if m:
            rows[m.group(1)] = {"type": m.group(2), "help": m.group(3).replace("&#124;", "|")}
    return rows


def test_a_real_prometheus_scrapes_a_syncing_tmcd(clusters, daemon, prom_bin, tmp_path):
    secret_token = "prom-" + os.urandom(8).hex()
    (tmp_path / "tokens.csv").write_text(f"{secret_token},prometheus,prom\nnosy-token,nosy,nosy\n")
    os.chmod(tmp_path / "tokens.csv", 0o600)
    (tmp_path / "prom.token").write_text(secret_token)
    d = daemon("--data-dir", str(tmp_path / "data"), "--token-auth-file", str(tmp_path / "tokens.csv"))
    base = d.base
    post(base, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "prom"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "tmc:monitoring"},
        "subjects": [{"kind": "User", "name": "prometheus"}]})
    from daemon import anonymous_session, pki
    anon = anonymous_session()
    assert anon.get(base + "/metrics", headers={"Authorization": "Bearer nosy-token"}, timeout=10).status_code == 403
    # The monitoring token reads /metrics and nothing else.
    as_prom = {"Authorization": "Bearer " + secret_token}
    assert anon.get(base + "/metrics", headers=as_prom, timeout=10).status_code == 200
    assert anon.get(base + "/api/v1/namespaces/tmc/secrets", headers=as_prom, timeout=10).status_code == 403

    register(base, "", clusters, ["east", "west"], ready=True)
    post(base, CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "namespace": "shop"},
                    "data": {"color": "blue"}})
    post(base, WP, placement("web", n=2))

    def alerts():
        return requests.get(prom + "/api/v1/alerts", timeout=10).json()["data"]["alerts"]

    proc, prom = start_prometheus(prom_bin, tmp_path, base.split("://", 1)[1], tmp_path / "prom.token", pki().ca)
    try:
        eventually(lambda: [r for r in query(prom, 'up{job="tmcd"}') if r["value"][1] == "1"], 60, "tmcd scraped")
        post(base, DEPLOY, deployment("web"))
        eventually(lambda: query(prom, 'sum(tmcd_sync_applies_total{result="ok"}) >= 2'), 60, "applies scraped")
        # A healthy run: every rule evaluates without error on tmcd's real series, and none is pending or firing
        # (pending starts at the first true evaluation, every second here: 5 s see several).
        time.sleep(5)
        rules = requests.get(prom + "/api/v1/rules", timeout=10).json()["data"]["groups"]
        bad = [(r["name"], r.get("lastError")) for g in rules for r in g["rules"] if r["health"] != "ok"]
        assert not bad, bad
        assert alerts() == [], alerts()

        # Then an unreachable cluster and a placement no cluster matches: exactly their alerts turn pending.
        post(base, "/apis/tmc.kcp.io/v1alpha1/clusterregistrations",
             registration("dead", {**peer(clusters[0]), "server": "https://127.0.0.1:1"}, "east-token", threshold=1))
        nowhere = placement("nowhere", app="none")
        nowhere["spec"]["clusterSelector"] = {"locations": ["mars"]}
        post(base, WP, nowhere)
        eventually(lambda: {x["labels"]["alertname"] for x in alerts()} >= {
            "TMCDClusterNotReady", "TMCDPlacementUnschedulable"}, 60, "pending alerts")
        time.sleep(3)
        names = {(a["labels"]["alertname"], a["labels"].get("cluster") or a["labels"].get("reason"))
                 for a in alerts()}
        assert names == {("TMCDClusterNotReady", "dead"), ("TMCDPlacementUnschedulable", "NoFeasibleClusters")}, names

        # Every panel and every recording rule returns data.
        for title, expr in panel_queries():
            eventually(lambda: query(prom, expr), 60, f"data for the panel {title!r}: {expr}")
        records = [rule["record"] for g in yaml.safe_load(RULES.read_text())["groups"] for rule in g["rules"]
                   if "record" in rule]
        for record in records:
            eventually(lambda: query(prom, record), 60, f"data for the recording rule {record}")
        # A quantile from real data is a number, not NaN, once applies happen while Prometheus watches (the
        # first apply creates the series, so its own increase is never seen): scale the Deployment.
        patch(base, DEPLOY + "/web", {"spec": {"replicas": 3}})
        p99 = 'histogram_quantile(0.99, sum by (le) (rate(tmcd_sync_apply_duration_seconds_bucket[1m])))'
        eventually(lambda: [r for r in query(prom, p99) if not math.isnan(float(r["value"][1]))], 60,
                   "an apply p99 from real applies")
    finally:
        proc.terminate()
        proc.wait(30)

    # /metrics is what docs/metrics.md lists: same families, types and help texts.
    served, docs = families(requests.get(base + "/metrics", timeout=10).text), documented()
    assert docs, "no generated table in docs/metrics.md"
    for name, f in served.items():
        assert name in docs, f"{name} is served but not in docs/metrics.md"
        assert docs[name] == f, (name, docs[name], f)
    missing = set(docs) - set(served) - set(CONDITIONAL)
    assert not missing, f"documented but not served during a sync: {missing}"
    assert d.stop() == 0
