#!/usr/bin/env bash
# Builds tmcd-clientgo-check (client-go from the Go module proxy) into the peer cache and prints its path.
# A stamp keyed by go.mod, go.sum and the sources makes a warm run a no-op; the Go caches are the peers'.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${TMCD_CACHE:-$HOME/.cache/tmcd}
export GOMODCACHE=${GOMODCACHE:-$cache/gomod} GOCACHE=${GOCACHE:-$cache/gobuild} GOFLAGS=-modcacherw
export PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "clientgo/build.sh: Go is required" >&2; exit 1; }
want=$(cat "$here/go.mod" "$here/go.sum" "$here"/*.go | sha256sum | cut -c1-16)
out="$cache/peers/clientgo-$want/tmcd-clientgo-check"
if [ ! -x "$out" ]; then
  mkdir -p "$(dirname "$out")"
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -o "$out.tmp" . && mv "$out.tmp" "$out")
fi
echo "$out"
