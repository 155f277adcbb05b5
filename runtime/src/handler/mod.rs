//! The API the macros call: a handler's static [`HandlerMeta`], the [`CallGuard`] of one call,
//! and the classification of its return value into an [`Outcome`].
//!
//! Everything here works without the macros, which is how the runtime is tested and how code
//! that cannot take an attribute (a closure, a trait object) can be measured the same way.

mod alerting;
mod collector;
mod guard;
mod meta;
mod outcome;
mod span_record;

#[doc(inline)]
pub use crate::classify;
pub use crate::span_schema::fields;
#[doc(hidden)]
pub use crate::span_schema::{__pass_span_values, PassedSpanValues, check_user_field};
pub use guard::{Call, CallGuard, instrument};
pub use meta::{DURATION_BUCKETS_SECONDS, HandlerMeta, HandlerSnapshot, registered_handlers};
#[doc(hidden)]
pub use outcome::{Classify, ClassifyAny, ClassifyDisplay, ClassifyResult, ClassifyStdError};
pub use outcome::{ErrorInfo, Outcome, OutcomeKind};

/// Registers `ws_handler_calls_total`, `ws_handler_duration_seconds` and
/// `ws_handler_in_flight` (every handler resolved so far, and later ones) in `registry`.
pub(crate) fn register_metrics(registry: &prometheus::Registry) -> prometheus::Result<()> {
    registry.register(Box::new(collector::HandlerCollector::new()))
}
