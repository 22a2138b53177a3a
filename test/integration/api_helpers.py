"""Helpers for driving tmcd's local API over HTTP in tests."""
import json

import requests

CREG = "/apis/tmc.kcp.io/v1alpha1/clusterregistrations"
DEPLOY = "/apis/apps/v1/namespaces/{ns}/deployments"


def creg(name, location="us-west-2", **spec):
    body = {"location": location, "endpoint": {"server": "https://10.0.0.1:6443"}}
    body.update(spec)
    return {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration", "metadata": {"name": name},
            "spec": body}


def deployment(name, replicas=1, labels=None):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": labels or {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


def assert_status(r, code, reason, contains=""):
    assert r.status_code == code, f"{r.status_code}: {r.text}"
    body = r.json()
    assert body["kind"] == "Status" and body["status"] == "Failure", body
    assert body["code"] == code and body["reason"] == reason, body
    assert contains in body["message"], body["message"]
    return body


def watch_events(base, path, params, count, timeout=10):
    """Reads `count` events from a watch stream (or fewer if it ends)."""
    events = []
    with requests.get(base + path, params={**params, "watch": "1"}, stream=True, timeout=timeout) as r:
        assert r.status_code == 200, r.text
        for line in r.iter_lines(chunk_size=None):  # yield each chunk as it arrives
            if line:
                events.append(json.loads(line))
                if len(events) >= count:
                    break
    return events
