//! The API the macros call: a handler's static [`HandlerMeta`], the [`CallGuard`] of one call,
//! and the classification of its return value into an [`Outcome`].
//!
//! Everything here works without the macros, which is how the runtime is tested and how code
//! that cannot take an attribute (a closure, a trait object) can be measured the same way.

mod guard;
mod meta;
mod outcome;
mod span_record;

#[doc(inline)]
pub use crate::classify;
pub use guard::{Call, CallGuard, instrument};
pub use meta::{DURATION_BUCKETS_SECONDS, HandlerMeta, HandlerSnapshot, registered_handlers};
#[doc(hidden)]
pub use outcome::{Classify, ClassifyAny, ClassifyDisplay, ClassifyResult, ClassifyStdError};
pub use outcome::{ErrorInfo, Outcome, OutcomeKind};
pub(crate) use span_record::PASSED_SPAN_FIELDS;
pub use span_record::fields;
#[doc(hidden)]
pub use span_record::{__pass_span_values, PassedSpanValues, check_user_field};
