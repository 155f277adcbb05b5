//! Per-call overhead of `#[ws_observe]`, side by side with what a user would otherwise pick:
//! a bare function, hand-written `prometheus` metrics with pre-resolved handles,
//! `#[tracing::instrument]`, and `#[autometrics]` (prometheus-client backend). Each with no
//! subscriber, then with ws-observe's JSON log layer (what `runtime::init()` installs) writing
//! to `io::sink()`, then with `tracing-subscriber`'s own JSON formatter for comparison.
//!
//! `cargo bench --bench overhead`; ratios are in BENCHMARKS.md. Absolute times on a shared
//! machine mean little: compare within one run.

use std::hint::black_box;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use prometheus::{Histogram, HistogramOpts, IntCounter, IntGauge};
use tracing::Dispatch;

#[derive(Debug)]
struct BenchError;

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bench error")
    }
}

impl std::error::Error for BenchError {}

#[inline(never)]
fn bare(x: u64) -> Result<u64, BenchError> {
    if x == u64::MAX {
        Err(BenchError)
    } else {
        Ok(x.wrapping_mul(3))
    }
}

/// What a careful user writes by hand: handles resolved once, counter + histogram + gauge.
struct HandMetrics {
    ok: IntCounter,
    error: IntCounter,
    duration: Histogram,
    in_flight: IntGauge,
}

static HAND: LazyLock<HandMetrics> = LazyLock::new(|| HandMetrics {
    ok: IntCounter::new("hand_calls_ok_total", "ok calls").unwrap(),
    error: IntCounter::new("hand_calls_error_total", "error calls").unwrap(),
    duration: Histogram::with_opts(HistogramOpts::new("hand_duration_seconds", "duration"))
        .unwrap(),
    in_flight: IntGauge::new("hand_in_flight", "in flight").unwrap(),
});

#[inline(never)]
fn hand_written(x: u64) -> Result<u64, BenchError> {
    let metrics = &*HAND;
    metrics.in_flight.inc();
    let start = Instant::now();
    let result = bare(x);
    metrics.duration.observe(start.elapsed().as_secs_f64());
    match result {
        Ok(_) => metrics.ok.inc(),
        Err(_) => metrics.error.inc(),
    }
    metrics.in_flight.dec();
    result
}

#[inline(never)]
#[ws_observe::ws_observe]
fn observed(x: u64) -> Result<u64, BenchError> {
    bare(x)
}

#[inline(never)]
#[tracing::instrument(skip_all)]
fn instrumented(x: u64) -> Result<u64, BenchError> {
    bare(x)
}

/// `#[tracing::instrument]` as most people write it: it records the arguments.
#[inline(never)]
#[tracing::instrument]
fn instrumented_with_args(x: u64) -> Result<u64, BenchError> {
    bare(x)
}

#[inline(never)]
#[tracing::instrument(skip_all)]
fn hand_written_and_instrumented(x: u64) -> Result<u64, BenchError> {
    hand_written(x)
}

#[inline(never)]
#[autometrics::autometrics]
fn autometricised(x: u64) -> Result<u64, BenchError> {
    bare(x)
}

/// ws-observe's JSON layer, as `runtime::init()` installs it (minus the non-blocking queue).
fn ws_observe_json(level: tracing::Level) -> Dispatch {
    use tracing_subscriber::layer::SubscriberExt;
    let layer = ws_observe::runtime::logs::JsonLayer::new(std::io::sink, "bench");
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(tracing_subscriber::filter::LevelFilter::from_level(level));
    Dispatch::new(subscriber)
}

/// `tracing-subscriber`'s own JSON formatter.
fn fmt_json(level: tracing::Level) -> Dispatch {
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_writer(std::io::sink)
        .finish();
    Dispatch::new(subscriber)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_call");
    group.warm_up_time(Duration::from_millis(800));
    group.measurement_time(Duration::from_secs(2));
    let mut input = 0u64;
    let mut next = move || {
        input = input.wrapping_add(1);
        black_box(input)
    };

    // No subscriber at all: the span is disabled.
    group.bench_function("bare", |b| b.iter(|| bare(next())));
    group.bench_function("hand_written_prometheus", |b| {
        b.iter(|| hand_written(next()))
    });
    group.bench_function("ws_observe/no_subscriber", |b| b.iter(|| observed(next())));
    group.bench_function("tracing_instrument/no_subscriber", |b| {
        b.iter(|| instrumented(next()))
    });
    group.bench_function("autometrics", |b| b.iter(|| autometricised(next())));

    // A JSON subscriber whose level filters the handler span out.
    let filtered = ws_observe_json(tracing::Level::WARN);
    tracing::dispatcher::with_default(&filtered, || {
        group.bench_function("ws_observe/span_filtered_out", |b| {
            b.iter(|| observed(next()))
        });
    });

    // The same JSON subscriber for every contender, span enabled.
    for (subscriber, dispatch) in [
        ("ws_observe_json", ws_observe_json(tracing::Level::INFO)),
        ("fmt_json", fmt_json(tracing::Level::INFO)),
    ] {
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(format!("ws_observe/{subscriber}"), |b| {
                b.iter(|| observed(next()))
            });
            group.bench_function(format!("tracing_instrument_skip_all/{subscriber}"), |b| {
                b.iter(|| instrumented(next()))
            });
            group.bench_function(format!("tracing_instrument_args/{subscriber}"), |b| {
                b.iter(|| instrumented_with_args(next()))
            });
            group.bench_function(
                format!("hand_written_prometheus+instrument/{subscriber}"),
                |b| b.iter(|| hand_written_and_instrumented(next())),
            );
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
