"""The tmcd process interface: flags, config errors, signals, data-dir lock, log formats."""
import json
import signal
import time

import requests
import yaml

from conftest import run


def test_version_lists_gates():
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.startswith("tmcd 0.1.0")
    assert "TMC=true" in r.stdout and "TMCAdvancedPlacement=false" in r.stdout


def test_help_lists_every_gate_and_flag():
    r = run("--help")
    assert r.returncode == 0
    for gate in ("TMC=", "TMCAPIExport=", "TMCAdvancedPlacement=", "TMCStatusAggregation=", "TMCTracing="):
        assert gate in r.stdout
    for flag in ("--config", "--data-dir", "--log-level", "--log-format", "--feature-gates", "--print-default-config"):
        assert flag in r.stdout
    assert "owner @jessesanford" in r.stdout


def test_default_config_is_valid_yaml_and_loads(tmp_path, daemon):
    r = run("--print-default-config")
    assert r.returncode == 0
    doc = yaml.safe_load(r.stdout)
    assert doc["logging"]["level"] == "info"
    assert doc["featureGates"]["TMC"] is True
    cfg = tmp_path / "tmcd.yaml"
    doc["dataDir"] = str(tmp_path / "data")
    cfg.write_text(yaml.safe_dump(doc))
    d = daemon("--config", str(cfg))
    d.wait_for_log("tmcd ready")
    assert d.stop() == 0


def test_unknown_gate_exits_2():
    r = run("--feature-gates=Nope=true", "--data-dir", "/tmp/unused")
    assert r.returncode == 2
    assert 'unknown feature gate "Nope"' in r.stderr
    r = run("--feature-gates=TMC=sometimes")
    assert r.returncode == 2 and "want true or false" in r.stderr


def test_unknown_flag_exits_2():
    r = run("--no-such-flag")
    assert r.returncode == 2


def test_broken_config_file_exits_2_naming_file_line_key(tmp_path):
    cases = {
        "logging:\n  level: loud\n": ":2:10: logging.level: invalid log level",
        "logging:\n  level: info\nbogus: 1\n": ":3:1: unknown key \"bogus\"",
        "shutdownTimeout: {a: 1}\n": ":1:18: shutdownTimeout: expected a duration",
        "dataDir: [\n": "YAML syntax error",
    }
    for text, want in cases.items():
        cfg = tmp_path / "bad.yaml"
        cfg.write_text(text)
        r = run("--config", str(cfg))
        assert r.returncode == 2, text
        assert str(cfg) in r.stderr and want in r.stderr, r.stderr
    r = run("--config", str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and "cannot read file" in r.stderr


def test_kcp_mode_is_refused_without_its_gate_or_kubeconfig(tmp_path):
    data = ["--data-dir", str(tmp_path / "data")]
    r = run(*data, "--upstream", "kcp", "--upstream-kubeconfig", "/x", "--feature-gates", "TMCAPIExport=false")
    assert r.returncode == 2 and "feature gate TMCAPIExport is off" in r.stderr, r.stderr
    r = run(*data, "--upstream", "kcp", "--upstream-kubeconfig", "/x", "--feature-gates", "TMC=false")
    assert r.returncode == 2 and "TMC=false switches every TMC gate off" in r.stderr
    r = run(*data, "--upstream", "kcp")
    assert r.returncode == 2 and "upstream.kubeconfig is empty" in r.stderr
    r = run(*data, "--upstream", "kcp", "--upstream-kubeconfig", str(tmp_path / "missing.kubeconfig"))
    assert r.returncode == 1 and "upstream.kubeconfig" in r.stderr and "missing.kubeconfig" in r.stderr, r.stderr
    bad = tmp_path / "bad.kubeconfig"
    bad.write_text("apiVersion: v1\nkind: Config\ncurrent-context: nope\n")
    bad.chmod(0o644)
    r = run(*data, "--upstream", "kcp", "--upstream-kubeconfig", str(bad))
    assert r.returncode == 1 and "accessible to every user" in r.stderr, r.stderr  # it may hold credentials
    bad.chmod(0o640)
    r = run(*data, "--upstream", "kcp", "--upstream-kubeconfig", str(bad))
    assert r.returncode == 1 and "nope" in r.stderr, r.stderr


def test_claimed_resources_are_checked_before_kcp_is_contacted(tmp_path):
    data = ["--data-dir", str(tmp_path / "data"), "--listen", "127.0.0.1:0"]
    good = tmp_path / "kcp.kubeconfig"  # nothing listens there: the claims are refused first
    good.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}]}))
    good.chmod(0o600)
    kcp = [*data, "--upstream", "kcp", "--upstream-kubeconfig", str(good)]
    r = run(*kcp, "--upstream-claimed-resources", "deployments.v1.apps")
    assert r.returncode == 1 and "already exported or claimed by tmcd itself" in r.stderr, r.stderr
    assert "upstream.exportWorkloadTypes: false" in r.stderr
    r = run(*kcp, "--upstream-claimed-resources", "events.v1")  # tmcd claims (and writes) events itself
    assert r.returncode == 1 and "already claimed by tmcd itself (it writes Events)" in r.stderr, r.stderr
    r = run(*kcp, "--upstream-claimed-resources", "widgets")
    assert r.returncode == 2 and "want <resource>.<version>[.<group>][:<identityHash>]" in r.stderr, r.stderr
    r = run(*kcp, "--upstream-claimed-resources", "widgets.v1.example.com:abc")
    assert r.returncode == 2 and "want 64 lowercase hex digits" in r.stderr, r.stderr
    r = run(*data, "--upstream-claimed-resources", "widgets.v1.example.com")
    assert r.returncode == 2 and "claims are made in kcp mode only" in r.stderr, r.stderr


