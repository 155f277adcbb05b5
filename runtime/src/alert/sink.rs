//! The `AlertSink` trait: where alerts go.

use std::error::Error;

use super::Alert;

/// What a sink is asked to deliver.
#[derive(Clone, Copy, Debug)]
pub enum Notification<'a> {
    /// The alert fires (first time, or again after its deduplication window).
    Firing(&'a Alert),
    /// Still firing: sent every resend interval to sinks that keep alert state
    /// ([`AlertSink::stateful`]), because Alertmanager forgets an alert that is not re-sent.
    StillFiring(&'a Alert),
    /// Resolved: the handler has been quiet for the resolve-after period. Only for stateful
    /// sinks.
    Resolved(&'a Alert),
}

impl Notification<'_> {
    /// The alert concerned.
    pub fn alert(&self) -> &Alert {
        match self {
            Notification::Firing(a) | Notification::StillFiring(a) | Notification::Resolved(a) => a,
        }
    }
}

/// The error a sink returns when it could not deliver.
pub type SinkError = Box<dyn Error + Send + Sync>;

/// A destination for alerts. Each sink runs on a thread of its own behind a bounded queue, so
/// a slow or dead sink never delays a handler or another sink; a failed delivery is retried
/// with backoff, then counted as `failed` in `ws_alerts_total`.
///
/// A PagerDuty Events v2 sink, complete:
///
/// ```no_run
/// use ws_observe_runtime::alert::{Alert, AlertSink, Notification, Severity, SinkError};
///
/// struct PagerDuty {
///     routing_key: String,
///     client: reqwest::blocking::Client,
/// }
///
/// impl AlertSink for PagerDuty {
///     fn name(&self) -> &str {
///         "pagerduty"
///     }
///
///     // PagerDuty keeps incident state itself: give it triggers and resolves.
///     fn stateful(&self) -> bool {
///         true
///     }
///
///     fn notify(&self, notification: &Notification<'_>) -> Result<(), SinkError> {
///         let alert = notification.alert();
///         let action = match notification {
///             Notification::Resolved(_) => "resolve",
///             _ => "trigger",
///         };
///         let severity = match alert.severity {
///             Severity::Critical => "critical",
///             Severity::Warning => "warning",
///             Severity::Info => "info",
///         };
///         let body = serde_json::json!({
///             "routing_key": self.routing_key,
///             "event_action": action,
///             "dedup_key": alert.key(),
///             "payload": {
///                 "summary": alert.summary,
///                 "source": alert.labels.get("module").cloned().unwrap_or_default(),
///                 "severity": severity,
///                 "custom_details": { "description": alert.description, "labels": alert.labels },
///             },
///         });
///         self.client
///             .post("https://events.pagerduty.com/v2/enqueue")
///             .header("content-type", "application/json")
///             .body(body.to_string())
///             .send()?
///             .error_for_status()?;
///         Ok(())
///     }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let _telemetry = ws_observe_runtime::Config::from_env()?
///     .add_alert_sink(PagerDuty {
///         routing_key: std::env::var("PAGERDUTY_ROUTING_KEY")?,
///         client: reqwest::blocking::Client::new(),
///     })
///     .init()?;
/// # Ok(()) }
/// ```
pub trait AlertSink: Send + Sync + 'static {
    /// The `sink` label of `ws_alerts_total` (keep it short and fixed).
    fn name(&self) -> &str;

    /// Delivers one notification. Called on the sink's own thread; may block (bounded by
    /// your client's timeout).
    fn notify(&self, notification: &Notification<'_>) -> Result<(), SinkError>;

    /// Whether the sink wants `StillFiring` and `Resolved` notifications (default: no; it gets
    /// each firing once).
    fn stateful(&self) -> bool {
        false
    }
}
