#!/usr/bin/env bash
# Restarts the kcp that kcp-up.sh started in DIR (same command line, ports and root directory, so
# its kubeconfig keeps pointing at it; kcp issues new admin tokens, though) to test that tmcd's informers recover: stops it (SIGTERM, then
# SIGKILL after 10 s), optionally waits DOWN seconds, starts it again and waits for /readyz.
# Usage: restart-kcp.sh DIR [DOWN]
set -euo pipefail
dir=${1:?usage: restart-kcp.sh DIR [DOWN]}
pid=$(cat "$dir/kcp.pid")
mapfile -d '' cmd <"/proc/$pid/cmdline"
kill "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -9 "$pid" 2>/dev/null || true
sleep "${2:-0}"
"${cmd[@]}" >>"$dir/kcp.log" 2>&1 &
echo $! >"$dir/kcp.pid"
server=$(awk '/server:/ {print $2; exit}' "$dir/kcp/admin.kubeconfig" | sed 's#/clusters/.*##')
for _ in $(seq 1 360); do
  # kcp writes admin.kubeconfig again with new tokens when it starts: read the current one.
  token=$(awk '/token:/ {print $2; exit}' "$dir/kcp/admin.kubeconfig")
  curl -skf -H "Authorization: Bearer $token" "$server/readyz" >/dev/null 2>&1 && exit 0
  sleep 0.5
done
echo "restart-kcp.sh: kcp not ready after 180 s (log: $dir/kcp.log)" >&2
exit 1
