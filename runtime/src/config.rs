//! Configuration: read from the environment, adjusted by a builder, validated before anything
//! starts. The builder wins over the environment, which wins over the defaults.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

use crate::metrics::ServeError;

/// The default `/metrics` address: loopback only, so metrics are never public by accident.
pub const DEFAULT_METRICS_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9464);

/// Environment variables read by [`Config::from_env`].
pub mod vars {
    /// `/metrics` listener address; `off` disables it; port 0 picks a free port.
    pub const METRICS_ADDR: &str = "WS_OBSERVE_METRICS_ADDR";
    /// Bearer token required on `/metrics`.
    pub const METRICS_TOKEN: &str = "WS_OBSERVE_METRICS_TOKEN";
    /// Log and span filter, `tracing-subscriber`'s `EnvFilter` syntax.
    pub const RUST_LOG: &str = "RUST_LOG";
    /// `json` (default) or `pretty`.
    pub const LOG_FORMAT: &str = "WS_OBSERVE_LOG_FORMAT";
    /// Directory of rotated log files (`{service}.{time}.{n}.log`); unset: no files.
    pub const LOG_DIR: &str = "WS_OBSERVE_LOG_DIR";
    /// `hourly`, `daily` (default) or `never`: when a new log file starts.
    pub const LOG_ROTATION: &str = "WS_OBSERVE_LOG_ROTATION";
    /// Size at which a new log file starts: `100MB` (10^6) or `100MiB` (2^20); default `100MB`.
    pub const LOG_MAX_SIZE: &str = "WS_OBSERVE_LOG_MAX_SIZE";
    /// Log files kept in all, the active one included (default `10`).
    pub const LOG_MAX_FILES: &str = "WS_OBSERVE_LOG_MAX_FILES";
    /// `on` (default) or `off`: whether lines also go to stdout when files are on.
    pub const LOG_STDOUT: &str = "WS_OBSERVE_LOG_STDOUT";
    /// The service name on every log line (and, with export on, on every span).
    pub const SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
    /// How long dropping the `Telemetry` guard may take to flush spans, logs and alerts
    /// (`5s`, `500ms`, `1m`).
    pub const SHUTDOWN_TIMEOUT: &str = "WS_OBSERVE_SHUTDOWN_TIMEOUT";
    /// Alertmanager base URL(s), comma-separated (an HA pair gets every alert).
    pub const ALERTMANAGER_URL: &str = "WS_OBSERVE_ALERTMANAGER_URL";
    /// A Slack-compatible JSON webhook for alerts.
    pub const ALERT_WEBHOOK_URL: &str = "WS_OBSERVE_ALERT_WEBHOOK_URL";
    /// Quiet time after which a firing alert is resolved (`5m`).
    pub const ALERT_RESOLVE_AFTER: &str = "WS_OBSERVE_ALERT_RESOLVE_AFTER";
    /// How often a firing alert is re-sent to Alertmanager (`60s`).
    pub const ALERT_RESEND_INTERVAL: &str = "WS_OBSERVE_ALERT_RESEND_INTERVAL";
    /// Window in which the same handler and error type alert once (`60s`).
    pub const ALERT_DEDUPE_WINDOW: &str = "WS_OBSERVE_ALERT_DEDUPE_WINDOW";
    /// Alerts per minute each sink accepts at most (`60`).
    pub const ALERT_RATE_LIMIT: &str = "WS_OBSERVE_ALERT_RATE_LIMIT";
    /// Sentry DSN: alerts become Sentry events.
    pub const SENTRY_DSN: &str = "SENTRY_DSN";
    /// Sentry environment tag.
    pub const SENTRY_ENVIRONMENT: &str = "SENTRY_ENVIRONMENT";
    /// Sentry release tag.
    pub const SENTRY_RELEASE: &str = "SENTRY_RELEASE";
    /// Secret key of the HMAC-SHA256 pseudonyms (`redact(...)`, `privacy::pseudonymize`), at
    /// least 16 bytes. Unset: a random key per process, and a warning.
    pub const PSEUDONYM_KEY: &str = "WS_OBSERVE_PSEUDONYM_KEY";
    /// Path of the append-only consent journal (`consent::record`); needs `PSEUDONYM_KEY`.
    pub const CONSENT_LOG: &str = "WS_OBSERVE_CONSENT_LOG";
    /// Version of the privacy policy written on each consent line (default `unspecified`).
    pub const CONSENT_POLICY_VERSION: &str = "WS_OBSERVE_CONSENT_POLICY_VERSION";
}

