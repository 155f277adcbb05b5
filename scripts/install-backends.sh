#!/usr/bin/env bash
# install-backends.sh - install the real back-ends the test suite talks to, from Debian's
# packages: prometheus (promtool) and prometheus-alertmanager (amtool).
#
# Idempotent: with everything present it does no apt work. Starts nothing: the packages'
# post-install scripts would start daemons listening on 0.0.0.0, so a policy-rc.d that denies
# service starts is put in place for the install (if the image has none) and removed after.
# Needs root or sudo (CI runs as root).
set -euo pipefail

PKGS=(prometheus prometheus-alertmanager)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-backends: installing ${missing[*]}"
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  cleanup() { if [ "$created_policy" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup EXIT
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
fi

promtool --version 2>&1 | sed -n 1p
amtool --version 2>&1 | sed -n 1p
