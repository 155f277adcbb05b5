//! A generic JSON webhook that Slack incoming webhooks accept.

use std::time::Duration;

use super::super::sink::{AlertSink, Notification, SinkError};

/// POSTs one JSON object per alert:
///
/// ```json
/// {
///   "text": "[critical] on_payment failed: payment refused (402)",
///   "status": "firing",
///   "severity": "critical",
///   "summary": "on_payment failed",
///   "description": "payment refused (402)",
///   "labels": {"handler": "on_payment", "module": "my_app::pay"},
///   "service": "my-app",
///   "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"
/// }
/// ```
///
/// Slack shows `text` and ignores the other fields; other receivers (a chat bridge, a ticket
/// system) read them. `trace_id` is absent when there is none.
pub struct WebhookSink {
    url: String,
    service: String,
    client: reqwest::blocking::Client,
}

impl WebhookSink {
    /// Posts to `url`.
    pub fn new(url: &str, service: &str) -> Result<Self, SinkError> {
        let client = crate::http_client::blocking_client(Duration::from_secs(5))?;
        Ok(WebhookSink {
            url: url.to_owned(),
            service: service.to_owned(),
            client,
        })
    }
}

impl AlertSink for WebhookSink {
    fn name(&self) -> &str {
        "webhook"
    }

    fn notify(&self, notification: &Notification<'_>) -> Result<(), SinkError> {
        let alert = notification.alert();
        let status = match notification {
            Notification::Resolved(_) => "resolved",
            _ => "firing",
        };
        let text = if alert.description.is_empty() {
            format!("[{}] {}", alert.severity, alert.summary)
        } else {
            format!(
                "[{}] {}: {}",
                alert.severity, alert.summary, alert.description
            )
        };
        let mut body = serde_json::json!({
            "text": text,
            "status": status,
            "severity": alert.severity.as_str(),
            "summary": alert.summary,
            "description": alert.description,
            "labels": alert.labels,
            "service": self.service,
        });
        if let Some(trace_id) = &alert.trace_id {
            body["trace_id"] = trace_id.clone().into();
        }
        self.client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .and_then(|response| response.error_for_status())
            .map_err(|error| crate::http_client::request_error(&self.url, error))?;
        Ok(())
    }
}
