//! The environment variables ws-observe reads (OpenTelemetry's in [`otlp`](self::otlp)).
//! Each subsystem reads its own through its `from_vars`; the README's configuration table is
//! the complete list.

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

/// The OpenTelemetry variables ws-observe reads (the specification's names), also read
/// without the `otlp` feature, to refuse them clearly.
pub mod otlp {
    /// Base endpoint; for `http/protobuf`, `/v1/traces` is appended.
    pub const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
    /// Traces endpoint, used as given (wins over `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub const TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    /// `grpc` or `http/protobuf` (default).
    pub const PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
    /// Traces-only protocol (wins over `OTEL_EXPORTER_OTLP_PROTOCOL`).
    pub const TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
    /// `key=value,key2=value2` request headers (values percent-decoded).
    pub const HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
    /// Traces-only headers (replace `OTEL_EXPORTER_OTLP_HEADERS`).
    pub const TRACES_HEADERS: &str = "OTEL_EXPORTER_OTLP_TRACES_HEADERS";
    /// Export request timeout in milliseconds (default 10000).
    pub const TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
    /// Traces-only timeout.
    pub const TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
    /// `key=value,...` resource attributes.
    pub const RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
    /// `always_on`, `always_off`, `traceidratio`, `parentbased_always_on` (default),
    /// `parentbased_always_off`, `parentbased_traceidratio`.
    pub const SAMPLER: &str = "OTEL_TRACES_SAMPLER";
    /// The ratio of the `traceidratio` samplers, 0.0 to 1.0 (default 1.0).
    pub const SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
    /// `true` turns every exporter off.
    pub const SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
    /// Spans queued for export at most (default 8192); more are dropped and counted.
    pub const BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
    /// Spans per export request at most (default 512).
    pub const BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
    /// Milliseconds between exports of a partial batch (default 500).
    pub const BSP_SCHEDULE_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
}
