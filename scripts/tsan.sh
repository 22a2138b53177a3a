#!/usr/bin/env bash
# The unit and integration suites under ThreadSanitizer (clang), in build-tsan/: the store, work queues,
# controllers, informers, the epoll HTTP server with its watch streams and the daemon's threads run for
# real there. Any report fails the run (halt_on_error); findings in tmcd are fixed, not suppressed — the
# only suppressions (test/tsan.supp) are for third-party code built without TSan, each justified
# (docs/testing.md#sanitizers). ccache, outside the work tree, keeps CI's fresh clones cheap.
# Usage: scripts/tsan.sh [BUILD_DIR] [meson test args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
build=${1:-$root/build-tsan}
shift || true
if [ ! -f "$build/build.ninja" ]; then
  cc=(); command -v ccache >/dev/null && cc=(ccache)
  CC="${cc[*]} clang-14" CXX="${cc[*]} clang++-14" meson setup "$build" "$root" --wrap-mode=nofallback \
    -Dtests=enabled -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$build" >/dev/null
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/test/tsan.supp"
meson test -C "$build" --print-errorlogs --num-processes 2 --suite unit --suite integration --no-rebuild \
  --timeout-multiplier 5 "$@"
