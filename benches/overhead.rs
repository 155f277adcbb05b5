//! Per-call overhead of `#[ws_observe]`, side by side with what a user would otherwise pick:
//! a bare function, hand-written `prometheus` metrics with pre-resolved handles,
//! `#[tracing::instrument]`, and `#[autometrics]` (prometheus-client backend). Each with no
//! subscriber, then with a JSON `tracing-subscriber` layer writing to `io::sink()`.
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

fn json_dispatch(level: tracing::Level) -> Dispatch {
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
    let filtered = json_dispatch(tracing::Level::WARN);
    tracing::dispatcher::with_default(&filtered, || {
        group.bench_function("ws_observe/span_filtered_out", |b| {
            b.iter(|| observed(next()))
        });
    });

    // A JSON subscriber with the span enabled.
    let json = json_dispatch(tracing::Level::INFO);
    tracing::dispatcher::with_default(&json, || {
        group.bench_function("ws_observe/json_subscriber", |b| {
            b.iter(|| observed(next()))
        });
        group.bench_function("tracing_instrument/json_subscriber", |b| {
            b.iter(|| instrumented(next()))
        });
        group.bench_function("hand_written_prometheus+instrument/json_subscriber", |b| {
            b.iter(|| hand_written_and_instrumented(next()))
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