/// Why [`init`](crate::init) (or a [`Config`] setter) refused to start. Nothing was started.
///
/// Its `Debug` is its message and cause, so `fn main() -> Result<(), Box<dyn Error>>` with
/// `init()?` prints a readable line rather than a struct dump.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// A variable (or builder value) could not be parsed.
    #[error("invalid value `{value}` for {var}: {expected}")]
    InvalidValue {
        /// The environment variable the value belongs to.
        var: &'static str,
        /// The value as given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// `init()` was already called in this process (the global subscriber cannot be replaced).
    #[error(
        "ws-observe is already initialized: call `runtime::init()` once per process and keep its guard"
    )]
    AlreadyInitialized,
    /// Another global `tracing` subscriber is installed.
    #[error(
        "a global tracing subscriber is already installed; ws-observe needs to install its own"
    )]
    SubscriberAlreadySet(#[source] tracing::subscriber::SetGlobalDefaultError),
    /// The span exporter could not be built.
    #[error("cannot export spans to {endpoint}: {reason}")]
    TraceExport {
        /// The configured endpoint.
        endpoint: String,
        /// What failed.
        reason: String,
    },
    /// The log directory could not be used.
    #[error("cannot write log files in {path} (from {var}): {source}")]
    LogDir {
        /// The variable that named it.
        var: &'static str,
        /// The directory.
        path: std::path::PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The consent journal could not be opened.
    #[error("cannot open the consent journal {path} (from {var}): {source}")]
    ConsentJournal {
        /// The variable that named it.
        var: &'static str,
        /// The path.
        path: std::path::PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The `/metrics` listener could not start.
    #[error("{source} (from {var}={addr})")]
    Metrics {
        /// The variable that set the address.
        var: &'static str,
        /// The address that failed.
        addr: SocketAddr,
        /// What failed.
        #[source]
        source: ServeError,
    },
}

impl std::fmt::Debug for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One JSON object per line, for ELK and Loki.
    #[default]
    Json,
    /// Human-readable multi-line output, for a terminal.
    Pretty,
}

/// Rotated log files: where, and when a new file starts (see
/// [`logs::file`](crate::logs::file)).
///
/// ```
/// use ws_observe_runtime::{Config, LogFiles};
/// use ws_observe_runtime::logs::file::Rotation;
/// let files = LogFiles::new("/var/log/my-app")
///     .rotation(Rotation::Hourly)
///     .max_size(Some(50_000_000))
///     .max_files(24);
/// let config = Config::default().with_log_files(files);
/// # let _ = config;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFiles {
    pub(crate) dir: std::path::PathBuf,
    pub(crate) rotation: crate::logs::file::Rotation,
    pub(crate) max_size: Option<u64>,
    pub(crate) max_files: usize,
}

impl LogFiles {
    /// Files in `dir`, with the defaults: a new file daily or at 100 MB, 10 files kept.
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Self {
        LogFiles {
            dir: dir.into(),
            rotation: crate::logs::file::Rotation::Daily,
            max_size: Some(100_000_000),
            max_files: 10,
        }
    }

    /// When a new file starts by time.
    pub fn rotation(mut self, rotation: crate::logs::file::Rotation) -> Self {
        self.rotation = rotation;
        self
    }

    /// When a new file starts by size (`None`: no size limit).
    pub fn max_size(mut self, bytes: Option<u64>) -> Self {
        self.max_size = bytes;
        self
    }

    /// Files kept in all, the active one included (at least 1).
    pub fn max_files(mut self, files: usize) -> Self {
        self.max_files = files.max(1);
        self
    }
}

/// Everything [`init`](crate::init) sets up.
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
    pub(crate) metrics_addr: Option<SocketAddr>,
    pub(crate) metrics_token: Option<String>,
    pub(crate) log_filter: String,
    pub(crate) log_format: LogFormat,
    pub(crate) log_writer: Option<Box<dyn Write + Send>>,
    pub(crate) log_files: Option<LogFiles>,
    pub(crate) log_stdout: bool,
    /// `OTEL_SERVICE_NAME`; wins over the builder's (the ecs-logging and OpenTelemetry rule).
    service_name_from_env: Option<String>,
    service_name: String,
    pub(crate) service_version: String,
    pub(crate) trace_export: Option<crate::otlp::TraceExport>,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) alertmanager_urls: Vec<String>,
    pub(crate) alert_webhook_url: Option<String>,
    /// DSN, environment, release.
    pub(crate) sentry: Option<(String, Option<String>, Option<String>)>,
    pub(crate) alert_policy: crate::alert::Policy,
    pub(crate) alert_sinks: Vec<Box<dyn crate::alert::AlertSink>>,
    pub(crate) pseudonym_key: Option<Vec<u8>>,
    pub(crate) consent_log: Option<std::path::PathBuf>,
    pub(crate) consent_policy_version: String,
}

