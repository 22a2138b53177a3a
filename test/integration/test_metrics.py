"""/metrics against what the process, the store and the HTTP server really did (docs/metrics.md):
each figure is compared with an independent reading (/proc, the requests this test sent), so a
metric that is stuck, mislabelled or counts the wrong thing fails."""
import os
import ssl
import subprocess
import time

import requests

from api_helpers import CREG, creg
from daemon import pki


def scrape(d):
    """Every sample as {(name, frozenset(labels)): value}, and every family's TYPE."""
    samples, types = {}, {}
    for line in requests.get(d.base + "/metrics", timeout=10).text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
        elif line and not line.startswith("#"):
            head, value = line.rsplit(" ", 1)
            name, _, labels = head.partition("{")
            pairs = frozenset(tuple(p.split("=", 1)) for p in labels.rstrip("}").split(",") if p)
            samples[(name, frozenset((k, v.strip('"')) for k, v in pairs))] = float(value)
    return samples, types


def one(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


def test_process_metrics_match_proc(daemon, tmp_path):
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"))
    s, types = scrape(d)
    pid = d.proc.pid
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f)
    rss = int(status["VmRSS"].split()[0]) * 1024
    assert 0.5 * rss < one(s, "process_resident_memory_bytes") < 2 * rss
    # The heap's live bytes are part of what is resident (pages never touched are not): below it, and
    # not nothing. The freed bytes the allocator keeps are a gauge of their own.
    # Under a sanitizer the allocator is not glibc's: what mallinfo2 says then is not tmcd's heap (tmcd
    # leaves the series out when it reads zeros), so nothing is checked there.
    if not (os.environ.get("ASAN_OPTIONS") or os.environ.get("TSAN_OPTIONS")):
        in_use = one(s, "tmcd_malloc_bytes", state="in_use")
        assert 1 << 20 < in_use < rss and one(s, "tmcd_malloc_bytes", state="free") >= 0
    assert one(s, "tmcd_process_threads") == int(status["Threads"])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    assert abs(one(s, "process_open_fds") - fds) <= 3  # the scrape's own connection and directory handle
    assert one(s, "process_max_fds") >= 1024
    started = os.stat(f"/proc/{pid}").st_ctime
    assert abs(one(s, "process_start_time_seconds") - started) < 5
    cpu = one(s, "process_cpu_seconds_total")
    for _ in range(300):
        requests.get(d.base + CREG, timeout=10)
    s2, _ = scrape(d)
    assert one(s2, "process_cpu_seconds_total") > cpu
    assert types["process_cpu_seconds_total"] == "counter" and types["process_open_fds"] == "gauge"
    assert d.stop() == 0


def test_store_metrics_follow_writes_and_fsyncs(daemon, tmp_path):
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--store-fsync=true")
    s, _ = scrape(d)
    syncs, wal = one(s, "tmcd_store_wal_syncs_total"), one(s, "tmcd_store_wal_written_bytes_total")
    for i in range(20):
        assert requests.post(d.base + CREG, json=creg(f"c{i}"), timeout=10).status_code == 201
    s, _ = scrape(d)
    assert one(s, "tmcd_store_wal_syncs_total") >= syncs + 20  # one fsync per commit group, sequential posts
    assert one(s, "tmcd_store_wal_written_bytes_total") > wal + 20 * 200
    assert one(s, "tmcd_store_memtable_bytes") > 0
    # Served (a KeyError otherwise); nothing is flushed in so short a run, so both may read 0.
    assert one(s, "tmcd_store_block_cache_bytes") >= 0 and one(s, "tmcd_store_table_readers_bytes") >= 0
    assert one(s, "tmcd_store_write_stopped") == 0 and one(s, "tmcd_store_delayed_write_rate_bytes") == 0
    assert one(s, "tmcd_store_revision") == 20
    watchers = one(s, "tmcd_store_watchers")
    r = requests.get(d.base + CREG, params={"watch": "1", "timeoutSeconds": "30"}, stream=True, timeout=10)
    try:
        time.sleep(0.3)
        assert one(scrape(d)[0], "tmcd_store_watchers") == watchers + 1
    finally:
        r.close()
    assert d.stop() == 0

    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "nosync"), "--store-fsync=false")
    for i in range(5):
        requests.post(d.base + CREG, json=creg(f"c{i}"), timeout=10)
    s, _ = scrape(d)
    assert one(s, "tmcd_store_wal_syncs_total") <= 1  # the format record at creation only
    assert d.stop() == 0


