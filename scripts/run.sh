#!/usr/bin/env bash
# Builds tmcd and runs it in the foreground on its embedded default, next to real local Kubernetes
# clusters (kube-apiserver + controller-manager built from Go modules), registered and Ready.
# Security is on: TLS on 127.0.0.1:7080 with tmcd's own CA, an administrator kubeconfig in
# $TMCD_RUN_DIR/admin.kubeconfig, and the Unix socket $TMCD_RUN_DIR/data/tmcd.sock for curl.
# Ctrl-C stops tmcd, then the clusters. State lives in $TMCD_RUN_DIR (default ~/.local/share/tmcd-dev).
# Usage: scripts/run.sh [N_CLUSTERS] [extra tmcd flags...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2}
shift || true
run_dir=${TMCD_RUN_DIR:-$HOME/.local/share/tmcd-dev}
build=${TMCD_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"
[ -f "$build/build.ninja" ] || meson setup "$build" --wrap-mode=nofallback
ninja -C "$build" src/cmd/tmcd/tmcd src/cmd/tmcctl/tmcctl

mkdir -p "$run_dir"
"$root/test/peers/up.sh" "$run_dir/clusters" "$n"
cleanup() { "$root/test/peers/down.sh" "$run_dir/clusters"; }
trap cleanup EXIT

echo
echo "Local clusters (kubeconfigs for kubectl and for ClusterRegistrations):"
for i in $(seq 1 "$n"); do echo "  cluster-$i: $(cat "$run_dir/clusters/cluster-$i/server")  $run_dir/clusters/cluster-$i/kubeconfig"; done
echo "kubectl: $("$root/test/peers/build.sh")/kubectl"
tmcd="$build/src/cmd/tmcd/tmcd"
# The clusters are new on every run (new etcd, new identities): so is tmcd's state, or its old
# registrations would point at clusters that no longer exist.
rm -rf "$run_dir/data"
"$tmcd" kubeconfig --data-dir "$run_dir/data" --user admin --group system:masters >"$run_dir/admin.kubeconfig"
chmod 600 "$run_dir/admin.kubeconfig"
echo "Starting tmcd (embedded mode, data in $run_dir/data); Ctrl-C to stop."
echo "  kubectl --kubeconfig $run_dir/admin.kubeconfig get clusterregistrations"
echo "  curl -s --unix-socket $run_dir/data/tmcd.sock http://tmcd/apis/tmc.kcp.io/v1alpha1/clusterregistrations"
echo
# tmcd runs in the foreground (not exec) so that the trap can stop the clusters afterwards.
"$tmcd" --data-dir "$run_dir/data" "$@" &
tmcd_pid=$!
trap 'kill -TERM $tmcd_pid 2>/dev/null' INT TERM
"$root/scripts/register-local-clusters.sh" "$run_dir/data/tmcd.sock" "$run_dir/clusters" "$n" ||
  echo "run.sh: registering the local clusters failed; tmcd keeps running"
wait $tmcd_pid || true
wait $tmcd_pid 2>/dev/null || true
