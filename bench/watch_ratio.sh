#!/usr/bin/env bash
# Watch fan-out against a real kube-apiserver: N watch streams on one collection of each server, one
# ConfigMap created per round, the time until each stream has delivered its event. Fair by construction
# (bench/bench_env.sh): both servers over TLS, both clients with a bearer token of the non-superuser
# `bench`, authorized by RBAC (kube: `edit`, tmcd: `tmc:tenant`); the same client (build/bench/watch_bench:
# one epoll thread, every stream its own TLS connection over HTTP/1.1, so neither server multiplexes
# streams), the same N. Runs alternate between the servers; each run also measures 1 watcher. Prints each
# run's median / p99 per server and the p99 ratio (kube / tmcd: above 1, tmcd delivers sooner) as
# min / median / max, and how much each server's peak RSS (VmHWM) grew over all runs.
# Usage: bench/watch_ratio.sh [BUILD_DIR] [N] [ROUNDS] [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
n=${2:-1000}
rounds=${3:-20}
runs=${4:-3}
# shellcheck source=bench/bench_env.sh
source "$root/bench/bench_env.sh"
bench_env_start "$build" edit tmc:tenant
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
k0=$(hwm "$kpid")
t0=$(hwm "$tmcd_pid")
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $n watchers x $rounds rounds x $runs runs, TLS + token + RBAC on both sides"
printf '%-6s %-28s %-28s %10s\n' run 'kube 1 / N: median p99 ms' 'tmcd 1 / N: median p99 ms' 'p99 ratio'
ratios=()
one() {  # SERVER_URL TOKEN: "median1 p99_1 medianN p99N delivered" of one watch_bench run
  local port=${1##*:}
  WATCH_TLS=1 TMCD_TOKEN=$2 "$build/bench/watch_bench" 127.0.0.1 "$port" "$n" "$rounds" default |
    awk 'NR == 2 { m1 = $(NF-2); p1 = $(NF-1) } NR == 3 { print m1, p1, $(NF-2), $(NF-1), $4 }'
}
for r in $(seq 1 "$runs"); do
  read -r km1 kp1 kmn kpn kdel < <(one "$server" "$ktoken")
  read -r tm1 tp1 tmn tpn tdel < <(one "$tmcd" "$ttoken")
  for d in "$kdel" "$tdel"; do
    [ "${d%/*}" = "${d#*/}" ] || echo "run $r: events missed (delivered/expected: kube $kdel, tmcd $tdel)" >&2
  done
  ratio=$(awk -v k="$kpn" -v t="$tpn" 'BEGIN { printf "%.2f", k / t }')
  ratios+=("$ratio")
  printf '%-6s %-28s %-28s %10s\n' "$r" "$km1 $kp1 / $kmn $kpn ($kdel)" "$tm1 $tp1 / $tmn $tpn ($tdel)" "$ratio"
done
echo "p99 ratio at $n watchers (kube / tmcd) min/med/max: $(printf '%s\n' "${ratios[@]}" | bench_min_med_max)"
echo "peak RSS growth over the runs: kube-apiserver $(( $(hwm "$kpid") - k0 )) KiB, tmcd $(( $(hwm "$tmcd_pid") - t0 )) KiB"
