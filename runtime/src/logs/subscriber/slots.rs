//! Where [`JsonSubscriber`](super::JsonSubscriber) keeps its spans: slots in pages that are
//! allocated once and never freed, reused through free lists.
//!
//! A span id is the slot's index and the slot's generation, which is bumped each time the
//! slot is freed: an id that outlived its span finds a generation that does not match and is
//! ignored, never another span's data. (An id made up by other code can only reach a slot
//! that is free, which is reset before its next use.) Every field of a slot is an atomic or
//! behind a mutex, so no misuse can cause a data race either. A page, twice the size of the
//! one before, is allocated when every slot is in use: storage grows to the largest number of
//! spans open at once and stays for reuse.
//!
//! Why not `tracing-subscriber`'s `Registry`: a WebSocket server opens a handler span per
//! message, and the registry's per-span costs (a sharded-slab checkout and release, a lookup
//! of the parent's metadata, type-keyed extensions holding a boxed field store) were most of
//! what instrumentation added to an echo server (`benches/ws_throughput.rs`). Here a span
//! costs a free-list pop, one uncontended lock to record its fields into a buffer the slot
//! keeps, and a free-list push; nothing is allocated once the pool is warm.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Mutex, MutexGuard, OnceLock};

use tracing::Metadata;

use crate::logs::fields::SpanFields;

/// Slots in the first page; page `p` holds `FIRST_PAGE << p`.
const FIRST_PAGE: usize = 64;
/// Enough pages for every `u32` index.
const PAGES: usize = 27;
/// Free indices a thread keeps for itself; past this, half go to the shared list.
const LOCAL_FREE_MAX: usize = 1024;
/// Indices a thread takes from the shared list at once.
const REFILL: usize = 64;

/// One span's storage.
pub(super) struct Slot {
    /// Bumped when the span closes: ids of closed spans stop matching.
    generation: AtomicU32,
    /// Handles to the span (`Span` clones, children) not yet closed.
    refs: AtomicUsize,
    /// The parent span's id, or 0: a span holds a reference to its parent, so an event in a
    /// child can read its whole scope even after the parent's own handle is gone.
    parent: AtomicU64,
    data: Mutex<SpanData>,
}

/// What a span recorded, read when an event inside it is written.
#[derive(Default)]
pub(super) struct SpanData {
    pub(super) metadata: Option<&'static Metadata<'static>>,
    pub(super) fields: SpanFields,
}

impl Slot {
    fn new() -> Self {
        Slot {
            generation: AtomicU32::new(1),
            refs: AtomicUsize::new(0),
            parent: AtomicU64::new(0),
            data: Mutex::new(SpanData::default()),
        }
    }

    /// The span's metadata and fields.
    pub(super) fn data(&self) -> MutexGuard<'_, SpanData> {
        // A field's `Debug` that panicked while recording poisons nothing worth refusing.
        self.data
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The parent's id, 0 for a root span.
    pub(super) fn parent(&self) -> u64 {
        self.parent.load(Ordering::Acquire)
    }
}

static PAGE_TABLE: [OnceLock<Box<[Slot]>>; PAGES] = [const { OnceLock::new() }; PAGES];
/// Indices never handed out yet start here.
static FRESH: AtomicU32 = AtomicU32::new(0);
/// Free indices given back by threads that had too many, or that exited.
static SHARED_FREE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// This thread's free indices: a span closed on a thread is reused by that thread, without
/// touching shared state.
struct LocalFree(RefCell<Vec<u32>>);

impl Drop for LocalFree {
    fn drop(&mut self) {
        shared_free().append(self.0.get_mut());
    }
}

thread_local! {
    static LOCAL_FREE: LocalFree = const { LocalFree(RefCell::new(Vec::new())) };
}

fn shared_free() -> MutexGuard<'static, Vec<u32>> {
    SHARED_FREE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The page and offset of `index`.
