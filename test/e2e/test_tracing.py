"""Tracing with a real Jaeger (docs/observability.md#traces; built from Go modules by test/peers/build.sh
jaeger): tmcd exports OTLP/JSON spans to Jaeger's OTLP/HTTP receiver while it syncs a Deployment to two
real clusters. A client's traceparent on the create makes the whole journey one trace that Jaeger gives
back: the API request, the store commit, the placement and sync reconciles (across the work queues),
the copy on each cluster, the requests to each cluster's kube-apiserver and the status the clusters
report back - each span under its parent, none orphaned."""
import pathlib
import secrets
import socket
import subprocess
import time
from urllib.parse import urlparse

import pytest
import requests
import yaml

from test_clusters import peer, post
from test_sync import CM, DEPLOY, WP, deployment, eventually, placement, register

# A namespace of its own: copies other modules left on shared clusters (one pytest run of several
# files) would otherwise be there already, and a cluster reports no new status for them.
NS = "traced"
CM, DEPLOY, WP = (p.replace("/namespaces/shop/", f"/namespaces/{NS}/") for p in (CM, DEPLOY, WP))


def in_ns(obj):
    obj["metadata"]["namespace"] = NS
    return obj

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jaeger_binary():
    r = subprocess.run([str(ROOT / "test" / "peers" / "build.sh"), "jaeger"], capture_output=True, text=True,
                       timeout=3600)
    assert r.returncode == 0, f"building Jaeger failed:\n{r.stderr[-4000:]}"
    return pathlib.Path(r.stdout.strip().splitlines()[-1]) / "jaeger"


