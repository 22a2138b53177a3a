#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: dependencies → build (-Werror) → lint →
# unit + integration + e2e suites → one summary line "N passed, N failed, N skipped".
# Usage: scripts/test.sh [meson test args...]   (e.g. --suite unit)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${TMCD_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"
venv_bin=$("$root/scripts/setup-python.sh")
export PATH="$venv_bin:$PATH"

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" --wrap-mode=nofallback -Dwerror=true -Dtests=enabled
fi
ninja -C "$build"

lint_rc=0
"$root/scripts/lint.sh" "$build" || lint_rc=$?

test_rc=0
meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || test_rc=$?
python3 "$root/scripts/test-summary.py" "$build/meson-logs/testlog.json"

if [ "$lint_rc" -ne 0 ]; then echo "test.sh: lint failed"; exit 1; fi
exit "$test_rc"
