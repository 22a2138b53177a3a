#!/usr/bin/env python3
"""clang-tidy over the given sources, skipping those already found clean in an identical state.

The cache key of a source is the SHA-256 of: clang-tidy's version, .clang-tidy, and the file's
preprocessed text with comments kept (NOLINT markers count) and without line markers (so two checkouts
in different directories share it) — everything clang-tidy's verdict depends on. Clean results are
remembered as empty files under $TMCD_TIDY_CACHE (default ~/.cache/tmcd/tidy), outside the work tree;
findings are never cached. A warm CI run re-parses only what changed (docs/testing.md).

Usage: tidy-cached.py BUILD_DIR FILE...   Prints the findings; exit 1 when there are any."""
import concurrent.futures
import hashlib
import json
import os
import pathlib
import shlex
import subprocess
import sys


def preprocess_command(entry):
    """The entry's compile command turned into "preprocess to stdout, keep comments, no line markers"."""
    args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    if args and os.path.basename(args[0]) == "ccache":
        args = args[1:]
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MQ", "-MF", "-MT"):
            skip = True
            continue
        if a in ("-MD", "-MMD", "-c"):
            continue
        out.append(a)
    return out + ["-E", "-C", "-P", "-o", "-"]


def main():
    build = pathlib.Path(sys.argv[1]).resolve()
    files = sys.argv[2:]
    root = pathlib.Path(__file__).resolve().parents[1]
    cache = pathlib.Path(os.environ.get("TMCD_TIDY_CACHE", pathlib.Path.home() / ".cache" / "tmcd" / "tidy"))
    cache.mkdir(parents=True, exist_ok=True)
    entries = {}
    for e in json.loads((build / "compile_commands.json").read_text()):
        entries[str((pathlib.Path(e["directory"]) / e["file"]).resolve())] = e
    version = subprocess.run(["clang-tidy", "--version"], capture_output=True, text=True).stdout
    base = hashlib.sha256((version + (root / ".clang-tidy").read_text()).encode())

    def key(f):
        e = entries.get(str((root / f).resolve()))
        if e is None:
            return None  # not compiled in this build: always checked
        pre = subprocess.run(preprocess_command(e), cwd=e["directory"], capture_output=True)
        if pre.returncode != 0:
            return None
        h = base.copy()
        h.update(pre.stdout)
        return h.hexdigest()

    def check(f):
        k = key(f)
        if k is not None and (cache / k).exists():
            return f, "", True
        r = subprocess.run(["clang-tidy", "-p", str(build), "--quiet", f], cwd=root, capture_output=True, text=True)
        findings = "\n".join(line for line in r.stdout.splitlines() if line.strip())
        clean = ("warning:" not in findings and "error:" not in findings)
        if clean and k is not None:
            (cache / k).touch()
        return f, findings, False

    hits = 0
    found = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for f, findings, hit in pool.map(check, files):
            hits += hit
            if "warning:" in findings or "error:" in findings:
                found.append(findings)
    print(f"tidy: {len(files)} files, {hits} unchanged since a clean run, {len(files) - hits} checked",
          file=sys.stderr)
    if found:
        print("\n".join(found))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
