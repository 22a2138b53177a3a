#!/usr/bin/env bash
# Regenerates go.mod for the kube-apiserver/etcd/kube-controller-manager/kubectl wrapper at a chosen
# Kubernetes version. k8s.io/kubernetes requires its staging modules at v0.0.0 (resolved by local
# replaces that consumers do not see), so every v0.0.0 requirement is pinned to the published v0.X.Y.
set -euo pipefail
KVER=${1:?usage: gen-gomod.sh 1.35.4}
SVER="v0.${KVER#1.}"
cd "$(dirname "$0")"
rm -f go.mod go.sum
go mod init tmcd.local/testpeers/k8s >/dev/null
go mod edit -go=1.26.0
GOMOD=$(cd "$(mktemp -d)" && go mod download -json "k8s.io/kubernetes@v$KVER" |
  python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
go mod edit -require="k8s.io/kubernetes@v$KVER"
go mod edit -json "$GOMOD" | python3 -c '
import json,sys
for r in json.load(sys.stdin)["Require"]:
    if r["Version"]=="v0.0.0": print(r["Path"])' |
  while read -r m; do go mod edit -replace="$m=$m@$SVER"; done
for t in k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
         k8s.io/kubernetes/cmd/kubectl go.etcd.io/etcd/server/v3; do
  go mod edit -tool="$t"
done
go mod tidy
