#!/usr/bin/env bash
# Regenerates the checked-in manifests under config/ from the API schema definitions in code.
# Usage: scripts/generate-manifests.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
ninja -C "$build" src/cmd/tmcd/tmcd >/dev/null
"$build/src/cmd/tmcd/tmcd" generate crds --output-dir "$root"
"$build/src/cmd/tmcd/tmcd" generate apiresourceschemas --output-dir "$root"
"$build/src/cmd/tmcd/tmcd" generate api-reference --output-dir "$root"
echo "generated: $(cd "$root" && ls config/crds/*.yaml config/kcp/*.yaml config/kcp/v1alpha1/*.yaml docs/api-reference.md | tr '\n' ' ')"
