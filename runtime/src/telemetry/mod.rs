//! The composition root: [`init`], the composable layer ([`Config::into_layer`]), the
//! [`Telemetry`] guard, and the [`registry`] every subsystem's collectors are registered in.
//! The only module that knows every subsystem.

mod layers;
#[cfg(feature = "privacy")]
mod privacy;
mod registry;
mod start;

use std::net::SocketAddr;

use tracing_subscriber::Registry;
use tracing_subscriber::layer::SubscriberExt;

use crate::config::Config;
use crate::error::InitError;
use crate::logs::{JsonSubscriber, LogFormat};
use crate::metrics::MetricsServer;

pub use layers::ObserveLayer;
pub use registry::{exposition, registry, render};

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

/// Owns what [`init`] or [`Config::into_layer`] started. Dropping it delivers queued alerts,
/// stops the `/metrics` listener, flushes the span export and then the log lines, all within
/// the shutdown timeout.
#[must_use = "dropping the Telemetry guard stops /metrics and flushes logs at once"]
pub struct Telemetry {
    metrics: Option<MetricsServer>,
    metrics_token: bool,
    shutdown_timeout: std::time::Duration,
    // Fields drop in order after the alert flush: the listener, then span export (which may
    // log its last failure), then the log writers.
    #[cfg(feature = "otlp")]
    _trace_export: Option<crate::otlp::Pipeline>,
    _log_guards: start::LogGuards,
}

impl Telemetry {
    /// The address `/metrics` is served on (the real port when port 0 was asked), or `None`
    /// when metrics are off.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(MetricsServer::local_addr)
    }
}

impl Drop for Telemetry {
    /// One bound for everything, even when every back-end hangs: queued alerts, then the
    /// listener, then span export share the shutdown time but a reserve, which the log lines
    /// written meanwhile get last.
    fn drop(&mut self) {
        let started = std::time::Instant::now();
        // Durations are at most ten years (env_value), but a setter takes any.
        let deadline = started
            .checked_add(self.shutdown_timeout)
            .unwrap_or(started + std::time::Duration::from_secs(24 * 3600));
        let reserve = (deadline - started) / 4;
        let reserve = reserve.min(std::time::Duration::from_millis(250));
        let before_logs = deadline - reserve;
        crate::alert::flush(before_logs.saturating_duration_since(started));
        drop(self.metrics.take());
        #[cfg(feature = "otlp")]
        if let Some(mut export) = self._trace_export.take() {
            export.set_shutdown_timeout(
                before_logs.saturating_duration_since(std::time::Instant::now()),
            );
            drop(export);
        }
        for guard in self._log_guards.drain(..) {
            guard.finish(deadline);
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

impl Config {
    /// Validates and starts everything, and installs the global `tracing` subscriber; see
    /// [`init`]. A program with a `tracing` stack of its own uses
    /// [`into_layer`](Self::into_layer) instead.
    pub fn init(self) -> Result<Telemetry, InitError> {
        let parts = start::start(self)?;
        // The common production case, JSON lines with a plain `RUST_LOG` and no trace export,
        // gets a subscriber of its own, made for a span per message (see `JsonSubscriber`):
        // the same lines, without the registry's per-span bookkeeping.
        let targets = crate::logs::plain_targets(parts.logs.filter());
        let subscriber: Box<dyn tracing::Subscriber + Send + Sync> =
            match (parts.logs.format(), parts.exports_spans(), targets) {
                (LogFormat::Json, false, Some(targets)) => Box::new(JsonSubscriber::new(
                    parts.writers.clone(),
                    &parts.service_name,
                    targets,
                )),
                (_, _, targets) => {
                    // A global filter, not a per-layer one: every layer follows RUST_LOG alike,
                    // and the registry then keeps no per-layer filter state for each span.
                    let filter = crate::logs::level_filter(parts.logs.filter(), targets);
                    Box::new(
                        Registry::default()
                            .with(filter)
                            .with(layers::unfiltered::<_>(&parts, parts.exports_spans())),
                    )
                }
            };
        // Nothing is installed before the subscriber is: if another one is there already,
        // everything started is stopped again and `into_layer()` remains possible.
        if let Err(error) = tracing::subscriber::set_global_default(subscriber) {
            parts.abandon();
            return Err(InitError::SubscriberAlreadySet(error));
        }
        parts.install_alerts();
        Ok(parts.finish())
    }

    /// Starts everything [`init`] starts (the `/metrics` listener, the alert hub with every
    /// configured sink, span export, the log writers, the privacy state) without installing
    /// any global subscriber, and returns the `tracing` layer that writes ws-observe's log
    /// lines and exports its spans, for a subscriber of your own, with the guard.
    ///
    /// The layer carries its own `RUST_LOG` filter (a per-layer filter, which needs
    /// `tracing_subscriber::registry()` underneath), so your other layers see what their own
    /// filters let through. Alerts raised by handlers reach every sink as under `init()`.
    ///
    /// With trace export configured (`OTEL_EXPORTER_OTLP_ENDPOINT`), the layer includes
    /// ws-observe's `tracing-opentelemetry` layer. If your stack has an OpenTelemetry layer of
    /// its own, call [`disable_trace_export`](Self::disable_trace_export) first: two such layers
    /// on one subscriber conflict (tracing-opentelemetry panics on the second one's span data),
    /// and yours exports the handler spans anyway; log lines still carry their trace ids.
    ///
    /// ```no_run
    /// use tracing_subscriber::layer::SubscriberExt;
    /// use tracing_subscriber::util::SubscriberInitExt;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (observe, _telemetry) = ws_observe_runtime::Config::from_env()?.into_layer()?;
    /// tracing_subscriber::registry()
    ///     .with(observe)
    ///     .with(tracing_subscriber::fmt::layer().with_target(false)) // a layer of your own
    ///     .init();
    /// # Ok(()) }
    /// ```
    pub fn into_layer<S>(self) -> Result<(ObserveLayer<S>, Telemetry), InitError>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
    {
        let parts = start::start(self)?;
        let layer = layers::filtered(&parts);
        parts.install_alerts();
        Ok((layer, parts.finish()))
    }
}
