#!/usr/bin/env bash
# The package upgrade keeps data and configuration: installs OLD (a package built from an earlier
# commit whose store format is today's), runs it as user tmcd and writes objects, changes the
# configuration, upgrades to NEW, runs it and reads everything back with the same resourceVersions.
# Needs root. Usage: test/package/upgrade.sh OLD.deb NEW.deb   (docs/install.md#upgrades)
set -euo pipefail
old=$(readlink -f "$1")
new=$(readlink -f "$2")
fail() { echo "upgrade check: FAIL: $*" >&2; exit 1; }
ok() { echo "upgrade check: ok: $*"; }
[ "$(id -u)" -eq 0 ] || fail "needs root"
export DEBIAN_FRONTEND=noninteractive
if dpkg-query -W tmcd >/dev/null 2>&1; then dpkg --purge tmcd >/dev/null; fi
sock=/var/lib/tmcd/tmcd.sock
api() { curl -sf --unix-socket "$sock" "$@"; }

start() {  # as the service would run it, by hand (systemd is not PID 1 here)
  rm -f /var/lib/tmcd/port
  setpriv --reuid tmcd --regid tmcd --init-groups /usr/bin/tmcd --config /etc/tmcd/tmcd.yaml --listen 127.0.0.1:0 \
    --port-file /var/lib/tmcd/port > "/tmp/tmcd-upgrade-$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -s /var/lib/tmcd/port ] && return 0; sleep 0.2; done
  cat "/tmp/tmcd-upgrade-$1.log"
  fail "tmcd ($1) did not start"
}
stop() { kill -TERM "$pid"; wait "$pid" || fail "tmcd exited $? on SIGTERM"; }
state() {  # names and resourceVersions of every ConfigMap, and the Secret's data
  api "http://tmcd/api/v1/namespaces/default/configmaps" |
    python3 -c 'import json,sys; print(sorted((i["metadata"]["name"], i["metadata"]["resourceVersion"]) for i in json.load(sys.stdin)["items"]))'
  api "http://tmcd/api/v1/namespaces/default/secrets/db" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"])'
}

apt-get install -y -qq --no-install-recommends "$old" >/dev/null
ok "installed $(dpkg-query -W -f='${Version}' tmcd)"
start old
for i in $(seq 1 50); do
  api -X POST -H 'Content-Type: application/json' "http://tmcd/api/v1/namespaces/default/configmaps" \
    -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c$i\"},\"data\":{\"i\":\"$i\"}}" >/dev/null
done
api -X POST -H 'Content-Type: application/json' "http://tmcd/api/v1/namespaces/default/secrets" \
  -d '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"data":{"password":"aHVudGVyMg=="}}' >/dev/null
before=$(state)
stop
# The administrator's change to the conffile must survive the upgrade.
sed -i 's/^#  format: text$/  format: json/; s/^#logging:$/logging:/' /etc/tmcd/tmcd.yaml
grep -q '^  format: json' /etc/tmcd/tmcd.yaml || fail "could not edit the configuration"

apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "$new" >/dev/null
version=$(dpkg-query -W -f='${Version}' tmcd)
[ "$version" = "$(dpkg-deb -f "$new" Version)" ] || fail "upgrade did not install the new version ($version)"
grep -q '^  format: json' /etc/tmcd/tmcd.yaml || fail "the upgrade lost the configuration change"
grep -q '_dh_action=restart' /var/lib/dpkg/info/tmcd.postinst && grep -q 'deb-systemd-invoke $_dh_action' /var/lib/dpkg/info/tmcd.postinst ||
  fail "the new package does not restart the service after an upgrade"
ok "upgraded to $version; configuration kept; postinst restarts tmcd.service where systemd runs"
start new
head -1 "/tmp/tmcd-upgrade-new.log" | grep -q '^{"ts"' || fail "the kept configuration is not in effect (no JSON log)"
after=$(state)
[ "$before" = "$after" ] || fail "data changed across the upgrade: before $before after $after"
ok "the upgraded tmcd serves the same 50 objects with the same resourceVersions, and the Secret"
stop
dpkg --purge tmcd >/dev/null
ok "purged"
