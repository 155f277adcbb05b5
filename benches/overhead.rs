//! Per-call overhead of `#[ws_observe]`, side by side with what a user would otherwise pick:
//! a bare function, hand-written `prometheus` metrics with pre-resolved handles,
//! `#[tracing::instrument]`, and `#[autometrics]` (prometheus-client backend). Each with no
//! subscriber, then with ws-observe's JSON subscriber (what `runtime::init()` installs)
//! writing to `io::sink()`, with ws-observe's JSON layer over `tracing-subscriber`'s registry
//! (what `init()` installs with trace export), and with `tracing-subscriber`'s own JSON
//! formatter for comparison.
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

/// ws-observe's JSON subscriber, as `runtime::init()` installs it for JSON logs without trace
/// export (minus the non-blocking queue).
fn ws_observe_json(level: tracing::Level) -> Dispatch {
    let filter = tracing_subscriber::filter::Targets::new().with_default(level);
    Dispatch::new(ws_observe::runtime::logs::JsonSubscriber::new(
        std::io::sink,
        "bench",
        filter,
    ))
}

/// ws-observe's JSON layer over `tracing-subscriber`'s registry: what `runtime::init()`
/// installs when trace export is on (here without the export layer).
fn registry_json_layer(level: tracing::Level) -> Dispatch {
    use tracing_subscriber::layer::SubscriberExt;
    let layer = ws_observe::runtime::logs::JsonLayer::new(std::io::sink, "bench");
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::Targets::new().with_default(level))
        .with(layer);
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
        (
            "registry_json_layer",
            registry_json_layer(tracing::Level::INFO),
        ),
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

/// An OTLP/HTTP receiver that reads each request and answers 200, discarding the spans: the
/// export path is measured, not a collector.
fn discarding_receiver() -> std::net::SocketAddr {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let header = line.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let response = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if writer.write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// ws-observe's export path: its tracer provider (bounded queue, export thread) under
/// `tracing-opentelemetry`, always sampled.
fn ws_observe_export(endpoint: &str) -> (Dispatch, opentelemetry_sdk::trace::SdkTracerProvider) {
    use tracing_subscriber::layer::SubscriberExt;
    use ws_observe::opentelemetry::trace::TracerProvider as _;
    use ws_observe::runtime::otlp::{Protocol, Sampling, TraceExport, tracer_provider};
    let mut export = TraceExport::new(Protocol::HttpProtobuf, endpoint).unwrap();
    export.sampling = Sampling::AlwaysOn;
    let provider = tracer_provider(&export, "bench", "0").unwrap();
    let layer = ws_observe::runtime::otlp::layer(provider.tracer("bench"));
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        provider,
    )
}

/// The hand-written equivalent: the SDK's `BatchSpanProcessor` with the OTLP/HTTP exporter,
/// under `tracing-opentelemetry`, always sampled.
fn hand_written_export(endpoint: &str) -> (Dispatch, opentelemetry_sdk::trace::SdkTracerProvider) {
    use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
    use tracing_subscriber::layer::SubscriberExt;
    use ws_observe::opentelemetry::trace::TracerProvider as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .with_headers(Default::default())
        .build()
        .unwrap();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        // The same queue, batch and delay as ws-observe's defaults, so both export the same
        // volume (on 2 cores the export thread competes with the benchmark thread).
        .with_span_processor(
            opentelemetry_sdk::trace::BatchSpanProcessor::builder(exporter)
                .with_batch_config(
                    opentelemetry_sdk::trace::BatchConfigBuilder::default()
                        .with_max_queue_size(8192)
                        .with_max_export_batch_size(512)
                        .with_scheduled_delay(Duration::from_millis(500))
                        .build(),
                )
                .build(),
        )
        .with_sampler(opentelemetry_sdk::trace::Sampler::AlwaysOn)
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        provider,
    )
}

fn bench_export(c: &mut Criterion) {
    let mut group = c.benchmark_group("exported_span");
    group.warm_up_time(Duration::from_millis(800));
    group.measurement_time(Duration::from_secs(3));
    let endpoint = format!("http://{}", discarding_receiver());
    let mut input = 0u64;
    let mut next = move || {
        input = input.wrapping_add(1);
        black_box(input)
    };

    let (dispatch, provider) = hand_written_export(&endpoint);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("hand_written_prometheus+instrument+otel_batch", |b| {
            b.iter(|| hand_written_and_instrumented(next()))
        });
    });
    let _ = provider.shutdown_with_timeout(Duration::from_secs(5));

    let dropped_before = ws_observe::runtime::otlp::spans_dropped();
    let (dispatch, provider) = ws_observe_export(&endpoint);
    tracing::dispatcher::with_default(&dispatch, || {
        group.bench_function("ws_observe+otel_export", |b| b.iter(|| observed(next())));
    });
    let _ = provider.shutdown_with_timeout(Duration::from_secs(5));
    group.finish();
    println!(
        "exported_span: ws-observe spans dropped during the benchmark (queue full or export \
         failed, all counted in ws_observe_spans_dropped_total): {}",
        ws_observe::runtime::otlp::spans_dropped() - dropped_before
    );
    sustained_rate(&endpoint);
}

/// The highest steady span rate the export queue holds without a drop: spans are produced at
/// a fixed rate for 2 s per step, doubling until one step drops a span.
fn sustained_rate(endpoint: &str) {
    let (dispatch, provider) = ws_observe_export(endpoint);
    let mut held = 0;
    tracing::dispatcher::with_default(&dispatch, || {
        for rate in [10_000u64, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000] {
            let before = ws_observe::runtime::otlp::spans_dropped();
            let start = Instant::now();
            let total = rate * 2;
            for i in 0..total {
                let due = start + Duration::from_nanos(i * 1_000_000_000 / rate);
                while Instant::now() < due {
                    std::hint::spin_loop();
                }
                let _ = observed(i);
            }
            let _ = provider.force_flush();
            let dropped = ws_observe::runtime::otlp::spans_dropped() - before;
            let achieved = total as f64 / start.elapsed().as_secs_f64();
            println!(
                "exported_span: {rate} spans/s asked, {achieved:.0} produced, {dropped} dropped"
            );
            if dropped > 0 || achieved < rate as f64 * 0.95 {
                break;
            }
            held = rate;
        }
    });
    let _ = provider.shutdown_with_timeout(Duration::from_secs(5));
    println!("exported_span: sustained without a drop: {held} spans/s (queue 8192, batch 512)");
}

criterion_group!(benches, bench, bench_export);
criterion_main!(benches);
