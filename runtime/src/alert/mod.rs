//! Alert vocabulary shared by the handler macros and (later) the alert sinks.
//!
//! In this version `#[ws_handler(alert = "...")]` records the handler's [`Severity`] in its
//! [`HandlerMeta`](crate::handler::HandlerMeta); delivering alerts comes with the sinks.

mod severity;

pub use severity::Severity;
