#!/usr/bin/env bash
# Installs the Debian packages brisk needs to build, test and run its demo.
# Does nothing when everything is present. Needs root (or sudo) only to install.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libopenblas-dev liblapacke-dev libcjson-dev
      zlib1g-dev libpng-dev dataset-fashion-mnist python3 python3-numpy python3-scipy)
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "brisk: missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "brisk: run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
