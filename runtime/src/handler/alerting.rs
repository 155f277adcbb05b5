//! The alerts of `#[ws_handler(alert = "...")]`: what a failed or panicked call raises through
//! the alert subsystem, which knows nothing of handlers.

use crate::alert::{self, Alert, Severity};

use super::meta::HandlerMeta;
use super::outcome::ErrorInfo;

/// The OpenTelemetry trace id of the handler's span, when trace export is on.
#[cfg(feature = "otlp")]
fn trace_id_of(span: &tracing::Span) -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if span.is_disabled() {
        return None;
    }
    let context = span.context();
    let otel_span = context.span();
    let span_context = otel_span.span_context();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

#[cfg(not(feature = "otlp"))]
fn trace_id_of(_: &tracing::Span) -> Option<String> {
    None
}

fn handler_alert(
    meta: &HandlerMeta,
    severity: Severity,
    span: &tracing::Span,
    summary: String,
) -> Alert {
    let mut alert = Alert::new(severity, summary)
        .label("handler", meta.name())
        .label("module", meta.module());
    alert.trace_id = trace_id_of(span);
    alert
}

/// Called by the call guard when an alerting handler returned an error.
#[cold]
pub(super) fn failed(
    meta: &HandlerMeta,
    severity: Severity,
    span: &tracing::Span,
    info: &ErrorInfo<'_>,
) {
    let build = || {
        let mut alert = handler_alert(meta, severity, span, format!("{} failed", meta.name()));
        if let Some(message) = info.message() {
            alert.description = message.to_string();
        }
        alert.error_type = Some(info.type_name().to_owned());
        let mut source = info.as_error();
        while let Some(error) = source {
            alert.error_chain.push(error.to_string());
            source = error.source();
        }
        alert
    };
    let key = (meta.module(), meta.name(), info.type_name());
    alert::raise_for_handler(key, severity, build);
}

/// Called by the call guard when an alerting handler panicked.
#[cold]
pub(super) fn panicked(meta: &HandlerMeta, severity: Severity, span: &tracing::Span) {
    let mut alert = handler_alert(meta, severity, span, format!("{} panicked", meta.name()))
        .description("the handler panicked");
    alert.error_type = Some("panic".to_owned());
    alert::raise(alert);
}
