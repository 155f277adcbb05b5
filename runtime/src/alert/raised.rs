//! What an alert says.

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::Severity;

/// One alert: raised by a failing `#[ws_handler(alert = "...")]` handler, or by hand with
/// [`raise`](super::raise).
///
/// ```
/// use ws_observe_runtime::alert::{raise, Alert, Severity};
/// raise(
///     Alert::new(Severity::Critical, "payment provider unreachable")
///         .label("provider", "acme")
///         .description("3 retries failed"),
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// How urgent.
    pub severity: Severity,
    /// One line, for a pager or a chat message.
    pub summary: String,
    /// Details (the error's `Display` for a handler alert).
    pub description: String,
    /// Labels; a handler alert has `handler` and `module`.
    pub labels: BTreeMap<String, String>,
    /// The error's type for a handler alert (with the handler, what deduplication and Sentry
    /// grouping go by); `panic` for a panic.
    pub error_type: Option<String>,
    /// The error's source chain, outermost first (Sentry's exception values).
    pub error_chain: Vec<String>,
    /// The trace the failing call belonged to, when trace export is on.
    pub trace_id: Option<String>,
    /// When it was raised.
    pub raised_at: SystemTime,
}

impl Alert {
    /// An alert with a summary and nothing else.
    pub fn new(severity: Severity, summary: impl Into<String>) -> Self {
        Alert {
            severity,
            summary: summary.into(),
            description: String::new(),
            labels: BTreeMap::new(),
            error_type: None,
            error_chain: Vec::new(),
            trace_id: None,
            raised_at: SystemTime::now(),
        }
    }

    /// Adds a label (replacing one of the same name).
    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(name.into(), value.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// The handler that raised it, if a handler did.
    pub fn handler(&self) -> Option<&str> {
        self.labels.get("handler").map(String::as_str)
    }

    /// What deduplication and the alert lifecycle go by: the handler (module and name) and
    /// the error type for a handler alert, else the summary and labels. Also PagerDuty's
    /// natural `dedup_key`.
    pub fn key(&self) -> String {
        match (self.handler(), &self.error_type) {
            (Some(handler), Some(error)) => {
                let module = self.labels.get("module").map_or("", String::as_str);
                format!("{module}::{handler}|{error}")
            }
            _ => {
                let labels: Vec<String> = self
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                format!("{}|{}", self.summary, labels.join(","))
            }
        }
    }
}
