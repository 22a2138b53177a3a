"""tmcctl against a real tmcd without clusters (test/e2e/test_tmcctl.py adds real clusters): every usage
error and failure class with its exit code and message (golden), placements from flags and files in every
output format, the dry-run of a registration (the least-privilege ClusterRole it would create), the help
against the man page, and the completion scripts."""
import json
import pathlib
import re
import subprocess

import yaml
from daemon import run
from tmcctl_helpers import check_golden, eventually, result, tmcctl

ROOT = pathlib.Path(__file__).resolve().parents[2]
MAN = ROOT / "man" / "tmcctl.1"


def start(daemon, tmp_path, own_pki=False):
    data = tmp_path / "data"
    d = daemon("--data-dir", str(data), "--store-fsync=false", own_pki=own_pki)
    d.base  # noqa: B018 (waits until it listens)
    return d, data


def test_usage_errors_exit_2_with_a_hint(daemon, tmp_path):
    d, _ = start(daemon, tmp_path)
    sock = ["--socket", d.unix_path]
    cases = {
        "usage-unknown-command": ["bogus"],
        "usage-no-subcommand": ["cluster"],
        "usage-missing-argument": [*sock, "cluster", "describe"],
        "usage-unknown-flag": [*sock, "cluster", "list", "--frobnicate"],
        "usage-output-format": [*sock, "-o", "xml", "cluster", "list"],
        "usage-workspace": [*sock, "--workspace", "Root:A", "cluster", "list"],
        "usage-replicas": [*sock, "placement", "create", "p", "--replicas", "Tripled"],
    }
    for name, args in cases.items():
        r = tmcctl(*args)
        assert r.returncode == 2, (name, r.stdout, r.stderr)
        assert r.stderr.startswith("error: ") and "\nhint: " in r.stderr or name != "usage-unknown-command", r.stderr
        check_golden(name, result(r))


def test_failures_exit_1_with_what_to_do(daemon, tmp_path):
    d, data = start(daemon, tmp_path, own_pki=True)
    sock = ["--socket", d.unix_path]
    bad = tmp_path / "bad.kubeconfig"
    bad.write_text("clusters: [\n")
    vera = tmp_path / "vera.kubeconfig"
    r = run("kubeconfig", "--data-dir", str(data), "--user", "vera", "--server", d.base)
    assert r.returncode == 0, r.stderr
    vera.write_text(r.stdout)
    closed = subprocess.run(["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); "
                             "print(s.getsockname()[1])"], capture_output=True, text=True).stdout.strip()
    cases = {
        "fail-kubeconfig-missing": ["--kubeconfig", str(tmp_path / "nope.kubeconfig"), "cluster", "list"],
        "fail-kubeconfig-malformed": ["--kubeconfig", str(bad), "cluster", "list"],
        "fail-unreachable": ["--server", f"https://127.0.0.1:{closed}", "--insecure-skip-tls-verify", "cluster",
                             "list"],
        "fail-no-server": ["cluster", "list"],
        "fail-unauthorized": ["--server", d.base, "--certificate-authority", str(data / "pki" / "ca.crt"),
                              "--token", "wrong", "cluster", "list"],
        "fail-forbidden": ["--kubeconfig", str(vera), "cluster", "list"],
        "fail-cluster-not-found": [*sock, "cluster", "describe", "nope"],
        "fail-placement-not-found": [*sock, "-n", "shop", "placement", "explain", "nope"],
        "fail-workload-not-found": [*sock, "-n", "shop", "workload", "status", "deployment/nope"],
        "fail-workload-kind": [*sock, "workload", "where", "gizmo/x"],
        "fail-taint-syntax": [*sock, "cluster", "taint", "nope", "gpu=yes"],
        "fail-socket-missing": ["--socket", str(tmp_path / "none.sock"), "cluster", "list"],
    }
    for name, args in cases.items():
        r = tmcctl(*args)
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        assert r.stderr.startswith("error: ") and "\nhint: " in r.stderr or name in (
            "fail-workload-kind", "fail-taint-syntax"), (name, r.stderr)
        check_golden(name, result(r))


PLACEMENT = """apiVersion: tmc.kcp.io/v1alpha1
kind: WorkloadPlacement
metadata: {name: api}
spec:
  workloadSelector:
    resources: [{group: apps, resource: deployments}]
    labelSelector: {matchLabels: {app: api}}
  numberOfClusters: 1
"""