fn locate(index: u32) -> (usize, usize) {
    let scaled = index as usize / FIRST_PAGE + 1;
    let page = (usize::BITS - 1 - scaled.leading_zeros()) as usize;
    let page_start = FIRST_PAGE * ((1 << page) - 1);
    (page, index as usize - page_start)
}

/// The slot at `index`, its page allocated on first use.
fn slot_at(index: u32) -> &'static Slot {
    let (page, offset) = locate(index);
    match PAGE_TABLE[page].get() {
        Some(slots) => &slots[offset],
        None => &allocate_page(page)[offset],
    }
}

/// The first use of page `page` (the pool grows).
#[cold]
#[inline(never)]
fn allocate_page(page: usize) -> &'static [Slot] {
    PAGE_TABLE[page].get_or_init(|| (0..FIRST_PAGE << page).map(|_| Slot::new()).collect())
}

/// The id of the span in slot `index` at `generation`: never 0, as `tracing` requires.
fn id(index: u32, generation: u32) -> u64 {
    (u64::from(generation) << 32) | (u64::from(index) + 1)
}

/// The live span `id` names, if it is still open.
pub(super) fn get(id: u64) -> Option<&'static Slot> {
    let index = u32::try_from((id & u64::from(u32::MAX)).checked_sub(1)?).ok()?;
    let generation = (id >> 32) as u32;
    let (page, offset) = locate(index);
    let slot = PAGE_TABLE.get(page)?.get()?.get(offset)?;
    (slot.generation.load(Ordering::Acquire) == generation).then_some(slot)
}

/// Stores a new span (one reference, held by the caller) and returns its id. `record` fills
/// the slot's cleared data.
pub(super) fn insert(parent: u64, record: impl FnOnce(&mut SpanData)) -> u64 {
    let index = take_free_index();
    let slot = slot_at(index);
    {
        let mut data = slot.data();
        data.fields.clear();
        record(&mut data);
    }
    slot.parent.store(parent, Ordering::Release);
    slot.refs.store(1, Ordering::Release);
    id(index, slot.generation.load(Ordering::Acquire))
}

