//! The runtime of [ws-observe](https://docs.rs/ws-observe): everything that is not syntax.
//!
//! Most users reach it through the `ws_observe` facade (`ws_observe::runtime`) and its two
//! attribute macros. It holds, in layers that import downward only (`docs/ARCHITECTURE.md`):
//!
//! - leaves: the [`InitError`], the [`vars`] and their parsing, the metric primitives
//!   ([`metrics`]), the handler span's schema;
//! - subsystems, each with its settings and its counters: [`handler`] (what the macros'
//!   generated code calls), [`ws`], [`logs`], [`otlp`], [`alert`], [`privacy`], [`consent`];
//! - the composition root: [`Config`], [`init`] and [`Config::into_layer`], the [`Telemetry`]
//!   guard and the [`registry`] served on `/metrics`.
//!
//! ```no_run
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // /metrics on 127.0.0.1:9464, JSON logs on stdout; see `Config` for the variables.
//!     let _telemetry = ws_observe_runtime::init()?;
//!     Ok(())
//! }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

// Leaves: import nothing above them.
mod env_value;
mod error;
#[cfg(any(feature = "otlp", feature = "sentry", feature = "alert-http"))]
mod http_client;
#[doc(hidden)]
pub mod message;
pub mod metrics;
#[cfg(feature = "otlp")]
pub mod propagation;
#[doc(hidden)]
pub mod span_schema;
mod timestamp;
pub mod vars;

// Subsystems: each owns its settings and registers its counters into the registry it is given.
pub mod alert;
#[cfg(feature = "privacy")]
pub mod consent;
pub mod handler;
pub mod logs;
#[cfg(feature = "otlp")]
pub mod otlp;
#[cfg(feature = "privacy")]
pub mod privacy;
pub mod ws;

// The composition root.
mod config;
mod telemetry;

pub use config::{Config, DEFAULT_SHUTDOWN_TIMEOUT};
pub use error::InitError;
pub use logs::{LogFiles, LogFormat};
pub use metrics::DEFAULT_METRICS_ADDR;
pub use telemetry::{ObserveLayer, Telemetry, exposition, init, registry, render};

/// Re-exported so generated code and users share one `tracing` version.
pub use tracing;

/// Re-exported so users share ws-observe's OpenTelemetry API version.
#[cfg(feature = "otlp")]
pub use opentelemetry;

/// Re-exported: the Sentry client version of the Sentry sink.
#[cfg(feature = "sentry")]
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
    pub use crate::message as message_probe;
    #[cfg(feature = "privacy")]
    pub use crate::privacy::__redacted;
    #[cfg(not(feature = "privacy"))]
    pub use no_privacy::__redacted;

    /// `redact(...)` in a build without the `privacy` feature: a compile error at the argument.
    #[cfg(not(feature = "privacy"))]
    mod no_privacy {
        #[diagnostic::on_unimplemented(
            message = "`redact(...)` needs ws-observe's `privacy` cargo feature, which this build leaves out",
            label = "no pseudonym can be computed for this argument",
            note = "enable it: `ws-observe = {{ version = \"0.1\", features = [\"privacy\"] }}`"
        )]
        pub trait NeedsThePrivacyFeature {}

        pub fn __redacted<T: NeedsThePrivacyFeature + ?Sized>(_: &T) -> &'static str {
            ""
        }
    }
    pub use crate::span_schema::__pass_span_values as pass_span_values;
    pub use tracing::Level;
}
