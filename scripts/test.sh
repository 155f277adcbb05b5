#!/usr/bin/env bash
# test.sh - the whole test suite, on a fresh machine: installs the real back-ends it needs
# (Debian's prometheus and alertmanager, PyPI's rotel collector and check-jsonschema), checks
# the runtime's layering, formatting and lints, runs every test of the workspace (unit,
# end-to-end including the deploy/ stack against a real Prometheus, trybuild UI cases, doc
# tests), each cargo feature on its own, packages the crates, then runs the README's example.
set -euo pipefail
cd "$(dirname "$0")/.."

# The installer's last line names the OpenTelemetry collector binary the tests start.
ROTEL_AGENT="$(bash scripts/install-backends.sh | tee /dev/stderr | sed -n 's/^ROTEL_AGENT=//p')"
export ROTEL_AGENT
# The monitoring stack's static checks: promtool, amtool, the Compose schema, cross-file checks.
bash scripts/check-deploy.sh
# The runtime's modules import downward only; the check proves first that it catches a cycle.
python3 scripts/check-layers.py --self-test
python3 scripts/check-layers.py
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
# Each optional part on its own, so none rots: the runtime with no optional feature, then with
# each one alone (lints and unit tests), and the facade without its defaults.
for features in "" otlp otlp-grpc sentry alert-http env-filter process privacy; do
    cargo clippy -p ws-observe-runtime --no-default-features --features "$features" --lib -- -D warnings
    cargo test -p ws-observe-runtime --no-default-features --features "$features" --lib
done
cargo clippy -p ws-observe --no-default-features --lib -- -D warnings
# The three crates package as they would be published (each built from its package). Cargo
# unpacks the packaged crates like downloaded ones and reuses an earlier unpacked copy of the
# same version, so a second run on a changed tree would verify the old sources: remove them.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/ws-observe-{macros-,runtime-,}[0-9]*
cargo package --workspace
bash scripts/smoke-echo.sh
