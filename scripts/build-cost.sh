#!/usr/bin/env bash
# build-cost.sh - what a minimal program pays to build with ws-observe, side by side with the
# same program written by hand with `prometheus` and tracing-subscriber's JSON output.
#
# Both programs are generated in a scratch directory and built cold (each its own target dir,
# release profile), one after the other in one run; the script prints each one's crate count
# (units cargo compiled), wall time and binary size, and the ratios. The minimal program is
# `#[ws_observe]` on one function plus `runtime::init()`, with `default-features = false`
# (metrics, logs, the WebSocket wrapper), and, for reference, with the default features.
#
#   scripts/build-cost.sh            # all three builds
#   BUILD_COST_SKIP_DEFAULT=1 ...    # only the two compared builds
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

write_project() { # name, dependencies, main.rs
    mkdir -p "$scratch/$1/src"
    printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2024"\n\n[dependencies]\n%s\n' \
        "$1" "$2" >"$scratch/$1/Cargo.toml"
    printf '%s\n' "$3" >"$scratch/$1/src/main.rs"
    # Share the workspace's lock file, so both sides build the same versions.
    cp "$root/Cargo.lock" "$scratch/$1/Cargo.lock"
}

hand_main='use prometheus::{IntCounterVec, Opts, Registry, TextEncoder};

fn parse(text: &str, calls: &IntCounterVec) -> Result<u32, std::num::ParseIntError> {
    let _span = tracing::info_span!("parse").entered();
    let result = text.parse();
    let outcome = if result.is_ok() { "ok" } else { "error" };
    calls.with_label_values(&["parse", outcome]).inc();
    result
}

fn main() {
    tracing_subscriber::fmt().json().init();
    let registry = Registry::new();
    let calls = IntCounterVec::new(Opts::new("calls_total", "Calls."), &["handler", "outcome"]).unwrap();
    registry.register(Box::new(calls.clone())).unwrap();
    let _ = parse("42", &calls);
    println!("{}", TextEncoder::new().encode_to_string(&registry.gather()).unwrap());
}'
observed_main='use ws_observe::{runtime, ws_observe};

#[ws_observe]
fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _telemetry = runtime::init()?;
    let _ = parse("42");
    println!("{}", runtime::render());
    Ok(())
}'
prometheus_version="$(sed -n 's/^prometheus = { version = "\([^"]*\)".*/\1/p' "$root/Cargo.toml")"
tracing_version="$(sed -n 's/^tracing = "\([^"]*\)"/\1/p' "$root/Cargo.toml")"
subscriber_version="$(sed -n 's/^tracing-subscriber = { version = "\([^"]*\)".*/\1/p' "$root/Cargo.toml")"
write_project hand_written \
    "prometheus = \"$prometheus_version\"
tracing = \"$tracing_version\"
tracing-subscriber = { version = \"$subscriber_version\", features = [\"json\"] }" "$hand_main"
write_project minimal "ws-observe = { path = \"$root\", default-features = false }" "$observed_main"
write_project defaults "ws-observe = { path = \"$root\" }" "$observed_main"

# Fetch first, so download time is not build time.
for project in hand_written minimal defaults; do
    (cd "$scratch/$project" && cargo fetch --quiet)
done

declare -A crates seconds bytes
build() {
    local project="$1" start end
    start=$(date +%s.%N)
    (cd "$scratch/$project" && CARGO_TARGET_DIR="$scratch/target-$project" \
        cargo build --release --message-format=json 2>/dev/null) >"$scratch/$project.json"
    end=$(date +%s.%N)
    crates[$project]=$(grep -c '"reason":"compiler-artifact"' "$scratch/$project.json")
    seconds[$project]=$(echo "$end - $start" | bc)
    bytes[$project]=$(stat -c %s "$scratch/target-$project/release/$project")
    printf '%-14s %4d crates  %7.1f s  %6.1f MB\n' "$project" "${crates[$project]}" \
        "${seconds[$project]}" "$(echo "${bytes[$project]} / 1000000" | bc -l)"
}
echo "cold release builds on $(nproc) cores, $(date -u +%F):"
build hand_written
build minimal
printf 'minimal / hand_written: %.2fx crates, %.2fx build time, %.2fx binary size\n' \
    "$(echo "${crates[minimal]} / ${crates[hand_written]}" | bc -l)" \
    "$(echo "${seconds[minimal]} / ${seconds[hand_written]}" | bc -l)" \
    "$(echo "${bytes[minimal]} / ${bytes[hand_written]}" | bc -l)"
if [ -z "${BUILD_COST_SKIP_DEFAULT:-}" ]; then
    build defaults
fi
