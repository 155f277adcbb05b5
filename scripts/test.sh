#!/usr/bin/env bash
# test.sh - the whole test suite, on a fresh machine: installs the real back-ends it needs
# (Debian's prometheus and alertmanager, PyPI's rotel collector and check-jsonschema), checks
# the deploy/ stack, formatting and lints, runs every test of the workspace (unit, end-to-end
# including the deploy/ stack against a real Prometheus, trybuild UI cases, doc tests), then
# runs the README's example.
set -euo pipefail
cd "$(dirname "$0")/.."

# The installer's last line names the OpenTelemetry collector binary the tests start.
ROTEL_AGENT="$(bash scripts/install-backends.sh | tee /dev/stderr | sed -n 's/^ROTEL_AGENT=//p')"
export ROTEL_AGENT
# The monitoring stack's static checks: promtool, amtool, the Compose schema, cross-file checks.
bash scripts/check-deploy.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# Every test, those that need the back-ends above (`#[ignore = "needs ..."]`) included. The
# `child_*` entries act only when their parent test runs them in a child process: skipped here
# by their exact names (the ignored tests named `child_*`) rather than counted as passing.
mapfile -t entries < <(cargo test --workspace -q -- --list --ignored 2>/dev/null |
  sed -n 's/^\(child_[A-Za-z0-9_]*\): test$/\1/p' | sort -u)
[ "${#entries[@]}" -gt 0 ] || { echo "test.sh: listing the child_* entries failed"; exit 1; }
skips=()
for entry in "${entries[@]}"; do skips+=(--skip "$entry"); done
echo "test.sh: ${#entries[@]} child_* entries run by their parents only"
cargo test --workspace -- --include-ignored --exact "${skips[@]}"
bash scripts/smoke-echo.sh
