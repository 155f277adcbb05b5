//! W3C Trace Context and Baggage propagation: continue a trace that arrived in a WebSocket
//! handshake's headers or inside a message payload, and hand the current one on.
//!
//! The carrier is a plain `HashMap<String, String>` (header or JSON field names →
//! values), so it travels in whatever envelope the application uses.
//!
//! These attach OpenTelemetry contexts to `tracing` spans: they take effect when the
//! OpenTelemetry layer is installed (trace export configured); without it they do nothing and
//! cost nothing noticeable.

use std::collections::HashMap;

use opentelemetry::Context;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use tracing_opentelemetry::OpenTelemetrySpanExt;

fn propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ])
}

/// The header names the propagator reads (`traceparent`, `tracestate`, `baggage`).
pub fn fields() -> Vec<String> {
    propagator().fields().map(str::to_owned).collect()
}

/// Reads a trace context (and baggage) from `carrier`.
///
/// ```
/// use std::collections::HashMap;
/// use opentelemetry::trace::TraceContextExt;
/// let carrier = HashMap::from([(
///     "traceparent".to_owned(),
///     "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned(),
/// )]);
/// let context = ws_observe_runtime::propagation::extract(&carrier);
/// assert_eq!(context.span().span_context().trace_id().to_string(), "0af7651916cd43dd8448eb211c80319c");
/// ```
pub fn extract(carrier: &HashMap<String, String>) -> Context {
    propagator().extract(carrier)
}

/// Writes the current span's trace context (and baggage) into `carrier`.
pub fn inject(carrier: &mut HashMap<String, String>) {
    let context = tracing::Span::current().context();
    propagator().inject_context(&context, carrier);
}

/// Makes `span` continue the trace in `carrier` (a no-op when `carrier` holds none).
pub fn set_parent(span: &tracing::Span, carrier: &HashMap<String, String>) {
    let context = extract(carrier);
    use opentelemetry::trace::TraceContextExt;
    if context.span().span_context().is_valid() {
        // Fails only when no OpenTelemetry layer records this span: nothing to attach to.
        let _ = span.set_parent(context);
    }
}
