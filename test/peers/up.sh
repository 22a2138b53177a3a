#!/usr/bin/env bash
# Starts N real "physical clusters" on loopback: one etcd, and per cluster a kube-apiserver (own
# --etcd-prefix, static token auth, OS-probed free ports) plus a kube-controller-manager so that
# Deployments get ReplicaSets and real status. Unless TMCD_KWOK=0, each cluster also gets a
# kube-scheduler, kwok (fake kubelets: Pods become Running and Ready, Job Pods Succeeded) and one
# kwok Node "kwok-<i>" with capacity cpu 16, memory 64Gi, pods 110 (label tmcd.test/kwok=true), so that
# Deployments become Available, StatefulSets Ready and Jobs Complete for real. Waits for /readyz, the
# default namespace and the Node's Ready condition.
# Usage: up.sh DIR [N]   → DIR/cluster-<i>/kubeconfig, DIR/cluster-<i>/{server,token}, DIR/etcd-url,
#                           DIR/clusters.env (TMCD_CLUSTER_<i>_SERVER/_TOKEN/_KUBECONFIG), DIR/*.pid
# PodTemplates bypass the watch cache (so their watches hit etcd and a compacted revision is a
# real 410, which client tests need). Stop with down.sh DIR. On failure everything started so far is stopped again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: up.sh DIR [N]}
n=${2:-2}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin=$("$here/build.sh")
kwok=${TMCD_KWOK:-1}
[ "$kwok" = 0 ] || kwokbin=$("$here/build.sh" kwok)
trap '"$here/down.sh" "$dir" >/dev/null 2>&1 || true' ERR

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_for() {  # url token seconds
  local deadline=$(( $(date +%s) + $3 ))
  until curl -skf -H "Authorization: Bearer $2" "$1" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "up.sh: $1 not ready after $3s" >&2; return 1; }
    sleep 0.5
  done
}

[ -f "$dir/sa.key" ] || { openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null && openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null; }
token=$(openssl rand -hex 16)
echo "$token,tmcd-admin,uid-admin,\"system:masters\"" >"$dir/tokens.csv"

ep=$(free_port); pp=$(free_port)
"$bin/etcd" --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$ep" \
  --advertise-client-urls "http://127.0.0.1:$ep" --listen-peer-urls "http://127.0.0.1:$pp" \
  --initial-advertise-peer-urls "http://127.0.0.1:$pp" --initial-cluster "default=http://127.0.0.1:$pp" \
  --unsafe-no-fsync --log-level warn >"$dir/etcd.log" 2>&1 &
echo $! >"$dir/etcd.pid"
echo "http://127.0.0.1:$ep" >"$dir/etcd-url"  # tests compact etcd through its JSON gateway to force 410s
wait_for "http://127.0.0.1:$ep/health" "" 60

: >"$dir/clusters.env"
for i in $(seq 1 "$n"); do
  c="$dir/cluster-$i"
  mkdir -p "$c"
  port=$(free_port)
  "$bin/kube-apiserver" --etcd-servers="http://127.0.0.1:$ep" --etcd-prefix="/cluster-$i" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$port" --cert-dir="$c/certs" \
    --service-cluster-ip-range=10.0.0.0/24 --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$dir/sa.pub" --service-account-signing-key-file="$dir/sa.key" \
    --token-auth-file="$dir/tokens.csv" --authorization-mode=RBAC --disable-admission-plugins=ServiceAccount \
    --allow-privileged=true --watch-cache-sizes=podtemplates#0 --v=1 >"$c/apiserver.log" 2>&1 &
  echo $! >"$c/apiserver.pid"
  server="https://127.0.0.1:$port"
  cat >"$c/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: cluster-$i, cluster: {server: "$server", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: "$token"}}]
contexts: [{name: cluster-$i, context: {cluster: cluster-$i, user: admin}}]
current-context: cluster-$i
KC
  echo "$server" >"$c/server"
  echo "$token" >"$c/token"
  printf 'TMCD_CLUSTER_%s_SERVER=%s\nTMCD_CLUSTER_%s_TOKEN=%s\nTMCD_CLUSTER_%s_KUBECONFIG=%s\n' \
    "$i" "$server" "$i" "$token" "$i" "$c/kubeconfig" >>"$dir/clusters.env"
done
for i in $(seq 1 "$n"); do
  c="$dir/cluster-$i"
  wait_for "$(cat "$c/server")/readyz" "$token" 120
  wait_for "$(cat "$c/server")/api/v1/namespaces/default" "$token" 60
  "$bin/kube-controller-manager" --kubeconfig="$c/kubeconfig" --authentication-kubeconfig="$c/kubeconfig" \
    --authorization-kubeconfig="$c/kubeconfig" --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
    --controllers='*,-serviceaccount-token' --use-service-account-credentials=false \
    --cert-dir="$c/kcm-certs" --v=1 >"$c/controller-manager.log" 2>&1 &
  echo $! >"$c/controller-manager.pid"
  [ "$kwok" = 0 ] && continue
  "$bin/kube-scheduler" --kubeconfig="$c/kubeconfig" --authentication-kubeconfig="$c/kubeconfig" \
    --authorization-kubeconfig="$c/kubeconfig" --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
    --v=1 >"$c/scheduler.log" 2>&1 &
  echo $! >"$c/scheduler.pid"
  "$kwokbin/kwok" --kubeconfig="$c/kubeconfig" -c "$kwokbin/stages.yaml" \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake --cidr="10.$((100 + i)).0.0/16" \
    --node-ip=127.0.0.1 --server-address= >"$c/kwok.log" 2>&1 &
  echo $! >"$c/kwok.pid"
  "$bin/kubectl" --kubeconfig="$c/kubeconfig" apply -f - >/dev/null <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-$i
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: kwok-$i, tmcd.test/kwok: "true"}
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110"}
  capacity: {cpu: "16", memory: 64Gi, pods: "110"}
NODE
done
if [ "$kwok" != 0 ]; then
  for i in $(seq 1 "$n"); do
    c="$dir/cluster-$i"
    "$bin/kubectl" --kubeconfig="$c/kubeconfig" wait --for=condition=Ready "node/kwok-$i" --timeout=120s >/dev/null
  done
fi
trap - ERR
echo "up.sh: $n clusters ready in $dir (kubeconfigs: $dir/cluster-*/kubeconfig)"
