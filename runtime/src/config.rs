//! Configuration: the aggregate of every subsystem's settings, read from the environment,
//! adjusted by a builder, validated before anything starts. The builder wins over the
//! environment, which wins over the defaults.
//!
//! Each subsystem parses its own variables (`LogSettings::from_vars`, `AlertSettings::from_vars`,
//! ...); this module only gathers them and holds what every subsystem shares: the service's
//! name and version and the shutdown bound. What starts them is in `telemetry`.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use crate::alert::{AlertSettings, AlertSink, Policy};
#[cfg(feature = "privacy")]
use crate::consent::ConsentSettings;
use crate::env_value::parse_duration;
use crate::error::InitError;
use crate::logs::{LogFiles, LogFormat, LogSettings};
use crate::metrics::ListenerSettings;
#[cfg(feature = "otlp")]
use crate::otlp::TraceExport;
use crate::vars;

/// Dropping the guard waits this long at most by default.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything [`init`](crate::init) and [`Config::into_layer`] set up.
///
/// ```no_run
/// use ws_observe_runtime::Config;
/// # fn main() -> Result<(), ws_observe_runtime::InitError> {
/// let _telemetry = Config::from_env()?
///     .set_metrics_addr("127.0.0.1:0".parse().unwrap())
///     .set_log_filter("info,my_app=debug")?
///     .init()?;
/// # Ok(()) }
/// ```
pub struct Config {
    pub(crate) metrics: ListenerSettings,
    pub(crate) logs: LogSettings,
    /// `OTEL_SERVICE_NAME`; wins over the builder's (the ecs-logging and OpenTelemetry rule).
    service_name_from_env: Option<String>,
    service_name: String,
    pub(crate) service_version: String,
    #[cfg(feature = "otlp")]
    pub(crate) trace_export: Option<TraceExport>,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) alerts: AlertSettings,
    #[cfg(feature = "privacy")]
    pub(crate) pseudonym_key: Option<Vec<u8>>,
    #[cfg(feature = "privacy")]
    pub(crate) consent: ConsentSettings,
}

impl Default for Config {
    /// The defaults, ignoring the environment: `/metrics` on 127.0.0.1:9464 without a token,
    /// JSON logs at `info` on stdout.
    fn default() -> Self {
        Config {
            metrics: ListenerSettings::default(),
            logs: LogSettings::default(),
            service_name_from_env: None,
            service_name: default_service_name(),
            service_version: "unknown".to_owned(),
            #[cfg(feature = "otlp")]
            trace_export: None,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            alerts: AlertSettings::default(),
            #[cfg(feature = "privacy")]
            pseudonym_key: None,
            #[cfg(feature = "privacy")]
            consent: ConsentSettings::default(),
        }
    }
}

/// The executable's file name, as OpenTelemetry SDKs do when no service name is set.
fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown_service".to_owned())
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut f = f.debug_struct("Config");
        f.field("metrics", &self.metrics)
            .field("logs", &self.logs)
            .field("service_name", &self.service_name())
            .field("alerts", &self.alerts);
        #[cfg(feature = "privacy")]
        f.field(
            "pseudonym_key",
            &self.pseudonym_key.as_ref().map(|_| "<redacted>"),
        )
        .field("consent", &self.consent);
        #[cfg(feature = "otlp")]
        f.field("trace_export", &self.trace_export);
        f.finish_non_exhaustive()
    }
}

