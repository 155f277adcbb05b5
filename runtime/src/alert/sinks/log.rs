//! The log sink: always on, one structured line per alert.

use super::super::Severity;
use super::super::sink::{AlertSink, Notification, SinkError};

/// Writes each alert as one log line (target `ws_observe::alert`): `error` for critical,
/// `warn` for warning, `info` for info.
pub struct LogSink;

impl AlertSink for LogSink {
    fn name(&self) -> &str {
        "log"
    }

    fn notify(&self, notification: &Notification<'_>) -> Result<(), SinkError> {
        let alert = notification.alert();
        let labels: Vec<String> = alert
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let labels = labels.join(",");
        macro_rules! line {
            ($level:ident) => {
                tracing::$level!(
                    target: "ws_observe::alert",
                    {
                        "alert.severity" = alert.severity.as_str(),
                        "alert.summary" = alert.summary.as_str(),
                        "alert.description" = alert.description.as_str(),
                        "alert.labels" = labels.as_str(),
                        "error.type" = alert.error_type.as_deref(),
                        "trace.parent_id" = alert.trace_id.as_deref()
                    },
                    "alert"
                )
            };
        }
        match alert.severity {
            Severity::Critical => line!(error),
            Severity::Warning => line!(warn),
            Severity::Info => line!(info),
        }
        Ok(())
    }
}