def test_placements_from_flags_and_files_in_every_format(daemon, tmp_path):
    d, _ = start(daemon, tmp_path)
    t = ["--socket", d.unix_path, "-n", "shop"]
    r = tmcctl(*t, "placement", "create", "web", "--selector", "app=web", "--clusters", "2", "--locations",
               "us-east,us-west", "--strategy", "RoundRobin", "--dry-run")
    assert r.returncode == 0, r.stderr
    check_golden("placement-create-dry-run", result(r))
    r = tmcctl(*t, "placement", "list")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "No resources found in shop namespace.\n", r
    r = tmcctl(*t, "placement", "create", "web", "--selector", "app=web", "--clusters", "2", "--locations",
               "us-east,us-west")
    assert r.returncode == 0, r.stderr
    check_golden("placement-create", result(r))
    f = tmp_path / "api.yaml"
    f.write_text(PLACEMENT)
    assert tmcctl(*t, "placement", "create", "-f", str(f)).returncode == 0
    r = tmcctl(*t, "placement", "create", "-f", "-", input=PLACEMENT)
    assert r.returncode == 1 and "already exists" in r.stderr, r.stderr
    check_golden("placement-create-exists", result(r))
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(PLACEMENT.replace("metadata: {name: api}", "metadata: {name: api, namespace: other}"))
    check_golden("placement-create-wrong-namespace", result(tmcctl(*t, "placement", "create", "-f", str(wrong))))
    for fmt in ("table", "wide", "name"):
        check_golden(f"placement-list-{fmt}", result(tmcctl(*t, "-o", fmt, "placement", "list")))
    check_golden("placement-list-all-namespaces", result(tmcctl("--socket", d.unix_path, "placement", "list", "-A")))
    as_json = json.loads(tmcctl(*t, "-o", "json", "placement", "list").stdout)
    assert as_json["kind"] == "List" and sorted(i["metadata"]["name"] for i in as_json["items"]) == ["api", "web"]
    eventually(lambda: "Scheduled" in tmcctl(*t, "placement", "describe", "web").stdout, 30, "status written")
    check_golden("placement-get-yaml", result(tmcctl(*t, "-o", "yaml", "placement", "get", "web")))
    check_golden("placement-get-json", result(tmcctl(*t, "-o", "json", "placement", "get", "web")))
    one = yaml.safe_load(tmcctl(*t, "-o", "yaml", "placement", "get", "web").stdout)
    assert one["kind"] == "WorkloadPlacement" and one["spec"]["numberOfClusters"] == 2
    assert one["spec"]["clusterSelector"]["locations"] == ["us-east", "us-west"]
    check_golden("placement-describe", result(tmcctl(*t, "placement", "describe", "web")))
    check_golden("placement-explain", result(tmcctl(*t, "placement", "explain", "web")))
    explained = json.loads(tmcctl(*t, "-o", "json", "placement", "explain", "web").stdout)
    assert explained["kind"] == "PlacementExplanation" and explained["clusters"] == []
    sim = tmp_path / "sim.yaml"
    sim.write_text(PLACEMENT.replace("name: api", "name: what-if"))
    check_golden("placement-simulate", result(tmcctl(*t, "placement", "simulate", "-f", str(sim))))
    assert tmcctl(*t, "placement", "get", "what-if").returncode == 1  # nothing was stored
    check_golden("placement-delete", result(tmcctl(*t, "placement", "delete", "api")))
    assert tmcctl(*t, "placement", "get", "api").returncode == 1


