//! What a handler span holds, handed to [`JsonSubscriber`](crate::logs::JsonSubscriber) next to the
//! span as well as in it.
//!
//! `tracing` records a span's values by visiting every declared field through two dynamic
//! calls each; for a span per message, that visit was the largest part of the span's cost.
//! When a handler span has no value of the user's (no `fields(...)`, no `redact(...)`), its
//! values are the constant fields (`ws.handler`, `code.namespace`, `otel.kind`, which this
//! subscriber derives from the span's metadata or does not write) and the kind and size of a
//! `Message` argument. The handler macros hand the latter here, on the calling thread, just
//! before opening the span; `new_span` takes them for the span of that name and shape and
//! skips the visit. A guard of the macro clears them just after, whether a span was opened or
//! not (filtered out, or another subscriber, which visits the values as usual), and if opening
//! it unwound. Nothing of the user's runs in between.

use std::cell::Cell;

use tracing::Metadata;

use super::PASSED_SPAN_FIELDS;

#[derive(Clone, Copy)]
struct Passed {
    span_name: &'static str,
    message: Option<(&'static str, u64)>,
}

thread_local! {
    static PASSED: Cell<Option<Passed>> = const { Cell::new(None) };
}

/// The next span named `span_name` on this thread holds only the constant fields, and
/// `message`, the kind and size of its `Message` argument if it has one. Dropping the guard
/// takes this back, whether a span took it or not.
pub(crate) fn pass(
    span_name: &'static str,
    message: Option<(&'static str, u64)>,
) -> PassedSpanValues {
    let _ = PASSED.try_with(|passed| passed.set(Some(Passed { span_name, message })));
    PassedSpanValues(())
}

/// Returned by [`pass`]; clears what was handed over when dropped (also by an unwind).
#[doc(hidden)]
#[must_use]
pub struct PassedSpanValues(());

impl Drop for PassedSpanValues {
    #[inline]
    fn drop(&mut self) {
        let _ = PASSED.try_with(|passed| passed.set(None));
    }
}

/// What was handed over for the span of `metadata`: `None` if nothing was (its values must be
/// visited), else the message kind and size, if any. Taken only by a span of the name handed
/// over and of a handler span's shape (its fields, message ones included).
pub(crate) fn take(metadata: &Metadata<'_>) -> Option<Option<(&'static str, u64)>> {
    let span_name = metadata.name();
    PASSED
        .try_with(|passed| match passed.get() {
            // The same literal, usually at the same address: compared by address first.
            Some(found)
                if (std::ptr::eq(found.span_name, span_name) || found.span_name == span_name)
                    && metadata.fields().len() == PASSED_SPAN_FIELDS =>
            {
                passed.set(None);
                Some(found.message)
            }
            _ => None,
        })
        .ok()
        .flatten()
}
