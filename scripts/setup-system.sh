#!/usr/bin/env bash
# Installs the Debian packages the project needs when they are missing. Idempotent: a second run only
# asks dpkg. Without root it prints the apt-get command to run instead of failing half-way.
set -euo pipefail
packages=(python3-venv mosquitto chromium chromium-driver postgresql mtools dosfstools poppler-utils nginx-light fonts-dejavu-core
  gettext nodejs)
# cloud-init: only its schema checker, for the tests of the user-data `congress flash` writes.
packages+=(cloud-init)
# npm ships inside some nodejs builds (NodeSource); Debian packages it apart.
command -v npm >/dev/null 2>&1 || packages+=(npm)
# --pi: what `make test-pi` needs to build and run an emulated arm64 Raspberry Pi OS root.
[ "${1:-}" = "--pi" ] && packages=(debootstrap qemu-user-static)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
  apt-get update -qq
  apt-get install -y --no-install-recommends "${missing[@]}"
}
# cloud-init is installed for its schema checker only: it must not configure this machine at boot.
if [[ " ${missing[*]} " == *" cloud-init "* ]]; then touch /etc/cloud/cloud-init.disabled; fi
# The Debian package starts a broker on port 1883; the project starts its own brokers and never uses it.
