"""Fixtures that run the real tmcd binary in a temp data dir and always clean it up."""
from daemon import daemon, run  # noqa: F401  (the fixture, and run for the tests that import it from here)
