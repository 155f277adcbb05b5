//! The `tracing` layers ws-observe contributes to a subscriber: its log lines (JSON or
//! pretty, to stdout and files) and, with export on, the OpenTelemetry layer.

use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

use super::start::Parts;

/// The layer [`Config::into_layer`](crate::Config::into_layer) returns: ws-observe's log lines
/// and span export behind its own `RUST_LOG` filter (a per-layer filter), for
/// `tracing_subscriber::registry()` and what is layered on it (per-layer filters need the
/// `Registry` underneath).
pub type ObserveLayer<S> = Box<dyn Layer<S> + Send + Sync + 'static>;

/// The output and export layers without a filter (`init()` puts a global one in front).
/// `trace_ids`: JSON lines carry the current OpenTelemetry trace and span ids.
pub(super) fn unfiltered<S>(parts: &Parts, trace_ids: bool) -> ObserveLayer<S>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let output = crate::logs::output_layer::<S>(
        &parts.logs,
        parts.writers.clone(),
        &parts.service_name,
        trace_ids,
        parts.colours,
    );
    #[cfg(feature = "otlp")]
    let output = {
        let export = parts.tracer.clone().map(|tracer| {
            crate::otlp::layer(tracer).with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                !crate::otlp::is_export_machinery(meta.target())
            }))
        });
        output.and_then(export).boxed()
    };
    output
}

/// The same layers behind a per-layer `RUST_LOG` filter, so they leave the user's own layers
/// alone.
pub(super) fn filtered<S>(parts: &Parts) -> ObserveLayer<S>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let filter = crate::logs::per_layer_filter::<S>(parts.logs.filter());
    // Trace ids whenever OpenTelemetry is built in: the program's own OpenTelemetry layer may
    // be the one that records the spans.
    unfiltered::<S>(parts, cfg!(feature = "otlp"))
        .with_filter(filter)
        .boxed()
}
