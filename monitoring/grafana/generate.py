#!/usr/bin/env python3
"""Generates tmcd's Grafana dashboards (JSON model, schemaVersion 39) from the panel lists below:
`python3 monitoring/grafana/generate.py` rewrites the *.json beside it; test/e2e/test_prometheus.py checks
that the files are up to date and that every panel's query returns data from a real Prometheus scraping a
real tmcd. Variables: $datasource (Prometheus), $job, $workspace, $cluster."""
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
SEL = 'job=~"$job"'
WS = SEL + ', workspace=~"$workspace"'
CL = WS + ', cluster=~"$cluster"'

# (title, unit, [(legend, expr)], kind) — kind: timeseries or stat
DASHBOARDS = {
    "overview": ("tmcd / Overview", "Is tmcd up, are clusters Ready, are workloads placed and synced?", [
        ("Clusters Ready", "none", [("ready", f"sum(tmcd_cluster_ready{{{WS}}})"),
                                    ("registered", f"count(tmcd_cluster_ready{{{WS}}})")], "stat"),
        ("Placements by Scheduled", "none", [("{{status}} {{reason}}", f"sum by (status, reason) (tmcd_placements{{{SEL}}})")], "stat"),
        ("Applies per second by result", "ops", [("{{result}}", f"sum by (result) (rate(tmcd_sync_applies_total{{{CL}}}[$__rate_interval]))")], "timeseries"),
        ("Events by type", "ops", [("{{type}}", f"sum by (type) (rate(tmcd_events_recorded_total{{{SEL}}}[$__rate_interval]))")], "timeseries"),
        ("API requests per second by code", "reqps", [("{{code}}", f"sum by (code) (rate(tmcd_api_requests_total{{{SEL}}}[$__rate_interval]))")], "timeseries"),
        ("Store writable", "none", [("writable", f"min(tmcd_store_writable{{{SEL}}})")], "stat"),
        ("Resident memory", "bytes", [("rss", f"process_resident_memory_bytes{{{SEL}}}")], "timeseries"),
        ("CPU", "percentunit", [("cpu", f"rate(process_cpu_seconds_total{{{SEL}}}[$__rate_interval])")], "timeseries"),
    ]),
    "clusters": ("tmcd / Clusters", "Which clusters are Ready, how fresh their probes are, what they can hold.", [
        ("Ready", "none", [("{{workspace}}/{{cluster}}", f"tmcd_cluster_ready{{{CL}}}")], "timeseries"),
        ("Heartbeat age", "s", [("{{workspace}}/{{cluster}}", f"tmcd_cluster_heartbeat_age_seconds{{{CL}}}")], "timeseries"),
        ("Probe duration p99", "s", [("p99", f"histogram_quantile(0.99, sum by (le) (rate(tmcd_cluster_probe_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))")], "timeseries"),
        ("Allocatable CPU", "none", [("{{cluster}}", f'sum by (cluster) (tmcd_cluster_capacity{{{CL}, resource="cpu", kind="allocatable"}})')], "timeseries"),
        ("Available memory", "bytes", [("{{cluster}}", f'sum by (cluster) (tmcd_cluster_capacity{{{CL}, resource="memory", kind="available"}})')], "timeseries"),
        ("Cluster controller queue", "none", [("depth", f'tmcd_workqueue_depth{{{SEL}, controller="clusters"}}')], "timeseries"),
    ]),
    "placement": ("tmcd / Placement", "What the scheduler decides, what it cannot place, what failover moves.", [
        ("Placements by Scheduled", "none", [("{{status}} {{reason}}", f"sum by (status, reason) (tmcd_placements{{{SEL}}})")], "timeseries"),
        ("Decision changes per second", "ops", [("{{result}}", f"sum by (result) (rate(tmcd_placement_decisions_total{{{SEL}}}[$__rate_interval]))")], "timeseries"),
        ("Evictions (last hour)", "none", [("{{reason}} {{result}}", f"sum by (reason, result) (increase(tmcd_placement_evictions_total{{{SEL}}}[1h])) or vector(0)")], "stat"),
        ("Placement queue", "none", [("depth", f'tmcd_workqueue_depth{{{SEL}, controller="placement"}}')], "timeseries"),
        ("Reconcile p99", "s", [("p99", f'histogram_quantile(0.99, sum by (le) (rate(tmcd_workqueue_work_duration_seconds_bucket{{{SEL}, controller="placement"}}[$__rate_interval])))')], "timeseries"),
    ]),
    "sync": ("tmcd / Sync", "Copies applied to clusters, their failures, latency per stage.", [
        ("Applies per second", "ops", [("{{cluster}} {{result}}", f"sum by (cluster, result) (rate(tmcd_sync_applies_total{{{CL}}}[$__rate_interval]))")], "timeseries"),
        ("Apply error ratio", "percentunit", [("{{cluster}}", f'(sum by (cluster) (rate(tmcd_sync_applies_total{{{CL}, result="error"}}[$__rate_interval])) or 0 * sum by (cluster) (rate(tmcd_sync_applies_total{{{CL}}}[$__rate_interval]))) / sum by (cluster) (rate(tmcd_sync_applies_total{{{CL}}}[$__rate_interval]))')], "timeseries"),
        ("Apply p99", "s", [("{{cluster}}", f"histogram_quantile(0.99, sum by (le, cluster) (rate(tmcd_sync_apply_duration_seconds_bucket{{{CL}}}[$__rate_interval])))")], "timeseries"),
        ("Stage p99", "s", [("{{stage}}", f"histogram_quantile(0.99, sum by (le, stage) (rate(tmcd_sync_stage_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))")], "timeseries"),
        ("Sync queue and retries", "none", [("depth", f'tmcd_workqueue_depth{{{SEL}, controller="sync"}}'),
                                           ("retries/s", f'rate(tmcd_workqueue_retries_total{{{SEL}, controller="sync"}}[$__rate_interval])')], "timeseries"),
        ("Events written per second", "ops", [("{{operation}}", f"sum by (operation) (rate(tmcd_events_written_total{{{SEL}}}[$__rate_interval]))")], "timeseries"),
    ]),
    "api-store": ("tmcd / API and store", "The local API's load and latency, the HTTP server's budgets, RocksDB.", [
        ("Requests per second", "reqps", [("{{verb}} {{code}}", f"sum by (verb, code) (rate(tmcd_api_requests_total{{{SEL}}}[$__rate_interval]))")], "timeseries"),
        ("Request p99 by verb", "s", [("{{verb}}", f"histogram_quantile(0.99, sum by (le, verb) (rate(tmcd_api_request_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))")], "timeseries"),
        ("Open watches and connections", "none", [("watches", f"tmcd_api_open_watches{{{SEL}}}"),
                                                 ("connections", f"tmcd_http_open_connections{{{SEL}}}")], "timeseries"),
        ("Refused by the HTTP server", "none", [("{{code}}", f"sum by (code) (increase(tmcd_http_refused_requests_total{{{SEL}}}[$__rate_interval]))"),
                                               ("budget {{budget}}", f"sum by (budget) (increase(tmcd_http_budget_rejections_total{{{SEL}}}[$__rate_interval]))")], "timeseries"),
        ("Commit p99", "s", [("p99", f"histogram_quantile(0.99, sum by (le) (rate(tmcd_store_commit_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))")], "timeseries"),
        ("Store size", "bytes", [("sst", f"tmcd_store_sst_bytes{{{SEL}}}"), ("memtables", f"tmcd_store_memtable_bytes{{{SEL}}}"),
                                 ("pending compaction", f"tmcd_store_pending_compaction_bytes{{{SEL}}}")], "timeseries"),
        ("WAL syncs per second", "ops", [("syncs", f"rate(tmcd_store_wal_syncs_total{{{SEL}}}[$__rate_interval])")], "timeseries"),
        ("Write stalls", "s", [("stalled s/s", f"rate(tmcd_store_write_stall_seconds_total{{{SEL}}}[$__rate_interval])"),
                               ("stopped", f"tmcd_store_write_stopped{{{SEL}}}")], "timeseries"),
        ("File descriptors", "none", [("open", f"process_open_fds{{{SEL}}}"), ("max", f"process_max_fds{{{SEL}}}")], "timeseries"),
        ("Threads", "none", [("threads", f"tmcd_process_threads{{{SEL}}}")], "timeseries"),
        ("Serving certificate expires in", "s", [("expires in", f"tmcd_tls_serving_certificate_expiry_timestamp_seconds{{{SEL}}} - time()")], "stat"),
    ]),
}

