#!/usr/bin/env bash
# GET and LIST throughput, latency and RSS: tmcd's local API against a real kube-apiserver holding the
# same 100 ConfigMaps, on the same machine, in one run. Prints a table with ratios (tmcd / apiserver).
# Usage: bench/api_bench.sh [BUILD_DIR] [SECONDS] [THREADS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
secs=${2:-5}
threads=${3:-4}
work=$(mktemp -d)
cleanup() { [ -n "${tmcd_pid:-}" ] && kill "$tmcd_pid" 2>/dev/null; "$root/test/peers/down.sh" "$work/peers" >/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$root/test/peers/up.sh" "$work/peers" 1 >/dev/null
server=$(cat "$work/peers/cluster-1/server")
token=$(cat "$work/peers/cluster-1/token")
"$build/src/cmd/tmcd/tmcd" --data-dir "$work/data" --listen 127.0.0.1:0 --port-file "$work/port" \
  --log-level warn >"$work/tmcd.log" 2>&1 &
tmcd_pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.05; done
tmcd="http://127.0.0.1:$(cat "$work/port")"
kpid=$(cat "$work/peers/cluster-1/apiserver.pid")
body() { printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%s"},"data":{"k":"%0512d"}}' "$1" 0; }
for i in $(seq 1 100); do
  curl -sf -o /dev/null -XPOST "$tmcd/api/v1/namespaces/default/configmaps" -H 'Content-Type: application/json' -d "$(body "$i")"
  curl -skf -o /dev/null -XPOST "$server/api/v1/namespaces/default/configmaps" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "$(body "$i")"
done
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
printf '%-26s %10s %10s %10s %10s %8s\n' what req/s median_us p99_us rss_kib ratio
for kind in get list; do
  path=/api/v1/namespaces/default/configmaps
  [ "$kind" = get ] && path=$path/cm-50
  read -r k_rps k_med k_p99 _ < <("$build/bench/api_bench" "$server" "$path" "$secs" "$threads" "$token")
  read -r t_rps t_med t_p99 _ < <("$build/bench/api_bench" "$tmcd" "$path" "$secs" "$threads")
  printf '%-26s %10s %10s %10s %10s %8s\n' "kube-apiserver $kind" "$k_rps" "$k_med" "$k_p99" "$(rss "$kpid")" 1.00
  printf '%-26s %10s %10s %10s %10s %8.2f\n' "tmcd $kind" "$t_rps" "$t_med" "$t_p99" "$(rss "$tmcd_pid")" \
    "$(awk -v a="$t_rps" -v b="$k_rps" 'BEGIN { print a / b }')"
done
echo "RSS ratio (tmcd / kube-apiserver): $(awk -v a="$(rss "$tmcd_pid")" -v b="$(rss "$kpid")" 'BEGIN { printf "%.3f", a / b }')"
