#!/usr/bin/env bash
# The package test of scripts/test.sh: builds today's package (lintian-checked) and checks it
# installed (test/package/check.sh), then builds the package of UPGRADE_FROM, an earlier commit with
# today's store format, and checks the upgrade from it (test/package/upgrade.sh). Needs root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The first commit with packaging/ (store format 1, as today). Move it forward when the store format
# changes, so the test keeps covering an upgrade whose store the new tmcd reads or migrates.
UPGRADE_FROM=${TMCD_UPGRADE_FROM:-1db5b7fb15b22faf937317387abfe56deaa31d16}
start=$(date +%s)
rm -f "$root"/build-deb/tmcd_*.deb
"$root/scripts/package.sh"
new=$(ls "$root"/build-deb/tmcd_*.deb)
"$root/test/package/check.sh" "$new"
if git -C "$root" cat-file -e "$UPGRADE_FROM^{commit}" 2>/dev/null; then
  # The old package is the same every run: built once, kept with the other caches.
  old_dir="${TMCD_CACHE:-$HOME/.cache/tmcd}/packages/$UPGRADE_FROM"
  if ! ls "$old_dir"/tmcd_*.deb >/dev/null 2>&1; then
    "$root/scripts/package.sh" --commit "$UPGRADE_FROM" --out "$old_dir"
  fi
  "$root/test/package/upgrade.sh" "$(ls "$old_dir"/tmcd_*.deb)" "$new"
else
  echo "package: the upgrade test needs commit $UPGRADE_FROM (a shallow clone lacks it)" >&2
  exit 1
fi
echo "package: built, checked and upgrade-tested in $(( $(date +%s) - start ))s"