impl Config {
    /// The defaults overridden by the process environment.
    pub fn from_env() -> Result<Self, InitError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The defaults overridden by variables from `lookup` (a name → value function), for
    /// configuration kept somewhere else than the environment, and for tests.
    ///
    /// ```
    /// use ws_observe_runtime::Config;
    /// let err = Config::from_vars(|name| (name == "WS_OBSERVE_METRICS_ADDR").then(|| "nope".into()))
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("WS_OBSERVE_METRICS_ADDR"));
    /// ```
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, InitError> {
        let mut config = Config {
            metrics: ListenerSettings::from_vars(&lookup)?,
            logs: LogSettings::from_vars(&lookup)?,
            #[cfg(feature = "otlp")]
            trace_export: crate::otlp::from_vars(&lookup)?,
            alerts: AlertSettings::from_vars(&lookup)?,
            #[cfg(feature = "privacy")]
            pseudonym_key: crate::privacy::key_from_vars(&lookup)?,
            #[cfg(feature = "privacy")]
            consent: ConsentSettings::from_vars(&lookup)?,
            ..Config::default()
        };
        #[cfg(not(feature = "otlp"))]
        refuse_trace_export(&lookup)?;
        #[cfg(not(feature = "privacy"))]
        refuse_privacy(&lookup)?;
        if let Some(value) = lookup(vars::SERVICE_NAME) {
            config = config.set_service_name(&value)?;
            config.service_name_from_env = Some(config.service_name.clone());
        }
        if let Some(value) = lookup(vars::SHUTDOWN_TIMEOUT) {
            config.shutdown_timeout = parse_duration(vars::SHUTDOWN_TIMEOUT, &value)?;
        }
        Ok(config)
    }

    /// Serves `/metrics` and `/healthz` on `addr` (port 0: any free port, see
    /// [`Telemetry::metrics_addr`](crate::Telemetry::metrics_addr)).
    pub fn set_metrics_addr(mut self, addr: SocketAddr) -> Self {
        self.metrics.addr = Some(addr);
        self
    }

    /// Serves no `/metrics` at all (the registry still records everything).
    pub fn disable_metrics(mut self) -> Self {
        self.metrics.addr = None;
        self
    }

    /// Requires `Authorization: Bearer <token>` on `/metrics`. An empty or blank token is an
    /// error rather than silently "no protection".
    pub fn set_metrics_token(mut self, token: impl Into<String>) -> Result<Self, InitError> {
        self.metrics.set_token(token)?;
        Ok(self)
    }

    /// Sets the log and span filter (`RUST_LOG` syntax, e.g. `info,my_app=debug`).
    pub fn set_log_filter(mut self, filter: &str) -> Result<Self, InitError> {
        self.logs.set_filter(filter)?;
        Ok(self)
    }

    /// Chooses JSON or pretty logs.
    pub fn with_log_format(mut self, format: LogFormat) -> Self {
        self.logs.format = format;
        self
    }

    /// Writes log lines to `writer` instead of stdout (still through the non-blocking queue).
    pub fn with_log_writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.logs.writer = Some(Box::new(writer));
        self
    }

    /// Also writes log lines to rotated files (what `WS_OBSERVE_LOG_DIR` and its companions
    /// configure).
    pub fn with_log_files(mut self, files: LogFiles) -> Self {
        self.logs.files = Some(files);
        self
    }

    /// Writes no log files, whatever the environment says.
    pub fn disable_log_files(mut self) -> Self {
        self.logs.files = None;
        self
    }

    /// Whether log lines go to stdout (or the [`with_log_writer`](Self::with_log_writer)
    /// writer) as well as to the files; default `true`.
    pub fn log_to_stdout(mut self, enabled: bool) -> Self {
        self.logs.stdout = enabled;
        self
    }

    /// Names the service on log lines and spans (`service.name`), unless `OTEL_SERVICE_NAME`
    /// is set (which wins, as OpenTelemetry and ecs-logging specify). Default: the
    /// executable's file name.
    pub fn set_service_name(mut self, name: &str) -> Result<Self, InitError> {
        if name.trim().is_empty() {
            return Err(InitError::InvalidValue {
                var: vars::SERVICE_NAME,
                value: name.to_owned(),
                expected: "a non-empty service name".into(),
            });
        }
        self.service_name = name.trim().to_owned();
        Ok(self)
    }

    /// The `service.name` in effect.
    pub fn service_name(&self) -> &str {
        self.service_name_from_env
            .as_deref()
            .unwrap_or(&self.service_name)
    }

    /// Sets `service.version` on exported spans (default `unknown`; pass your crate's
    /// `env!("CARGO_PKG_VERSION")`). `service.version` in `OTEL_RESOURCE_ATTRIBUTES` wins.
    pub fn set_service_version(mut self, version: &str) -> Self {
        self.service_version = version.to_owned();
        self
    }

    #[cfg(feature = "otlp")]
    /// Exports spans as `export` says (what `OTEL_EXPORTER_OTLP_*` configure).
    ///
    /// ```
    /// use ws_observe_runtime::otlp::{Protocol, TraceExport};
    /// let export = TraceExport::new(Protocol::HttpProtobuf, "http://127.0.0.1:4318").unwrap();
    /// let config = ws_observe_runtime::Config::default().with_trace_export(export);
    /// # let _ = config;
    /// ```
    pub fn with_trace_export(mut self, export: TraceExport) -> Self {
        self.trace_export = Some(export);
        self
    }

    #[cfg(feature = "otlp")]
    /// Exports no spans, whatever the environment says.
    pub fn disable_trace_export(mut self) -> Self {
        self.trace_export = None;
        self
    }

    /// Sends alerts to these Alertmanagers (base URLs; an HA pair gets every alert).
    pub fn set_alertmanager_urls(mut self, urls: &[&str]) -> Result<Self, InitError> {
        self.alerts.set_alertmanager_urls(urls)?;
        Ok(self)
    }

    /// Sends alerts to this Slack-compatible JSON webhook.
    pub fn set_alert_webhook_url(mut self, url: &str) -> Result<Self, InitError> {
        self.alerts.set_webhook_url(url)?;
        Ok(self)
    }

    /// Sends alerts to Sentry at `dsn`, tagged with `environment` and `release`.
    pub fn set_sentry(
        mut self,
        dsn: &str,
        environment: Option<String>,
        release: Option<String>,
    ) -> Result<Self, InitError> {
        self.alerts.set_sentry(dsn, environment, release)?;
        Ok(self)
    }

    /// Replaces the alert policy (deduplication, rate limit, lifecycle).
    pub fn with_alert_policy(mut self, policy: Policy) -> Self {
        self.alerts.set_policy(policy);
        self
    }

    /// Adds a sink of your own (PagerDuty, a ticket system...): see
    /// [`AlertSink`](crate::alert::AlertSink).
    pub fn add_alert_sink(mut self, sink: impl AlertSink) -> Self {
        self.alerts.add_sink(sink);
        self
    }

    #[cfg(feature = "privacy")]
    /// Keys the pseudonyms of `redact(...)` and [`privacy::pseudonymize`](crate::privacy::pseudonymize)
    /// (any secret bytes, at least 16). From `WS_OBSERVE_PSEUDONYM_KEY`, the variable's text
    /// (trimmed) is the key as it is, not decoded: `openssl rand -hex 32` gives a good one,
    /// used as 64 characters of text. The same key on every replica and across restarts keeps
    /// pseudonyms comparable.
    ///
    /// ```
    /// use ws_observe_runtime::Config;
    /// assert!(Config::default().set_pseudonym_key(b"too short").is_err());
    /// let config = Config::default().set_pseudonym_key(b"0123456789abcdef0123456789abcdef");
    /// assert!(config.is_ok());
    /// ```
    pub fn set_pseudonym_key(mut self, key: &[u8]) -> Result<Self, InitError> {
        self.pseudonym_key = Some(crate::privacy::checked_key(key)?);
        Ok(self)
    }

    #[cfg(feature = "privacy")]
    /// Opens the consent journal at `path` (see [`consent`](crate::consent)); `init()` refuses
    /// it without a pseudonym key.
    pub fn set_consent_log(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.consent.set_log(path);
        self
    }

    #[cfg(feature = "privacy")]
    /// The privacy policy version written on each consent line (e.g. `2026-01`).
    pub fn set_consent_policy_version(mut self, version: &str) -> Result<Self, InitError> {
        self.consent.set_policy_version(version)?;
        Ok(self)
    }

    /// Bounds how long dropping the `Telemetry` guard may take (default 5 s; at most ten
    /// years, longer is taken as ten years).
    pub fn set_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout.min(crate::env_value::MAX_DURATION);
        self
    }

    /// The configured `/metrics` address, `None` when disabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.addr
    }
}