def test_register_dry_run_prints_both_sides_and_the_least_privileges(daemon, tmp_path):
    d, _ = start(daemon, tmp_path)
    kc = tmp_path / "east.kubeconfig"
    kc.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "east",
        "clusters": [{"name": "east", "cluster": {"server": "https://east.example:6443", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "admin", "user": {"token": "secret-admin-token"}}],
        "contexts": [{"name": "east", "context": {"cluster": "east", "user": "admin"}}]}))
    t = ["--socket", d.unix_path]
    r = tmcctl(*t, "cluster", "register", "east", "--cluster-kubeconfig", str(kc), "--dry-run")
    assert r.returncode == 1 and "insecure-skip-tls-verify" in r.stderr  # an unverified cluster is a choice
    r = tmcctl(*t, "cluster", "register", "east", "--cluster-kubeconfig", str(kc), "--dry-run", "--location",
               "us-east", "--labels", "env=prod", "--insecure-skip-tls-verify", "--resources", "widgets.example.com")
    assert r.returncode == 0, r.stderr
    assert "secret-admin-token" not in r.stdout  # the administrator's credentials never travel
    check_golden("cluster-register-dry-run", result(r))
    docs = [x for x in yaml.safe_load_all(r.stdout) if x]
    role = next(x for x in docs if x["kind"] == "ClusterRole")
    for rule in role["rules"]:
        assert "*" not in rule.get("verbs", []) and "*" not in rule.get("resources", []), rule
        assert "escalate" not in rule.get("verbs", []) and "bind" not in rule.get("verbs", [])
    groups = {g for rule in role["rules"] for g in rule.get("apiGroups", [])}
    assert "rbac.authorization.k8s.io" not in groups  # it cannot grant itself more
    assert any("widgets" in rule.get("resources", []) for rule in role["rules"])
    assert tmcctl(*t, "cluster", "list").stderr == "No resources found\n"  # nothing was stored


def help_tree(path=()):
    """Every command path with the flags its --help lists."""
    out = tmcctl(*path, "--help").stdout
    assert re.search(r"\nExamples:\n(  #.*\n)?  tmcctl ", out), f"tmcctl {' '.join(path)} --help has no examples"
    flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", out.split("Examples:")[0]))
    tree = {path: flags}
    if "Subcommands:" in out:
        for line in out.split("Subcommands:")[1].split("\n\n")[0].splitlines()[0:]:
            m = re.match(r"\s+([a-z-]+)", line)
            if m:
                tree.update(help_tree((*path, m.group(1))))
    return tree


def test_help_and_the_man_page_list_the_same_commands_and_flags():
    tree = help_tree()
    man = MAN.read_text().replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "")
    for path, flags in tree.items():
        heading = "tmcctl " + " ".join(path)
        if len(path) == 2:  # leaf commands have their own section (verbs sharing one are joined by |)
            verbs = [line for line in man.splitlines() if line.startswith(".SS")]
            assert any(re.search(rf"tmcctl {path[0]} ([a-z|]*\|)?{path[1]}\b", v) for v in verbs), heading
        for f in flags - {"--help"}:
            assert f in man, f"{heading}: {f} is in --help but not in man/tmcctl.1"
    all_flags = set().union(*tree.values())
    for f in set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", man)):
        assert f in all_flags, f"man/tmcctl.1 names {f}, which no command has"
    assert len(tree) >= 20, tree.keys()


def test_completion_completes_commands_and_flags():
    script = tmcctl("completion", "bash").stdout

    def complete(*words):
        line = " ".join(["tmcctl", *words])
        prog = (f"{script}\nCOMP_WORDS=(tmcctl {' '.join(words)}); COMP_CWORD={len(words)}; _tmcctl; "
                "printf '%s\\n' \"${COMPREPLY[@]}\"")
        r = subprocess.run(["bash", "-c", prog], capture_output=True, text=True)
        assert r.returncode == 0, (line, r.stderr)
        return set(r.stdout.split())

    assert complete("") >= {"cluster", "placement", "workload", "version", "completion", "--kubeconfig"}
    assert complete("cluster", "re") == {"register"}
    assert complete("cluster", "register", "--cluster-k") == {"--cluster-kubeconfig"}
    assert complete("-n", "shop", "placement", "") >= {"create", "explain", "simulate"}
    assert "--namespace" in complete("workload", "status", "--n")
    for shell in ("zsh", "fish"):
        r = tmcctl("completion", shell)
        assert r.returncode == 0 and "register" in r.stdout and "--cluster-kubeconfig" in r.stdout
    assert tmcctl("completion", "tcsh").returncode == 2


def test_version_names_client_server_and_gates(daemon, tmp_path):
    d, _ = start(daemon, tmp_path)
    r = tmcctl("--socket", d.unix_path, "version")
    assert r.returncode == 0, r.stderr
    assert re.match(r"Client Version: v\d+\.\d+\.\d+\nServer Version: v\d+\.\d+\.\d+\nFeature Gates: .*TMC=true", r.stdout)
    assert tmcctl("version", "--client").stdout.startswith("Client Version: v")  # no server needed
