//! The single-variant mode `scripts/echo-instructions.sh` runs under valgrind:
//! `WS_BENCH_ONLY=<variant>` makes the bench serve `WS_BENCH_ECHOES` echoes (default 20 000) of
//! that variant and nothing else, so the server thread's instruction count is that variant's.

use std::time::Duration;

/// The variant `WS_BENCH_ONLY` names, if it is set.
pub fn requested() -> Option<String> {
    std::env::var("WS_BENCH_ONLY").ok()
}

/// Runs the variant named `only` (one of `names`) alone: `run(index, iterations)` serves
/// enough iterations of `per_iteration` echoes for `WS_BENCH_ECHOES` and returns the wall
/// time. Prints how many echoes took how long.
pub fn run_only(
    only: &str,
    names: &[&str],
    per_iteration: u64,
    run: impl FnOnce(usize, u64) -> Duration,
) {
    let index = names
        .iter()
        .position(|name| *name == only)
        .unwrap_or_else(|| panic!("WS_BENCH_ONLY={only}: not a variant name"));
    let echoes: u64 = std::env::var("WS_BENCH_ECHOES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let iterations = echoes.div_ceil(per_iteration);
    let wall = run(index, iterations);
    println!(
        "{}: {} echoes in {wall:?}",
        names[index],
        iterations * per_iteration
    );
}
