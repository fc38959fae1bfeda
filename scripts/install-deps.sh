#!/usr/bin/env bash
# Installs the Debian packages Snorky needs to build and test, only those
# missing, so `make` is quick once a machine is set up.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libtomlplusplus-dev libcli11-dev libjwt-dev libhiredis-dev libssl-dev
  openssl  # the tests make their own certificate authority
  zlib1g-dev  # permessage-deflate
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server curl python3
  # make package (CPack's Debian generator finds library dependencies with dpkg-shlibdeps).
  dpkg-dev
  chromium
  # The Django integration (clients/python/snorky/backend/django) and its example.
  python3-django python3-djangorestframework python3-django-cors-headers
)
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
