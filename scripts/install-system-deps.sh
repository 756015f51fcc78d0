#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium for Playwright (its own browser download is not
# possible here) and zbar to decode QR codes. Idempotent: does nothing when they are present.
set -euo pipefail
packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
ldconfig -p 2>/dev/null | grep -q libzbar.so || packages+=(libzbar0)
[ ${#packages[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "Installing Debian packages: ${packages[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
