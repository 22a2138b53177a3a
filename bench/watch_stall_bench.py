#!/usr/bin/env python3
"""Memory under stalled watchers (docs/reliability.md#limits): tmcd's peak RSS (VmHWM) while N watch
streams that never read are open and M updates of SIZE bytes are written, against the same tmcd and
the same updates with no watcher at all, in alternating rounds of the same run. Both sides use the
same transport and identity: the Unix socket listener (TRANSPORT unix), or TLS on TCP with a bearer
token (TRANSPORT tls: tmcd's TLS layer then holds encrypted output too). The writer is one
sequential client.
Usage: bench/watch_stall_bench.py [BUILD_DIR] [WATCHERS] [UPDATES] [SIZE] [ROUNDS] [TRANSPORT]"""
import json
import pathlib
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

from tmcd_auth import token_args

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build")
WATCHERS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
UPDATES = int(sys.argv[3]) if len(sys.argv) > 3 else 80
SIZE = int(sys.argv[4]) if len(sys.argv) > 4 else 1_000_000
ROUNDS = int(sys.argv[5]) if len(sys.argv) > 5 else 3
TRANSPORT = sys.argv[6] if len(sys.argv) > 6 else "unix"
CMS = "/api/v1/namespaces/default/configmaps"
TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # tmcd's own certificate, as the other benchmarks (bench/tmcd_auth.py)


class Target:
    """Where one round's tmcd listens and how to authenticate: a Unix socket path, or a TLS port and token."""

    def __init__(self, sock, port=None, token=None):
        self.sock, self.port, self.token = sock, port, token

    def auth(self):
        return f"Authorization: Bearer {self.token}\r\n" if self.token else ""


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def connect(t):
    if t.port is None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(t.sock)
        return s
    s = socket.create_connection(("127.0.0.1", t.port), timeout=60)
    return TLS.wrap_socket(s)


def request(t, method, target, body=None, ctype="application/json"):
    """One request on a fresh connection; returns (status code, body)."""
    data = json.dumps(body).encode() if body is not None else b""
    with connect(t) as s:
        s.sendall(f"{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n{t.auth()}"
                  f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        got = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
    head, _, rest = got.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def metric(t, name):
    _, text = request(t, "GET", "/metrics")
    for line in text.decode().splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def one_round(work, watchers):
    data = work / f"data-{time.monotonic_ns()}"
    sock = str(work / f"s-{time.monotonic_ns()}.sock")
    port_file = work / f"port-{time.monotonic_ns()}"
    auth, token = token_args(work)
    tmcd = subprocess.Popen([str(BUILD / "src/cmd/tmcd/tmcd"), "--data-dir", str(data), "--listen", "127.0.0.1:0",
                             "--port-file", str(port_file), "--unix-socket", sock, *auth, "--feature-gates=TMC=false",
                             "--store-fsync=false", "--api-max-watches=10000", "--log-level", "warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not pathlib.Path(sock).exists() or not port_file.exists() or not port_file.read_text().strip():
            time.sleep(0.01)
        t = Target(sock) if TRANSPORT == "unix" else Target(sock, int(port_file.read_text()), token)
        code, _ = request(t, "POST", CMS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
                                           "data": {"blob": ""}})
        assert code == 201
        held = []
        for _ in range(watchers):
            s = connect(t)
            s.sendall(f"GET {CMS}?watch=1 HTTP/1.1\r\nHost: x\r\n{t.auth()}\r\n".encode())
            held.append(s)  # never read
        time.sleep(0.5)
        started = time.monotonic()
        for i in range(UPDATES):
            blob = (str(i) * SIZE)[:SIZE]
            code, body = request(t, "PATCH", CMS + "/big", {"data": {"blob": blob}},
                                 "application/merge-patch+json")
            assert code == 200, body[:200]
        elapsed = time.monotonic() - started
        time.sleep(2)
        out = {"peak_mib": status_kib(tmcd.pid, "VmHWM") / 1024, "end_mib": status_kib(tmcd.pid, "VmRSS") / 1024,
               "seconds": elapsed, "open_watches": metric(t, "tmcd_api_open_watches"),
               "evicted": metric(t, 'tmcd_http_budget_rejections_total{budget="stalled_stream"}')}
        for s in held:
            s.close()
        return out
    finally:
        tmcd.terminate()
        tmcd.wait(timeout=30)


def summary(values):
    return f"min {min(values):.0f} / median {statistics.median(values):.0f} / max {max(values):.0f}"


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="tmcd-stall-"))
    base, stalled = [], []
    for r in range(ROUNDS):  # alternating: no watcher, then WATCHERS stalled ones
        base.append(one_round(work, 0))
        stalled.append(one_round(work, WATCHERS))
        print(f"round {r + 1}: no watcher {base[-1]}; {WATCHERS} stalled {stalled[-1]}", flush=True)
    print(f"\n{UPDATES} updates of {SIZE} bytes over {TRANSPORT}, {ROUNDS} rounds; peak RSS (VmHWM), MiB:")
    print(f"  no watcher:            {summary([b['peak_mib'] for b in base])}")
    print(f"  {WATCHERS} stalled watchers: {summary([s['peak_mib'] for s in stalled])}")
    ratios = [s["peak_mib"] / b["peak_mib"] for s, b in zip(stalled, base)]
    print(f"  ratio stalled / none:  min {min(ratios):.2f} / median {statistics.median(ratios):.2f} / "
          f"max {max(ratios):.2f}")
    print(f"  write time, s: none {summary([b['seconds'] for b in base])}; "
          f"stalled {summary([s['seconds'] for s in stalled])}")
    print(f"  stalled watches still open at the end: {[int(s['open_watches']) for s in stalled]}; "
          f"closed by the output budget: {[int(s['evicted']) for s in stalled]}")


if __name__ == "__main__":
    main()
