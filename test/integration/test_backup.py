"""tmcd backup / tmcd restore against the real daemon and its real RocksDB store (docs/install.md#backup-and-restore).

The backup is taken while a writer creates ConfigMaps as fast as it can; after the restore the store
must hold exactly the creates acknowledged at or before the backup's revision, each with the
resourceVersion it was acknowledged with, and a watch from a revision of before the restore must get
410 rather than a silent gap."""
import json
import threading

import requests

from daemon import anonymous_session, eventually, run

NS_CM = "/api/v1/namespaces/default/configmaps"
SECRETS = "/api/v1/namespaces/default/secrets"


def start(daemon, data):
    d = daemon("--data-dir", str(data))
    d.wait_for_log("tmcd ready")
    return d


def sock_args(d, data):
    return ["--data-dir", str(data), "--unix-socket", d.unix_path]


class Writer(threading.Thread):
    """Creates ConfigMaps one after another until stopped; remembers every acknowledged create."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.base, self.acked, self.halt, self.errors = base, {}, threading.Event(), []

    def run(self):
        s = requests.Session()
        i = 0
        while not self.halt.is_set():
            name = f"load-{i:06d}"
            r = s.post(self.base + NS_CM, json={"apiVersion": "v1", "kind": "ConfigMap",
                                                "metadata": {"name": name}, "data": {"i": str(i)}}, timeout=30)
            if r.status_code == 201:
                self.acked[name] = int(r.json()["metadata"]["resourceVersion"])
            else:
                self.errors.append(r.text)
            i += 1


def names_and_versions(base):
    items = requests.get(base + NS_CM, timeout=30).json()["items"]
    return {i["metadata"]["name"]: int(i["metadata"]["resourceVersion"]) for i in items}


def test_online_backup_under_writes_restores_every_acknowledged_object(daemon, tmp_path):
    data, backup = tmp_path / "data", tmp_path / "backup"
    d = start(daemon, data)
    requests.post(d.base + SECRETS, json={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"},
                                          "stringData": {"token": "s3cret"}}, timeout=10).raise_for_status()
    w = Writer(d.base)
    w.start()
    eventually(lambda: len(w.acked) >= 200, timeout=60, what="200 creates before the backup")
    r = run("backup", str(backup), *sock_args(d, data), timeout=120)
    assert r.returncode == 0, r.stderr
    assert "made by the running tmcd" in r.stdout, r.stdout
    manifest = json.loads((backup / "backup.json").read_text())
    revision = manifest["revision"]
    eventually(lambda: max(w.acked.values()) > revision + 50, timeout=60, what="writes after the backup")
    w.halt.set()
    w.join(timeout=60)
    assert not w.errors, w.errors[:3]
    assert manifest["format"] == 1 and manifest["online"] is True, manifest
    # Keys stay apart from backups unless asked for; the CA travels (issued kubeconfigs keep working).
    assert not (backup / "encryption-keys.yaml").exists() and (backup / "pki" / "ca.crt").exists()
    assert manifest["encryptionKeys"] is False
    before_restore = names_and_versions(d.base)
    last_rv = max(before_restore.values())
    # The staging checkpoint in the data directory is gone: only the copy remains.
    assert not list((data / "backups").glob("*")), list((data / "backups").iterdir())

    # The daemon's side is for administrators only, and only as a POST.
    assert anonymous_session().post(d.base + "/admin/backup", timeout=10).status_code == 401
    assert requests.get(d.base + "/admin/backup", timeout=10).status_code == 405
    # A restore over a running tmcd is refused, and changes nothing.
    r = run("restore", str(backup), "--data-dir", str(data), timeout=60)
    assert r.returncode == 1 and "in use by a running tmcd" in r.stderr, (r.returncode, r.stderr)
    assert names_and_versions(d.base) == before_restore

    assert d.stop() == 0
    r = run("restore", str(backup), "--data-dir", str(data), timeout=120)
    assert r.returncode == 0, r.stderr
    assert list(data.glob("store.before-restore-*")), "the replaced store is kept"
    d2 = start(daemon, data)
    restored = names_and_versions(d2.base)
    expected = {n: rv for n, rv in w.acked.items() if rv <= revision}
    assert restored == expected, (len(restored), len(expected), sorted(set(restored) ^ set(expected))[:5])
    assert len(expected) >= 200 and len(expected) < len(w.acked)
    # The Secret opens with the data directory's own keys.
    s = requests.get(d2.base + SECRETS + "/token", timeout=10).json()
    assert s["data"]["token"] == "czNjcmV0", s
    # A watcher from before the restore gets 410, not a silent gap; a fresh list and watch work.
    w410 = requests.get(d2.base + NS_CM, params={"watch": "1", "resourceVersion": str(last_rv)}, timeout=10,
                        stream=True)
    body = w410.raw.read(4096).decode() if w410.status_code == 200 else w410.text
    assert w410.status_code == 410 or '"code":410' in body.replace(" ", ""), (w410.status_code, body)
    lst = requests.get(d2.base + NS_CM, timeout=10).json()
    assert int(lst["metadata"]["resourceVersion"]) > last_rv
    r = requests.post(d2.base + NS_CM, json={"apiVersion": "v1", "kind": "ConfigMap",
                                             "metadata": {"name": "after"}}, timeout=10)
    assert r.status_code == 201 and int(r.json()["metadata"]["resourceVersion"]) > last_rv, r.text


def test_offline_backup_restores_into_a_fresh_data_directory(daemon, tmp_path):
    data, backup, keyed, fresh = tmp_path / "data", tmp_path / "backup", tmp_path / "keyed", tmp_path / "fresh"
    d = start(daemon, data)
    for i in range(20):
        requests.post(d.base + NS_CM, json={"apiVersion": "v1", "kind": "ConfigMap",
                                            "metadata": {"name": f"c{i}"}}, timeout=10).raise_for_status()
    requests.post(d.base + SECRETS, json={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "k"},
                                          "data": {"k": "dmFsdWU="}}, timeout=10).raise_for_status()
    before = names_and_versions(d.base)
    assert d.stop() == 0
    r = run("backup", str(backup), "--data-dir", str(data), timeout=120)
    assert r.returncode == 0 and "tmcd stopped" in r.stdout and "not in it" in r.stdout, (r.stdout, r.stderr)
    # Another machine, without the keys: the Secrets would not open, so nothing is restored.
    r = run("restore", str(backup), "--data-dir", str(fresh), timeout=120)
    assert r.returncode == 1 and "does not open" in r.stderr and "--with-keys" in r.stderr, r.stderr
    assert not (fresh / "store").exists() and list(fresh.glob("store.failed-restore-*"))
    # With the keys in the backup it does.
    r = run("backup", str(keyed), "--with-keys", "--data-dir", str(data), timeout=120)
    assert r.returncode == 0, r.stderr
    assert oct(keyed.stat().st_mode & 0o777) == "0o700" and (keyed / "encryption-keys.yaml").exists()
    r = run("restore", str(keyed), "--data-dir", str(fresh), timeout=120)
    assert r.returncode == 0, r.stderr
    d2 = start(daemon, fresh)
    assert names_and_versions(d2.base) == before
    assert requests.get(d2.base + SECRETS + "/k", timeout=10).json()["data"]["k"] == "dmFsdWU="


def test_backup_and_restore_refuse_what_they_cannot_do(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    r = run("backup", str(tmp_path / "full"), "--data-dir", str(tmp_path / "data"))
    assert r.returncode == 1 and "not empty" in r.stderr, r.stderr
    r = run("backup", str(tmp_path / "b"), "--data-dir", str(tmp_path / "nothing"))
    assert r.returncode == 1 and "no store in" in r.stderr, r.stderr
    r = run("restore", str(tmp_path / "full"), "--data-dir", str(tmp_path / "data"))
    assert r.returncode == 1 and "not a tmcd backup" in r.stderr, r.stderr
    r = run("backup", "--data-dir", str(tmp_path / "data"))
    assert r.returncode == 2, r.stderr
