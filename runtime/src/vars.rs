//! The environment variables ws-observe reads (besides OpenTelemetry's, in
//! [`otlp::vars`](crate::otlp::vars)). Each subsystem reads its own through its `from_vars`;
//! the README's configuration table is the complete list.

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
