//! Sentry: one event per alert, through a synchronous envelope transport so that a failed
//! delivery is known (and retried, then counted as `failed`) like any other sink's.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry::protocol::{Context, Event, Exception, Level, TraceContext, Values};
use sentry::{ClientOptions, Envelope, Transport};

use super::super::Severity;
use super::super::sink::{AlertSink, Notification, SinkError};

/// Sends alerts to Sentry (`SENTRY_DSN`, `SENTRY_ENVIRONMENT`, `SENTRY_RELEASE`).
///
/// Each alert is an event: level `fatal` / `warning` / `info` for critical / warning / info;
/// tags `handler`, `module`, `severity`; fingerprint handler + error type (Sentry groups by
/// cause); the error's source chain as exception values; the trace id in the `trace` context.
/// `send_default_pii` is off and nothing else (no request, user, server name) is attached.
pub struct SentrySink {
    client: sentry::Client,
    last: Arc<Mutex<Option<Result<(), String>>>>,
}

impl SentrySink {
    /// A sink for `dsn` (`http://<key>@<host>/<project>`).
    pub fn new(
        dsn: &str,
        environment: Option<String>,
        release: Option<String>,
    ) -> Result<Self, SinkError> {
        let dsn: sentry::types::Dsn = dsn.parse()?;
        let last = Arc::new(Mutex::new(None));
        let transport = EnvelopeTransport::new(&dsn, Arc::clone(&last))?;
        let mut options = ClientOptions::default();
        options.dsn = Some(dsn);
        options.environment = environment.map(Cow::Owned);
        options.release = release.map(Cow::Owned);
        // No personal data: no IP, no user, no request, no host name.
        options.send_default_pii = false;
        options.server_name = None;
        options.default_integrations = false;
        options.transport = Some(Arc::new(move |_: &ClientOptions| -> Arc<dyn Transport> {
            Arc::new(transport.clone())
        }));
        Ok(SentrySink {
            client: sentry::Client::from(options),
            last,
        })
    }
}

impl AlertSink for SentrySink {
    fn name(&self) -> &str {
        "sentry"
    }

    fn notify(&self, notification: &Notification<'_>) -> Result<(), SinkError> {
        let Notification::Firing(alert) = notification else {
            return Ok(());
        };
        let level = match alert.severity {
            Severity::Critical => Level::Fatal,
            Severity::Warning => Level::Warning,
            Severity::Info => Level::Info,
        };
        let mut event = Event::new();
        event.level = level;
        event.message = Some(alert.summary.clone());
        let handler = alert.handler().unwrap_or("").to_owned();
        let error_type = alert
            .error_type
            .clone()
            .unwrap_or_else(|| "alert".to_owned());
        event.fingerprint = Cow::Owned(vec![
            Cow::Owned(handler.clone()),
            Cow::Owned(error_type.clone()),
        ]);
        for (name, value) in &alert.labels {
            event.tags.insert(name.clone(), value.clone());
        }
        event
            .tags
            .insert("severity".into(), alert.severity.as_str().into());
        // Sentry lists chained exceptions innermost first; the chain is outermost first.
        let mut values: Vec<Exception> = Vec::new();
        let chain = if alert.error_chain.is_empty() {
            vec![alert.description.clone()]
        } else {
            alert.error_chain.clone()
        };
        for (depth, message) in chain.iter().enumerate().rev() {
            values.push(Exception {
                ty: if depth == 0 {
                    error_type.clone()
                } else {
                    format!("{error_type} (source {depth})")
                },
                value: Some(message.clone()),
                ..Default::default()
            });
        }
        event.exception = Values { values };
        if let Some(trace_id) = alert.trace_id.as_deref().and_then(|t| t.parse().ok()) {
            event.contexts.insert(
                "trace".into(),
                Context::Trace(Box::new(TraceContext {
                    trace_id,
                    ..Default::default()
                })),
            );
        }
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.client.capture_event(event, None);
        match self.last.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(Ok(())) => Ok(()),
            Some(Err(error)) => Err(error.into()),
            None => Err("the event was not sent (filtered by the Sentry client)".into()),
        }
    }
}

/// Posts each envelope at once and records whether it was accepted.
#[derive(Clone)]
struct EnvelopeTransport {
    url: String,
    auth: String,
    http: reqwest::blocking::Client,
    last: Arc<Mutex<Option<Result<(), String>>>>,
}

impl EnvelopeTransport {
    fn new(
        dsn: &sentry::types::Dsn,
        last: Arc<Mutex<Option<Result<(), String>>>>,
    ) -> Result<Self, SinkError> {
        let auth = dsn
            .to_auth(Some(concat!("ws-observe/", env!("CARGO_PKG_VERSION"))))
            .to_string();
        let http = crate::http_client::blocking_client(Duration::from_secs(5))?;
        Ok(EnvelopeTransport {
            url: dsn.envelope_api_url().to_string(),
            auth,
            http,
            last,
        })
    }
}

impl Transport for EnvelopeTransport {
    fn send_envelope(&self, envelope: Envelope) {
        let mut body = Vec::new();
        let result = envelope
            .to_writer(&mut body)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                self.http
                    .post(&self.url)
                    .header("X-Sentry-Auth", &self.auth)
                    .header("content-type", "application/x-sentry-envelope")
                    .body(body)
                    .send()
                    .and_then(|r| r.error_for_status())
                    .map(|_| ())
                    .map_err(|e| crate::http_client::request_error(&self.url, e))
            });
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
    }
}
