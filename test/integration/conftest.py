"""Fixtures that run the real tmcd binary in a temp data dir and always clean it up."""
from daemon import daemon, run, small_disk  # noqa: F401  (the fixtures, and run for the tests that import it)
