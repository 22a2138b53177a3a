#!/usr/bin/env bash
# Builds the real test peers from Go modules (never prebuilt binaries).
#   build.sh [k8s]  etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl at the version in
#                   k8s/go.mod
#   build.sh kcp    kcp at the version in kcp/go.mod
#   build.sh prometheus  prometheus and promtool at the version in prometheus/go.mod, without the cloud
#                   service discoveries (tag remove_all_sd: tests scrape static targets)
#   build.sh jaeger Jaeger (v2: an OpenTelemetry Collector with Jaeger's storage and query API) at the
#                   version in jaeger/go.mod; the tracing test receives tmcd's OTLP spans with it
#   build.sh kwok   kwok (fake Nodes and kubelets) at the version in kwok/go.mod, with its "fast" node and
#                   Pod stages (and the node heartbeat) from the same module as bin/stages.yaml
# Output: $TMCD_CACHE/peers/<name>-<version>/bin (default ~/.cache/tmcd). A stamp keyed by the hash of
# go.mod+go.sum makes a warm run a no-op. Go module and build caches also live under $TMCD_CACHE.
# Prints the bin directory on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${TMCD_CACHE:-$HOME/.cache/tmcd}
export GOMODCACHE=${GOMODCACHE:-$cache/gomod} GOCACHE=${GOCACHE:-$cache/gobuild} GOFLAGS=-modcacherw
export PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "build.sh: Go is required (Go 1.26 with the module proxy)" >&2; exit 1; }

if [ "${1:-k8s}" = kcp ]; then
  kcpver=$(awk '$1 == "github.com/kcp-dev/kcp" { print $2; exit }' "$here/kcp/go.mod")
  [ -n "$kcpver" ] || kcpver=$(grep -oE 'github.com/kcp-dev/kcp v[0-9.]+' "$here/kcp/go.mod" | head -1 | cut -d' ' -f2)
  kbin="$cache/peers/kcp-${kcpver#v}/bin"
  kwant=$(cat "$here/kcp/go.mod" "$here/kcp/go.sum" | sha256sum | cut -c1-16)
  if [ -f "$kbin/.stamp" ] && [ "$(cat "$kbin/.stamp")" = "$kwant" ]; then echo "$kbin"; exit 0; fi
  mkdir -p "$kbin"
  base=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$here/kcp/go.mod")
  [ -n "$base" ] || base=$(grep -oE 'k8s.io/kubernetes v1\.[0-9.]+' "$here/kcp/go.mod" | head -1 | cut -d' ' -f2)
  kv="$base+kcp-$kcpver"   # kcp's convention; never a bare kcp tag (the emulation version check fails)
  kminor=$(echo "$base" | cut -d. -f2)
  kldf="-s -w -X k8s.io/component-base/version.gitVersion=$kv -X k8s.io/component-base/version.gitMajor=1"
  kldf="$kldf -X k8s.io/component-base/version.gitMinor=$kminor -X k8s.io/client-go/pkg/version.gitVersion=$kv"
  kldf="$kldf -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$kminor"
  start=$(date +%s)
  (cd "$here/kcp" && GONOSUMDB='github.com/kcp-dev/*' CGO_ENABLED=0 go build -trimpath -ldflags "$kldf" \
    -o "$kbin/kcp" github.com/kcp-dev/kcp/cmd/kcp)
  echo "build.sh: kcp $kcpver built in $(( $(date +%s) - start ))s" >&2
  echo "$kwant" >"$kbin/.stamp"
  echo "$kbin"
  exit 0
fi

