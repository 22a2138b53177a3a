#!/usr/bin/env bash
# Builds the real Kubernetes test peers from Go modules (never prebuilt binaries): etcd,
# kube-apiserver, kube-controller-manager and kubectl, at the version pinned in k8s/go.mod.
# Output: $TMCD_CACHE/peers/k8s-<version>/bin (default ~/.cache/tmcd). A stamp keyed by the hash of
# go.mod+go.sum makes a warm run a no-op. Go module and build caches also live under $TMCD_CACHE.
# Prints the bin directory on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${TMCD_CACHE:-$HOME/.cache/tmcd}
export GOMODCACHE=${GOMODCACHE:-$cache/gomod} GOCACHE=${GOCACHE:-$cache/gobuild} GOFLAGS=-modcacherw
export PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "build.sh: Go is required (Go 1.26 with the module proxy)" >&2; exit 1; }

kver=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$here/k8s/go.mod")
[ -n "$kver" ] || kver=$(grep -oE 'k8s.io/kubernetes v1\.[0-9.]+' "$here/k8s/go.mod" | head -1 | cut -d' ' -f2)
minor=$(echo "$kver" | cut -d. -f2)
bin="$cache/peers/k8s-${kver#v}/bin"
stamp="$bin/.stamp"
want=$(cat "$here/k8s/go.mod" "$here/k8s/go.sum" | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$bin"
ldf="-s -w -X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=1"
ldf="$ldf -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$kver"
ldf="$ldf -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
cd "$here/k8s"
for c in kube-apiserver kube-controller-manager kubectl; do
  start=$(date +%s)
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldf" -o "$bin/$c" "k8s.io/kubernetes/cmd/$c"
  echo "build.sh: $c built in $(( $(date +%s) - start ))s" >&2
done
start=$(date +%s)
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3
echo "build.sh: etcd built in $(( $(date +%s) - start ))s" >&2
echo "$want" >"$stamp"
echo "$bin"