/// Without the `privacy` feature, its variables are errors naming the feature: a key or a
/// journal the operator configured must not be silently ignored.
#[cfg(not(feature = "privacy"))]
fn refuse_privacy(lookup: &impl Fn(&str) -> Option<String>) -> Result<(), InitError> {
    let privacy = [
        vars::PSEUDONYM_KEY,
        vars::CONSENT_LOG,
        vars::CONSENT_POLICY_VERSION,
    ];
    crate::env_value::refuse_unbuilt(lookup, &privacy, "privacy")
}

/// Without the `otlp` feature, an endpoint variable is an error naming the feature, rather
/// than spans silently going nowhere (unless `OTEL_SDK_DISABLED=true` says export is off).
#[cfg(not(feature = "otlp"))]
fn refuse_trace_export(lookup: &impl Fn(&str) -> Option<String>) -> Result<(), InitError> {
    use crate::vars::otlp;
    let disabled = crate::env_value::non_empty(lookup, otlp::SDK_DISABLED)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if disabled {
        return Ok(());
    }
    crate::env_value::refuse_unbuilt(lookup, &[otlp::TRACES_ENDPOINT, otlp::ENDPOINT], "otlp")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, InitError> {
        Config::from_vars(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_without_any_variable() {
        let config = from(&[]).unwrap();
        assert_eq!(config.metrics_addr(), Some(crate::DEFAULT_METRICS_ADDR));
        assert_eq!(config.metrics.token, None);
        assert_eq!(config.logs.filter, "info");
        assert_eq!(config.logs.format, LogFormat::Json);
    }

    #[test]
    fn every_variable_is_read() {
        let config = from(&[
            ("WS_OBSERVE_METRICS_ADDR", "127.0.0.1:0"),
            ("WS_OBSERVE_METRICS_TOKEN", "t0ken"),
            ("RUST_LOG", "warn,my_app=debug"),
            ("WS_OBSERVE_LOG_FORMAT", "pretty"),
            ("OTEL_SERVICE_NAME", "chat"),
        ])
        .unwrap();
        assert_eq!(config.metrics_addr(), Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(config.metrics.token.as_deref(), Some("t0ken"));
        assert_eq!(config.logs.filter, "warn,my_app=debug");
        assert_eq!(config.logs.format, LogFormat::Pretty);
        assert_eq!(config.service_name(), "chat");
        // OTEL_SERVICE_NAME wins over the builder, as OpenTelemetry and ecs-logging specify.
        assert_eq!(
            config.set_service_name("other").unwrap().service_name(),
            "chat"
        );
        assert_eq!(
            from(&[("WS_OBSERVE_METRICS_ADDR", "off")])
                .unwrap()
                .metrics_addr(),
            None
        );
    }

    #[test]
    fn log_file_variables_are_read_and_empty_ones_mean_unset() {
        let config = from(&[
            ("WS_OBSERVE_LOG_DIR", "logs"),
            ("WS_OBSERVE_LOG_ROTATION", "Hourly"),
            ("WS_OBSERVE_LOG_MAX_SIZE", "64MiB"),
            ("WS_OBSERVE_LOG_MAX_FILES", "24"),
            ("WS_OBSERVE_LOG_STDOUT", "off"),
        ])
        .unwrap();
        let files = config.logs.files.unwrap();
        assert_eq!(files.rotation, crate::logs::file::Rotation::Hourly);
        assert_eq!(files.max_size, Some(64 << 20));
        assert_eq!(files.max_files, 24);
        assert!(!config.logs.stdout);
        let defaults = from(&[
            ("WS_OBSERVE_LOG_DIR", "logs"),
            ("WS_OBSERVE_LOG_ROTATION", ""),
            ("WS_OBSERVE_LOG_MAX_SIZE", " "),
            ("WS_OBSERVE_LOG_MAX_FILES", ""),
            ("WS_OBSERVE_LOG_STDOUT", ""),
        ])
        .unwrap();
        assert_eq!(defaults.logs.files, Some(LogFiles::new("logs")));
        assert!(defaults.logs.stdout);
        assert!(
            from(&[("WS_OBSERVE_LOG_DIR", "")])
                .unwrap()
                .logs
                .files
                .is_none()
        );
    }

    #[test]
    fn debug_output_is_the_readable_message_and_its_cause() {
        let error = from(&[("WS_OBSERVE_METRICS_ADDR", "abc")]).unwrap_err();
        assert_eq!(format!("{error:?}"), error.to_string());
        assert!(
            format!("{error:?}").starts_with("invalid value `abc` for WS_OBSERVE_METRICS_ADDR")
        );
    }

    #[test]
    fn bad_values_name_the_variable_and_the_value() {
        for (var, value) in [
            ("WS_OBSERVE_METRICS_ADDR", "localhost"),
            ("WS_OBSERVE_METRICS_ADDR", "127.0.0.1:99999"),
            ("WS_OBSERVE_LOG_FORMAT", "xml"),
            ("RUST_LOG", "my_app=loud"),
        ] {
            let message = from(&[(var, value)]).unwrap_err().to_string();
            assert!(message.contains(var), "{message}");
            assert!(message.contains(value), "{message}");
        }
        let message = from(&[("WS_OBSERVE_METRICS_TOKEN", " ")])
            .unwrap_err()
            .to_string();
        assert!(message.contains("WS_OBSERVE_METRICS_TOKEN"), "{message}");
    }

    #[test]
    fn builder_wins_over_environment() {
        let config = from(&[("WS_OBSERVE_METRICS_ADDR", "127.0.0.1:1234")])
            .unwrap()
            .set_metrics_addr("127.0.0.1:0".parse().unwrap());
        assert_eq!(config.metrics_addr(), Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(from(&[]).unwrap().disable_metrics().metrics_addr(), None);
    }

    /// Without a feature, its variables are refused with an error naming the feature, and
    /// the settings are otherwise unaffected.
    #[test]
    fn a_variable_of_a_feature_this_build_lacks_names_the_feature() {
        let mut lacking: Vec<(&str, &str, &str)> = Vec::new();
        if cfg!(not(feature = "otlp")) {
            lacking.push((
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://127.0.0.1:4318",
                "otlp",
            ));
            lacking.push((
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://127.0.0.1:4318",
                "otlp",
            ));
        }
        if cfg!(all(feature = "otlp", not(feature = "otlp-grpc"))) {
            lacking.push(("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "otlp-grpc"));
        }
        if cfg!(not(feature = "alert-http")) {
            lacking.push((
                "WS_OBSERVE_ALERTMANAGER_URL",
                "http://127.0.0.1:9093",
                "alert-http",
            ));
            lacking.push((
                "WS_OBSERVE_ALERT_WEBHOOK_URL",
                "https://hooks.example/T0/secret",
                "alert-http",
            ));
        }
        if cfg!(not(feature = "env-filter")) {
            lacking.push(("RUST_LOG", "info,[conn]=debug", "env-filter"));
        }
        if cfg!(not(feature = "privacy")) {
            lacking.push((
                "WS_OBSERVE_PSEUDONYM_KEY",
                "a secret key of 16 bytes",
                "privacy",
            ));
            lacking.push((
                "WS_OBSERVE_CONSENT_LOG",
                "/var/lib/app/consent.log",
                "privacy",
            ));
        }
        if cfg!(not(feature = "sentry")) {
            lacking.push(("SENTRY_DSN", "https://key@sentry.example/1", "sentry"));
        }
        for (var, value, feature) in lacking {
            let mut pairs = vec![(var, value)];
            if var == "OTEL_EXPORTER_OTLP_PROTOCOL" {
                pairs.push(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"));
            }
            let message = from(&pairs).unwrap_err().to_string();
            assert!(message.starts_with(var), "{message}");
            assert!(
                message.contains(&format!("`{feature}` cargo feature")),
                "{message}"
            );
            assert!(
                !message.contains("secret") && !message.contains("key@"),
                "{message}"
            );
        }
        if cfg!(not(feature = "otlp")) {
            // OTEL_SDK_DISABLED=true says export is off: nothing is missing.
            assert!(
                from(&[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
                    ("OTEL_SDK_DISABLED", "true"),
                ])
                .is_ok()
            );
        }
    }

    /// Values that would overflow an `Instant` are errors naming the variable, not panics.
    #[test]
    fn durations_too_long_for_a_clock_are_refused() {
        for var in [
            "WS_OBSERVE_SHUTDOWN_TIMEOUT",
            "WS_OBSERVE_ALERT_RESOLVE_AFTER",
            "WS_OBSERVE_ALERT_RESEND_INTERVAL",
            "WS_OBSERVE_ALERT_DEDUPE_WINDOW",
        ] {
            for value in ["99999999999999999999", "18446744073709551615s", "1e300h"] {
                let message = from(&[(var, value)]).unwrap_err().to_string();
                assert!(message.contains(var), "{message}");
            }
        }
        let huge = Config::default().set_shutdown_timeout(Duration::MAX);
        assert!(
            std::time::Instant::now()
                .checked_add(huge.shutdown_timeout * 2)
                .is_some()
        );
    }
}
