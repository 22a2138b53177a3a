#!/usr/bin/env bash
# Server-side apply throughput: tmcd's local API against a real kube-apiserver, same machine, same run.
# The client is one client-go binary (test/clientgo, bench-apply) for both sides: TLS, a bearer token of
# a non-superuser authorized by RBAC on both (kube: ServiceAccount bench bound to edit; tmcd: token user
# bench bound to tmc:tenant), the same number of requests in flight. Per round, N ConfigMaps are created
# by apply (manager a), re-applied unchanged, extended by manager b, and taken over by b with force.
# Rounds alternate between the servers; ratios (tmcd / kube ops/s) are min / median / max.
# Usage: bench/apply_bench.sh [BUILD_DIR] [N] [PARALLEL] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
n=${2:-100}
parallel=${3:-4}
rounds=${4:-5}
client=$("$root/test/clientgo/build.sh")
# shellcheck source=bench/bench_env.sh
source "$root/bench/bench_env.sh"
bench_env_start "$build" edit tmc:tenant
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo);" \
  "$n ConfigMaps x $parallel in flight x $rounds rounds (fsync on both: tmcd's default, etcd's default)"
declare -A k t
for r in $(seq 1 "$rounds"); do
  while read -r phase _ ops errs; do
    [ "$errs" = 0 ] || echo "round $r kube $phase: $errs errors" >&2
    k[$phase]+="$ops "
  done < <("$client" bench-apply "$server" "$ktoken" default "r$r" "$n" "$parallel" | grep -v "^ok ")
  while read -r phase _ ops errs; do
    [ "$errs" = 0 ] || echo "round $r tmcd $phase: $errs errors" >&2
    t[$phase]+="$ops "
  done < <("$client" bench-apply "$tmcd" "$ttoken" default "r$r" "$n" "$parallel" | grep -v "^ok ")
done
med() { printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-16s %12s %12s %20s\n' phase kube_ops/s tmcd_ops/s 'ratio min/med/max'
for phase in create reapply second-manager force; do
  read -r -a ka <<<"${k[$phase]}"
  read -r -a ta <<<"${t[$phase]}"
  ratios=()
  for i in "${!ka[@]}"; do ratios+=("$(awk -v a="${ta[$i]}" -v b="${ka[$i]}" 'BEGIN { printf "%.2f", a / b }')"); done
  mm=$(printf '%s\n' "${ratios[@]}" | bench_min_med_max)
  printf '%-16s %12s %12s %20s\n' "$phase" "$(med "${k[$phase]}")" "$(med "${t[$phase]}")" "$mm"
done
