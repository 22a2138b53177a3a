#!/usr/bin/env bash
# Registers the local clusters started by test/peers/up.sh with a running tmcd, through its Unix
# socket (the caller's uid is an administrator there), and waits until each is Ready.
# Usage: register-local-clusters.sh SOCKET CLUSTERS_DIR N   (idempotent: existing objects are kept)
set -euo pipefail
sock=$1
dir=$2
n=$3
api() { curl -sS --unix-socket "$sock" "$@"; }
for _ in $(seq 1 100); do [ -S "$sock" ] && api http://tmcd/readyz >/dev/null 2>&1 && break; sleep 0.1; done
# Create, or bring up to date (up.sh picks new ports and tokens on every start): merge-patch first,
# create when the object does not exist yet.
upsert() {  # collection-URL name JSON
  code=$(api -o /dev/null -w '%{http_code}' -XPATCH -H 'Content-Type: application/merge-patch+json' "$1/$2" -d "$3")
  [ "$code" = 404 ] && code=$(api -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' "$1" -d "$3")
  case "$code" in 2*) ;; *) echo "register-local-clusters: $1/$2: HTTP $code" >&2; return 1 ;; esac
}
for i in $(seq 1 "$n"); do
  c="$dir/cluster-$i"
  upsert http://tmcd/api/v1/namespaces/tmc/secrets "cluster-$i" '{"apiVersion":"v1","kind":"Secret",
    "metadata":{"name":"cluster-'"$i"'","namespace":"tmc"},"data":{"token":"'"$(base64 -w0 <"$c/token")"'"}}'
  upsert http://tmcd/apis/tmc.kcp.io/v1alpha1/clusterregistrations "cluster-$i" '{"apiVersion":"tmc.kcp.io/v1alpha1",
    "kind":"ClusterRegistration","metadata":{"name":"cluster-'"$i"'"},"spec":{"location":"local",
    "endpoint":{"server":"'"$(cat "$c/server")"'","caBundle":"'"$(base64 -w0 <"$c/certs/apiserver.crt")"'"},
    "credentialsRef":{"namespace":"tmc","name":"cluster-'"$i"'"}}}'
done
for i in $(seq 1 "$n"); do
  for _ in $(seq 1 120); do
    ready=$(api "http://tmcd/apis/tmc.kcp.io/v1alpha1/clusterregistrations/cluster-$i" |
      python3 -c 'import json,sys; d=json.load(sys.stdin)
print(next((c["status"] for c in d.get("status",{}).get("conditions",[]) if c["type"]=="Ready"), "Unknown"))')
    [ "$ready" = True ] && break
    sleep 0.5
  done
  echo "cluster-$i: Ready=$ready"
done
