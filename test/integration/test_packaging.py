"""What the package ships, checked without installing it: the man pages against the binary, the
systemd unit with systemd-analyze (docs/install.md). The installed package is checked by
test/package/check.sh."""
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import run

ROOT = pathlib.Path(__file__).resolve().parents[2]
UNIT = ROOT / "packaging" / "systemd" / "tmcd.service.in"


def plain(roff):
    return roff.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "").replace("\\e", "\\")


def test_the_config_man_page_is_what_tmcd_generates_and_lists_every_key_with_its_default():
    r = run("generate", "manpage")
    assert r.returncode == 0, r.stderr
    committed = (ROOT / "man" / "tmcd.yaml.5").read_text()
    assert r.stdout == committed, "man/tmcd.yaml.5 is stale: run `tmcd generate manpage --output-dir .`"
    page = plain(committed)
    defaults = run("--print-default-config").stdout
    keys = 0
    for block in re.split(r"\n(?=\S)", defaults):  # top-level entries; nested keys are indented
        group = None
        for line in block.splitlines():
            m = re.match(r"^(\s*)([A-Za-z][\w]*):\s*(.*)$", line)
            if not m or line.lstrip().startswith("#"):
                continue
            indent, key, value = m.groups()
            if not indent and not value:
                group = key
                continue
            path = f"{group}.{key}" if indent and group else key
            if group == "featureGates" and indent:
                assert re.search(rf"\n\.B {key}\nDefault {value}\.", page), key
                continue
            entry = re.search(rf"\n\.B {re.escape(path)}\n([^\n]*)", page)
            assert entry, f"{path} is missing from tmcd.yaml(5)"
            shown = "\"\"" if value in ("", "\"\"", "[]") else value
            assert f"default {shown}" in entry.group(1) or f"default {value}" in entry.group(1), (path, entry.group(1))
            keys += 1
    assert keys >= 40


def test_tmcd_8_documents_every_option_and_command():
    page = plain((ROOT / "man" / "tmcd.8").read_text()) + plain((ROOT / "man" / "tmcd.yaml.5").read_text())
    help_text = run("--help").stdout
    flags = set(re.findall(r"(--[a-z][a-z0-9-]+)", help_text))
    assert len(flags) >= 40
    assert not [f for f in flags if f not in page], [f for f in flags if f not in page]
    commands = re.findall(r"^\s{2}(\w+)\s", help_text.split("Subcommands:")[1].split("\n\n")[0], re.M)
    assert {"generate", "kubeconfig", "encryption", "backup", "restore"} <= set(commands), commands
    tmcd8 = plain((ROOT / "man" / "tmcd.8").read_text())
    for c in commands:
        assert f"\n.B tmcd {c}" in tmcd8 or f".B {c}\n" in tmcd8, c
    for code in ("0", "1", "2", "3"):
        assert f".B {code}\n" in tmcd8, code


@pytest.fixture
def unit(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    text = UNIT.read_text().replace("@BINDIR@/tmcd", shutil.which("true").rsplit("/", 1)[0] + "/true")
    path = tmp_path / "tmcd.service"
    path.write_text(text)
    return path


def test_the_unit_verifies(unit):
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_the_unit_sandbox_rates_at_most_2(unit):
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=20", str(unit)],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for tmcd.service: ([0-9.]+)", r.stdout + r.stderr)
    assert r.returncode == 0 and m and float(m.group(1)) <= 2.0, r.stdout[-3000:] + r.stderr
    # What the unit promises docs/install.md: notify + watchdog, the user, the directories.
    text = UNIT.read_text()
    for line in ("Type=notify", "WatchdogSec=", "User=tmcd", "StateDirectory=tmcd", "StateDirectoryMode=0700",
                 "RuntimeDirectory=tmcd", "ConfigurationDirectory=tmcd", "ExecReload=/bin/kill -HUP $MAINPID",
                 "RestartPreventExitStatus=2 3"):
        assert line in text, line


def test_the_notify_contract_the_unit_relies_on(daemon, tmp_path):
    """Type=notify + WatchdogSec + ExecReload: READY=1 once serving, WATCHDOG=1 at half the interval,
    RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on SIGTERM, as systemd would receive them."""
    import os
    import signal
    import socket
    import tempfile
    import time

    path = os.path.join(tempfile.mkdtemp(prefix="tmcd-notify-"), "n.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    d = daemon("--data-dir", str(tmp_path / "data"), env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"})
    got = []

    def until(pred, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                got.append(s.recv(4096).decode())
            except socket.timeout:
                pass
            if pred():
                return
        raise AssertionError(f"not received within {timeout}s: {got}")

    until(lambda: any(m.startswith("READY=1") for m in got))
    ready_at = next(i for i, m in enumerate(got) if m.startswith("READY=1"))
    assert "STATUS=" in got[ready_at], got
    until(lambda: sum(m == "WATCHDOG=1" for m in got) >= 3, timeout=5)  # every 0.5 s at WatchdogSec=1s
    d.proc.send_signal(signal.SIGHUP)
    mark = len(got)
    until(lambda: "RELOADING=1" in got[mark:] and any(m.startswith("READY=1") for m in
                                                       got[got.index("RELOADING=1", mark):]))
    assert d.stop() == 0
    until(lambda: any(m.startswith("STOPPING=1") for m in got), timeout=5)