impl Default for Config {
    /// The defaults, ignoring the environment: `/metrics` on 127.0.0.1:9464 without a token,
    /// JSON logs at `info` on stdout.
    fn default() -> Self {
        Config {
            metrics_addr: Some(DEFAULT_METRICS_ADDR),
            metrics_token: None,
            log_filter: "info".to_owned(),
            log_format: LogFormat::Json,
            log_writer: None,
            log_files: None,
            log_stdout: true,
            service_name_from_env: None,
            service_name: default_service_name(),
            service_version: "unknown".to_owned(),
            trace_export: None,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            alertmanager_urls: Vec::new(),
            alert_webhook_url: None,
            sentry: None,
            alert_policy: crate::alert::Policy::default(),
            alert_sinks: Vec::new(),
            pseudonym_key: None,
            consent_log: None,
            consent_policy_version: "unspecified".to_owned(),
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
        f.debug_struct("Config")
            .field("metrics_addr", &self.metrics_addr)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .field("log_filter", &self.log_filter)
            .field("log_format", &self.log_format)
            .field("service_name", &self.service_name())
            .field("trace_export", &self.trace_export)
            .field(
                "pseudonym_key",
                &self.pseudonym_key.as_ref().map(|_| "<redacted>"),
            )
            .field("consent_log", &self.consent_log)
            .finish_non_exhaustive()
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
        let mut config = Config::default();
        if let Some(value) = lookup(vars::METRICS_ADDR) {
            config.metrics_addr = parse_metrics_addr(&value)?;
        }
        if let Some(value) = lookup(vars::METRICS_TOKEN) {
            config = config.set_metrics_token(value)?;
        }
        if let Some(value) = lookup(vars::RUST_LOG) {
            // An empty RUST_LOG is common in shells and means "not set".
            if !value.trim().is_empty() {
                config = config.set_log_filter(&value)?;
            }
        }
        if let Some(value) = lookup(vars::LOG_FORMAT) {
            config.log_format = parse_log_format(&value)?;
        }
        config.log_files = log_files_from_vars(&lookup)?;
        if let Some(value) = lookup(vars::LOG_STDOUT).filter(|v| !v.trim().is_empty()) {
            config.log_stdout = match value.trim().to_ascii_lowercase().as_str() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" => false,
                _ => {
                    return Err(InitError::InvalidValue {
                        var: vars::LOG_STDOUT,
                        value,
                        expected: "`on` or `off`".into(),
                    });
                }
            };
        }
        if let Some(value) = lookup(vars::SERVICE_NAME) {
            config = config.set_service_name(&value)?;
            config.service_name_from_env = Some(config.service_name.clone());
        }
        if let Some(value) = lookup(vars::SHUTDOWN_TIMEOUT) {
            config.shutdown_timeout = parse_duration(vars::SHUTDOWN_TIMEOUT, &value)?;
        }
        config.trace_export = crate::otlp::from_vars(&lookup)?;
        if let Some(value) = lookup(vars::ALERTMANAGER_URL) {
            let urls: Vec<String> = value
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect();
            for url in &urls {
                check_http_url(vars::ALERTMANAGER_URL, url)?;
            }
            config.alertmanager_urls = urls;
        }
        if let Some(value) = lookup(vars::ALERT_WEBHOOK_URL).filter(|v| !v.trim().is_empty()) {
            check_http_url(vars::ALERT_WEBHOOK_URL, value.trim())?;
            config.alert_webhook_url = Some(value.trim().to_owned());
        }
        if let Some(dsn) = lookup(vars::SENTRY_DSN).filter(|v| !v.trim().is_empty()) {
            config = config.set_sentry(
                dsn.trim(),
                lookup(vars::SENTRY_ENVIRONMENT).filter(|v| !v.is_empty()),
                lookup(vars::SENTRY_RELEASE).filter(|v| !v.is_empty()),
            )?;
        }
        if let Some(key) = lookup(vars::PSEUDONYM_KEY) {
            config = config.set_pseudonym_key(crate::privacy::key_from_text(&key))?;
        }
        if let Some(path) = lookup(vars::CONSENT_LOG).filter(|v| !v.trim().is_empty()) {
            config = config.set_consent_log(path.trim());
        }
        if let Some(version) = lookup(vars::CONSENT_POLICY_VERSION) {
            if config.consent_log.is_none() {
                return Err(InitError::InvalidValue {
                    var: vars::CONSENT_POLICY_VERSION,
                    value: version,
                    expected: format!(
                        "{} set as well: the version is written on consent lines",
                        vars::CONSENT_LOG
                    ),
                });
            }
            config = config.set_consent_policy_version(&version)?;
        }
        let policy = &mut config.alert_policy;
        if let Some(value) = lookup(vars::ALERT_RESOLVE_AFTER) {
            policy.resolve_after = parse_duration(vars::ALERT_RESOLVE_AFTER, &value)?;
        }
        if let Some(value) = lookup(vars::ALERT_RESEND_INTERVAL) {
            policy.resend_interval = parse_duration(vars::ALERT_RESEND_INTERVAL, &value)?;
        }
        if let Some(value) = lookup(vars::ALERT_DEDUPE_WINDOW) {
            policy.dedupe_window = parse_duration(vars::ALERT_DEDUPE_WINDOW, &value)?;
        }
        if let Some(value) = lookup(vars::ALERT_RATE_LIMIT) {
            policy.rate_per_minute =
                value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| InitError::InvalidValue {
                        var: vars::ALERT_RATE_LIMIT,
                        value: value.clone(),
                        expected: "a positive whole number of alerts per minute".into(),
                    })?;
        }
        Ok(config)
    }

    /// Serves `/metrics` and `/healthz` on `addr` (port 0: any free port, see
    /// [`Telemetry::metrics_addr`](crate::Telemetry::metrics_addr)).
    pub fn set_metrics_addr(mut self, addr: SocketAddr) -> Self {
        self.metrics_addr = Some(addr);
        self
    }

    /// Serves no `/metrics` at all (the registry still records everything).
    pub fn disable_metrics(mut self) -> Self {
        self.metrics_addr = None;
        self
    }

    /// Requires `Authorization: Bearer <token>` on `/metrics`. An empty or blank token is an
    /// error rather than silently "no protection".
    pub fn set_metrics_token(mut self, token: impl Into<String>) -> Result<Self, InitError> {
        let token = token.into();
        if token.trim().is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InitError::InvalidValue {
                var: vars::METRICS_TOKEN,
                value: if token.is_empty() {
                    String::new()
                } else {
                    "<redacted>".into()
                },
                expected: "a non-empty token without spaces or control characters".into(),
            });
        }
        self.metrics_token = Some(token);
        Ok(self)
    }

    /// Sets the log and span filter (`RUST_LOG` syntax, e.g. `info,my_app=debug`).
    pub fn set_log_filter(mut self, filter: &str) -> Result<Self, InitError> {
        EnvFilter::builder()
            .parse(filter)
            .map_err(|e| InitError::InvalidValue {
                var: vars::RUST_LOG,
                value: filter.to_owned(),
                expected: format!("a tracing filter such as `info,my_app=debug` ({e})"),
            })?;
        self.log_filter = filter.to_owned();
        Ok(self)
    }

    /// Chooses JSON or pretty logs.
    pub fn with_log_format(mut self, format: LogFormat) -> Self {
        self.log_format = format;
        self
    }

    /// Writes log lines to `writer` instead of stdout (still through the non-blocking queue).
    pub fn with_log_writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.log_writer = Some(Box::new(writer));
        self
    }

    /// Also writes log lines to rotated files (what `WS_OBSERVE_LOG_DIR` and its companions
    /// configure).
    pub fn with_log_files(mut self, files: LogFiles) -> Self {
        self.log_files = Some(files);
        self
    }

    /// Writes no log files, whatever the environment says.
    pub fn disable_log_files(mut self) -> Self {
        self.log_files = None;
        self
    }

    /// Whether log lines go to stdout (or the [`with_log_writer`](Self::with_log_writer)
    /// writer) as well as to the files; default `true`.
    pub fn log_to_stdout(mut self, enabled: bool) -> Self {
        self.log_stdout = enabled;
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

    /// Exports spans as `export` says (what `OTEL_EXPORTER_OTLP_*` configure).
    ///
    /// ```
    /// use ws_observe_runtime::otlp::{Protocol, TraceExport};
    /// let config = ws_observe_runtime::Config::default()
    ///     .with_trace_export(TraceExport::new(Protocol::Grpc, "http://127.0.0.1:4317").unwrap());
    /// # let _ = config;
    /// ```
    pub fn with_trace_export(mut self, export: crate::otlp::TraceExport) -> Self {
        self.trace_export = Some(export);
        self
    }

    /// Exports no spans, whatever the environment says.
    pub fn disable_trace_export(mut self) -> Self {
        self.trace_export = None;
        self
    }

    /// Sends alerts to these Alertmanagers (base URLs; an HA pair gets every alert).
    pub fn set_alertmanager_urls(mut self, urls: &[&str]) -> Result<Self, InitError> {
        for url in urls {
            check_http_url(vars::ALERTMANAGER_URL, url)?;
        }
        self.alertmanager_urls = urls.iter().map(|u| (*u).to_owned()).collect();
        Ok(self)
    }

    /// Sends alerts to this Slack-compatible JSON webhook.
    pub fn set_alert_webhook_url(mut self, url: &str) -> Result<Self, InitError> {
        check_http_url(vars::ALERT_WEBHOOK_URL, url)?;
        self.alert_webhook_url = Some(url.to_owned());
        Ok(self)
    }

    /// Sends alerts to Sentry at `dsn`, tagged with `environment` and `release`.
    pub fn set_sentry(
        mut self,
        dsn: &str,
        environment: Option<String>,
        release: Option<String>,
    ) -> Result<Self, InitError> {
        dsn.parse::<sentry::types::Dsn>()
            .map_err(|e| InitError::InvalidValue {
                var: vars::SENTRY_DSN,
                value: dsn.to_owned(),
                expected: format!("a Sentry DSN such as `https://<key>@<host>/<project>` ({e})"),
            })?;
        self.sentry = Some((dsn.to_owned(), environment, release));
        Ok(self)
    }

    /// Replaces the alert policy (deduplication, rate limit, lifecycle).
    pub fn with_alert_policy(mut self, policy: crate::alert::Policy) -> Self {
        self.alert_policy = policy;
        self
    }

    /// Adds a sink of your own (PagerDuty, a ticket system...): see
    /// [`AlertSink`](crate::alert::AlertSink).
    pub fn add_alert_sink(mut self, sink: impl crate::alert::AlertSink) -> Self {
        self.alert_sinks.push(Box::new(sink));
        self
    }

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
        if let Err(error) = crate::privacy::Pseudonymizer::new(key) {
            return Err(InitError::InvalidValue {
                var: vars::PSEUDONYM_KEY,
                value: "<redacted>".into(),
                expected: error.to_string(),
            });
        }
        self.pseudonym_key = Some(key.to_vec());
        Ok(self)
    }

    /// Opens the consent journal at `path` (see [`consent`](crate::consent)); `init()` refuses
    /// it without a pseudonym key.
    pub fn set_consent_log(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.consent_log = Some(path.into());
        self
    }

    /// The privacy policy version written on each consent line (e.g. `2026-01`).
    pub fn set_consent_policy_version(mut self, version: &str) -> Result<Self, InitError> {
        if version.trim().is_empty() || version.chars().any(char::is_control) {
            return Err(InitError::InvalidValue {
                var: vars::CONSENT_POLICY_VERSION,
                value: version.escape_debug().to_string(),
                expected: "a non-empty version label such as `2026-01`".into(),
            });
        }
        self.consent_policy_version = version.trim().to_owned();
        Ok(self)
    }

    /// Bounds how long dropping the `Telemetry` guard may take (default 5 s).
    pub fn set_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The configured `/metrics` address, `None` when disabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Validates and starts everything; see [`init`](crate::init).
    pub fn init(self) -> Result<crate::Telemetry, InitError> {
        crate::telemetry::start(self)
    }
}