/// Adds a reference to `id`; false when no such span is open.
pub(super) fn clone_ref(id: u64) -> bool {
    match get(id) {
        Some(slot) => {
            // As `Arc::clone`: the caller holds a reference, so no ordering is needed.
            slot.refs.fetch_add(1, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

/// Drops a reference to `id`. Returns true when it was the last: the span is closed, its
/// slot freed, and its reference to its parent dropped in turn.
pub(super) fn release(id: u64) -> bool {
    let Some(slot) = get(id) else {
        return false;
    };
    // As `Arc::drop`: the last release must see every other holder's writes.
    if slot.refs.fetch_sub(1, Ordering::Release) != 1 {
        return false;
    }
    fence(Ordering::Acquire);
    let mut closing = Some((id, slot));
    while let Some((closed_id, slot)) = closing.take() {
        // The last reference is gone: nothing else writes this slot until it is handed out
        // again, so plain stores do (no locked read-modify-write).
        let parent = slot.parent.load(Ordering::Acquire);
        slot.parent.store(0, Ordering::Relaxed);
        let generation = slot.generation.load(Ordering::Relaxed);
        slot.generation
            .store(generation.wrapping_add(1), Ordering::Release);
        give_back((closed_id & u64::from(u32::MAX)) as u32 - 1);
        // The parent loses its child's reference; a loop, not recursion, for deep chains.
        if let Some(parent_slot) = get(parent)
            && parent_slot.refs.fetch_sub(1, Ordering::Release) == 1
        {
            fence(Ordering::Acquire);
            closing = Some((parent, parent_slot));
        }
    }
    true
}

// The common paths below are a few instructions on this thread's own list; what touches the
// shared list or allocates is kept out of line, so the code run for every span stays small
// (a span per message shares the instruction cache with the socket code).

#[inline]
fn take_free_index() -> u32 {
    let reused = LOCAL_FREE.try_with(|free| free.0.borrow_mut().pop());
    match reused {
        Ok(Some(index)) => index,
        _ => take_free_index_slow(),
    }
}

/// This thread's list is empty (or gone, as the thread exits): refill it from the shared list,
/// or hand out a fresh index.
#[cold]
#[inline(never)]
fn take_free_index_slow() -> u32 {
    let refilled = LOCAL_FREE.try_with(|free| {
        let mut free = free.0.borrow_mut();
        let mut shared = shared_free();
        let keep = shared.len().saturating_sub(REFILL);
        free.extend(shared.drain(keep..));
        free.pop()
    });
    // A thread that is exiting has no list of its own any more: the shared one serves it.
    let reused = refilled.unwrap_or_else(|_| shared_free().pop());
    reused.unwrap_or_else(|| FRESH.fetch_add(1, Ordering::Relaxed))
}

#[inline]
fn give_back(index: u32) {
    let kept = LOCAL_FREE.try_with(|free| {
        let mut free = free.0.borrow_mut();
        free.push(index);
        free.len() <= LOCAL_FREE_MAX
    });
    if kept != Ok(true) {
        give_back_slow(index, kept.is_err());
    }
}

/// This thread keeps too many free indices (half go to the shared list), or its list is gone
/// as it exits (the shared list takes the index).
#[cold]
#[inline(never)]
fn give_back_slow(index: u32, exiting: bool) {
    if exiting {
        shared_free().push(index);
        return;
    }
    let _ = LOCAL_FREE.try_with(|free| {
        let mut free = free.0.borrow_mut();
        let half = free.len() / 2;
        shared_free().extend(free.drain(..half));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_map_to_pages_without_gaps_or_overlaps() {
        let mut expected = (0, 0);
        for index in 0..(FIRST_PAGE * 15) as u32 {
            assert_eq!(locate(index), expected, "index {index}");
            expected.1 += 1;
            if expected.1 == FIRST_PAGE << expected.0 {
                expected = (expected.0 + 1, 0);
            }
        }
        let (last_page, _) = locate(u32::MAX);
        assert!(last_page < PAGES);
    }

    #[test]
    fn closed_ids_stop_matching_and_slots_are_reused() {
        let id = insert(0, |_| {});
        assert!(get(id).is_some());
        assert!(release(id));
        assert!(get(id).is_none(), "a closed span's id finds nothing");
        assert!(!clone_ref(id));
        assert!(!release(id), "releasing a closed span again is ignored");
        let reused = insert(0, |_| {});
        assert_eq!(reused & u64::from(u32::MAX), id & u64::from(u32::MAX));
        assert_ne!(reused, id, "the reused slot has a new generation");
        assert!(release(reused));
    }

    #[test]
    fn made_up_ids_find_nothing() {
        for id in [0, 1, u64::MAX, u64::from(u32::MAX), 1 << 32] {
            assert!(get(id).is_none(), "{id}");
        }
    }

    #[test]
    fn a_parent_lives_while_a_child_holds_it() {
        let parent = insert(0, |_| {});
        assert!(clone_ref(parent)); // the child's reference
        let child = insert(parent, |_| {});
        assert!(!release(parent), "the child still holds the parent");
        assert!(get(parent).is_some());
        assert!(release(child));
        assert!(get(parent).is_none(), "closing the child closed the parent");
    }

    #[test]
    fn a_span_closes_once_every_reference_is_dropped_on_any_thread() {
        let id = insert(0, |_| {});
        for _ in 0..8 {
            assert!(clone_ref(id));
        }
        let closed: usize = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..9).map(|_| scope.spawn(move || release(id))).collect();
            threads
                .into_iter()
                .map(|t| usize::from(t.join().unwrap()))
                .sum()
        });
        assert_eq!(closed, 1);
        assert!(get(id).is_none());
    }
}
