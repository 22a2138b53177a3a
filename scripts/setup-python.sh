#!/usr/bin/env bash
# Creates (or reuses) the test virtualenv outside the work tree and prints its bin directory.
# The venv is keyed by the hash of test/requirements.txt, so a changed list gets a fresh venv.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${TMCD_CACHE:-$HOME/.cache/tmcd}
key=$(sha256sum "$root/test/requirements.txt" | cut -c1-12)
venv="$cache/venv-$key"
if [ ! -x "$venv/bin/pytest" ]; then
  mkdir -p "$cache"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/test/requirements.txt" >&2
fi
echo "$venv/bin"
