"""Running the real tmcctl binary and comparing its output with golden files (test/golden/tmcctl/).

Golden files hold the output with what changes from run to run replaced (ages, ports, times, uids, temp
paths) and runs of spaces after text collapsed (the table layout itself is unit-tested, test/unit/ctl/). Set
TMCD_UPDATE_GOLDEN=1 to rewrite them from the current output, then review the diff."""
import os
import pathlib
import re
import subprocess

from daemon import eventually  # noqa: F401  (re-exported for the tmcctl tests)

TMCCTL = os.environ.get("TMCCTL_BIN", "tmcctl")
GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden" / "tmcctl"


def tmcctl(*args, env=None, input=None, timeout=120):
    """Runs tmcctl without the caller's KUBECONFIG/TMCD_SOCKET/HOME defaults unless `env` gives them."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "TMCD_SOCKET")}
    full_env["HOME"] = "/nonexistent"
    full_env.update(env or {})
    return subprocess.run([TMCCTL, *args], capture_output=True, text=True, timeout=timeout, env=full_env,
                          input=input)


def normalize(text):
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<time>", text)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uid>", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
    text = re.sub(r"(/tmp|/var/tmp)/[^\s\"':)]+", "<path>", text)
    text = re.sub(r"(?<![\w.])(\d+[smhdy])+(?![\w.])", "<age>", text)
    text = re.sub(r"\bv1\.\d+\.\d+\b", "v1.<minor>", text)
    text = re.sub(r"\b(tmcd-[a-z0-9<>-]+)-[0-9a-f]{8}\b", r"\1-<hash>", text)  # identity names hash the workspace
    text = re.sub(r"resourceVersion: \"?\d+\"?", "resourceVersion: <rv>", text)
    text = re.sub(r"\"resourceVersion\": \"\d+\"", "\"resourceVersion\": \"<rv>\"", text)
    return re.sub(r"(?<=\S) {2,}", "  ", text)  # columns, not indentation


def check_golden(name, text):
    """Compares normalized `text` with test/golden/tmcctl/<name>.txt."""
    path = GOLDEN / f"{name}.txt"
    got = normalize(text)
    if os.environ.get("TMCD_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got)
        return
    assert path.exists(), f"no golden file {path}: run with TMCD_UPDATE_GOLDEN=1 and review it\n--- got ---\n{got}"
    want = path.read_text()
    assert got == want, f"{name}: output differs from {path}\n--- want ---\n{want}\n--- got ---\n{got}"


def result(r):
    """One text for a run: its exit code, stdout and stderr (what the golden files hold for commands)."""
    return f"exit {r.returncode}\n--- stdout ---\n{r.stdout}--- stderr ---\n{r.stderr}"


def ok(*args, **kw):
    """tmcctl that must succeed."""
    r = tmcctl(*args, **kw)
    assert r.returncode == 0, f"tmcctl {' '.join(args)}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r
