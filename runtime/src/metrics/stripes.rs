//! Striping: a hot metric cell is kept in several copies, each on its own cache line, and each
//! thread updates "its" copy. Scrapes add the copies up. Without it, two server threads
//! counting messages on the same atomic bounce its cache line between cores on every message.
//!
//! Most threads own their copy outright (the first `OWNED` threads to ask, typically the
//! runtime's workers): with no other writer, an update is a plain load and store instead of
//! an atomic read-modify-write, whose locked instruction is most of a counter's cost. Threads
//! beyond those share the remaining copies and update them atomically. A thread gives its
//! copy back when it exits, for the next thread to own.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Copies per striped cell. More threads than stripes share copies, which is still correct.
pub(crate) const STRIPES: usize = 16;
/// Copies a thread can own; the others are shared.
const OWNED: usize = 12;
const _: () = assert!(OWNED < STRIPES && OWNED <= u64::BITS as usize);

/// One copy, alone on its cache line (128 bytes: the adjacent-line prefetcher pairs lines).
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

/// Which copies are owned by a live thread, one bit each.
static OWNED_STRIPES: AtomicU64 = AtomicU64::new(0);
/// Round-robin among the shared copies.
static NEXT_SHARED: AtomicUsize = AtomicUsize::new(0);

/// The copy a thread updates, and whether it is the only thread that does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stripe {
    index: usize,
    owned: bool,
}

impl Stripe {
    /// This thread's copy.
    #[inline]
    pub(crate) fn index(self) -> usize {
        self.index
    }

    /// Adds `value` to `cell` of this thread's copy. Release: a scrape that reads a
    /// "finished" count with Acquire also sees the "started" count of the same call.
    #[inline]
    pub(crate) fn add(self, cell: &AtomicU64, value: u64) {
        if self.owned {
            // No other writer: a read-modify-write needs no lock (readers only load).
            cell.store(
                cell.load(Ordering::Relaxed).wrapping_add(value),
                Ordering::Release,
            );
        } else {
            cell.fetch_add(value, Ordering::Release);
        }
    }
}

/// This thread's stripe, given back when the thread exits.
struct Claim(Cell<Option<Stripe>>);

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(stripe) = self.0.get() {
            give_back(&OWNED_STRIPES, stripe);
        }
    }
}

thread_local! {
    static CLAIM: Claim = const { Claim(Cell::new(None)) };
}

/// This thread's stripe, assigned the first time a thread asks: an unowned copy if there is
/// one, otherwise a shared one. A thread that is exiting (its claim already given back)
/// updates a shared copy.
#[inline]
pub(crate) fn current() -> Stripe {
    CLAIM
        .try_with(|claim| match claim.0.get() {
            Some(stripe) => stripe,
            None => {
                let stripe = assign(&OWNED_STRIPES);
                claim.0.set(Some(stripe));
                stripe
            }
        })
        .unwrap_or_else(|_| shared())
}

/// Claims the lowest copy no live thread owns (a bit in `owned`), or a shared one.
#[cold]
fn assign(owned: &AtomicU64) -> Stripe {
    let mut claimed = owned.load(Ordering::Relaxed);
    loop {
        let free = (!claimed).trailing_zeros() as usize;
        if free >= OWNED {
            return shared();
        }
        // Acquire: this thread continues from the last owner's values.
        match owned.compare_exchange_weak(
            claimed,
            claimed | (1 << free),
            Ordering::Acquire,
            Ordering::Relaxed,
        ) {
            Ok(_) => {
                return Stripe {
                    index: free,
                    owned: true,
                };
            }
            Err(now) => claimed = now,
        }
    }
}

fn give_back(owned: &AtomicU64, stripe: Stripe) {
    if stripe.owned {
        // Release: the next owner continues from this thread's last values.
        owned.fetch_and(!(1 << stripe.index), Ordering::Release);
    }
}

fn shared() -> Stripe {
    let index = OWNED + NEXT_SHARED.fetch_add(1, Ordering::Relaxed) % (STRIPES - OWNED);
    Stripe {
        index,
        owned: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_threads_never_own_the_same_copy_and_counts_add_up() {
        static CELLS: [AtomicU64; STRIPES] = [const { AtomicU64::new(0) }; STRIPES];
        const THREADS: usize = 40; // more than there are copies to own
        const ADDS: u64 = 10_000;
        let barrier = std::sync::Barrier::new(THREADS);
        let stripes: Vec<Stripe> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..THREADS)
                .map(|_| {
                    scope.spawn(|| {
                        let stripe = current();
                        // Every thread holds its stripe while the others pick theirs.
                        barrier.wait();
                        for _ in 0..ADDS {
                            stripe.add(&CELLS[stripe.index()], 1);
                        }
                        barrier.wait();
                        stripe
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let mut owners = [0; STRIPES];
        for stripe in &stripes {
            if stripe.owned {
                owners[stripe.index] += 1;
            }
        }
        assert!(owners.iter().all(|&n| n <= 1), "{owners:?}");
        let total: u64 = CELLS.iter().map(|c| c.load(Ordering::Acquire)).sum();
        assert_eq!(total, THREADS as u64 * ADDS, "no update lost");
    }

    #[test]
    fn copies_are_owned_once_then_shared_and_given_back() {
        let owned = AtomicU64::new(0);
        let claims: Vec<Stripe> = (0..OWNED).map(|_| assign(&owned)).collect();
        let indices: Vec<usize> = claims.iter().map(|s| s.index()).collect();
        assert_eq!(indices, (0..OWNED).collect::<Vec<_>>());
        assert!(claims.iter().all(|s| s.owned));
        let overflow = assign(&owned);
        assert!(!overflow.owned && overflow.index() >= OWNED, "{overflow:?}");
        give_back(&owned, overflow); // a shared copy is nobody's to give back
        give_back(&owned, claims[5]);
        let next = assign(&owned);
        assert!(next.owned && next.index() == 5, "{next:?}");
    }
}