DS = {"type": "prometheus", "uid": "${datasource}"}


def variable(name, query, include_all=True):
    return {"name": name, "label": name, "type": "query", "datasource": DS, "refresh": 2, "includeAll": include_all,
            "multi": True, "allValue": ".*", "current": {"text": "All", "value": "$__all"},
            "query": {"query": query, "refId": name}, "definition": query, "sort": 1}


def panel(i, title, unit, targets, kind):
    width = 6 if kind == "stat" else 12
    return {"id": i + 1, "type": kind, "title": title, "datasource": DS,
            "gridPos": {"h": 8, "w": width, "x": (i * width) % 24, "y": 8 * (i * width // 24)},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []}, "options": {},
            "targets": [{"refId": chr(65 + j), "expr": expr, "legendFormat": legend, "datasource": DS}
                        for j, (legend, expr) in enumerate(targets)]}


def dashboard(uid, title, description, panels):
    return {"uid": f"tmcd-{uid}", "title": title, "description": description, "tags": ["tmcd"],
            "schemaVersion": 39, "version": 1, "editable": True, "timezone": "browser",
            "time": {"from": "now-1h", "to": "now"}, "refresh": "30s",
            "templating": {"list": [
                {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus"},
                variable("job", "label_values(tmcd_store_revision, job)", include_all=False),
                variable("workspace", 'label_values(tmcd_cluster_ready{job=~"$job"}, workspace)'),
                variable("cluster", 'label_values(tmcd_cluster_ready{job=~"$job", workspace=~"$workspace"}, cluster)'),
            ]},
            "panels": [panel(i, *p) for i, p in enumerate(panels)]}


def render():
    return {f"tmcd-{uid}.json": json.dumps(dashboard(uid, *spec), indent=2) + "\n" for uid, spec in DASHBOARDS.items()}


if __name__ == "__main__":
    for name, text in render().items():
        (HERE / name).write_text(text)
