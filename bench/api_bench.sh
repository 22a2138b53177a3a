#!/usr/bin/env bash
# GET and LIST throughput, latency and RSS: tmcd's local API against a real kube-apiserver holding the
# same 100 ConfigMaps, on the same machine, in one run. Fair by construction: both sides are served
# over TLS, both clients authenticate with a bearer token of a user that is NOT a superuser, and both
# servers authorize every request with RBAC through a RoleBinding (kube: ServiceAccount `bench` bound to
# `view`; tmcd: token user `bench` bound to `tmc:viewer`). Same client binary, same thread count.
# Rounds alternate between the servers; ratios (tmcd / apiserver) are reported as min / median / max.
# Usage: bench/api_bench.sh [BUILD_DIR] [SECONDS] [THREADS] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
secs=${2:-5}
threads=${3:-4}
rounds=${4:-5}
# shellcheck source=bench/bench_env.sh
source "$root/bench/bench_env.sh"
bench_env_start "$build" view tmc:viewer
admin=$(cat "$work/peers/cluster-1/token")
body() { printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%s"},"data":{"k":"%0512d"}}' "$1" 0; }
for i in $(seq 1 100); do
  curl -sf -o /dev/null "${sock[@]}" -XPOST http://tmcd/api/v1/namespaces/default/configmaps \
    -H 'Content-Type: application/json' -d "$(body "$i")"
  curl -skf -o /dev/null -XPOST "$server/api/v1/namespaces/default/configmaps" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d "$(body "$i")"
done
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $secs s x $threads threads x $rounds rounds"
printf '%-22s %12s %12s %10s %10s %20s\n' what kube_req/s tmcd_req/s kube_p99us tmcd_p99us 'ratio min/med/max'
for kind in get list list-rv0; do
  path=/api/v1/namespaces/default/configmaps
  [ "$kind" = get ] && path=$path/cm-50
  [ "$kind" = list-rv0 ] && path="$path?resourceVersion=0"  # kube-apiserver from its watch cache
  ratios=() ; kr=() ; tr=() ; kp=() ; tp=()
  for r in $(seq 1 "$rounds"); do
    read -r k_rps _ k_p99 k_err < <("$build/bench/api_bench" "$server" "$path" "$secs" "$threads" "$ktoken")
    read -r t_rps _ t_p99 t_err < <("$build/bench/api_bench" "$tmcd" "$path" "$secs" "$threads" "$ttoken")
    [ "$k_err" = 0 ] && [ "$t_err" = 0 ] || echo "round $r $kind: errors kube=$k_err tmcd=$t_err" >&2
    ratios+=("$(awk -v a="$t_rps" -v b="$k_rps" 'BEGIN { printf "%.2f", a / b }')")
    kr+=("$k_rps"); tr+=("$t_rps"); kp+=("$k_p99"); tp+=("$t_p99")
  done
  med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  mm=$(printf '%s\n' "${ratios[@]}" | bench_min_med_max)
  printf '%-22s %12s %12s %10s %10s %20s\n' "$kind" "$(med "${kr[@]}")" "$(med "${tr[@]}")" "$(med "${kp[@]}")" \
    "$(med "${tp[@]}")" "$mm"
done
echo "RSS kube-apiserver $(rss "$kpid") KiB, tmcd $(rss "$tmcd_pid") KiB;" \
  "ratio $(awk -v a="$(rss "$tmcd_pid")" -v b="$(rss "$kpid")" 'BEGIN { printf "%.3f", a / b }')"
