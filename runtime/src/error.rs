//! The errors of set-up: [`InitError`], returned by `init()`, the composable layer and every
//! validating setter, and [`ServeError`], why the `/metrics` listener could not start.

use std::io;
use std::net::SocketAddr;

/// Why [`init`](crate::init) (or a [`Config`](crate::Config) setter) refused to start. Nothing was started.
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
        "ws-observe is already set up in this process: call `runtime::init()` or \
         `Config::into_layer()` once and keep the guard it returns"
    )]
    AlreadyInitialized,
    /// A variable (or setter) asks for a part this build was compiled without.
    #[error(
        "{var} needs ws-observe's `{feature}` cargo feature, which this build leaves out: \
         enable it (`ws-observe = {{ version = \"0.1\", features = [\"{feature}\"] }}`) or unset {var}"
    )]
    FeatureDisabled {
        /// The variable that asked for it.
        var: &'static str,
        /// The cargo feature that provides it.
        feature: &'static str,
    },
    /// Another global `tracing` subscriber is installed: `init()` cannot install its own.
    #[error(
        "a global tracing subscriber is already installed; add ws-observe to it with \
         `Config::from_env()?.into_layer()` instead of `init()`"
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

/// Why the listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound (in use, not local, no permission).
    #[error("failed to bind metrics listener on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The listener thread could not be started.
    #[error("failed to start the metrics listener thread")]
    Thread(#[source] io::Error),
}
