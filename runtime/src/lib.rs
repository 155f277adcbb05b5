//! The runtime of [ws-observe](https://docs.rs/ws-observe): everything that is not syntax.
//!
//! Most users reach it through the `ws_observe` facade (`ws_observe::runtime`) and its two
//! attribute macros. It holds:
//!
//! - [`handler`]: the per-handler static, the call guard and outcome classification that the
//!   macros' generated code calls;
//! - [`metrics`]: the [`registry`] served on `/metrics`, the metric [`names`](metrics::names),
//!   and the HTTP listener;
//! - [`init`] / [`Config`]: set-up from the environment, and the [`Telemetry`] guard.
//!
//! ```no_run
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // /metrics on 127.0.0.1:9464, JSON logs on stdout; see `Config` for the variables.
//!     let _telemetry = ws_observe_runtime::init()?;
//!     Ok(())
//! }
//! ```
#![warn(missing_docs)]

pub mod alert;
mod config;
pub mod consent;
pub mod handler;
mod http_client;
pub mod logs;
pub mod metrics;
pub mod otlp;
pub mod privacy;
pub mod propagation;
mod telemetry;
pub mod ws;

pub use config::{Config, DEFAULT_METRICS_ADDR, InitError, LogFiles, LogFormat, vars};
pub use metrics::registry;
pub use telemetry::{Telemetry, init};

/// Re-exported so generated code and users share one `tracing` version.
pub use tracing;

/// Re-exported so users share ws-observe's OpenTelemetry API version.
pub use opentelemetry;

/// Re-exported: the Sentry client version of the Sentry sink.
pub use sentry;

/// What the macros' generated code uses. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::__handler_span as handler_span;
    pub use crate::alert::Severity;
    pub use crate::handler::{
        Classify, ClassifyAny, ClassifyDisplay, ClassifyResult, ClassifyStdError, HandlerMeta,
        check_user_field, instrument,
    };
    pub use crate::privacy::__redacted;
    pub use tracing::Level;
}
