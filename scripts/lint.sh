#!/usr/bin/env bash
# Lint gate: file sizes, clang-format, clang-tidy, the generated metrics reference. Non-zero exit on any finding.
# Usage: scripts/lint.sh [BUILD_DIR]   (BUILD_DIR must hold compile_commands.json for clang-tidy)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cd "$root"
fail=0

# Generated or data files do not count toward the size rule.
generated='(^|/)(go\.sum|package-lock\.json|.*\.lock)$|^config/(crds|kcp)/|^test/data/|^test/.*/golden/'
mapfile -t sources < <(git ls-files --cached --others --exclude-standard |
  grep -E '\.(cc|h|cpp|hpp|c|py|go|sh)$|(^|/)meson\.build$' | grep -Ev "$generated")
for f in "${sources[@]}"; do
  [ -f "$f" ] || continue
  n=$(wc -l <"$f")
  if [ "$n" -gt 800 ]; then echo "lint: $f has $n lines (limit 800)"; fail=1; fi
done

mapfile -t cxx < <(printf '%s\n' "${sources[@]}" | grep -E '\.(cc|h)$')
if ! clang-format --dry-run --Werror "${cxx[@]}" 2>/tmp/tmcd-format.$$; then
  head -40 /tmp/tmcd-format.$$
  echo "lint: clang-format differences (fix with: clang-format -i <files>)"
  fail=1
fi
rm -f /tmp/tmcd-format.$$

if ! python3 scripts/metrics-reference.py --check; then fail=1; fi

if [ -f "$build/compile_commands.json" ]; then
  mapfile -t tidy < <(printf '%s\n' "${cxx[@]}" | grep -E '^src/.*\.cc$')
  # Files clean in an identical state before (same preprocessed text, config and clang-tidy) are skipped.
  out=$(python3 scripts/tidy-cached.py "$build" "${tidy[@]}")
  if echo "$out" | grep -qE '(warning|error):'; then
    echo "$out" | grep -E '(warning|error):' -A3 | head -60
    echo "lint: clang-tidy findings"
    fail=1
  fi
else
  echo "lint: no $build/compile_commands.json; clang-tidy skipped"
  fail=1
fi

[ "$fail" -eq 0 ] && echo "lint: clean (${#sources[@]} files)"
exit "$fail"