def start_jaeger(d):
    """A Jaeger with in-memory storage on free ports, its files in `d`: (process, OTLP/HTTP base URL,
    query API base URL). Also used by bench/tracing_bench.py."""
    otlp, query, grpc = free_port(), free_port(), free_port()
    config = {
        "service": {"extensions": ["jaeger_storage", "jaeger_query"],
                    "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["batch"],
                                             "exporters": ["jaeger_storage_exporter"]}},
                    "telemetry": {"metrics": {"level": "none"}, "logs": {"level": "warn"}}},
        "extensions": {"jaeger_query": {"storage": {"traces": "mem"}, "http": {"endpoint": f"127.0.0.1:{query}"},
                                        "grpc": {"endpoint": f"127.0.0.1:{grpc}"}},
                       "jaeger_storage": {"backends": {"mem": {"memory": {"max_traces": 10000}}}}},
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": f"127.0.0.1:{otlp}"}}}},
        "processors": {"batch": {"timeout": "100ms"}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "mem"}}}
    (d / "config.yaml").write_text(yaml.safe_dump(config))
    with open(d / "jaeger.log", "wb") as log:
        proc = subprocess.Popen([str(jaeger_binary()), "--config", str(d / "config.yaml")], stdout=log,
                                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{query}/api/services", timeout=2).ok:
                return proc, f"http://127.0.0.1:{otlp}", f"http://127.0.0.1:{query}"
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError((d / "jaeger.log").read_text()[-4000:])
        time.sleep(0.2)


@pytest.fixture(scope="module")
def jaeger(tmp_path_factory):
    """(OTLP/HTTP base URL, query API base URL) of a running Jaeger."""
    proc, otlp, query = start_jaeger(tmp_path_factory.mktemp("jaeger"))
    try:
        yield otlp, query
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def trace_spans(query, trace_id):
    r = requests.get(f"{query}/api/traces/{trace_id}", timeout=10)
    if r.status_code != 200 or not r.json().get("data"):
        return []
    return r.json()["data"][0]["spans"]


def tags(span):
    return {t["key"]: t["value"] for t in span.get("tags", [])}


def parent_of(span):
    return next((r["spanID"] for r in span.get("references", []) if r["refType"] == "CHILD_OF"), None)


def print_tree(spans, root, depth=0):
    """The trace as Jaeger returned it, indented (for the test log and docs/observability.md)."""
    for s in sorted((s for s in spans if parent_of(s) == root), key=lambda s: s["startTime"]):
        t = tags(s)
        what = t.get("tmcd.cluster") or t.get("server.port") or t.get("tmcd.key") or t.get("tmcd.name") or ""
        print(f"{'  ' * depth}{s['operationName']} {what} {s['duration']}us")
        print_tree(spans, s["spanID"], depth + 1)


def ports(clusters):
    return {str(urlparse(peer(c)["server"]).port) for c in clusters}


def journey_complete(spans, clusters):
    """Both copies applied: a "sync copy" span per cluster with a request to that cluster under it."""
    by_id = {s["spanID"]: s for s in spans}
    want = ports(clusters)
    seen = set()
    for s in spans:
        p = by_id.get(parent_of(s))
        if s["operationName"].startswith("HTTP ") and p is not None and p["operationName"] == "sync copy":
            seen.add(str(tags(s).get("server.port")))
    return want <= seen


def orphans(spans):
    by_id = {s["spanID"]: s for s in spans}
    return [s["operationName"] for s in spans if s["operationName"] != "create deployments.apps"
            and parent_of(s) not in by_id]


def settled_trace(query, trace_id, clusters, timeout=60):
    """The trace once both copies are applied and every span's parent has reached Jaeger.

    A span is exported when it ends, so a short child (a hash-skipped "sync copy") can reach Jaeger
    before the reconcile above it, which is still running or still in the exporter's batch: an orphan
    at one instant is not yet a bug. One that stays for `timeout` seconds is, and the assertions
    after this return name it."""
    deadline = time.monotonic() + timeout
    spans = []
    while time.monotonic() < deadline:
        spans = trace_spans(query, trace_id)
        if journey_complete(spans, clusters) and not orphans(spans):
            return spans
        time.sleep(0.5)
    assert journey_complete(spans, clusters), f"the workload's whole journey not in Jaeger within {timeout}s"
    return spans


def test_a_workload_journey_is_one_trace_in_jaeger(clusters, daemon, jaeger, tmp_path):
    otlp, query = jaeger
    d = daemon("--data-dir", str(tmp_path / "data"), "--feature-gates", "TMCTracing=true",
               "--tracing-endpoint", otlp)
    base = d.base
    d.wait_for_log("spans exported to " + otlp)
    register(base, "", clusters, ["east", "west"], ready=True)
    post(base, CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "namespace": NS},
                    "data": {"color": "blue"}})
    post(base, WP, in_ns(placement("web", n=2)))
    time.sleep(2)  # the placement has chosen; the create below is what the trace follows
    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)
    r = requests.post(base + DEPLOY, json=in_ns(deployment("web")), timeout=10,
                      headers={"traceparent": f"00-{trace_id}-{client_span}-01"})
    assert r.status_code == 201, r.text
    spans = settled_trace(query, trace_id, clusters)

    by_id = {s["spanID"]: s for s in spans}
    names = [s["operationName"] for s in spans]
    print_tree(spans, client_span)
    # The API request is the root of tmcd's part, under the client's span.
    request = [s for s in spans if s["operationName"] == "create deployments.apps"]
    assert len(request) == 1, names
    assert parent_of(request[0]) == client_span
    t = tags(request[0])
    assert t["http.request.method"] == "POST" and t["http.response.status_code"] == 201, t
    assert "tmcd" in requests.get(f"{query}/api/services", timeout=10).json()["data"]
    # Every other span hangs under a span of the same trace: nothing is orphaned across the queue hops.
    for s in spans:
        if s is not request[0]:
            assert parent_of(s) in by_id, f"{s['operationName']} has no parent in the trace: {names}"

    def chain(s):
        out = []
        while s is not None:
            out.append(s["operationName"])
            s = by_id.get(parent_of(s))
        return out

    # The request's commit, then the sync reconcile it queued, then one copy per cluster and the
    # requests to that cluster.
    commit = [s for s in spans if s["operationName"] == "store create" and parent_of(s) == request[0]["spanID"]]
    assert len(commit) == 1, names
    assert tags(commit[0])["tmcd.key"].endswith(f"{NS}/web"), tags(commit[0])
    syncs = [s for s in spans if s["operationName"] == "reconcile sync"]
    assert syncs and any(parent_of(s) == commit[0]["spanID"] for s in syncs), [chain(s) for s in syncs]
    assert all(tags(s)["tmcd.name"] == "web" for s in syncs if tags(s).get("tmcd.namespace") == NS)
    copies = [s for s in spans if s["operationName"] == "sync copy"]
    assert {tags(s)["tmcd.cluster"] for s in copies} == {"east", "west"}, names
    for s in copies:
        assert "reconcile sync" in chain(s) and chain(s)[-1] == "create deployments.apps", chain(s)
    downstream = [s for s in spans if s["operationName"].startswith("HTTP ") and "sync copy" in chain(s)]
    assert {str(tags(s)["server.port"]) for s in downstream} == ports(clusters)
    assert all(tags(s)["http.response.status_code"] < 400 for s in downstream
               if tags(s)["http.request.method"] != "GET"), [(tags(s)) for s in downstream]

    # Status back: what each cluster reported after the apply is a span of the same trace, under the
    # copy that applied, and the reconcile it caused runs in the trace too.
    def status_back(spans):
        by = {s["spanID"]: s for s in spans}
        reports = [s for s in spans if s["operationName"] == "cluster report"
                   and by.get(parent_of(s), {}).get("operationName") == "sync copy"]
        return {tags(s)["tmcd.cluster"] for s in reports} == {"east", "west"}
    eventually(lambda: status_back(trace_spans(query, trace_id)), timeout=60, what="the status back in the trace")

    # The exporter's own figures: spans went out, none failed.
    m = requests.get(base + "/metrics", timeout=10).text
    values = {line.split()[0]: float(line.split()[1]) for line in m.splitlines()
              if line.startswith("tmcd_tracing_")}
    assert values["tmcd_tracing_spans_exported_total"] >= len(spans), values
    assert values["tmcd_tracing_spans_failed_total"] == 0, values
    assert values["tmcd_tracing_spans_dropped_total"] == 0, values


def test_tracing_is_refused_without_its_gate(daemon, tmp_path):
    from daemon import run
    r = run("--data-dir", str(tmp_path / "data"), "--tracing-endpoint", "http://127.0.0.1:4318")
    assert r.returncode != 0
    assert "TMCTracing is off" in r.stderr, r.stderr
    r = run("--data-dir", str(tmp_path / "data"), "--feature-gates", "TMCTracing=true",
            "--tracing-sampling-ratio", "1.5")
    assert r.returncode != 0 and "not a ratio between 0 and 1" in r.stderr, r.stderr
