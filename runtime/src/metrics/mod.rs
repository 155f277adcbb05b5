//! The Prometheus primitives every subsystem records into: lock-free cells ([`cells`]), the
//! handler clock, the metric [`names`], and the `/metrics` listener ([`MetricsServer`]), which
//! serves an [`Exposition`] it is handed. Nothing here knows who produces a metric: each
//! subsystem registers its own collectors into the registry it is given.

pub(crate) mod cells;
pub(crate) mod clock;
mod exposition;
mod fn_counter;
mod listener;
pub mod names;
mod settings;
pub(crate) mod stripes;

pub use crate::error::ServeError;
pub use cells::HistogramSnapshot;
pub use exposition::Exposition;
pub(crate) use fn_counter::FnCounter;
pub use listener::MetricsServer;
pub use settings::{DEFAULT_METRICS_ADDR, ListenerSettings};
