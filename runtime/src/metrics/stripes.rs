//! Striping: a hot metric cell is kept in several copies, each on its own cache line, and each
//! thread updates "its" copy. Scrapes add the copies up. Without it, two server threads
//! counting messages on the same atomic bounce its cache line between cores on every message.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Copies per striped cell. More threads than stripes share copies, which is still correct.
pub(crate) const STRIPES: usize = 8;

/// One copy, alone on its cache line (128 bytes: the adjacent-line prefetcher pairs lines).
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

static NEXT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// This thread's stripe, assigned round-robin the first time a thread asks.
#[inline]
pub(crate) fn index() -> usize {
    INDEX.with(|index| {
        let current = index.get();
        if current != usize::MAX {
            return current;
        }
        let assigned = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
        index.set(assigned);
        assigned
    })
}
