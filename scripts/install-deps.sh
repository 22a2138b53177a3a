#!/usr/bin/env bash
# Installs everything tmcd needs to build, lint and test on Debian 12, from Debian's packages only.
# Idempotent: packages already present are skipped quickly. Called by the README and by .ci/run.
set -euo pipefail

packages=(
  build-essential pkg-config meson ninja-build git ca-certificates curl openssl
  librocksdb-dev libzstd-dev liblz4-dev libsnappy-dev libbz2-dev zlib1g-dev
  libcpp-httplib-dev libssl-dev libbrotli-dev libsimdjson-dev nlohmann-json3-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev prometheus-cpp-dev libcli11-dev doctest-dev libsystemd-dev
  clang-format clang-tidy python3 python3-venv
  clang-14 libclang-rt-14-dev ccache gdb
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} Debian packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