def test_http_metrics_count_connections_and_refusals(daemon, tmp_path):
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--api-max-request-bytes=65536")
    s, _ = scrape(d)
    before = {c: one(s, "tmcd_http_refused_requests_total", code=c) for c in ("400", "413", "505", "other")}
    accepted = one(s, "tmcd_http_connections_total")
    held = [d.connect() for _ in range(5)]
    try:
        time.sleep(0.3)
        s, _ = scrape(d)
        assert one(s, "tmcd_http_open_connections") >= 5
        assert one(s, "tmcd_http_connections_total") >= accepted + 5
        for sock, raw, code in ((held[0], b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", b"400"),
                                (held[1], b"GET / HTTP/2.5\r\n\r\n", b"505"),
                                (held[2], f"POST {CREG} HTTP/1.1\r\nContent-Length: 100000\r\n\r\n".encode(),
                                 b"413")):
            sock.sendall(raw)
            assert sock.recv(65536).startswith(b"HTTP/1.1 " + code)
    finally:
        for h in held:
            h.close()
    time.sleep(0.3)
    s, _ = scrape(d)
    after = {c: one(s, "tmcd_http_refused_requests_total", code=c) for c in before}
    assert after["400"] == before["400"] + 1, after
    assert after["505"] == before["505"] + 1, after
    assert after["413"] == before["413"] + 1, after
    assert after["other"] == before["other"]
    assert one(s, "tmcd_http_open_connections") <= 2
    assert one(s, "tmcd_http_buffered_request_bytes") == 0
    assert d.stop() == 0


def test_serving_certificate_expiry_is_the_served_certificates(daemon, tmp_path):
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"))
    not_after = ssl.cert_time_to_seconds(ssl._ssl._test_decode_cert(str(pki().serving_cert))["notAfter"])
    assert one(scrape(d)[0], "tmcd_tls_serving_certificate_expiry_timestamp_seconds") == not_after
    assert d.stop() == 0
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "plain"), "--insecure-http=true")
    d.base  # noqa: B018 (waits until tmcd listens)
    text = subprocess.run(["curl", "-sf", "--unix-socket", d.unix_path, "http://tmcd/metrics"], capture_output=True,
                          text=True, timeout=10).stdout
    samples = [ln for ln in text.splitlines() if not ln.startswith("#")]
    assert any(ln.startswith("tmcd_store_revision ") for ln in samples)
    assert not any(ln.startswith("tmcd_tls_serving_certificate_expiry_timestamp_seconds") for ln in samples)
    assert d.stop() == 0


def test_invented_names_methods_and_paths_do_not_grow_the_series(daemon, tmp_path):
    """Label values come from fixed sets or validated names: 600 requests for resources, groups, workspaces,
    object names, paths and methods that do not exist add no series (docs/metrics.md#labels-and-cardinality)."""
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"))
    d.base  # noqa: B018 (a session made after tmcd listens trusts it: daemon.py)
    s = requests.Session()

    def probe(i):
        s.get(f"{d.base}/apis/x{i}.example.io/v1/foos{i}", timeout=10)
        s.get(f"{d.base}/clusters/ws{i}/api/v1/namespaces/n{i}/pods{i}/p{i}", timeout=10)
        s.get(f"{d.base}/api/v1/namespaces/n{i}/configmaps/missing-{i}", timeout=10)
        s.get(f"{d.base}/no/such/path/{i}", timeout=10)
        s.request(f"M{i:03d}X", f"{d.base}/api/v1/namespaces", timeout=10)
        s.delete(f"{d.base}{CREG}/nothing-{i}", timeout=10)

    probe(0)  # every label set these requests (and a scrape) can produce exists from here on
    scrape(d)
    before = set(scrape(d)[0])
    for i in range(1, 101):
        probe(i)
    after = set(scrape(d)[0])
    assert not after - before, sorted(after - before)[:10]
    assert d.stop() == 0