/// `WS_OBSERVE_LOG_DIR` and its companions; the companions without a directory are an error
/// (they would silently do nothing).
fn log_files_from_vars(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<LogFiles>, InitError> {
    let dir = lookup(vars::LOG_DIR).filter(|v| !v.trim().is_empty());
    let Some(dir) = dir else {
        for var in [vars::LOG_ROTATION, vars::LOG_MAX_SIZE, vars::LOG_MAX_FILES] {
            if let Some(value) = lookup(var).filter(|v| !v.trim().is_empty()) {
                return Err(InitError::InvalidValue {
                    var,
                    value,
                    expected: format!("{} set as well: it configures the log files", vars::LOG_DIR),
                });
            }
        }
        return Ok(None);
    };
    let mut files = LogFiles::new(dir.trim());
    if let Some(value) = lookup(vars::LOG_ROTATION).filter(|v| !v.trim().is_empty()) {
        files.rotation = value.parse().map_err(|_| InitError::InvalidValue {
            var: vars::LOG_ROTATION,
            value: value.clone(),
            expected: "`hourly`, `daily` or `never`".into(),
        })?;
    }
    if let Some(value) = lookup(vars::LOG_MAX_SIZE).filter(|v| !v.trim().is_empty()) {
        files.max_size = match value.trim().to_ascii_lowercase().as_str() {
            "none" | "off" => None,
            _ => Some(crate::logs::file::parse_size(&value).map_err(|why| {
                InitError::InvalidValue {
                    var: vars::LOG_MAX_SIZE,
                    value: value.clone(),
                    expected: format!("a size such as `100MB` or `64MiB`, or `none` ({why})"),
                }
            })?),
        };
    }
    if let Some(value) = lookup(vars::LOG_MAX_FILES).filter(|v| !v.trim().is_empty()) {
        files.max_files = value
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| InitError::InvalidValue {
                var: vars::LOG_MAX_FILES,
                value: value.clone(),
                expected: "a whole number of files, at least 1 (the active file counts)".into(),
            })?;
    }
    Ok(Some(files))
}

