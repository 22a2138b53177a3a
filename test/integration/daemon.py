"""The real tmcd binary as a subprocess, for integration and e2e tests.

Security is on, as in production: every daemon serves TLS and authenticates every request. The
tests share one PKI made by `tmcd kubeconfig` (a CA, a serving certificate for 127.0.0.1 and an
administrator's client certificate in group system:masters); each daemon is started with it, and
`requests` sends that certificate with the CA to every daemon's base URL, so tests talk to tmcd
as an administrator unless they ask for something else (`anonymous_session`, `Daemon.connect`).
Tests of tmcd's own PKI start daemons with `own_pki=True`."""
import base64
import os
import pathlib
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import requests
import yaml

TMCD = os.environ.get("TMCD_BIN", "tmcd")
# What AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer and ThreadSanitizer print.
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")


class Pki:
    """Files of the shared test PKI."""

    def __init__(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="tmcd-test-pki-"))
        data = self.dir / "data"
        r = subprocess.run([TMCD, "kubeconfig", "--data-dir", str(data), "--user", "tmcd-test-admin",
                            "--group", "system:masters"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        user = yaml.safe_load(r.stdout)["users"][0]["user"]
        self.ca = data / "pki" / "ca.crt"
        self.ca_key = data / "pki" / "ca.key"
        self.serving_cert = data / "pki" / "serving.crt"
        self.serving_key = data / "pki" / "serving.key"
        self.cert = self.dir / "admin.crt"
        self.key = self.dir / "admin.key"
        self.cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
        self.key.write_bytes(base64.b64decode(user["client-key-data"]))

    def daemon_args(self):
        return ["--tls-cert-file", str(self.serving_cert), "--tls-key-file", str(self.serving_key),
                "--client-ca-file", str(self.ca)]

    def kubeconfig(self, server, path, cert=None, key=None):
        """A kubeconfig for `server` as the administrator (or the given client certificate)."""
        doc = {"apiVersion": "v1", "kind": "Config", "current-context": "tmcd",
               "clusters": [{"name": "tmcd", "cluster": {"server": server, "certificate-authority": str(self.ca)}}],
               "users": [{"name": "u", "user": {"client-certificate": str(cert or self.cert),
                                                "client-key": str(key or self.key)}}],
               "contexts": [{"name": "tmcd", "context": {"cluster": "tmcd", "user": "u"}}]}
        pathlib.Path(path).write_text(yaml.safe_dump(doc))
        return str(path)


_pki = None


def pki():
    global _pki
    if _pki is None:
        _pki = Pki()
    return _pki


_bases = set()


class _AdminAdapter(requests.adapters.HTTPAdapter):
    """Sends the shared administrator certificate and trusts the shared CA, unless a test chose."""

    def send(self, request, **kwargs):
        # requests turns verify=True into $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE when they are set.
        defaults = (True, None, os.environ.get("REQUESTS_CA_BUNDLE"), os.environ.get("CURL_CA_BUNDLE"))
        if kwargs.get("verify") in defaults:
            kwargs["verify"] = str(pki().ca)
        if not kwargs.get("cert"):
            kwargs["cert"] = (str(pki().cert), str(pki().key))
        return super().send(request, **kwargs)


_session_init = requests.Session.__init__


def _init_with_tmcd_adapters(self, *args, **kwargs):
    _session_init(self, *args, **kwargs)
    for base in _bases:
        self.mount(base + "/", _AdminAdapter())


requests.Session.__init__ = _init_with_tmcd_adapters


def anonymous_session():
    """A session that trusts the test CA but sends no client certificate."""
    s = requests.Session()
    for base in _bases:
        s.mount(base + "/", requests.adapters.HTTPAdapter())
    s.verify = str(pki().ca)
    s.trust_env = False  # else $REQUESTS_CA_BUNDLE would win over s.verify
    return s


class Daemon:
    """A running tmcd process; stderr goes to a file that tests read."""

    def __init__(self, tmp_path, args, env=None, own_pki=False, nofile=None):
        self.log_path = tmp_path / f"tmcd-{time.monotonic_ns()}.log"
        self.port_file = tmp_path / f"port-{time.monotonic_ns()}"
        self._log = open(self.log_path, "wb")
        if not any(a.startswith("--listen") for a in args):
            args = [*args, "--listen", "127.0.0.1:0"]  # ports are always chosen by the OS
        if not any(a.startswith("--port-file") for a in args):
            args = [*args, "--port-file", str(self.port_file)]
        chosen = ("--tls-", "--client-ca-file", "--insecure-http")
        if not own_pki and not any(a.startswith(chosen) for a in args):
            args = [*args, *pki().daemon_args()]
        self.insecure = "--insecure-http=true" in args or "--insecure-http" in args
        self.unix_path = None
        if not any(a.startswith("--unix-socket") for a in args):
            # Short enough for sun_path whatever pytest's temp directory is called.
            self.unix_path = os.path.join(tempfile.mkdtemp(prefix="tmcd-sock-"), "api.sock")
            args = [*args, "--unix-socket", self.unix_path]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("TMCD_")}
        full_env.update(env or {})
        # nofile: the child's open-file limit, soft and hard (fault tests run tmcd out of descriptors).
        limit = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))) if nofile else None
        self.proc = subprocess.Popen([TMCD, *args], stdout=self._log, stderr=subprocess.STDOUT, env=full_env,
                                     preexec_fn=limit)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"{text!r} not logged within {timeout}s; rc={self.proc.poll()} log:\n{self.log()}")

    @property
    def base(self):
        """https://127.0.0.1:PORT once the API listens (waits for the port file)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.port_file.exists() and self.port_file.read_text().strip():
                url = f"{'http' if self.insecure else 'https'}://127.0.0.1:{self.port_file.read_text().strip()}"
                _bases.add(url)
                return url
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"tmcd wrote no port file; rc={self.proc.poll()} log:\n{self.log()}")

    @property
    def port(self):
        return int(self.base.rsplit(":", 1)[1])

    def connect(self, timeout=10):
        """A raw socket to the Unix socket listener (plain HTTP; the test's uid is an administrator)."""
        self.base  # noqa: B018 (waits until tmcd listens)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.unix_path)
        return s

    def kubeconfig(self, path, workspace=None):
        server = self.base + (f"/clusters/{workspace}" if workspace else "")
        return pki().kubeconfig(server, path)

    @property
    def curl(self):
        """curl arguments that authenticate as the administrator."""
        return ["curl", "--cacert", str(pki().ca), "--cert", str(pki().cert), "--key", str(pki().key)]

    def stop(self, sig=signal.SIGTERM, timeout=15):  # longer than tmcd's shutdownTimeout (10 s): it reports first
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
            if rc != 0 and sig == signal.SIGTERM:  # a failed graceful stop: the log says why
                print(f"tmcd exited {rc}; the end of {self.log_path}:\n"
                      f"{self.log_path.read_text(errors='replace')[-4000:]}", file=sys.stderr)
            return rc
        except subprocess.TimeoutExpired:
            # A shutdown that hangs: every thread's stack and the log's end, so that the failure says where.
            stacks = "(gdb is not installed: scripts/install-deps.sh installs it)"
            if shutil.which("gdb"):
                stacks = subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-ex", "thread apply all bt 30"],
                                        capture_output=True, text=True, timeout=120).stdout
            self.proc.kill()
            self.proc.wait()
            log = self.log_path.read_text(errors="replace")
            pytest.fail(f"tmcd did not exit within {timeout}s of signal {sig}\n--- threads ---\n{stacks[-20000:]}"
                        f"\n--- log ({self.log_path}) ---\n{log[-6000:]}")
        finally:
            self._log.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def eventually(fn, timeout=60, what="condition"):
    """fn()'s first truthy value within `timeout` seconds, polled every 0.25 s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


def run(*args, env=None, timeout=10):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TMCD_")}
    full_env.update(env or {})
    return subprocess.run([TMCD, *args], capture_output=True, text=True, timeout=timeout, env=full_env)


@pytest.fixture
def daemon(tmp_path):
    """Starts tmcd processes for one test (daemon(*args, env=..., own_pki=...)); kills them all afterwards."""
    started = []

    def start(*args, env=None, own_pki=False, nofile=None):
        d = Daemon(tmp_path, list(args), env, own_pki, nofile)
        started.append(d)
        return d

    yield start
    # Stop what is still running the way systemd would, so that a sanitizer build reports at exit
    # (LeakSanitizer runs then); a report in any daemon's log fails the test that started it.
    reports = []
    for d in started:
        if d.proc.poll() is None:
            d.proc.send_signal(signal.SIGCONT)  # a test may have left it stopped
            try:
                d.stop(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        d.kill()
        log = d.log()
        found = [m for m in SANITIZER_REPORTS if m in log]
        if found:
            reports.append(f"{d.log_path}: {found[0]}\n{log[max(0, log.index(found[0]) - 200):][:6000]}")
    assert not reports, "sanitizer report in a tmcd log:\n" + "\n".join(reports)


@pytest.fixture
def small_disk(tmp_path):
    """A 256 MiB tmpfs to fill (full-disk faults); skips the test where mounting needs rights it lacks."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)
