"""Faults a single machine can produce for real (docs/reliability.md#faults): running out of file
descriptors and running out of disk under the data directory. The store must never report ready
while it cannot write, must recover by itself when the cause goes away, and must never lose a
write it acknowledged."""
import os
import signal
import time

import requests

CMS = "/api/v1/namespaces/default/configmaps"


def cm(name, size, random=False):
    blob = os.urandom(size // 2).hex() if random else "x" * size
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"blob": blob}}


def ready(d):
    r = requests.get(d.base + "/readyz", timeout=10)
    return r.status_code, r.text


def test_clients_cannot_take_the_descriptors_the_store_needs(daemon, tmp_path):
    d = daemon("--feature-gates=TMC=false", "--data-dir", str(tmp_path / "data"), "--store-fsync=false",
               nofile=400)
    d.base  # noqa: B018 (waits until it listens)
    assert "open-file limit 400" in d.log()
    session = requests.Session()
    assert session.get(d.base + "/readyz", timeout=10).text == "ok"  # its keep-alive connection stays open
    held = []
    try:
        for _ in range(420):  # more than the limit: the API stops accepting before the store starves
            s = d.connect(timeout=5)
            held.append(s)
        time.sleep(0.5)
        # 80 writes of 900 KB fill RocksDB's 64 MB memtable: a flush opens a new SST and a new WAL.
        written = []
        for i in range(80):
            try:
                r = session.post(d.base + CMS, json=cm(f"fd-{i}", 900_000), timeout=10)
            except (requests.ConnectionError, requests.Timeout):
                continue  # no room for a new connection right now: fine, nothing was acknowledged
            assert r.status_code == 201, r.text[:300]
            written.append(f"fd-{i}")
    finally:
        for s in held:
            s.close()
    assert len(written) >= 60, f"only {len(written)} writes went through the open connection"
    time.sleep(0.5)
    assert ready(d) == (200, "ok")
    assert requests.post(d.base + CMS, json=cm("after", 10), timeout=10).status_code == 201
    for name in written:
        assert requests.get(f"{d.base}{CMS}/{name}", timeout=10).status_code == 200
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(timeout=30) == 0


def test_a_full_disk_fails_writes_clearly_and_recovers_without_losing_any(daemon, small_disk):
    data = small_disk / "data"
    args = ("--feature-gates=TMC=false", "--data-dir", str(data), "--store-fsync=true",
            "--store-min-free-bytes=25165824")
    d = daemon(*args)
    d.base  # noqa: B018
    filler = small_disk / "filler"
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    with open(filler, "wb") as f:
        f.write(b"\0" * (free - 40 * 1024 * 1024))  # 40 MiB left: 16 above the 24 MiB reserve
    acknowledged, failed = [], None
    session = requests.Session()
    # RocksDB preallocates its WAL (about 70 MB here), so the disk fills after that much more.
    for i in range(600):
        r = session.post(d.base + CMS, json=cm(f"disk-{i}", 200_000, random=True), timeout=30)
        if r.status_code == 201:
            acknowledged.append(f"disk-{i}")
            continue
        failed = r
        break
    assert failed is not None, "the disk never filled"
    assert len(acknowledged) >= 20, f"refused after only {len(acknowledged)} writes"
    assert failed.status_code == 503, failed.text[:300]
    status = failed.json()
    assert status["kind"] == "Status" and status["reason"] == "ServiceUnavailable"
    assert "cannot write" in status["message"] and "MiB free" in status["message"]
    code, text = ready(d)
    assert code == 503 and "store cannot write" in text, text
    deadline = time.monotonic() + 5  # the gauge follows within a second
    while "tmcd_store_writable 0" not in requests.get(d.base + "/metrics", timeout=10).text:
        assert time.monotonic() < deadline, "tmcd_store_writable stayed 1"
        time.sleep(0.2)
    for name in acknowledged:  # reads keep working while writes fail
        assert session.get(f"{d.base}{CMS}/{name}", timeout=10).status_code == 200

    filler.unlink()  # the cause goes away: tmcd recovers by itself
    deadline = time.monotonic() + 20
    while ready(d)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ready(d) == (200, "ok"), d.log()[-2000:]
    assert session.post(d.base + CMS, json=cm("after-recovery", 10), timeout=10).status_code == 201
    assert "store: writable again" in d.log()

    # Nothing acknowledged is lost, across a clean restart too; clean shutdown does not abort.
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(timeout=30) == 0
    d2 = daemon(*args)
    names = {i["metadata"]["name"] for i in requests.get(d2.base + CMS, timeout=30).json()["items"]}
    assert set(acknowledged) | {"after-recovery"} <= names
