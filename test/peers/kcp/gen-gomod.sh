#!/usr/bin/env bash
# Regenerates go.mod/go.sum for the kcp wrapper at a kcp release: requires github.com/kcp-dev/kcp,
# points kcp's local ./sdk replace at its published nested module, and copies kcp's own replace
# list (its Kubernetes fork) from kcp's go.mod, read from the module proxy.
# Why v0.27.1 (see docs/testing.md): the proxy here refuses github.com/kcp-dev/virtual-workspace-framework,
# which every kcp >= 0.31 needs, and serves kcp v0.27.1 with its nested sdk module.
# The kcp-dev modules are not in the checksum database, hence GONOSUMDB; `tidy -e` because one
# module is referenced only by a dependency's tests and is not served.
set -euo pipefail
ver=${1:-v0.27.1}
cd "$(dirname "$0")"
export GONOSUMDB='github.com/kcp-dev/*' GOFLAGS=-modcacherw
kcp_gomod=$(go mod download -json "github.com/kcp-dev/kcp@$ver" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
rm -f go.mod go.sum
go mod init tmcd.local/testpeers/kcp >/dev/null 2>&1
go mod edit -go=1.26.0 -require="github.com/kcp-dev/kcp@$ver" -tool=github.com/kcp-dev/kcp/cmd/kcp \
  -replace="github.com/kcp-dev/kcp/sdk=github.com/kcp-dev/kcp/sdk@$ver"
go mod edit -json "$kcp_gomod" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    if r["New"].get("Version"):
        print(r["Old"]["Path"] + "=" + r["New"]["Path"] + "@" + r["New"]["Version"])' |
  while read -r rep; do go mod edit -replace="$rep"; done
go mod tidy -e
