#!/usr/bin/env bash
# Restarts cluster I's kube-apiserver (same command line, same port, same etcd prefix) to test that
# clients survive a server restart: stops it, starts it again, waits for /readyz.
# Usage: restart-apiserver.sh DIR I
set -euo pipefail
dir=${1:?usage: restart-apiserver.sh DIR I}
c="$dir/cluster-${2:?usage: restart-apiserver.sh DIR I}"
pid=$(cat "$c/apiserver.pid")
mapfile -d '' cmd <"/proc/$pid/cmdline"
kill "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null || true
"${cmd[@]}" >>"$c/apiserver.log" 2>&1 &
echo $! >"$c/apiserver.pid"
token=$(cat "$c/token")
for _ in $(seq 1 240); do
  curl -skf -H "Authorization: Bearer $token" "$(cat "$c/server")/readyz" >/dev/null 2>&1 && exit 0
  sleep 0.5
done
echo "restart-apiserver.sh: $c not ready after 120 s" >&2
exit 1
