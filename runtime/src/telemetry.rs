//! `init()` and the guard it returns.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_appender::non_blocking::WorkerGuard;

use crate::config::{Config, InitError, vars};
use crate::metrics::MetricsServer;

static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// Sets everything up from the environment: `/metrics` on `127.0.0.1:9464`, JSON logs on
/// stdout filtered by `RUST_LOG` (default `info`). Same as `Config::from_env()?.init()`.
///
/// Keep the returned guard alive for the life of the program: dropping it stops the listener
/// and flushes the logs.
///
/// ```no_run
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let telemetry = ws_observe_runtime::init()?;
///     println!("metrics on {:?}", telemetry.metrics_addr());
///     Ok(())
/// }
/// ```
pub fn init() -> Result<Telemetry, InitError> {
    Config::from_env()?.init()
}

/// Owns what [`init`] started. Dropping it stops the `/metrics` listener and flushes pending
/// log lines (bounded: the log writer gives up after one second).
#[must_use = "dropping the Telemetry guard stops /metrics and flushes logs at once"]
pub struct Telemetry {
    metrics: Option<MetricsServer>,
    shutdown_timeout: std::time::Duration,
    // Before the logs: span export may log its last failure.
    _trace_export: Option<crate::otlp::Pipeline>,
    // Dropped last: flushes the log lines written while the rest shut down.
    _log_guards: Vec<WorkerGuard>,
}

impl Telemetry {
    /// The address `/metrics` is served on (the real port when port 0 was asked), or `None`
    /// when metrics are off.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(MetricsServer::local_addr)
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        // Queued alerts first (bounded), then the fields: spans, then the log lines.
        crate::alert::flush(self.shutdown_timeout);
    }
}

/// The alert hub: the log sink always, Alertmanager and the webhook when configured, and the
/// user's sinks.
fn start_alerting(config: &mut Config) -> Result<std::sync::Arc<crate::alert::Hub>, InitError> {
    use crate::alert::sinks::{AlertmanagerSink, LogSink, SentrySink, WebhookSink};
    let mut sinks: Vec<Box<dyn crate::alert::AlertSink>> = vec![Box::new(LogSink)];
    let service = config.service_name().to_owned();
    if !config.alertmanager_urls.is_empty() {
        // Alertmanager keeps a firing alert until its end time: two resend intervals, so one
        // lost re-send does not resolve it.
        let active_for = config.alert_policy.resend_interval * 2;
        let sink = AlertmanagerSink::new(config.alertmanager_urls.clone(), &service, active_for)
            .map_err(|e| InitError::InvalidValue {
                var: vars::ALERTMANAGER_URL,
                value: config.alertmanager_urls.join(","),
                expected: format!("a usable URL ({e})"),
            })?;
        sinks.push(Box::new(sink));
    }
    if let Some(url) = &config.alert_webhook_url {
        let sink = WebhookSink::new(url, &service).map_err(|e| InitError::InvalidValue {
            var: vars::ALERT_WEBHOOK_URL,
            value: url.clone(),
            expected: format!("a usable URL ({e})"),
        })?;
        sinks.push(Box::new(sink));
    }
    if let Some((dsn, environment, release)) = &config.sentry {
        let sink = SentrySink::new(dsn, environment.clone(), release.clone()).map_err(|e| {
            InitError::InvalidValue {
                var: vars::SENTRY_DSN,
                value: dsn.clone(),
                expected: format!("a usable Sentry DSN ({e})"),
            }
        })?;
        sinks.push(Box::new(sink));
    }
    sinks.append(&mut config.alert_sinks);
    Ok(crate::alert::Hub::start(sinks, config.alert_policy.clone()))
}

/// The pseudonym key and the opened consent journal, checked before anything starts and
/// installed only once `init()` has succeeded (a failed `init()` leaves nothing behind).
struct Privacy {
    key: Option<Vec<u8>>,
    journal: Option<crate::consent::Journal>,
}

