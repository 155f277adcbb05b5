//! The built-in sinks: the log always; Alertmanager and the webhook with the `alert-http`
//! feature; Sentry with the `sentry` feature.

#[cfg(feature = "alert-http")]
mod alertmanager;
mod log;
#[cfg(feature = "sentry")]
mod sentry;
#[cfg(feature = "alert-http")]
mod webhook;

#[cfg(feature = "sentry")]
pub use self::sentry::SentrySink;
#[cfg(feature = "alert-http")]
pub use alertmanager::AlertmanagerSink;
pub use log::LogSink;
#[cfg(feature = "alert-http")]
pub use webhook::WebhookSink;
