#!/usr/bin/env python3
"""kcp mode's cache: time to initial sync and memory per cached object, for N objects across W
workspaces of a real kcp (test/peers/kcp-up.sh), against baselines measured in the same run:
  - sync time vs. one raw wildcard LIST of the same objects through the same virtual workspace, by a
    compiled client (test/clientgo bench-list: client-go's transport, TLS and a bearer token, paged like
    tmcd with limit=500, the two resources side by side as tmcd's informers list them, every page
    decoded into unstructured objects), i.e. the cost of just downloading and decoding them;
  - memory vs. the objects' JSON size as kcp serves them.
Half the objects are Deployments (exported), half ConfigMaps (claimed). ROUNDS alternating rounds (the
LIST, then tmcd's cold start into an empty data dir; with OTHER_BUILD, that build's tmcd too, e.g. the
code before a change), reported as min / median / max; the last line is JSON for bench/smoke.py.
Usage: bench/kcp_cache_bench.py [BUILD_DIR] [OBJECTS] [WORKSPACES] [ROUNDS] [OTHER_BUILD]"""
import json
import os
import pathlib
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import tmcd_auth

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build")
OBJECTS = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
WORKSPACES = int(sys.argv[3]) if len(sys.argv) > 3 else 10
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 3
OTHER = pathlib.Path(sys.argv[5]) if len(sys.argv) > 5 else None


def sh(*args, input=None):
    r = subprocess.run(args, input=input, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))}: {r.stderr}")
    return r.stdout


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    return 0


