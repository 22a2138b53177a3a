#!/usr/bin/env bash
# Builds tmcd and runs it in the foreground on its embedded default, next to real local Kubernetes
# clusters (kube-apiserver + controller-manager built from Go modules) for it to sync to.
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
ninja -C "$build" src/cmd/tmcd/tmcd

mkdir -p "$run_dir"
"$root/test/peers/up.sh" "$run_dir/clusters" "$n"
cleanup() { "$root/test/peers/down.sh" "$run_dir/clusters"; }
trap cleanup EXIT

echo
echo "Local clusters (kubeconfigs for kubectl and for ClusterRegistrations):"
for i in $(seq 1 "$n"); do echo "  cluster-$i: $(cat "$run_dir/clusters/cluster-$i/server")  $run_dir/clusters/cluster-$i/kubeconfig"; done
echo "kubectl: $("$root/test/peers/build.sh")/kubectl"
echo "Starting tmcd (embedded mode, data in $run_dir/data); Ctrl-C to stop."
echo
# tmcd runs in the foreground (not exec) so that the trap can stop the clusters afterwards.
"$build/src/cmd/tmcd/tmcd" --data-dir "$run_dir/data" "$@" &
tmcd_pid=$!
trap 'kill -TERM $tmcd_pid 2>/dev/null' INT TERM
wait $tmcd_pid || true
wait $tmcd_pid 2>/dev/null || true
