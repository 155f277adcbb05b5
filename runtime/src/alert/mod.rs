//! Alerting: `#[ws_handler(alert = "critical" | "warning" | "info")]` raises an alert when
//! the handler returns an error or panics; [`raise`] raises one from any code. Alerts go to
//! every configured sink: always the log ([`sinks::LogSink`]), Alertmanager
//! (`WS_OBSERVE_ALERTMANAGER_URL`), a Slack-compatible webhook
//! (`WS_OBSERVE_ALERT_WEBHOOK_URL`), and any [`AlertSink`] you add
//! (`Config::add_alert_sink`).
//!
//! Policy ([`Policy`]): the same handler and error type is deduplicated within
//! `WS_OBSERVE_ALERT_DEDUPE_WINDOW` (60 s); each sink takes at most
//! `WS_OBSERVE_ALERT_RATE_LIMIT` alerts a minute (60); stateful sinks (Alertmanager) are
//! re-sent firing alerts every `WS_OBSERVE_ALERT_RESEND_INTERVAL` (60 s) and told of the
//! resolution once the handler has been quiet for `WS_OBSERVE_ALERT_RESOLVE_AFTER` (5 min).
//! Raising never blocks: sinks run on their own threads behind bounded queues, and every
//! alert ends in `ws_alerts_total{severity,sink,result}`.

mod hub;
mod raised;
mod severity;
mod sink;
pub mod sinks;

use std::sync::Arc;

pub(crate) use hub::Hub;
pub use hub::Policy;
pub use raised::Alert;
pub use severity::Severity;
pub use sink::{AlertSink, Notification, SinkError};

use crate::handler::{ErrorInfo, HandlerMeta};

/// Raises an alert. Never blocks. Before `init()` (or without any hub), the alert is only
/// logged.
pub fn raise(alert: Alert) {
    match hub::current() {
        Some(hub) => hub.raise(alert),
        None => {
            let _ = sinks::LogSink.notify(&Notification::Firing(&alert));
        }
    }
}

/// The OpenTelemetry trace id of the handler's span, when trace export is on.
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
pub(crate) fn handler_failed(
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
    match hub::current() {
        // A repeat of the same error within the dedupe window costs a lookup, not an alert.
        Some(hub) => {
            let key = hub::AlertKey::Handler(meta.module(), meta.name(), info.type_name());
            hub.raise_keyed(key, severity, build);
        }
        None => raise(build()),
    }
}

/// Called by the call guard when an alerting handler panicked.
#[cold]
pub(crate) fn handler_panicked(meta: &HandlerMeta, severity: Severity, span: &tracing::Span) {
    let mut alert = handler_alert(meta, severity, span, format!("{} panicked", meta.name()))
        .description("the handler panicked");
    alert.error_type = Some("panic".to_owned());
    raise(alert);
}

/// Delivers queued alerts within `timeout` (called when the `Telemetry` guard drops).
pub(crate) fn flush(timeout: std::time::Duration) {
    if let Some(hub) = hub::current() {
        hub.flush(timeout);
    }
}

pub(crate) fn install(hub: Arc<Hub>) {
    Hub::install(hub);
}
