//! Starting the parts every way of assembling ws-observe shares: the `/metrics` listener, the
//! span export pipeline, the alert hub, the log writers and the privacy state. What can fail
//! on bad input is checked first, so a failure leaves nothing started.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[cfg(feature = "otlp")]
use opentelemetry_sdk::trace::SdkTracer;

use super::Telemetry;
#[cfg(feature = "privacy")]
use super::privacy::Privacy;
use crate::alert::Hub;
use crate::config::Config;
use crate::error::InitError;
use crate::logs::{LogSettings, Writers};
use crate::metrics::MetricsServer;
use crate::vars;

/// Set by the first successful start: the alert hub, the privacy state and the listener are
/// process-wide.
static STARTED: AtomicBool = AtomicBool::new(false);

/// The parts, started and not yet installed.
pub(super) struct Parts {
    pub(super) logs: LogSettings,
    pub(super) writers: Writers,
    #[cfg(feature = "otlp")]
    pub(super) tracer: Option<SdkTracer>,
    pub(super) service_name: String,
    /// Pretty lines in colour (asked before the writer was taken).
    pub(super) colours: bool,
    hub: Arc<Hub>,
    #[cfg(feature = "privacy")]
    privacy: Privacy,
    telemetry: Telemetry,
}

/// Starts every part of `config`, or none.
pub(super) fn start(config: Config) -> Result<Parts, InitError> {
    if STARTED.swap(true, Ordering::SeqCst) {
        return Err(InitError::AlreadyInitialized);
    }
    start_parts(config).inspect_err(|_| STARTED.store(false, Ordering::SeqCst))
}

fn start_parts(mut config: Config) -> Result<Parts, InitError> {
    let service_name = config.service_name().to_owned();
    // What can fail on bad input comes first, before anything is started.
    #[cfg(feature = "privacy")]
    let privacy = Privacy::prepare(&config)?;
    let log_files = crate::logs::open_files(&config.logs, &service_name)?;
    // The handler clock calibrates on first use, which can take a few milliseconds: pay it
    // here rather than in the first handler call.
    crate::metrics::clock::calibrate();
    // Bind first: if the address is taken nothing else has been started yet.
    let metrics = match config.metrics.addr {
        Some(addr) => Some(
            MetricsServer::bind(
                addr,
                config.metrics.token.clone(),
                super::registry::exposition(),
            )
            .map_err(|source| InitError::Metrics {
                var: vars::METRICS_ADDR,
                addr,
                source,
            })?,
        ),
        None => None,
    };
    #[cfg(feature = "otlp")]
    let (pipeline, tracer) = match &config.trace_export {
        Some(export) => {
            let (pipeline, tracer) = crate::otlp::Pipeline::start(
                export,
                &service_name,
                &config.service_version,
                config.shutdown_timeout,
            )?;
            (Some(pipeline), Some(tracer))
        }
        None => (None, None),
    };
    let alerts = std::mem::take(&mut config.alerts);
    let hub = alerts.start(&service_name)?;
    let colours = crate::logs::colours(&config.logs);
    let (writers, log_guards) = crate::logs::writers(&mut config.logs, log_files);
    Ok(Parts {
        logs: config.logs,
        writers,
        #[cfg(feature = "otlp")]
        tracer,
        service_name,
        colours,
        hub,
        #[cfg(feature = "privacy")]
        privacy,
        telemetry: Telemetry {
            metrics,
            metrics_token: config.metrics.has_token(),
            shutdown_timeout: config.shutdown_timeout,
            #[cfg(feature = "otlp")]
            _trace_export: pipeline,
            _log_guards: log_guards,
        },
    })
}

impl Parts {
    /// Stops what was started (listener, export, writers, the hub's threads; nothing was
    /// installed) and lets a later start try again.
    pub(super) fn abandon(self) {
        drop(self);
        STARTED.store(false, Ordering::SeqCst);
    }

    /// Whether spans are exported (the OpenTelemetry layer needs the registry).
    pub(super) fn exports_spans(&self) -> bool {
        #[cfg(feature = "otlp")]
        return self.tracer.is_some();
        #[cfg(not(feature = "otlp"))]
        false
    }

    /// Installs the alert hub: from now on handler alerts reach every sink.
    pub(super) fn install_alerts(&self) {
        crate::alert::install(Arc::clone(&self.hub));
    }

    /// Installs the privacy state and returns the guard; logs where `/metrics` is served
    /// (through whatever subscriber is installed by then).
    pub(super) fn finish(self) -> Telemetry {
        #[cfg(feature = "privacy")]
        self.privacy.install();
        if let Some(addr) = self.telemetry.metrics_addr() {
            if !addr.ip().is_loopback() && !self.telemetry.metrics_token {
                // From into_layer() no subscriber listens yet: this one must not be lost.
                if tracing::dispatcher::has_been_set() {
                    tracing::warn!(
                        target: "ws_observe",
                        %addr,
                        "/metrics listens beyond loopback; protect it with WS_OBSERVE_METRICS_TOKEN or a firewall"
                    );
                } else {
                    eprintln!(
                        "ws-observe: /metrics listens on {addr}, beyond loopback, without a \
                         token; protect it with WS_OBSERVE_METRICS_TOKEN or a firewall"
                    );
                }
            }
            tracing::info!(target: "ws_observe", %addr, "serving /metrics and /healthz");
        }
        self.telemetry
    }
}

/// The guards a `Telemetry` owns, in drop order after the alert flush.
pub(super) type LogGuards = Vec<crate::logs::QueueGuard>;