/// Dropping the guard waits this long at most by default.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// A duration such as `90s`, `5m`, `500ms` or `1h` (a bare number is seconds).
pub(crate) fn parse_duration(var: &'static str, value: &str) -> Result<Duration, InitError> {
    let text = value.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| InitError::InvalidValue {
        var,
        value: value.to_owned(),
        expected: "a duration such as `90s`, `5m`, `500ms` or `1h`".into(),
    })?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => {
            return Err(InitError::InvalidValue {
                var,
                value: value.to_owned(),
                expected: "a duration such as `90s`, `5m`, `500ms` or `1h`".into(),
            });
        }
    };
    Ok(Duration::from_secs_f64(seconds))
}

fn check_http_url(var: &'static str, url: &str) -> Result<(), InitError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(()),
        _ => Err(InitError::InvalidValue {
            var,
            value: url.to_owned(),
            expected: "an http:// or https:// URL such as `http://127.0.0.1:9093`".into(),
        }),
    }
}

fn parse_metrics_addr(value: &str) -> Result<Option<SocketAddr>, InitError> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| InitError::InvalidValue {
            var: vars::METRICS_ADDR,
            value: value.to_owned(),
            expected:
                "an IP address and port such as `127.0.0.1:9464` (port 0 picks one), or `off`"
                    .into(),
        })
}

