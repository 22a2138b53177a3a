#!/usr/bin/env python3
"""Cluster controller cost: CPU of tmcd probing N ClusterRegistrations every 10 s (they all point at
the same real kube-apiserver, test/peers/up.sh), against the same tmcd idle (no registrations)
measured in the same run; inventory (Nodes, Pods, discovery) every 60 s is included.
Usage: bench/cluster_probe_bench.py [BUILD_DIR] [REGISTRATIONS] [SECONDS]
Extra tmcd flags (e.g. --clusters-inventory-interval=1h) come from TMCD_BENCH_FLAGS."""
import base64
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib3

import tmcd_auth

urllib3.disable_warnings()

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build")
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200
SECONDS = int(sys.argv[3]) if len(sys.argv) > 3 else 60
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


TOKEN = None


def post(base, path, body):
    r = tmcd_auth.session(TOKEN).post(base + path, json=body)
    assert r.status_code == 201, r.text


def get(base, path):
    return tmcd_auth.session(TOKEN).get(base + path).json()


def main():
    work = pathlib.Path(tempfile.mkdtemp())
    subprocess.run([str(ROOT / "test/peers/up.sh"), str(work / "peers"), "1"], check=True, capture_output=True)
    tmcd = None
    try:
        c = work / "peers/cluster-1"
        global TOKEN
        auth, TOKEN = tmcd_auth.token_args(work)
        tmcd = subprocess.Popen([str(BUILD / "src/cmd/tmcd/tmcd"), "--data-dir", str(work / "data"), "--listen",
                                 "127.0.0.1:0", "--port-file", str(work / "port"), "--log-level", "warn", *auth,
                                 "--store-fsync=false", *os.environ.get("TMCD_BENCH_FLAGS", "").split()], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not (work / "port").exists() or not (work / "port").read_text().strip():
            time.sleep(0.01)
        base = f"https://127.0.0.1:{(work / 'port').read_text().strip()}"
        apiserver = int((c / "apiserver.pid").read_text())
        time.sleep(2)
        t0, idle0, api0 = time.monotonic(), cpu_seconds(tmcd.pid), cpu_seconds(apiserver)
        time.sleep(SECONDS)
        idle = (cpu_seconds(tmcd.pid) - idle0) / (time.monotonic() - t0)
        api_idle = (cpu_seconds(apiserver) - api0) / (time.monotonic() - t0)
        post(base, "/api/v1/namespaces/tmc/secrets", {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "tmc"},
            "data": {"token": base64.b64encode((c / "token").read_bytes().strip()).decode()}})
        ca = base64.b64encode((c / "certs/apiserver.crt").read_bytes()).decode()
        for i in range(N):
            post(base, "/apis/tmc.kcp.io/v1alpha1/clusterregistrations", {
                "apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ClusterRegistration", "metadata": {"name": f"c{i}"},
                "spec": {"location": "lab", "endpoint": {"server": (c / "server").read_text().strip(), "caBundle": ca},
                         "credentialsRef": {"namespace": "tmc", "name": "creds"},
                         "healthCheck": {"periodSeconds": 10}}})
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            items = get(base, "/apis/tmc.kcp.io/v1alpha1/clusterregistrations")["items"]
            ready = sum(1 for it in items for cd in it.get("status", {}).get("conditions", [])
                        if cd["type"] == "Ready" and cd["status"] == "True")
            if ready == N:
                break
            time.sleep(1)
        time.sleep(5)
        t0, busy0, api0 = time.monotonic(), cpu_seconds(tmcd.pid), cpu_seconds(apiserver)
        time.sleep(SECONDS)
        elapsed = time.monotonic() - t0
        busy = (cpu_seconds(tmcd.pid) - busy0) / elapsed
        api_busy = (cpu_seconds(apiserver) - api0) / elapsed
        rss = [ln for ln in open(f"/proc/{tmcd.pid}/status") if ln.startswith("VmRSS")][0].split()[1]
        machine = subprocess.run(["sh", "-c", "nproc; grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                                 capture_output=True, text=True).stdout.split("\n")
        print(f"machine: {machine[0].strip()} cores,{machine[1]}; one kube-apiserver v1.35.4 on the same machine")
        print(f"{N} registrations Ready: {ready}; probe period 10 s; measured over {elapsed:.0f} s; "
              f"flags: {os.environ.get('TMCD_BENCH_FLAGS', '(defaults)')}")
        print(f"{'what':40s} {'% of one core':>14s}")
        print(f"{'tmcd idle (no registrations)':40s} {idle * 100:14.2f}")
        print(f"{'tmcd probing ' + str(N) + ' registrations':40s} {busy * 100:14.2f}")
        print(f"{'kube-apiserver answering the probes':40s} {(api_busy - api_idle) * 100:14.2f}")
        print(f"tmcd CPU per probe: {busy / (N / 10.0) * 1000:.2f} ms; RSS {rss} KiB")
    finally:
        if tmcd:
            tmcd.terminate()
            tmcd.wait()
        subprocess.run([str(ROOT / "test/peers/down.sh"), str(work / "peers")], capture_output=True)
        subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
