//! Prometheus Alertmanager: `POST /api/v2/alerts`, with the lifecycle Alertmanager expects
//! (re-sent while firing, `endsAt` when resolved).

use std::time::{Duration, SystemTime};

use super::super::sink::{AlertSink, Notification, SinkError};
use crate::timestamp::rfc3339;

/// Sends alerts to one or more Alertmanagers (an HA pair gets every alert; delivery succeeds
/// when one of them accepts it). Labels: `alertname` (`WsHandlerError` for a handler alert,
/// else the alert's own `alertname` label or `WsAlert`), `handler`, `module`, `severity`,
/// `service`, and the alert's labels; annotations `summary`, `description`, `trace_id`.
pub struct AlertmanagerSink {
    urls: Vec<String>,
    service: String,
    /// A firing alert's `endsAt`: how long Alertmanager keeps it without a re-send.
    active_for: Duration,
    client: reqwest::blocking::Client,
}

impl AlertmanagerSink {
    /// `urls` are base URLs (`http://alertmanager:9093`).
    pub fn new(urls: Vec<String>, service: &str, active_for: Duration) -> Result<Self, SinkError> {
        let client = crate::http_client::blocking_client(Duration::from_secs(5))?;
        Ok(AlertmanagerSink {
            urls,
            service: service.to_owned(),
            active_for,
            client,
        })
    }

    fn body(&self, notification: &Notification<'_>) -> String {
        let alert = notification.alert();
        let now = SystemTime::now();
        let ends_at = match notification {
            Notification::Resolved(_) => now,
            _ => now + self.active_for,
        };
        let mut labels = serde_json::Map::new();
        let alertname = if alert.error_type.is_some() && alert.handler().is_some() {
            "WsHandlerError".to_owned()
        } else {
            alert
                .labels
                .get("alertname")
                .cloned()
                .unwrap_or_else(|| "WsAlert".to_owned())
        };
        labels.insert("alertname".into(), alertname.into());
        for (name, value) in &alert.labels {
            labels.insert(name.clone(), value.clone().into());
        }
        labels.insert("severity".into(), alert.severity.as_str().into());
        labels.insert("service".into(), self.service.clone().into());
        let mut annotations = serde_json::Map::new();
        annotations.insert("summary".into(), alert.summary.clone().into());
        annotations.insert("description".into(), alert.description.clone().into());
        if let Some(trace_id) = &alert.trace_id {
            annotations.insert("trace_id".into(), trace_id.clone().into());
        }
        let generator = format!(
            "http://localhost/ws-observe/{}/{}",
            self.service,
            alert.handler().unwrap_or("alert")
        );
        serde_json::json!([{
            "labels": labels,
            "annotations": annotations,
            "startsAt": rfc3339(alert.raised_at),
            "endsAt": rfc3339(ends_at),
            "generatorURL": generator,
        }])
        .to_string()
    }
}

impl AlertSink for AlertmanagerSink {
    fn name(&self) -> &str {
        "alertmanager"
    }

    fn stateful(&self) -> bool {
        true
    }

    fn notify(&self, notification: &Notification<'_>) -> Result<(), SinkError> {
        let body = self.body(notification);
        let mut last_error: Option<SinkError> = None;
        let mut delivered = false;
        for url in &self.urls {
            let result = self
                .client
                .post(format!("{}/api/v2/alerts", url.trim_end_matches('/')))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .and_then(|response| response.error_for_status());
            match result {
                Ok(_) => delivered = true,
                Err(error) => {
                    last_error = Some(crate::http_client::request_error(url, error).into())
                }
            }
        }
        match (delivered, last_error) {
            (true, _) | (false, None) => Ok(()),
            (false, Some(error)) => Err(error),
        }
    }
}
