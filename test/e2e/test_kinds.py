"""Every common workload kind in embedded mode against two real kube-apiservers that run Pods (kube-
scheduler + kwok fake kubelets, test/peers/up.sh): a StatefulSet with a PVC template and its headless
Service, a DaemonSet, a Job that completes, a CronJob, an Ingress with its backend Service and TLS
Secret, an HPA with its target, a Deployment that is Available upstream only when it is Available on
both clusters. Each is placed and synced with what it depends on, its per-cluster fields stripped,
drift corrected, its status aggregated by its kind's rules (checked against the clusters' own
status), and deleted or orphaned as the placement's policy says. And a custom resource taught to tmcd by a
ResourceInterpreter, synced the same way."""
import json

from test_clusters import peer, post, registration, secret
from test_sync import DEPLOY, WP, downstream, downstream_ns, eventually, get, patch, register, wait_condition

import requests

NS = "/api/v1/namespaces/shop"
APPS = "/apis/apps/v1/namespaces/shop"
BATCH = "/apis/batch/v1/namespaces/shop"
NET = "/apis/networking.k8s.io/v1/namespaces/shop"
HPA = "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers"
KINDS = [{"group": "apps", "resource": r} for r in ("deployments", "statefulsets", "daemonsets")] + \
        [{"group": "batch", "resource": r} for r in ("jobs", "cronjobs")] + \
        [{"group": "networking.k8s.io", "resource": "ingresses"},
         {"group": "autoscaling", "resource": "horizontalpodautoscalers"}]
POD = {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.9"}]}


def meta(name, **extra):
    return {"name": name, "namespace": "shop", "labels": {"app": "kinds"}, **extra}


def template(pod_labels, **spec):
    return {"metadata": {"labels": pod_labels}, "spec": {**POD, **spec}}


def placement(name, policy="Delete", app="kinds"):
    return {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "WorkloadPlacement",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"workloadSelector": {"resources": KINDS, "labelSelector": {"matchLabels": {"app": app}}},
                     "deletionPolicy": policy}}


def persistent_volumes(cluster, n):
    for i in range(n):
        pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"pv-{i}"},
              "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                       "storageClassName": "tmcd-test", "hostPath": {"path": f"/tmp/tmcd-pv-{i}"}}}
        cluster.kubectl("apply", "-f", "-", input=json.dumps(pv))


