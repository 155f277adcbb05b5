//! OpenTelemetry trace export over OTLP: configured by the specification's variables (see
//! [`vars`]), spans exported off the handler's path by a bounded queue (see
//! `processor`), and flushed within a bounded time when the `Telemetry` guard drops.
//!
//! Without an endpoint variable nothing is set up: no OpenTelemetry layer, no thread, no cost.

#[cfg(feature = "otlp-grpc")]
mod grpc;
mod processor;
mod settings;

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};

pub use settings::{Protocol, Sampling, TraceExport, vars};

pub(crate) use settings::from_vars;

use crate::error::InitError;

/// The running export pipeline; shut down (flushing what is queued) within a bound on drop.
pub(crate) struct Pipeline {
    provider: SdkTracerProvider,
    shutdown_timeout: Duration,
}

impl Pipeline {
    pub(crate) fn start(
        export: &TraceExport,
        service_name: &str,
        service_version: &str,
        shutdown_timeout: Duration,
    ) -> Result<(Pipeline, SdkTracer), InitError> {
        let provider = tracer_provider(export, service_name, service_version)?;
        let tracer = provider.tracer("ws-observe");
        Ok((
            Pipeline {
                provider,
                shutdown_timeout,
            },
            tracer,
        ))
    }
}

/// The tracer provider `init()` installs, for composing a subscriber by hand (add
/// `tracing_opentelemetry::layer().with_tracer(provider.tracer("..."))` to it). Spans go
/// through ws-observe's bounded export queue; `shutdown_with_timeout` flushes it.
///
/// ```no_run
/// use ws_observe_runtime::otlp::{tracer_provider, Protocol, TraceExport};
/// let export = TraceExport::new(Protocol::HttpProtobuf, "http://127.0.0.1:4318").unwrap();
/// let provider = tracer_provider(&export, "my-service", "1.0.0").unwrap();
/// # let _ = provider;
/// ```
pub fn tracer_provider(
    export: &TraceExport,
    service_name: &str,
    service_version: &str,
) -> Result<SdkTracerProvider, InitError> {
    let processor =
        processor::QueueProcessor::start(export).map_err(|reason| InitError::TraceExport {
            endpoint: export.endpoint.clone(),
            reason,
        })?;
    let attributes = export
        .resource
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()));
    // Not `Resource::builder()`: its `EnvResourceDetector` reads OTEL_RESOURCE_ATTRIBUTES from
    // the process environment behind the configuration's back.
    let mut resource = Resource::builder_empty()
        .with_detector(Box::new(
            opentelemetry_sdk::resource::TelemetryResourceDetector,
        ))
        .with_attributes(attributes);
    if !export.resource.iter().any(|(k, _)| k == "service.version") {
        resource =
            resource.with_attribute(KeyValue::new("service.version", service_version.to_owned()));
    }
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(sampler(&export.sampling))
        .with_resource(resource.with_service_name(service_name.to_owned()).build())
        .build())
}

impl Pipeline {
    /// Bounds the flush on drop to `timeout` (what is left of the guard's shutdown time).
    pub(crate) fn set_shutdown_timeout(&mut self, timeout: Duration) {
        self.shutdown_timeout = timeout;
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        // Bounded even when the collector hangs: the export thread is left behind, not waited for.
        let _ = self.provider.shutdown_with_timeout(self.shutdown_timeout);
    }
}

fn sampler(sampling: &Sampling) -> Sampler {
    match sampling {
        Sampling::AlwaysOn => Sampler::AlwaysOn,
        Sampling::AlwaysOff => Sampler::AlwaysOff,
        Sampling::TraceIdRatio(ratio) => Sampler::TraceIdRatioBased(*ratio),
        Sampling::ParentBased(root) => Sampler::ParentBased(Box::new(sampler(root))),
    }
}

/// The `tracing-opentelemetry` layer as `init()` configures it: spans keep their fields as
/// attributes (handler spans carry `code.namespace` themselves); the per-span target and source location,
/// thread attributes and busy/idle timings (an extra clock read on every enter and exit) are
/// left out: they cost on every handler call and say little about a request.
pub fn layer<S>(tracer: SdkTracer) -> tracing_opentelemetry::OpenTelemetryLayer<S, SdkTracer>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_target(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
}

/// Spans dropped so far (queue full or export failed): the value of
/// `ws_observe_spans_dropped_total`.
pub fn spans_dropped() -> u64 {
    SPANS_DROPPED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Spans that could not be exported (queue full or exporter failure); counted by the export
/// queue.
pub(crate) static SPANS_DROPPED: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(0);

/// Registers `ws_observe_spans_dropped_total` in `registry`.
pub(crate) fn register_metrics(registry: &prometheus::Registry) -> prometheus::Result<()> {
    use crate::metrics::{FnCounter, names};
    registry.register(Box::new(FnCounter::new(
        names::SPANS_DROPPED,
        names::SPANS_DROPPED_HELP,
        spans_dropped,
    )))
}

/// Targets whose spans are the exporter's own machinery (the HTTP and gRPC stacks): never
/// exported, or each export would produce spans to export.
pub(crate) fn is_export_machinery(target: &str) -> bool {
    [
        "h2",
        "hyper",
        "hyper_util",
        "tonic",
        "tower",
        "reqwest",
        "opentelemetry",
    ]
    .iter()
    .any(|prefix| {
        target == *prefix
            || target
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with("::"))
    })
}
