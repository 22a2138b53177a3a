#!/usr/bin/env bash
# The unit and integration suites under AddressSanitizer + UndefinedBehaviorSanitizer (clang), in
# build-asan/: the same build scripts/fuzz.sh uses for the libFuzzer targets, so one clang build
# serves both (ccache, outside the work tree, keeps CI's fresh clones cheap). Any sanitizer report
# fails the run (halt_on_error); findings are fixed, not suppressed (docs/testing.md#sanitizers).
# Usage: scripts/sanitize.sh [BUILD_DIR] [meson test args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1  # fresh clones elsewhere hit the same cache
build=${1:-$root/build-asan}
shift || true
if [ ! -f "$build/build.ninja" ]; then
  cc=(); command -v ccache >/dev/null && cc=(ccache)  # meson adds ccache only when CC is not set
  CC="${cc[*]} clang-14" CXX="${cc[*]} clang++-14" meson setup "$build" "$root" --wrap-mode=nofallback -Dfuzz=enabled -Dtests=enabled \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$build" >/dev/null
# LeakSanitizer runs at the exit of every test binary and of every tmcd the integration tests start:
# their fixture stops each daemon with SIGTERM and fails the test on any sanitizer report in its log.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C "$build" --print-errorlogs --num-processes 2 --suite unit --suite integration --timeout-multiplier 3 "$@"