# One peer from one Go module: go_peer NAME MODULE [GO BUILD FLAGS...] -- COMMAND... builds each
# MODULE/cmd/COMMAND at the version NAME/go.mod requires into $cache/peers/NAME-VERSION/bin (stamped).
go_peer() {
  local name=$1 module=$2 flags=() ver bin want start c
  shift 2
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  ver=$(awk -v m="$module" '$1 == "require" && $2 == m { print $3; exit }' "$here/$name/go.mod")
  bin="$cache/peers/$name-${ver#v}/bin"
  want=$(cat "$here/$name/go.mod" "$here/$name/go.sum" | sha256sum | cut -c1-16)
  if [ -f "$bin/.stamp" ] && [ "$(cat "$bin/.stamp")" = "$want" ]; then echo "$bin"; return 0; fi
  mkdir -p "$bin"
  start=$(date +%s)
  for c in "$@"; do
    (cd "$here/$name" && CGO_ENABLED=0 go build -trimpath "${flags[@]}" -ldflags "-s -w" -o "$bin/$c" "$module/cmd/$c")
  done
  echo "build.sh: $name $ver built in $(( $(date +%s) - start ))s" >&2
  echo "$want" >"$bin/.stamp"
  echo "$bin"
}

if [ "${1:-k8s}" = prometheus ]; then
  go_peer prometheus github.com/prometheus/prometheus -tags remove_all_sd -- prometheus promtool
  exit 0
fi

if [ "${1:-k8s}" = jaeger ]; then
  go_peer jaeger github.com/jaegertracing/jaeger -- jaeger
  exit 0
fi

if [ "${1:-k8s}" = kwok ]; then
  wver=$(awk '$1 == "require" && $2 == "sigs.k8s.io/kwok" { print $3; exit }' "$here/kwok/go.mod")
  [ -n "$wver" ] || wver=$(grep -oE 'sigs.k8s.io/kwok v[0-9.]+' "$here/kwok/go.mod" | head -1 | cut -d' ' -f2)
  wbin="$cache/peers/kwok-${wver#v}/bin"
  wwant=$(cat "$here/kwok/go.mod" "$here/kwok/go.sum" | sha256sum | cut -c1-16)
  if [ -f "$wbin/.stamp" ] && [ "$(cat "$wbin/.stamp")" = "$wwant" ]; then echo "$wbin"; exit 0; fi
  mkdir -p "$wbin"
  start=$(date +%s)
  (cd "$here/kwok" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$wbin/kwok" sigs.k8s.io/kwok/cmd/kwok)
  stages="$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
  for f in "$stages"/node/fast/node-initialize.yaml "$stages"/node/heartbeat/node-heartbeat.yaml \
    "$stages"/pod/fast/pod-ready.yaml "$stages"/pod/fast/pod-complete.yaml "$stages"/pod/fast/pod-delete.yaml; do
    echo '---'
    cat "$f"
  done >"$wbin/stages.yaml"
  echo "build.sh: kwok $wver built in $(( $(date +%s) - start ))s" >&2
  echo "$wwant" >"$wbin/.stamp"
  echo "$wbin"
  exit 0
fi

kver=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$here/k8s/go.mod")
[ -n "$kver" ] || kver=$(grep -oE 'k8s.io/kubernetes v1\.[0-9.]+' "$here/k8s/go.mod" | head -1 | cut -d' ' -f2)
minor=$(echo "$kver" | cut -d. -f2)
bin="$cache/peers/k8s-${kver#v}/bin"
stamp="$bin/.stamp"
binaries="kube-apiserver kube-controller-manager kube-scheduler kubectl"
want=$( (cat "$here/k8s/go.mod" "$here/k8s/go.sum"; echo "$binaries") | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$bin"
ldf="-s -w -X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=1"
ldf="$ldf -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$kver"
ldf="$ldf -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
cd "$here/k8s"
for c in $binaries; do
  start=$(date +%s)
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldf" -o "$bin/$c" "k8s.io/kubernetes/cmd/$c"
  echo "build.sh: $c built in $(( $(date +%s) - start ))s" >&2
done
start=$(date +%s)
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3
echo "build.sh: etcd built in $(( $(date +%s) - start ))s" >&2
echo "$want" >"$stamp"
echo "$bin"