def create_workloads(base):
    post(base, NS + "/configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "db-conf",
                                                                                          "namespace": "shop"},
                                    "data": {"mode": "replica"}})
    post(base, NS + "/secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-tls",
                                                                                    "namespace": "shop"},
                                 "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}})
    post(base, NS + "/services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "shop"},
                                  "spec": {"clusterIP": "None", "selector": {"pod": "db"}, "ports": [{"port": 5432}]}})
    post(base, NS + "/services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web",
                                                                                      "namespace": "shop"},
                                  "spec": {"selector": {"pod": "front"}, "ports": [{"port": 80}]}})
    conf = [{"name": "conf", "configMap": {"name": "db-conf"}}]
    post(base, APPS + "/statefulsets", {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("db"),
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"pod": "db"}},
                 "template": template({"pod": "db"}, volumes=conf),
                 "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                     "accessModes": ["ReadWriteOnce"], "storageClassName": "tmcd-test",
                     "resources": {"requests": {"storage": "1Gi"}}}}]}})
    post(base, APPS + "/daemonsets", {
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta("agent"),
        "spec": {"selector": {"matchLabels": {"pod": "agent"}}, "template": template({"pod": "agent"})}})
    post(base, BATCH + "/jobs", {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": meta("once"),
        "spec": {"completions": 2, "parallelism": 1, "backoffLimit": 1,
                 "template": template({"pod": "once"}, restartPolicy="Never")}})
    post(base, BATCH + "/cronjobs", {
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta("tick"),
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {
            "template": template({"pod": "tick"}, restartPolicy="Never")}}}})
    post(base, NET + "/ingresses", {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta("web"),
        "spec": {"tls": [{"hosts": ["shop.example"], "secretName": "web-tls"}],
                 "rules": [{"host": "shop.example", "http": {"paths": [{
                     "path": "/", "pathType": "Prefix",
                     "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}})
    # Only the east cluster's Node has zone=a at first: the west copy cannot become Available.
    post(base, DEPLOY, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("front"),
        "spec": {"replicas": 2, "selector": {"matchLabels": {"pod": "front"}},
                 "template": template({"pod": "front"}, nodeSelector={"zone": "a"})}})
    # Shares db-conf with the StatefulSet: removing it must not take the ConfigMap from under the other.
    post(base, DEPLOY, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("side"),
        "spec": {"replicas": 1, "selector": {"matchLabels": {"pod": "side"}},
                 "template": template({"pod": "side"}, volumes=[{"name": "conf", "configMap": {"name": "db-conf"}}])}})
    post(base, HPA, {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta("front"),
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "front"},
                 "minReplicas": 2, "maxReplicas": 4}})


def status_of(c, ns, kind, name):
    return downstream(c, ns, kind, name).get("status", {})


def test_every_kind_is_placed_synced_aggregated_and_removed(clusters, daemon, tmp_path):
    c1, c2 = clusters
    for c in clusters:
        persistent_volumes(c, 2)
    c1.kubectl("label", "node", "kwok-1", "zone=a", "--overwrite")
    c2.kubectl("label", "node", "kwok-2", "zone-", "--overwrite")
    d = daemon("--data-dir", str(tmp_path / "data"))
    base = d.base
    register(base, "", clusters, ["east", "west"])
    for name in ("east", "west"):
        _, creg = wait_condition(base, name, "Ready", "True", timeout=30)
    states = {s["resource"]: s["state"] for s in creg["status"]["syncedResources"]}
    assert all(states[k["resource"]] == "Accepted" for k in KINDS), states
    post(base, WP, placement("kinds"))
    create_workloads(base)
    ns = downstream_ns("root", "shop")

    # Every kind reaches both clusters with its dependencies; per-cluster fields are not copied.
    for c in clusters:
        for kind, name in (("statefulset", "db"), ("daemonset", "agent"), ("job", "once"), ("cronjob", "tick"),
                           ("ingress", "web"), ("hpa", "front"), ("deployment", "front"), ("deployment", "side"),
                           ("configmap", "db-conf"), ("service", "db"), ("service", "web"), ("secret", "web-tls")):
            got = eventually(lambda: downstream(c, ns, kind, name), what=f"{kind}/{name} on {c.kubeconfig}")
            assert got["metadata"]["labels"]["tmc.kcp.io/managed-by"] == "tmcd", (kind, name)
        job = downstream(c, ns, "job", "once")
        assert job["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"] == job["metadata"]["uid"]
        assert downstream(c, ns, "service", "db")["spec"]["clusterIP"] == "None"  # headless is kept
    sr = get(base, "/apis/tmc.kcp.io/v1alpha1/namespaces/shop/syncrecords")["items"]
    deps = {r["spec"]["upstream"]["resource"] + "/" + r["spec"]["upstream"]["name"]: r["status"].get("dependencies")
            for r in sr if r["spec"]["clusterName"] == "east"}
    assert deps["statefulsets/db"] == ["configmaps/db-conf", "services/db"]
    assert deps["ingresses/web"] == ["secrets/web-tls", "services/web"]
    assert deps["horizontalpodautoscalers/front"] == ["deployments.apps/front"]

    # Status, by each kind's rules, against the clusters' own.
    def job_complete():
        st = get(base, BATCH + "/jobs/once").get("status", {})
        conds = {c["type"]: c["status"] for c in st.get("conditions", [])}
        return conds.get("Complete") == "True" and st
    st = eventually(job_complete, 120, "the Job Complete upstream once complete on both clusters")
    # Duplicated: both clusters ran both completions; "succeeded 2" is what is true on each.
    assert st["succeeded"] == min(status_of(c, ns, "job", "once")["succeeded"] for c in clusters) == 2
    assert st["completionTime"] == max(status_of(c, ns, "job", "once")["completionTime"] for c in clusters)

    def sts_ready():
        st = get(base, APPS + "/statefulsets/db").get("status", {})
        return st.get("readyReplicas") == 2 and st
    st = eventually(sts_ready, 120, "StatefulSet ready on both (its PVCs bound)")
    assert st["readyReplicas"] == min(status_of(c, ns, "statefulset", "db")["readyReplicas"] for c in clusters)
    for c in clusters:
        assert status_of(c, ns, "pvc", "data-db-0")["phase"] == "Bound"

    def ds_available():
        st = get(base, APPS + "/daemonsets/agent").get("status", {})
        return st.get("numberAvailable") == 2 and st
    st = eventually(ds_available, 60, "DaemonSet Pods summed over both clusters")
    assert st["desiredNumberScheduled"] == sum(status_of(c, ns, "daemonset", "agent")["desiredNumberScheduled"]
                                               for c in clusters)

    # The Deployment is Available upstream only when it is Available on every cluster.
    def available():
        up = get(base, DEPLOY + "/front")
        return {c["type"]: c for c in up.get("status", {}).get("conditions", [])}.get("Available")
    cond = eventually(lambda: (lambda a: a and a["status"] == "False" and a)(available()), 60, "Available False")
    assert cond["message"].startswith("west: ")
    assert {x["type"]: x["status"] for x in status_of(c1, ns, "deployment", "front")["conditions"]}["Available"] == \
        "True"
    c2.kubectl("label", "node", "kwok-2", "zone=a", "--overwrite")
    eventually(lambda: (lambda a: a and a["status"] == "True")(available()), 90, "Available True everywhere")
    # The HPA scales the copies: tmcd no longer owns the target's replica count downstream.
    for c in clusters:
        got = json.loads(c.kubectl("get", "deployment", "front", "-n", ns, "-o", "json", "--show-managed-fields").stdout)
        fields = {m["manager"]: json.dumps(m.get("fieldsV1", {})) for m in got["metadata"]["managedFields"]}
        assert "tmcd" in fields and '"f:template"' in fields["tmcd"]
        assert '"f:replicas"' not in fields["tmcd"], fields["tmcd"]

    # Drift on a cluster is corrected.
    c1.kubectl("scale", "statefulset", "db", "-n", ns, "--replicas=5")
    eventually(lambda: downstream(c1, ns, "statefulset", "db")["spec"]["replicas"] == 2, what="drift reverted")

    # The CronJob's last schedule time comes back (the latest of the two clusters).
    def scheduled():
        last = get(base, BATCH + "/cronjobs/tick").get("status", {}).get("lastScheduleTime")
        return last and last == max(status_of(c, ns, "cronjob", "tick").get("lastScheduleTime", "") for c in clusters)
    eventually(scheduled, 100, "CronJob lastScheduleTime: the latest of the clusters'")

    # A dependency two workloads share stays while one of them still needs it.
    assert requests.delete(base + DEPLOY + "/side", timeout=10).status_code == 200
    for c in clusters:
        eventually(lambda: downstream(c, ns, "deployment", "side") is None, what="the Deployment removed downstream")
    eventually(lambda: get(base, DEPLOY + "/side") is None, what="the Deployment gone upstream")
    for c in clusters:
        assert downstream(c, ns, "configmap", "db-conf") is not None, "shared ConfigMap pruned"

    # Deleting upstream removes the copies (Delete policy) ...
    assert requests.delete(base + BATCH + "/jobs/once", timeout=10).status_code == 200
    for c in clusters:
        eventually(lambda: downstream(c, ns, "job", "once") is None, what="the Job removed downstream")
    eventually(lambda: get(base, BATCH + "/jobs/once") is None, what="the Job gone upstream")
    # ... or leaves them without tmcd's marks (Orphan).
    patch(base, WP + "/kinds", {"spec": {"deletionPolicy": "Orphan"}})
    eventually(lambda: all(r["spec"].get("deletionPolicy") == "Orphan" for r in
                           get(base, "/apis/tmc.kcp.io/v1alpha1/namespaces/shop/syncrecords")["items"]),
               what="records follow the policy")
    assert requests.delete(base + APPS + "/daemonsets/agent", timeout=10).status_code == 200
    eventually(lambda: get(base, APPS + "/daemonsets/agent") is None, what="the DaemonSet gone upstream")
    for c in clusters:
        left = downstream(c, ns, "daemonset", "agent")
        assert left is not None and "tmc.kcp.io/managed-by" not in left["metadata"].get("labels", {})


WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {
                                   "replicas": {"type": "integer"}, "color": {"type": "string"},
                                   "configRef": {"type": "object", "properties": {"name": {"type": "string"}}},
                                   "secretRef": {"type": "object", "properties": {"name": {"type": "string"}}}}},
                               "status": {"type": "object", "properties": {
                                   "readyReplicas": {"type": "integer"},
                                   "endpoints": {"type": "array", "items": {"type": "string"}},
                                   "conditions": {"type": "array", "items": {
                                       "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}}}}]}}
INTERPRETER = {
    "apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ResourceInterpreter", "metadata": {"name": "widgets.example.com"},
    "spec": {"target": {"group": "example.com", "version": "v1", "resource": "widgets", "kind": "Widget"},
             "replicas": ".spec.replicas",
             "dependencies": [{"path": ".spec.configRef.name", "version": "v1", "resource": "configmaps"},
                              {"path": ".spec.secretRef.name", "version": "v1", "resource": "secrets"}],
             "status": [{"path": ".readyReplicas", "aggregation": "Replicas"},
                        {"path": ".endpoints", "aggregation": "Union"}],
             "health": {"rule": "Condition", "condition": "Ready"}}}
WIDGETS = "/apis/example.com/v1/namespaces/lab/widgets"


def test_a_custom_resource_is_synced_by_its_interpreter(clusters, daemon, tmp_path):
    """A CRD installed on both clusters and in tmcd, taught to tmcd by a ResourceInterpreter: the Widget
    travels with the ConfigMap it names, drift is corrected, the clusters' statuses (set here as a
    Widget controller would) come back by the declared aggregations, and deletion removes the copies."""
    for c in clusters:
        c.kubectl("apply", "-f", "-", input=json.dumps(WIDGET_CRD))
        c.kubectl("wait", "--for", "condition=Established", "crd/widgets.example.com", "--timeout=30s")
    d = daemon("--data-dir", str(tmp_path / "data"))
    base = d.base
    post(base, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", WIDGET_CRD)
    post(base, "/apis/tmc.kcp.io/v1alpha1/resourceinterpreters", INTERPRETER)
    synced = [{"group": "example.com", "resource": "widgets"}, {"group": "", "resource": "configmaps"}]
    for c, name in zip(clusters, ["east", "west"]):
        p = peer(c)
        post(base, "/api/v1/namespaces/tmc/secrets", secret(f"{name}-token", token=p["token"]))
        post(base, "/apis/tmc.kcp.io/v1alpha1/clusterregistrations",
             registration(name, p, f"{name}-token", syncedResources=synced))
    for name in ("east", "west"):
        _, creg = wait_condition(base, name, "Ready", "True", timeout=30)
    assert {s["resource"]: s["state"] for s in creg["status"]["syncedResources"]}["widgets"] == "Accepted"
    ri = eventually(lambda: get(base, "/apis/tmc.kcp.io/v1alpha1/resourceinterpreters/widgets.example.com")
                    .get("status", {}).get("conditions"), what="the interpreter's Accepted condition")
    assert [(c["type"], c["status"], c["reason"]) for c in ri] == [("Accepted", "True", "Valid")]
    post(base, "/api/v1/namespaces/lab/configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                                     "metadata": {"name": "widget-conf", "namespace": "lab"},
                                                     "data": {"size": "large"}})
    post(base, WIDGETS, {"apiVersion": "example.com/v1", "kind": "Widget",
                         "metadata": {"name": "w", "namespace": "lab", "labels": {"app": "widgets"}},
                         "spec": {"replicas": 2, "color": "red", "configRef": {"name": "widget-conf"}}})
    post(base, "/apis/tmc.kcp.io/v1alpha1/namespaces/lab/workloadplacements", {
        "apiVersion": "tmc.kcp.io/v1alpha1", "kind": "WorkloadPlacement", "metadata": {"name": "widgets", "namespace": "lab"},
        "spec": {"workloadSelector": {"resources": [{"group": "example.com", "resource": "widgets"}],
                                      "labelSelector": {"matchLabels": {"app": "widgets"}}}}})
    ns = downstream_ns("root", "lab")
    for c in clusters:
        got = eventually(lambda: downstream(c, ns, "widgets.example.com", "w"), what="the Widget on a cluster")
        assert got["spec"] == {"replicas": 2, "color": "red", "configRef": {"name": "widget-conf"}}
        assert downstream(c, ns, "configmap", "widget-conf")["data"] == {"size": "large"}

    # Drift on a cluster is corrected.
    clusters[0].kubectl("patch", "widgets.example.com", "w", "-n", ns, "--type=merge", "-p", '{"spec":{"color":"green"}}')
    eventually(lambda: downstream(clusters[0], ns, "widgets.example.com", "w")["spec"]["color"] == "red",
               what="drift reverted")

    # The clusters' statuses come back: readyReplicas by Replicas (min), endpoints united, Ready combined.
    def report(c, ready, endpoint, condition):
        status = {"readyReplicas": ready, "endpoints": [endpoint],
                  "conditions": [{"type": "Ready", "status": condition, "reason": "Test", "message": "",
                                  "lastTransitionTime": "2026-11-30T08:00:00Z"}]}
        c.kubectl("patch", "widgets.example.com", "w", "-n", ns, "--subresource=status", "--type=merge",
                  "-p", json.dumps({"status": status}))
    report(clusters[0], 2, "10.0.0.1", "True")
    report(clusters[1], 1, "10.0.0.2", "True")

    def aggregated(ready, condition):
        st = get(base, WIDGETS + "/w").get("status", {})
        ready_cond = [c for c in st.get("conditions", []) if c["type"] == "Ready"]
        return (st.get("readyReplicas") == ready and sorted(st.get("endpoints", [])) == ["10.0.0.1", "10.0.0.2"]
                and ready_cond and ready_cond[0]["status"] == condition)
    eventually(lambda: aggregated(1, "True"), what="status aggregated by the interpreter's rules")
    report(clusters[1], 2, "10.0.0.2", "False")
    eventually(lambda: aggregated(2, "False"), what="Ready only when Ready on every cluster")
    records = get(base, "/apis/tmc.kcp.io/v1alpha1/namespaces/lab/syncrecords")["items"]
    ready = {r["spec"]["clusterName"]: [c["status"] for c in r["status"]["conditions"] if c["type"] == "Ready"][0]
             for r in records if r["spec"]["upstream"]["resource"] == "widgets"}
    assert ready == {"east": "True", "west": "False"}, ready  # the health rule, per copy

    # A dependency of a kind the clusters do not accept (Secrets are not in their syncedResources) never
    # goes there: the copy fails with the reason, and neither the Secret nor the Widget is created.
    post(base, "/api/v1/namespaces/lab/secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {
        "name": "creds", "namespace": "lab"}, "data": {"password": "c2VjcmV0"}})
    post(base, WIDGETS, {"apiVersion": "example.com/v1", "kind": "Widget",
                         "metadata": {"name": "s", "namespace": "lab", "labels": {"app": "widgets"}},
                         "spec": {"replicas": 1, "secretRef": {"name": "creds"}}})

    def refused():
        recs = [r for r in get(base, "/apis/tmc.kcp.io/v1alpha1/namespaces/lab/syncrecords")["items"]
                if r["spec"]["upstream"]["name"] == "s"]
        return len(recs) == 2 and all(r["status"].get("phase") == "Failed" and
                                      "does not accept secrets" in r["status"].get("lastError", "") for r in recs)
    eventually(refused, what="copies refused for their Secret")
    for c in clusters:
        assert downstream(c, ns, "secret", "creds") is None and downstream(c, ns, "widgets.example.com", "s") is None
    assert requests.delete(base + WIDGETS + "/s", timeout=10).status_code == 200

    # Deleting upstream removes the copies and the ConfigMap that travelled with them.
    assert requests.delete(base + WIDGETS + "/w", timeout=10).status_code == 200
    for c in clusters:
        eventually(lambda: downstream(c, ns, "widgets.example.com", "w") is None, what="the Widget removed")
        eventually(lambda: downstream(c, ns, "configmap", "widget-conf") is None, what="its ConfigMap removed")
    eventually(lambda: get(base, WIDGETS + "/w") is None, what="the Widget gone upstream")
