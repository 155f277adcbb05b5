//! The built-in sinks.

mod alertmanager;
mod log;
mod sentry;
mod webhook;

pub use self::sentry::SentrySink;
pub use alertmanager::AlertmanagerSink;
pub use log::LogSink;
pub use webhook::WebhookSink;
