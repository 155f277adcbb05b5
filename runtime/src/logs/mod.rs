//! Log lines: JSON (default) or pretty, filtered by `RUST_LOG`, written through a non-blocking
//! queue so a slow stdout or disk never stalls a handler. Lines the queue had to drop are
//! counted in `ws_observe_log_lines_dropped_total`.
//!
//! The JSON format is [`JsonLayer`]'s: ecs-logging lines that Filebeat, Elasticsearch and
//! Loki read as they are.

mod escape;
mod fields;
mod json;
pub(crate) mod timestamp;

pub use json::{ECS_VERSION, JsonLayer};

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::{Config, LogFormat};

/// Lines queued and not yet written; past this, lines are dropped and counted.
const QUEUE_LINES: usize = 128 * 1024;

static DROP_COUNTERS: Mutex<Vec<ErrorCounter>> = Mutex::new(Vec::new());

/// Log lines dropped so far by every writer ws-observe started.
pub(crate) fn dropped_lines() -> u64 {
    DROP_COUNTERS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|c| c.dropped_lines() as u64)
        .sum()
}

/// The subscriber `init()` installs, and the guard that flushes its writer.
pub(crate) fn subscriber(
    config: &mut Config,
    tracer: Option<opentelemetry_sdk::trace::SdkTracer>,
) -> (
    impl tracing::Subscriber + Send + Sync + 'static,
    WorkerGuard,
) {
    // Colours only for a human at a terminal: escape codes in a file or a pipe are noise.
    let ansi = config.log_writer.is_none() && std::io::stdout().is_terminal();
    let writer: Box<dyn Write + Send> = config
        .log_writer
        .take()
        .unwrap_or_else(|| Box::new(std::io::stdout()));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(QUEUE_LINES)
        .thread_name("ws-observe-logs")
        .finish(writer);
    DROP_COUNTERS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(writer.error_counter());

    // Validated by the setter; parse_lossy cannot fail here.
    let filter = EnvFilter::builder().parse_lossy(&config.log_filter);
    let output = match config.log_format {
        LogFormat::Json => JsonLayer::new(writer, config.service_name())
            .with_trace_ids(tracer.is_some())
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .pretty()
            .with_ansi(ansi)
            .with_writer(writer)
            .boxed(),
    };
    // A global filter, not a per-layer one: every layer follows RUST_LOG alike, and the registry
    // then keeps no per-layer filter state for each span.
    let export = tracer.map(|tracer| {
        crate::otlp::layer(tracer).with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            !crate::otlp::is_export_machinery(meta.target())
        }))
    });
    (
        Registry::default().with(filter).with(output).with(export),
        guard,
    )
}