fn parse_log_format(value: &str) -> Result<LogFormat, InitError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "json" => Ok(LogFormat::Json),
        "pretty" => Ok(LogFormat::Pretty),
        _ => Err(InitError::InvalidValue {
            var: vars::LOG_FORMAT,
            value: value.to_owned(),
            expected: "one of `json`, `pretty`".into(),
        }),
    }
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
        assert_eq!(config.metrics_addr, Some(DEFAULT_METRICS_ADDR));
        assert_eq!(config.metrics_token, None);
        assert_eq!(config.log_filter, "info");
        assert_eq!(config.log_format, LogFormat::Json);
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
        assert_eq!(config.metrics_addr, Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(config.metrics_token.as_deref(), Some("t0ken"));
        assert_eq!(config.log_filter, "warn,my_app=debug");
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert_eq!(
            from(&[("WS_OBSERVE_METRICS_ADDR", "off")])
                .unwrap()
                .metrics_addr,
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
        let files = config.log_files.unwrap();
        assert_eq!(files.rotation, crate::logs::file::Rotation::Hourly);
        assert_eq!(files.max_size, Some(64 << 20));
        assert_eq!(files.max_files, 24);
        assert!(!config.log_stdout);
        let defaults = from(&[
            ("WS_OBSERVE_LOG_DIR", "logs"),
            ("WS_OBSERVE_LOG_ROTATION", ""),
            ("WS_OBSERVE_LOG_MAX_SIZE", " "),
            ("WS_OBSERVE_LOG_MAX_FILES", ""),
            ("WS_OBSERVE_LOG_STDOUT", ""),
        ])
        .unwrap();
        assert_eq!(defaults.log_files, Some(LogFiles::new("logs")));
        assert!(defaults.log_stdout);
        assert!(
            from(&[("WS_OBSERVE_LOG_DIR", "")])
                .unwrap()
                .log_files
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
}
