# Sourced by the benchmarks that compare tmcd with a real kube-apiserver on the same machine. Fair by
# construction: both servers over TLS, both clients with a bearer token of the non-superuser `bench`,
# whom each server authorizes through RBAC (a RoleBinding in `default`).
# bench_env_start BUILD KUBE_CLUSTERROLE TMCD_CLUSTERROLE starts one kube peer and tmcd (TMC=false) in a
# temp dir removed on exit, and sets: work server kubectl ktoken ttoken tmcd tmcd_pid kpid sock.
bench_env_start() {
  local build=$1 kube_role=$2 tmcd_role=$3 root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  work=$(mktemp -d)
  trap 'bench_env_stop' EXIT
  "$root/test/peers/up.sh" "$work/peers" 1 >/dev/null
  server=$(cat "$work/peers/cluster-1/server")
  kpid=$(cat "$work/peers/cluster-1/apiserver.pid")
  kubectl="$("$root/test/peers/build.sh")/kubectl --kubeconfig $work/peers/cluster-1/kubeconfig"
  $kubectl create serviceaccount bench -n default >/dev/null
  $kubectl create rolebinding bench -n default --clusterrole "$kube_role" --serviceaccount default:bench >/dev/null
  ktoken=$($kubectl create token bench -n default --duration 2h)
  ttoken=$(openssl rand -hex 24)
  echo "$ttoken,bench,1000" >"$work/tokens.csv"
  chmod 600 "$work/tokens.csv"
  "$build/src/cmd/tmcd/tmcd" --data-dir "$work/data" --listen 127.0.0.1:0 --port-file "$work/port" \
    --token-auth-file "$work/tokens.csv" --log-level warn --feature-gates TMC=false >"$work/tmcd.log" 2>&1 &
  tmcd_pid=$!
  for _ in $(seq 1 100); do [ -s "$work/port" ] && [ -S "$work/data/tmcd.sock" ] && break; sleep 0.05; done
  tmcd="https://127.0.0.1:$(cat "$work/port")"
  sock=(--unix-socket "$work/data/tmcd.sock")
  curl -sf -o /dev/null "${sock[@]}" -XPOST http://tmcd/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings \
    -H 'Content-Type: application/json' -d '{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding",
    "metadata":{"name":"bench"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole",
    "name":"'"$tmcd_role"'"},"subjects":[{"kind":"User","name":"bench"}]}'
}

bench_env_stop() {
  [ -n "${tmcd_pid:-}" ] && kill "$tmcd_pid" 2>/dev/null
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  "$root/test/peers/down.sh" "$work/peers" >/dev/null
  rm -rf "$work"
}

# "min/median/max" of the numbers on stdin.
bench_min_med_max() { sort -g | awk '{ v[NR] = $1 } END { printf "%s/%s/%s", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
