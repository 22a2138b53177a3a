#!/usr/bin/env bash
# Store events decoded per commit by the controllers' sources (docs/performance.md "Shared store
# informer"): starts tmcd in embedded mode with every controller, creates N ConfigMaps and N Deployments
# through the Unix socket, and reports tmcd_controller_store_events_decoded_total per store revision
# (commits plus the objects listed at start) next to the number of subscriptions, which is what every
# event cost when each source ran its own list + watch.
# Usage: bench/store_events_bench.sh [BUILD_DIR] [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
n=${2:-500}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
"$build/src/cmd/tmcd/tmcd" --data-dir "$work/data" --listen 127.0.0.1:0 --port-file "$work/port" \
  --log-level info >"$work/tmcd.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do [ -S "$work/data/tmcd.sock" ] && grep -q 'controllers started' "$work/tmcd.log" && break; sleep 0.05; done
api() { curl -sf -o /dev/null --unix-socket "$work/data/tmcd.sock" -H 'Content-Type: application/json' "$@"; }
metric() { curl -sf --unix-socket "$work/data/tmcd.sock" http://tmcd/metrics | awk -v m="$1" '$1 == m { print $2 }'; }
before=$(metric tmcd_controller_store_events_decoded_total)
for i in $(seq 1 "$n"); do
  api -XPOST http://tmcd/api/v1/namespaces/bench/configmaps \
    -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c'"$i"'"},"data":{"k":"v"}}'
  api -XPOST http://tmcd/apis/apps/v1/namespaces/bench/deployments -d '{"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"d'"$i"'"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":
    {"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}'
done
sleep 2  # the metric is refreshed every second
after=$(metric tmcd_controller_store_events_decoded_total)
subs=$(grep -o 'controllers started ([0-9]* sources' "$work/tmcd.log" | grep -o '[0-9]* sources' | cut -d' ' -f1)
commits=$((2 * n))
python3 -c "
d = float('$after') - float('$before')
print(f'commits: $commits  decoded: {d:.0f}  per commit: {d / $commits:.2f}  subscriptions: $subs '
      f'(one list + watch each before: $subs decodes per commit)')"
