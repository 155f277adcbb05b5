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
mod settings;
mod severity;
mod sink;
pub mod sinks;

use std::sync::Arc;

pub(crate) use hub::Hub;
pub use hub::Policy;
pub use raised::Alert;
pub use settings::AlertSettings;
pub use severity::Severity;
pub use sink::{AlertSink, Notification, SinkError};

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

/// Raises the alert `build` makes for a failed handler call, keyed by its module, name and
/// error type: a repeat within the dedupe window costs a lookup, not an alert.
pub(crate) fn raise_for_handler(
    (module, handler, error_type): (&'static str, &'static str, &'static str),
    severity: Severity,
    build: impl FnOnce() -> Alert,
) {
    match hub::current() {
        Some(hub) => hub.raise_keyed(
            hub::AlertKey::Handler(module, handler, error_type),
            severity,
            build,
        ),
        None => raise(build()),
    }
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

/// Registers `ws_alerts_total` in `registry`.
pub(crate) fn register_metrics(registry: &prometheus::Registry) -> prometheus::Result<()> {
    registry.register(Box::new(hub::alerts_total().clone()))
}
