//! The spans each thread has entered, innermost last: the current span is the parent of new
//! spans and the scope of events.
//!
//! One list per thread serves every [`JsonSubscriber`](super::JsonSubscriber) instance; each
//! entry names its subscriber, so a scoped subscriber (tests) never sees another's spans. As
//! in `tracing-subscriber`'s registry, entering a span that is already entered is remembered
//! as a duplicate, so that leaving it again leaves the outer entry current.

use std::cell::RefCell;

struct Entered {
    subscriber: u32,
    id: u64,
    duplicate: bool,
}

thread_local! {
    static ENTERED: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
}

/// `subscriber` entered span `id` on this thread.
pub(super) fn enter(subscriber: u32, id: u64) {
    let _ = ENTERED.try_with(|entered| {
        let mut entered = entered.borrow_mut();
        let duplicate = entered
            .iter()
            .any(|e| e.subscriber == subscriber && e.id == id);
        entered.push(Entered {
            subscriber,
            id,
            duplicate,
        });
    });
}

/// `subscriber` left span `id` on this thread (the innermost entry of it, which is the last
/// one when enters and exits nest, as `tracing`'s guards make them).
pub(super) fn exit(subscriber: u32, id: u64) {
    let _ = ENTERED.try_with(|entered| {
        let mut entered = entered.borrow_mut();
        let is_it = |e: &Entered| e.subscriber == subscriber && e.id == id;
        // Usually the innermost entry.
        if entered.last().is_some_and(is_it) {
            entered.pop();
        } else if let Some(position) = entered.iter().rposition(is_it) {
            entered.remove(position);
        }
    });
}

/// The span `subscriber` has current on this thread, if any.
pub(super) fn current(subscriber: u32) -> Option<u64> {
    ENTERED
        .try_with(|entered| {
            entered
                .borrow()
                .iter()
                .rev()
                .find(|e| e.subscriber == subscriber && !e.duplicate)
                .map(|e| e.id)
        })
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_innermost_entered_span_is_current() {
        assert_eq!(current(1), None);
        enter(1, 10);
        enter(1, 11);
        assert_eq!(current(1), Some(11));
        exit(1, 11);
        assert_eq!(current(1), Some(10));
        exit(1, 10);
        assert_eq!(current(1), None);
    }

    #[test]
    fn re_entering_a_span_keeps_the_outer_entry() {
        enter(2, 10);
        enter(2, 11);
        enter(2, 10); // a duplicate: 11 stays current
        assert_eq!(current(2), Some(11));
        exit(2, 10);
        assert_eq!(current(2), Some(11));
        exit(2, 11);
        assert_eq!(current(2), Some(10));
        exit(2, 10);
        assert_eq!(current(2), None);
    }

    #[test]
    fn each_subscriber_sees_only_its_own_spans() {
        enter(3, 10);
        enter(4, 20);
        assert_eq!(current(3), Some(10));
        assert_eq!(current(4), Some(20));
        exit(3, 10);
        assert_eq!(current(3), None);
        assert_eq!(current(4), Some(20));
        exit(4, 20);
    }

    #[test]
    fn spans_entered_out_of_order_are_left_by_id() {
        enter(5, 10);
        enter(5, 11);
        exit(5, 10); // a future's span left while an inner guard still lives
        assert_eq!(current(5), Some(11));
        exit(5, 11);
        assert_eq!(current(5), None);
    }
}
