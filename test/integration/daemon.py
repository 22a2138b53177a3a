"""The real tmcd binary as a subprocess, for integration and e2e tests."""
import os
import signal
import subprocess
import time

import pytest

TMCD = os.environ.get("TMCD_BIN", "tmcd")


class Daemon:
    """A running tmcd process; stderr goes to a file that tests read."""

    def __init__(self, tmp_path, args, env=None):
        self.log_path = tmp_path / f"tmcd-{time.monotonic_ns()}.log"
        self.port_file = tmp_path / f"port-{time.monotonic_ns()}"
        self._log = open(self.log_path, "wb")
        if not any(a.startswith("--listen") for a in args):
            args = [*args, "--listen", "127.0.0.1:0"]  # ports are always chosen by the OS
        if not any(a.startswith("--port-file") for a in args):
            args = [*args, "--port-file", str(self.port_file)]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("TMCD_")}
        full_env.update(env or {})
        self.proc = subprocess.Popen([TMCD, *args], stdout=self._log, stderr=subprocess.STDOUT, env=full_env)

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
        """http://127.0.0.1:PORT once the API listens (waits for the port file)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.port_file.exists() and self.port_file.read_text().strip():
                return f"http://127.0.0.1:{self.port_file.read_text().strip()}"
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"tmcd wrote no port file; rc={self.proc.poll()} log:\n{self.log()}")

    @property
    def port(self):
        return int(self.base.rsplit(":", 1)[1])

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def run(*args, env=None, timeout=10):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TMCD_")}
    full_env.update(env or {})
    return subprocess.run([TMCD, *args], capture_output=True, text=True, timeout=timeout, env=full_env)


@pytest.fixture
def daemon(tmp_path):
    """Starts tmcd processes for one test (daemon(*args, env=...)); kills them all afterwards."""
    started = []

    def start(*args, env=None):
        d = Daemon(tmp_path, list(args), env)
        started.append(d)
        return d

    yield start
    for d in started:
        d.kill()
