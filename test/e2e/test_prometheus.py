"""Observability with real tools (docs/observability.md): tmcd's Prometheus rules checked and unit-tested by
a real promtool (built from Go modules by test/peers/build.sh prometheus); every alert must have a unit
test that fires it and a runbook."""
import pathlib
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
MON = ROOT / "monitoring"
RULES, RULE_TESTS = MON / "prometheus" / "tmcd-rules.yaml", MON / "prometheus" / "tmcd-rules.test.yaml"


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
