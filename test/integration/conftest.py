"""Fixtures that run the real tmcd binary in a temp data dir and always clean it up."""
import pytest

from daemon import Daemon, run  # noqa: F401  (run is imported by the tests from here)


@pytest.fixture
def daemon(tmp_path):
    started = []

    def start(*args, env=None):
        d = Daemon(tmp_path, list(args), env)
        started.append(d)
        return d

    yield start
    for d in started:
        d.kill()
