#!/usr/bin/env bash
# Installs what vigil needs on a Debian machine. Idempotent: apt-get runs only for packages that
# are missing, so a second run changes nothing and needs no network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libsodium-dev libpugixml-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libasio-dev libreadline-dev libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  resource-agents fence-agents iproute2 procps curl
  apache2 net-tools iputils-ping
  lintian help2man  # the package test: lintian checks the .deb; help2man makes the manual pages
  # the tests check CIBs against Pacemaker's RelaxNG schema, and run its sample alert agents
  # (/usr/share/pacemaker/alerts/alert_file.sh.sample)
  libxml2-dev pacemaker-common
  pacemaker-resource-agents  # ocf:pacemaker:Stateful, the promotable clone of the notification test
  chromium  # headless, the status page's test (tests/daemon/status_page_test.cpp)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
