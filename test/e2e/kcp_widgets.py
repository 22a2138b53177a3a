"""A custom resource in kcp mode (docs/kcp-integration.md#claimed-resources): Widgets come from
another provider's APIExport; tmcd claims them by identity hash (upstream.claimedResources), a tenant
teaches tmcd the kind with a ResourceInterpreter in its own workspace, and the Widget is placed,
synced with the ConfigMap it names, drift-corrected, status-aggregated back into kcp and deleted.
A second tenant with the same Widget and an interpreter whose path does not parse gets nothing, and
is told why on the interpreter (kcp checks its schema only): interpreters are per workspace."""
import json

from test_kinds import INTERPRETER, WIDGET_CRD
from test_sync import downstream, eventually as sync_eventually

PROVIDER = "root:widgets-provider"


def eventually(fn, timeout=90, what="condition"):  # kcp adds a hop: a longer default than test_sync's
    return sync_eventually(fn, timeout, what)


def widgets_export(kcp):
    """The Widgets provider: an APIResourceSchema and an APIExport in their own workspace.
    Returns the claim tmcd makes ({group, resource, identityHash}) and its config notation."""
    kcp.workspace("widgets-provider")
    crd_version = WIDGET_CRD["spec"]["versions"][0]
    kcp.apply(PROVIDER, {
        "apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIResourceSchema",
        "metadata": {"name": "v1.widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                               "schema": crd_version["schema"]["openAPIV3Schema"]}]}})
    kcp.apply(PROVIDER, {"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIExport", "metadata": {"name": "widgets"},
                         "spec": {"latestResourceSchemas": ["v1.widgets.example.com"]}})
    identity = eventually(lambda: kcp.kubectl(PROVIDER, "get", "apiexport", "widgets", "-o",
                                              "jsonpath={.status.identityHash}").stdout.strip(), 60, "identity hash")
    claim = {"group": "example.com", "resource": "widgets", "identityHash": identity}
    return claim, f"widgets.v1.example.com:{identity}"


def bind_widgets(kcp, ws):
    kcp.apply(ws, {"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIBinding", "metadata": {"name": "widgets"},
                   "spec": {"reference": {"export": {"path": PROVIDER, "name": "widgets"}}}})
    eventually(lambda: kcp.kubectl(ws, "get", "widgets.example.com", "-A", check=False).returncode == 0, 60,
               f"widgets served in {ws}")


def widget(name, **spec):
    return {"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": name, "namespace": "shop", "labels": {"app": "widgets"}}, "spec": spec}


def widgets_in_kcp(kcp, kcp_get, clusters, ns_a, ns_b):
    """Tenants a and b bound the Widgets export and accepted tmcd's claim of it (bind_widgets, kcp.bind)."""
    for c in clusters:
        c.kubectl("apply", "-f", "-", input=json.dumps(WIDGET_CRD))
        c.kubectl("wait", "--for", "condition=Established", "crd/widgets.example.com", "--timeout=30s")
    add = '[{"op":"add","path":"/spec/syncedResources/-","value":{"group":"example.com","resource":"widgets"}}]'
    placement = {"apiVersion": "tmc.kcp.io/v1alpha1", "kind": "WorkloadPlacement",
                 "metadata": {"name": "widgets", "namespace": "shop"},
                 "spec": {"workloadSelector": {"resources": [{"group": "example.com", "resource": "widgets"}],
                                               "labelSelector": {"matchLabels": {"app": "widgets"}}}}}
    for t, names in (("a", ["east", "west"]), ("b", ["east"])):
        ws = f"root:sync-{t}"
        for name in names:
            kcp.kubectl(ws, "patch", "clusterregistration", name, "--type=json", "-p", add)
        kcp.apply(ws, placement)
        kcp.apply(ws, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "widget-conf", "namespace": "shop"},
                       "data": {"tenant": t}})
        kcp.apply(ws, widget("w", replicas=2, color="red", configRef={"name": "widget-conf"}))
    kcp.apply("root:sync-a", INTERPRETER)  # only tenant a teaches tmcd the kind correctly
    broken = json.loads(json.dumps(INTERPRETER))
    broken["spec"]["replicas"] = ".spec["
    kcp.apply("root:sync-b", broken)

    def accepted(t):
        o = kcp_get(t, "resourceinterpreter", "widgets.example.com") or {}
        c = [c for c in o.get("status", {}).get("conditions", []) if c["type"] == "Accepted"]
        return c and c[0]["observedGeneration"] == o["metadata"]["generation"] and c[0]
    assert eventually(lambda: accepted("a"), what="tenant a's interpreter Accepted")["status"] == "True"
    refused = eventually(lambda: accepted("b"), what="tenant b's interpreter judged")
    assert (refused["status"], refused["reason"]) == ("False", "InvalidRules"), refused
    assert "spec.replicas" in refused["message"], refused

    for c in clusters:
        got = eventually(lambda: downstream(c, ns_a, "widgets.example.com", "w"), what="tenant a's Widget")
        assert got["spec"] == {"replicas": 2, "color": "red", "configRef": {"name": "widget-conf"}}
        assert downstream(c, ns_a, "configmap", "widget-conf")["data"] == {"tenant": "a"}
    clusters[0].kubectl("patch", "widgets.example.com", "w", "-n", ns_a, "--type=merge", "-p",
                        '{"spec":{"color":"green"}}')
    eventually(lambda: downstream(clusters[0], ns_a, "widgets.example.com", "w")["spec"]["color"] == "red",
               what="drift on a Widget reverted")

    for c, ready, ip in ((clusters[0], 2, "10.0.0.1"), (clusters[1], 1, "10.0.0.2")):
        c.kubectl("patch", "widgets.example.com", "w", "-n", ns_a, "--subresource=status", "--type=merge",
                  "-p", json.dumps({"status": {"readyReplicas": ready, "endpoints": [ip]}}))

    def aggregated():
        o = kcp_get("a", "widgets.example.com", "w", "-n", "shop") or {}
        st = o.get("status", {})
        return st.get("readyReplicas") == 1 and sorted(st.get("endpoints", [])) == ["10.0.0.1", "10.0.0.2"] and o
    up = eventually(aggregated, what="the Widget's status aggregated into kcp")
    assert "tmc.kcp.io/syncer" in up["metadata"]["finalizers"]
    assert set(json.loads(up["metadata"]["annotations"]["tmc.kcp.io/cluster-status"])) == {"east", "west"}
    # Tenant b's Widget has a placement but no usable interpreter in b: never synced; a's never reaches b.
    assert downstream(clusters[0], ns_b, "widgets.example.com", "w") is None
    assert "finalizers" not in (kcp_get("b", "widgets.example.com", "w", "-n", "shop") or {}).get("metadata", {})

    kcp.kubectl("root:sync-a", "delete", "widgets.example.com", "w", "-n", "shop", "--wait=false")
    eventually(lambda: kcp_get("a", "widgets.example.com", "w", "-n", "shop") is None, what="the Widget deleted in kcp")
    for c in clusters:
        assert downstream(c, ns_a, "widgets.example.com", "w") is None
        eventually(lambda: downstream(c, ns_a, "configmap", "widget-conf") is None, 30, "its ConfigMap removed")