def test_env_and_bad_env(tmp_path):
    r = run("--data-dir", str(tmp_path), env={"TMCD_LOG_FORMAT": "xml"})
    assert r.returncode == 2 and "TMCD_LOG_FORMAT" in r.stderr


def test_sigterm_stops_within_two_seconds(tmp_path, daemon):
    d = daemon("--data-dir", str(tmp_path / "data"))
    d.wait_for_log("tmcd ready")
    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM)
    assert rc == 0
    assert time.monotonic() - t0 < 2.0
    assert "tmcd stopped" in d.log()


def test_sigint_stops_cleanly(tmp_path, daemon):
    d = daemon("--data-dir", str(tmp_path / "data"))
    d.wait_for_log("tmcd ready")
    assert d.stop(signal.SIGINT) == 0


def test_sighup_reloads_log_level(tmp_path, daemon):
    cfg = tmp_path / "tmcd.yaml"
    cfg.write_text(f"dataDir: {tmp_path / 'data'}\nlogging:\n  level: info\n")
    d = daemon("--config", str(cfg))
    d.wait_for_log("tmcd ready")
    cfg.write_text(f"dataDir: {tmp_path / 'data'}\nlogging:\n  level: debug\n")
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for_log("log level info -> debug")
    cfg.write_text("logging:\n  level: [\n")
    d.proc.send_signal(signal.SIGHUP)
    d.wait_for_log("reload failed, keeping the current settings")
    assert d.proc.poll() is None, "a bad reload must not stop the daemon"
    assert d.stop() == 0


def test_second_instance_on_same_data_dir_is_refused(tmp_path, daemon):
    data = str(tmp_path / "data")
    first = daemon("--data-dir", data)
    first.wait_for_log("tmcd ready")
    r = run("--data-dir", data)
    assert r.returncode == 1
    assert "in use by another tmcd process" in r.stderr
    assert first.stop() == 0


def test_json_log_format(tmp_path, daemon):
    d = daemon("--data-dir", str(tmp_path / "data"), "--log-format", "json", "--log-level", "debug")
    d.wait_for_log("tmcd ready")
    # A controller's lines carry the fields of the object it reconciles (docs/observability.md#logs).
    wp = {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "WorkloadPlacement",
          "metadata": {"name": "web", "namespace": "shop"},
          "spec": {"workloadSelector": {"labelSelector": {"matchLabels": {"app": "web"}}}}}
    r = requests.post(d.base + "/apis/tmc.kcp.io/v1alpha1/namespaces/shop/workloadplacements", json=wp, timeout=10)
    assert r.status_code == 201, r.text
    d.wait_for_log("NoClusters")
    assert d.stop() == 0
    lines = [json.loads(line) for line in d.log().splitlines() if line.strip()]
    assert lines and all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)
    assert any(line["msg"] == "tmcd ready" for line in lines)
    mine = [line for line in lines if line.get("controller") == "placement"]
    assert mine and all(line["workspace"] == "root" and line["namespace"] == "shop" and line["name"] == "web"
                        for line in mine), mine
    assert not any("controller" in line for line in lines if line["msg"] == "tmcd ready")


def test_generate_prints_manifests_that_match_config(tmp_path):
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    for what, files in (("crds", ["config/crds/tmc.kcp.io_clusterregistrations.yaml",
                                  "config/crds/tmc.kcp.io_workloadplacements.yaml",
                                  "config/crds/tmc.kcp.io_resourceinterpreters.yaml"]),
                        ("apiresourceschemas", [f"config/kcp/apiresourceschema-{p}.yaml" for p in (
                            "clusterregistrations", "workloadplacements", "resourceinterpreters", "deployments",
                            "services",
                            "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs", "ingresses",
                            "networkpolicies", "persistentvolumeclaims", "horizontalpodautoscalers",
                            "poddisruptionbudgets")] + ["config/kcp/apiexport.yaml",
                                                        "config/kcp/v1alpha1/apiexport.yaml"])):
        r = run("generate", what)
        assert r.returncode == 0, r.stderr
        docs = [d for d in yaml.safe_load_all(r.stdout) if d]
        assert len(docs) == len(files)
        for doc, f in zip(docs, files):
            assert doc == yaml.safe_load((root / f).read_text()), f
        out = tmp_path / what
        assert run("generate", what, "--output-dir", str(out)).returncode == 0
        for f in files:
            assert (out / f).read_text() == (root / f).read_text()
    # YAML 1.1 readers must see condition statuses as strings, not booleans.
    crd = yaml.safe_load((root / "config/crds/tmc.kcp.io_clusterregistrations.yaml").read_text())
    status = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    assert status["properties"]["conditions"]["items"]["properties"]["status"]["enum"] == ["True", "False", "Unknown"]
    assert run("generate", "everything").returncode == 2