def main():
    work = pathlib.Path(tempfile.mkdtemp())
    peer_bin = sh(str(ROOT / "test/peers/build.sh")).strip().splitlines()[-1]
    sh(str(ROOT / "test/peers/kcp-up.sh"), str(work / "peer"))
    tmcd = None
    try:
        kc = work / "peer/kcp/admin.kubeconfig"
        server = [ln.split()[1] for ln in kc.read_text().splitlines() if "server:" in ln][0].split("/clusters/")[0]
        token = [ln.split()[1] for ln in kc.read_text().splitlines() if "token:" in ln][0]

        def kubectl(ws, *args, input=None):
            return sh(f"{peer_bin}/kubectl", "--kubeconfig", str(kc), "--context", "root", "--server",
                      f"{server}/clusters/{ws}", *args, input=input)

        def workspace(name):
            kubectl("root", "apply", "-f", "-", input=json.dumps({
                "apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace", "metadata": {"name": name},
                "spec": {"type": {"name": "universal", "path": "root"}}}))
            for _ in range(240):
                ws = json.loads(kubectl("root", "get", "workspace", name, "-o", "json"))
                if ws.get("status", {}).get("phase") == "Ready":
                    return
                time.sleep(0.25)

        workspace("tmc")
        # tmcd bootstraps the export once, then stops; the objects are created while it is down.
        data = work / "data"
        auth, token_tmcd = tmcd_auth.token_args(work)
        os.chmod(kc, 0o600)  # tmcd refuses a credentials file others can read
        args = [str(BUILD / "src/cmd/tmcd/tmcd"), "--data-dir", str(data), "--listen", "127.0.0.1:0", "--port-file",
                str(work / "port"), "--upstream", "kcp", "--upstream-kubeconfig", str(kc), "--upstream-context",
                "root", "--upstream-workspace", "root:tmc", "--log-level", "warn", *auth]
        boot = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)
        boot.terminate()
        boot.wait()
        per_ws = OBJECTS // WORKSPACES
        claims = [{"group": "", "resource": r, "all": True, "state": "Accepted"}
                  for r in ("secrets", "configmaps", "serviceaccounts", "namespaces")]
        for w in range(WORKSPACES):
            ws = f"bench-{w}"
            workspace(ws)
            kubectl(f"root:{ws}", "apply", "-f", "-", input=json.dumps({
                "apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIBinding", "metadata": {"name": "tmc"},
                "spec": {"reference": {"export": {"path": "root:tmc", "name": "tmc.kcp.io"}},
                         "permissionClaims": claims}}))
            for _ in range(240):
                if subprocess.run([f"{peer_bin}/kubectl", "--kubeconfig", str(kc), "--context", "root", "--server",
                                   f"{server}/clusters/root:{ws}", "get", "deployments.apps"],
                                  capture_output=True).returncode == 0:
                    break
                time.sleep(0.25)
            items = []
            for i in range(per_ws // 2):
                items.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "namespace": "default"},
                              "data": {"k": "x" * 512}})
                items.append({"apiVersion": "apps/v1", "kind": "Deployment",
                              "metadata": {"name": f"web-{i}", "namespace": "default", "labels": {"app": f"web-{i}"}},
                              "spec": {"replicas": 2, "selector": {"matchLabels": {"app": f"web-{i}"}},
                                       "template": {"metadata": {"labels": {"app": f"web-{i}"}},
                                                    "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}})
            kubectl(f"root:{ws}", "create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
        slice_ = json.loads(kubectl("root:tmc", "get", "apiexportendpointslice", "tmc.kcp.io", "-o", "json"))
        vw = slice_["status"]["endpoints"][0]["url"]

        def raw_list():
            tool = sh(str(ROOT / "test/clientgo/build.sh")).strip().splitlines()[-1]
            out = sh(tool, "bench-list", vw, token, "500", "/clusters/*/apis/apps/v1/deployments",
                     "/clusters/*/api/v1/configmaps").split()
            return int(out[1]), int(out[3]), float(out[5])

        def cold_start(build):
            """tmcd from an empty data dir to a 200 /readyz: seconds, RSS before and after, store revision."""
            nonlocal tmcd
            subprocess.run(["rm", "-rf", str(data)])
            (work / "port").unlink(missing_ok=True)
            t0 = time.monotonic()
            tmcd = subprocess.Popen([str(build / "src/cmd/tmcd/tmcd"), *args[1:]], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            while not (work / "port").exists() or not (work / "port").read_text().strip():
                time.sleep(0.01)
            base = f"https://127.0.0.1:{(work / 'port').read_text().strip()}"
            idle = rss_kib(tmcd.pid)
            unverified = ssl._create_unverified_context()  # tmcd's own certificate, as for kcp below
            while True:
                try:
                    with urllib.request.urlopen(base + "/readyz", context=unverified) as r:
                        if r.status == 200:
                            break
                except urllib.error.HTTPError:
                    pass
                time.sleep(0.02)
            took = time.monotonic() - t0
            time.sleep(1)
            full = rss_kib(tmcd.pid)
            metrics = tmcd_auth.session(token_tmcd).get(base + "/metrics").text
            revision = [ln for ln in metrics.splitlines() if ln.startswith("tmcd_store_revision")]
            tmcd.terminate()
            tmcd.wait()
            tmcd = None
            return took, idle, full, revision

        builds = [("tmcd", BUILD)] + ([("other", OTHER)] if OTHER else [])
        raw, runs = [], {name: [] for name, _ in builds}
        for _ in range(ROUNDS):
            count, raw_bytes, raw_s = raw_list()
            raw.append(raw_s)
            for name, build in builds:
                runs[name].append(cold_start(build))

        def spread(xs):
            xs = sorted(xs)
            return xs[0], xs[len(xs) // 2], xs[-1]
        machine = sh("sh", "-c", "nproc; grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").split("\n")
        print(f"machine: {machine[0].strip()} cores,{machine[1]}; kcp v0.27.1 peer on the same machine")
        print(f"objects: {count} ({OBJECTS // 2} Deployments + {OBJECTS // 2} ConfigMaps) in {WORKSPACES} workspaces; "
              f"mean JSON size {raw_bytes / max(count, 1):.0f} B; {ROUNDS} alternating rounds, min / median / max")
        print(f"{'what':52s} {'seconds':>20s} {'time ratio':>20s}")
        print(f"{'raw paged LIST through the virtual workspace':52s} {'%.2f / %.2f / %.2f' % spread(raw):>20s}")
        out = {}
        for name, build in builds:
            secs = [r[0] for r in runs[name]]
            ratios = [r[0] / b for r, b in zip(runs[name], raw)]
            label = f"{name} ({build}) cold start to /readyz"
            print(f"{label[:52]:52s} {'%.2f / %.2f / %.2f' % spread(secs):>20s} "
                  f"{'%.2f / %.2f / %.2f' % spread(ratios):>20s}")
            per_obj = [(r[2] - r[1]) * 1024 / max(count, 1) for r in runs[name]]
            print(f"  memory: RSS {runs[name][-1][1]} KiB before the sync, {runs[name][-1][2]} KiB after; per cached "
                  f"object {'%.0f / %.0f / %.0f B' % spread(per_obj)} = "
                  f"{spread(per_obj)[1] / (raw_bytes / max(count, 1)):.1f}x its JSON size (median)")
            print("  store:", *runs[name][-1][3])
            # Speed against the LIST (higher is better), as the regression guard compares ratios.
            out[name] = [b / r[0] for r, b in zip(runs[name], raw)]
        print(json.dumps({"kcp_cache_speed": out["tmcd"], **({"other_speed": out["other"]} if OTHER else {})}))
    finally:
        if tmcd:
            tmcd.terminate()
            tmcd.wait()
        sh(str(ROOT / "test/peers/down.sh"), str(work / "peer"))
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
