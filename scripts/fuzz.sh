#!/usr/bin/env bash
# libFuzzer targets of fuzz/ (docs/testing.md#fuzzing): builds them with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-asan/ (shared with scripts/sanitize.sh; ccache keeps rebuilds cheap) and runs one, or all, for
# SECONDS each on its checked-in seed corpus (fuzz/corpus/TARGET, read only) plus a scratch corpus.
# A finding stops the run, leaves the input in the scratch directory and exits non-zero: fix it and
# add the input to fuzz/corpus/TARGET.
# Usage: scripts/fuzz.sh TARGET|all SECONDS [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1  # fresh clones elsewhere hit the same cache
target=${1:?usage: scripts/fuzz.sh TARGET|all SECONDS [BUILD_DIR]}
seconds=${2:?usage: scripts/fuzz.sh TARGET|all SECONDS [BUILD_DIR]}
build=${3:-$root/build-asan}
targets=(fuzz_http_request fuzz_api_types fuzz_selectors fuzz_quantity fuzz_kubeconfig fuzz_watch_decoder fuzz_patch
  fuzz_protobuf fuzz_object_patch fuzz_custom_resources)
[ "$target" = all ] || targets=("$target")

if [ ! -f "$build/build.ninja" ]; then
  cc=(); command -v ccache >/dev/null && cc=(ccache)  # meson adds ccache only when CC is not set
  CC="${cc[*]} clang-14" CXX="${cc[*]} clang++-14" meson setup "$build" "$root" --wrap-mode=nofallback -Dfuzz=enabled -Dtests=enabled \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$build" "${targets[@]/#/fuzz/}" >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
scratch=$(mktemp -d "${TMPDIR:-/tmp}/tmcd-fuzz.XXXXXX")
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  echo "fuzz: $t for ${seconds}s"
  if ! "$build/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 -max_len=65536 -timeout=10 \
      -artifact_prefix="$scratch/$t/" "$scratch/$t" "$root/fuzz/corpus/$t" >"$scratch/$t.log" 2>&1; then
    tail -60 "$scratch/$t.log"
    echo "fuzz: $t found a problem; the input is in $scratch/$t/"
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$scratch/$t.log" | tr '\n' ' '
  echo
done
rm -rf "$scratch"
