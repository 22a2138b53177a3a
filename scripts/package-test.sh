#!/usr/bin/env bash
# The package test of scripts/test.sh: builds today's package (lintian-checked) and checks it
# installed (test/package/check.sh). Needs root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
rm -f "$root"/build-deb/tmcd_*.deb
"$root/scripts/package.sh"
new=$(ls "$root"/build-deb/tmcd_*.deb)
"$root/test/package/check.sh" "$new"
echo "package: built, checked in $(( $(date +%s) - start ))s"
