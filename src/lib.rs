//! # ws-observe
//!
//! Make a WebSocket server observable with one attribute per handler.
//!
//! ```no_run
//! use ws_observe::{runtime, ws_handler, ws_observe};
//!
//! #[derive(Debug)]
//! struct ParseError;
//! impl std::fmt::Display for ParseError {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("bad frame") }
//! }
//! impl std::error::Error for ParseError {}
//!
//! #[ws_observe] // metrics + span, never alerts
//! fn parse(frame: &str) -> Result<u32, ParseError> {
//!     frame.trim().parse().map_err(|_| ParseError)
//! }
//!
//! #[ws_handler(alert = "critical")] // metrics + span; alert severity on failure
//! async fn on_message(frame: String) -> Result<String, ParseError> {
//!     Ok((parse(&frame)? * 2).to_string())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let _telemetry = runtime::init()?; // /metrics on 127.0.0.1:9464, JSON logs on stdout
//!     println!("{:?}", on_message("21".into()).await);
//!     Ok(())
//! }
//! ```
//!
//! ## What each call records
//!
//! | metric | labels |
//! |---|---|
//! | `ws_handler_calls_total` | `handler`, `module`, `outcome` = `ok`, `error`, `panic`, `cancelled` |
//! | `ws_handler_duration_seconds` (histogram) | `handler`, `module` |
//! | `ws_handler_in_flight` | `handler`, `module` |
//!
//! `outcome` is `error` for `Err(_)` of any `Result` (aliases included), `panic` when the body
//! panicked (the panic goes on unchanged), `cancelled` when an async handler's future was
//! dropped before it finished, and `ok` for anything else. A handler's four series appear at
//! its first call, zeros included.
//!
//! Each call also opens a span named after the handler, with target = your module (so
//! `RUST_LOG=info,my_app=debug` shows your debug spans; keep a default level such as `info`,
//! or the framework's own lines, target `ws_observe`, are filtered out too), and fields `ws.handler`, `code.namespace`,
//! `otel.kind`, and on failure `otel.status_code = "ERROR"`, `error.type` and `error.message`.
//! A failed call also logs one `error` line (target `ws_observe`) inside its span. Argument
//! values are never recorded unless listed in `fields(...)`; an argument listed in
//! `redact(...)` is recorded as its keyed pseudonym (see [`runtime::privacy`]), never as its
//! value. The error's own `Display` text is recorded as `error.message` (and sent with alerts):
//! keep personal data out of error messages, or it is recorded as written.
//!
//! ## Arguments
//!
//! | argument | meaning | default |
//! |---|---|---|
//! | `name = "..."` | `handler` label and span name | the function's name |
//! | `level = "trace" \| "debug" \| "info" \| "warn" \| "error"` | span level | `info` |
//! | `fields(key = expr, key = %expr, key = ?expr, name)` | extra span fields, `tracing` syntax | none |
//! | `redact(arg, ...)` | record these arguments (any `Display` type) as HMAC-SHA256 pseudonyms, in the field `<arg>.pseudonym` | none |
//! | `crate = "path"` | where the `ws_observe` facade is, for re-exports | `::ws_observe` |
//! | `alert = "critical" \| "warning" \| "info"` | (`#[ws_handler]` only) alert severity | never alerts |
//!
//! Supported: free functions and methods (`self`, `&self`, `&mut self`), sync and `async`,
//! generics, lifetimes, `impl Trait` arguments and returns, `where` clauses, `unsafe fn`, any
//! visibility, early `return` and `?`, native `async fn` in traits, and methods of
//! `#[async_trait]` impls (the measured time is the awaited body, not the boxing). A method's
//! `handler` label is the method's name: give methods of several types (two impls of one
//! trait in the same module, say) distinct names with `name = "Type::method"`, or their
//! series are added together. A failing call logs one `error` line, so an error passed up
//! through nested annotated calls is logged at each level it fails. A plain `fn` returning a future that is not a
//! `Box::pin(async { .. })` is measured while it builds the future only; make it `async fn`.
//!
//! ## Configuration
//!
//! [`runtime::init`] reads `WS_OBSERVE_METRICS_ADDR` (default `127.0.0.1:9464`, `off`
//! disables), `WS_OBSERVE_METRICS_TOKEN`, `RUST_LOG` (default `info`),
//! `WS_OBSERVE_LOG_FORMAT` (`json` or `pretty`), the OpenTelemetry variables
//! (`OTEL_EXPORTER_OTLP_*`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_TRACES_SAMPLER*`, `OTEL_SDK_DISABLED`, `OTEL_BSP_*`; see [`runtime::otlp::vars`]),
//! the alerting ones (`WS_OBSERVE_ALERTMANAGER_URL`, `WS_OBSERVE_ALERT_*`, `SENTRY_*`), the log
//! files (`WS_OBSERVE_LOG_DIR`, `_LOG_ROTATION`, `_LOG_MAX_SIZE`, `_LOG_MAX_FILES`,
//! `_LOG_STDOUT`), privacy (`WS_OBSERVE_PSEUDONYM_KEY`, `WS_OBSERVE_CONSENT_LOG`,
//! `WS_OBSERVE_CONSENT_POLICY_VERSION`; see [`runtime::consent`]) and
//! `WS_OBSERVE_SHUTDOWN_TIMEOUT`; [`runtime::vars`] lists them and the README has the full
//! table with defaults. [`runtime::Config`] does the same in code. A malformed value is a
//! [`runtime::InitError`] naming the variable and the value.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

/// Measures a function: metrics and a span; never alerts. See the [crate docs](crate).
///
/// ```
/// #[ws_observe::ws_observe(name = "decode", level = "debug")]
/// fn decode(frame: &[u8]) -> Result<u32, std::num::ParseIntError> {
///     std::str::from_utf8(frame).unwrap_or("").parse()
/// }
/// assert!(decode(b"7").is_ok());
/// ```
pub use ws_observe_macros::ws_observe;

/// Measures a WebSocket handler, and with `alert = "..."` gives it an alert severity. See the
/// [crate docs](crate).
///
/// ```
/// #[ws_observe::ws_handler(alert = "warning", fields(room = %room))]
/// async fn join(room: &str) -> Result<(), std::io::Error> {
///     Ok(())
/// }
/// # let _ = join("lobby");
/// ```
pub use ws_observe_macros::ws_handler;

/// The runtime: [`runtime::init`], [`runtime::Config`], the metrics registry and listener.
pub use ws_observe_runtime as runtime;

/// WebSocket instrumentation: [`ws::accept`], [`ws::accept_hdr`], [`ws::observe`] and the
/// [`ws::ObservedStream`] they return (connection and message metrics, connection span,
/// keepalive).
pub use ws_observe_runtime::ws;

/// The `tracing` version ws-observe records spans with: use it (or the same version) so your
/// own spans and events nest with the handlers'.
pub use tracing;

/// The `prometheus` version of [`runtime::registry`]: register your own metrics with it.
pub use prometheus;

/// The `tokio-tungstenite` version ws-observe is built and tested against (client `connect`
/// included).
pub use tokio_tungstenite;

/// The OpenTelemetry API version ws-observe propagates trace context with.
#[cfg(feature = "otlp")]
pub use ws_observe_runtime::opentelemetry;

/// The Sentry client version of ws-observe's Sentry sink.
#[cfg(feature = "sentry")]
pub use ws_observe_runtime::sentry;

#[doc(hidden)]
pub mod __private {
    pub use ws_observe_runtime::__private::*;
}
