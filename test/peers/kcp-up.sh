#!/usr/bin/env bash
# Starts one real kcp (built by build.sh kcp) on loopback with OS-probed ports and its embedded etcd;
# waits for /readyz. Writes DIR/kcp/admin.kubeconfig (contexts: root = kcp-admin in root,
# shard-base = shard-admin without a workspace prefix, for wildcard requests) and DIR/kcp.pid.
# Stop with down.sh DIR. Usage: kcp-up.sh DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: kcp-up.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin=$("$here/build.sh" kcp)
trap '"$here/down.sh" "$dir" >/dev/null 2>&1 || true' ERR
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
port=$(free_port)
# --external-hostname: without it kcp v0.27 advertises the machine's first address in workspace URLs.
"$bin/kcp" start --root-directory "$dir/kcp" --bind-address 127.0.0.1 --external-hostname 127.0.0.1 \
  --secure-port "$port" --embedded-etcd-client-port "$(free_port)" --embedded-etcd-peer-port "$(free_port)" \
  --batteries-included=admin,user,workspace-types >"$dir/kcp.log" 2>&1 &
echo $! >"$dir/kcp.pid"
deadline=$(( $(date +%s) + 180 ))
until [ -f "$dir/kcp/admin.kubeconfig" ] && \
      curl -skf "https://127.0.0.1:$port/readyz" \
        -H "Authorization: Bearer $(awk '/token:/ {print $2; exit}' "$dir/kcp/admin.kubeconfig")" >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ] || ! kill -0 "$(cat "$dir/kcp.pid")" 2>/dev/null; then
    echo "kcp-up.sh: kcp not ready (log: $dir/kcp.log)" >&2
    tail -20 "$dir/kcp.log" >&2
    exit 1
  fi
  sleep 1
done
trap - ERR
echo "kcp-up.sh: kcp ready at https://127.0.0.1:$port (kubeconfig: $dir/kcp/admin.kubeconfig)"
