#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: dependencies → build (-Werror) → lint →
# unit + integration + e2e suites → one summary line "N passed, N failed, N skipped" → the unit and
# integration suites under ASan + UBSan and a short run of every fuzz target.
# Usage: scripts/test.sh [meson test args...]   (e.g. --suite unit)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${TMCD_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"
# ccache (meson uses it when installed) keeps its cache in ~/.cache/ccache, outside the work tree;
# paths relative to the checkout make a fresh clone in another directory hit it too.
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
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

# The Debian package: built and checked by lintian, installed, run as user tmcd, purged; then the
# upgrade from a package of an earlier commit (docs/testing.md#package). Needs root (dpkg);
# TMCD_SKIP_PACKAGE=1 skips it (local runs).
if [ "${TMCD_SKIP_PACKAGE:-0}" != 1 ] && [ "$#" -eq 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "package: skipped (installing a package needs root)"
  else
    "$root/scripts/package-test.sh" || { echo "test.sh: package test failed"; test_rc=1; }
  fi
fi

# The unit and integration suites again under ASan + UBSan, then every libFuzzer target for a short
# run on its corpus, then both suites under ThreadSanitizer (docs/testing.md#sanitizers). TMCD_SKIP_SANITIZERS=1 skips both (local runs).
if [ "${TMCD_SKIP_SANITIZERS:-0}" != 1 ] && [ "$#" -eq 0 ]; then
  san_rc=0
  "$root/scripts/sanitize.sh" "$root/build-asan" || san_rc=$?
  python3 "$root/scripts/test-summary.py" "$root/build-asan/meson-logs/testlog.json" | sed 's/^/sanitizers: /'
  "$root/scripts/fuzz.sh" all "${TMCD_FUZZ_SECONDS:-10}" "$root/build-asan" || san_rc=$?
  "$root/scripts/tsan.sh" "$root/build-tsan" || san_rc=$?
  python3 "$root/scripts/test-summary.py" "$root/build-tsan/meson-logs/testlog.json" | sed 's/^/tsan: /'
  [ "$san_rc" -eq 0 ] || { echo "test.sh: sanitizer or fuzz run failed"; test_rc=1; }
fi

if [ "$lint_rc" -ne 0 ]; then echo "test.sh: lint failed"; exit 1; fi
exit "$test_rc"
