#!/usr/bin/env bash
# install-backends.sh - install the real back-ends the test suite talks to: from Debian's
# packages, prometheus (promtool) and prometheus-alertmanager (amtool); from PyPI, `rotel`, a
# Rust OpenTelemetry collector whose wheel ships its binary (only pre-releases exist), and
# `check-jsonschema` and `PyYAML` for the deploy/ checks.
#
# The venv lives in $WS_OBSERVE_BACKENDS_DIR (default ~/.cache/ws-observe-backends); the
# path of its `rotel-agent` binary is printed last, as `ROTEL_AGENT=...`.
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

BACKENDS_DIR="${WS_OBSERVE_BACKENDS_DIR:-$HOME/.cache/ws-observe-backends}"
VENV="$BACKENDS_DIR/venv"
if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$BACKENDS_DIR"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import rotel' 2>/dev/null; then
  "$VENV/bin/pip" install -q --disable-pip-version-check --pre 'rotel==0.0.1a15'
fi
# For scripts/check-deploy.sh and tests/deploy/: the Compose Specification schema check
# (its schema ships in the wheel, so it works offline) and a YAML parser for the deploy/ configs.
if ! "$VENV/bin/python" -c 'import yaml' 2>/dev/null || [ ! -x "$VENV/bin/check-jsonschema" ]; then
  "$VENV/bin/pip" install -q --disable-pip-version-check 'check-jsonschema==0.39.0' 'PyYAML==6.0.3'
fi
ROTEL_AGENT="$("$VENV/bin/python" -c 'import rotel, os; print(os.path.join(os.path.dirname(rotel.__file__), "rotel-agent"))')"
"$ROTEL_AGENT" --version
echo "ROTEL_AGENT=$ROTEL_AGENT"
