#!/usr/bin/env bash
# Stops what up.sh or kcp-up.sh started in DIR (kwok, schedulers, controller-managers, apiservers, etcd, kcp), waiting for
# each to exit.
set -uo pipefail
dir=${1:?usage: down.sh DIR}
stop() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
}
for f in "$dir"/cluster-*/kwok.pid "$dir"/cluster-*/scheduler.pid "$dir"/cluster-*/controller-manager.pid "$dir"/cluster-*/apiserver.pid "$dir"/etcd.pid "$dir"/kcp.pid; do
  stop "$f"
done
echo "down.sh: stopped peers in $dir"