/// Checks the key, then opens the consent journal (which needs a configured key: with a random
/// one, decisions recorded before a restart could never be read back).
fn prepare_privacy(config: &Config) -> Result<Privacy, InitError> {
    let key = config.pseudonym_key.clone();
    crate::privacy::check_key(key.as_deref()).map_err(|expected| InitError::InvalidValue {
        var: vars::PSEUDONYM_KEY,
        value: "<redacted>".into(),
        expected: expected.into(),
    })?;
    let Some(path) = &config.consent_log else {
        return Ok(Privacy { key, journal: None });
    };
    let Some(key_bytes) = key.as_deref() else {
        return Err(InitError::InvalidValue {
            var: vars::CONSENT_LOG,
            value: path.display().to_string(),
            expected: format!(
                "{} set as well: the journal stores pseudonyms, which must stay the same across restarts",
                vars::PSEUDONYM_KEY
            ),
        });
    };
    let journal_error = |source| InitError::ConsentJournal {
        var: vars::CONSENT_LOG,
        path: path.clone(),
        source,
    };
    // Resolved once: a later change of the working directory must not move the journal.
    let path = std::path::absolute(path).map_err(journal_error)?;
    let pseudonymizer =
        crate::privacy::Pseudonymizer::new(key_bytes).expect("validated by the setter");
    let journal =
        crate::consent::Journal::open(&path, pseudonymizer, &config.consent_policy_version)
            .map_err(|error| match error {
                crate::consent::ConsentError::Io { source, .. } => journal_error(source),
                other => journal_error(std::io::Error::other(other.to_string())),
            })?;
    Ok(Privacy {
        key,
        journal: Some(journal),
    })
}

impl Privacy {
    fn install(self) {
        crate::privacy::install_key(self.key.as_deref());
        if let Some(journal) = self.journal {
            crate::consent::install(journal);
        }
    }
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("metrics_addr", &self.metrics_addr())
            .finish_non_exhaustive()
    }
}

pub(crate) fn start(mut config: Config) -> Result<Telemetry, InitError> {
    if INITIALIZED.swap(true, Ordering::SeqCst) {
        return Err(InitError::AlreadyInitialized);
    }
    // What can fail on bad input comes first, before anything is started.
    let (privacy, log_files) =
        match prepare_privacy(&config).and_then(|p| Ok((p, crate::logs::open_files(&config)?))) {
            Ok(prepared) => prepared,
            Err(error) => {
                INITIALIZED.store(false, Ordering::SeqCst);
                return Err(error);
            }
        };
    // The handler clock calibrates on first use, which can take a few milliseconds: pay it
    // here rather than in the first handler call.
    crate::metrics::clock::calibrate();
    // Bind first: if the address is taken nothing else has been installed yet.
    let metrics = match config.metrics_addr {
        Some(addr) => match MetricsServer::bind(addr, config.metrics_token.clone()) {
            Ok(server) => Some(server),
            Err(source) => {
                INITIALIZED.store(false, Ordering::SeqCst);
                return Err(InitError::Metrics {
                    var: vars::METRICS_ADDR,
                    addr,
                    source,
                });
            }
        },
        None => None,
    };
    let (trace_export, tracer) = match &config.trace_export {
        Some(export) => {
            let started = crate::otlp::Pipeline::start(
                export,
                config.service_name(),
                &config.service_version,
                config.shutdown_timeout,
            );
            match started {
                Ok((pipeline, tracer)) => (Some(pipeline), Some(tracer)),
                Err(error) => {
                    INITIALIZED.store(false, Ordering::SeqCst);
                    return Err(error);
                }
            }
        }
        None => (None, None),
    };
    let hub = match start_alerting(&mut config) {
        Ok(hub) => hub,
        Err(error) => {
            INITIALIZED.store(false, Ordering::SeqCst);
            return Err(error);
        }
    };
    let (subscriber, log_guards) = crate::logs::subscriber(&mut config, log_files, tracer);
    crate::alert::install(hub);
    // INITIALIZED stays set on failure: someone else owns the global subscriber for good.
    tracing::subscriber::set_global_default(subscriber).map_err(InitError::SubscriberAlreadySet)?;
    privacy.install();

    if let Some(addr) = metrics.as_ref().map(MetricsServer::local_addr) {
        if !addr.ip().is_loopback() && config.metrics_token.is_none() {
            tracing::warn!(
                target: "ws_observe",
                %addr,
                "/metrics listens beyond loopback; protect it with WS_OBSERVE_METRICS_TOKEN or a firewall"
            );
        }
        tracing::info!(target: "ws_observe", %addr, "serving /metrics and /healthz");
    }
    Ok(Telemetry {
        metrics,
        shutdown_timeout: config.shutdown_timeout,
        _trace_export: trace_export,
        _log_guards: log_guards,
    })
}
