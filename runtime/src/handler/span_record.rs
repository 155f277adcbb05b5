//! What a finished call writes on its span, and the one log line of a failed call.
//!
//! Field names are the OpenTelemetry semantic conventions' (`otel.status_code`, `error.type`,
//! `error.message`); `tracing-opentelemetry` maps `otel.status_code` to the span status.

use tracing::Span;

use super::outcome::ErrorInfo;
use crate::span_schema::fields;

const STATUS_ERROR: &str = "ERROR";

/// Marks the span failed (when it is recorded) and logs one error line, which is written even
/// when the span itself is filtered out: the line names the handler on its own.
pub(crate) fn error(span: &Span, handler: &'static str, info: &ErrorInfo<'_>) {
    let message = info.message();
    if !span.is_disabled() {
        span.record(fields::STATUS_CODE, STATUS_ERROR);
        span.record(fields::ERROR_TYPE, info.type_name());
        if let Some(message) = message {
            span.record(fields::ERROR_MESSAGE, tracing::field::display(message));
            // After `otel.status_code`, which sets an Error status without a description.
            #[cfg(feature = "otlp")]
            tracing_opentelemetry::OpenTelemetrySpanExt::set_status(
                span,
                opentelemetry::trace::Status::error(message.to_string()),
            );
        }
    }
    span.in_scope(|| match message {
        Some(message) => tracing::error!(
            target: "ws_observe",
            { "ws.handler" = handler, "error.type" = info.type_name(), "error.message" = %message },
            "handler returned an error"
        ),
        None => tracing::error!(
            target: "ws_observe",
            { "ws.handler" = handler, "error.type" = info.type_name() },
            "handler returned an error"
        ),
    });
}

/// Marks the span failed (when it is recorded) and logs one error line either way.
pub(crate) fn panic(span: &Span, handler: &'static str) {
    if !span.is_disabled() {
        span.record(fields::STATUS_CODE, STATUS_ERROR);
        span.record(fields::ERROR_TYPE, "panic");
        span.record(fields::ERROR_MESSAGE, "the handler panicked");
        #[cfg(feature = "otlp")]
        tracing_opentelemetry::OpenTelemetrySpanExt::set_status(
            span,
            opentelemetry::trace::Status::error("the handler panicked"),
        );
    }
    span.in_scope(|| {
        tracing::error!(
            target: "ws_observe",
            { "ws.handler" = handler, "error.type" = "panic" },
            "handler panicked"
        )
    });
}

pub(crate) fn cancelled(span: &Span) {
    if span.is_disabled() {
        return;
    }
    // Not an error: the caller chose to stop waiting. Recorded so a trace explains the gap.
    span.record(fields::ERROR_TYPE, "cancelled");
}
