//! The built-in sinks.

mod alertmanager;
mod log;
mod webhook;

pub use alertmanager::AlertmanagerSink;
pub use log::LogSink;
pub use webhook::WebhookSink;
