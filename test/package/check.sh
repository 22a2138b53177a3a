#!/usr/bin/env bash
# Installs tmcd's .deb on this machine, checks it, runs the installed tmcd as user tmcd with the
# installed configuration, talks to it with the installed tmcctl and curl, stops it, then purges the
# package and checks that nothing is left but what Debian's policy keeps (the system user).
# Needs root (CI runs as root). Usage: test/package/check.sh build-deb/tmcd_*.deb
# docs/install.md describes what is checked; docs/testing.md#package where it runs.
set -euo pipefail
deb=$(readlink -f "$1")
fail() { echo "package check: FAIL: $*" >&2; exit 1; }
ok() { echo "package check: ok: $*"; }
[ "$(id -u)" -eq 0 ] || fail "needs root (dpkg -i)"
if dpkg-query -W tmcd >/dev/null 2>&1; then dpkg --purge tmcd >/dev/null; fi

export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
ok "installed $(dpkg-query -W -f='${Package} ${Version}' tmcd)"

# What the package put in place.
id tmcd >/dev/null || fail "no user tmcd"
[ "$(stat -c '%U %a' /var/lib/tmcd)" = "tmcd 700" ] || fail "/var/lib/tmcd: $(stat -c '%U %a' /var/lib/tmcd)"
grep -qx /etc/tmcd/tmcd.yaml /var/lib/dpkg/info/tmcd.conffiles || fail "/etc/tmcd/tmcd.yaml is not a conffile"
# The conffile is the default configuration, every setting commented out: uncommented, it is what
# --print-default-config prints.
diff <(sed -e 's/^#\([^ ]\)/\1/' -e 's/^#\(   *[^# ]\)/\1/' /etc/tmcd/tmcd.yaml) <(/usr/bin/tmcd --print-default-config) ||
  fail "/etc/tmcd/tmcd.yaml is not the commented default configuration"
[ -z "$(grep -v '^[[:space:]]*#' /etc/tmcd/tmcd.yaml | grep -v '^$' || true)" ] || fail "a setting in /etc/tmcd/tmcd.yaml is not commented"
for page in "1 tmcctl" "8 tmcd" "5 tmcd.yaml"; do
  set -- $page
  file=$(man -w "$1" "$2") || fail "man $1 $2 not installed"
  warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$file" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "man $1 $2 renders with warnings: $warnings"
done
ok "man pages render: tmcctl(1) tmcd(8) tmcd.yaml(5)"
unit=/lib/systemd/system/tmcd.service
systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
exposure=$(systemd-analyze security --offline=true --threshold=20 "$unit" 2>&1 | sed -n 's/.*Overall exposure level for tmcd.service: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] || fail "systemd-analyze security: over 2.0 or no figure"
ok "unit verified; exposure $exposure (at most 2.0)"

# Run it as user tmcd with the installed configuration (systemd is not PID 1 here, so by hand, with
# setpriv, which execs tmcd itself so that the signal below reaches it: the
# unit's RuntimeDirectory is replaced by the data directory, which is where `auto` puts the socket).
port_file=/var/lib/tmcd/port
setpriv --reuid tmcd --regid tmcd --init-groups /usr/bin/tmcd --config /etc/tmcd/tmcd.yaml --listen 127.0.0.1:0 --port-file "$port_file" \
  > /tmp/tmcd-package.log 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.2; done
[ -s "$port_file" ] || { cat /tmp/tmcd-package.log; fail "tmcd did not start"; }
port=$(cat "$port_file")
[ "$(ps -o user= -p "$pid")" = tmcd ] || fail "tmcd does not run as user tmcd"
curl -sf --cacert /var/lib/tmcd/pki/ca.crt "https://localhost:$port/readyz" >/dev/null || fail "/readyz over TLS"
[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert /var/lib/tmcd/pki/ca.crt \
      "https://localhost:$port/api/v1/namespaces/default/secrets")" = 401 ] || fail "anonymous read not refused"
# The installed CLI over the Unix socket (root is an administrator there).
tmcctl --socket /var/lib/tmcd/tmcd.sock version | grep -q "^Server Version: v" || fail "tmcctl version"
tmcctl --socket /var/lib/tmcd/tmcd.sock cluster list >/dev/null || fail "tmcctl cluster list"
# An administrator kubeconfig, as docs/install.md shows, and a write with it.
tmcd kubeconfig --config /etc/tmcd/tmcd.yaml --user admin --group system:masters \
  --server "https://localhost:$port" > /tmp/tmcd-admin.kubeconfig
tmcctl --kubeconfig /tmp/tmcd-admin.kubeconfig placement list -A >/dev/null || fail "tmcctl with a kubeconfig"
ok "serves its API as user tmcd on port $port (TLS, 401 for anonymous, tmcctl over socket and kubeconfig)"
kill -TERM "$pid"
wait "$pid" || fail "tmcd exited with $? on SIGTERM"
ok "stopped cleanly"

dpkg --purge tmcd >/dev/null
left=()
for p in /usr/bin/tmcd /usr/bin/tmcctl /etc/tmcd /var/lib/tmcd /var/log/tmcd "$unit" \
         /usr/lib/sysusers.d/tmcd.conf /usr/lib/tmpfiles.d/tmcd.conf /usr/share/doc/tmcd; do
  [ ! -e "$p" ] || left+=("$p")
done
[ "${#left[@]}" -eq 0 ] || fail "left after purge: ${left[*]}"
! dpkg-query -W tmcd >/dev/null 2>&1 || fail "dpkg still knows tmcd"
ok "purged: nothing left but the system user tmcd (kept, as policy asks)"
